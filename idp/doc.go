// Package idp holds what every identity-provider adapter shares: the
// [Provider] interface, the HTTP client (TLS, proxies, loopback-only plain
// HTTP, redacted debug trace), a cookie jar that can be saved so a later run
// can reuse the IdP session, HTML-form helpers, and SAMLResponse extraction.
//
// Adapters live in sub-packages (keycloak, ...) and return typed errors from
// this package so the CLI can map them to exit codes.
package idp

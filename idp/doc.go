// Package idp holds what every identity-provider adapter shares: the
// [Provider] interface, the HTTP client (TLS, proxies, loopback-only plain
// HTTP, redacted debug trace), a cookie jar that can be saved so a later run
// can reuse the IdP session, HTML-form helpers, and SAMLResponse extraction.
//
// [Inputs] is the per-login bookkeeping every adapter needs the same way:
// the password asked at most once, --mfa-code spent before any prompt, a
// picker that falls back to a default without a terminal, and the secrets
// scrubbed from every error, notice and saved debug page.
//
// Adapters live in sub-packages (keycloak, okta, adfs, form) and return
// typed errors from this package so the CLI can map them to exit codes:
// [ConfigError] 2, [AuthError] 3, [ErrNoTerminal] 4, the rest 1.
package idp

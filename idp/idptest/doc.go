// Package idptest provides loopback identity-provider emulators for tests and
// for `saml2sts demo`, in the spirit of net/http/httptest.
//
// [NewKeycloak] starts a Keycloak look-alike on 127.0.0.1 that walks the
// browser flow a real Keycloak serves for IdP-initiated SAML sign-on: an
// optional Kerberos 401 auto-submit page, the login form of one of three theme
// generations, OTP (one or several authenticators), WebAuthn, an optional
// required action, and finally the SAML POST page. The SAMLResponse it posts
// is a real samlp:Response whose Assertion carries an enveloped RSA-SHA256
// signature by the emulator's key, so an independent verifier holding
// [Keycloak.Certificate] can check it.
//
// The emulator is safe for concurrent use; [Keycloak.Stats] counts what
// clients did so tests can assert, for example, that a cached IdP session was
// reused or that a client did not loop on a failing password.
package idptest

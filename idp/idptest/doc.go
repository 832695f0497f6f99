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
// [NewOkta] starts an Okta org look-alike: GET /.well-known/okta-organization
// names its pipeline, the Classic Authentication API (/api/v1/authn with every
// transaction status, factor verify with push polling and number challenge,
// sms/call/email send and resend, TOTP and YubiKey passcodes, Okta's error
// bodies and 429 rate-limit headers) and the Identity Engine IDX remediation
// flow (/idp/idx/*, application/ion+json) both end on the app's SAML page,
// form#appForm with its action and SAMLResponse entity-encoded as Okta
// writes them. A live sid cookie skips the login (silent refresh); the
// step-up interstitial and the IAM Identity Center app are served too.
//
// The emulators are safe for concurrent use; [Keycloak.Stats] counts what
// clients did so tests can assert, for example, that a cached IdP session was
// reused or that a client did not loop on a failing password.
package idptest

// Package okta logs in to Okta through the AWS Account Federation app's
// embed link and returns the SAMLResponse Okta would post to AWS.
//
// It first opens the app link: with a live Okta session (the sid cookie in
// the stored jar) that page already holds the SAML form, so a refresh asks
// for nothing. Otherwise it asks the org which pipeline it runs
// (/.well-known/okta-organization) and signs in with the JSON APIs the
// Okta sign-in page uses:
//
//   - Classic ("v1"): POST /api/v1/authn, then the transaction's states
//     (MFA_REQUIRED, MFA_CHALLENGE, PASSWORD_WARN, ...) through the links
//     Okta publishes, factor by factor (push with polling and number
//     challenge, TOTP, SMS, call, email, YubiKey, security question), and
//     the sessionToken traded for the sid at /login/sessionCookieRedirect.
//     A step-up page (the app's policy asking for MFA again) is finished
//     with its stateToken.
//   - Identity Engine ("idx"): the stateToken of the app's sign-in page,
//     /idp/idx/introspect, then the remediations (identify, select and
//     challenge an authenticator, poll) up to the success redirect.
//
// The password is posted at most once per login; a page or state it does
// not know ends the login with a typed error naming it, never a retry.
// Okta's error codes map to the CLI's exit codes: E0000004 and rejected
// factors are [idp.AuthError] (Okta's text verbatim), WebAuthn and Duo
// are [idp.UnsupportedError].
package okta

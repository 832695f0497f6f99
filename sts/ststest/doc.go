// Package ststest is an in-process AWS STS emulator for tests and the demo,
// in the spirit of net/http/httptest: a loopback server speaking the STS
// Query API (AssumeRoleWithSAML with XML signature checks, GetCallerIdentity
// with SigV4 checks, AssumeRole for role chaining, signed with issued
// credentials) with AWS's response and error shapes, plus an IdP that
// signs SAMLResponses for it, a SigV4 verifier other emulators can share, and
// the AWS sign-in federation endpoint (getSigninToken, login) and the SAML
// sign-in endpoint /saml, whose role chooser lists account aliases
// (Options.AccountNames) in the legacy or the Next.js page (Options.ChooserPage).
//
// Point the AWS SDKs or CLI at it with AWS_ENDPOINT_URL_STS=<Server.URL>,
// and saml2sts console at its sign-in federation endpoint with
// SAML2STS_SIGNIN_URL=<Server.SigninURL>.
package ststest

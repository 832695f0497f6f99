// Package entra logs in to Microsoft Entra ID (formerly Azure AD) for the
// AWS Single-Account Access app and returns the SAMLResponse Entra would
// post to AWS.
//
// The profile url is the tenant's SAML endpoint
// (https://login.microsoftonline.com/<tenant>/saml2, any host), to which
// it sends its own AuthnRequest (HTTP-Redirect binding, Issuer =
// entra_entity_id, the ACS of the profile's partition, no
// RequestedAuthnContext), or the My Apps user access URL, followed as
// given. With a live Entra session (ESTSAUTH / ESTSAUTHPERSISTENT in the
// stored jar) the first page is already the SAML form: a silent refresh.
//
// Every Entra page is rendered from a `$Config={...}` object, which
// [ParseConfig] reads with a streaming JSON decoder; the adapter
// dispatches on its pgid on an [idp.Walker] loop, refreshing flowToken,
// ctx, canary and apiCanary from each page and JSON answer:
//
//   - ConvergedSignIn: GetCredentialType (unknown user, passwordless,
//     FederationRedirectUrl -> the AD FS leg through [adfs.Provider.Federated]
//     and the wresult form posted back), then the password, once.
//   - ConvergedTFA: SAS BeginAuth, EndAuth (polled for push and call with
//     [idp.Poller]; the number to match is printed), ProcessAuth.
//   - KmsiInterrupt ("Stay signed in?" yes), DeviceAuthTls and other hidden
//     forms, ConvergedProofUpRedirect (skipped when Entra allows it).
//   - Anything else with an sErrorCode is an [Error]: AADSTS code, Entra's
//     text verbatim, the page, a hint and "run again with --browser";
//     50126, 50034, 50053 and refused MFA exit 3, the rest 1.
//
// The requests carry a desktop browser User-Agent ([UserAgent]) for
// Conditional Access platform rules. Tokens, cookies, codes and the
// password are scrubbed from every error and saved --debug page.
package entra

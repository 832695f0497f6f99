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
// [NewSimpleSAML] starts a SimpleSAMLphp IdP look-alike serving
// IdP-initiated SSO (saml2/idp/SSOService.php?spentityid=...): a redirect to
// core/loginuserpass.php?AuthState=..., the username/password form with its
// AuthState (hidden, or in the action as in 2.x), SimpleSAMLphp's
// "Incorrect username or password" box on failure, an optional code page,
// and the POST page; SimpleSAMLSessionID and SimpleSAMLAuthToken cookies
// skip the login next time. [NewShibboleth] does the same with a Shibboleth
// IdP v4/v5 flow (?execution=e1s1 local-storage page, j_username/j_password
// with the _eventId_proceed button, shib_idp_session cookie). Both are the
// test targets of the generic form adapter.
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
// [NewDuo] starts a Duo look-alike serving both Universal Prompt
// generations: the frameless v4 prompt (/oauth/v1/authorize, the plugin
// form at /frame/frameless/v4/auth, the login-form with sid and _xsrf,
// /frame/v4/prompt, /frame/v4/status, /frame/v4/oidc/exit) and the newer
// single-page prompt (data-authkey, /prompt/{akey}/... JSON). Users have
// devices that approve, deny or time out pushes (Verified Push shows a
// code first) and calls, a passcode, a preferred factor; the admin may
// allow remembered browsers (a duo_trust cookie skips the prompt). IdP
// emulators attach it: Okta's claims_provider factor (Classic and Identity
// Engine), AD FS's DuoAdfsAdapter, SimpleSAMLphp's duouniversal module
// and Shibboleth's Duo plugin send the browser to [Duo.AuthorizeURL] and
// redeem the duo_code with [Duo.Exchange].
//
// Every emulator can be put into an outage with SetFault (Unreachable: each
// connection closed unanswered; Unavailable: HTTP 503), and Faulted counts
// the requests refused; [Keycloak.SetPassword] changes a password and
// [Keycloak.ExpireSessions] forgets SSO sessions, for renewal-failure tests.
//
// The emulators are safe for concurrent use; [Keycloak.Stats] counts what
// clients did so tests can assert, for example, that a cached IdP session was
// reused or that a client did not loop on a failing password.
//
// [NewADFS] starts an AD FS look-alike serving IdpInitiatedSignOn.aspx in the
// page styles of AD FS 2.0, 2012 R2, 2016 and 2019 (the latter rejecting a
// form that posts UserName twice), the error page shown when IdP-initiated
// sign-on is disabled, the Azure MFA (push with number matching, or code),
// Azure MFA Server, RSA SecurID (with next tokencode) and Symantec VIP
// adapter pages, a method selection page, and Windows integrated
// authentication at /adfs/ls/wia with a real NTLM challenge whose NTLMv2
// response is verified against the user's password. Sign-ins set MSISAuth
// session cookies that later sign-ons reuse; [ADFS.Stats],
// [ADFS.IssuedResponses] and [ADFS.SessionCookies] serve the same kind of
// assertions and leak checks as the Keycloak emulator's.
//
// [Clock] is a fake idp.Clock for adapter tests: every wait moves its time
// at once, so push polls and rate-limit waits take no wall-clock time.
//
// [NewHostile] starts the hostile-IdP kit: a form login with unusual field
// names (login, pwd, answer) that, per [Scenario], echoes the secrets back
// in every encoding, posts its form to another host or to plain http,
// answers the password with a 307 elsewhere, loops redirects, serves huge,
// deep or stalled pages, or issues a signature-wrapped or foreignly
// addressed assertion. [NewBystander] records everything it receives, so
// tests can prove that no secret and no assertion reached it.
package idptest

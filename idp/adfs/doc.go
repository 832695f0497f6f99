// Package adfs logs in to Microsoft AD FS (2.0, 2012 R2, 2016, 2019, 2022)
// through its IdP-initiated sign-on page and returns the SAMLResponse AD FS
// would post to AWS.
//
// The profile url may be just https://<adfs-host>: the entry URL
// /adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices is
// built from it (a loginToRp in the url, e.g. the :govcloud or :cn-north-1
// relying party, is kept).
//
// Forms sign-in fills form#loginForm (UserName, Password,
// AuthMethod=FormsAuthentication, Kmsi) or AD FS 2.0's ASP.NET form, posting
// each field exactly once: AD FS 2019 rejects the hidden duplicate UserName
// of form#options. AD FS's #errorText is returned verbatim as an
// [idp.AuthError]; its error page at the very first request is explained as
// the IdP-initiated sign-on page being disabled.
//
// Additional authentication adapters are recognised by the AuthMethod they
// post: Azure MFA (push with number matching, shown on Request.Notice, and
// polled; or a verification code), Azure MFA Server (one blocking post), RSA
// SecurID (passcode, then the next tokencode when asked) and Symantec VIP
// (security_code or SecurityCode). Others end the login with an
// [idp.UnsupportedError] naming the adapter.
//
// With adfs_auth = ntlm, requests carry Internet Explorer's User-Agent so
// that AD FS offers Windows integrated authentication, and a 401 NTLM or
// Negotiate challenge is answered with an NTLMv2 handshake
// (github.com/Azure/go-ntlmssp) from the profile's user name and password;
// a forms page instead is signed in with a notice. adfs_auth = kerberos
// answers the Negotiate challenge with an SPNEGO token for
// HTTP/<adfs-host> (github.com/jcmturner/gokrb5/v8) built from the TGT in
// the user's FILE: ticket cache ($KRB5CCNAME, else /tmp/krb5cc_<uid>) and
// krb5.conf ($KRB5_CONFIG, else /etc/krb5.conf); nothing is prompted for.
// Without a usable cache, with an expired TGT, a KDC error or the ticket
// refused, it signs in with the form after a one-line notice naming why.
//
// AD FS 2019's paginated sign-in (a user name page, then a password page)
// is followed page by page, each field posted once.
//
// Every page is classified and an unknown one ends the login with an
// [idp.PageError]; the password and each code are posted at most once.
package adfs

package idptest

import (
	"bytes"
	"compress/flate"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Entra MFA methods (AuthMethodId values of arrUserProofs).
const (
	EntraPush = "PhoneAppNotification" // Microsoft Authenticator push (number matching with Number)
	EntraOTP  = "PhoneAppOTP"          // authenticator app code
	EntraSMS  = "OneWaySMS"            // text message code
	EntraCall = "TwoWayVoiceMobile"    // phone call, answered with #
)

// Entra error texts, as the sign-in pages show them (English).
const (
	EntraMsgBadPassword   = "Your account or password is incorrect. If you don't remember your password, reset it now."
	EntraMsgUnknownUser   = "This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin."
	EntraMsgLocked        = "Your account is locked. You've tried to sign in too many times with an incorrect user ID or password."
	EntraMsgBlocked       = "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."
	EntraMsgExpired       = "Your password has expired. You need to change it before you can sign in."
	EntraMsgProofUp       = "Your admin requires you to register security info before you continue."
	EntraMsgDenied        = "We didn't receive a response. The sign-in was denied."
	EntraMsgNoResponse    = "We didn't hear from you. We sent a notification to your mobile device, but you didn't respond."
	EntraMsgWrongCode     = "You didn't enter the expected verification code. Please try again."
	EntraMsgDuplicateCode = "You've already used this verification code. Wait for a new code and try again."
	EntraMsgBadRequest    = "Invalid request. Request is malformed or invalid."
)

// EntraOptions configure [NewEntra]. The zero value is usable: a tenant
// whose AWS app has the default identifier, no users, KMSI shown.
type EntraOptions struct {
	// Tenant is the tenant id; default a fixed GUID.
	Tenant string
	// AppID is the enterprise application's id (the My Apps user access
	// URL /api/signin/<AppID>?tenantId=<Tenant>); default a fixed GUID.
	AppID string
	// EntityID is the app's Identifier (Entity ID): AuthnRequests must
	// name it as Issuer (else AADSTS700016) and it is the assertions'
	// audience; default https://signin.aws.amazon.com/saml.
	EntityID string
	// ReplyURLs are the app's Reply URLs (ACS); an AuthnRequest's
	// AssertionConsumerServiceURL must be one (else AADSTS50011). Default
	// SAMLOptions.Destination.
	ReplyURLs []string
	Users     []EntraUser
	// SkipKMSI skips the "Stay signed in?" page, as Entra does for risky
	// sign-ins: only the session cookie ESTSAUTH is set.
	SkipKMSI bool
	// TwoStep renders ConvergedSignIn as Entra's script does: the
	// username first, and the password input shown only after
	// GetCredentialType answered (a plain HTML client still sees both).
	TwoStep bool
	// DeviceAuthTls serves the DeviceAuthTls hidden form after the
	// password (certificate-based device check), which must be re-posted.
	DeviceAuthTls bool
	// SystemPreferred is an AuthMethodId Entra uses whatever method the
	// client asks for in BeginAuth, when the user has it
	// (system-preferred MFA).
	SystemPreferred string
	// PollInterval is oPerAuthPollingInterval, in seconds, for push and
	// call; default 1. MaxPollAttempts is iMaxPollAttempts; default 10.
	PollInterval    float64
	MaxPollAttempts int
	// ADFS is the federated domain's IdP: users with Federated set are
	// sent there by GetCredentialType's FederationRedirectUrl
	// (WS-Federation, wtrealm urn:federation:MicrosoftOnline) and come
	// back with a wresult posted to /login.srf.
	ADFS *ADFS
	// SessionTTL is the ESTSAUTHPERSISTENT lifetime; default 24h.
	SessionTTL time.Duration
	// SAMLOptions shape and sign the assertions (Destination is the
	// AuthnRequest's ACS, Audience the EntityID).
	SAMLOptions
}

// EntraUser is one account of the tenant.
type EntraUser struct {
	Username, Password string
	Roles              []string
	// SessionName is the RoleSessionName claim; default Username.
	SessionName string
	// Methods are the registered MFA methods; none = no MFA.
	Methods []EntraMethod
	// Federated users sign in at ADFS (EntraOptions.ADFS).
	Federated bool
	// Passwordless users have no password: GetCredentialType answers
	// HasPassword false with RemoteNgcParams (Authenticator sign-in).
	Passwordless bool
	// Locked: the password post answers AADSTS50053.
	Locked bool
	// PasswordExpired: after the password, ConvergedChangePassword.
	PasswordExpired bool
	// Blocked: a Conditional Access policy blocks the sign-in after the
	// password (ConvergedConditionalAccess, AADSTS53003).
	Blocked bool
	// ProofUp shows the "more information required" page after MFA:
	// "skip" offers urlSkipMfaRegistration, "required" does not.
	ProofUp string
}

// EntraMethod is one registered MFA method.
type EntraMethod struct {
	ID      string // EntraPush, EntraOTP, EntraSMS or EntraCall
	Default bool   // isDefault
	Display string // e.g. "+XX XXXXXXX89"; default by ID
	// Code is the one code accepted (OTP, SMS).
	Code string
	// Number > 0 is the number to match on a push (BeginAuth's Entropy).
	Number int
	// Answer is the push/call outcome: "approve" (default), "deny" or
	// "timeout" (PhoneAppNoResponse).
	Answer string
	// After is how many EndAuth polls answer pending first; default 1.
	After int
}

// EntraStats counts what clients did.
type EntraStats struct {
	SignInPages     int // ConvergedSignIn pages served
	CredentialTypes int // GetCredentialType calls
	MissingHeaders  int // GetCredentialType/BeginAuth/EndAuth calls lacking canary or hpg* headers
	PasswordPosts   int // posts of a password to urlPost
	BeginAuths      int
	EndAuths        int // EndAuth calls, polls included
	CodesSent       int // SMS texts and calls placed
	DuplicateCodes  int // codes refused as used before (500121)
	BadCodes        int
	ProcessAuths    int
	KMSIShown       int
	KMSIYes         int // "Stay signed in?" answered yes (LoginOptions=1)
	DeviceAuthTls   int // DeviceAuthTls forms re-posted
	ProofUpSkips    int
	Federated       int // wresults from AD FS accepted
	StaleTokens     int // posts with a flowToken that was not the current one
	SAMLIssued      int
	SessionReuses   int // AuthnRequests answered from an ESTSAUTH session
}

// Entra is a running Microsoft Entra ID emulator: the login.microsoftonline.com
// pages (each rendered from a `$Config={...}` object with its pgid) and
// JSON APIs a browser uses for a SAML sign-in to the AWS app:
//
//   - GET /<tenant>/saml2?SAMLRequest= (HTTP-Redirect binding) and the My
//     Apps user access URL /api/signin/<app>?tenantId=: the SAML page when an
//     ESTSAUTH/ESTSAUTHPERSISTENT session lives, else ConvergedSignIn
//     (sErrorCode 50058).
//   - POST /common/GetCredentialType, /<tenant>/login (password),
//     /common/SAS/BeginAuth, /common/SAS/EndAuth, /common/SAS/ProcessAuth,
//     /kmsi, /common/DeviceAuthTls/reprocess, GET /<tenant>/ProofUp/Skip,
//     POST /login.srf (wresult from AD FS).
//
// flowToken, ctx and canary rotate with every page and JSON answer; a post
// with a stale flowToken gets ConvergedError AADSTS9002313.
type Entra struct {
	o     EntraOptions
	srv   *httptest.Server
	users []*entraUser

	record[EntraStats]
	agents   []string                 // User-Agent of every request
	flows    map[string]*entraFlow    // by sCtx
	sessions map[string]*entraSession // by ESTSAUTH / ESTSAUTHPERSISTENT value
}

type entraUser struct {
	EntraUser
	used map[string]bool // codes accepted once (never again: 500121)
}

type entraFlow struct {
	ctx, ft, canary, apiCanary string
	session, correlation       string // hpgrequestid, client-request-id
	acs, relay                 string
	rac                        bool // the AuthnRequest had RequestedAuthnContext
	user                       *entraUser
	pwOK, mfaOK                bool
	proofUpDone, tlsDone       bool
	sas                        string // SAS SessionId of the MFA in progress
	method                     string
	polls                      int
	endOK                      bool // EndAuth succeeded; ProcessAuth due
	created                    time.Time
}

type entraSession struct {
	user    *entraUser
	mfa     bool
	expires time.Time
}

const (
	entraDefaultTenant = "8f4b2e1c-5a6d-4e3f-9b7a-0c1d2e3f4a5b"
	entraDefaultApp    = "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5"
	entraDefaultEntity = "https://signin.aws.amazon.com/saml"
	entraFedRealm      = "urn:federation:MicrosoftOnline"
)

// NewEntra validates o and starts the emulator on 127.0.0.1.
func NewEntra(o EntraOptions) (*Entra, error) {
	if o.Tenant == "" {
		o.Tenant = entraDefaultTenant
	}
	if o.AppID == "" {
		o.AppID = entraDefaultApp
	}
	if o.EntityID == "" {
		o.EntityID = entraDefaultEntity
	}
	if o.PollInterval == 0 {
		o.PollInterval = 1
	}
	if o.MaxPollAttempts <= 0 {
		o.MaxPollAttempts = 10
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = 24 * time.Hour
	}
	if o.Audience == "" {
		o.Audience = o.EntityID
	}
	if err := o.SAMLOptions.setDefaults(); err != nil {
		return nil, err
	}
	if len(o.ReplyURLs) == 0 {
		o.ReplyURLs = []string{o.Destination}
	}
	o.ReplyURLs = slices.Clone(o.ReplyURLs)
	if err := checkUsers("entra user", usernames(o.Users, func(u *EntraUser) string { return u.Username }), true); err != nil {
		return nil, err
	}
	e := &Entra{flows: map[string]*entraFlow{}, sessions: map[string]*entraSession{}}
	for _, u := range o.Users {
		u.Roles = slices.Clone(u.Roles)
		u.Methods = slices.Clone(u.Methods)
		if u.SessionName == "" {
			u.SessionName = u.Username
		}
		if u.Federated && o.ADFS == nil {
			return nil, fmt.Errorf("idptest: entra user %q is Federated but EntraOptions.ADFS is nil", u.Username)
		}
		switch u.ProofUp {
		case "", "skip", "required":
		default:
			return nil, fmt.Errorf("idptest: entra user %q: ProofUp %q: use skip or required", u.Username, u.ProofUp)
		}
		for i := range u.Methods {
			m := &u.Methods[i]
			switch m.ID {
			case EntraPush, EntraOTP, EntraSMS, EntraCall:
			default:
				return nil, fmt.Errorf("idptest: entra user %q: unknown method %q", u.Username, m.ID)
			}
			switch m.Answer {
			case "":
				m.Answer = "approve"
			case "approve", "deny", "timeout":
			default:
				return nil, fmt.Errorf("idptest: entra user %q: Answer %q: use approve, deny or timeout", u.Username, m.Answer)
			}
			if m.After == 0 {
				m.After = 1
			}
			if m.Display == "" {
				m.Display = map[string]string{EntraPush: "Microsoft Authenticator", EntraOTP: "Authenticator app",
					EntraSMS: "+XX XXXXXXX89", EntraCall: "+XX XXXXXXX89"}[m.ID]
			}
		}
		e.users = append(e.users, &entraUser{EntraUser: u, used: map[string]bool{}})
	}
	o.Users = nil
	e.o = o
	e.srv = httptest.NewServer(e)
	return e, nil
}

// URL is the SAML endpoint, http://127.0.0.1:N/<tenant>/saml2, which a
// client calls with ?SAMLRequest=.
func (e *Entra) URL() string { return e.srv.URL + "/" + e.o.Tenant + "/saml2" }

// UserAccessURL is the My Apps "User access URL" of the AWS app.
func (e *Entra) UserAccessURL() string {
	return e.srv.URL + "/api/signin/" + e.o.AppID + "?tenantId=" + e.o.Tenant
}

// BaseURL is the server root.
func (e *Entra) BaseURL() string { return e.srv.URL }

// Tenant is the tenant id.
func (e *Entra) Tenant() string { return e.o.Tenant }

// Certificate is the SAML signing certificate.
func (e *Entra) Certificate() *x509.Certificate { return e.o.Cert }

// Issuer is the assertions' Issuer, https://sts.windows.net/<tenant>/.
func (e *Entra) Issuer() string { return "https://sts.windows.net/" + e.o.Tenant + "/" }

// Secrets returns every flowToken, ctx, canary, SAS session and session
// cookie value handed out, for leak checks.
func (e *Entra) Secrets() []string { return e.keptValues() }

// ExpireSessions ends every Entra session.
func (e *Entra) ExpireSessions() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.sessions)
}

// UserAgents returns the User-Agent of every request, oldest first.
func (e *Entra) UserAgents() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.agents)
}

// Close shuts the server down.
func (e *Entra) Close() { e.srv.Close() }

func (e *Entra) secret(prefix string) string {
	s := prefix + newToken() + newToken()
	e.keep(s)
	return s
}

// ServeHTTP routes the endpoints of a sign-in.
func (e *Entra) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.agents = append(e.agents, r.UserAgent())
	e.mu.Unlock()
	p := r.URL.Path
	t := "/" + e.o.Tenant
	switch {
	case strings.EqualFold(p, t+"/saml2") && r.Method == http.MethodGet:
		e.saml2(w, r, true)
	case p == "/api/signin/"+e.o.AppID && r.URL.Query().Get("tenantId") == e.o.Tenant:
		e.saml2(w, r, false)
	case p == "/common/GetCredentialType" && r.Method == http.MethodPost:
		e.credentialType(w, r)
	case p == t+"/login" && r.Method == http.MethodPost:
		e.password(w, r)
	case p == "/common/SAS/BeginAuth" && r.Method == http.MethodPost:
		e.sasJSON(w, r, true)
	case p == "/common/SAS/EndAuth" && r.Method == http.MethodPost:
		e.sasJSON(w, r, false)
	case p == "/common/SAS/ProcessAuth" && r.Method == http.MethodPost:
		e.processAuth(w, r)
	case p == "/kmsi" && r.Method == http.MethodPost:
		e.kmsi(w, r)
	case p == "/common/DeviceAuthTls/reprocess" && r.Method == http.MethodPost:
		e.deviceTLS(w, r)
	case p == t+"/ProofUp/Skip":
		e.proofUpSkip(w, r)
	case p == "/login.srf" && r.Method == http.MethodPost:
		e.wsfed(w, r)
	default:
		e.errorPage(w, nil, "ConvergedError", "900023", "Specified tenant identifier '"+strings.Trim(p, "/")+"' is neither a valid DNS name, nor a valid external domain.")
	}
}

// authnRequest is the part of a samlp:AuthnRequest Entra checks.
type authnRequest struct {
	ACS     string `xml:"AssertionConsumerServiceURL,attr"`
	Issuer  string `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
	Context *struct {
		Comparison string `xml:"Comparison,attr"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:protocol RequestedAuthnContext"`
}

// parseAuthnRequest undoes the HTTP-Redirect binding: URL-decoded (by the
// query parser), base64, raw DEFLATE.
func parseAuthnRequest(v string) (*authnRequest, error) {
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, err
	}
	x, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), 1<<16))
	if err != nil {
		return nil, err
	}
	var a authnRequest
	if err := xml.Unmarshal(x, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// saml2 starts a sign-in: from an AuthnRequest (sp) or the My Apps link.
func (e *Entra) saml2(w http.ResponseWriter, r *http.Request, sp bool) {
	f := &entraFlow{acs: e.o.ReplyURLs[0], created: time.Now()}
	if sp {
		q := r.URL.Query()
		a, err := parseAuthnRequest(q.Get("SAMLRequest"))
		if err != nil {
			e.errorPage(w, nil, "ConvergedError", "750054", "SAMLRequest or SAMLResponse must be present as query string parameters in HTTP request for SAML Redirect binding.")
			return
		}
		if a.Issuer != e.o.EntityID {
			e.errorPage(w, nil, "ConvergedError", "700016", fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", a.Issuer, e.o.Tenant))
			return
		}
		if a.ACS != "" && !slices.Contains(e.o.ReplyURLs, a.ACS) {
			e.errorPage(w, nil, "ConvergedError", "50011", fmt.Sprintf("The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'.", a.ACS, e.o.AppID))
			return
		}
		if a.ACS != "" {
			f.acs = a.ACS
		}
		f.rac = a.Context != nil
		f.relay = q.Get("RelayState")
	}
	e.mu.Lock()
	s := e.session(r)
	if s != nil {
		e.stats.SessionReuses++
	}
	e.mu.Unlock()
	if s != nil {
		f.user, f.pwOK, f.mfaOK = s.user, true, s.mfa
		e.finish(w, f, false)
		return
	}
	e.mu.Lock()
	for k, old := range e.flows {
		if time.Since(old.created) > time.Hour {
			delete(e.flows, k)
		}
	}
	f.ctx = e.secret("rQQIARAA")
	f.session, f.correlation = newUUID(), newUUID()
	e.flows[f.ctx] = f
	e.mu.Unlock()
	e.signInPage(w, f, "50058", "")
}

// session is the live session of r's ESTSAUTH or ESTSAUTHPERSISTENT
// cookie. Called with e.mu held.
func (e *Entra) session(r *http.Request) *entraSession {
	for _, name := range []string{"ESTSAUTHPERSISTENT", "ESTSAUTH"} {
		if c, err := r.Cookie(name); err == nil {
			if s := e.sessions[c.Value]; s != nil && time.Now().Before(s.expires) {
				return s
			}
		}
	}
	return nil
}

// rotate issues the next flowToken and apiCanary of f (what JSON answers
// carry). Called with e.mu held.
func (e *Entra) rotate(f *entraFlow) {
	f.ft = e.secret("AQABAAEAAAD--DLA3VO7QrddgJg7WevrA")
	f.apiCanary = e.secret("PAQABDgEAAAD")
}

// config is the $Config every page of a flow carries.
func (e *Entra) config(f *entraFlow, pgid string) map[string]any {
	c := map[string]any{
		"pgid": pgid, "sFTName": "flowToken", "sCanaryTokenName": "canary",
		"urlCdn": "https://aadcdn.msftauth.net/shared/1.0/", "iPawnIcon": 0, "fShowButtons": true,
	}
	if f != nil {
		e.mu.Lock()
		e.rotate(f)
		f.canary = e.secret("PAQABAAEAAAD") // pages carry a new form canary
		c["sFT"], c["sCtx"], c["canary"], c["apiCanary"] = f.ft, f.ctx, f.canary, f.apiCanary
		c["sessionId"], c["correlationId"] = f.session, f.correlation
		c["hpgact"], c["hpgid"] = 1800, map[string]int{"ConvergedSignIn": 1104, "ConvergedTFA": 1114, "KmsiInterrupt": 1152}[pgid]
		if f.user != nil {
			c["sPOST_Username"] = f.user.Username
		}
		e.mu.Unlock()
	}
	return c
}

// page renders an Entra page: its $Config in a CDATA script (with
// trailing JavaScript, as Entra writes), the PageID meta, and a plain HTML
// form a browser can use without Entra's JavaScript bundle.
func (e *Entra) page(w http.ResponseWriter, title string, cfg map[string]any, body string) {
	b, err := jsonMarshal(cfg)
	if err != nil {
		http.Error(w, "idptest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, `<!-- Copyright (C) Microsoft Corporation. All rights reserved. -->
<!DOCTYPE html>
<html dir="ltr" class="" lang="en">
<head>
    <title>%s</title>
    <meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
    <meta name="PageID" content="%s" />
    <meta name="SiteID" content="" />
    <meta name="ReqLang" content="en" />
    <meta name="LocLang" content="en" />
    <meta name="robots" content="none" />
    <script type="text/javascript">//<![CDATA[
$Config=%s;
//]]></script>
<script type="text/javascript">//<![CDATA[
!function(){var e=window,r=e.$Debug=e.$Debug||{},t=e.$Config||{};if(!r.appendLog){var n=[]}}();
//]]></script>
</head>
<body>
%s
</body>
</html>`, htmlEscape(title), htmlEscape(fmt.Sprint(cfg["pgid"])), b, body)
	writeHTML(w, http.StatusOK, out.Bytes())
}

func jsonMarshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func htmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func hidden(name, value string) string {
	return fmt.Sprintf(`<input type="hidden" name="%s" value="%s">`, name, htmlEscape(value))
}

// signInPage is ConvergedSignIn; code/text are sErrorCode/sErrTxt.
func (e *Entra) signInPage(w http.ResponseWriter, f *entraFlow, code, text string) {
	e.mu.Lock()
	e.stats.SignInPages++
	e.mu.Unlock()
	c := e.config(f, "ConvergedSignIn")
	t := "/" + e.o.Tenant
	c["urlPost"] = t + "/login"
	c["urlGetCredentialType"] = e.srv.URL + "/common/GetCredentialType?mkt=en-US"
	c["sErrorCode"], c["sErrTxt"] = code, text
	c["iLoginMode"] = 1
	user := ""
	if f.user != nil {
		user = f.user.Username
	}
	// Two steps: the password page after a refusal, else the username.
	userStyle, pwStyle, step := "", "", "false"
	if e.o.TwoStep && user != "" {
		userStyle, step = ` style="display:none"`, "true"
	} else if e.o.TwoStep {
		pwStyle = ` style="display:none"`
	}
	body := `<form name="f1" id="i0281" method="post" action="` + t + `/login" autocomplete="off">
<div role="heading">Sign in</div>` + errorDiv(code, text) + `
<input type="email" name="loginfmt" id="i0116" placeholder="Email, phone, or Skype" value="` + htmlEscape(user) + `"` + userStyle + `>
<input type="password" name="passwd" id="i0118" placeholder="Password"` + pwStyle + `>
` + hidden("login", user) + hidden("ctx", f.ctx) + hidden("flowToken", c["sFT"].(string)) + hidden("canary", c["canary"].(string)) +
		hidden("hpgrequestid", f.session) + hidden("type", "11") + hidden("LoginOptions", "3") + `
<input type="submit" id="idSIButton9" value="Sign in">
</form>
<script type="text/javascript">
(function(){var c=window.$Config,f=document.forms[0],asked=false,pw=` + step + `,two=` + strconv.FormatBool(e.o.TwoStep) + `;
f.addEventListener('submit',function(ev){if(pw||asked||!window.fetch){return;}ev.preventDefault();asked=true;
 fetch(c.urlGetCredentialType,{method:'POST',headers:{'Content-Type':'application/json','canary':c.apiCanary,'client-request-id':c.correlationId,'hpgact':String(c.hpgact),'hpgid':String(c.hpgid),'hpgrequestid':c.sessionId},
  body:JSON.stringify({username:f.loginfmt.value,isOtherIdpSupported:true,originalRequest:c.sCtx,flowToken:f.flowToken.value})}).then(function(r){return r.json();}).then(function(b){
  var cr=b.Credentials||{};if(cr.FederationRedirectUrl){window.location=cr.FederationRedirectUrl;return;}
  if(b.IfExistsResult===1){document.getElementById('i0281').insertAdjacentText('afterbegin',"This username may be incorrect.");asked=false;return;}
  if(b.FlowToken){f.flowToken.value=b.FlowToken;}f.login.value=f.loginfmt.value;
  if(two){f.loginfmt.style.display='none';f.passwd.style.display='';f.passwd.focus();pw=true;return;}f.submit();});});})();
</script>`
	e.page(w, "Sign in to your account", c, body)
}

func errorDiv(code, text string) string {
	if text == "" || code == "50058" {
		return ""
	}
	return `<div id="usernameError" role="alert">` + htmlEscape(text) + `</div>`
}

// errorPage is a dead end: pgid with sErrorCode and sErrTxt.
func (e *Entra) errorPage(w http.ResponseWriter, f *entraFlow, pgid, code, text string) {
	c := e.config(f, pgid)
	c["sErrorCode"], c["sErrTxt"] = code, text
	c["iErrorDesc"], c["strServiceExceptionMessage"] = 0, text
	e.page(w, "Sign in to your account", c,
		`<div id="idPageTitle" role="heading">Sorry, but we're having trouble signing you in.</div>`+
			`<div id="idErrorMsg">AADSTS`+htmlEscape(code)+`: `+htmlEscape(text)+`</div>`)
}

// flow finds the flow a post names by ctx (or request) and checks its
// flowToken; nil after answering with an error page.
func (e *Entra) flow(w http.ResponseWriter, ctx, ft string) *entraFlow {
	e.mu.Lock()
	f := e.flows[ctx]
	ok := f != nil && ft != "" && ft == f.ft
	if f != nil && !ok {
		e.stats.StaleTokens++
	}
	e.mu.Unlock()
	if !ok {
		e.errorPage(w, nil, "ConvergedError", "9002313", EntraMsgBadRequest)
		return nil
	}
	return f
}

// postedFlow parses a form post and returns the flow its ctxField and
// ftField name; nil after answering with an error.
func (e *Entra) postedFlow(w http.ResponseWriter, r *http.Request, ctxField, ftField string) *entraFlow {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return nil
	}
	return e.flow(w, r.PostForm.Get(ctxField), r.PostForm.Get(ftField))
}

func (e *Entra) lookup(name string) *entraUser {
	for _, u := range e.users {
		if strings.EqualFold(u.Username, strings.TrimSpace(name)) {
			return u
		}
	}
	return nil
}

// apiHeaders reports whether a JSON API call carries what Entra's own page
// script sends: canary (apiCanary), client-request-id, hpgact, hpgid and
// hpgrequestid.
func (e *Entra) apiHeaders(r *http.Request, f *entraFlow) bool {
	h := r.Header
	ok := h.Get("canary") == f.apiCanary && h.Get("client-request-id") == f.correlation &&
		h.Get("hpgrequestid") == f.session && h.Get("hpgact") != "" && h.Get("hpgid") != ""
	if !ok {
		e.stats.MissingHeaders++
	}
	return ok
}

// credentialType is GetCredentialType: does the account exist, has it a
// password, is its domain federated.
func (e *Entra) credentialType(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username        string `json:"username"`
		OriginalRequest string `json:"originalRequest"`
		FlowToken       string `json:"flowToken"`
	}
	if err := readJSON(r, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "bad request"})
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stats.CredentialTypes++
	f := e.flows[req.OriginalRequest]
	if f == nil || req.FlowToken != f.ft {
		e.stats.StaleTokens++
		writeJSON(w, http.StatusOK, map[string]any{"Username": req.Username, "IfExistsResult": 1, "ThrottleStatus": 0,
			"ErrorHTML": EntraMsgBadRequest})
		return
	}
	if !e.apiHeaders(r, f) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "canary validation failed"})
		return
	}
	u := e.lookup(req.Username)
	e.rotate(f)
	out := map[string]any{"Username": req.Username, "Display": req.Username, "IsUnmanaged": false, "ThrottleStatus": 0,
		"FlowToken": f.ft, "apiCanary": f.apiCanary, "IsSignupDisallowed": true}
	cred := map[string]any{"PrefCredential": 1, "HasPassword": true, "RemoteNgcParams": nil, "FidoParams": nil,
		"SasParams": nil, "CertAuthParams": nil, "GoogleParams": nil, "FacebookParams": nil}
	switch {
	case u == nil:
		out["IfExistsResult"] = 1
	case u.Federated:
		out["IfExistsResult"] = 0
		cred["PrefCredential"] = 4
		q := url.Values{"username": {u.Username}, "wa": {"wsignin1.0"}, "wtrealm": {entraFedRealm},
			"wctx": {"LoginOptions=3&estsredirect=2&estsrequest=" + f.ctx}, "wreply": {e.srv.URL + "/login.srf"}}
		cred["FederationRedirectUrl"] = e.o.ADFS.BaseURL() + "/adfs/ls/?" + q.Encode()
		f.user = u
	case u.Passwordless:
		out["IfExistsResult"] = 0
		cred["PrefCredential"], cred["HasPassword"] = 7, false
		cred["RemoteNgcParams"] = map[string]any{"SessionIdentifier": e.secret("ngc"), "DefaultType": 1}
		f.user = u
	default:
		out["IfExistsResult"] = 0
		f.user = u
	}
	out["Credentials"] = cred
	writeJSON(w, http.StatusOK, out)
}

func readJSON(r *http.Request, v any) error {
	return json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16)).Decode(v)
}

// password is the password post to urlPost.
func (e *Entra) password(w http.ResponseWriter, r *http.Request) {
	f := e.postedFlow(w, r, "ctx", "flowToken")
	if f == nil {
		return
	}
	if r.PostForm.Get("canary") != f.canary {
		e.errorPage(w, f, "ConvergedError", "9002313", EntraMsgBadRequest)
		return
	}
	name := r.PostForm.Get("login")
	if name == "" {
		name = r.PostForm.Get("loginfmt")
	}
	u := e.lookup(name)
	e.mu.Lock()
	e.stats.PasswordPosts++
	e.mu.Unlock()
	switch {
	case u == nil:
		e.signInPage(w, f, "50034", EntraMsgUnknownUser)
		return
	case u.Locked:
		f.user = u
		e.signInPage(w, f, "50053", EntraMsgLocked)
		return
	case u.Federated || u.Passwordless || u.Password == "" || r.PostForm.Get("passwd") != u.Password:
		f.user = u
		e.signInPage(w, f, "50126", EntraMsgBadPassword)
		return
	}
	f.user, f.pwOK = u, true
	e.advance(w, f)
}

// advance serves what follows the first factor: Conditional Access,
// password change, MFA, proof-up, DeviceAuthTls, KMSI, the SAML page.
func (e *Entra) advance(w http.ResponseWriter, f *entraFlow) {
	u := f.user
	switch {
	case u.PasswordExpired:
		e.errorPage(w, f, "ConvergedChangePassword", "50055", EntraMsgExpired)
	case u.Blocked:
		e.errorPage(w, f, "ConvergedConditionalAccess", "53003", EntraMsgBlocked)
	case len(u.Methods) > 0 && !f.mfaOK:
		e.tfaPage(w, f)
	case u.ProofUp != "" && !f.proofUpDone:
		e.proofUpPage(w, f)
	case e.o.DeviceAuthTls && !f.tlsDone:
		e.mu.Lock()
		e.rotate(f)
		e.mu.Unlock()
		var b bytes.Buffer
		fmt.Fprintf(&b, `<html><head><title>Working...</title></head><body><form method="POST" name="hiddenform" action="%s/common/DeviceAuthTls/reprocess">%s%s`+
			`<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit" /></noscript></form>`+
			`<script language="javascript">document.forms[0].submit();</script></body></html>`,
			e.srv.URL, hidden("ctx", f.ctx), hidden("flowtoken", f.ft))
		writeHTML(w, http.StatusOK, b.Bytes())
	case !e.o.SkipKMSI:
		e.mu.Lock()
		e.stats.KMSIShown++
		e.mu.Unlock()
		c := e.config(f, "KmsiInterrupt")
		c["urlPost"] = "/kmsi"
		body := `<form name="f1" method="post" action="/kmsi"><div role="heading">Stay signed in?</div>
<div>Do this to reduce the number of times you are asked to sign in.</div>` +
			hidden("ctx", f.ctx) + hidden("flowToken", c["sFT"].(string)) + hidden("canary", c["canary"].(string)) + `
<input type="checkbox" name="DontShowAgain" id="KmsiCheckboxField">
<button type="submit" name="LoginOptions" value="3" id="idBtn_Back">No</button>
<button type="submit" name="LoginOptions" value="1" id="idSIButton9">Yes</button></form>`
		e.page(w, "Sign in to your account", c, body)
	default:
		e.finish(w, f, false)
	}
}

// tfaPage is ConvergedTFA with the user's methods.
func (e *Entra) tfaPage(w http.ResponseWriter, f *entraFlow) {
	c := e.config(f, "ConvergedTFA")
	var proofs []map[string]any
	for _, m := range f.user.Methods {
		proofs = append(proofs, map[string]any{"authMethodId": m.ID, "data": m.ID, "display": m.Display,
			"isDefault": m.Default, "isLocationAware": false})
	}
	c["arrUserProofs"] = proofs
	c["urlBeginAuth"] = e.srv.URL + "/common/SAS/BeginAuth"
	c["urlEndAuth"] = e.srv.URL + "/common/SAS/EndAuth"
	c["urlPost"] = "/common/SAS/ProcessAuth"
	c["oPerAuthPollingInterval"] = map[string]float64{EntraPush: e.o.PollInterval, EntraCall: e.o.PollInterval}
	c["iMaxPollAttempts"] = e.o.MaxPollAttempts
	c["iPollingTimeout"] = 120000
	c["sAuthMethodInputFieldName"] = "mfaAuthMethod"
	c["sTrustedDeviceCheckboxName"] = "rememberMFA"
	var opts strings.Builder
	for i, m := range f.user.Methods {
		checked := ""
		if m.Default || (i == 0 && !slices.ContainsFunc(f.user.Methods, func(x EntraMethod) bool { return x.Default })) {
			checked = " checked"
		}
		fmt.Fprintf(&opts, `<label><input type="radio" name="mfaAuthMethod" value="%s"%s> %s (%s)</label>`, m.ID, checked, m.ID, htmlEscape(m.Display))
	}
	// A browser without Entra's bundle: the script below runs BeginAuth
	// and EndAuth for push and call; codes go in otc.
	body := `<form name="f1" id="idForm" method="post" action="/common/SAS/ProcessAuth"><div role="heading">Verify your identity</div>
<div id="idDiv_SAOTCAS_Description"></div>` + opts.String() + `
<input type="tel" name="otc" id="idTxtBx_SAOTCC_OTC" placeholder="Code" autocomplete="off">` +
		hidden("type", "19") + hidden("request", f.ctx) + hidden("flowToken", c["sFT"].(string)) + hidden("canary", c["canary"].(string)) +
		hidden("login", f.user.Username) + hidden("hpgrequestid", f.session) + hidden("rememberMFA", "false") + `
<input type="submit" id="idSubmit_SAOTCC_Continue" value="Verify"></form>
<script type="text/javascript">
(function(){var c=window.$Config,f=document.forms[0];
function method(){var r=f.querySelector('input[name=mfaAuthMethod]:checked');return r?r.value:'';}
function post(u,b){return fetch(u,{method:'POST',headers:{'Content-Type':'application/json','canary':c.apiCanary,'client-request-id':c.correlationId,'hpgact':String(c.hpgact),'hpgid':String(c.hpgid),'hpgrequestid':c.sessionId},body:JSON.stringify(b)}).then(function(r){return r.json();});}
f.addEventListener('submit',function(ev){var m=method();var code=f.otc.value;ev.preventDefault();
 post(c.urlBeginAuth,{AuthMethodId:m,Method:'BeginAuth',Ctx:c.sCtx,FlowToken:f.flowToken.value}).then(function(b){
  if(!b.Success){document.getElementById('idDiv_SAOTCAS_Description').textContent=b.Message||b.ResultValue;return;}
  if(b.Entropy>0){document.getElementById('idDiv_SAOTCAS_Description').textContent='Enter '+b.Entropy+' in Microsoft Authenticator';}
  var n=0,ft=b.FlowToken,cx=b.Ctx;(function poll(){n++;post(c.urlEndAuth,{AuthMethodId:b.AuthMethodId,Method:'EndAuth',Ctx:cx,FlowToken:ft,SessionId:b.SessionId,PollCount:n,AdditionalAuthData:code}).then(function(e){
   if(e.FlowToken){ft=e.FlowToken;}if(e.Ctx){cx=e.Ctx;}
   if(e.Retry&&n<c.iMaxPollAttempts){setTimeout(poll,1000*((c.oPerAuthPollingInterval||{})[m]||1));return;}
   if(!e.Success){document.getElementById('idDiv_SAOTCAS_Description').textContent=e.Message||e.ResultValue;return;}
   f.flowToken.value=e.FlowToken;f.request.value=e.Ctx;f.submit();});})();});});})();
</script>`
	e.page(w, "Sign in to your account", c, body)
}

// sasJSON is BeginAuth (begin) or EndAuth.
func (e *Entra) sasJSON(w http.ResponseWriter, r *http.Request, begin bool) {
	var req struct {
		AuthMethodID string `json:"AuthMethodId"`
		Method       string `json:"Method"`
		Ctx          string `json:"Ctx"`
		FlowToken    string `json:"FlowToken"`
		SessionID    string `json:"SessionId"`
		PollCount    int    `json:"PollCount"`
		Code         string `json:"AdditionalAuthData"`
	}
	if err := readJSON(r, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "bad request"})
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	reply := func(ok bool, result, msg string, errCode int, retry bool, f *entraFlow, extra map[string]any) {
		out := map[string]any{"Success": ok, "ResultValue": result, "Message": nil, "AuthMethodId": req.AuthMethodID,
			"ErrCode": errCode, "Retry": retry, "Timestamp": time.Now().UTC().Format(time.RFC3339), "Entropy": 0}
		if msg != "" {
			out["Message"] = msg
		}
		if f != nil {
			f.ft = e.secret("AQABAAEAAAD--DLA3VO7QrddgJg7WevrA") // SAS answers carry no apiCanary
			out["FlowToken"], out["Ctx"], out["SessionId"], out["CorrelationId"] = f.ft, f.ctx, f.sas, f.correlation
			out["AuthMethodId"] = f.method
		}
		for k, v := range extra {
			out[k] = v
		}
		writeJSON(w, http.StatusOK, out)
	}
	f := e.flows[req.Ctx]
	if begin {
		e.stats.BeginAuths++
	} else {
		e.stats.EndAuths++
	}
	if f == nil || req.FlowToken != f.ft || !f.pwOK || f.user == nil {
		e.stats.StaleTokens++
		reply(false, "InvalidSession", EntraMsgBadRequest, 500101, false, nil, nil)
		return
	}
	if !e.apiHeaders(r, f) {
		reply(false, "InvalidSession", "canary validation failed", 500101, false, nil, nil)
		return
	}
	u := f.user
	if begin {
		id := req.AuthMethodID
		if sp := e.o.SystemPreferred; sp != "" && slices.ContainsFunc(u.Methods, func(m EntraMethod) bool { return m.ID == sp }) {
			id = sp
		}
		i := slices.IndexFunc(u.Methods, func(m EntraMethod) bool { return m.ID == id })
		if i < 0 {
			reply(false, "AuthMethodNotSupported", "The selected verification method is not available.", 500100, false, nil, nil)
			return
		}
		m := u.Methods[i]
		f.method, f.polls, f.endOK = id, 0, false
		f.sas = e.secret("sas")
		extra := map[string]any{}
		if m.ID == EntraPush && m.Number > 0 {
			extra["Entropy"] = m.Number
		}
		if m.ID == EntraSMS || m.ID == EntraCall {
			e.stats.CodesSent++
		}
		reply(true, "Success", "", 0, false, f, extra)
		return
	}
	if req.SessionID != f.sas || req.AuthMethodID != f.method {
		reply(false, "InvalidSession", EntraMsgBadRequest, 500101, false, nil, nil)
		return
	}
	m := u.Methods[slices.IndexFunc(u.Methods, func(m EntraMethod) bool { return m.ID == f.method })]
	switch m.ID {
	case EntraPush, EntraCall:
		f.polls++
		if f.polls <= m.After {
			reply(false, "AuthenticationPending", "", 0, true, f, nil)
			return
		}
		switch m.Answer {
		case "deny":
			reply(false, "PhoneAppDenied", EntraMsgDenied, 500121, false, f, nil)
			return
		case "timeout":
			reply(false, "PhoneAppNoResponse", EntraMsgNoResponse, 500121, false, f, nil)
			return
		}
	default:
		code := strings.TrimSpace(req.Code)
		switch {
		case code != "" && u.used[code]:
			e.stats.DuplicateCodes++
			reply(false, "PhoneAppOtpAuthFailedDuplicateCodeEntered", EntraMsgDuplicateCode, 500121, false, f, nil)
			return
		case code == "" || code != m.Code:
			e.stats.BadCodes++
			result := "OathCodeIncorrect"
			if m.ID == EntraSMS {
				result = "SMSAuthFailedWrongCodeEntered"
			}
			reply(false, result, EntraMsgWrongCode, 500121, false, f, nil)
			return
		}
		u.used[code] = true
	}
	f.endOK = true
	reply(true, "Success", "", 0, false, f, nil)
}

// processAuth finishes MFA: after a successful EndAuth, or (a browser
// posting the form) with a code in otc.
func (e *Entra) processAuth(w http.ResponseWriter, r *http.Request) {
	f := e.postedFlow(w, r, "request", "flowToken")
	if f == nil {
		return
	}
	e.mu.Lock()
	e.stats.ProcessAuths++
	canary := r.PostForm.Get("canary") == f.canary
	if canary && !f.endOK && r.PostForm.Get("mfaAuthMethod") == EntraOTP && f.pwOK && f.user != nil {
		// A browser without JavaScript posts the authenticator code
		// with the form itself.
		code := strings.TrimSpace(r.PostForm.Get("otc"))
		i := slices.IndexFunc(f.user.Methods, func(m EntraMethod) bool { return m.ID == EntraOTP })
		switch {
		case i < 0 || code == "" || code != f.user.Methods[i].Code:
			e.stats.BadCodes++
		case f.user.used[code]:
			e.stats.DuplicateCodes++
		default:
			f.user.used[code] = true
			f.endOK = true
		}
	}
	ok := f.endOK && canary
	if ok {
		f.mfaOK, f.endOK = true, false
	}
	e.mu.Unlock()
	if !ok {
		e.errorPage(w, f, "ConvergedError", "500121", "Authentication failed during strong authentication request.")
		return
	}
	e.advance(w, f)
}

func (e *Entra) proofUpPage(w http.ResponseWriter, f *entraFlow) {
	c := e.config(f, "ConvergedProofUpRedirect")
	c["urlPost"] = "/" + e.o.Tenant + "/login"
	c["sProofUpTokenName"] = "evo_code"
	c["urlSetUpMfa"] = "https://aka.ms/mfasetup"
	body := `<div role="heading">More information required</div><div>` + EntraMsgProofUp + `</div>`
	if f.user.ProofUp == "skip" {
		skip := "/" + e.o.Tenant + "/ProofUp/Skip?" + url.Values{"ctx": {f.ctx}, "flowToken": {c["sFT"].(string)}}.Encode()
		c["urlSkipMfaRegistration"] = skip
		c["iRemainingDaysToSkipMfaRegistration"] = 14
		body += `<a id="btnAskLater" href="` + htmlEscape(skip) + `">Ask later</a>`
	} else {
		c["sErrorCode"], c["sErrTxt"] = "50072", EntraMsgProofUp
	}
	e.page(w, "Sign in to your account", c, body)
}

func (e *Entra) proofUpSkip(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := e.flow(w, q.Get("ctx"), q.Get("flowToken"))
	if f == nil {
		return
	}
	e.mu.Lock()
	ok := f.pwOK && f.user.ProofUp == "skip"
	if ok {
		f.proofUpDone = true
		e.stats.ProofUpSkips++
	}
	e.mu.Unlock()
	if !ok {
		e.errorPage(w, f, "ConvergedError", "50072", EntraMsgProofUp)
		return
	}
	e.advance(w, f)
}

func (e *Entra) deviceTLS(w http.ResponseWriter, r *http.Request) {
	f := e.postedFlow(w, r, "ctx", "flowtoken")
	if f == nil {
		return
	}
	e.mu.Lock()
	f.tlsDone = true
	e.stats.DeviceAuthTls++
	e.mu.Unlock()
	e.advance(w, f)
}

func (e *Entra) kmsi(w http.ResponseWriter, r *http.Request) {
	f := e.postedFlow(w, r, "ctx", "flowToken")
	if f == nil {
		return
	}
	if !f.pwOK || (len(f.user.Methods) > 0 && !f.mfaOK) {
		e.errorPage(w, f, "ConvergedError", "9002313", EntraMsgBadRequest)
		return
	}
	yes := r.PostForm.Get("LoginOptions") == "1"
	if yes {
		e.mu.Lock()
		e.stats.KMSIYes++
		e.mu.Unlock()
	}
	e.finish(w, f, yes)
}

// wsfed takes the wresult AD FS posts back for a federated user.
func (e *Entra) wsfed(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	wctx, _ := url.ParseQuery(r.PostForm.Get("wctx"))
	e.mu.Lock()
	f := e.flows[wctx.Get("estsrequest")]
	e.mu.Unlock()
	var u *ADFSUser
	if f != nil && f.user != nil && e.o.ADFS != nil && r.PostForm.Get("wa") == "wsignin1.0" {
		u = e.o.ADFS.redeemWSFed(r.PostForm.Get("wresult"))
	}
	if u == nil || !strings.EqualFold(u.Username, f.user.Username) {
		e.errorPage(w, f, "ConvergedError", "50008", "SAML token is missing or not configured for the application.")
		return
	}
	e.mu.Lock()
	f.pwOK = true
	e.stats.Federated++
	e.mu.Unlock()
	e.advance(w, f)
}

// finish sets the session cookies and serves the SAML page: the hiddenform
// "Working..." page that posts the SAMLResponse to the ACS.
func (e *Entra) finish(w http.ResponseWriter, f *entraFlow, persistent bool) {
	if f.rac && f.mfaOK {
		e.errorPage(w, f, "ConvergedError", "75011", "Authentication method 'X509, MultiFactor' by which the user authenticated with the service doesn't match requested authentication method 'Password, ProtectedTransport'. Contact the application owner.")
		return
	}
	u := f.user
	e.mu.Lock()
	if f.ctx != "" {
		delete(e.flows, f.ctx)
		s := &entraSession{user: u, mfa: f.mfaOK, expires: time.Now().Add(e.o.SessionTTL)}
		tok := e.secret("0.AQ")
		e.sessions[tok] = s
		http.SetCookie(w, &http.Cookie{Name: "ESTSAUTH", Value: tok, Path: "/", HttpOnly: true, Secure: false})
		if persistent {
			ptok := e.secret("0.AR")
			e.sessions[ptok] = s
			http.SetCookie(w, &http.Cookie{Name: "ESTSAUTHPERSISTENT", Value: ptok, Path: "/", HttpOnly: true, Expires: s.expires})
		}
	}
	e.mu.Unlock()
	o := e.o.SAMLOptions
	o.Destination = f.acs
	b64, err := o.response(e.Issuer(), u.Username, u.SessionName, "_"+newUUID(), u.Roles)
	if err != nil {
		http.Error(w, "idptest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	e.issue(b64, func(s *EntraStats) { s.SAMLIssued++ })
	relay := ""
	if f.relay != "" {
		relay = hidden("RelayState", f.relay)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<html><head><title>Working...</title></head><body><form method="POST" name="hiddenform" action="%s">`+
		`<input type="hidden" name="SAMLResponse" value="%s" />%s<noscript><p>Script is disabled. Click Submit to continue.</p>`+
		`<input type="submit" value="Submit" /></noscript></form><script language="javascript">document.forms[0].submit();</script></body></html>`,
		htmlEscape(f.acs), b64, relay)
	writeHTML(w, http.StatusOK, b.Bytes())
}

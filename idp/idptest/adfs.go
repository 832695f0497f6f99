package idptest

import (
	"bytes"
	"crypto/x509"
	"embed"
	"encoding/base64"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"
)

// AD FS additional authentication (MFA) adapters, by the AuthMethod value
// their pages post.
const (
	ADFSAzureMFA       = "AzureMfaAuthentication"       // Azure/Entra MFA adapter (AD FS 2016+)
	ADFSAzureMFAServer = "AzureMfaServerAuthentication" // on-premises MFA Server
	ADFSSecurID        = "SecurIDAuthentication"        // RSA SecurID
	ADFSVIP            = "VIPAuthenticationProviderWindowsAccountName"
	ADFSVIPUPN         = "VIPAuthenticationProviderUPN"
	ADFSSymantecVIP    = "SymantecVipAdapter" // newer Symantec VIP adapter, field SecurityCode
	ADFSDuo            = "DuoAdfsAdapter"     // Duo's AD FS adapter (Universal Prompt); needs ADFSOptions.Duo
)

// ADFS page texts, as AD FS shows them (English).
const (
	ADFSMsgBadPassword = "Incorrect user ID or password. Type the correct user ID and password, and try again."
	ADFSMsgError       = "An error occurred. Contact your administrator for more information."
	ADFSMsgNotAvail    = "The resource you are trying to access is not available. Contact your administrator for more information."
	ADFSMsgBadCode     = "The code you entered is not valid. Try again."
	ADFSMsgDenied      = "The sign-in was denied on your mobile device."
	ADFSMsg20Bad       = "The user name or password is incorrect."
	ADFSMsgUserFormat  = "Enter your user ID in the format \"domain\\user\" or \"user@domain\"."
)

// ADFSOptions configure [NewADFS]. The zero value is usable.
type ADFSOptions struct {
	// Version picks the page markup: "2016" (default), "2012R2", "2019"
	// (which, like the real one, rejects a form that posts UserName twice)
	// or "2.0" (ASP.NET FormsSignIn field names).
	Version string
	Users   []ADFSUser
	// IdPInitiatedDisabled answers the IdP-initiated sign-on page with the
	// error page AD FS 2016+ shows until an administrator runs
	// Set-AdfsProperties -EnableIdpInitiatedSignonPage $true.
	IdPInitiatedDisabled bool
	// WIA enables Windows integrated authentication: requests whose
	// User-Agent is on AD FS's default WIASupportedUserAgents list are
	// sent to /adfs/ls/wia, which answers an NTLM challenge and verifies
	// the NTLMv2 response against the user's password.
	WIA bool
	// KerberosKeytab (with WIA) makes /adfs/ls/wia accept Kerberos in
	// Negotiate: the SPNEGO token's AP-REQ is verified with gokrb5's
	// service side against this keytab, which holds the key of
	// HTTP/<emulator host> (see [StartKDC]). The client principal
	// user@REALM must match a user's UPN, ignoring case.
	KerberosKeytab *keytab.Keytab
	// Paginated is AD FS 2019's paginated sign-in
	// (Set-AdfsGlobalAuthenticationPolicy -EnablePaginatedAuthenticationPages
	// $true): form#loginForm first asks only for UserName, then a second
	// page asks for the password. It implies Version "2019".
	Paginated bool
	// RelyingParties are the loginToRp values with a relying party trust;
	// default urn:amazon:webservices, :govcloud and :cn-north-1.
	RelyingParties []string
	// Duo is the Duo service the ADFSDuo adapter hands off to.
	Duo *Duo
	// WSFedRealms are the wtrealm values AD FS answers WS-Federation
	// passive sign-ins (/adfs/ls/?wa=wsignin1.0) for, as it does for a
	// federated Entra ID domain; default urn:federation:MicrosoftOnline.
	// The sign-in ends with a hiddenform posting wa, wresult and wctx to
	// wreply instead of a SAMLResponse.
	WSFedRealms []string
	// SAMLOptions shape and sign the assertions.
	SAMLOptions
}

// ADFSUser is one Active Directory account.
type ADFSUser struct {
	// Username is the UPN, e.g. ana@corp.example; AD FS also accepts
	// DOMAIN\sam, with sam the part before the @.
	Username, Password string
	// Domain is the NetBIOS domain; default "CORP".
	Domain string
	// Roles are the values of the AWS Role attribute.
	Roles []string
	// SessionName is the RoleSessionName attribute; default Username.
	SessionName string
	// MFA is the additional authentication the user must pass.
	MFA ADFSMFA
}

// ADFSMFA is a user's additional authentication.
type ADFSMFA struct {
	// Adapter is the AuthMethod of the adapter (ADFSAzureMFA, ...); any
	// other name gets a page the emulator never accepts; "" means none.
	Adapter string
	// Code is the one code accepted (SecurID passcode, VIP security code,
	// Azure MFA verification code). With Azure MFA, a Code selects the
	// one-time code mode instead of the push notification.
	Code string
	// NextCode (SecurID) asks for the next tokencode after Code.
	NextCode string
	// Number (Azure MFA push) is shown for number matching.
	Number string
	// Polls (Azure MFA push) is how many posts of the waiting page go by
	// before the user approves.
	Polls int
	// Deny makes the user reject the push or the MFA Server call.
	Deny bool
	// Also offers more adapters: the user first picks one on a selection
	// page; every adapter listed accepts the same Code.
	Also []string
}

// ADFSStats counts what clients did.
type ADFSStats struct {
	LoginPages       int // forms login pages served
	UsernamePosts    int // paginated sign-in: posts of the user name page
	PasswordPosts    int // forms login posts, good or bad
	Logins           int // good passwords
	DuplicateFields  int // posts with a field sent twice
	MFAPosts         int // posts to an MFA adapter (Azure MFA polls included)
	MFAPasses        int // MFA adapters passed
	NTLMChallenges   int // NTLM challenges sent
	NTLMLogins       int // NTLMv2 responses verified
	NTLMFailures     int // NTLM authenticate messages refused
	KerberosLogins   int // Kerberos AP-REQs verified
	KerberosFailures int // Negotiate tokens with Kerberos refused
	SAMLIssued       int // hiddenform pages served
	WSFedIssued      int // WS-Federation wresult pages served
	SessionReuses    int // sign-ons answered from an MSISAuth session
	Errors           int // error pages served
}

// ADFS is a running AD FS emulator.
type ADFS struct {
	o     ADFSOptions
	srv   *httptest.Server
	users []*ADFSUser

	record[ADFSStats]                       // mu, counters, leak-check values
	flows             map[string]*adfsFlow  // by Context
	sessions          map[string]*ADFSUser  // by MSISAuth
	wsfed             map[string]*ADFSUser  // WS-Federation tokens not yet redeemed
	ntlm              map[string]*ntlmState // by client connection
	userAgent         []string              // User-Agent of every request
}

// adfsFlow is one login between the password and the last MFA step.
type adfsFlow struct {
	user    *ADFSUser
	rp      string
	adapter string // chosen adapter; "" while the selection page is up
	step    int    // SecurID: 1 after the passcode, waiting for the next code
	polls   int
	created time.Time
	duo     string // the state sent to Duo
}

//go:embed templates/adfs/*.html
var adfsFS embed.FS

var adfsPages = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").ParseFS(adfsFS, "templates/adfs/*.html"))
})

const (
	adfsSignOn = "/adfs/ls/idpinitiatedsignon.aspx"
	adfsWIA    = "/adfs/ls/wia"
)

// NewADFS validates o and starts the emulator on 127.0.0.1.
func NewADFS(o ADFSOptions) (*ADFS, error) {
	switch {
	case o.Paginated && (o.Version == "" || o.Version == "2019"):
		o.Version = "2019"
	case o.Paginated:
		return nil, fmt.Errorf("idptest: AD FS %s has no paginated sign-in: use Version 2019", o.Version)
	}
	switch o.Version {
	case "":
		o.Version = "2016"
	case "2.0", "2012R2", "2016", "2019":
	default:
		return nil, fmt.Errorf("idptest: unknown AD FS version %q: use 2.0, 2012R2, 2016 or 2019", o.Version)
	}
	if len(o.WSFedRealms) == 0 {
		o.WSFedRealms = []string{"urn:federation:MicrosoftOnline"}
	}
	if len(o.RelyingParties) == 0 {
		o.RelyingParties = []string{"urn:amazon:webservices", "urn:amazon:webservices:govcloud", "urn:amazon:webservices:cn-north-1"}
	}
	if err := o.SAMLOptions.setDefaults(); err != nil {
		return nil, err
	}
	a := &ADFS{
		flows:    make(map[string]*adfsFlow),
		sessions: make(map[string]*ADFSUser),
		wsfed:    make(map[string]*ADFSUser),
		ntlm:     make(map[string]*ntlmState),
	}
	if err := checkUsers("AD FS user", usernames(o.Users, func(u *ADFSUser) string { return u.Username }), true); err != nil {
		return nil, err
	}
	for i := range o.Users {
		u := o.Users[i] // copy: later edits by the caller must not race with handlers
		if u.Domain == "" {
			u.Domain = "CORP"
		}
		if u.SessionName == "" {
			u.SessionName = u.Username
		}
		u.Roles = slices.Clone(u.Roles)
		u.MFA.Also = slices.Clone(u.MFA.Also)
		a.users = append(a.users, &u)
	}
	o.RelyingParties = slices.Clone(o.RelyingParties)
	o.WSFedRealms = slices.Clone(o.WSFedRealms)
	a.o = o
	a.srv = httptest.NewServer(a)
	return a, nil
}

// URL is the IdP-initiated sign-on URL for the AWS relying party.
func (a *ADFS) URL() string {
	return a.srv.URL + "/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=" + url.QueryEscape(a.o.RelyingParties[0])
}

// BaseURL is the server root, e.g. http://127.0.0.1:NNN: what a profile
// whose url is just the host holds.
func (a *ADFS) BaseURL() string { return a.srv.URL }

// Certificate is the token-signing certificate.
func (a *ADFS) Certificate() *x509.Certificate { return a.o.Cert }

// SessionCookies returns the value of every cookie set (MSISAuth,
// MSISAuthenticated, MSISContext ...), every MFA step's Context and every
// Windows integrated authentication token received (NTLM messages, SPNEGO
// tokens in Authorization), for leak checks.
func (a *ADFS) SessionCookies() []string { return a.keptValues() }

// UserAgents returns the User-Agent of every request, oldest first.
func (a *ADFS) UserAgents() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.userAgent)
}

// ExpireSessions forgets every AD FS session.
func (a *ADFS) ExpireSessions() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.sessions)
}

// Close shuts the server down.
func (a *ADFS) Close() { a.srv.Close() }

func (a *ADFS) issuer() string { return a.srv.URL + "/adfs/services/trust" }

// ServeHTTP routes the AD FS endpoints an IdP-initiated sign-on touches.
func (a *ADFS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.refuse(w) {
		return
	}
	a.mu.Lock()
	a.userAgent = append(a.userAgent, r.UserAgent())
	a.mu.Unlock()
	path := strings.ToLower(r.URL.Path)
	switch {
	case path == adfsSignOn || path == strings.TrimSuffix(adfsSignOn, ".aspx"):
		a.signOn(w, r)
	case (path == "/adfs/ls/" || path == "/adfs/ls") && r.URL.Query().Get("wa") == "wsignin1.0":
		a.signOn(w, r)
	case path == adfsWIA:
		a.wia(w, r)
	case path == adfsDuoCB:
		a.duoCallback(w, r)
	default:
		http.NotFound(w, r)
	}
}

// signOn is IdpInitiatedSignOn.aspx: the forms page, the MFA pages and the
// SAML post all live at this one URL.
func (a *ADFS) signOn(w http.ResponseWriter, r *http.Request) {
	if a.o.IdPInitiatedDisabled {
		a.errorPage(w, "", ADFSMsgNotAvail)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	rp := r.URL.Query().Get("loginToRp")
	if rp == "" {
		rp = r.URL.Query().Get("LoginToRp")
	}
	if q := r.URL.Query(); q.Get("wa") == "wsignin1.0" {
		rp = wsfedRP(q)
		if !slices.Contains(a.o.WSFedRealms, q.Get("wtrealm")) || q.Get("wreply") == "" {
			a.errorPage(w, q.Get("wtrealm"), ADFSMsgError)
			return
		}
	} else if !slices.Contains(a.o.RelyingParties, rp) {
		a.errorPage(w, rp, ADFSMsgError)
		return
	}
	switch r.Method {
	case http.MethodGet:
		a.mu.Lock()
		u := a.session(r)
		if u != nil {
			a.stats.SessionReuses++
		}
		a.mu.Unlock()
		var f *adfsFlow
		ctx := ""
		if c, err := r.Cookie("MSISContext"); err == nil && u == nil {
			ctx = c.Value
			a.mu.Lock()
			f = a.flows[ctx]
			a.mu.Unlock()
		}
		switch {
		case u != nil:
			a.post(w, u, rp)
		case f != nil && f.rp == rp && f.adapter == "":
			a.selectPage(w, f, ctx)
		case f != nil && f.rp == rp:
			a.mfaPage(w, f, ctx, "")
		case a.o.WIA && wiaAgent(r.UserAgent()):
			http.Redirect(w, r, adfsWIA+"?"+r.URL.RawQuery, http.StatusFound)
		default:
			a.loginPage(w, rp, r.URL.Query().Get("username"), "")
		}
	case http.MethodPost:
		a.postForm(w, r, rp)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// wiaAgent reports whether ua is on AD FS's default WIASupportedUserAgents
// list (Internet Explorer and old Edge); other browsers get the form.
func wiaAgent(ua string) bool {
	for _, s := range []string{"MSIE ", "Trident/7.0", "MSIPC", "Windows Rights Management Client", "Edge/"} {
		if strings.Contains(ua, s) {
			return true
		}
	}
	return false
}

func (a *ADFS) postForm(w http.ResponseWriter, r *http.Request, rp string) {
	form := r.PostForm
	dup := false
	for _, vs := range form {
		if len(vs) > 1 {
			dup = true
		}
	}
	a.mu.Lock()
	if dup {
		a.stats.DuplicateFields++
	}
	a.mu.Unlock()
	if dup && a.o.Version == "2019" {
		// Microsoft.IdentityServer.Web.InvalidRequestException: Duplicate
		// post parameter "UserName" (saml2aws issue #283).
		a.errorPage(w, rp, ADFSMsgError)
		return
	}
	// ASP.NET joins repeated fields with commas, so older versions see
	// "ana@corp.example,ana@corp.example" and refuse it.
	get := func(k string) string { return strings.Join(form[k], ",") }
	method := get("AuthMethod")
	switch {
	case a.o.Version == "2.0" && form.Has("ctl00$ContentPlaceHolder1$UsernameTextBox"):
		if get("ctl00$ContentPlaceHolder1$SubmitButton") == "" || form.Get("__VIEWSTATE") == "" {
			// Without the button and view state ASP.NET sees no postback.
			a.loginPage(w, rp, get("ctl00$ContentPlaceHolder1$UsernameTextBox"), "")
			return
		}
		a.password(w, rp, get("ctl00$ContentPlaceHolder1$UsernameTextBox"), get("ctl00$ContentPlaceHolder1$PasswordTextBox"))
	case method == "FormsAuthentication" && a.o.Paginated && !form.Has("Password"):
		a.userNamePage(w, rp, strings.TrimSpace(get("UserName")))
	case method == "FormsAuthentication":
		a.password(w, rp, get("UserName"), get("Password"))
	case form.Has("duo_code"):
		a.duoReturn(w, rp, form)
	case method != "" && form.Has("Context"):
		a.mfa(w, r, rp, method, get("Context"))
	default:
		a.loginPage(w, rp, "", "")
	}
}

// lookup finds the account AD FS would bind: UPN or DOMAIN\sam.
func (a *ADFS) lookup(name string) *ADFSUser {
	for _, u := range a.users {
		sam, _, _ := strings.Cut(u.Username, "@")
		if strings.EqualFold(name, u.Username) || strings.EqualFold(name, u.Domain+`\`+sam) {
			return u
		}
	}
	return nil
}

func (a *ADFS) password(w http.ResponseWriter, rp, name, pw string) {
	a.mu.Lock()
	a.stats.PasswordPosts++
	u := a.lookup(name)
	ok := u != nil && u.Password != "" && pw == u.Password
	if ok {
		a.stats.Logins++
	}
	a.mu.Unlock()
	if !ok {
		msg := ADFSMsgBadPassword
		if a.o.Version == "2.0" {
			msg = ADFSMsg20Bad
		}
		a.loginPage(w, rp, name, msg)
		return
	}
	a.authenticated(w, u, rp)
}

// userNamePage answers the first page of the paginated sign-in: AD FS
// does not say whether the account exists, it asks for the password.
func (a *ADFS) userNamePage(w http.ResponseWriter, rp, name string) {
	a.mu.Lock()
	a.stats.UsernamePosts++
	a.mu.Unlock()
	if name == "" {
		a.loginPage(w, rp, "", ADFSMsgUserFormat)
		return
	}
	a.loginPage(w, rp, name, "")
}

// authenticated continues after the first factor: MFA, else the SAML post.
func (a *ADFS) authenticated(w http.ResponseWriter, u *ADFSUser, rp string) {
	if u.MFA.Adapter == "" {
		a.finish(w, u, rp)
		return
	}
	f := &adfsFlow{user: u, rp: rp, adapter: u.MFA.Adapter, created: time.Now()}
	if len(u.MFA.Also) > 0 {
		f.adapter = ""
	}
	ctx := a.newFlow(f)
	if f.adapter == "" {
		a.selectPage(w, f, ctx)
		return
	}
	a.mfaPage(w, f, ctx, "")
}

func (a *ADFS) newFlow(f *adfsFlow) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, old := range a.flows {
		if time.Since(old.created) > 30*time.Minute {
			delete(a.flows, k)
		}
	}
	// The real Context is an encrypted, signed blob; a long random token
	// has the same effect for clients.
	ctx := newToken() + newToken() + newToken()
	a.keep(ctx) // it carries the password-verified half of the login
	a.flows[ctx] = f
	return ctx
}

func (a *ADFS) mfa(w http.ResponseWriter, r *http.Request, rp, method, ctx string) {
	a.mu.Lock()
	a.stats.MFAPosts++
	f := a.flows[ctx]
	a.mu.Unlock()
	if f == nil || f.rp != rp {
		a.errorPage(w, rp, ADFSMsgError)
		return
	}
	u := f.user
	if f.adapter == "" || f.adapter != method {
		// The options form switches adapters.
		if method == u.MFA.Adapter || slices.Contains(u.MFA.Also, method) {
			f.adapter, f.step, f.polls = method, 0, 0
			a.mfaPage(w, f, ctx, "")
			return
		}
		a.errorPage(w, rp, ADFSMsgError)
		return
	}
	code := func(field string) string { return strings.TrimSpace(r.PostForm.Get(field)) }
	pass := false
	switch method {
	case ADFSAzureMFA:
		if u.MFA.Code != "" {
			if code("VerificationCode") != u.MFA.Code {
				a.mfaPage(w, f, ctx, ADFSMsgBadCode)
				return
			}
			pass = true
			break
		}
		if u.MFA.Deny {
			a.mfaPage(w, f, ctx, ADFSMsgDenied)
			return
		}
		a.mu.Lock()
		f.polls++
		pass = f.polls > u.MFA.Polls
		a.mu.Unlock()
		if !pass {
			a.mfaPage(w, f, ctx, "")
			return
		}
	case ADFSAzureMFAServer:
		// The post blocks while MFA Server calls the phone; here the
		// phone answers at once (the adapter has nothing to wait for).
		if u.MFA.Deny {
			a.mfaPage(w, f, ctx, "Authentication failed. The phone call was not answered or the sign-in was denied.")
			return
		}
		pass = true
	case ADFSSecurID:
		if f.step == 0 {
			if code("Passcode") != u.MFA.Code {
				a.mfaPage(w, f, ctx, "Access denied. The passcode you entered is incorrect.")
				return
			}
			if u.MFA.NextCode != "" {
				f.step = 1
				a.mfaPage(w, f, ctx, "")
				return
			}
			pass = true
			break
		}
		if code("NextCode") != u.MFA.NextCode {
			a.mfaPage(w, f, ctx, "Access denied. The next tokencode you entered is incorrect.")
			return
		}
		pass = true
	case ADFSVIP, ADFSVIPUPN, ADFSSymantecVIP:
		field := "security_code"
		if method == ADFSSymantecVIP {
			field = "SecurityCode"
		}
		if code(field) != u.MFA.Code {
			a.mfaPage(w, f, ctx, "The security code is not valid. Enter the current security code from your VIP credential.")
			return
		}
		pass = true
	default:
		a.mfaPage(w, f, ctx, "Authentication failed.")
		return
	}
	if pass {
		a.mu.Lock()
		a.stats.MFAPasses++
		delete(a.flows, ctx)
		a.mu.Unlock()
		a.finish(w, u, f.rp)
	}
}

// finish starts an AD FS session and posts the assertion.
func (a *ADFS) finish(w http.ResponseWriter, u *ADFSUser, rp string) {
	token := newToken() + newToken()
	a.mu.Lock()
	a.sessions[token] = u
	a.mu.Unlock()
	http.SetCookie(w, a.cookie("MSISAuth", token))
	http.SetCookie(w, a.cookie("MSISAuthenticated", base64.StdEncoding.EncodeToString([]byte(time.Now().UTC().Format("1/2/2006 3:04:05 PM")))))
	http.SetCookie(w, a.cookie("MSISLoopDetectionCookie", time.Now().UTC().Format("2006-01-02-15-04-05")+"Z:1"))
	a.post(w, u, rp)
}

func (a *ADFS) cookie(name, value string) *http.Cookie {
	a.mu.Lock()
	a.keep(value)
	a.mu.Unlock()
	return &http.Cookie{Name: name, Value: value, Path: "/adfs", HttpOnly: true}
}

func (a *ADFS) session(r *http.Request) *ADFSUser {
	c, err := r.Cookie("MSISAuth")
	if err != nil {
		return nil
	}
	return a.sessions[c.Value]
}

// post serves the hiddenform page that posts the assertion to AWS.
func (a *ADFS) post(w http.ResponseWriter, u *ADFSUser, rp string) {
	if q, ok := wsfedQuery(rp); ok {
		a.wsfedPost(w, u, q)
		return
	}
	b64, err := a.o.response(a.issuer(), u.Username, u.SessionName, "_"+newUUID(), u.Roles)
	if err != nil {
		a.errorPage(w, rp, ADFSMsgError)
		return
	}
	a.issue(b64, func(st *ADFSStats) { st.SAMLIssued++ })
	var b bytes.Buffer
	fmt.Fprintf(&b, `<html><head><title>Working...</title></head><body><form method="POST" name="hiddenform" action="%s">`+
		`<input type="hidden" name="SAMLResponse" value="%s" />`+
		`<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit" /></noscript>`+
		`</form><script language="javascript">window.setTimeout('document.forms[0].submit()', 0);</script></body></html>`,
		html.EscapeString(a.o.Destination), b64)
	writeHTML(w, http.StatusOK, b.Bytes())
}

// adfsView is what one AD FS page shows.
type adfsView struct {
	Version, Kind, Title, Company string
	Action                        string
	UserName, Error               string
	HolderUser                    bool
	Step                          string // paginated sign-in: "user" or "password"; "" for the one-page form
	Context                       string
	Options                       []adfsOption
	// MFA adapter page.
	FormID, AuthMethod                     string
	Instructions, Number                   string
	Field, FieldID, FieldType, Placeholder string
	Poll                                   bool
	Message, Activity, RP, Time, ViewState string
}

type adfsOption struct{ ID, Label string }

func (a *ADFS) view(kind, rp string) adfsView {
	v := adfsView{Version: a.o.Version, Kind: kind, Title: "Sign In", Company: "Corp",
		HolderUser: a.o.Version == "2016" || a.o.Version == "2019"}
	q := url.Values{"loginToRp": {rp}, "client-request-id": {newUUID()}}
	wq, wsfed := wsfedQuery(rp)
	switch {
	case wsfed:
		// A WS-Federation sign-in posts back to the passive endpoint
		// with its wa/wtrealm/wctx/wreply query.
		v.Action = "/adfs/ls/?" + wq.Encode()
	case a.o.Version == "2012R2":
		// 2012 R2 posts to an absolute URL without the query, and keeps
		// the relying party in its context cookie; the emulator keeps it
		// in the query so that it needs no cookie.
		v.Action = a.srv.URL + "/adfs/ls/idpinitiatedsignon?" + q.Encode()
	default:
		v.Action = "/adfs/ls/IdpInitiatedSignOn.aspx?" + q.Encode()
	}
	return v
}

func (a *ADFS) loginPage(w http.ResponseWriter, rp, user, msg string) {
	a.mu.Lock()
	a.stats.LoginPages++
	a.mu.Unlock()
	v := a.view("login", rp)
	v.UserName, v.Error = user, msg
	if a.o.Paginated {
		// A known user name (posted on the first page, or refused with
		// the password) gets the password page.
		v.Step = "user"
		if user != "" {
			v.Step = "password"
		}
	}
	if a.o.Version == "2.0" {
		v.Title = "Sign In"
		v.Action = "/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=" + url.QueryEscape(rp)
		v.ViewState = "/wEPDwUKMTY2" + newToken()
	}
	a.render(w, http.StatusOK, v)
}

// vendor labels of the selection page.
var adfsLabels = map[string]string{
	ADFSAzureMFA:       "Azure Multi-Factor Authentication",
	ADFSAzureMFAServer: "Azure Multi-Factor Authentication Server",
	ADFSSecurID:        "RSA SecurID",
	ADFSVIP:            "Symantec VIP",
	ADFSVIPUPN:         "Symantec VIP",
	ADFSSymantecVIP:    "Symantec VIP",
	ADFSDuo:            "Duo Security",
}

func (a *ADFS) selectPage(w http.ResponseWriter, f *adfsFlow, ctx string) {
	v := a.view("select", f.rp)
	v.UserName = f.user.Domain + `\` + strings.Split(f.user.Username, "@")[0]
	v.Context = ctx
	for _, m := range append([]string{f.user.MFA.Adapter}, f.user.MFA.Also...) {
		label := adfsLabels[m]
		if label == "" {
			label = m
		}
		v.Options = append(v.Options, adfsOption{ID: m, Label: label})
	}
	a.render(w, http.StatusOK, v)
}

func (a *ADFS) mfaPage(w http.ResponseWriter, f *adfsFlow, ctx, msg string) {
	v := a.view("mfa", f.rp)
	u := f.user
	v.UserName = u.Domain + `\` + strings.Split(u.Username, "@")[0]
	v.Context, v.AuthMethod, v.Error = ctx, f.adapter, msg
	v.FormID = "loginForm"
	v.Title = "Sign In"
	switch f.adapter {
	case ADFSAzureMFA:
		if u.MFA.Code != "" {
			v.Instructions = "Enter the verification code from the Microsoft Authenticator app."
			v.Field, v.FieldID, v.FieldType, v.Placeholder = "VerificationCode", "verificationCodeInput", "text", "Verification code"
			break
		}
		if msg == "" {
			v.Poll = true
			v.Instructions = "We've sent a notification to your mobile device. Please open the Microsoft Authenticator app to respond."
			if u.MFA.Number != "" {
				v.Instructions = "Open your Microsoft Authenticator app and enter the number shown to sign in."
				v.Number = u.MFA.Number
			}
		}
	case ADFSAzureMFAServer:
		v.Instructions = "We're calling your phone. Please answer it to continue."
	case ADFSSecurID:
		v.Title = "RSA SecurID Authentication"
		v.FormID = "passcodeForm"
		v.Action = "" // the captured page posts back to itself
		if f.step == 0 {
			v.Instructions = "Enter your RSA SecurID passcode."
			v.Field, v.FieldID, v.FieldType, v.Placeholder = "Passcode", "passcodeInput", "password", "Passcode"
		} else {
			v.Instructions = "Wait for the tokencode to change, then enter the new tokencode."
			v.Field, v.FieldID, v.FieldType, v.Placeholder = "NextCode", "nextcodeInput", "password", "Next tokencode"
		}
	case ADFSVIP, ADFSVIPUPN:
		v.Instructions = "Enter the security code from your VIP credential."
		v.Field, v.FieldID, v.FieldType, v.Placeholder = "security_code", "securityCodeInput", "text", "Security code"
	case ADFSSymantecVIP:
		v.Instructions = "Enter the security code from your VIP credential."
		v.Field, v.FieldID, v.FieldType, v.Placeholder = "SecurityCode", "securityCodeInput", "text", "Security code"
	case ADFSDuo:
		a.duoPage(w, f, ctx)
		return
	default:
		v.Instructions = "Continue with " + f.adapter + "."
	}
	a.render(w, http.StatusOK, v)
}

func (a *ADFS) errorPage(w http.ResponseWriter, rp, msg string) {
	a.mu.Lock()
	a.stats.Errors++
	a.mu.Unlock()
	v := a.view("error", rp)
	v.Message, v.Activity, v.RP, v.Time = msg, newUUID(), rp, time.Now().UTC().Format(time.RFC1123)
	a.render(w, http.StatusOK, v)
}

func (a *ADFS) render(w http.ResponseWriter, status int, v adfsView) {
	var b bytes.Buffer
	if err := adfsPages().ExecuteTemplate(&b, "adfs", v); err != nil {
		http.Error(w, "idptest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeHTML(w, status, b.Bytes())
}

// The relying party of a WS-Federation passive sign-in is kept, wherever
// the emulator passes a loginToRp around, as "wsfed?" and its query.
const wsfedPrefix = "wsfed?"

func wsfedRP(q url.Values) string {
	keep := url.Values{}
	for _, k := range []string{"wa", "wtrealm", "wctx", "wreply", "username"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	return wsfedPrefix + keep.Encode()
}

func wsfedQuery(rp string) (url.Values, bool) {
	raw, ok := strings.CutPrefix(rp, wsfedPrefix)
	if !ok {
		return nil, false
	}
	q, err := url.ParseQuery(raw)
	return q, err == nil
}

// wsfedPost ends a WS-Federation sign-in: the "Working..." hiddenform that
// posts wa, wresult (a RequestSecurityTokenResponse) and wctx to wreply.
func (a *ADFS) wsfedPost(w http.ResponseWriter, u *ADFSUser, q url.Values) {
	token := "_" + newToken() + newToken()
	a.mu.Lock()
	a.wsfed[token] = u
	a.stats.WSFedIssued++
	a.keep(token)
	a.mu.Unlock()
	wresult := `<t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust">` +
		`<t:Lifetime><wsu:Created xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">` +
		time.Now().UTC().Format(time.RFC3339) + `</wsu:Created></t:Lifetime>` +
		`<wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy"><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>` +
		html.EscapeString(q.Get("wtrealm")) + `</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>` +
		`<t:RequestedSecurityToken><saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" AssertionID="` + token + `" Issuer="` +
		html.EscapeString(a.issuer()) + `"><saml:AttributeStatement><saml:Subject><saml:NameIdentifier>` + html.EscapeString(u.Username) +
		`</saml:NameIdentifier></saml:Subject></saml:AttributeStatement></saml:Assertion></t:RequestedSecurityToken></t:RequestSecurityTokenResponse>`
	var b bytes.Buffer
	fmt.Fprintf(&b, `<html><head><title>Working...</title></head><body><form method="POST" name="hiddenform" action="%s">`+
		`<input type="hidden" name="wa" value="wsignin1.0" /><input type="hidden" name="wresult" value="%s" />`+
		`<input type="hidden" name="wctx" value="%s" />`+
		`<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit" /></noscript>`+
		`</form><script language="javascript">window.setTimeout('document.forms[0].submit()', 0);</script></body></html>`,
		html.EscapeString(q.Get("wreply")), html.EscapeString(wresult), html.EscapeString(q.Get("wctx")))
	writeHTML(w, http.StatusOK, b.Bytes())
}

// redeemWSFed returns the user a wresult from wsfedPost names, once.
func (a *ADFS) redeemWSFed(wresult string) *ADFSUser {
	_, rest, ok := strings.Cut(wresult, `AssertionID="`)
	if !ok {
		return nil
	}
	token, _, _ := strings.Cut(rest, `"`)
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.wsfed[token]
	delete(a.wsfed, token)
	return u
}

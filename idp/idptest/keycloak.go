package idptest

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"
)

// User is one account of the emulated realm.
type User struct {
	Username, Password string
	// OTP lists the user's OTP authenticators; empty means no second factor.
	OTP []OTP
	// Roles are the values of the AWS Role attribute, one AttributeValue
	// each, e.g. "arn:aws:iam::123456789012:role/R,arn:aws:iam::123456789012:saml-provider/corp".
	Roles []string
	// SessionName is the RoleSessionName attribute; default Username.
	SessionName string
	// Disabled makes the login form answer "Account is disabled, contact
	// your administrator.".
	Disabled bool
	// WebAuthnOnly serves the WebAuthn page after the password, with no OTP
	// alternative. The answer is verified against WebAuthn (none
	// registered: every answer is refused).
	WebAuthnOnly bool
	// WebAuthn are the user's registered security keys or passkeys.
	WebAuthn []WebAuthnKey
}

// OTP is one OTP authenticator. Code is the only code it accepts, fixed so
// tests are deterministic.
type OTP struct{ ID, Label, Code string }

// KeycloakOptions configure [NewKeycloak]. The zero value is usable.
type KeycloakOptions struct {
	// Realm is the realm name; default "corp".
	Realm string
	// Client is the IdP-initiated SSO URL name; default "aws".
	Client string
	// Theme picks the page markup: "v2" (default; keycloak.v2, Keycloak
	// 25+), "v1" (base theme, Keycloak 12-24) or "old" (Keycloak 3.x).
	Theme string
	// AuthPrefix serves everything under /auth (WildFly distributions).
	AuthPrefix bool
	// Kerberos answers the first GET of each login with the 401
	// "Kerberos Unsupported" auto-submit page.
	Kerberos bool
	Users    []User
	// RequiredAction, when set, shows an "Update password"-style page with
	// this title once the user has authenticated (after the password, or
	// after the OTP when one is configured).
	RequiredAction string
	// Hostname replaces 127.0.0.1 in every URL the emulator hands out
	// ("localhost": WebAuthn needs a domain, not an IP, as relying party
	// ID). The server still listens on 127.0.0.1 only.
	Hostname string
	// WebAuthnAutoStart starts navigator.credentials.get as soon as the
	// WebAuthn page loads, as the theme of Keycloak 12-24 did; otherwise
	// (keycloak.v2) the person clicks "Sign in with Security Key".
	WebAuthnAutoStart bool
	// SAMLOptions shape and sign the assertions.
	SAMLOptions
}

// Stats counts what clients did. All counts start at zero.
type Stats struct {
	PasswordPosts  int // POSTs of the login form, good or bad
	Logins         int // good passwords of enabled users
	OTPPosts       int // POSTs of the OTP form, good or bad
	WebAuthnPosts  int // POSTs of the WebAuthn form, good or bad
	WebAuthnLogins int // WebAuthn assertions verified
	SAMLIssued     int // SAML POST pages served
	SessionReuses  int // IdP-initiated GETs answered from an SSO session
	Restarts       int // action URLs with a stale or unknown code
}

// Keycloak is a running Keycloak emulator.
type Keycloak struct {
	o          KeycloakOptions
	srv        *httptest.Server
	base       string // http://127.0.0.1:port, or with Hostname
	prefix     string // "" or "/auth"
	exec       map[step]string
	users      map[string]*User // by lower-cased username, as Keycloak matches
	ids        map[*User]string // Keycloak user ids
	clientData string           // v2 client_data parameter

	record[Stats]                     // mu, counters, leak-check values
	flows         map[string]*flow    // by AUTH_SESSION_ID
	sessions      map[string]*session // by KEYCLOAK_IDENTITY
}

const (
	clientID    = "urn:amazon:webservices"
	defaultDest = "https://signin.aws.amazon.com/saml"
	flowTTL     = 30 * time.Minute // Keycloak's default login timeout is shorter; this only bounds memory

	msgInvalidUser = "Invalid username or password."
	msgDisabled    = "Account is disabled, contact your administrator."
	msgInvalidOTP  = "Invalid authenticator code."
	msgTimeout     = "Your login attempt timed out. Login will start from the beginning."
	msgNoCookie    = "Cookie not found. Please make sure cookies are enabled in your browser."
	msgWebAuthn    = "Failed to authenticate by the Security key."
	msgPassMissing = "Please specify password."
	msgPassNoMatch = "Passwords don't match."
)

type step int

const (
	stepKerberos step = iota
	stepPassword
	stepOTP
	stepWebAuthn
	stepAction
)

// flow is one login in progress (Keycloak's authentication session).
type flow struct {
	id       string // AUTH_SESSION_ID cookie
	tab      string
	code     string // rotated on every page, as Keycloak's session_code is
	step     step
	user     *User
	relay    string
	otp      string // selected OTP credential id
	username string // last username typed, echoed back on errors
	created  time.Time
	// challenge is the WebAuthn challenge of the page last shown.
	challenge []byte
}

type session struct {
	id   string
	user *User
}

// NewKeycloak validates o and starts the emulator on 127.0.0.1.
func NewKeycloak(o KeycloakOptions) (*Keycloak, error) {
	if o.Realm == "" {
		o.Realm = "corp"
	}
	if o.Client == "" {
		o.Client = "aws"
	}
	switch o.Theme {
	case "":
		o.Theme = "v2"
	case "v2", "v1", "old":
	default:
		return nil, fmt.Errorf("idptest: unknown keycloak theme %q: use v2, v1 or old", o.Theme)
	}
	if strings.ContainsAny(o.Realm+o.Client, "/?#%") {
		return nil, fmt.Errorf("idptest: realm %q and client %q must be plain path segments", o.Realm, o.Client)
	}
	if err := o.SAMLOptions.setDefaults(); err != nil {
		return nil, err
	}

	k := &Keycloak{
		users:    make(map[string]*User),
		ids:      make(map[*User]string),
		flows:    make(map[string]*flow),
		sessions: make(map[string]*session),
		exec: map[step]string{
			stepKerberos: newUUID(),
			stepPassword: newUUID(),
			stepOTP:      newUUID(),
			stepWebAuthn: newUUID(),
			stepAction:   "UPDATE_PASSWORD", // required actions use their alias
		},
	}
	if err := checkUsers("user", usernames(o.Users, func(u *User) string { return u.Username }), true); err != nil {
		return nil, err
	}
	for i := range o.Users {
		u := o.Users[i] // copy: later edits by the caller must not race with handlers
		name := strings.ToLower(u.Username)
		u.OTP = append([]OTP(nil), u.OTP...)
		for j := range u.OTP {
			if u.OTP[j].ID == "" {
				u.OTP[j].ID = newUUID()
			}
			if u.OTP[j].Label == "" {
				u.OTP[j].Label = "Authenticator"
			}
		}
		u.Roles = append([]string(nil), u.Roles...)
		if u.SessionName == "" {
			u.SessionName = u.Username
		}
		k.users[name] = &u
		k.ids[&u] = newUUID()
	}
	if o.AuthPrefix {
		k.prefix = "/auth"
	}
	k.o = o
	k.clientData = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil,
		`{"protocol":"saml","ru":%q,"rm":"POST"}`, o.Destination))
	k.srv = httptest.NewServer(k)
	k.base = k.srv.URL
	if o.Hostname != "" {
		k.base = strings.Replace(k.srv.URL, "127.0.0.1", o.Hostname, 1)
	}
	return k, nil
}

// URL is the IdP-initiated sign-on URL, e.g.
// http://127.0.0.1:NNN/realms/corp/protocol/saml/clients/aws.
func (k *Keycloak) URL() string { return k.realmURL() + "/protocol/saml/clients/" + k.o.Client }

// BaseURL is the server root, e.g. http://127.0.0.1:NNN.
func (k *Keycloak) BaseURL() string { return k.base }

// Certificate is the certificate whose key signs the assertions.
func (k *Keycloak) Certificate() *x509.Certificate { return k.o.Cert }

// SessionCookies returns the value of every cookie set so far
// (AUTH_SESSION_ID, KC_RESTART, KEYCLOAK_IDENTITY, KEYCLOAK_SESSION), for the
// same kind of leak checks.
func (k *Keycloak) SessionCookies() []string { return k.keptValues() }

// ExpireSessions forgets every SSO session, so existing KEYCLOAK_IDENTITY
// cookies no longer skip the login form.
func (k *Keycloak) ExpireSessions() {
	k.mu.Lock()
	defer k.mu.Unlock()
	clear(k.sessions)
}

// SetPassword changes a user's password (as the user would in the
// directory), so the old one is rejected from now on.
func (k *Keycloak) SetPassword(username, password string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if u := k.users[strings.ToLower(username)]; u != nil {
		u.Password = password
	}
}

// Close shuts the server down.
func (k *Keycloak) Close() { k.srv.Close() }

func (k *Keycloak) realmPath() string { return k.prefix + "/realms/" + k.o.Realm }
func (k *Keycloak) realmURL() string  { return k.base + k.realmPath() }

// ServeHTTP routes the few Keycloak endpoints a SAML login touches.
func (k *Keycloak) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if k.refuse(w) {
		return
	}
	if strings.HasPrefix(r.URL.Path, k.prefix+"/resources/") && strings.HasSuffix(r.URL.Path, "/js/webauthnAuthenticate.js") {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		io.WriteString(w, webAuthnJS)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, k.prefix+"/realms/")
	if !ok {
		k.errorPage(w, http.StatusNotFound, "Page not found")
		return
	}
	realm, rest, _ := strings.Cut(rest, "/")
	if realm != k.o.Realm {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":"Realm does not exist","error_description":"For more on this error consult the server log."}`)
		return
	}
	switch {
	case rest == "protocol/saml/clients/"+k.o.Client:
		if r.Method != http.MethodGet {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		k.start(w, r)
	case strings.HasPrefix(rest, "protocol/saml/clients/"):
		k.errorPage(w, http.StatusNotFound, "Client not found.")
	case rest == "protocol/saml/descriptor":
		w.Header().Set("Content-Type", "application/xml;charset=utf-8")
		w.Write(k.MetadataXML())
	case rest == "login-actions/authenticate" || rest == "login-actions/required-action":
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		k.action(w, r, strings.TrimPrefix(rest, "login-actions/"))
	case rest == "login-actions/restart":
		k.mu.Lock()
		f := k.newFlow(w, "")
		v := k.loginView(f, "", "")
		k.mu.Unlock()
		k.render(w, http.StatusOK, v)
	default:
		k.errorPage(w, http.StatusNotFound, "Page not found")
	}
}

// start answers the IdP-initiated URL: the SAML page when an SSO session
// exists, else a new login.
func (k *Keycloak) start(w http.ResponseWriter, r *http.Request) {
	relay := r.URL.Query().Get("RelayState")
	k.mu.Lock()
	if s := k.session(r); s != nil {
		k.stats.SessionReuses++
		k.mu.Unlock()
		k.post(w, s, relay)
		return
	}
	if _, err := r.Cookie("KEYCLOAK_IDENTITY"); err == nil {
		// A forgotten session: Keycloak clears the stale cookies.
		http.SetCookie(w, k.expired("KEYCLOAK_IDENTITY"))
		http.SetCookie(w, k.expired("KEYCLOAK_SESSION"))
	}
	f := k.newFlow(w, relay)
	if k.o.Kerberos {
		f.step = stepKerberos
		v := k.view(f, "kerberos")
		k.mu.Unlock()
		w.Header().Set("WWW-Authenticate", "Negotiate")
		k.render(w, http.StatusUnauthorized, v)
		return
	}
	v := k.loginView(f, "", "")
	k.mu.Unlock()
	k.render(w, http.StatusOK, v)
}

// action handles login-actions/{authenticate,required-action}.
func (k *Keycloak) action(w http.ResponseWriter, r *http.Request, endpoint string) {
	c, err := r.Cookie("AUTH_SESSION_ID")
	if err != nil {
		k.errorPage(w, http.StatusBadRequest, msgNoCookie)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	code := q.Get("session_code")
	if code == "" {
		code = q.Get("code") // Keycloak 3.x
	}

	k.mu.Lock()
	f := k.flows[c.Value]
	if f == nil || code != f.code || q.Get("execution") != k.exec[f.step] ||
		endpoint != f.endpoint() || (q.Has("tab_id") && q.Get("tab_id") != f.tab) {
		// Keycloak cannot match the request to the current step, so it
		// restarts the login and says why.
		k.stats.Restarts++
		relay := ""
		if f != nil {
			relay = f.relay
			delete(k.flows, f.id)
		}
		nf := k.newFlow(w, relay)
		v := k.loginView(nf, "", msgTimeout)
		k.mu.Unlock()
		k.render(w, http.StatusOK, v)
		return
	}
	post := r.Method == http.MethodPost
	var v view
	switch f.step {
	case stepKerberos:
		// Any answer to the Kerberos page (saml2aws GETs it, browsers POST)
		// falls back to the password form.
		f.step = stepPassword
		v = k.loginView(f, "", "")
	case stepPassword:
		if !post {
			v = k.loginView(f, "", "")
			break
		}
		k.stats.PasswordPosts++
		f.username = r.PostForm.Get("username")
		u := k.users[strings.ToLower(f.username)]
		switch {
		case u == nil:
			v = k.loginView(f, msgInvalidUser, "")
		case u.Disabled: // Keycloak checks this before the password
			v = k.loginView(f, msgDisabled, "")
		case u.Password == "" || r.PostForm.Get("password") != u.Password:
			v = k.loginView(f, msgInvalidUser, "")
		default:
			k.stats.Logins++
			f.user = u
			if len(u.OTP) > 0 {
				f.otp = u.OTP[0].ID
			}
			v = k.next(w, f)
		}
	case stepOTP:
		if !post {
			v = k.otpView(f, "")
			break
		}
		k.stats.OTPPosts++
		if r.PostForm.Has("cancel") {
			// Keycloak resets the flow, so a client that posts every
			// submit button of the 3.x page lands on the login form again.
			f.step, f.user = stepPassword, nil
			v = k.loginView(f, "", "")
			break
		}
		if id := r.PostForm.Get("selectedCredentialId"); id != "" {
			f.otp = id
		}
		field := "otp"
		if k.o.Theme == "old" {
			field = "totp" // renamed in Keycloak 8
		}
		got := r.PostForm.Get(field)
		ok := false
		for _, o := range f.user.OTP {
			if o.ID == f.otp && o.Code != "" && got == o.Code {
				ok = true
			}
		}
		if !ok {
			v = k.otpView(f, msgInvalidOTP)
			break
		}
		v = k.next(w, f)
	case stepWebAuthn:
		if post {
			k.stats.WebAuthnPosts++
			if err := k.verifyWebAuthn(f, r.PostForm); err != nil {
				v = k.webAuthnView(f, msgWebAuthn)
				break
			}
			k.stats.WebAuthnLogins++
			v = k.next(w, f)
		} else {
			v = k.webAuthnView(f, "")
		}
	case stepAction:
		if !post {
			v = k.actionView(f, "")
			break
		}
		pw, again := r.PostForm.Get("password-new"), r.PostForm.Get("password-confirm")
		switch {
		case pw == "":
			v = k.actionView(f, msgPassMissing)
		case pw != again:
			v = k.actionView(f, msgPassNoMatch)
		default:
			v = k.next(w, f)
		}
	}
	s := v.done
	k.mu.Unlock()
	if s != nil {
		k.post(w, s, v.relay)
		return
	}
	k.render(w, http.StatusOK, v)
}

// next moves f past its current step. When nothing is left it ends the flow
// and returns a view whose done field holds the new SSO session. Called with
// k.mu held.
func (k *Keycloak) next(w http.ResponseWriter, f *flow) view {
	u := f.user
	switch {
	case f.step < stepWebAuthn && u.WebAuthnOnly:
		f.step = stepWebAuthn
		return k.webAuthnView(f, "")
	case f.step < stepOTP && len(u.OTP) > 0 && !u.WebAuthnOnly:
		f.step = stepOTP
		return k.otpView(f, "")
	case f.step < stepAction && k.o.RequiredAction != "":
		f.step = stepAction
		return k.actionView(f, "")
	}
	delete(k.flows, f.id)
	s := &session{id: newUUID(), user: u}
	token := newToken()
	k.sessions[token] = s
	http.SetCookie(w, k.cookie("KEYCLOAK_IDENTITY", token))
	http.SetCookie(w, k.cookie("KEYCLOAK_SESSION", k.o.Realm+"/"+k.ids[u]+"/"+s.id))
	http.SetCookie(w, k.expired("KC_RESTART"))
	return view{done: s, relay: f.relay}
}

// post serves the SAML POST page for s. Called without k.mu.
func (k *Keycloak) post(w http.ResponseWriter, s *session, relay string) {
	b64, err := k.o.response(k.realmURL(), s.user.Username, s.user.SessionName, s.id, s.user.Roles)
	if err != nil {
		k.errorPage(w, http.StatusInternalServerError, "An internal server error has occurred")
		return
	}
	k.issue(b64, func(st *Stats) { st.SAMLIssued++ })
	k.renderPost(w, b64, relay)
}

// session returns the SSO session named by r's cookie. Called with k.mu held.
func (k *Keycloak) session(r *http.Request) *session {
	c, err := r.Cookie("KEYCLOAK_IDENTITY")
	if err != nil {
		return nil
	}
	return k.sessions[c.Value]
}

// newFlow starts a login and sets its cookies. Called with k.mu held.
func (k *Keycloak) newFlow(w http.ResponseWriter, relay string) *flow {
	now := time.Now()
	for id, f := range k.flows {
		if now.Sub(f.created) > flowTTL {
			delete(k.flows, id)
		}
	}
	f := &flow{id: newUUID(), tab: newToken()[:11], step: stepPassword, relay: relay, created: now}
	k.flows[f.id] = f
	http.SetCookie(w, k.cookie("AUTH_SESSION_ID", f.id))
	http.SetCookie(w, k.cookie("KC_RESTART", newToken()))
	return f
}

func (f *flow) endpoint() string {
	if f.step == stepAction {
		return "required-action"
	}
	return "authenticate"
}

// actionURL is the form action for f's current step, with a fresh code.
// Called with k.mu held.
func (k *Keycloak) actionURL(f *flow) string {
	f.code = newToken()
	var b strings.Builder
	b.WriteString(k.realmURL() + "/login-actions/" + f.endpoint())
	if k.o.Theme == "old" {
		b.WriteString("?code=" + f.code)
	} else {
		b.WriteString("?session_code=" + f.code)
	}
	b.WriteString("&execution=" + k.exec[f.step])
	b.WriteString("&client_id=" + url.QueryEscape(clientID))
	if k.o.Theme != "old" {
		b.WriteString("&tab_id=" + f.tab)
	}
	if k.o.Theme == "v2" {
		b.WriteString("&client_data=" + k.clientData)
	}
	return b.String()
}

// cookie makes a realm cookie and records its value. Called with k.mu held.
func (k *Keycloak) cookie(name, value string) *http.Cookie {
	k.keep(value)
	return &http.Cookie{Name: name, Value: value, Path: k.realmPath() + "/", HttpOnly: true}
}

func (k *Keycloak) expired(name string) *http.Cookie {
	c := k.cookie(name, "")
	c.MaxAge = -1
	return c
}

func newToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

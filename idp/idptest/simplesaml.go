package idptest

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"time"
)

// SimpleSAMLOptions configure [NewSimpleSAML] and [NewShibboleth]. The zero
// value is usable.
type SimpleSAMLOptions struct {
	// Users are the accounts. A user with OTP entries gets a one-time code
	// page after the password; the first entry's Code is the one accepted.
	// Disabled and WebAuthnOnly are ignored.
	Users []User
	// AuthStateInQuery puts AuthState in the login form's action URL, as
	// SimpleSAMLphp 2.x does, instead of a hidden input (1.x). Either way
	// the server reads it from the query or the body. SimpleSAMLphp only.
	AuthStateInQuery bool
	// Duo, when set, sends every login to Duo's Universal Prompt after the
	// password (and code), as the duouniversal module (SimpleSAMLphp) and
	// the Duo OIDC plugin (Shibboleth) do; the login resumes when Duo
	// comes back with a duo_code that [Duo.Exchange] accepts.
	Duo *Duo
	// SAMLOptions shape and sign the assertions.
	SAMLOptions
}

// SimpleSAML is a running SimpleSAMLphp (or Shibboleth) IdP emulator: a
// plain HTML username/password form, an optional code form, a session
// cookie that skips both, and the SAML POST page.
type SimpleSAML struct {
	o      SimpleSAMLOptions
	shib   bool
	srv    *httptest.Server
	users  map[string]*User // by exact username
	issuer string

	record[Stats]                       // mu, counters, leak-check values
	states        map[string]*authState // by AuthState / execution key
	sessions      map[string]*sspSession
	pending       map[string]pendingPost // finished logins, by AuthState
	nextExec      int                    // Shibboleth flow executions started
}

// pendingPost is a finished login whose POST page has not been fetched.
type pendingPost struct {
	session *sspSession
	relay   string
}

// authState is one login in progress (SimpleSAMLphp's AuthState, a
// Shibboleth flow execution).
type authState struct {
	id      string
	relay   string
	user    *User // set once the password was right
	created time.Time
	done    bool

	// Shibboleth: the snapshot shown last (execution eNsK), what it shows,
	// the JSESSIONID the flow belongs to, and the error to show with it.
	snap     int
	show     string // read, login, otp, write
	jsession string
	msg      string

	// Duo: the state sent to Duo, and whether Duo said yes.
	duoState string
	duoDone  bool
}

type sspSession struct {
	id, token string
	user      *User
}

// Paths of the emulated endpoints.
const (
	sspBase     = "/simplesaml"
	sspSSO      = sspBase + "/saml2/idp/SSOService.php"
	sspLogin    = sspBase + "/module.php/core/loginuserpass.php"
	sspOTP      = sspBase + "/module.php/simpletotp/authenticate.php"
	sspResume   = sspBase + "/module.php/core/idp/resumeauth.php"
	shibSSO     = "/idp/profile/SAML2/Unsolicited/SSO"
	sspMsgTitle = "Incorrect username or password"
	sspMsgDescr = "Either no user with the given username could be found, or the password you gave was wrong. Please check the username and try again."
	sspMsgCode  = "The verification code you entered is not valid. Please try again."
	shibMsgUser = "The username you entered cannot be identified."
	shibMsgPass = "The password you entered was incorrect."
	shibMsgCode = "The code you entered was incorrect."
)

// NewSimpleSAML starts a SimpleSAMLphp IdP look-alike on 127.0.0.1 that
// serves IdP-initiated SSO for urn:amazon:webservices: SSOService.php
// redirects to core/loginuserpass.php?AuthState=..., whose form posts
// username, password and AuthState; a wrong password shows the form again
// with SimpleSAMLphp's message; users with OTP then get a code page; the
// SimpleSAMLSessionID and SimpleSAMLAuthToken cookies make later visits go
// straight to the POST page.
func NewSimpleSAML(o SimpleSAMLOptions) (*SimpleSAML, error) { return newFormIdP(o, false) }

// NewShibboleth starts a Shibboleth IdP v4/v5 look-alike on 127.0.0.1:
// /idp/profile/SAML2/Unsolicited/SSO?providerId=urn:amazon:webservices
// redirects to ?execution=e1s1, a self-submitting local-storage page, then
// the login form (j_username, j_password, button _eventId_proceed), an
// optional code form, another local-storage page and the SAML POST page.
// The shib_idp_session cookie skips the login.
func NewShibboleth(o SimpleSAMLOptions) (*SimpleSAML, error) { return newFormIdP(o, true) }

func newFormIdP(o SimpleSAMLOptions, shib bool) (*SimpleSAML, error) {
	if err := o.SAMLOptions.setDefaults(); err != nil {
		return nil, err
	}
	s := &SimpleSAML{shib: shib, users: map[string]*User{}, states: map[string]*authState{}, pending: map[string]pendingPost{}, sessions: map[string]*sspSession{}}
	if err := checkUsers("user", usernames(o.Users, func(u *User) string { return u.Username }), false); err != nil {
		return nil, err
	}
	for i := range o.Users {
		u := o.Users[i] // copy: later edits by the caller must not race with handlers
		u.OTP = slices.Clone(u.OTP)
		u.Roles = slices.Clone(u.Roles)
		if u.SessionName == "" {
			u.SessionName = u.Username
		}
		s.users[u.Username] = &u
	}
	s.o = o
	s.srv = httptest.NewServer(s)
	if shib {
		s.issuer = s.srv.URL + "/idp/shibboleth"
	} else {
		s.issuer = s.srv.URL + sspBase + "/saml2/idp/metadata.php"
	}
	return s, nil
}

// URL is the IdP-initiated sign-on URL for AWS.
func (s *SimpleSAML) URL() string {
	if s.shib {
		return s.srv.URL + shibSSO + "?providerId=" + url.QueryEscape(clientID)
	}
	return s.srv.URL + sspSSO + "?spentityid=" + url.QueryEscape(clientID)
}

// BaseURL is the server root, e.g. http://127.0.0.1:NNN.
func (s *SimpleSAML) BaseURL() string { return s.srv.URL }

// Certificate is the certificate whose key signs the assertions.
func (s *SimpleSAML) Certificate() *x509.Certificate { return s.o.Cert }

// SessionCookies returns every cookie value set so far (SimpleSAMLSessionID,
// SimpleSAMLAuthToken; JSESSIONID, shib_idp_session), for leak checks.
func (s *SimpleSAML) SessionCookies() []string { return s.keptValues() }

// AuthStates returns the SimpleSAMLphp AuthState ids handed out so far:
// they name a login in progress, so they are secrets too. Shibboleth's
// execution keys (e1s2) are not, and it returns none.
func (s *SimpleSAML) AuthStates() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shib {
		return nil
	}
	var ids []string
	for id := range s.states {
		ids = append(ids, id)
	}
	return ids
}

// ExpireSessions forgets every SSO session, so existing cookies no longer
// skip the login form.
func (s *SimpleSAML) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

// Close shuts the server down.
func (s *SimpleSAML) Close() { s.srv.Close() }

// ServeHTTP routes the endpoints an IdP-initiated login touches.
func (s *SimpleSAML) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.refuse(w) {
		return
	}
	if s.shib {
		s.serveShib(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case sspSSO:
		s.sspStart(w, r)
	case sspLogin:
		s.sspLogin(w, r)
	case sspOTP:
		s.sspCode(w, r)
	case sspResume:
		s.sspResume(w, r)
	case sspDuoCB:
		s.duoCallback(w, r)
	default:
		s.sspError(w, http.StatusNotFound, "NOTFOUND", "Page not found", "The given page was not found. The URL was: "+r.URL.Path)
	}
}

// sspStart answers SSOService.php: the POST page for a live session, else a
// new AuthState and a redirect to the login form.
func (s *SimpleSAML) sspStart(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if sp := q.Get("spentityid"); sp != clientID {
		s.sspError(w, http.StatusInternalServerError, "METADATA", "Error loading metadata",
			fmt.Sprintf("There is some misconfiguration of your SimpleSAMLphp installation. Unable to locate metadata for '%s' in saml20-sp-remote.", sp))
		return
	}
	s.mu.Lock()
	if ss := s.session(r); ss != nil {
		s.stats.SessionReuses++
		s.mu.Unlock()
		s.post(w, ss, q.Get("RelayState"))
		return
	}
	s.sessionCookie(w, r)
	st := s.newState(q.Get("RelayState"))
	s.mu.Unlock()
	http.Redirect(w, r, sspLogin+"?AuthState="+url.QueryEscape(st.id), http.StatusFound)
}

// sspLogin is core/loginuserpass.php.
func (s *SimpleSAML) sspLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id := r.Form.Get("AuthState") // $_REQUEST: query or body
	if id == "" {
		s.sspError(w, http.StatusBadRequest, "BADREQUEST", "Bad request received", "Missing AuthState parameter.")
		return
	}
	s.mu.Lock()
	st := s.states[id]
	if st == nil || st.done {
		s.stats.Restarts++
		s.mu.Unlock()
		s.sspError(w, http.StatusForbidden, "NOSTATE", "State information lost",
			"State information lost, and no way to restart the request")
		return
	}
	if _, err := r.Cookie("SimpleSAMLSessionID"); err != nil {
		s.mu.Unlock()
		s.sspError(w, http.StatusForbidden, "NOCOOKIE", "Cookies may be disabled in the web browser.", "Missing cookie")
		return
	}
	username, password := r.PostForm.Get("username"), r.PostForm.Get("password")
	if r.Method != http.MethodPost || (username == "" && password == "") {
		s.mu.Unlock()
		s.renderSSP(w, http.StatusOK, "ssp-login", s.loginData(id, "", false))
		return
	}
	s.stats.PasswordPosts++
	u := s.users[username]
	if u == nil || u.Password == "" || password != u.Password {
		s.mu.Unlock()
		s.renderSSP(w, http.StatusOK, "ssp-login", s.loginData(id, username, true))
		return
	}
	s.stats.Logins++
	st.user = u
	s.mu.Unlock()
	if len(u.OTP) > 0 {
		http.Redirect(w, r, sspOTP+"?StateId="+url.QueryEscape(id), http.StatusSeeOther)
		return
	}
	s.sspFinish(w, r, st)
}

func (s *SimpleSAML) loginData(id, username string, failed bool) map[string]any {
	d := map[string]any{"AuthState": id, "Username": username, "InQuery": s.o.AuthStateInQuery,
		"Action": sspLogin}
	if s.o.AuthStateInQuery {
		d["Action"] = sspLogin + "?AuthState=" + url.QueryEscape(id)
	}
	if failed {
		d["ErrTitle"], d["ErrDescr"] = sspMsgTitle, sspMsgDescr
	}
	return d
}

// sspCode is a simpletotp-style code page after the password.
func (s *SimpleSAML) sspCode(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id := r.Form.Get("StateId")
	s.mu.Lock()
	st := s.states[id]
	if st == nil || st.done || st.user == nil {
		s.stats.Restarts++
		s.mu.Unlock()
		s.sspError(w, http.StatusForbidden, "NOSTATE", "State information lost",
			"State information lost, and no way to restart the request")
		return
	}
	data := map[string]any{"StateId": id, "Action": sspOTP}
	if r.Method != http.MethodPost {
		s.mu.Unlock()
		s.renderSSP(w, http.StatusOK, "ssp-otp", data)
		return
	}
	s.stats.OTPPosts++
	if code := r.PostForm.Get("code"); code == "" || code != st.user.OTP[0].Code {
		s.mu.Unlock()
		data["Error"] = sspMsgCode
		s.renderSSP(w, http.StatusOK, "ssp-otp", data)
		return
	}
	s.mu.Unlock()
	s.sspFinish(w, r, st)
}

// sspFinish ends the login: a new SSO session and a redirect to the
// resume endpoint, which serves the POST page.
func (s *SimpleSAML) sspFinish(w http.ResponseWriter, r *http.Request, st *authState) {
	if s.toDuo(w, r, st, sspDuoCB) {
		return
	}
	s.mu.Lock()
	ss := s.newSession(w, r, st.user)
	st.done = true
	s.pending[st.id] = pendingPost{session: ss, relay: st.relay}
	s.mu.Unlock()
	http.Redirect(w, r, sspResume+"?RequestID="+url.QueryEscape(st.id), http.StatusSeeOther)
}

// sspResume serves the POST page of a finished login, once.
func (s *SimpleSAML) sspResume(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("RequestID")
	s.mu.Lock()
	p, ok := s.pending[id]
	delete(s.pending, id)
	s.mu.Unlock()
	if !ok {
		s.sspError(w, http.StatusForbidden, "NOSTATE", "State information lost",
			"State information lost, and no way to restart the request")
		return
	}
	s.post(w, p.session, p.relay)
}

// post serves the SAML POST page for ss. Called without s.mu.
func (s *SimpleSAML) post(w http.ResponseWriter, ss *sspSession, relay string) {
	b64, err := s.o.response(s.issuer, ss.user.Username, ss.user.SessionName, ss.id, ss.user.Roles)
	if err != nil {
		http.Error(w, "idptest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	s.issue(b64, func(st *Stats) { st.SAMLIssued++ })
	name := "ssp-post"
	if s.shib {
		name = "shib-post"
	}
	var b bytes.Buffer
	err = postPages().ExecuteTemplate(&b, name, map[string]string{"Dest": s.o.Destination, "SAMLResponse": b64, "RelayState": relay})
	if err != nil {
		http.Error(w, "idptest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeHTML(w, http.StatusOK, b.Bytes())
}

// session returns the SSO session r's cookies name. Called with s.mu held.
func (s *SimpleSAML) session(r *http.Request) *sspSession {
	if s.shib {
		c, err := r.Cookie("shib_idp_session")
		if err != nil {
			return nil
		}
		return s.sessions[c.Value]
	}
	id, err1 := r.Cookie("SimpleSAMLSessionID")
	tok, err2 := r.Cookie("SimpleSAMLAuthToken")
	if err1 != nil || err2 != nil {
		return nil
	}
	if ss := s.sessions[id.Value]; ss != nil && ss.token == tok.Value {
		return ss
	}
	return nil
}

// sessionCookie returns the PHP session id, setting one when r has none.
// Called with s.mu held.
func (s *SimpleSAML) sessionCookie(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie("SimpleSAMLSessionID"); err == nil && c.Value != "" {
		return c.Value
	}
	id := strings.ReplaceAll(newUUID(), "-", "")
	http.SetCookie(w, s.cookie("SimpleSAMLSessionID", id))
	return id
}

// newSession logs u in. Called with s.mu held.
func (s *SimpleSAML) newSession(w http.ResponseWriter, r *http.Request, u *User) *sspSession {
	if s.shib {
		ss := &sspSession{id: "_" + strings.ReplaceAll(newUUID(), "-", ""), user: u}
		tok := newToken()
		s.sessions[tok] = ss
		http.SetCookie(w, s.cookie("shib_idp_session", tok))
		return ss
	}
	ss := &sspSession{id: s.sessionCookie(w, r), token: "_" + strings.ReplaceAll(newUUID(), "-", ""), user: u}
	s.sessions[ss.id] = ss
	http.SetCookie(w, s.cookie("SimpleSAMLAuthToken", ss.token))
	return ss
}

// newState starts a login: a SimpleSAMLphp AuthState ("_<hex>:<return
// URL>") or a Shibboleth flow execution ("e<N>"). Called with s.mu held.
func (s *SimpleSAML) newState(relay string) *authState {
	now := time.Now()
	for id, st := range s.states {
		if now.Sub(st.created) > flowTTL {
			delete(s.states, id)
		}
	}
	id := "_" + strings.ReplaceAll(newUUID(), "-", "") + ":" + s.URL()
	if s.shib {
		s.nextExec++
		id = fmt.Sprintf("e%d", s.nextExec)
	}
	st := &authState{id: id, relay: relay, created: now}
	s.states[id] = st
	return st
}

// cookie makes a cookie and records its value. Called with s.mu held.
func (s *SimpleSAML) cookie(name, value string) *http.Cookie {
	s.keep(value)
	path := "/"
	if s.shib {
		path = "/idp"
	}
	return &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true}
}

func (s *SimpleSAML) sspError(w http.ResponseWriter, status int, code, title, descr string) {
	s.renderSSP(w, status, "ssp-error", map[string]any{"Code": code, "Title": title, "Descr": descr})
}

func (s *SimpleSAML) renderSSP(w http.ResponseWriter, status int, name string, data any) {
	var b bytes.Buffer
	if err := pages().ExecuteTemplate(&b, name, data); err != nil {
		http.Error(w, "idptest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeHTML(w, status, b.Bytes())
}

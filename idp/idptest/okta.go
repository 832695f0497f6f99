package idptest

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"time"
)

// OktaOptions configure [NewOkta]. The zero value is usable (a Classic org
// with no users).
type OktaOptions struct {
	// Pipeline is "v1" (Classic, default) or "idx" (Identity Engine);
	// GET /.well-known/okta-organization says which. Classic orgs serve
	// /api/v1/authn; IDX orgs serve /idp/idx/* and answer /api/v1/authn
	// too (as real OIE orgs usually do), but their app link without a
	// session starts the IDX flow.
	Pipeline string
	Users    []OktaUser
	// AppID is the AWS Account Federation app instance id; default
	// "0oa1awsapp0001". Embed link /home/amazon_aws/<AppID>/272, SSO URL
	// /app/amazon_aws/<AppID>/sso/saml. /home/amazon_aws_sso/... is the
	// IAM Identity Center app, which is not SAML federation: it serves its
	// real-looking dashboard page and never a SAMLResponse.
	AppID string
	// RateLimit: after this many POSTs to /api/v1/authn (or IDX identify)
	// within RateWindow (default 1m), answer 429 E0000047 with
	// X-Rate-Limit-Limit/Remaining/Reset headers; 0 = off. The window is
	// measured on SAMLOptions.Now, so a client on the same fake clock
	// waits it out without sleeping.
	RateLimit  int
	RateWindow time.Duration
	// StepUp makes the app's sign-on policy ask for MFA again: the first
	// app link of each Okta session serves the step-up interstitial page
	// carrying a stateToken (`var stateToken = '...'` and
	// `"stateToken":"..."`). POST /api/v1/authn {"stateToken"} then answers
	// MFA_REQUIRED (type SESSION_STEP_UP); after the factor, SUCCESS
	// carries a sessionToken and _links.next to /login/step-up/redirect.
	// Either that link or /login/sessionCookieRedirect with the new
	// sessionToken finishes the step-up and leads to the SAML page.
	// Users without factors are not stepped up. On IDX orgs the
	// interstitial's stateToken is an IDX one (introspect resumes at
	// select-authenticator-authenticate) and sessions made by the IDX flow
	// have passed the app's policy already.
	StepUp bool
	// SessionTTL is the Okta session (sid) lifetime; default 2h, measured
	// on SAMLOptions.Now.
	SessionTTL time.Duration
	// PushTimeout is how many polls a push with Push "timeout" answers
	// WAITING before factorResult TIMEOUT; default 3.
	PushTimeout int
	// Duo is the Duo service "claims_provider" factors hand off to.
	Duo *Duo
	// SAMLOptions shape and sign the assertions.
	SAMLOptions
}

// OktaUser is one account of the emulated org.
type OktaUser struct {
	Username, Password string
	// Roles are the AWS Role attribute values.
	Roles []string
	// SessionName is the RoleSessionName attribute; default Username.
	SessionName string
	// Status is "" (ACTIVE), "LOCKED_OUT" (shown as status LOCKED_OUT, the
	// "show lockout failures" policy), "PASSWORD_EXPIRED", "PASSWORD_WARN"
	// (only when the request sets options.warnBeforePasswordExpired, as
	// Okta does; `skip` continues) or "MFA_ENROLL".
	Status string
	// Factors are the enrolled factors; empty = no MFA (authn answers
	// SUCCESS after the password).
	Factors []OktaFactor
}

// OktaFactor is one enrolled factor.
type OktaFactor struct {
	// Type is Okta's factorType: "push", "token:software:totp", "sms",
	// "call", "email", "token:hardware" (YubiKey), "webauthn", "web"
	// (Duo's traditional iframe prompt) or "question". The last three are
	// listed and can be challenged, but never verify. "claims_provider"
	// is Duo's Universal Prompt as a custom IdP factor (Identity Engine:
	// the external_idp authenticator): verify (or selecting it) gives a
	// link that sends the browser to OktaOptions.Duo, and Duo's duo_code
	// coming back makes the Okta session (sid) and leads to the app.
	Type string
	// Provider is "OKTA", "GOOGLE", "YUBICO", "DUO" or "FIDO"; default by
	// Type.
	Provider string
	// Code is the one passcode it accepts (totp, sms, call, email,
	// yubikey, question answer).
	Code string
	// Push is the push outcome: "approve" (default), "reject" or
	// "timeout".
	Push string
	// PushAfter is how many polls (POSTs after the one that sends the
	// push) answer WAITING before the outcome; default 1, negative = 0.
	PushAfter int
	// CorrectAnswer > 0 makes it a number challenge: every WAITING poll
	// answer (not the answer to the POST that sends the push) carries
	// _embedded.factor._embedded.challenge.correctAnswer (IDX:
	// currentAuthenticatorEnrollment.value.contextualData.correctAnswer),
	// and the push is approved only on a poll that follows one that
	// showed it.
	CorrectAnswer int
}

// OktaStats counts what clients did. All counts start at zero.
type OktaStats struct {
	PasswordPosts  int // POSTs carrying a password (authn, IDX identify/answer for the password)
	FactorVerifies int // factor verify POSTs carrying a passcode or answer (Classic and IDX)
	BadPasscodes   int // wrong passcodes (E0000068 or the IDX equivalent)
	Polls          int // push polls (Classic re-POSTs of verify/next, IDX challenge/poll)
	CodesSent      int // sms/call/email codes sent, resends included
	SAMLIssued     int // SAML pages served
	SessionReuses  int // app links answered from a live sid without a new login
	RateLimited    int // 429 answers
	IDXRequests    int // POSTs to /idp/idx/*
	StepUps        int // step-up interstitials served
}

// Okta is a running Okta org emulator. It serves:
//
//   - GET /.well-known/okta-organization: {"pipeline":"v1"|"idx",...}.
//   - POST /api/v1/authn {username,password[,options][,stateToken]} or
//     {stateToken}: the transaction (SUCCESS with sessionToken,
//     MFA_REQUIRED with _embedded.factors[]._links.verify, LOCKED_OUT,
//     PASSWORD_EXPIRED, PASSWORD_WARN, MFA_ENROLL, UNAUTHENTICATED);
//     401 E0000004, 401 E0000011, 429 E0000047.
//   - POST /api/v1/authn/factors/{id}/verify[?rememberDevice=] and
//     .../verify/resend, /api/v1/authn/{skip,cancel,previous},
//     /api/v1/authn/credentials/change_password; 403 E0000068 for a wrong
//     passcode, 403 E0000079 out of order, 404 E0000007 unknown factor.
//   - POST /api/v1/sessions {sessionToken}, GET /api/v1/sessions/me.
//   - GET /login/sessionCookieRedirect?token=&redirectUrl= (sets sid),
//     /login/step-up/redirect?stateToken=, /login/token/redirect?stateToken=
//     (IDX success: sets sid and idx).
//   - POST /idp/idx/{introspect,identify,challenge,challenge/answer,
//     challenge/poll,authenticators/poll,challenge/resend,skip,cancel}.
//   - The app link and SSO URL: form#appForm with a live sid; else the
//     Classic sign-in page (302 to /login/login.htm?fromURI=, whose
//     `var stateToken` is an UNAUTHENTICATED transaction) or, on IDX orgs,
//     the widget page whose "stateToken" /idp/idx/introspect takes. Classic
//     orgs also take ?sessionToken= and ?onetimetoken= on the app link.
//   - The IAM Identity Center app page.
//
// Page JS strings escape '-' as \x2D, as Okta's do.
type Okta struct {
	o      OktaOptions
	srv    *httptest.Server
	orgID  string
	ssoID  string // Identity Center app id
	users  map[string]*oktaUser
	issuer string

	record[OktaStats]                         // mu, counters, leak-check values
	txs               map[string]*oktaTx      // Classic transactions by stateToken
	idxs              map[string]*idxTx       // IDX transactions by stateHandle
	tokens            map[string]*oktaToken   // one-time sessionTokens
	sessions          map[string]*oktaSession // by sid
	rate              []time.Time             // rate-limited calls inside the window
}

type oktaUser struct {
	OktaUser
	id      string
	factors []*oktaFactor
}

type oktaFactor struct {
	OktaFactor
	id string
}

// oktaToken is a sessionToken: one use, five minutes.
type oktaToken struct {
	user    *oktaUser
	expires time.Time
	stepUp  bool // finishes a step-up of an existing session
	sid     string
}

type oktaSession struct {
	id      string
	user    *oktaUser
	expires time.Time
	stepped bool // passed the app's step-up
	fresh   bool // just made by a login; the next app link is no reuse
}

const (
	oktaDefaultAppID = "0oa1awsapp0001"
	oktaTxTTL        = 5 * time.Minute // Okta's state and session tokens live five minutes
	oktaAppInstance  = "272"
	ionJSON          = "application/ion+json; okta-version=1.0.0"
)

// NewOkta validates o and starts the emulator on 127.0.0.1.
func NewOkta(o OktaOptions) (*Okta, error) {
	switch o.Pipeline {
	case "":
		o.Pipeline = "v1"
	case "v1", "idx":
	default:
		return nil, fmt.Errorf("idptest: unknown okta pipeline %q: use v1 or idx", o.Pipeline)
	}
	if o.AppID == "" {
		o.AppID = oktaDefaultAppID
	}
	if strings.ContainsAny(o.AppID, "/?#% ") {
		return nil, fmt.Errorf("idptest: okta AppID %q must be a plain path segment", o.AppID)
	}
	if o.RateWindow <= 0 {
		o.RateWindow = time.Minute
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = 2 * time.Hour
	}
	if o.PushTimeout <= 0 {
		o.PushTimeout = 3
	}
	if err := o.SAMLOptions.setDefaults(); err != nil {
		return nil, err
	}
	k := &Okta{
		orgID:    "00o" + oktaID(17),
		ssoID:    "0oa" + oktaID(17),
		users:    make(map[string]*oktaUser),
		txs:      make(map[string]*oktaTx),
		idxs:     make(map[string]*idxTx),
		tokens:   make(map[string]*oktaToken),
		sessions: make(map[string]*oktaSession),
	}
	if err := checkUsers("okta user", usernames(o.Users, func(u *OktaUser) string { return u.Username }), true); err != nil {
		return nil, err
	}
	for i := range o.Users {
		u := &oktaUser{OktaUser: o.Users[i], id: "00u" + oktaID(17)}
		name := strings.ToLower(u.Username)
		switch u.Status {
		case "", "LOCKED_OUT", "PASSWORD_EXPIRED", "PASSWORD_WARN", "MFA_ENROLL":
		default:
			return nil, fmt.Errorf("idptest: okta user %q: unknown Status %q", u.Username, u.Status)
		}
		u.Roles = slices.Clone(u.Roles)
		if u.SessionName == "" {
			u.SessionName = u.Username
		}
		u.Factors = nil
		for _, f := range o.Users[i].Factors {
			of, err := newOktaFactor(f)
			if err != nil {
				return nil, fmt.Errorf("idptest: okta user %q: %w", u.Username, err)
			}
			if f.Type == "claims_provider" && o.Duo == nil {
				return nil, fmt.Errorf("idptest: okta user %q: a claims_provider factor needs OktaOptions.Duo", u.Username)
			}
			u.factors = append(u.factors, of)
		}
		k.users[name] = u
	}
	o.Users = nil // copied above; later edits by the caller must not race
	k.o = o
	k.srv = httptest.NewServer(k)
	k.issuer = "http://www.okta.com/exk" + oktaID(17)
	return k, nil
}

func newOktaFactor(f OktaFactor) (*oktaFactor, error) {
	prefix, provider := "", ""
	switch f.Type {
	case "push":
		prefix, provider = "opf", "OKTA"
	case "token:software:totp":
		prefix, provider = "ost", "OKTA"
	case "sms":
		prefix, provider = "sms", "OKTA"
	case "call":
		prefix, provider = "clf", "OKTA"
	case "email":
		prefix, provider = "ema", "OKTA"
	case "token:hardware":
		prefix, provider = "ykf", "YUBICO"
	case "webauthn":
		prefix, provider = "fwf", "FIDO"
	case "web":
		prefix, provider = "dsf", "DUO"
	case "question":
		prefix, provider = "ufs", "OKTA"
	case "claims_provider":
		prefix, provider = "clp", "CUSTOM"
	default:
		return nil, fmt.Errorf("unknown factor type %q", f.Type)
	}
	if f.Provider == "" {
		f.Provider = provider
	}
	if f.Type == "token:software:totp" && f.Provider == "GOOGLE" {
		prefix = "uft"
	}
	switch f.Push {
	case "":
		f.Push = "approve"
	case "approve", "reject", "timeout":
	default:
		return nil, fmt.Errorf("unknown push outcome %q: use approve, reject or timeout", f.Push)
	}
	switch {
	case f.PushAfter == 0:
		f.PushAfter = 1
	case f.PushAfter < 0:
		f.PushAfter = 0
	}
	return &oktaFactor{OktaFactor: f, id: prefix + oktaID(17)}, nil
}

// URL is the AWS app embed link, http://127.0.0.1:N/home/amazon_aws/<AppID>/272.
func (k *Okta) URL() string {
	return k.srv.URL + "/home/amazon_aws/" + k.o.AppID + "/" + oktaAppInstance
}

// SSOURL is the app's SSO URL, http://127.0.0.1:N/app/amazon_aws/<AppID>/sso/saml.
func (k *Okta) SSOURL() string { return k.srv.URL + "/app/amazon_aws/" + k.o.AppID + "/sso/saml" }

// IdentityCenterURL is the embed link of an AWS IAM Identity Center app,
// which is not a SAML federation app.
func (k *Okta) IdentityCenterURL() string {
	return k.srv.URL + "/home/amazon_aws_sso/" + k.ssoID + "/123"
}

// BaseURL is the org URL, e.g. http://127.0.0.1:NNN.
func (k *Okta) BaseURL() string { return k.srv.URL }

// Certificate is the certificate whose key signs the assertions.
func (k *Okta) Certificate() *x509.Certificate { return k.o.Cert }

// Issuer is the SAML Issuer of the app (http://www.okta.com/exk...).
func (k *Okta) Issuer() string { return k.issuer }

// Secrets returns every stateToken, sessionToken, stateHandle and sid/idx
// cookie value issued so far, for leak checks.
func (k *Okta) Secrets() []string { return k.keptValues() }

// ExpireSessions ends every Okta session, so existing sid cookies no longer
// skip the login.
func (k *Okta) ExpireSessions() {
	k.mu.Lock()
	defer k.mu.Unlock()
	clear(k.sessions)
}

// ExpireTransactions forgets every Classic transaction and IDX state, so
// the next call with a stateToken answers 401 E0000011 and the next IDX
// call "The session has expired." (idx.session.expired), as when a client
// dawdles past the token lifetime.
func (k *Okta) ExpireTransactions() {
	k.mu.Lock()
	defer k.mu.Unlock()
	clear(k.txs)
	clear(k.idxs)
}

// Close shuts the server down.
func (k *Okta) Close() { k.srv.Close() }

// ServeHTTP routes the Okta endpoints a CLI login touches.
func (k *Okta) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if k.refuse(w) {
		return
	}
	p := r.URL.Path
	switch {
	case p == "/.well-known/okta-organization":
		k.wellKnown(w, r)
	case p == "/api/v1/authn":
		k.authn(w, r)
	case strings.HasPrefix(p, "/api/v1/authn/"):
		k.authnSub(w, r, strings.TrimPrefix(p, "/api/v1/authn/"))
	case p == "/api/v1/sessions" || p == "/api/v1/sessions/me":
		k.sessionsAPI(w, r)
	case p == "/login/sessionCookieRedirect":
		k.cookieRedirect(w, r)
	case p == "/login/step-up/redirect":
		k.stepUpRedirect(w, r)
	case p == "/login/token/redirect":
		k.idxRedirect(w, r)
	case strings.HasPrefix(p, "/idp/idx/"):
		k.idx(w, r, strings.TrimPrefix(p, "/idp/idx/"))
	case p == "/home/amazon_aws/"+k.o.AppID+"/"+oktaAppInstance || p == "/app/amazon_aws/"+k.o.AppID+"/sso/saml":
		k.app(w, r)
	case strings.HasPrefix(p, "/sso/idps/"):
		k.duoHandoff(w, r, strings.TrimPrefix(p, "/sso/idps/"))
	case strings.HasPrefix(p, "/home/amazon_aws_sso/"+k.ssoID+"/"):
		k.identityCenter(w, r)
	case p == "/login/login.htm" || p == "/":
		k.signInPage(w, r, "")
	case p == "/js/mvc/loginpage/initLoginPage.pack.js":
		k.serveWidget(w, r)
	default:
		k.notFound(w, r)
	}
}

func (k *Okta) wellKnown(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		k.apiError(w, http.StatusMethodNotAllowed, errMethod)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":       k.orgID,
		"cell":     "op3",
		"_links":   map[string]any{"organization": map[string]any{"href": k.srv.URL}},
		"pipeline": k.o.Pipeline,
		"settings": map[string]any{
			"analyticsCollectionEnabled": false, "bugReportingEnabled": true,
			"omEnabled": false, "pssoEnabled": false,
		},
	})
}

// app answers the app embed link and SSO URL: the SAML page with a live
// session (after the step-up, when the policy asks for one), else a
// sign-in page.
func (k *Okta) app(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	k.mu.Lock()
	s := k.session(r)
	if s == nil && k.o.Pipeline == "v1" {
		// The Classic one-time-token shortcuts (?sessionToken= as
		// awsprocesscreds and gimme use, ?onetimetoken= as the Redshift
		// driver does); Identity Engine dropped them.
		q := r.URL.Query()
		for _, name := range []string{"sessionToken", "onetimetoken"} {
			if t := k.tokens[q.Get(name)]; q.Get(name) != "" && t != nil {
				delete(k.tokens, q.Get(name))
				if time.Now().Before(t.expires) {
					s = k.newSession(w, t.user)
					s.stepped = true
				}
			}
		}
	}
	if s == nil {
		k.mu.Unlock()
		if c, err := r.Cookie("sid"); err == nil && c.Value != "" {
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "", Path: "/", MaxAge: -1})
		}
		k.signInPage(w, r, r.URL.Path)
		return
	}
	if k.o.StepUp && !s.stepped && len(s.user.factors) > 0 {
		k.stats.StepUps++
		var token string
		if k.o.Pipeline == "idx" {
			// Identity Engine evaluates the app's policy in IDX: the
			// widget resumes with the user known and MFA due.
			t := k.newIDX(r.URL.Path)
			t.user, t.login, t.stage = s.user, s.user.Username, "select"
			token = t.token
		} else {
			tx := k.newTx(s.user, "MFA_REQUIRED")
			tx.kind, tx.sid = "SESSION_STEP_UP", s.id
			token = tx.token
		}
		k.mu.Unlock()
		k.renderOkta(w, http.StatusOK, "okta-stepup", map[string]any{
			"Title": "Okta - Extra Verification", "StateToken": jsEscape(token), "FromURI": jsEscape(r.URL.Path),
		})
		return
	}
	if !s.fresh {
		k.stats.SessionReuses++
	}
	s.fresh = false
	k.mu.Unlock()
	k.samlPage(w, s)
}

func (k *Okta) samlPage(w http.ResponseWriter, s *oktaSession) {
	b64, err := k.o.response(k.issuer, s.user.Username, s.user.SessionName, s.id, s.user.Roles)
	if err != nil {
		http.Error(w, "idptest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	k.issue(b64, func(st *OktaStats) { st.SAMLIssued++ })
	k.renderOkta(w, http.StatusOK, "okta-saml", map[string]any{
		"Title": "Signing in...", "Action": entityEncode(k.o.Destination), "SAMLResponse": entityEncode(b64),
	})
}

// session returns the live session named by r's sid cookie. Called with
// k.mu held.
func (k *Okta) session(r *http.Request) *oktaSession {
	c, err := r.Cookie("sid")
	if err != nil {
		return nil
	}
	s := k.sessions[c.Value]
	if s == nil {
		return nil
	}
	if k.o.Now().After(s.expires) {
		delete(k.sessions, c.Value)
		return nil
	}
	return s
}

// newSession starts an Okta session for u and sets its cookies. Called with
// k.mu held.
func (k *Okta) newSession(w http.ResponseWriter, u *oktaUser) *oktaSession {
	now := k.o.Now()
	for id, s := range k.sessions {
		if now.After(s.expires) {
			delete(k.sessions, id)
		}
	}
	s := &oktaSession{id: k.secret("102"), user: u, expires: now.Add(k.o.SessionTTL), fresh: true}
	k.sessions[s.id] = s
	http.SetCookie(w, &http.Cookie{Name: "sid", Value: s.id, Path: "/", HttpOnly: true})
	return s
}

// cookieRedirect is /login/sessionCookieRedirect?token=&redirectUrl=: it
// trades a one-time sessionToken for a sid and redirects.
func (k *Okta) cookieRedirect(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	target := q.Get("redirectUrl")
	k.mu.Lock()
	t := k.tokens[q.Get("token")]
	delete(k.tokens, q.Get("token"))
	if t == nil || time.Now().After(t.expires) {
		k.mu.Unlock()
		// Okta shows its generic error page for a spent or unknown token.
		k.errorPage(w, http.StatusForbidden, "The session token is invalid or has expired.")
		return
	}
	s := k.sessions[t.sid]
	if !t.stepUp || s == nil {
		s = k.newSession(w, t.user)
	}
	s.stepped = s.stepped || t.stepUp
	s.fresh = true
	k.mu.Unlock()
	http.Redirect(w, r, k.redirectTarget(target), http.StatusFound)
}

// redirectTarget keeps redirects on this org, as Okta only follows
// trusted origins.
func (k *Okta) redirectTarget(target string) string {
	u, err := url.Parse(target)
	if err != nil || target == "" || (u.Host != "" && k.srv.URL != u.Scheme+"://"+u.Host) {
		return k.srv.URL + "/app/UserHome"
	}
	return target
}

func (k *Okta) stepUpRedirect(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	tx := k.txs[r.URL.Query().Get("stateToken")]
	if tx == nil || tx.status != "SUCCESS" || tx.kind != "SESSION_STEP_UP" {
		k.mu.Unlock()
		k.errorPage(w, http.StatusForbidden, "The session token is invalid or has expired.")
		return
	}
	delete(k.txs, tx.token)
	s := k.sessions[tx.sid]
	if tx.sid == "" || s == nil {
		// Sign-in from the app's sign-in page: this login makes the
		// session, which the app's step-up policy still applies to.
		s = k.newSession(w, tx.user)
	} else {
		s.stepped = true
	}
	s.fresh = true
	k.mu.Unlock()
	http.Redirect(w, r, k.URL(), http.StatusFound)
}

// identityCenter is the AWS IAM Identity Center app: with a session it
// posts a SAMLResponse with no AWS Role attribute to the Identity Center
// ACS (signin.aws/platform/saml/acs), never to the IAM SAML endpoint.
func (k *Okta) identityCenter(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	s := k.session(r)
	k.mu.Unlock()
	if s == nil {
		k.signInPage(w, r, r.URL.Path)
		return
	}
	acs := "https://eu-west-1.signin.aws/platform/saml/acs/" + newUUID()
	o := k.o.SAMLOptions
	o.Destination, o.Audience = acs, "https://eu-west-1.signin.aws/platform/saml/d-9367a1b2c3"
	b64, err := o.response(k.issuer, s.user.Username, s.user.Username, s.id, nil)
	if err != nil {
		http.Error(w, "idptest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	k.issue(b64, nil) // Identity Center: not an AWS federation assertion, not counted
	k.renderOkta(w, http.StatusOK, "okta-sso", map[string]any{
		"Title": "AWS IAM Identity Center", "AppID": k.ssoID, "Action": entityEncode(acs), "SAMLResponse": entityEncode(b64),
	})
}

func (k *Okta) notFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		k.apiError(w, http.StatusNotFound, oktaErr{"E0000007", "Not found: Resource not found: " + r.URL.Path + " (GenericUnqualifiedResource)"})
		return
	}
	k.errorPage(w, http.StatusNotFound, "404 - Page Not Found")
}

// oktaErr is one of Okta's API errors.
type oktaErr struct{ code, summary string }

var (
	errAuthFailed   = oktaErr{"E0000004", "Authentication failed"}
	errInvalidToken = oktaErr{"E0000011", "Invalid token provided"}
	errRateLimit    = oktaErr{"E0000047", "API call exceeded rate limit due to too many requests."}
	errPasscode     = oktaErr{"E0000068", "Invalid Passcode/Answer"}
	errState        = oktaErr{"E0000079", "This operation is not allowed in the current authentication state."}
	errMethod       = oktaErr{"E0000022", "The endpoint does not support the provided HTTP method"}
	errBadRequest   = oktaErr{"E0000003", "The request body was not well-formed."}
)

type oktaErrBody struct {
	ErrorCode    string           `json:"errorCode"`
	ErrorSummary string           `json:"errorSummary"`
	ErrorLink    string           `json:"errorLink"`
	ErrorID      string           `json:"errorId"`
	ErrorCauses  []map[string]any `json:"errorCauses"`
}

func (k *Okta) apiError(w http.ResponseWriter, status int, e oktaErr, causes ...string) {
	b := oktaErrBody{ErrorCode: e.code, ErrorSummary: e.summary, ErrorLink: e.code,
		ErrorID: "oae" + oktaID(22), ErrorCauses: []map[string]any{}}
	for _, c := range causes {
		b.ErrorCauses = append(b.ErrorCauses, map[string]any{"errorSummary": c})
	}
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeTyped(w, status, "application/json", v)
}

func writeTyped(w http.ResponseWriter, status int, ctype string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "idptest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("X-Okta-Request-Id", oktaID(27))
	w.WriteHeader(status)
	w.Write(b)
}

const oktaAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// oktaID makes n characters of an Okta object id.
func oktaID(n int) string {
	t := newToken() + newToken()
	b := make([]byte, n)
	for i := range b {
		b[i] = oktaAlphabet[int(t[i%len(t)])%len(oktaAlphabet)]
	}
	return string(b)
}

// sessionsAPI serves POST /api/v1/sessions {"sessionToken"} (the Sessions
// API saml2aws uses) and GET /api/v1/sessions/me.
func (k *Okta) sessionsAPI(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var s *oktaSession
	switch {
	case r.URL.Path == "/api/v1/sessions/me" && r.Method == http.MethodGet:
		if s = k.session(r); s == nil {
			k.apiError(w, http.StatusNotFound, oktaErr{"E0000007", "Not found: Resource not found: me (Session)"})
			return
		}
	case r.URL.Path == "/api/v1/sessions" && r.Method == http.MethodPost:
		var b struct {
			SessionToken string `json:"sessionToken"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16)).Decode(&b); err != nil {
			k.apiError(w, http.StatusBadRequest, errBadRequest)
			return
		}
		t := k.tokens[b.SessionToken]
		delete(k.tokens, b.SessionToken)
		if t == nil || time.Now().After(t.expires) {
			k.apiError(w, http.StatusUnauthorized, oktaErr{"E0000005", "Invalid session"}, "Session authentication failed")
			return
		}
		s = k.newSession(w, t.user)
	default:
		k.apiError(w, http.StatusMethodNotAllowed, errMethod)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": s.id, "userId": s.user.id, "login": s.user.Username,
		"createdAt": oktaTime(s.expires.Add(-k.o.SessionTTL)), "expiresAt": oktaTime(s.expires),
		"status": "ACTIVE", "lastPasswordVerification": oktaTime(s.expires.Add(-k.o.SessionTTL)),
		"amr": []string{"pwd"}, "idp": map[string]any{"id": k.orgID, "type": "OKTA"}, "mfaActive": len(s.user.factors) > 0,
		"_links": map[string]any{
			"self":    k.link("", "/api/v1/sessions/me", "GET"),
			"refresh": k.link("", "/api/v1/sessions/me/lifecycle/refresh", "POST"),
			"user":    map[string]any{"name": s.user.Username, "href": k.srv.URL + "/api/v1/users/me", "hints": map[string]any{"allow": []string{"GET"}}},
		},
	})
}

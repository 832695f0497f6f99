package idptest

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"
)

// DuoOptions configure [NewDuo].
type DuoOptions struct {
	// Prompt is the prompt generation Duo serves: "v4" (default), the
	// frameless Universal Prompt, or "new", the single-page prompt with
	// data-authkey and /prompt/{akey}/... JSON endpoints.
	Prompt string
	Users  []DuoUser
	// RememberDays > 0 lets users trust the browser (the admin's
	// "remember devices" policy): a login that answers the trust question
	// yes gets a duo_trust cookie and later logins of that user skip the
	// prompt for that many days.
	RememberDays int
	// PushTimeout is how many polls a push or call with outcome "timeout"
	// answers pending before Duo says it timed out; default 2, negative 0.
	PushTimeout int
}

// DuoUser is one Duo account, known by the username the IdP passes.
type DuoUser struct {
	Username string
	// Devices in the order the prompt lists them; the first is the default
	// unless Preferred names another.
	Devices []DuoDevice
	// Passcode is the one passcode Duo accepts ("" = passcodes refused);
	// a user with a Passcode is offered the passcode factor.
	Passcode string
	// Preferred is the factor Duo offers first: "push", "call",
	// "passcode" or "webauthn"; default the first device's first.
	Preferred string
}

// DuoDevice is a phone or security key.
type DuoDevice struct {
	Name   string // "iOS", "Android", "Landline", "YubiKey"
	Number string // last digits of the phone number, "1234"
	// Push is the push outcome: "" (no Duo Mobile on it), "approve",
	// "deny" or "timeout".
	Push string
	// Verified makes pushes Verified Push: Duo shows a code that the user
	// must type on the phone; the push is approved only after a poll
	// answer showed the code.
	Verified bool
	// Call is the phone-call outcome: "" (cannot be called), "approve",
	// "deny" or "timeout".
	Call string
	// After is how many polls answer pending before the outcome; default 0.
	After int
	// SecurityKey makes it a WebAuthn key (no push, no call).
	SecurityKey bool
}

// DuoStats counts what clients did.
type DuoStats struct {
	Authorizes  int // hand-offs received at /oauth/v1/authorize
	Prompts     int // prompts served (login-form or the authkey page)
	Pushes      int // pushes sent
	Calls       int // calls placed
	Passcodes   int // passcodes checked
	BadCodes    int // wrong passcodes
	Polls       int // status polls
	Exits       int // duo_code handed back
	Remembered  int // hand-offs answered at once from a duo_trust cookie
	Trusted     int // duo_trust cookies set
	Exchanges   int // duo_codes redeemed by an IdP
	VerifyShown int // Verified Push codes shown
}

// Duo is a running Duo emulator. IdP emulators send the browser to
// [Duo.AuthorizeURL] and redeem the duo_code that comes back with
// [Duo.Exchange], as real IdPs do at Duo's token endpoint.
type Duo struct {
	o    DuoOptions
	srv  *httptest.Server
	akey string

	record[DuoStats]
	users  map[string]*DuoUser
	sess   map[string]*duoSess // by sid (v4) or authkey (new prompt)
	codes  map[string]*duoCode
	trusts map[string]duoTrust
}

type duoSess struct {
	id, xsrf, redirect, state string
	user                      *DuoUser
	plugin, init, ok          bool
	txs                       map[string]*duoTx
}

type duoTx struct {
	kind    string // push, call, passcode
	dev     *DuoDevice
	polls   int
	shown   bool
	code    string // Verified Push code
	outcome string // for passcodes: allow or deny
}

type duoCode struct {
	user, state string
	expires     time.Time
}

type duoTrust struct {
	user    string
	expires time.Time
}

const duoTrustCookie = "duo_trust"

// NewDuo validates o and starts the emulator on 127.0.0.1.
func NewDuo(o DuoOptions) (*Duo, error) {
	switch o.Prompt {
	case "":
		o.Prompt = "v4"
	case "v4", "new":
	default:
		return nil, fmt.Errorf("idptest: unknown duo prompt %q: use v4 or new", o.Prompt)
	}
	switch {
	case o.PushTimeout == 0:
		o.PushTimeout = 2
	case o.PushTimeout < 0:
		o.PushTimeout = 0
	}
	d := &Duo{akey: "DI" + strings.ToUpper(oktaID(18)), users: map[string]*DuoUser{}, sess: map[string]*duoSess{},
		codes: map[string]*duoCode{}, trusts: map[string]duoTrust{}}
	if err := checkUsers("duo user", usernames(o.Users, func(u *DuoUser) string { return u.Username }), true); err != nil {
		return nil, err
	}
	for i := range o.Users {
		u := o.Users[i]
		u.Devices = append([]DuoDevice(nil), u.Devices...)
		for j, dev := range u.Devices {
			for _, v := range []string{dev.Push, dev.Call} {
				switch v {
				case "", "approve", "deny", "timeout":
				default:
					return nil, fmt.Errorf("idptest: duo user %q device %d: unknown outcome %q: use approve, deny or timeout", u.Username, j, v)
				}
			}
		}
		d.users[strings.ToLower(u.Username)] = &u
	}
	o.Users = nil
	d.o = o
	d.srv = httptest.NewServer(d)
	return d, nil
}

// URL is Duo's API host, http://127.0.0.1:N.
func (d *Duo) URL() string { return d.srv.URL }

// Close shuts the server down.
func (d *Duo) Close() { d.srv.Close() }

// Secrets returns every sid, _xsrf, txid, authkey, duo_code and trust
// cookie handed out so far, for leak checks.
func (d *Duo) Secrets() []string { return d.keptValues() }

// AuthorizeURL is where an IdP sends the browser for user's second factor;
// Duo comes back to redirectURI with duo_code and state.
func (d *Duo) AuthorizeURL(user, redirectURI, state string) string {
	q := url.Values{"response_type": {"code"}, "client_id": {d.akey}, "redirect_uri": {redirectURI},
		"state": {state}, "duo_uname": {user}, "scope": {"openid"}}
	return d.srv.URL + "/oauth/v1/authorize?" + q.Encode()
}

// Exchange redeems a duo_code once, as an IdP does at Duo's token
// endpoint: it returns the user it was issued to and its state.
func (d *Duo) Exchange(code string) (user, state string, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.codes[code]
	delete(d.codes, code)
	if c == nil || time.Now().After(c.expires) {
		return "", "", false
	}
	d.stats.Exchanges++
	return c.user, c.state, true
}

// ForgetTrust drops every remembered browser, as when the admin resets them.
func (d *Duo) ForgetTrust() {
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.trusts)
}

// ServeHTTP routes Duo's endpoints.
func (d *Duo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d.refuse(w) {
		return
	}
	p := r.URL.Path
	newPrefix := "/prompt/" + d.akey + "/"
	switch {
	case p == "/oauth/v1/authorize":
		d.authorize(w, r)
	case p == "/frame/frameless/v4/auth":
		d.frameless(w, r)
	case p == "/frame/v4/auth/prompt":
		d.loginForm(w, r)
	case p == "/frame/v4/prompt" || p == "/frame/v4/status" || p == "/frame/v4/oidc/exit":
		d.frameAPI(w, r, strings.TrimPrefix(p, "/frame/v4/"))
	case strings.HasPrefix(p, newPrefix):
		d.newAPI(w, r, strings.TrimPrefix(p, newPrefix))
	default:
		d.errorPage(w, http.StatusNotFound, "Page not found.")
	}
}

var duoPage = template.Must(template.New("duo").Parse(`<!DOCTYPE html>
<html><head><title>{{.Title}}</title></head><body>
{{if .Error}}<div id="error-view"><p class="error-message">{{.Error}}</p></div>{{end}}
{{if .Plugin}}<form id="plugin_form" method="post" action="{{.Plugin}}">
<input type="hidden" name="tx" value="{{.Tx}}"><input type="hidden" name="parent" value="None">
<input type="hidden" name="_xsrf" value="{{.Xsrf}}"><input type="hidden" name="java_version" value="">
<input type="hidden" name="screen_resolution_width" value=""><input type="hidden" name="screen_resolution_height" value="">
<input type="hidden" name="color_depth" value=""><input type="hidden" name="react_support" value="">
</form><script>window.onload = function () { document.getElementById('plugin_form').submit(); };</script>{{end}}
{{if .Login}}<div class="prompt"><h1>Choose an authentication method</h1>
<form id="login-form" method="post" action="/frame/v4/prompt">
<input type="hidden" name="sid" value="{{.Sid}}"><input type="hidden" name="_xsrf" value="{{.Xsrf}}">
<input type="hidden" name="preferred_factor" value="{{.PrefFactor}}"><input type="hidden" name="preferred_device" value="{{.PrefDevice}}">
{{if .Trust}}<input type="hidden" name="dampen_choice" value="true">{{end}}
<select name="device">{{range .Devices}}<option value="{{.Key}}"{{if .WebAuthn}} name="webauthn"{{end}} data-factors="{{.Factors}}">{{.Label}}</option>{{end}}</select>
<input type="hidden" name="factor" value=""><input type="hidden" name="passcode" value="">
</form></div>{{end}}
{{if .AuthKey}}<div id="root" data-akey="{{.Akey}}" data-authkey="{{.AuthKey}}" data-req-trace-group="{{.Trace}}"></div>
<script src="/prompt/static/main.js"></script>{{end}}
</body></html>`))

type duoView struct {
	Title, Error, Plugin, Tx, Xsrf, Sid, PrefFactor, PrefDevice, Akey, AuthKey, Trace string
	Login, Trust                                                                      bool
	Devices                                                                           []duoDevView
}

type duoDevView struct {
	Key, Label, Factors string
	WebAuthn            bool
}

func (d *Duo) render(w http.ResponseWriter, status int, v duoView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	duoPage.Execute(w, v)
}

func (d *Duo) errorPage(w http.ResponseWriter, status int, msg string) {
	d.render(w, status, duoView{Title: "Duo Security", Error: msg})
}

// authorize starts a Duo login for the user the IdP names, or answers at
// once when the browser is trusted.
func (d *Duo) authorize(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	q := r.Form
	redirect, state := q.Get("redirect_uri"), q.Get("state")
	if q.Get("client_id") != d.akey || redirect == "" || state == "" {
		d.errorPage(w, http.StatusBadRequest, "Invalid request: the client_id, redirect_uri or state is missing or wrong.")
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stats.Authorizes++
	u := d.users[strings.ToLower(q.Get("duo_uname"))]
	if u == nil {
		d.errorPage(w, http.StatusOK, "Your account is not enrolled in Duo. Contact your help desk.")
		return
	}
	if c, err := r.Cookie(duoTrustCookie); err == nil {
		if t, ok := d.trusts[c.Value]; ok && strings.EqualFold(t.user, u.Username) && time.Now().Before(t.expires) {
			d.stats.Remembered++
			http.Redirect(w, r, d.exitURL(&duoSess{user: u, redirect: redirect, state: state}), http.StatusFound)
			return
		}
	}
	s := &duoSess{user: u, redirect: redirect, state: state, xsrf: d.secret("xs"), txs: map[string]*duoTx{}}
	if d.o.Prompt == "new" {
		s.id = d.secret("ak")
		d.sess[s.id] = s
		http.Redirect(w, r, "/prompt/"+d.akey+"/login?"+url.Values{"authkey": {s.id}}.Encode(), http.StatusFound)
		return
	}
	s.id = d.secret("frameless-")
	d.sess[s.id] = s
	http.Redirect(w, r, "/frame/frameless/v4/auth?"+url.Values{"sid": {s.id}, "tx": {"TX|" + newToken()}}.Encode(), http.StatusFound)
}

// exitURL issues a duo_code for s's user. Called with d.mu held.
func (d *Duo) exitURL(s *duoSess) string {
	code := d.secret("dc")
	d.codes[code] = &duoCode{user: s.user.Username, state: s.state, expires: time.Now().Add(5 * time.Minute)}
	d.stats.Exits++
	u, err := url.Parse(s.redirect)
	if err != nil {
		return s.redirect
	}
	q := u.Query()
	q.Set("duo_code", code)
	q.Set("state", s.state)
	u.RawQuery = q.Encode()
	return u.String()
}

// trust sets the remember cookie when the admin allows it. Called with d.mu held.
func (d *Duo) trust(w http.ResponseWriter, s *duoSess) {
	if d.o.RememberDays <= 0 {
		return
	}
	v := d.secret("tr")
	exp := time.Now().AddDate(0, 0, d.o.RememberDays)
	d.trusts[v] = duoTrust{user: s.user.Username, expires: exp}
	d.stats.Trusted++
	http.SetCookie(w, &http.Cookie{Name: duoTrustCookie, Value: v, Path: "/", Expires: exp, HttpOnly: true})
}

// frameless serves the plugin form (GET) and takes it (POST).
func (d *Duo) frameless(w http.ResponseWriter, r *http.Request) {
	sid := r.URL.Query().Get("sid")
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.sess[sid]
	if s == nil {
		d.errorPage(w, http.StatusOK, "Your session has expired. Please log in again.")
		return
	}
	if r.Method == http.MethodGet {
		d.render(w, http.StatusOK, duoView{Title: "Duo Security", Plugin: r.URL.String(), Tx: r.URL.Query().Get("tx"), Xsrf: s.xsrf})
		return
	}
	r.ParseForm()
	if r.PostForm.Get("_xsrf") != s.xsrf || r.PostForm.Get("tx") == "" {
		d.errorPage(w, http.StatusForbidden, "Invalid request.")
		return
	}
	s.plugin = true
	http.Redirect(w, r, "/frame/v4/auth/prompt?"+url.Values{"sid": {sid}}.Encode(), http.StatusFound)
}

// loginForm serves the v4 prompt page.
func (d *Duo) loginForm(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.sess[r.URL.Query().Get("sid")]
	if s == nil || !s.plugin {
		d.errorPage(w, http.StatusOK, "Your session has expired. Please log in again.")
		return
	}
	d.stats.Prompts++
	v := duoView{Title: "Duo Security", Login: true, Sid: s.id, Xsrf: s.xsrf, Trust: d.o.RememberDays > 0}
	names := map[string]string{"push": "Duo Push", "call": "Phone Call", "passcode": "Passcode", "webauthn": "WebAuthn Credential"}
	pref, prefDev := d.preferred(s.user)
	v.PrefFactor = names[pref]
	for i, dev := range s.user.Devices {
		var fs []string
		for _, m := range duoMethods(s.user, &dev) {
			fs = append(fs, names[m])
		}
		key := fmt.Sprintf("phone%d", i+1)
		if dev.SecurityKey {
			key = "webauthn"
		}
		if i == prefDev {
			v.PrefDevice = key
		}
		v.Devices = append(v.Devices, duoDevView{Key: key, Label: duoLabel(&dev), Factors: strings.Join(fs, "|"), WebAuthn: dev.SecurityKey})
	}
	if s.user.Passcode != "" && !strings.Contains(fmt.Sprint(v.Devices), "Passcode") {
		v.Devices = append(v.Devices, duoDevView{Key: "token", Label: "Hardware token", Factors: "Passcode"})
	}
	d.render(w, http.StatusOK, v)
}

func duoLabel(dev *DuoDevice) string {
	if dev.Number == "" {
		return dev.Name
	}
	return fmt.Sprintf("%s (XXX-XXX-%s)", dev.Name, dev.Number)
}

// duoMethods lists what a device can do for u.
func duoMethods(u *DuoUser, dev *DuoDevice) []string {
	if dev.SecurityKey {
		return []string{"webauthn"}
	}
	var ms []string
	if dev.Push != "" {
		ms = append(ms, "push")
	}
	if dev.Call != "" {
		ms = append(ms, "call")
	}
	if u.Passcode != "" {
		ms = append(ms, "passcode")
	}
	return ms
}

// preferred is the factor Duo offers first and the index of its device.
func (d *Duo) preferred(u *DuoUser) (string, int) {
	for i, dev := range u.Devices {
		for _, m := range duoMethods(u, &dev) {
			if u.Preferred == "" || u.Preferred == m {
				return m, i
			}
		}
	}
	if u.Passcode != "" {
		return "passcode", -1
	}
	return "", -1
}

// device finds a device by its prompt key (phone1) or pkey. Called with d.mu held.
func deviceByKey(u *DuoUser, key string) *DuoDevice {
	for i := range u.Devices {
		if key == fmt.Sprintf("phone%d", i+1) || key == duoPKey(i) {
			return &u.Devices[i]
		}
	}
	return nil
}

func duoPKey(i int) string { return fmt.Sprintf("DP%018d", i+1) }

// frameAPI serves /frame/v4/prompt, /status and /oidc/exit.
func (d *Duo) frameAPI(w http.ResponseWriter, r *http.Request, what string) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, duoFail("Method not allowed."))
		return
	}
	r.ParseForm()
	f := r.PostForm
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.sess[f.Get("sid")]
	if s == nil || !s.plugin {
		writeJSON(w, http.StatusOK, duoFail("Your session has expired. Please log in again."))
		return
	}
	switch what {
	case "prompt":
		if f.Get("_xsrf") != s.xsrf {
			writeJSON(w, http.StatusOK, duoFail("Invalid request."))
			return
		}
		names := map[string]string{"Duo Push": "push", "Phone Call": "call", "Passcode": "passcode"}
		kind := names[f.Get("factor")]
		tx, msg := d.startTx(s, kind, f.Get("device"), f.Get("passcode"))
		if tx == "" {
			writeJSON(w, http.StatusOK, duoFail(msg))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"stat": "OK", "response": map[string]any{"txid": tx}})
	case "status":
		t := s.txs[f.Get("txid")]
		if t == nil {
			writeJSON(w, http.StatusOK, duoFail("Unknown transaction."))
			return
		}
		code, msg := d.poll(s, t)
		resp := map[string]any{"status_code": code, "status": msg}
		if t.code != "" && code == "pushed" {
			resp["risk_based_factor_selection_data"] = map[string]any{"step_up_code": t.code}
		}
		if code == "allow" {
			resp["result"] = "SUCCESS"
		}
		writeJSON(w, http.StatusOK, map[string]any{"stat": "OK", "response": resp})
	case "oidc/exit":
		if f.Get("_xsrf") != s.xsrf || !s.ok || s.txs[f.Get("txid")] == nil {
			writeJSON(w, http.StatusOK, duoFail("Invalid request."))
			return
		}
		if f.Get("dampen_choice") == "true" {
			d.trust(w, s)
		}
		delete(d.sess, s.id)
		http.Redirect(w, r, d.exitURL(s), http.StatusFound)
	}
}

func duoFail(msg string) map[string]any {
	return map[string]any{"stat": "FAIL", "code": 40002, "message": msg}
}

// startTx sends a push, places a call or checks a passcode. It returns
// the txid, or "" and Duo's message. Called with d.mu held.
func (d *Duo) startTx(s *duoSess, kind, devKey, passcode string) (string, string) {
	t := &duoTx{kind: kind}
	switch kind {
	case "push", "call":
		dev := deviceByKey(s.user, devKey)
		if dev == nil || (kind == "push" && dev.Push == "") || (kind == "call" && dev.Call == "") {
			return "", "This device cannot be used for that method."
		}
		t.dev = dev
		if kind == "push" {
			d.stats.Pushes++
			if dev.Verified {
				t.code = fmt.Sprintf("%06d", rand.IntN(1000000))
			}
		} else {
			d.stats.Calls++
		}
	case "passcode":
		d.stats.Passcodes++
		t.outcome = "allow"
		if s.user.Passcode == "" || passcode != s.user.Passcode {
			d.stats.BadCodes++
			t.outcome = "deny"
		}
	default:
		return "", "Unsupported factor."
	}
	id := d.secret("tx")
	s.txs[id] = t
	return id, ""
}

// poll is one status answer: Duo's status_code and message. Called with d.mu held.
func (d *Duo) poll(s *duoSess, t *duoTx) (string, string) {
	d.stats.Polls++
	if t.kind == "passcode" {
		if t.outcome == "allow" {
			s.ok = true
			return "allow", "Success. Logging you in..."
		}
		return "deny", "Incorrect passcode. Please try again."
	}
	t.polls++
	outcome, pending, msg := t.dev.Push, "pushed", "Pushed a login request to your device..."
	if t.kind == "call" {
		outcome, pending, msg = t.dev.Call, "calling", "Calling your phone..."
	}
	if t.code != "" && !t.shown {
		t.shown = true
		d.stats.VerifyShown++
		return pending, "Enter the code shown in your browser in Duo Mobile."
	}
	if t.polls <= t.dev.After {
		return pending, msg
	}
	switch outcome {
	case "approve":
		s.ok = true
		return "allow", "Success. Logging you in..."
	case "deny":
		if t.kind == "call" {
			return "deny", "The call was not answered or was declined."
		}
		return "deny", "Login request denied."
	}
	if t.polls > t.dev.After+d.o.PushTimeout {
		return "timeout", "Login timed out."
	}
	return pending, msg
}

// newAPI serves the single-page prompt and its JSON endpoints.
func (d *Duo) newAPI(w http.ResponseWriter, r *http.Request, path string) {
	authkey := r.URL.Query().Get("authkey")
	var body map[string]string
	if r.Method == http.MethodPost {
		if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16)).Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, duoFail("Invalid request."))
			return
		}
		authkey = body["authkey"]
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.sess[authkey]
	if s == nil {
		if path == "login" {
			d.errorPage(w, http.StatusOK, "Your session has expired. Please log in again.")
			return
		}
		writeJSON(w, http.StatusOK, duoFail("Your session has expired. Please log in again."))
		return
	}
	ok := func(v any) { writeJSON(w, http.StatusOK, map[string]any{"stat": "OK", "response": v}) }
	switch path {
	case "login":
		d.stats.Prompts++
		d.render(w, http.StatusOK, duoView{Title: "Duo Security", Akey: d.akey, AuthKey: s.id, Trace: newUUID()})
	case "pre_authn/initialization":
		s.init = true
		ok(map[string]any{})
	case "auth/payload":
		if !s.init {
			writeJSON(w, http.StatusBadRequest, duoFail("Pre-authentication was not initialized."))
			return
		}
		ok(d.payload(s.user))
	case "auth/factors/push/auth", "auth/factors/phone_call":
		kind := "push"
		if path == "auth/factors/phone_call" {
			kind = "call"
		}
		id, msg := d.startTx(s, kind, body["pkey"], "")
		if id == "" {
			writeJSON(w, http.StatusOK, duoFail(msg))
			return
		}
		t := s.txs[id]
		if kind == "call" {
			ok(map[string]any{"txid": id})
			return
		}
		resp := map[string]any{"push_txid": id}
		if t.code != "" {
			resp["step_up_code"] = t.code
			t.shown = true
			d.stats.VerifyShown++
		}
		ok(resp)
	case "auth/factors/push/status", "auth/factors/phone_call/poll":
		t := s.txs[r.URL.Query().Get("push_txid")]
		if path == "auth/factors/phone_call/poll" {
			t = s.txs[r.URL.Query().Get("txid")]
		}
		if t == nil {
			writeJSON(w, http.StatusOK, duoFail("Unknown transaction."))
			return
		}
		code, msg := d.poll(s, t)
		result := map[string]string{"allow": "SUCCESS", "deny": "DENY", "timeout": "TIMEOUT"}[code]
		if result == "" {
			result = "WAITING"
		}
		if t.kind == "call" {
			if result == "DENY" {
				result = "FAILURE"
			}
			ok(map[string]any{"result": result, "status": msg})
			return
		}
		ok(map[string]any{"result": map[string]any{"result": result, "status_code": code, "status": msg}})
	case "auth/factors/mobile_otp":
		id, _ := d.startTx(s, "passcode", "", body["mobile_otp"])
		if code, msg := d.poll(s, s.txs[id]); code != "allow" {
			writeJSON(w, http.StatusOK, duoFail(msg))
			return
		}
		ok(map[string]any{})
	case "auth/finalize_auth":
		if !s.ok {
			writeJSON(w, http.StatusOK, duoFail("Authentication has not completed."))
			return
		}
		if r.URL.Query().Get("local_trust_choice") == "trust" {
			d.trust(w, s)
		}
		delete(d.sess, s.id)
		ok(map[string]any{"url": d.exitURL(s)})
	default:
		writeJSON(w, http.StatusNotFound, duoFail("Not found."))
	}
}

// payload is the authkey prompt's list of factors. Called with d.mu held.
func (d *Duo) payload(u *DuoUser) map[string]any {
	var fs []map[string]any
	names := map[string]string{"push": "push", "call": "phone_call", "passcode": "mobile_otp", "webauthn": "webauthn"}
	codeListed := false
	for i, dev := range u.Devices {
		for _, m := range duoMethods(u, &dev) {
			f := map[string]any{"factor_type": names[m]}
			switch m {
			case "push":
				f["device_info"] = map[string]any{"pkey": duoPKey(i), "name": dev.Name, "end_of_number": dev.Number}
			case "call":
				f["phone_info"] = map[string]any{"pkey": duoPKey(i), "name": dev.Name, "end_of_number": dev.Number}
			case "passcode":
				if codeListed {
					continue
				}
				codeListed = true
			}
			fs = append(fs, f)
		}
	}
	if !codeListed && u.Passcode != "" {
		fs = append(fs, map[string]any{"factor_type": "mobile_otp"})
	}
	pref, at := d.preferred(u)
	p := map[string]any{"factor_type": names[pref]}
	if at >= 0 {
		p["pkey"] = duoPKey(at)
	}
	return map[string]any{
		"auth_factors_context": map[string]any{
			"available_unified_auth_factors": map[string]any{"factors": fs},
			"preferred_factor":               p,
		},
		"trust_browser_allowed": d.o.RememberDays > 0,
	}
}

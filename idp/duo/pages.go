package duo

// Everything saml2sts knows about Duo's pages and endpoints is in this
// file: how a hand-off to Duo looks, the two prompt generations (the
// frameless v4 Universal Prompt and the newer authkey prompt), their form
// fields, JSON shapes, status codes and factor names. When Duo changes its
// pages, this is the file to change; duo.go only speaks in methods,
// devices and states.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/PuerkitoBio/goquery"

	"github.com/saml2sts/saml2sts/idp"
)

// Paths of Duo's endpoints.
const (
	pathAuthorize = "/oauth/v1/authorize"      // OIDC authorize: where IdPs send the browser
	pathFrameless = "/frame/frameless/v4/auth" // plugin form, then the prompt
	pathPrompt    = "/frame/v4/prompt"         // start a factor: txid
	pathStatus    = "/frame/v4/status"         // poll a txid
	pathExit      = "/frame/v4/oidc/exit"      // back to the IdP with duo_code and state
	pathNewPrompt = "/prompt/"                 // the authkey prompt: /prompt/{akey}/...
	pathFrame     = "/frame/"                  // any page of the v4 prompt
	fieldCode     = "duo_code"                 // what Duo hands the IdP back
	browserInfo   = `{"touch_supported":false,"platform_authenticator_status":"unavailable","webauthn_supported":false}`
	maxJSON       = 1 << 20 // a status answer is a few hundred bytes
	xsrfField     = "_xsrf"
	sidField      = "sid"
	preferredDev  = "preferred_device"
	preferredFact = "preferred_factor"
)

// Duo's factor names in the v4 prompt, by method.
var frameFactor = map[method]string{push: "Duo Push", call: "Phone Call", passcode: "Passcode", webauthn: "WebAuthn Credential"}

// Duo's factor_type names in the authkey prompt, by method.
var newFactor = map[method]string{push: "push", call: "phone_call", passcode: "mobile_otp", webauthn: "webauthn"}

func methodOf(names map[method]string, s string) (method, bool) {
	for m, n := range names {
		if strings.EqualFold(n, strings.TrimSpace(s)) {
			return m, true
		}
	}
	return "", false
}

// isDuoURL reports whether u is one of Duo's prompt or OIDC endpoints.
func isDuoURL(u *url.URL) bool {
	if u == nil {
		return false
	}
	return strings.HasPrefix(u.Path, pathFrame) || strings.HasPrefix(u.Path, pathNewPrompt) || isAuthorize(u)
}

// duoClientID is the shape of a Duo integration key, the client_id of
// Duo's OIDC authorize endpoint.
var duoClientID = regexp.MustCompile(`^DI[A-Z0-9]{18}$`)

// isAuthorize reports whether u is Duo's OIDC authorize endpoint: the path
// alone is too common, so Duo's host or an integration key must say so.
func isAuthorize(u *url.URL) bool {
	return u.Path == pathAuthorize && (strings.HasSuffix(strings.ToLower(u.Hostname()), ".duosecurity.com") ||
		duoClientID.MatchString(u.Query().Get("client_id")))
}

// handoffForm is a form of an IdP page that posts to Duo (AD FS's
// adfs_form, a Shibboleth or SimpleSAMLphp interstitial), or nil.
func handoffForm(p *idp.Page) *goquery.Selection {
	var f *goquery.Selection
	p.Doc.Find("form").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		u, err := p.URL.Parse(strings.TrimSpace(s.AttrOr("action", "")))
		if err == nil && s.AttrOr("action", "") != "" && (u.Path == pathFrameless || isAuthorize(u)) {
			f = s
		}
		return f == nil
	})
	return f
}

// returnForm is a form that carries duo_code back to the IdP, or nil.
func returnForm(p *idp.Page) *goquery.Selection {
	if in := p.Doc.Find(`input[name="` + fieldCode + `"]`).First(); in.Length() > 0 {
		if f := in.Closest("form"); f.Length() > 0 {
			return f
		}
	}
	return nil
}

// pluginForm is the v4 page that collects browser features before the
// prompt; a browser submits it from JavaScript.
func pluginForm(p *idp.Page) *goquery.Selection {
	if f := p.Doc.Find("form#plugin_form"); f.Length() > 0 {
		return f.First()
	}
	return nil
}

// duoError is the text of a Duo error page (an account locked out, a
// blocked country, an unenrolled user told to enroll), or "".
func duoError(p *idp.Page) string {
	for _, sel := range []string{".error-message", "#error-view", ".message-text", "#error-message", "h1"} {
		if t := idp.Text(p.Doc.Find(sel).First()); t != "" {
			return t
		}
	}
	return ""
}

// device is one of the user's Duo devices (a phone, a token, a security key).
type device struct {
	key     string   // phone1 (v4) or a pkey (authkey prompt)
	name    string   // as the prompt shows it: "iOS (XXX-XXX-1234)"
	methods []method // what it can do
}

func (d device) can(m method) bool {
	for _, x := range d.methods {
		if x == m {
			return true
		}
	}
	return false
}

// state is one answer to a status poll.
type state struct {
	done, ok bool   // finished; approved
	message  string // Duo's own words: "Login request denied."
	verify   string // Verified Push: the code to type on the phone
}

// prompt is a Duo prompt of either generation, opened and ready.
type prompt interface {
	devices() []device
	// preferred is Duo's preferred method and device key ("" unknown).
	preferred() (method, string)
	// start sends the factor; code is the passcode for passcode. It
	// returns the transaction to poll ("" when the answer is already in
	// st, as for the authkey prompt's passcodes).
	start(ctx context.Context, m method, d device, code string) (tx string, st state, err error)
	status(ctx context.Context, m method, tx string) (state, error)
	// finish leaves Duo for the IdP, keeping the browser trusted when the
	// admin allows it, and returns the first page back at the IdP.
	finish(ctx context.Context, m method, tx string) (*idp.Page, error)
}

// open reads a Duo page that is a prompt of either generation; nil when
// page is none. keep registers secrets the prompt carries.
func open(c *http.Client, page *idp.Page, keep func(string)) prompt {
	if root := page.Doc.Find("[data-authkey]").First(); root.Length() > 0 {
		p := &newPrompt{c: c, base: page.URL, akey: root.AttrOr("data-akey", ""), authkey: root.AttrOr("data-authkey", ""),
			trace: root.AttrOr("data-req-trace-group", ""), keep: keep}
		if p.akey == "" {
			// The akey is in the path: /prompt/{akey}/...
			rest := strings.TrimPrefix(page.URL.Path, pathNewPrompt)
			p.akey, _, _ = strings.Cut(rest, "/")
		}
		keep(p.authkey)
		return p
	}
	f := page.Doc.Find("form#login-form").First()
	sid := f.Find(`input[name="`+sidField+`"]`).AttrOr("value", "")
	if f.Length() == 0 || sid == "" || f.Find(`input[name="`+xsrfField+`"]`).Length() == 0 {
		return nil
	}
	form := idp.ParseForm(page, f)
	p := &framePrompt{c: c, base: page.URL, form: form.Values, keep: keep}
	keep(sid)
	keep(form.Values.Get(xsrfField))
	f.Find(`select[name="device"] option`).Each(func(_ int, o *goquery.Selection) {
		d := device{key: o.AttrOr("value", ""), name: idp.Text(o)}
		for _, n := range strings.Split(o.AttrOr("data-factors", ""), "|") {
			if m, ok := methodOf(frameFactor, n); ok {
				d.methods = append(d.methods, m)
			}
		}
		if o.AttrOr("name", "") == "webauthn" && !d.can(webauthn) {
			d.methods = append(d.methods, webauthn)
		}
		if d.key != "" {
			p.devs = append(p.devs, d)
		}
	})
	p.prefM, _ = methodOf(frameFactor, form.Values.Get(preferredFact))
	p.prefD = form.Values.Get(preferredDev)
	return p
}

// framePrompt is the frameless v4 Universal Prompt: a login-form with sid
// and _xsrf, then /frame/v4/prompt, /frame/v4/status, /frame/v4/oidc/exit.
type framePrompt struct {
	c     *http.Client
	base  *url.URL
	form  url.Values // the login-form: sid, _xsrf, preferences, dampen_choice when offered
	devs  []device
	prefM method
	prefD string
	keep  func(string)
}

func (p *framePrompt) devices() []device           { return p.devs }
func (p *framePrompt) preferred() (method, string) { return p.prefM, p.prefD }

// frameAnswer is every v4 JSON answer: stat OK with a response, or FAIL
// with a message.
type frameAnswer struct {
	Stat     string `json:"stat"`
	Message  string `json:"message"`
	Response struct {
		TxID       string `json:"txid"`
		StatusCode string `json:"status_code"`
		Status     string `json:"status"`
		Reason     string `json:"reason"`
		Result     string `json:"result"`
		StepUpCode string `json:"step_up_code"`
		RiskBased  struct {
			StepUpCode string `json:"step_up_code"`
		} `json:"risk_based_factor_selection_data"`
	} `json:"response"`
}

func (p *framePrompt) post(ctx context.Context, path string, v url.Values, out *frameAnswer) error {
	if err := postForm(ctx, p.c, p.base.ResolveReference(&url.URL{Path: path}).String(), v, out); err != nil {
		return err
	}
	if out.Stat != "OK" {
		return &failure{msg: orText(out.Message, "stat "+out.Stat)}
	}
	return nil
}

func (p *framePrompt) start(ctx context.Context, m method, d device, code string) (string, state, error) {
	v := url.Values{sidField: {p.form.Get(sidField)}, "factor": {frameFactor[m]}, "device": {d.key},
		xsrfField: {p.form.Get(xsrfField)}, "postAuthDestination": {"OIDC_EXIT"}}
	if m == passcode {
		v.Set("passcode", code)
		v.Set("device", "None")
	}
	var a frameAnswer
	if err := p.post(ctx, pathPrompt, v, &a); err != nil {
		return "", state{}, err
	}
	if a.Response.TxID == "" {
		return "", state{}, errors.New("Duo started no transaction (no txid)")
	}
	p.keep(a.Response.TxID)
	return a.Response.TxID, state{}, nil
}

func (p *framePrompt) status(ctx context.Context, _ method, tx string) (state, error) {
	var a frameAnswer
	if err := p.post(ctx, pathStatus, url.Values{sidField: {p.form.Get(sidField)}, "txid": {tx}}, &a); err != nil {
		return state{}, err
	}
	return frameState(a), nil
}

// frameState reads a v4 status answer.
func frameState(a frameAnswer) state {
	r := a.Response
	st := state{message: orText(r.Status, r.Reason), verify: orText(r.StepUpCode, r.RiskBased.StepUpCode)}
	switch strings.ToLower(r.StatusCode) {
	case "allow":
		st.done, st.ok = true, true
	case "pushed", "calling", "answered", "sent", "webauthn_sent", "":
	default: // deny, timeout, fraud, locked_out, ...
		st.done = true
		st.message = orText(st.message, r.StatusCode)
	}
	return st
}

func (p *framePrompt) finish(ctx context.Context, m method, tx string) (*idp.Page, error) {
	// dampen_choice=true answers "trust this browser" when the prompt
	// offers it (the admin allows remembered devices); Duo then sets its
	// remember cookie and the next login skips the prompt.
	trust := "false"
	if _, offered := p.form["dampen_choice"]; offered {
		trust = "true"
	}
	v := url.Values{sidField: {p.form.Get(sidField)}, "txid": {tx}, "factor": {frameFactor[m]}, xsrfField: {p.form.Get(xsrfField)},
		"device_key": {""}, "dampen_choice": {trust}}
	return idp.Fetch(ctx, p.c, http.MethodPost, p.base.ResolveReference(&url.URL{Path: pathExit}).String(), v)
}

// newPrompt is Duo's newer single-page prompt: a root element with
// data-akey and data-authkey, driven by /prompt/{akey}/... JSON endpoints.
type newPrompt struct {
	c                    *http.Client
	base                 *url.URL
	akey, authkey, trace string
	keep                 func(string)
	payload              *newPayload
}

// newPayload is /prompt/{akey}/auth/payload's response.
type newPayload struct {
	Context struct {
		Factors struct {
			List []struct {
				Type   string  `json:"factor_type"`
				Device *newDev `json:"device_info"`
				Phone  *newDev `json:"phone_info"`
			} `json:"factors"`
		} `json:"available_unified_auth_factors"`
		Preferred struct {
			Type string `json:"factor_type"`
			PKey string `json:"pkey"`
		} `json:"preferred_factor"`
	} `json:"auth_factors_context"`
	TrustAllowed bool `json:"trust_browser_allowed"`
}

type newDev struct {
	PKey        string `json:"pkey"`
	Name        string `json:"name"`
	EndOfNumber string `json:"end_of_number"`
}

// newAnswer is every JSON answer of the authkey prompt.
type newAnswer struct {
	Stat     string          `json:"stat"`
	Message  string          `json:"message"`
	Response json.RawMessage `json:"response"`
}

func (p *newPrompt) url(path string, q url.Values) string {
	u := p.base.ResolveReference(&url.URL{Path: pathNewPrompt + url.PathEscape(p.akey) + path})
	if q != nil {
		q.Set("authkey", p.authkey)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// call GETs (body nil) or POSTs JSON to path and decodes the response
// member into out.
func (p *newPrompt) call(ctx context.Context, path string, q url.Values, body map[string]string, out any) error {
	var a newAnswer
	var err error
	if body == nil {
		err = doJSON(ctx, p.c, http.MethodGet, p.url(path, q), nil, p.trace, &a)
	} else {
		body["authkey"] = p.authkey
		err = doJSON(ctx, p.c, http.MethodPost, p.url(path, nil), body, p.trace, &a)
	}
	if err != nil {
		return err
	}
	if a.Stat != "OK" {
		return &failure{msg: orText(a.Message, "stat "+a.Stat)}
	}
	if out == nil || len(a.Response) == 0 {
		return nil
	}
	if err := json.Unmarshal(a.Response, out); err != nil {
		return fmt.Errorf("Duo answered %s with unexpected JSON: %w", path, err)
	}
	return nil
}

// load fetches the factors once: pre-authentication first, as Duo's own
// page does (the payload is refused without it).
func (p *newPrompt) load(ctx context.Context) error {
	if p.payload != nil {
		return nil
	}
	if err := p.call(ctx, "/pre_authn/initialization", url.Values{"is_ipad": {"false"}}, nil, nil); err != nil {
		return err
	}
	var pl newPayload
	if err := p.call(ctx, "/auth/payload", url.Values{"browser_features": {browserInfo}}, nil, &pl); err != nil {
		return err
	}
	p.payload = &pl
	return nil
}

func (p *newPrompt) devices() []device {
	if p.payload == nil {
		return nil
	}
	var out []device
	at := map[string]int{}
	for _, f := range p.payload.Context.Factors.List {
		m, ok := methodOf(newFactor, f.Type)
		if !ok {
			continue
		}
		d := f.Device
		if d == nil {
			d = f.Phone
		}
		key, name := "", ""
		switch {
		case d != nil && d.PKey != "":
			key, name = d.PKey, d.Name
			if d.EndOfNumber != "" {
				name = fmt.Sprintf("%s (...%s)", orText(d.Name, "phone"), d.EndOfNumber)
			}
		case m == passcode:
			key, name = "passcode", "passcode"
		case m == webauthn:
			key, name = "webauthn", "security key"
		default:
			continue
		}
		if i, seen := at[key]; seen {
			out[i].methods = append(out[i].methods, m)
			continue
		}
		at[key] = len(out)
		out = append(out, device{key: key, name: name, methods: []method{m}})
	}
	return out
}

func (p *newPrompt) preferred() (method, string) {
	if p.payload == nil {
		return "", ""
	}
	m, _ := methodOf(newFactor, p.payload.Context.Preferred.Type)
	return m, p.payload.Context.Preferred.PKey
}

// newTx is what starting a factor returns.
type newTx struct {
	PushTxID   string `json:"push_txid"`
	TxID       string `json:"txid"`
	StepUpCode string `json:"step_up_code"`
}

func (p *newPrompt) start(ctx context.Context, m method, d device, code string) (string, state, error) {
	var tx newTx
	switch m {
	case passcode:
		// Synchronous: OK means accepted, FAIL carries Duo's message.
		err := p.call(ctx, "/auth/factors/mobile_otp", nil, map[string]string{"mobile_otp": code}, nil)
		var f *failure
		if errors.As(err, &f) {
			return "", state{done: true, message: f.msg}, nil
		}
		return "", state{done: true, ok: err == nil}, err
	case push:
		if err := p.call(ctx, "/auth/factors/push/auth", nil, map[string]string{"pkey": d.key}, &tx); err != nil {
			return "", state{}, err
		}
	case call:
		if err := p.call(ctx, "/auth/factors/phone_call", nil, map[string]string{"pkey": d.key}, &tx); err != nil {
			return "", state{}, err
		}
	default:
		return "", state{}, fmt.Errorf("Duo factor %s cannot be started here", m)
	}
	id := orText(tx.PushTxID, tx.TxID)
	if id == "" {
		return "", state{}, errors.New("Duo started no transaction (no txid)")
	}
	p.keep(id)
	return id, state{verify: tx.StepUpCode}, nil
}

// newStatus is a poll answer: push nests an object under result, a phone
// call answers a bare string.
type newStatus struct {
	Result     json.RawMessage `json:"result"`
	StatusCode string          `json:"status_code"`
	Status     string          `json:"status"`
	StepUpCode string          `json:"step_up_code"`
}

func (p *newPrompt) status(ctx context.Context, m method, tx string) (state, error) {
	var s newStatus
	var err error
	if m == call {
		err = p.call(ctx, "/auth/factors/phone_call/poll", url.Values{"txid": {tx}}, nil, &s)
	} else {
		err = p.call(ctx, "/auth/factors/push/status", url.Values{"push_txid": {tx}, "saw_good_news": {"false"}}, nil, &s)
	}
	if err != nil {
		return state{}, err
	}
	return newState(s), nil
}

// newState reads a poll answer of the authkey prompt.
func newState(s newStatus) state {
	result, msg := s.StatusCode, s.Status
	var inner newStatus
	var bare string
	switch {
	case json.Unmarshal(s.Result, &bare) == nil:
		result = orText(bare, result)
	case json.Unmarshal(s.Result, &inner) == nil:
		var r string
		_ = json.Unmarshal(inner.Result, &r)
		result, msg = orText(r, orText(inner.StatusCode, result)), orText(inner.Status, msg)
		s.StepUpCode = orText(inner.StepUpCode, s.StepUpCode)
	}
	st := state{message: msg, verify: s.StepUpCode}
	switch strings.ToUpper(result) {
	case "SUCCESS", "ALLOW":
		st.done, st.ok = true, true
	case "FAILURE", "DENY", "FRAUD", "ERROR", "TIMEOUT":
		st.done = true
		st.message = orText(msg, strings.ToLower(result))
	}
	return st
}

func (p *newPrompt) finish(ctx context.Context, _ method, _ string) (*idp.Page, error) {
	q := url.Values{}
	if p.payload != nil && p.payload.TrustAllowed {
		q.Set("local_trust_choice", "trust")
	}
	var r struct {
		URL string `json:"url"`
	}
	if err := p.call(ctx, "/auth/finalize_auth", q, nil, &r); err != nil {
		return nil, err
	}
	if r.URL == "" {
		return nil, errors.New("Duo gave no url back to the identity provider")
	}
	u, err := p.base.Parse(r.URL)
	if err != nil {
		return nil, errors.New("Duo gave an unreadable url back to the identity provider")
	}
	p.keep(u.Query().Get(fieldCode))
	return idp.Fetch(ctx, p.c, http.MethodGet, u.String(), nil)
}

// failure is Duo answering stat FAIL: its message is Duo's own.
type failure struct{ msg string }

func (f *failure) Error() string { return "Duo says " + fmt.Sprintf("%q", f.msg) }

// postForm posts v form-encoded as Duo's page does (XHR) and decodes JSON.
func postForm(ctx context.Context, c *http.Client, u string, v url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(v.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	return send(c, req, "", out)
}

// doJSON sends body (nil: none) as JSON with the prompt's trace header.
func doJSON(ctx context.Context, c *http.Client, method, u string, body any, trace string, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return send(c, req, trace, out)
}

func send(c *http.Client, req *http.Request, trace string, out any) error {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	if trace != "" {
		req.Header.Set("X-Duo-Req-Trace-Group", trace)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err // the client's errors carry redacted URLs
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJSON))
	if err != nil {
		return fmt.Errorf("read Duo's answer from %s: %w", req.URL.Path, err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("Duo answered %s with HTTP %d", req.URL.Path, resp.StatusCode)
		}
		return fmt.Errorf("Duo answered %s with something other than JSON", req.URL.Path)
	}
	return nil
}

func orText(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

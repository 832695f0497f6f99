package okta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/idptest"
)

const (
	pw        = "hunter2-Secret!"
	appPath   = "/home/amazon_aws/0oa1awsapp0001/272"
	samlValue = "PHNhbWxwOlJlc3BvbnNlIHhtbG5zOnNhbWxwPSJ1cm46b2FzaXM6bmFtZXM6dGM6U0FNTDoyLjA6cHJvdG9jb2wiLz4="
	stateTok  = "007ucIX7PATyn94hsHfOLVaXAmOBkKHWnOOLG43bsb"
	sessTok   = "00t6IUQiVbWpMLgtmwSjMFzqykb5QcaBNtveiWlGeM"
	stepTok   = "00quAZYqYjXg9DZhS5UzE1wrJuQ6KKb_kzOeH7OGB5"
	handle    = "02.id.stateHandleXYZ"
)

// secrets are the values that must never be shown.
// stepTokPage is the stateToken of testdata/stepup.html, unescaped.
const stepTokPage = "00quAZYqYjXg9DZhS5UzE1wrJuQ6KKb-kzOeH7OGB5"

var secrets = []string{pw, stateTok, sessTok, stepTok, handle, stepTokPage, samlValue}

// step is one request the fake Okta expects, in order, and its answer.
type step struct {
	method, path string
	check        func(t *testing.T, r *http.Request, body map[string]any)
	status       int
	header       map[string]string
	file         string // testdata file; {{BASE}} becomes the server URL
}

// fake is an Okta org that answers a scripted conversation: a request out
// of order fails the test, so every test also asserts the exact flow.
type fake struct {
	t     *testing.T
	srv   *httptest.Server
	mu    sync.Mutex
	steps []step
	n     int
}

func newFake(t *testing.T, steps ...step) *fake {
	f := &fake{t: t, steps: steps}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n >= len(f.steps) {
		f.t.Errorf("unexpected request %d: %s %s", f.n+1, r.Method, r.URL.Path)
		http.Error(w, "unexpected", http.StatusTeapot)
		return
	}
	s := f.steps[f.n]
	f.n++
	if r.Method != s.method || r.URL.Path != s.path {
		f.t.Errorf("request %d: got %s %s, want %s %s", f.n, r.Method, r.URL.Path, s.method, s.path)
	}
	var body map[string]any
	if b, _ := io.ReadAll(r.Body); len(b) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			f.t.Errorf("request %d: body is not JSON: %v", f.n, err)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/ion+json") {
			f.t.Errorf("request %d: Content-Type %q", f.n, ct)
		}
	}
	if s.check != nil {
		s.check(f.t, r, body)
	}
	for k, v := range s.header {
		w.Header().Set(k, v)
	}
	if strings.HasSuffix(s.file, ".html") {
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	if s.status == 0 {
		s.status = http.StatusOK
	}
	var out []byte
	if s.file != "" {
		b, err := os.ReadFile("testdata/" + s.file)
		if err != nil {
			f.t.Fatal(err)
		}
		out = bytes.ReplaceAll(b, []byte("{{BASE}}"), []byte(f.srv.URL))
	}
	w.WriteHeader(s.status)
	w.Write(out)
}

// served is how many requests the fake has answered.
func (f *fake) served() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func (f *fake) done() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n != len(f.steps) {
		f.t.Errorf("made %d of the %d expected requests", f.n, len(f.steps))
	}
}

// prompter answers from a script; with nothing scripted it is "no terminal".
type prompter struct {
	codes   []string
	choices []int
	asked   []string
	noTTY   bool
}

func (p *prompter) Secret(_ context.Context, label string) (string, error) {
	p.asked = append(p.asked, "secret:"+label)
	return "", idp.ErrNoTerminal
}

func (p *prompter) Code(_ context.Context, label string) (string, error) {
	p.asked = append(p.asked, "code:"+label)
	if p.noTTY || len(p.codes) == 0 {
		return "", idp.ErrNoTerminal
	}
	c := p.codes[0]
	p.codes = p.codes[1:]
	return c, nil
}

func (p *prompter) Choose(_ context.Context, label string, opts []string) (int, error) {
	p.asked = append(p.asked, "choose:"+label+":"+strings.Join(opts, "|"))
	if p.noTTY || len(p.choices) == 0 {
		return 0, idp.ErrNoTerminal
	}
	c := p.choices[0]
	p.choices = p.choices[1:]
	return c, nil
}

type env struct {
	f       *fake
	req     *idp.Request
	prompt  *prompter
	notice  *bytes.Buffer
	pwCalls int
	prov    *Provider
}

func newEnv(t *testing.T, steps ...step) *env {
	e := &env{f: newFake(t, steps...), prompt: &prompter{}, notice: &bytes.Buffer{}}
	jar, _ := cookiejar.New(nil)
	e.req = &idp.Request{
		URL:      e.f.srv.URL + appPath,
		Username: "dade.murphy@example.com",
		Password: func(context.Context) (string, error) { e.pwCalls++; return pw, nil },
		MFA:      "auto",
		Prompt:   e.prompt,
		Client:   idp.NewClient(nil, jar),
		Notice:   e.notice,
		Clock:    &idptest.Clock{},
	}
	e.prov = &Provider{pollEvery: time.Millisecond, pushWait: time.Minute, maxRateWait: 3 * time.Second,
		interactive: func(p idp.Prompter) bool { return !e.prompt.noTTY }}
	return e
}

// withSession puts a (stored) Okta session cookie in the jar.
func (e *env) withSession(t *testing.T) {
	u, _ := url.Parse(e.f.srv.URL)
	e.req.Client.Jar.SetCookies(u, []*http.Cookie{{Name: "sid", Value: "102stored-session", Path: "/"}})
}

func (e *env) login(t *testing.T) (string, error) {
	t.Helper()
	saml, err := e.prov.Login(context.Background(), e.req)
	e.f.done()
	if err != nil {
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error leaks a secret %q: %v", s, err)
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(e.notice.String(), s) {
			t.Errorf("notices leak a secret %q: %s", s, e.notice)
		}
	}
	if e.pwCalls > 1 {
		t.Errorf("password asked %d times", e.pwCalls)
	}
	return saml, err
}

// Conversation pieces.
var (
	appNoSession = step{method: "GET", path: appPath, file: "signin-classic.html"}
	appSAML      = step{method: "GET", path: appPath, file: "saml.html"}
	orgV1        = step{method: "GET", path: "/.well-known/okta-organization", file: "org-v1.json"}
	orgIDX       = step{method: "GET", path: "/.well-known/okta-organization", file: "org-idx.json"}
)

func authn(file string) step {
	return step{method: "POST", path: "/api/v1/authn", file: file, check: func(t *testing.T, _ *http.Request, b map[string]any) {
		if b["username"] != "dade.murphy@example.com" || b["password"] != pw {
			t.Errorf("authn body: username %v, password sent %v", b["username"], b["password"] == pw)
		}
		if o, _ := b["options"].(map[string]any); o["warnBeforePasswordExpired"] != true {
			t.Errorf("authn options %v: want warnBeforePasswordExpired", b["options"])
		}
	}}
}

func withStatus(s step, status int) step {
	s.status = status
	return s
}

func verify(id, file string, status int, passCode any) step {
	return step{method: "POST", path: "/api/v1/authn/factors/" + id + "/verify", file: file, status: status,
		check: func(t *testing.T, _ *http.Request, b map[string]any) {
			if b["stateToken"] != stateTok && b["stateToken"] != stepTok {
				t.Errorf("verify %s: stateToken %v", id, b["stateToken"])
			}
			if b["passCode"] != passCode {
				t.Errorf("verify %s: passCode %v, want %v", id, b["passCode"], passCode)
			}
		}}
}

// redirect is the session cookie redirect, answered with the SAML page.
func redirect(t *testing.T) step {
	return step{method: "GET", path: "/login/sessionCookieRedirect", file: "saml.html", check: func(t *testing.T, r *http.Request, _ map[string]any) {
		q := r.URL.Query()
		if q.Get("token") != sessTok || !strings.HasSuffix(q.Get("redirectUrl"), appPath) {
			t.Errorf("sessionCookieRedirect query: token ok %v, redirectUrl %q", q.Get("token") == sessTok, q.Get("redirectUrl"))
		}
	}}
}

const (
	pushID  = "opf3hkfocI4JTLAju0g4"
	totpID  = "ostfm3hPNYSOIOIVTQWY"
	gaID    = "uftm3iHSGFQXHCUSDAND"
	smsID   = "sms193zUBEROPBNZKPPE"
	callID  = "clf193zUBEROPBNZKPPE"
	emailID = "emfnf3gSScB8xXoXK0g3"
	ykID    = "ykf2l0aUIe5VBplDj0g4"
)

func TestSilentRefresh(t *testing.T) {
	e := newEnv(t, appSAML)
	saml, err := e.login(t)
	if err != nil || saml != samlValue {
		t.Fatalf("got %q, %v", saml, err)
	}
	if e.pwCalls != 0 || len(e.prompt.asked) != 0 {
		t.Errorf("a live session must ask nothing: password %d, prompts %v", e.pwCalls, e.prompt.asked)
	}
}

func TestSSOURLForm(t *testing.T) {
	e := newEnv(t, step{method: "GET", path: "/app/amazon_aws/exk1awsapp0001/sso/saml", file: "saml.html"})
	e.req.URL = e.f.srv.URL + "/app/amazon_aws/exk1awsapp0001/sso/saml"
	if saml, err := e.login(t); err != nil || saml != samlValue {
		t.Fatalf("got %q, %v", saml, err)
	}
}

func TestClassicFactors(t *testing.T) {
	tests := []struct {
		name    string
		mfa     string
		mfaCode string
		codes   []string
		choices []int
		steps   []step
		notice  []string
		asked   int // prompts expected
	}{
		{name: "no mfa", steps: []step{authn("authn-success.json")}},
		{
			name: "push with number challenge", mfa: "push",
			steps: []step{authn("authn-mfa-required.json"),
				verify(pushID, "push-waiting.json", 200, nil),
				verify(pushID, "push-waiting-challenge.json", 200, nil),
				verify(pushID, "push-waiting-challenge.json", 200, nil),
				verify(pushID, "authn-success.json", 200, nil)},
			notice: []string{"push sent to Gibson", "tap 92 on your phone"},
		},
		{
			name: "okta verify totp from --mfa-code", mfa: "auto", mfaCode: "123 456",
			steps: []step{authn("authn-mfa-required.json"), verify(totpID, "authn-success.json", 200, "123456")},
		},
		{
			name: "google totp by provider name", mfa: "google", codes: []string{"654321"}, asked: 1,
			steps: []step{authn("authn-mfa-required.json"), verify(gaID, "authn-success.json", 200, "654321")},
		},
		{
			name: "totp picks between Okta Verify and Google", mfa: "totp", codes: []string{"654321"}, choices: []int{1}, asked: 2,
			steps: []step{authn("authn-mfa-required.json"), verify(gaID, "authn-success.json", 200, "654321")},
		},
		{
			name: "picker on a terminal", codes: []string{"777777"}, choices: []int{6}, asked: 2,
			steps: []step{authn("authn-mfa-required.json"), verify(ykID, "authn-success.json", 200, "777777")},
		},
		{
			name: "auto without a terminal pushes", mfa: "auto", asked: 1,
			steps: []step{authn("authn-mfa-required.json"), verify(pushID, "authn-success.json", 200, nil)},
		},
		{
			name: "wrong totp is asked again", mfa: "totp", choices: []int{0}, codes: []string{"111111", "222222"}, asked: 3,
			steps: []step{authn("authn-mfa-required.json"),
				verify(totpID, "e0000068.json", 403, "111111"),
				verify(totpID, "authn-success.json", 200, "222222")},
			notice: []string{"Your passcode doesn't match our records"},
		},
		{
			name: "sms sends, resends, verifies", mfa: "sms", codes: []string{"", "424242"}, asked: 2,
			steps: []step{authn("authn-mfa-required.json"),
				verify(smsID, "sms-challenge.json", 200, nil),
				{method: "POST", path: "/api/v1/authn/factors/" + smsID + "/verify/resend", file: "sms-challenge.json"},
				verify(smsID, "authn-success.json", 200, "424242")},
			notice: []string{"SMS code to +1 XXX-XXX-1337", "sent the code again"},
		},
		{
			name: "call", mfa: "call", codes: []string{"515151"}, asked: 1,
			steps: []step{authn("authn-mfa-required.json"),
				verify(callID, "sms-challenge.json", 200, nil),
				verify(smsID, "authn-success.json", 200, "515151")}, // next link of the fixture
		},
		{
			name: "email", mfa: "email", codes: []string{"616161"}, asked: 1,
			steps: []step{authn("authn-mfa-required.json"),
				verify(emailID, "sms-challenge.json", 200, nil),
				verify(smsID, "authn-success.json", 200, "616161")},
		},
		{
			name: "yubikey", mfa: "yubikey", codes: []string{"cccccckdvvulethkhtvkrtbeukiettlkcvhkgcnlfhjb"}, asked: 1,
			steps: []step{authn("authn-mfa-required.json"), verify(ykID, "authn-success.json", 200, "cccccckdvvulethkhtvkrtbeukiettlkcvhkgcnlfhjb")},
		},
		{
			name: "password warning is skipped with a notice",
			steps: []step{authn("password-warn.json"),
				{method: "POST", path: "/api/v1/authn/skip", file: "authn-success.json", check: func(t *testing.T, _ *http.Request, b map[string]any) {
					if b["stateToken"] != stateTok || b["password"] != nil {
						t.Errorf("skip body %v", b)
					}
				}}},
			notice: []string{"password expires in 5 days"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			steps := append([]step{appNoSession, orgV1}, tc.steps...)
			steps = append(steps, redirect(t))
			e := newEnv(t, steps...)
			e.req.MFA, e.req.MFACode = tc.mfa, tc.mfaCode
			e.prompt.codes, e.prompt.choices = tc.codes, tc.choices
			saml, err := e.login(t)
			if err != nil || saml != samlValue {
				t.Fatalf("got %q, %v", saml, err)
			}
			for _, n := range tc.notice {
				if !strings.Contains(e.notice.String(), n) {
					t.Errorf("notices %q lack %q", e.notice, n)
				}
			}
			if len(e.prompt.asked) != tc.asked {
				t.Errorf("prompts %q, want %d", e.prompt.asked, tc.asked)
			}
			if e.pwCalls != 1 {
				t.Errorf("password asked %d times, want 1", e.pwCalls)
			}
		})
	}
}

func TestPushNumberShownOnce(t *testing.T) {
	e := newEnv(t, appNoSession, orgV1, authn("authn-mfa-required.json"),
		verify(pushID, "push-waiting-challenge.json", 200, nil),
		verify(pushID, "push-waiting-challenge.json", 200, nil),
		verify(pushID, "authn-success.json", 200, nil), redirect(t))
	e.req.MFA = "push"
	if _, err := e.login(t); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(e.notice.String(), "tap 92"); n != 1 {
		t.Errorf("number challenge shown %d times: %s", n, e.notice)
	}
}

func TestClassicFailures(t *testing.T) {
	type want struct {
		auth, unsupported, noTTY bool
		text                     []string
	}
	tests := []struct {
		name    string
		mfa     string
		mfaCode string
		codes   []string
		noTTY   bool
		steps   []step
		want    want
	}{
		{
			name:  "bad password is Okta's summary, posted once",
			steps: []step{withStatus(authn("e0000004.json"), 401)},
			want:  want{auth: true, text: []string{"identity provider rejected the login: Authentication failed"}},
		},
		{name: "locked out", steps: []step{authn("locked-out.json")}, want: want{auth: true, text: []string{"locked out", "LOCKED_OUT"}}},
		{name: "expired password", steps: []step{authn("password-expired.json")}, want: want{text: []string{"password has expired"}}},
		{name: "mfa enroll", steps: []step{authn("mfa-enroll.json")}, want: want{text: []string{"set up an MFA factor first (MFA_ENROLL)"}}},
		{
			name:  "expired state token",
			steps: []step{authn("authn-mfa-required.json"), verify(totpID, "e0000011.json", 401, "123456")},
			mfa:   "totp", mfaCode: "123456",
			want: want{text: []string{"E0000011 Invalid token provided", "run the command again"}},
		},
		{
			name: "push rejected", mfa: "push",
			steps: []step{authn("authn-mfa-required.json"), verify(pushID, "push-waiting.json", 200, nil), verify(pushID, "push-rejected.json", 200, nil)},
			want:  want{auth: true, text: []string{"rejected on the phone"}},
		},
		{
			name: "push timeout", mfa: "push",
			steps: []step{authn("authn-mfa-required.json"), verify(pushID, "push-waiting.json", 200, nil), verify(pushID, "push-timeout.json", 200, nil)},
			want:  want{auth: true, text: []string{"not answered in time (TIMEOUT)"}},
		},
		{
			name: "bad --mfa-code without a terminal is not asked again", mfa: "totp", mfaCode: "000000", noTTY: true,
			steps: []step{authn("authn-mfa-required.json"), verify(totpID, "e0000068.json", 403, "000000")},
			want:  want{auth: true, text: []string{"Invalid Passcode/Answer: Your passcode doesn't match our records"}},
		},
		{
			name: "three wrong codes", mfa: "OKTA TOKEN:SOFTWARE:TOTP", codes: []string{"1", "2", "3", "4"},
			steps: []step{authn("authn-mfa-required.json"),
				verify(totpID, "e0000068.json", 403, "1"), verify(totpID, "e0000068.json", 403, "2"), verify(totpID, "e0000068.json", 403, "3")},
			want: want{auth: true, text: []string{"Invalid Passcode/Answer"}},
		},
		{
			name: "totp needs a terminal", mfa: "totp", noTTY: true,
			steps: []step{authn("authn-mfa-required.json")},
			want:  want{noTTY: true},
		},
		{
			name:  "webauthn only",
			steps: []step{authn("authn-mfa-webauthn-only.json")},
			want:  want{unsupported: true, text: []string{"WebAuthn", "MacBook Touch ID", "not supported"}},
		},
		{
			name: "duo named", mfa: "duo",
			steps: []step{authn("authn-mfa-required.json")},
			want:  want{unsupported: true, text: []string{"Duo Security is not supported", "push"}},
		},
		{
			name: "factor not enrolled", mfa: "question",
			steps: []step{authn("authn-mfa-required.json")},
			want:  want{text: []string{`mfa "question" is not one of your Okta factors (push, totp, sms, call, email, yubikey, webauthn, duo)`}},
		},
		{
			name:  "rate limit with a long reset fails at once",
			steps: []step{{method: "POST", path: "/api/v1/authn", status: 429, file: "e0000047.json", header: rateHeaders(600)}},
			want:  want{text: []string{"rate limit", "E0000047", "resets in 10m0s"}},
		},
		{
			name: "rate limit without a terminal is not waited", noTTY: true,
			steps: []step{{method: "POST", path: "/api/v1/authn", status: 429, file: "e0000047.json", header: rateHeaders(2)}},
			want:  want{text: []string{"not waiting without a terminal"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, append([]step{appNoSession, orgV1}, tc.steps...)...)
			e.req.MFA, e.req.MFACode = tc.mfa, tc.mfaCode
			e.prompt.codes, e.prompt.noTTY = tc.codes, tc.noTTY
			_, err := e.login(t)
			if err == nil {
				t.Fatal("login succeeded")
			}
			var (
				ae *idp.AuthError
				ue *idp.UnsupportedError
			)
			if got := errors.As(err, &ae); got != tc.want.auth {
				t.Errorf("AuthError = %v, want %v: %v", got, tc.want.auth, err)
			}
			if got := errors.As(err, &ue); got != tc.want.unsupported {
				t.Errorf("UnsupportedError = %v, want %v: %v", got, tc.want.unsupported, err)
			}
			if got := errors.Is(err, idp.ErrNoTerminal); got != tc.want.noTTY {
				t.Errorf("ErrNoTerminal = %v, want %v: %v", got, tc.want.noTTY, err)
			}
			for _, s := range tc.want.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

func rateHeaders(in int) map[string]string {
	now := time.Now()
	return map[string]string{
		"X-Rate-Limit-Limit": "10", "X-Rate-Limit-Remaining": "0",
		"X-Rate-Limit-Reset": strconv.FormatInt(now.Unix()+int64(in), 10),
		"Date":               now.UTC().Format(http.TimeFormat),
	}
}

// hookClock is a fake clock that calls onWait at each wait.
type hookClock struct {
	idptest.Clock
	onWait func()
}

func (c *hookClock) After(d time.Duration) <-chan time.Time {
	c.onWait()
	return c.Clock.After(d)
}

func TestRateLimitShortWaitOnTerminal(t *testing.T) {
	e := newEnv(t, appNoSession, orgV1,
		step{method: "POST", path: "/api/v1/authn", status: 429, file: "e0000047.json", header: rateHeaders(1)},
		authn("authn-success.json"), redirect(t))
	// The wait is recorded, not slept: it must be the time to the reset
	// (1s by the server's Date), taken once, before the second authn.
	clk := &hookClock{onWait: func() {
		if n := e.f.served(); n != 3 {
			t.Errorf("waited after %d requests, want right after the 429 (the 3rd)", n)
		}
	}}
	e.req.Clock = clk
	if _, err := e.login(t); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.notice.String(), "rate limit reached; waiting 1s") {
		t.Errorf("no notice of the wait: %q", e.notice)
	}
	if waits := clk.Waits(); len(waits) != 1 || waits[0] != time.Second {
		t.Errorf("waits %v, want [1s] (until X-Rate-Limit-Reset)", waits)
	}
}

func TestStepUp(t *testing.T) {
	stepUpAuthn := step{method: "POST", path: "/api/v1/authn", file: "stepup-mfa-required.json", check: func(t *testing.T, _ *http.Request, b map[string]any) {
		if b["stateToken"] != "00quAZYqYjXg9DZhS5UzE1wrJuQ6KKb-kzOeH7OGB5" || b["password"] != nil || len(b) != 1 {
			t.Errorf("step-up authn body keys %d, stateToken unescaped %v", len(b), b["stateToken"])
		}
	}}
	e := newEnv(t, appNoSession, orgV1, authn("authn-success.json"),
		step{method: "GET", path: "/login/sessionCookieRedirect", file: "stepup.html"},
		stepUpAuthn,
		verify(totpID, "stepup-success.json", 200, "123456"),
		step{method: "GET", path: "/login/step-up/redirect", file: "saml.html"})
	e.req.MFACode = "123456"
	if saml, err := e.login(t); err != nil || saml != samlValue {
		t.Fatalf("got %q, %v", saml, err)
	}
}

// TestStepUpWithSession is a refresh whose app policy wants MFA again:
// the stored session spares the password, only the factor is asked.
func TestStepUpWithSession(t *testing.T) {
	e := newEnv(t, step{method: "GET", path: appPath, file: "stepup.html"}, orgV1,
		step{method: "POST", path: "/api/v1/authn", file: "stepup-mfa-required.json"},
		verify(totpID, "stepup-success.json", 200, "123456"),
		step{method: "GET", path: "/login/step-up/redirect", file: "saml.html"})
	e.withSession(t)
	e.req.MFACode = "123456"
	if _, err := e.login(t); err != nil {
		t.Fatal(err)
	}
	if e.pwCalls != 0 {
		t.Errorf("password asked on a step-up with a session")
	}
}

// TestUnauthenticatedSignInPage: the sign-in page's stateToken is an
// UNAUTHENTICATED transaction; the login goes on with primary
// authentication, which every Classic org supports.
func TestUnauthenticatedSignInPage(t *testing.T) {
	e := newEnv(t, step{method: "GET", path: appPath, file: "stepup.html"}, orgV1,
		step{method: "POST", path: "/api/v1/authn", file: "unauthenticated.json"},
		authn("password-expired.json"))
	e.withSession(t)
	_, err := e.login(t)
	var se *StatusError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "PASSWORD_EXPIRED") {
		t.Fatalf("got %v", err)
	}
}

// TestStaleStateTokenFallsBack: a sign-in page whose stateToken Okta no
// longer knows leads to a normal sign-in, not an error.
func TestStaleStateTokenFallsBack(t *testing.T) {
	e := newEnv(t, step{method: "GET", path: appPath, file: "stepup.html"}, orgV1,
		step{method: "POST", path: "/api/v1/authn", status: 401, file: "e0000011.json"},
		authn("authn-success.json"), redirect(t))
	e.withSession(t)
	if _, err := e.login(t); err != nil {
		t.Fatal(err)
	}
}

func TestURLs(t *testing.T) {
	tests := []struct{ url, want string }{
		{url: "https://corp.okta.com/home/amazon_aws_sso/0oa9sso/123", want: "IAM Identity Center"},
		{url: "https://corp.okta.com/app/amazon_aws_sso/0oa9sso/sso/saml?token=SEKRIT", want: "aws sso login"},
		{url: "https://corp.okta.com/", want: "not an Okta app link"},
		{url: "corp.okta.com/home/amazon_aws/0oa1/272", want: "not an absolute https url"},
		{url: "https://corp.okta.com/home/amazon_aws/0oa1/272?fromHome=true&token=SEKRIT#frag", want: ""},
		{url: "https://corp.okta.com/home/amazon_aws/0oa1/272#", want: ""},
		// The admin console page of the app names the embed link to use.
		{url: "https://corp-admin.okta.com/admin/app/amazon_aws/instance/0oa1awsapp0001/#tab-general",
			want: "is the app's page in the Okta admin console, not its sign-in link: set url to the app's embed link, https://corp.okta.com/home/amazon_aws/0oa1awsapp0001/272"},
		{url: "https://login.example.com/admin/app/amazon_aws/instance/0oa1awsapp0001", want: "https://login.example.com/home/amazon_aws/0oa1awsapp0001/272"},
		{url: "https://corp-admin.okta.com/admin/dashboard", want: "not an Okta app link"},
		{url: "https://corp.okta.com/app/UserHome", want: "not an Okta app link"},
	}
	for _, tc := range tests {
		u, err := appLink(tc.url)
		if tc.want == "" {
			if err != nil || u.Fragment != "" {
				t.Errorf("%s: %v, %v", tc.url, u, err)
			}
			continue
		}
		// Each is a profile mistake: a ConfigError, which the CLI maps to exit 2.
		var ce *idp.ConfigError
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ce) || strings.Contains(err.Error(), "SEKRIT") {
			t.Errorf("%s: error %v, want a ConfigError with %q and no query", tc.url, err, tc.want)
		}
	}
	// The Identity Center app is refused before any request.
	e := newEnv(t)
	e.req.URL = e.f.srv.URL + "/home/amazon_aws_sso/0oa9sso/123"
	if _, err := e.login(t); err == nil {
		t.Fatal("identity center accepted")
	}
}

func TestErrorPages(t *testing.T) {
	e := newEnv(t, step{method: "GET", path: appPath, status: 403, file: "app-locked.html"})
	_, err := e.login(t)
	var pe *idp.PageError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "App Access Locked") {
		t.Fatalf("got %v", err)
	}
}

func TestStateToken(t *testing.T) {
	tests := map[string]string{
		`var stateToken = '00ab\x2Dcd';`:                           "00ab-cd",
		`var stateToken = '';`:                                     "",
		`{"stateToken":"02.id.x\u002Dy","x":1}`:                    "02.id.x-y",
		`var stateToken = ''; {"stateToken":"02abc"}`:              "02abc",
		`<input type="hidden" name="stateToken" value="00hidden">`: "00hidden",
		`no token here`:                                            "",
	}
	for in, want := range tests {
		if got := stateToken([]byte(in)); got != want {
			t.Errorf("stateToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIDX(t *testing.T) {
	sh := func(extra func(t *testing.T, b map[string]any)) func(t *testing.T, r *http.Request, b map[string]any) {
		return func(t *testing.T, r *http.Request, b map[string]any) {
			if b["stateHandle"] != handle {
				t.Errorf("stateHandle %v", b["stateHandle"])
			}
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/ion+json") {
				t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
			}
			if extra != nil {
				extra(t, b)
			}
		}
	}
	start := []step{
		{method: "GET", path: appPath, file: "signin-idx.html"},
		orgIDX,
		{method: "POST", path: "/idp/idx/introspect", file: "idx-identify.json", check: func(t *testing.T, _ *http.Request, b map[string]any) {
			if b["stateToken"] != "02.id.Hm4SmZ-IL9wW3EwJ_cPq5sRtpnZR2iuh" {
				t.Errorf("introspect stateToken %v", b["stateToken"])
			}
		}},
		{method: "POST", path: "/idp/idx/identify", file: "idx-select.json", check: sh(func(t *testing.T, b map[string]any) {
			c, _ := b["credentials"].(map[string]any)
			if b["identifier"] != "dade.murphy@example.com" || c["passcode"] != pw {
				t.Errorf("identify: identifier %v, password sent %v", b["identifier"], c["passcode"] == pw)
			}
		})},
	}
	selected := func(id, method string) func(t *testing.T, b map[string]any) {
		return func(t *testing.T, b map[string]any) {
			a, _ := b["authenticator"].(map[string]any)
			if a["id"] != id || a["methodType"] != method {
				t.Errorf("authenticator %v, want %s %s", a, id, method)
			}
		}
	}
	success := []step{
		{method: "GET", path: "/login/token/redirect", file: "saml.html"},
	}
	t.Run("push with number challenge", func(t *testing.T) {
		steps := append(append([]step{}, start...),
			step{method: "POST", path: "/idp/idx/challenge", file: "idx-poll.json", check: sh(selected("aut1ov", "push"))},
			step{method: "POST", path: "/idp/idx/authenticators/poll", file: "idx-poll-challenge.json", check: sh(nil)},
			step{method: "POST", path: "/idp/idx/authenticators/poll", file: "idx-success.json", check: sh(nil)})
		e := newEnv(t, append(steps, success...)...)
		e.req.MFA = "push"
		if saml, err := e.login(t); err != nil || saml != samlValue {
			t.Fatalf("got %q, %v", saml, err)
		}
		if !strings.Contains(e.notice.String(), "tap 42") {
			t.Errorf("notices %q lack the number", e.notice)
		}
	})
	t.Run("totp", func(t *testing.T) {
		steps := append(append([]step{}, start...),
			step{method: "POST", path: "/idp/idx/challenge", file: "idx-code.json", check: sh(selected("aut1ov", "totp"))},
			step{method: "POST", path: "/idp/idx/challenge/answer", file: "idx-success.json", check: sh(func(t *testing.T, b map[string]any) {
				if c, _ := b["credentials"].(map[string]any); c["passcode"] != "123456" {
					t.Errorf("answer %v", c)
				}
			})})
		e := newEnv(t, append(steps, success...)...)
		e.req.MFACode = "123456"
		if _, err := e.login(t); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("sms with a wrong code then resend", func(t *testing.T) {
		steps := append(append([]step{}, start...),
			step{method: "POST", path: "/idp/idx/challenge", file: "idx-code.json", check: sh(func(t *testing.T, b map[string]any) {
				a, _ := b["authenticator"].(map[string]any)
				if a["id"] != "aut1ph" || a["methodType"] != "sms" || a["enrollmentId"] != "paeXYZ" {
					t.Errorf("authenticator %v", a)
				}
			})},
			step{method: "POST", path: "/idp/idx/challenge/answer", status: 400, file: "idx-bad-code.json", check: sh(nil)},
			step{method: "POST", path: "/idp/idx/challenge/answer", file: "idx-success.json", check: sh(func(t *testing.T, b map[string]any) {
				if c, _ := b["credentials"].(map[string]any); c["passcode"] != "222222" {
					t.Errorf("answer %v", c)
				}
			})})
		e := newEnv(t, append(steps, success...)...)
		e.req.MFA = "sms"
		e.prompt.codes = []string{"111111", "222222"}
		if _, err := e.login(t); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(e.notice.String(), "Invalid code. Try again.") || !strings.Contains(e.notice.String(), "+1 XXX-XXX-4444") {
			t.Errorf("notices %q", e.notice)
		}
	})
	failures := []struct {
		name  string
		mfa   string
		steps []step
		want  string
		auth  bool
		unsup bool
	}{
		{name: "bad password", auth: true, want: "Password is incorrect",
			steps: []step{start[0], start[1], start[2], {method: "POST", path: "/idp/idx/identify", status: 401, file: "idx-bad-password.json"}}},
		{name: "enrollment needed", unsup: true, want: `"select-authenticator-enroll"`,
			steps: append(append([]step{}, start[:3]...), step{method: "POST", path: "/idp/idx/identify", file: "idx-enroll.json"})},
		{name: "webauthn named", mfa: "webauthn", unsup: true, want: "WebAuthn",
			steps: start},
		{name: "push rejected", mfa: "push", auth: true, want: "You have chosen to reject this login.",
			steps: append(append([]step{}, start...),
				step{method: "POST", path: "/idp/idx/challenge", file: "idx-poll.json"},
				step{method: "POST", path: "/idp/idx/authenticators/poll", file: "idx-push-rejected.json"})},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.steps...)
			e.req.MFA = orDefault(tc.mfa, "auto")
			_, err := e.login(t)
			var (
				ae *idp.AuthError
				ue *idp.UnsupportedError
			)
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.As(err, &ae) != tc.auth || errors.As(err, &ue) != tc.unsup {
				t.Fatalf("got %v, want %q (auth %v, unsupported %v)", err, tc.want, tc.auth, tc.unsup)
			}
		})
	}
}

// debugger keeps what SavePage was given.
type debugger struct{ pages []string }

func (d *debugger) SavePage(name string, body []byte) string {
	d.pages = append(d.pages, string(body))
	return fmt.Sprintf("/tmp/%s.html", name)
}

// TestDebugPageRedactsStateToken: a step-up page that keeps coming back is
// saved under --debug, and the stateToken it carries (JavaScript-escaped,
// '-' as \x2D, the way Okta's pages write it) is not in the copy.
func TestDebugPageRedactsStateToken(t *testing.T) {
	round := []step{
		{method: "POST", path: "/api/v1/authn", file: "stepup-mfa-required.json"},
		verify(totpID, "stepup-success.json", 200, "123456"),
		{method: "GET", path: "/login/step-up/redirect", file: "stepup.html"},
	}
	steps := []step{{method: "GET", path: appPath, file: "stepup.html"}, orgV1}
	for range 4 { // the sign-in, then three step-ups; the fourth is refused
		steps = append(steps, round...)
	}
	e := newEnv(t, steps...)
	d := &debugger{}
	e.req.Debug, e.req.MFACode, e.prompt.codes = d, "123456", []string{"123456", "123456", "123456", "123456"}
	_, err := e.login(t)
	var pe *idp.PageError
	if !errors.As(err, &pe) || pe.Saved == "" || !strings.Contains(pe.Why, "step-up verification again") {
		t.Fatalf("got %v", err)
	}
	if len(d.pages) != 1 || !strings.Contains(d.pages[0], "var stateToken") {
		t.Fatalf("saved %d pages, want the step-up page: %q", len(d.pages), d.pages)
	}
	escaped := strings.ReplaceAll(stepTokPage, "-", `\x2D`)
	for _, p := range d.pages {
		for _, s := range append(secrets, escaped) {
			if strings.Contains(p, s) {
				t.Errorf("saved page leaks %q", s)
			}
		}
	}
}

// secretPrompter answers Secret prompts (the security question).
type secretPrompter struct {
	prompter
	answer string
}

func (p *secretPrompter) Secret(_ context.Context, label string) (string, error) {
	p.asked = append(p.asked, "secret:"+label)
	return p.answer, nil
}

func TestSecurityQuestion(t *testing.T) {
	e := newEnv(t, appNoSession, orgV1, authn("authn-mfa-question.json"),
		step{method: "POST", path: "/api/v1/authn/factors/ufs1pe3ISGKGPYKXRBKK/verify", file: "authn-success.json",
			check: func(t *testing.T, _ *http.Request, b map[string]any) {
				if b["answer"] != "Mona Lisa" || b["stateToken"] != stateTok {
					t.Errorf("verify body: answer ok %v", b["answer"] == "Mona Lisa")
				}
			}},
		redirect(t))
	sp := &secretPrompter{answer: "Mona Lisa"}
	e.req.Prompt = sp
	if _, err := e.login(t); err != nil {
		t.Fatal(err)
	}
	if len(sp.asked) != 1 || !strings.Contains(sp.asked[0], "What is your favorite piece of art?") {
		t.Errorf("asked %q", sp.asked)
	}
}

// TestResumeChallenge: Okta may answer a step-up with a push already
// sent (MFA_CHALLENGE): saml2sts polls it instead of sending another.
func TestResumeChallenge(t *testing.T) {
	e := newEnv(t, step{method: "GET", path: appPath, file: "stepup.html"}, orgV1,
		step{method: "POST", path: "/api/v1/authn", file: "push-waiting.json"},
		verify(pushID, "stepup-success.json", 200, nil),
		step{method: "GET", path: "/login/step-up/redirect", file: "saml.html"})
	e.withSession(t)
	if _, err := e.login(t); err != nil {
		t.Fatal(err)
	}
}

// TestNoSecondPassword: a policy that asks for the password again ends the
// login instead of posting it twice.
func TestNoSecondPassword(t *testing.T) {
	e := newEnv(t, appNoSession, orgV1, authn("unauthenticated.json"))
	_, err := e.login(t)
	if err == nil || !strings.Contains(err.Error(), "password a second time") {
		t.Fatalf("got %v", err)
	}
	if e.pwCalls != 1 {
		t.Errorf("password asked %d times", e.pwCalls)
	}
}

func TestIDXVerificationData(t *testing.T) {
	e := newEnv(t,
		step{method: "GET", path: appPath, file: "signin-idx.html"}, orgIDX,
		step{method: "POST", path: "/idp/idx/introspect", file: "idx-identify.json"},
		step{method: "POST", path: "/idp/idx/identify", file: "idx-verification-data.json"},
		step{method: "POST", path: "/idp/idx/challenge", file: "idx-code.json", check: func(t *testing.T, _ *http.Request, b map[string]any) {
			a, _ := b["authenticator"].(map[string]any)
			if a["id"] != "aut1ph" || a["methodType"] != "voice" || a["enrollmentId"] != "paeXYZ" {
				t.Errorf("authenticator %v", a)
			}
		}},
		step{method: "POST", path: "/idp/idx/challenge/answer", file: "idx-success.json"},
		step{method: "GET", path: "/login/token/redirect", file: "saml.html"})
	e.req.MFA, e.req.MFACode = "call", "515151"
	if _, err := e.login(t); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.notice.String(), "voice call to +1 XXX-XXX-4444") {
		t.Errorf("notices %q", e.notice)
	}
}

func TestIDXFastPassOnly(t *testing.T) {
	e := newEnv(t,
		step{method: "GET", path: appPath, file: "signin-idx.html"}, orgIDX,
		step{method: "POST", path: "/idp/idx/introspect", file: "idx-fastpass.json"})
	_, err := e.login(t)
	var ue *idp.UnsupportedError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `"device-challenge-poll"`) || !strings.Contains(err.Error(), "FastPass") {
		t.Fatalf("got %v", err)
	}
}

// TestNotOkta: answers that are not Okta's API (a proxy page, a server
// error) end the login with a line naming the endpoint, no secret.
func TestNotOkta(t *testing.T) {
	t.Run("html instead of json", func(t *testing.T) {
		e := newEnv(t, appNoSession, orgV1, step{method: "POST", path: "/api/v1/authn", file: "proxy-block.html"})
		_, err := e.login(t)
		if err == nil || !strings.Contains(err.Error(), "/api/v1/authn did not answer with Okta API JSON") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("server error", func(t *testing.T) {
		e := newEnv(t, appNoSession, orgV1, step{method: "POST", path: "/api/v1/authn", status: 500, file: "e0000009.json"})
		_, err := e.login(t)
		var ae *APIError
		if !errors.As(err, &ae) || err.Error() != "okta: "+e.f.srv.URL+"/api/v1/authn answered HTTP 500 E0000009: Internal Server Error" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("org endpoint missing means classic", func(t *testing.T) {
		e := newEnv(t, appNoSession, step{method: "GET", path: "/.well-known/okta-organization", status: 404, file: "proxy-block.html"},
			authn("authn-success.json"), redirect(t))
		if _, err := e.login(t); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("idx state token refused", func(t *testing.T) {
		e := newEnv(t, step{method: "GET", path: appPath, file: "signin-idx.html"}, orgIDX,
			step{method: "POST", path: "/idp/idx/introspect", status: 400, file: "proxy-block.html"})
		_, err := e.login(t)
		if err == nil || !strings.Contains(err.Error(), "refused the sign-in page's state token (HTTP 400)") {
			t.Fatalf("got %v", err)
		}
	})
}

// TestCheck is what configure and login refuse before any request (exit 2):
// the url as in TestURLs, and mfa values that no Okta factor can match.
func TestCheck(t *testing.T) {
	const link = "https://corp.okta.com/home/amazon_aws/0oa1/272"
	tests := []struct{ url, mfa, want string }{
		{url: link, mfa: "auto"},
		{url: link, mfa: ""},
		{url: link, mfa: "push"},
		{url: link, mfa: "TOTP"},
		{url: link, mfa: "google"},
		{url: link, mfa: "voice"},
		{url: link, mfa: "yubikey"},
		{url: link, mfa: "token:software:totp"},
		{url: link, mfa: "okta:token:software:totp"},
		{url: link, mfa: "webauthn"}, // known, refused later naming the factor
		{url: link, mfa: "puhs", want: `okta: mfa "puhs" is not an Okta factor name: set mfa to auto, push, totp, sms, call, email, yubikey or duo`},
		{url: link, mfa: "AzureMfaAuthentication", want: "is not an Okta factor name"},
		{url: "https://corp.okta.com/", mfa: "push", want: "not an Okta app link"},
	}
	for _, tc := range tests {
		err := New().Check(&idp.Request{URL: tc.url, MFA: tc.mfa})
		var ce *idp.ConfigError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s mfa %q: %v, want accepted", tc.url, tc.mfa, err)
		case tc.want != "" && (!errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s mfa %q: %v, want a ConfigError with %q", tc.url, tc.mfa, err, tc.want)
		}
	}
	// Every name the picker gives a factor passes the check.
	for _, f := range []factor{{FactorType: "push"}, {FactorType: "token:software:totp", Provider: "GOOGLE"}, {FactorType: "token:hotp"},
		{FactorType: "token:hardware"}, {FactorType: "token", Provider: "RSA"}, {FactorType: "token", Provider: "SYMANTEC"}, {FactorType: "sms"},
		{FactorType: "call"}, {FactorType: "email"}, {FactorType: "question"}, {FactorType: "webauthn"}, {FactorType: "web", Provider: "DUO"}} {
		c := describe(f)
		for _, m := range []string{c.name, f.FactorType, f.Provider} {
			if m == "" {
				continue
			}
			if err := New().Check(&idp.Request{URL: link, MFA: m}); err != nil {
				t.Errorf("mfa %q (a name of %s): %v", m, c.label, err)
			}
		}
	}
}

package duo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/duo"
	"github.com/saml2sts/saml2sts/idp/idptest"
)

const (
	user    = "ana@example.com"
	goodPIN = "135791"
	badPIN  = "000000"
)

// rp is a relying IdP that hands off to Duo three ways and shows a SAML
// form once Duo's duo_code checks out: /redirect (a 302, as SimpleSAMLphp
// and Shibboleth do), /form (an auto-submitting form that posts to Duo, as
// AD FS does) and /link (a URL handed out, as Okta does). /callback
// answers with a form that posts duo_code on, when ?post=1 was asked.
type rp struct {
	d     *idptest.Duo
	srv   *httptest.Server
	mu    sync.Mutex
	saml  []string
	state string
}

func newRP(t testing.TB, o idptest.DuoOptions) *rp {
	t.Helper()
	d, err := idptest.NewDuo(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	r := &rp{d: d, state: "st-" + fmt.Sprint(time.Now().UnixNano())}
	r.srv = httptest.NewServer(r)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *rp) ServeHTTP(w http.ResponseWriter, q *http.Request) {
	cb := r.srv.URL + "/callback"
	if q.URL.Query().Get("post") == "1" {
		cb += "?post=1"
	}
	w.Header().Set("Content-Type", "text/html")
	switch q.URL.Path {
	case "/redirect":
		http.Redirect(w, q, r.d.AuthorizeURL(user, cb, r.state), http.StatusFound)
	case "/form":
		fmt.Fprintf(w, `<html><body onload="document.forms[0].submit()"><form id="adfs_form" method="post" action="%s">
<input type="hidden" name="adfs_context" value="ctx"></form></body></html>`, r.d.AuthorizeURL(user, cb, r.state))
	case "/callback", "/finish":
		q.ParseForm()
		if q.URL.Path == "/callback" && q.URL.Query().Get("post") == "1" {
			fmt.Fprintf(w, `<html><body onload="document.forms[0].submit()"><form class="adfs_form" method="post" action="/finish">
<input type="hidden" name="duo_code" value="%s"><input type="hidden" name="state" value="%s"></form></body></html>`,
				q.Form.Get("duo_code"), q.Form.Get("state"))
			return
		}
		u, st, ok := r.d.Exchange(q.Form.Get("duo_code"))
		if !ok || st != r.state || u != user {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<html><title>Denied</title><body>bad duo_code</body></html>`)
			return
		}
		v := "SAML-" + fmt.Sprint(time.Now().UnixNano())
		r.mu.Lock()
		r.saml = append(r.saml, v)
		r.mu.Unlock()
		fmt.Fprintf(w, `<html><form method="post" action="https://signin.aws.amazon.com/saml"><input name="SAMLResponse" value="%s"></form></html>`, v)
	default:
		http.NotFound(w, q)
	}
}

// prompter answers codes from a list and records what it was asked.
type prompter struct {
	codes  []string
	asked  []string
	choice int
}

func (p *prompter) Secret(ctx context.Context, label string) (string, error) {
	return p.Code(ctx, label)
}
func (p *prompter) Code(_ context.Context, label string) (string, error) {
	p.asked = append(p.asked, label)
	if len(p.codes) == 0 {
		return "", idp.ErrNoTerminal
	}
	c := p.codes[0]
	p.codes = p.codes[1:]
	return c, nil
}
func (p *prompter) Choose(_ context.Context, label string, opts []string) (int, error) {
	p.asked = append(p.asked, label+": "+strings.Join(opts, " / "))
	return p.choice, nil
}

// noTTY is a prompter without a terminal.
type noTTY struct{ prompter }

func (noTTY) Interactive() bool { return false }
func (noTTY) Code(context.Context, string) (string, error) {
	return "", idp.ErrNoTerminal
}
func (noTTY) Choose(context.Context, string, []string) (int, error) { return 0, idp.ErrNoTerminal }

type try struct {
	t      testing.TB
	r      *rp
	req    *idp.Request
	notice bytes.Buffer
	clk    *idptest.Clock
	debug  *debugDir
}

type debugDir struct{ pages []string }

func (d *debugDir) SavePage(name string, b []byte) string {
	d.pages = append(d.pages, string(b))
	return "/tmp/" + name
}

func newTry(t testing.TB, r *rp, mfa, code string, p idp.Prompter, opts map[string]string) *try {
	jar, _ := idp.NewJar(nil)
	tr := &try{t: t, r: r, clk: idptest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), debug: &debugDir{}}
	if p == nil {
		p = &noTTY{}
	}
	tr.req = &idp.Request{MFA: mfa, MFACode: code, Prompt: p, Client: idp.NewClient(nil, jar), Notice: &tr.notice,
		Debug: tr.debug, Options: opts, Clock: tr.clk}
	return tr
}

// login runs Duo from the rp's hand-off way ("redirect", "form", "link").
func (tr *try) login(way string, post bool) (*idp.Page, error) {
	tr.t.Helper()
	in := idp.NewInputs(tr.req)
	f := &duo.Flow{}
	q := ""
	if post {
		q = "?post=1"
	}
	ctx := context.Background()
	if way == "link" {
		return f.LoginURL(ctx, tr.req, &in, tr.r.srv.URL+"/redirect"+q)
	}
	page, err := idp.Fetch(ctx, tr.req.Client, http.MethodGet, tr.r.srv.URL+"/"+way+q, nil)
	if err != nil {
		tr.t.Fatal(err)
	}
	if !duo.IsHandoff(page) {
		if _, ok := idp.SAMLResponse(page); ok {
			return page, nil // Duo remembered the browser: straight back
		}
		tr.t.Fatalf("IsHandoff(%s) = false", page.URL)
	}
	return f.Login(ctx, tr.req, &in, page)
}

// scan fails when an error, notice or debug page shows a Duo secret or a
// passcode.
func (tr *try) scan(err error) {
	tr.t.Helper()
	out := tr.notice.String()
	if err != nil {
		out += err.Error()
	}
	out += strings.Join(tr.debug.pages, "\n")
	for _, s := range append(tr.r.d.Secrets(), goodPIN, badPIN) {
		if strings.Contains(out, s) {
			tr.t.Errorf("output shows secret %q:\n%s", s, out)
		}
	}
}

func saml(t *testing.T, p *idp.Page) {
	t.Helper()
	if v, ok := idp.SAMLResponse(p); !ok || !strings.HasPrefix(v, "SAML-") {
		t.Fatalf("no SAML page after Duo; got %s: %s", p.URL, p.Body)
	}
}

func phone(push, call string) idptest.DuoDevice {
	return idptest.DuoDevice{Name: "iOS", Number: "1234", Push: push, Call: call}
}

func TestFactors(t *testing.T) {
	for _, gen := range []string{"v4", "new"} {
		for _, tc := range []struct {
			name, mfa, code, way string
			dev                  idptest.DuoDevice
			notice               string
			check                func(t *testing.T, s idptest.DuoStats)
		}{
			{name: "push default", mfa: "auto", way: "redirect", dev: phone("approve", ""), notice: "Duo Push sent to iOS",
				check: func(t *testing.T, s idptest.DuoStats) {
					if s.Pushes != 1 {
						t.Errorf("pushes = %d, want 1", s.Pushes)
					}
				}},
			{name: "push via form", mfa: "push", way: "form", dev: phone("approve", "approve"), notice: "1234)"},
			{name: "push via link", mfa: "duo", way: "link", dev: phone("approve", ""), notice: "approve it in Duo Mobile"},
			{name: "passcode from --mfa-code", mfa: "auto", code: goodPIN, way: "redirect", dev: phone("approve", ""),
				check: func(t *testing.T, s idptest.DuoStats) {
					if s.Pushes != 0 || s.Passcodes != 1 {
						t.Errorf("pushes %d passcodes %d, want 0 and 1", s.Pushes, s.Passcodes)
					}
				}},
			{name: "totp means passcode", mfa: "totp", code: goodPIN, way: "form", dev: phone("approve", "")},
			{name: "call", mfa: "call", way: "redirect", dev: phone("", "approve"), notice: "Duo is calling iOS",
				check: func(t *testing.T, s idptest.DuoStats) {
					if s.Calls != 1 {
						t.Errorf("calls = %d", s.Calls)
					}
				}},
			{name: "auto is Duo's preferred (call)", mfa: "auto", way: "redirect", dev: phone("", "approve"), notice: "Duo is calling"},
			{name: "pending polls", mfa: "push", way: "redirect", dev: idptest.DuoDevice{Name: "iOS", Number: "1234", Push: "approve", After: 3}},
		} {
			t.Run(gen+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				r := newRP(t, idptest.DuoOptions{Prompt: gen, Users: []idptest.DuoUser{{Username: user, Devices: []idptest.DuoDevice{tc.dev}, Passcode: goodPIN}}})
				tr := newTry(t, r, tc.mfa, tc.code, nil, nil)
				page, err := tr.login(tc.way, gen == "v4" && tc.way == "form")
				if err != nil {
					t.Fatal(err)
				}
				saml(t, page)
				if !strings.Contains(tr.notice.String(), tc.notice) {
					t.Errorf("notices %q lack %q", tr.notice.String(), tc.notice)
				}
				if tc.check != nil {
					tc.check(t, r.d.Stats())
				}
				if s := r.d.Stats(); s.Exchanges != 1 {
					t.Errorf("duo_code exchanges = %d, want 1", s.Exchanges)
				}
				if tc.dev.After > 0 && len(tr.clk.Waits()) != tc.dev.After {
					t.Errorf("waited %d times, want %d (one per pending poll)", len(tr.clk.Waits()), tc.dev.After)
				}
				tr.scan(nil)
			})
		}
	}
}

func TestVerifiedPush(t *testing.T) {
	for _, gen := range []string{"v4", "new"} {
		t.Run(gen, func(t *testing.T) {
			t.Parallel()
			dev := phone("approve", "")
			dev.Verified = true
			r := newRP(t, idptest.DuoOptions{Prompt: gen, Users: []idptest.DuoUser{{Username: user, Devices: []idptest.DuoDevice{dev}}}})
			tr := newTry(t, r, "push", "", nil, nil)
			page, err := tr.login("redirect", false)
			if err != nil {
				t.Fatal(err)
			}
			saml(t, page)
			m := regexp.MustCompile(`Duo Verified Push: enter (\d{6}) in Duo Mobile`).FindAllStringSubmatch(tr.notice.String(), -1)
			if len(m) != 1 {
				t.Fatalf("want the Verified Push code printed once, notices:\n%s", tr.notice.String())
			}
			if r.d.Stats().VerifyShown != 1 {
				t.Errorf("code shown %d times by Duo", r.d.Stats().VerifyShown)
			}
		})
	}
}

func TestFailures(t *testing.T) {
	for _, gen := range []string{"v4", "new"} {
		for _, tc := range []struct {
			name, mfa, code string
			noPIN           bool
			devs            []idptest.DuoDevice
			p               idp.Prompter
			opts            map[string]string
			timeout         int
			want            string // in the error
			check           func(t *testing.T, err error)
		}{
			{name: "denied push", mfa: "push", devs: []idptest.DuoDevice{phone("deny", "")}, want: `Duo says "Login request denied."`, check: isAuth},
			{name: "push timeout", mfa: "push", devs: []idptest.DuoDevice{phone("timeout", "")}, want: `Duo says "Login timed out."`, check: isAuth},
			{name: "our deadline", mfa: "push", devs: []idptest.DuoDevice{phone("timeout", "")}, timeout: 1000, want: "no answer to the Duo push within 3m0s", check: isAuth},
			{name: "declined call", mfa: "call", devs: []idptest.DuoDevice{phone("", "deny")}, want: "not answered or was declined", check: isAuth},
			{name: "wrong passcode", code: badPIN, devs: []idptest.DuoDevice{phone("approve", "")}, want: "Incorrect passcode", check: isAuth},
			{name: "passcode without terminal", mfa: "passcode", devs: []idptest.DuoDevice{phone("approve", "")}, check: func(t *testing.T, err error) {
				if !errors.Is(err, idp.ErrNoTerminal) {
					t.Errorf("want ErrNoTerminal, got %v", err)
				}
			}},
			{name: "same passcode twice", mfa: "passcode", p: &prompter{codes: []string{badPIN, badPIN}}, devs: []idptest.DuoDevice{phone("approve", "")},
				want: "never sent twice", check: isAuth},
			{name: "security key only", noPIN: true, devs: []idptest.DuoDevice{{Name: "YubiKey", SecurityKey: true}}, want: "run again with --browser", check: func(t *testing.T, err error) {
				var ue *idp.UnsupportedError
				if !errors.As(err, &ue) || !strings.HasSuffix(err.Error(), "run again with --browser") {
					t.Errorf("want an UnsupportedError ending with the --browser hint, got %v", err)
				}
			}},
			{name: "mfa webauthn", mfa: "webauthn", devs: []idptest.DuoDevice{phone("approve", "")}, want: "run again with --browser"},
			{name: "call not offered", mfa: "call", devs: []idptest.DuoDevice{phone("approve", "")}, want: `offers this account push, passcode`, check: isConfig},
			{name: "unknown duo_device", mfa: "push", opts: map[string]string{duo.KeyDevice: "Pixel"}, devs: []idptest.DuoDevice{phone("approve", "")},
				want: `duo_device "Pixel" is none of your Duo devices that can push ("iOS (`, check: isConfig},
		} {
			t.Run(gen+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				pin := goodPIN
				if tc.noPIN {
					pin = ""
				}
				r := newRP(t, idptest.DuoOptions{Prompt: gen, PushTimeout: tc.timeout,
					Users: []idptest.DuoUser{{Username: user, Devices: tc.devs, Passcode: pin}}})
				tr := newTry(t, r, tc.mfa, tc.code, tc.p, tc.opts)
				_, err := tr.login("redirect", false)
				if err == nil {
					t.Fatal("login succeeded")
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %q lacks %q", err, tc.want)
				}
				if tc.check != nil {
					tc.check(t, err)
				}
				if r.d.Stats().Exits != 0 {
					t.Error("Duo handed a duo_code back after a failure")
				}
				tr.scan(err)
			})
		}
	}
}

func isAuth(t *testing.T, err error) {
	t.Helper()
	var ae *idp.AuthError
	if !errors.As(err, &ae) {
		t.Errorf("want an idp.AuthError (exit 3), got %T %v", err, err)
	}
}

func isConfig(t *testing.T, err error) {
	t.Helper()
	var ce *idp.ConfigError
	if !errors.As(err, &ce) {
		t.Errorf("want an idp.ConfigError (exit 2), got %T %v", err, err)
	}
}

// A person at a terminal may retype a wrong passcode; each new code is
// sent once.
func TestPasscodeRetry(t *testing.T) {
	for _, gen := range []string{"v4", "new"} {
		t.Run(gen, func(t *testing.T) {
			t.Parallel()
			r := newRP(t, idptest.DuoOptions{Prompt: gen, Users: []idptest.DuoUser{{Username: user, Devices: []idptest.DuoDevice{phone("approve", "")}, Passcode: goodPIN}}})
			p := &prompter{codes: []string{badPIN, "123 456", goodPIN}}
			tr := newTry(t, r, "passcode", "", p, nil)
			page, err := tr.login("redirect", false)
			if err != nil {
				t.Fatal(err)
			}
			saml(t, page)
			if s := r.d.Stats(); s.Passcodes != 3 || s.BadCodes != 2 {
				t.Errorf("passcodes %d, bad %d; want 3 and 2", s.Passcodes, s.BadCodes)
			}
			if !strings.Contains(tr.notice.String(), "try another passcode") {
				t.Errorf("no retry notice: %q", tr.notice.String())
			}
			tr.scan(nil)
		})
	}
}

// --mfa-code is final: a refused one is not retried, and nothing is asked.
func TestGivenPasscodeNotRetried(t *testing.T) {
	r := newRP(t, idptest.DuoOptions{Users: []idptest.DuoUser{{Username: user, Devices: []idptest.DuoDevice{phone("approve", "")}, Passcode: goodPIN}}})
	p := &prompter{codes: []string{goodPIN}}
	tr := newTry(t, r, "passcode", badPIN, p, nil)
	if _, err := tr.login("redirect", false); err == nil {
		t.Fatal("login succeeded")
	}
	if s := r.d.Stats(); s.Passcodes != 1 || len(p.asked) != 0 {
		t.Errorf("passcodes sent %d (want 1), asked %v", s.Passcodes, p.asked)
	}
}

func TestDevicePicker(t *testing.T) {
	devs := []idptest.DuoDevice{phone("approve", "approve"), {Name: "Android", Number: "5678", Push: "approve"}, {Name: "Landline", Number: "9012", Call: "approve"}}
	for _, gen := range []string{"v4", "new"} {
		for _, tc := range []struct{ want, mfa, notice string }{
			{"Android", "push", "Duo Push sent to Android"},
			{"5678", "push", "Duo Push sent to Android"},
			{"landline", "call", "Duo is calling Landline"},
			{"", "push", "Duo Push sent to iOS"}, // Duo's default device
		} {
			t.Run(gen+"/"+tc.want, func(t *testing.T) {
				t.Parallel()
				r := newRP(t, idptest.DuoOptions{Prompt: gen, Users: []idptest.DuoUser{{Username: user, Devices: devs}}})
				opts := map[string]string{}
				if tc.want != "" {
					opts[duo.KeyDevice] = tc.want
				}
				tr := newTry(t, r, tc.mfa, "", nil, opts)
				page, err := tr.login("redirect", false)
				if err != nil {
					t.Fatal(err)
				}
				saml(t, page)
				if !strings.Contains(tr.notice.String(), tc.notice) {
					t.Errorf("notices %q lack %q", tr.notice.String(), tc.notice)
				}
			})
		}
	}
}

// With remembered devices allowed, the second login in the same jar
// passes Duo without a push; without, it pushes again.
func TestRememberMe(t *testing.T) {
	for _, gen := range []string{"v4", "new"} {
		for _, days := range []int{0, 30} {
			t.Run(fmt.Sprint(gen, days), func(t *testing.T) {
				t.Parallel()
				r := newRP(t, idptest.DuoOptions{Prompt: gen, RememberDays: days, Users: []idptest.DuoUser{{Username: user, Devices: []idptest.DuoDevice{phone("approve", "")}}}})
				tr := newTry(t, r, "push", "", nil, nil)
				for i := 0; i < 2; i++ {
					page, err := tr.login("redirect", false)
					if err != nil {
						t.Fatal(err)
					}
					saml(t, page)
				}
				s := r.d.Stats()
				want := 2
				if days > 0 {
					want = 1
				}
				if s.Pushes != want {
					t.Errorf("pushes = %d, want %d", s.Pushes, want)
				}
				if days > 0 && s.Remembered != 1 {
					t.Errorf("remembered = %d, want 1", s.Remembered)
				}
				// The trust cookie survives an export of the jar.
				jar := tr.req.Client.Jar.(*idp.Jar)
				if days > 0 && !strings.Contains(string(jar.Export()), "duo_trust") {
					t.Error("the duo_trust cookie is not in the stored jar")
				}
				tr.scan(nil)
			})
		}
	}
}

func TestNotHandoff(t *testing.T) {
	r := newRP(t, idptest.DuoOptions{Users: []idptest.DuoUser{{Username: user}}})
	tr := newTry(t, r, "", "", nil, nil)
	page, err := idp.Fetch(context.Background(), tr.req.Client, http.MethodGet, r.srv.URL+"/callback", nil)
	if err != nil {
		t.Fatal(err)
	}
	if duo.IsHandoff(page) {
		t.Error("a plain IdP page is a hand-off")
	}
	in := idp.NewInputs(tr.req)
	var pe *idp.PageError
	if _, err := duo.Login(context.Background(), tr.req, &in, page); !errors.As(err, &pe) {
		t.Errorf("want a PageError, got %v", err)
	}
}

// Unknown users see Duo's own error page; the error quotes it.
func TestDuoErrorPage(t *testing.T) {
	r := newRP(t, idptest.DuoOptions{Users: []idptest.DuoUser{{Username: "other@example.com"}}})
	tr := newTry(t, r, "push", "", nil, nil)
	_, err := tr.login("link", false)
	if err == nil || !strings.Contains(err.Error(), "not enrolled in Duo") {
		t.Errorf("want Duo's enrollment message, got %v", err)
	}
	tr.scan(err)
}

// Without a default device Duo leaves the pick to the user: the terminal
// picker lists the devices that can push.
func TestDevicePickerAsks(t *testing.T) {
	for _, gen := range []string{"v4", "new"} {
		t.Run(gen, func(t *testing.T) {
			t.Parallel()
			devs := []idptest.DuoDevice{phone("approve", ""), {Name: "Android", Number: "5678", Push: "approve"}}
			r := newRP(t, idptest.DuoOptions{Prompt: gen, Users: []idptest.DuoUser{{Username: user, Devices: devs, Preferred: "call"}}})
			p := &prompter{choice: 1}
			tr := newTry(t, r, "push", "", p, nil)
			page, err := tr.login("redirect", false)
			if err != nil {
				t.Fatal(err)
			}
			saml(t, page)
			if len(p.asked) != 1 || !strings.HasPrefix(p.asked[0], "Duo device: iOS") || !strings.Contains(p.asked[0], "Android") {
				t.Errorf("asked %q", p.asked)
			}
			if !strings.Contains(tr.notice.String(), "Duo Push sent to Android") {
				t.Errorf("notices %q", tr.notice.String())
			}
		})
	}
}

// Only Duo's pages and forms that post to Duo are hand-offs: a generic
// OAuth authorize form or a login-form without Duo's _xsrf is not.
func TestIsHandoff(t *testing.T) {
	for _, tc := range []struct {
		html string
		want bool
	}{
		{`<form id="adfs_form" method="post" action="https://api-1a2b.duosecurity.com/oauth/v1/authorize?x=1"></form>`, true},
		{`<form method="post" action="https://idp.example.com/oauth/v1/authorize?client_id=DIABCDEFGH0123456789"></form>`, true},
		{`<form method="post" action="https://idp.example.com/oauth/v1/authorize?client_id=myapp"></form>`, false},
		{`<form method="post" action="https://api-1.duosecurity.com/frame/frameless/v4/auth?sid=x"></form>`, true},
		{`<form id="plugin_form" action="/frame/frameless/v4/auth"><input name="tx" value="TX|x"></form>`, true},
		{`<form id="login-form"><input name="sid" value="s"><input name="_xsrf" value="x"></form>`, true},
		{`<form id="login-form"><input name="sid" value="s"><input name="username"></form>`, false},
		{`<div id="root" data-akey="DIX" data-authkey="k"></div>`, true},
		{`<form action="/login"><input name="username"><input type="password" name="password"></form>`, false},
	} {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(tc.html))
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse("https://idp.example.com/page")
		if got := duo.IsHandoff(&idp.Page{URL: u, Status: 200, Body: []byte(tc.html), Doc: doc}); got != tc.want {
			t.Errorf("IsHandoff(%s) = %v, want %v", tc.html, got, tc.want)
		}
	}
}

// BenchmarkLogin is one Duo Push login (hand-off to SAML page) against the
// emulator, per prompt generation: the cost saml2sts adds around the wait
// for the phone.
func BenchmarkLogin(b *testing.B) {
	b.Run("baseline", func(b *testing.B) {
		// One page from the same client: the unit the flows are measured in.
		r := newRP(b, idptest.DuoOptions{})
		tr := newTry(b, r, "push", "", nil, nil)
		for b.Loop() {
			if _, err := idp.Fetch(context.Background(), tr.req.Client, http.MethodGet, r.srv.URL+"/callback", nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, gen := range []string{"v4", "new"} {
		b.Run(gen, func(b *testing.B) {
			r := newRP(b, idptest.DuoOptions{Prompt: gen, Users: []idptest.DuoUser{{Username: user, Devices: []idptest.DuoDevice{phone("approve", "")}}}})
			for b.Loop() {
				tr := newTry(b, r, "push", "", nil, nil)
				if _, err := tr.login("redirect", false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// auto never picks WebAuthn, even when Duo prefers it: it takes the next
// factor saml2sts can answer.
func TestAutoSkipsWebAuthn(t *testing.T) {
	for _, gen := range []string{"v4", "new"} {
		t.Run(gen, func(t *testing.T) {
			t.Parallel()
			devs := []idptest.DuoDevice{{Name: "YubiKey", SecurityKey: true}, phone("approve", "")}
			r := newRP(t, idptest.DuoOptions{Prompt: gen, Users: []idptest.DuoUser{{Username: user, Devices: devs, Preferred: "webauthn"}}})
			tr := newTry(t, r, "auto", "", nil, nil)
			page, err := tr.login("redirect", false)
			if err != nil {
				t.Fatal(err)
			}
			saml(t, page)
			if r.d.Stats().Pushes != 1 {
				t.Errorf("pushes = %d, want 1", r.d.Stats().Pushes)
			}
		})
	}
}

// With the adapter's walker, Duo's pages count toward the adapter's page
// budget, so an IdP that keeps handing off to Duo ends.
func TestFlowCountsOnAdapterWalker(t *testing.T) {
	r := newRP(t, idptest.DuoOptions{Users: []idptest.DuoUser{{Username: user, Devices: []idptest.DuoDevice{phone("approve", "")}}}})
	tr := newTry(t, r, "push", "", nil, nil)
	in := idp.NewInputs(tr.req)
	w := &idp.Walker{Name: "form", Max: 12, Client: tr.req.Client, In: &in}
	page, err := w.Fetch(context.Background(), http.MethodGet, r.srv.URL+"/form", nil)
	if err != nil {
		t.Fatal(err)
	}
	before := w.Pages()
	page, err = (&duo.Flow{Walker: w}).Login(context.Background(), tr.req, &in, page)
	if err != nil {
		t.Fatal(err)
	}
	saml(t, page)
	if w.Pages() <= before {
		t.Errorf("walker counted %d pages before and %d after Duo", before, w.Pages())
	}
}

package browser

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/form"
	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/idp/keycloak"
	"github.com/saml2sts/saml2sts/internal/testflag"
)

const password = "s3cret-Pa55word!"

// needBrowser skips when no browser is installed, except in CI, where the
// browser tests must run (.ci/run installs Debian's chromium).
func needBrowser(t *testing.T) {
	t.Helper()
	if _, err := hostSystem(runtime.GOOS, os.Getenv).find(os.Getenv("SAML2STS_BROWSER")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and no browser was found: %v", err)
		}
		t.Skipf("no Chrome/Chromium on this machine (install chromium to run the browser tests): %v", err)
	}
}

// noTTY is a prompter with nobody behind it.
type noTTY struct{}

func (noTTY) Secret(context.Context, string) (string, error)        { return "", idp.ErrNoTerminal }
func (noTTY) Code(context.Context, string) (string, error)          { return "", idp.ErrNoTerminal }
func (noTTY) Choose(context.Context, string, []string) (int, error) { return 0, idp.ErrNoTerminal }
func (noTTY) Interactive() bool                                     { return false }

// tty is a prompter with someone at the terminal who answers codes.
type tty struct{ code string }

func (t tty) Secret(context.Context, string) (string, error)        { return password, nil }
func (t tty) Code(context.Context, string) (string, error)          { return t.code, nil }
func (t tty) Choose(context.Context, string, []string) (int, error) { return 0, nil }

// shared is one browser for the tests of this package that are not about
// starting one: each login opens its tab in a browser context of its own
// (cookies apart, like an incognito window), so a test costs a tab, not a
// Chrome start (1-2 CPU-seconds on the 2-core machine). The product's own
// start launches it, and TestMain checks that its stop leaves no process;
// the end-to-end tests in internal/cli start a browser per login, as
// users do.
var shared struct {
	once sync.Once
	tab  context.Context
	stop func()
	dir  string
	err  error
}

// sharedTab opens a tab in a new browser context of the shared browser.
func sharedTab(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	needBrowser(t)
	shared.once.Do(func() {
		exe, err := hostSystem(runtime.GOOS, os.Getenv).find(os.Getenv("SAML2STS_BROWSER"))
		if err != nil {
			shared.err = err
			return
		}
		if shared.dir, shared.err = os.MkdirTemp("", "saml2sts-browser-"); shared.err != nil {
			return
		}
		shared.tab, shared.stop, shared.err = (&Provider{}).start(context.Background(), exe, shared.dir, true)
	})
	if shared.err != nil {
		t.Fatalf("shared browser: %v", shared.err)
	}
	return chromedp.NewContext(shared.tab, chromedp.WithNewBrowserContext())
}

func TestMain(m *testing.M) {
	// The browser tests mostly wait on the browser and the emulators: more
	// run at once than -parallel's default of one per CPU, unless given.
	testflag.Parallel(max(8, 4*runtime.GOMAXPROCS(0)))
	code := m.Run()
	if shared.stop != nil {
		shared.stop()
		if left := Leftovers(shared.dir); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "shared browser processes left behind: %v\n", left)
			code = 1
		}
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

type fixture struct {
	t     *testing.T
	p     *Provider
	jar   *idp.Jar
	dir   string
	trace bytes.Buffer
}

func newFixture(t *testing.T, next idp.Provider, cfg Config) *fixture {
	t.Helper()
	needBrowser(t)
	f := &fixture{t: t, dir: filepath.Join(t.TempDir(), "browser", "p")}
	f.jar, _ = idp.NewJar(nil)
	if cfg.Mode == "" {
		cfg.Mode = Always
	}
	cfg.Headless = true
	cfg.Dir, cfg.Identity = f.dir, "id-1"
	cfg.Trace = io.MultiWriter(&f.trace, tsWriter{t})
	cfg.Getenv = func(k string) string {
		if k == "DISPLAY" || k == "WAYLAND_DISPLAY" {
			return ""
		}
		return os.Getenv(k)
	}
	f.p = New(next, cfg)
	f.p.open = func(context.Context) (context.Context, func()) {
		tab, stop := sharedTab(t)
		return tab, stop
	}
	t.Cleanup(func() {
		if left := Leftovers(DataDir(f.dir)); len(left) > 0 {
			t.Errorf("browser processes left behind: %v", left)
		}
	})
	return f
}

func (f *fixture) req(url string, pr idp.Prompter) *idp.Request {
	return &idp.Request{URL: url, Username: "ana", Prompt: pr, Client: idp.NewClient(nil, f.jar),
		Password: func(context.Context) (string, error) { return password, nil }}
}

func (f *fixture) login(req *idp.Request) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a hang guard
	defer cancel()
	return f.p.Login(ctx, req)
}

func keycloakUser(o ...func(*idptest.User)) idptest.KeycloakOptions {
	u := idptest.User{Username: "ana", Password: password,
		Roles: []string{"arn:aws:iam::123456789012:role/R,arn:aws:iam::123456789012:saml-provider/corp"}}
	for _, fn := range o {
		fn(&u)
	}
	return idptest.KeycloakOptions{Users: []idptest.User{u}}
}

func TestKeycloakPasswordAndOTP(t *testing.T) {
	t.Parallel()
	kc, err := idptest.NewKeycloak(keycloakUser(func(u *idptest.User) { u.OTP = []idptest.OTP{{Code: "314159"}} }))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	f := newFixture(t, keycloak.New(), Config{})
	req := f.req(kc.URL(), tty{})
	req.MFACode = "314159"
	got, err := f.login(req)
	if err != nil {
		t.Fatalf("login: %v\ntrace:\n%s", err, f.trace.String())
	}
	if iss := kc.IssuedResponses(); len(iss) != 1 || iss[0] != got {
		t.Fatalf("got a SAMLResponse the IdP did not issue")
	}
	if st := kc.Stats(); st.PasswordPosts != 1 || st.OTPPosts != 1 {
		t.Errorf("stats %+v: want one password and one OTP post", st)
	}
	if !strings.Contains(string(f.jar.Export()), "KEYCLOAK_IDENTITY") {
		t.Errorf("the browser's session cookies did not reach the jar: %s", f.jar.Export())
	}
	for _, secret := range []string{password, "314159", got} {
		if strings.Contains(f.trace.String(), secret) {
			t.Errorf("trace leaks a secret:\n%s", f.trace.String())
		}
	}
	if fi, err := os.Stat(f.dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("state dir %v %v: want 0700", fi.Mode(), err)
	}
}

// tsWriter logs trace lines with the time since the test started.
type tsWriter struct{ t *testing.T }

func (w tsWriter) Write(p []byte) (int, error) {
	if testing.Verbose() {
		w.t.Logf("%s %s", time.Now().Format("15:04:05.000"), strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func TestJavaScriptOnlyPage(t *testing.T) {
	t.Parallel()
	js, err := idptest.NewJSOnly(idptest.JSOnlyOptions{Users: []idptest.User{{Username: "ana@example.com", Password: password,
		Roles: []string{"arn:aws:iam::123456789012:role/R,arn:aws:iam::123456789012:saml-provider/corp"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer js.Close()

	// The form adapter sees no form and says what to do.
	req0 := &idp.Request{URL: js.URL(), Username: "ana@example.com", Client: idp.NewClient(nil, nil)}
	if _, err := form.New().Login(context.Background(), req0); err == nil || !HandOff(err) {
		t.Fatalf("form adapter on a JavaScript-only page: %v, want an unexpected-page error", err)
	}

	f := newFixture(t, form.New(), Config{})
	req := f.req(js.URL(), noTTY{})
	req.Username = "ana@example.com"
	req.Password = func(context.Context) (string, error) { return "wrong-one", nil }
	_, err = f.login(req)
	var ae *idp.AuthError
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, "wrong username or password") {
		t.Fatalf("wrong password: %v, want the page's error text", err)
	}
}

// newPasskey makes a P-256 credential: the emulator's registered key and
// the virtual authenticator's copy of it.
func newPasskey(t *testing.T, rpID string) (idptest.WebAuthnKey, *Passkey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return idptest.WebAuthnKey{ID: id, PublicKey: &key.PublicKey},
		&Passkey{RPID: rpID, CredentialID: base64.RawURLEncoding.EncodeToString(id), PrivateKey: base64.StdEncoding.EncodeToString(der)}
}

// passkeyKeycloak is a Keycloak on localhost whose user signs in with a
// registered passkey only, and the virtual authenticator's copy of it.
func passkeyKeycloak(t *testing.T) (*idptest.Keycloak, *Passkey) {
	t.Helper()
	reg, pk := newPasskey(t, "localhost")
	o := keycloakUser(func(u *idptest.User) { u.WebAuthnOnly, u.WebAuthn = true, []idptest.WebAuthnKey{reg} })
	o.Hostname, o.WebAuthnAutoStart = "localhost", true
	kc, err := idptest.NewKeycloak(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	return kc, pk
}

// TestPasskeyWrongKey: a virtual authenticator whose key is not the
// registered one gets its assertion refused by the emulator's WebAuthn
// check, and with nobody there the login stops (the right key signs in:
// TestBrowserPasskeyE2E in internal/cli).
func TestPasskeyWrongKey(t *testing.T) {
	t.Parallel()
	kc, pk := passkeyKeycloak(t)
	// Another key: the emulator refuses the assertion, the page comes back
	// with its error, and nobody is there to try again.
	_, other := newPasskey(t, "localhost")
	other.CredentialID = pk.CredentialID // same id, wrong private key
	f2 := newFixture(t, keycloak.New(), Config{Passkey: other})
	f2.p.idle = 3 * time.Second
	// Once the password is in, look again only after the browser has
	// posted the assertion: however slow the machine, the page that stays
	// put is the refused one (the wait counts as idle time).
	f2.p.hook = func(context.Context) {
		guard := time.Now().Add(2 * time.Minute) // a hang guard
		for st := kc.Stats(); st.PasswordPosts > 0 && st.WebAuthnPosts == 0 && time.Now().Before(guard); st = kc.Stats() {
			time.Sleep(20 * time.Millisecond)
		}
	}
	_, err := f2.login(f2.req(kc.URL(), noTTY{}))
	var he *HumanError
	if !errors.As(err, &he) || !errors.Is(err, idp.ErrNoTerminal) {
		t.Fatalf("wrong key: %v, want a HumanError", err)
	}
	if st := kc.Stats(); st.WebAuthnLogins != 0 || st.WebAuthnPosts < 1 {
		t.Errorf("stats %+v: the wrong key's assertion should be posted and refused", st)
	}
}

// TestFallback: the adapter stops at a WebAuthn page; with someone at the
// terminal the login goes on in the browser, without one the adapter's
// error (with its --browser hint) stands.
func TestFallback(t *testing.T) {
	t.Parallel()
	kc, pk := passkeyKeycloak(t)
	f := newFixture(t, keycloak.New(), Config{Mode: Fallback, Passkey: pk})
	var notice bytes.Buffer
	req := f.req(kc.URL(), noTTY{})
	req.Notice = &notice
	_, err := f.login(req)
	var ue *idp.UnsupportedError
	if !errors.As(err, &ue) || !strings.HasSuffix(err.Error(), "run again with --browser") || strings.Contains(f.trace.String(), "starting") {
		t.Fatalf("no terminal: %v (trace %q), want the adapter's error and no browser", err, f.trace.String())
	}
	req = f.req(kc.URL(), tty{})
	req.Notice = &notice
	got, err := f.login(req)
	if err != nil {
		t.Fatalf("fallback: %v\n%s", err, f.trace.String())
	}
	if !strings.Contains(notice.String(), "continuing in the browser") || kc.Stats().WebAuthnLogins != 1 || kc.IssuedResponses()[0] != got {
		t.Errorf("notice %q, stats %+v", notice.String(), kc.Stats())
	}
	// The adapter posted the password once, the browser once more.
	if st := kc.Stats(); st.PasswordPosts != 3 {
		t.Errorf("password posts = %d, want 3 (adapter twice, browser once)", st.PasswordPosts)
	}
}

// TestClosedAndTimeout: the window closed mid-login is exit-1 material
// saying so; a page nobody finishes ends at browser_timeout.
func TestClosedAndTimeout(t *testing.T) {
	t.Parallel()
	kc, err := idptest.NewKeycloak(keycloakUser(func(u *idptest.User) { u.WebAuthnOnly = true }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close) // after the parallel subtests

	t.Run("closed", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, keycloak.New(), Config{})
		f.p.hook = func(ctx context.Context) {
			if title, _ := chromedp.Run(ctx, chromedp.Title()); title != "" {
				chromedp.Call(ctx, page.Close, cdp.Empty{})
			}
		}
		_, err := f.login(f.req(kc.URL(), tty{}))
		var ce *ClosedError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "window was closed") {
			t.Fatalf("closed window: %v", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		// The poll's own deadline ends it (TimeoutError carries the
		// timeout applied); a bound on the wall time would depend on load.
		f := newFixture(t, keycloak.New(), Config{Timeout: 3 * time.Second})
		_, err := f.login(f.req(kc.URL(), tty{}))
		var te *TimeoutError
		if !errors.As(err, &te) || te.After != 3*time.Second || !strings.Contains(err.Error(), "browser_timeout") {
			t.Fatalf("timeout: %v", err)
		}
	})
}

// TestSnapshotHidden: the page copy form.Find reads marks exactly the
// inputs and error texts the person cannot see (Entra's two-step page:
// the password input waits under display:none).
func TestSnapshotHidden(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `<html><head><title>t</title></head><body><form id="f">
<input type="email" name="loginfmt" id="user" value="">
<input type="password" name="passwd" id="pw" style="display:none">
<div id="err1" role="alert" style="display:none">hidden error</div><div id="err2" role="alert">shown error</div>
<input type="submit" id="go" value="Next"></form></body></html>`)
	}))
	defer srv.Close()
	tab, stop := sharedTab(t)
	defer stop()
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Navigate(srv.URL))
	var snap snapshot
	if err == nil {
		snap, err = chromedp.Run(ctx, chromedp.Evaluate[snapshot](snapshotJS))
	}
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(snap.HTML))
	if err != nil {
		t.Fatal(err)
	}
	for sel, want := range map[string]string{"#user": "email", "#pw": "hidden", "#go": "submit"} {
		if got := doc.Find(sel).AttrOr("type", ""); got != want {
			t.Errorf("%s type %q, want %q", sel, got, want)
		}
	}
	if _, hidden := doc.Find("#err1").Attr("hidden"); !hidden {
		t.Errorf("#err1 is not marked hidden")
	}
	if _, hidden := doc.Find("#err2").Attr("hidden"); hidden {
		t.Errorf("#err2 is marked hidden")
	}
	if f := form.Find(doc, nil, false); f.Kind != "username" {
		t.Errorf("form.Find on the two-step page: kind %q, want username", f.Kind)
	}
}

package cli_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/browser"
	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

// Browser login end to end: the binary drives the machine's Chromium
// (headless: the worlds have no DISPLAY and no terminal) against the
// emulators. Each login starts a real browser, so these tests are few
// and each does several things.

// needChromium skips without a browser, except in CI, which must run them.
func needChromium(t *testing.T) {
	t.Helper()
	for _, n := range []string{"chromium", "google-chrome", "google-chrome-stable", "chromium-browser"} {
		if _, err := lookPath(n); err == nil {
			return
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set and no Chromium or Chrome is on PATH: .ci/run installs Debian's chromium")
	}
	t.Skip("no Chromium or Chrome on PATH: apt-get install chromium to run the browser tests")
}

func lookPath(name string) (string, error) {
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", os.ErrNotExist
}

// browserState is the profile's private browser directory in w.
func (w *world) browserState(profile string) string {
	return filepath.Join(w.dir, "cache", "saml2sts", "browser", profile)
}

// noLeftovers fails when a browser process of w outlived its command.
func (w *world) noLeftovers() {
	w.t.Helper()
	if runtime.GOOS != "linux" {
		return
	}
	dirs, _ := filepath.Glob(filepath.Join(w.dir, "cache", "saml2sts", "browser", "*", "chrome"))
	for _, d := range dirs {
		if left := browser.Leftovers(d); len(left) > 0 {
			w.t.Errorf("browser processes outlived the command: %v (%s)", left, d)
		}
	}
}

// leakCheck fails when any output shows one of secrets.
func leakCheck(t *testing.T, secrets []string, rs ...result) {
	t.Helper()
	for _, r := range rs {
		for _, s := range secrets {
			if s != "" && (strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s)) {
				t.Errorf("output leaks a secret (%.6s…):\n%s", s, r)
			}
		}
	}
}

func TestBrowserKeycloakE2E(t *testing.T) {
	needChromium(t)
	t.Parallel()
	w := newWorld(t, withOTP)
	w.configure("b", "--role-arn", reader, "--browser", "--refresh-window", "59m59s")
	cfg, _ := os.ReadFile(filepath.Join(w.dir, "config", "saml2sts", "config"))
	if !strings.Contains(string(cfg), "browser = always") {
		t.Fatalf("configure --browser did not write browser = always:\n%s", cfg)
	}
	login := w.mustRun(password+"\n", "login", "--profile", "b", "--password-stdin", "--mfa-code", otpCode, "--debug")
	if !strings.Contains(login.stderr, "Logged in") || !strings.Contains(login.stderr, "debug: browser page \"Sign in to corp\"") {
		t.Errorf("login: %s", login)
	}
	if st := w.kc.Stats(); st.PasswordPosts != 1 || st.OTPPosts != 1 || st.SAMLIssued != 1 {
		t.Errorf("IdP stats %+v: want one password, one code, one assertion; login:\n%s", st, login)
	}
	if fi, err := os.Stat(w.browserState("b")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("browser state dir: %v %v, want 0700", fi, err)
	}
	w.noLeftovers()

	// Stale a second later: credential-process (no terminal, no password)
	// re-mints headless from the saved browser cookies.
	w.advance(2 * time.Second) // past the refresh window of 59m59s
	cp := w.mustRun("", "credential-process", "--profile", "b")
	c := parseCreds(t, cp.stdout)
	if st := w.kc.Stats(); st.PasswordPosts != 1 || st.SessionReuses != 1 {
		t.Errorf("IdP stats %+v: want the stored session reused, no password", st)
	}
	if issued := w.st.Issued(); len(issued) != 2 || issued[1].AccessKeyID != c.AccessKeyID {
		t.Errorf("credential-process did not print the re-minted key")
	}
	w.noLeftovers()

	// --force: a fresh browser profile and no stored session, so the
	// login form comes back and the password is sent again; a wrong one
	// is exit 3 with the page's own words (one browser run for both).
	forced := w.run("wrong-"+password+"\n", "login", "--profile", "b", "--password-stdin", "--mfa-code", otpCode, "--force")
	if forced.code != 3 || !strings.Contains(forced.stderr, "Invalid username or password.") {
		t.Errorf("--force with a wrong password: want exit 3 and the page's text: %s", forced)
	}
	if st := w.kc.Stats(); st.PasswordPosts != 2 || st.SessionReuses != 1 {
		t.Errorf("IdP stats %+v: --force should log in from scratch", st)
	}
	w.noLeftovers()

	secrets := append([]string{password, "wrong-" + password, otpCode}, w.kc.IssuedResponses()...)
	leakCheck(t, append(secrets, w.kc.SessionCookies()...), login, cp, forced)

	w.mustRun("", "logout", "--profile", "b")
	if _, err := os.Stat(w.browserState("b")); !os.IsNotExist(err) {
		t.Errorf("logout left the browser profile: %v", err)
	}
}

func TestBrowserRefusalsE2E(t *testing.T) {
	needChromium(t)
	t.Parallel()
	w := newWorld(t, func(ko *idptest.KeycloakOptions, _ *ststest.Options) {
		ko.Users = append(ko.Users, idptest.User{Username: "key", Password: password, WebAuthnOnly: true,
			Roles: []string{reader + "," + provider}})
	})
	// (A wrong password: TestBrowserKeycloakE2E, with --force.)

	// A security key and nobody at the window (no terminal, no display):
	// exit 4 naming the login command, at browser_timeout (the --debug
	// line says which timeout the login runs under; a bound on the wall
	// time would depend on the machine's load).
	w.configure("k", "--role-arn", reader, "--browser", "--username", "key", "--browser-timeout", "3s")
	r := w.run(password+"\n", "login", "--profile", "k", "--password-stdin", "--debug")
	if r.code != 4 || !strings.Contains(r.stderr, "saml2sts login --profile k") {
		t.Errorf("security key with nobody there: want exit 4 and the login command: %s", r)
	}
	if !strings.Contains(r.stderr, "(headless) for ") || !strings.Contains(r.stderr, ", timeout 3s\n") {
		t.Errorf("the 3s browser_timeout was not applied: %s", r)
	}
	leakCheck(t, []string{password}, r)
	w.noLeftovers()

	// Without the browser the adapter says what would work.
	w.configure("k", "--browser=never", "--username", "key")
	r = w.run(password+"\n", "login", "--profile", "k", "--password-stdin")
	if r.code == 0 || !strings.HasSuffix(strings.TrimSpace(r.stderr), "run again with --browser") {
		t.Errorf("keycloak adapter on a WebAuthn page: want the --browser hint: %s", r)
	}
}

func TestBrowserJavaScriptOnlyE2E(t *testing.T) {
	needChromium(t)
	t.Parallel()
	js, err := idptest.NewJSOnly(idptest.JSOnlyOptions{Users: []idptest.User{{Username: "ana@example.com", Password: password,
		Roles: []string{reader + "," + provider}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(js.Close)
	w := newBareWorld(t, js.Certificate(), ststest.Options{})
	w.mustRun("", "configure", "--profile", "j", "--provider", "form", "--url", js.URL(), "--username", "ana@example.com",
		"--role-arn", reader, "--region", "eu-west-1")

	// The form adapter cannot: the page is built by script.
	r := w.run(password+"\n", "login", "--profile", "j", "--password-stdin")
	if r.code == 0 || !strings.Contains(r.stderr, "run again with --browser") {
		t.Errorf("form adapter on a JavaScript-only page: %s", r)
	}
	// The browser can, with the flag alone.
	ok := w.mustRun(password+"\n", "login", "--profile", "j", "--password-stdin", "--browser")
	if st := js.Stats(); st.Logins != 1 || st.SAMLIssued != 1 {
		t.Errorf("emulator stats %+v", st)
	}
	leakCheck(t, append(append([]string{password}, js.IssuedResponses()...), js.Secrets()...), r, ok)
	w.noLeftovers()
}

// TestBrowserPasskeyE2E: a WebAuthn-only Keycloak account signs in with a
// passkey: the binary's headless browser answers navigator.credentials.get
// from a DevTools virtual authenticator holding the registered key, and
// the emulator verifies the assertion (ES256 signature, challenge, origin,
// rpIdHash, user verification).
func TestBrowserPasskeyE2E(t *testing.T) {
	needChromium(t)
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	id := make([]byte, 16)
	rand.Read(id)
	w := newWorld(t, func(ko *idptest.KeycloakOptions, _ *ststest.Options) {
		ko.Hostname, ko.WebAuthnAutoStart = "localhost", true
		ko.Users[0].WebAuthnOnly = true
		ko.Users[0].WebAuthn = []idptest.WebAuthnKey{{ID: id, PublicKey: &key.PublicKey}}
	})
	pk, _ := json.Marshal(map[string]string{"rp_id": "localhost", "credential_id": base64.RawURLEncoding.EncodeToString(id),
		"private_key": base64.StdEncoding.EncodeToString(der)})
	pkFile := filepath.Join(w.dir, "passkey.json")
	if err := os.WriteFile(pkFile, pk, 0o600); err != nil {
		t.Fatal(err)
	}
	w.env["SAML2STS_BROWSER_PASSKEY"] = pkFile
	w.configure("pk", "--role-arn", reader, "--browser")
	r := w.mustRun(password+"\n", "login", "--profile", "pk", "--password-stdin")
	if st := w.kc.Stats(); st.WebAuthnLogins != 1 || st.SAMLIssued != 1 {
		t.Errorf("IdP stats %+v: want one verified WebAuthn assertion", st)
	}
	leakCheck(t, append([]string{password, base64.StdEncoding.EncodeToString(der)}, w.kc.IssuedResponses()...), r)
	w.noLeftovers()
}

// TestBrowserOktaAndADFSE2E: the Okta sign-in page (built by its widget
// script, with a TOTP challenge) and the AD FS sign-in form, through the
// browser.
func TestBrowserOktaAndADFSE2E(t *testing.T) {
	needChromium(t)
	t.Parallel()
	t.Run("okta", func(t *testing.T) {
		t.Parallel()
		w := newOktaWorld(t, idptest.OktaOptions{}, "", idptest.OktaFactor{Type: "token:software:totp", Code: oktaTOTP})
		r := w.mustRun(password+"\n", "login", "--profile", "o", "--password-stdin", "--mfa-code", oktaTOTP, "--browser")
		if st := w.k.Stats(); st.PasswordPosts != 1 || st.FactorVerifies != 1 || st.SAMLIssued != 1 {
			t.Errorf("Okta stats %+v: want one password, one code, one assertion", st)
		}
		w.scan(r)
		w.noLeftovers()
	})
	t.Run("adfs", func(t *testing.T) {
		t.Parallel()
		w, a := adfsWorld(t, idptest.ADFSOptions{}, "--role-arn", reader, "--browser")
		r := w.mustRun(password+"\n", "login", "--profile", "a", "--password-stdin")
		if n := len(a.IssuedResponses()); n != 1 {
			t.Errorf("AD FS issued %d assertions, want 1", n)
		}
		checkNoSecrets(t, a, r.stdout+r.stderr)
		w.noLeftovers()
	})
}

package cli_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

// fetchNoRedirect GETs u and returns the status and Location.
func fetchNoRedirect(t *testing.T, u string) (int, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// consoleWorld is a world logged in as profile p, with the sign-in
// endpoint pointed at the emulator.
func consoleWorld(t *testing.T, opts ...worldOpt) *world {
	t.Helper()
	w := newWorld(t, opts...)
	w.configure("p", "--role-arn", reader)
	w.mustRun(password, "login", "--profile", "p", "--password-stdin")
	w.env["SAML2STS_SIGNIN_URL"] = w.st.SigninURL()
	return w
}

// loginLink checks stdout is exactly one sign-in URL on the emulator and
// returns it parsed.
func loginLink(t *testing.T, w *world, r result) *url.URL {
	t.Helper()
	if strings.Count(r.stdout, "\n") != 1 || !strings.HasSuffix(r.stdout, "\n") {
		t.Fatalf("stdout is not one line: %s", r)
	}
	u, err := url.Parse(strings.TrimSpace(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	if base := u.Scheme + "://" + u.Host + u.Path; base != w.st.SigninURL() || u.Query().Get("Action") != "login" {
		t.Fatalf("not a login URL on the emulator: %s", u)
	}
	return u
}

func TestConsolePrint(t *testing.T) {
	t.Parallel()
	w := consoleWorld(t)
	tests := []struct {
		args []string
		dest string
	}{
		{nil, "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"},
		{[]string{"--destination", "/s3/home"}, "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1"},
		{[]string{"--destination", "https://console.aws.amazon.com/iam/home#/roles"}, "https://console.aws.amazon.com/iam/home#/roles"},
	}
	for _, tt := range tests {
		r := w.mustRun("", append([]string{"console", "--print", "--profile", "p"}, tt.args...)...)
		u := loginLink(t, w, r)
		if got := u.Query().Get("Destination"); got != tt.dest {
			t.Errorf("%v: Destination = %q, want %q", tt.args, got, tt.dest)
		}
		if status, loc := fetchNoRedirect(t, u.String()); status != http.StatusFound || loc != tt.dest {
			t.Errorf("%v: the link gives %d -> %q, want 302 -> %q", tt.args, status, loc, tt.dest)
		}
		if !strings.Contains(r.stderr, "15 minutes") || !strings.Contains(r.stderr, "do not share") {
			t.Errorf("no warning that the link is a credential: %s", r.stderr)
		}
	}
	if n := w.st.Calls("AssumeRoleWithSAML"); n != 1 {
		t.Errorf("AssumeRoleWithSAML calls = %d, want 1 (console uses the cached credentials)", n)
	}
	if n := w.st.Calls("getSigninToken"); n != len(tests) {
		t.Errorf("getSigninToken calls = %d, want %d", n, len(tests))
	}
}

func TestConsoleDebugRedaction(t *testing.T) {
	t.Parallel()
	w := consoleWorld(t)
	r := w.mustRun("", "--debug", "console", "--print", "--profile", "p")
	if !strings.Contains(r.stderr, "debug: http") || !strings.Contains(r.stderr, "Action=getSigninToken") {
		t.Fatalf("no trace of the getSigninToken call: %s", r.stderr)
	}
	token := loginLink(t, w, r).Query().Get("SigninToken")
	iss := w.st.Issued()[0]
	for what, s := range map[string]string{
		"sign-in token": token, "secret key": iss.SecretAccessKey,
		"session token": iss.SessionToken[:20], "access key": iss.AccessKeyID,
	} {
		if strings.Contains(r.stderr, s) || strings.Contains(r.stderr, url.QueryEscape(s)) {
			t.Errorf("--debug stderr shows the %s:\n%s", what, r.stderr)
		}
	}
}

func TestConsoleBrowser(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		t.Skip("xdg-open is the Linux/BSD opener")
	}
	w := consoleWorld(t)

	// No graphical session: the link goes to stdout, with a warning.
	r := w.mustRun("", "console", "--profile", "p")
	loginLink(t, w, r)
	if !strings.Contains(r.stderr, "No browser") {
		t.Errorf("stderr: %s", r.stderr)
	}

	// A graphical session with an xdg-open that records its argument.
	bin := filepath.Join(w.dir, "bin")
	got := filepath.Join(w.dir, "opened")
	if err := os.MkdirAll(bin, 0o700); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nprintf '%s' \"$1\" > " + got + "\nexit ${XDG_EXIT:-0}\n"
	if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	w.env["PATH"] = bin + string(os.PathListSeparator) + w.env["PATH"]
	w.env["DISPLAY"] = ":0"
	r = w.mustRun("", "console", "--profile", "p")
	if r.stdout != "" || !strings.Contains(r.stderr, "Opened the AWS console") {
		t.Errorf("opening in a browser: %s", r)
	}
	link, err := os.ReadFile(got)
	if err != nil {
		t.Fatal("xdg-open was not run:", err)
	}
	if status, _ := fetchNoRedirect(t, string(link)); status != http.StatusFound {
		t.Errorf("xdg-open got %q, which gives %d", link, status)
	}

	// The opener fails: fall back to stdout.
	w.env["XDG_EXIT"] = "3"
	r = w.mustRun("", "console", "--profile", "p")
	loginLink(t, w, r)
	if !strings.Contains(r.stderr, "Could not open a browser") {
		t.Errorf("stderr: %s", r.stderr)
	}
}

func TestConsoleErrors(t *testing.T) {
	t.Parallel()
	clk := &ststest.Clock{}
	w := consoleWorld(t, func(_ *idptest.KeycloakOptions, so *ststest.Options) { so.Now = clk.Now })
	secret := w.st.Issued()[0].SecretAccessKey

	// AWS no longer accepts the credentials saml2sts still holds.
	clk.Advance(2 * time.Hour)
	r := w.run("", "console", "--print", "--profile", "p")
	clk.Advance(-2 * time.Hour)
	if r.code != 5 || r.stdout != "" || !strings.Contains(r.stderr, "HTTP 400") || !strings.Contains(r.stderr, "run saml2sts login --profile p") {
		t.Errorf("credentials refused by sign-in: want exit 5 and a login hint, got %s", r)
	}
	if strings.Contains(r.stderr, secret) {
		t.Errorf("error shows the secret key")
	}

	for _, tt := range []struct {
		env, val string
		args     []string
		want     string
	}{
		{"SAML2STS_SIGNIN_URL", "http://signin.example.com/federation", nil, "SAML2STS_SIGNIN_URL"},
		{"SAML2STS_SIGNIN_URL", "signin.example.com", nil, "SAML2STS_SIGNIN_URL"},
		{"", "", []string{"--destination", "http://console.aws.amazon.com/"}, "--destination"},
		{"", "", []string{"--destination", "javascript:alert(1)"}, "--destination"},
	} {
		if tt.env != "" {
			w.env[tt.env] = tt.val
		}
		r := w.run("", append([]string{"console", "--print", "--profile", "p"}, tt.args...)...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%s=%s %v: want exit 2 naming %s, got %s", tt.env, tt.val, tt.args, tt.want, r)
		}
		if tt.env != "" {
			w.env[tt.env] = w.st.SigninURL()
		}
	}
	if n := w.st.Calls("getSigninToken"); n != 1 {
		t.Errorf("getSigninToken calls = %d, want 1 (bad settings fail before any call)", n)
	}
}

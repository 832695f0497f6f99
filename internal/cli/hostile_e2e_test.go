package cli_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

// oddPassword has a character of each class that encodings change.
const (
	oddPassword = `Tr0ub4dor & <3 "x"/'!`
	oddCode     = "271828"
)

// newHostileWorld starts a hostile IdP (ana, oddPassword, code oddCode)
// playing sc next to a bystander, and profile "h" using provider form.
// The run's temp dir is inside the world, so --debug files can be read.
func newHostileWorld(t *testing.T, sc idptest.Scenario) (*world, *idptest.Hostile, *idptest.Bystander) {
	t.Helper()
	by := idptest.NewBystander()
	t.Cleanup(by.Close)
	h, err := idptest.NewHostile(idptest.HostileOptions{Scenario: sc, Bystander: by.URL(), User: idptest.User{
		Username: "ana", Password: oddPassword, OTP: []idptest.OTP{{Code: oddCode}},
		Roles: []string{reader + "," + provider},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	w := newBareWorld(t, h.Certificate(), ststest.Options{})
	tmp := filepath.Join(w.dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	w.env["TMPDIR"] = tmp
	w.mustRun("", "configure", "--profile", "h", "--provider", "form", "--url", h.URL(),
		"--username", "ana", "--region", "eu-west-1", "--role-arn", reader)
	return w, h, by
}

// encodings are the forms a secret takes in trace lines and pages.
func encodings(s string) map[string]string {
	j, _ := json.Marshal(s)
	var jsonU, jsHex strings.Builder
	for _, c := range []byte(s) {
		fmt.Fprintf(&jsonU, `\u%04x`, c)
		fmt.Fprintf(&jsHex, `\x%02X`, c)
	}
	return map[string]string{
		"raw": s, "query": url.QueryEscape(s), "path": url.PathEscape(s), "html": html.EscapeString(s),
		"json": strings.Trim(string(j), `"`), "json \\u": jsonU.String(), "js \\x": jsHex.String(),
		"base64": base64.StdEncoding.EncodeToString([]byte(s)), "base64url": base64.RawURLEncoding.EncodeToString([]byte(s)),
	}
}

// debugFiles is the text of every file under dir, and the names of the
// saml2sts-debug-* dirs in it that are empty.
func debugFiles(t *testing.T, dir string) (text string, empty []string) {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if ents, _ := os.ReadDir(p); len(ents) == 0 && strings.HasPrefix(d.Name(), "saml2sts-debug-") {
				empty = append(empty, p)
			}
			return nil
		}
		c, err := os.ReadFile(p)
		b.Write(c)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), empty
}

// noEncodedSecret fails when text holds the password or the code in any encoding.
func noEncodedSecret(t *testing.T, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for enc, v := range encodings(s) {
			if strings.Contains(text, v) {
				t.Errorf("%s holds the secret %q (%s: %q)", where, s, enc, v)
			}
		}
	}
}

// TestDebugScrubsOddFieldNamesE2E: a form whose fields are named login,
// pwd and answer, and a page echoing what was sent, leave neither the
// password nor the code anywhere in --debug output or saved pages; a run
// that saves no page leaves no debug dir behind.
func TestDebugScrubsOddFieldNamesE2E(t *testing.T) {
	t.Parallel()
	t.Run("login", func(t *testing.T) {
		t.Parallel()
		w, h, _ := newHostileWorld(t, idptest.OddNames)
		r := w.mustRun(oddPassword+"\n", "--debug", "login", "--profile", "h", "--password-stdin", "--mfa-code", oddCode)
		if !strings.Contains(r.stderr, "debug: http") || !strings.Contains(r.stderr, "Logged in") {
			t.Fatalf("login: %s", r)
		}
		if !strings.Contains(r.stderr, "pwd=REDACTED") || !strings.Contains(r.stderr, "answer=REDACTED") {
			t.Errorf("trace does not show the filled fields as REDACTED:\n%s", r.stderr)
		}
		files, empty := debugFiles(t, w.env["TMPDIR"])
		noEncodedSecret(t, "output", r.stdout+r.stderr, oddPassword, oddCode)
		noEncodedSecret(t, "temp dir", files, oddPassword, oddCode)
		noSecrets(t, w, h, r.stdout+r.stderr+files)
		if len(empty) > 0 {
			t.Errorf("--debug left empty dirs: %v", empty)
		}
	})
	t.Run("echo", func(t *testing.T) {
		t.Parallel()
		w, h, _ := newHostileWorld(t, idptest.EchoSecrets)
		r := w.run(oddPassword+"\n", "--debug", "login", "--profile", "h", "--password-stdin", "--mfa-code", oddCode)
		if r.code != 1 || !strings.Contains(r.stderr, "unexpected page") || !strings.Contains(r.stderr, "redacted copy") {
			t.Fatalf("want an unexpected page with a saved copy: %s", r)
		}
		files, _ := debugFiles(t, w.env["TMPDIR"])
		if !strings.Contains(files, "Something went wrong") {
			t.Fatalf("no saved page in the temp dir")
		}
		noEncodedSecret(t, "output", r.stdout+r.stderr, oddPassword, oddCode)
		noEncodedSecret(t, "saved page", files, oddPassword, oddCode)
		noSecrets(t, w, h, r.stdout+r.stderr+files)
	})
}

// TestHostileIdPE2E: through the whole pipeline, each hostile IdP ends in
// one clear line and an exit code, writes no credentials, and the
// bystander receives no secret and no assertion.
func TestHostileIdPE2E(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		sc   idptest.Scenario
		code int
		want string
	}{
		{idptest.ForeignAction, 1, "refusing to send the password"},
		{idptest.RedirectPost, 1, "refusing to send the password"},
		{idptest.RedirectLoop, 1, "too many redirects"},
		{idptest.WrappedSignature, 1, "signature wrapping"},
		{idptest.ForeignDestination, 1, "not to AWS sign-in"},
	} {
		t.Run(string(tt.sc), func(t *testing.T) {
			t.Parallel()
			w, h, by := newHostileWorld(t, tt.sc)
			r := w.run(oddPassword+"\n", "--debug", "login", "--profile", "h", "--password-stdin", "--mfa-code", oddCode)
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			last := lines[len(lines)-1]
			if r.code != tt.code || !strings.HasPrefix(last, "saml2sts: ") || !strings.Contains(last, tt.want) {
				t.Fatalf("want exit %d and a last line with %q: %s", tt.code, tt.want, r)
			}
			if n := len(w.st.Issued()); n != 0 {
				t.Errorf("STS issued %d credentials", n)
			}
			files, _ := debugFiles(t, w.env["TMPDIR"])
			noEncodedSecret(t, "output", r.stdout+r.stderr+files, oddPassword, oddCode)
			noSecrets(t, w, h, r.stdout+r.stderr+files)
			for _, s := range append([]string{oddPassword, oddCode}, append(h.IssuedResponses(), h.SessionCookies()...)...) {
				if by.Holds(s) {
					t.Errorf("the bystander received %.20q", s)
				}
			}
		})
	}
}

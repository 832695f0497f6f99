package idp

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestRedactPage(t *testing.T) {
	blob := strings.Repeat("PHNhbWxwOlJlc3BvbnNl", 20) // 400 base64 characters
	page := `<html><head><title>Sign in</title>
<script>history.replaceState({}, "t", "https://id.example.com/realms/x/login-actions/authenticate?session_code=SESSIONSECRET&tab_id=T");</script>
<script>startSessionPolling("/realms/x/login-actions/restart?client_id=c&tab_id=TABSECRET");</script>
</head><body>
<form action="https://id.example.com/realms/x/login-actions/authenticate?session_code=ACTIONSECRET&amp;execution=e" method="post">
<input id="username" name="username" value="alice" type="text"/>
<input id="password" name="password" type="password" value="hunter2-pass"/>
<input type=password name=pw value=unquoted-pass>
<input name='otp' value='123456'>
<INPUT TYPE="HIDDEN" NAME="SAMLResponse" VALUE="` + blob + `"/>
<input type="hidden" name="RelayState" value="relay-secret">
<input type="hidden" name="execution" value="exec-hidden">
<input type="text" name="totp" value="654321" title="a > b">
<input type="submit" name="login" value="Log in">
</form>
<a href="/realms/x/login-actions/reset-credentials?code=LINKSECRET">Forgot?</a>
<p>` + blob + `</p>
</body></html>`
	got := string(RedactPage([]byte(page)))
	for _, secret := range []string{"SESSIONSECRET", "TABSECRET", "ACTIONSECRET", "hunter2-pass", "unquoted-pass", "123456",
		"PHNhbWxwOlJlc3BvbnNl", "relay-secret", "exec-hidden", "654321", "LINKSECRET"} {
		if strings.Contains(got, secret) {
			t.Errorf("redacted page still holds %q", secret)
		}
	}
	for _, keep := range []string{`<title>Sign in</title>`, `value="alice"`, `value="Log in"`, `title="a > b"`,
		"https://id.example.com/realms/x/login-actions/authenticate?REDACTED", `value="REDACTED"`, "/realms/x/login-actions/reset-credentials?REDACTED"} {
		if !strings.Contains(got, keep) {
			t.Errorf("redacted page lost %q:\n%s", keep, got)
		}
	}
	if again := string(RedactPage([]byte(got))); again != got {
		t.Error("redacting twice changes the page")
	}
}

func TestRedactPageFixture(t *testing.T) {
	b, err := os.ReadFile("testdata/keycloak/assertion.html")
	if err != nil {
		t.Fatal(err)
	}
	got := RedactPage(b)
	if bytes.Contains(got, []byte(`"abc123"`)) {
		t.Errorf("SAMLResponse value survived:\n%s", got)
	}
	if !bytes.Contains(got, []byte(`VALUE="Click"`)) {
		t.Error("the nameless button lost its label")
	}
}

func TestDirDebugger(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "debug")
	var log bytes.Buffer
	d := &DirDebugger{Dir: dir, W: &log}
	var _ Debugger = d

	path := d.SavePage("keycloak/page 1", []byte(`<input type="password" name="password" value="hunter2-pass">`))
	if path == "" {
		t.Fatalf("nothing saved; log: %s", log.String())
	}
	if filepath.Dir(path) != dir || strings.ContainsAny(filepath.Base(path), "/ ") {
		t.Errorf("saved to %s, want a plain file name in %s", path, dir)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("hunter2-pass")) {
		t.Errorf("saved page holds the password: %s", b)
	}
	if !strings.Contains(log.String(), path) {
		t.Errorf("log %q does not name %s", log.String(), path)
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Mode().Perm(); got != want {
				t.Errorf("%s has mode %o, want %o", p, got, want)
			}
		}
	}

	// A directory that cannot be created: nothing saved, the failure logged.
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o600)
	log.Reset()
	bad := &DirDebugger{Dir: filepath.Join(blocker, "sub"), W: &log}
	if got := bad.SavePage("x", []byte("x")); got != "" {
		t.Errorf("SavePage into an impossible dir returned %q", got)
	}
	if !strings.Contains(log.String(), "cannot save") {
		t.Errorf("failure not logged: %q", log.String())
	}
}

// TestDirDebuggerLazyDir: without a Dir, nothing is created until a page
// is saved; then one saml2sts-debug-* dir holds every page.
func TestDirDebuggerLazyDir(t *testing.T) {
	parent := t.TempDir()
	d := &DirDebugger{Parent: parent}
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Fatalf("created before any page: %v", ents)
	}
	p1, p2 := d.SavePage("a", []byte("<p>a</p>")), d.SavePage("b", []byte("<p>b</p>"))
	ents, _ := os.ReadDir(parent)
	if p1 == "" || p2 == "" || len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), "saml2sts-debug-") ||
		filepath.Dir(p1) != filepath.Join(parent, ents[0].Name()) || filepath.Dir(p2) != filepath.Dir(p1) {
		t.Errorf("saved %q and %q; parent holds %v", p1, p2, ents)
	}
}

package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

// withLag runs the IdP and STS emulators lag behind the real clock, so the
// credentials they issue are already lag old when saml2sts gets them: with
// 50m and the default 1h duration and 15m refresh_window, due for renewal
// and still valid for 10 minutes, without waiting.
func withLag(lag time.Duration) worldOpt {
	return func(ko *idptest.KeycloakOptions, so *ststest.Options) {
		clk := &ststest.Clock{}
		clk.Advance(-lag)
		ko.SAMLOptions.Now, so.Now = clk.Now, clk.Now
	}
}

// changingPassword writes a password_command that prints what setPassword
// last set and counts its runs in the returned file.
func (w *world) changingPassword() (script string, set func(string), runs func() int) {
	pwFile := filepath.Join(w.dir, "pw")
	counter := filepath.Join(w.dir, "pwruns")
	script = filepath.Join(w.dir, "pw.sh")
	body := fmt.Sprintf("#!/bin/sh\necho x >> %q\ncat %q\n", counter, pwFile)
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		w.t.Fatal(err)
	}
	set = func(pw string) {
		if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
			w.t.Fatal(err)
		}
	}
	set(password)
	runs = func() int { b, _ := os.ReadFile(counter); return strings.Count(string(b), "x") }
	return script, set, runs
}

// endBackoff stands for the wall clock passing the renewal backoff step,
// which these tests do not wait for: it drops the backoff from the cache
// index.
func (w *world) endBackoff() {
	w.t.Helper()
	path := filepath.Join(w.env["XDG_CACHE_HOME"], "saml2sts", "index.json")
	b, err := os.ReadFile(path)
	if err != nil {
		w.t.Fatal(err)
	}
	var idx map[string]any
	if err := json.Unmarshal(b, &idx); err != nil {
		w.t.Fatal(err)
	}
	if _, ok := idx["backoff"]; !ok {
		w.t.Fatalf("no backoff in the index: %s", b)
	}
	delete(idx, "backoff")
	b, _ = json.Marshal(idx)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// posts runs fn and returns how many times the IdP got a password.
func (w *world) posts(fn func()) int {
	before := w.kc.Stats().PasswordPosts
	fn()
	return w.kc.Stats().PasswordPosts - before
}

var stillValid = regexp.MustCompile(`^saml2sts: using the cached credentials of "\w+", valid until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(expire in \d+m\): [^\n]+; to renew now run: saml2sts login --profile \w+\n$`)

// TestCredentialProcessUnderOutage: an IdP that goes down, comes back,
// forgets its sessions and starts rejecting the password, with
// credential_process called in a loop: still-valid credentials are served
// throughout with a one-line notice, and the password goes out at most
// once per run.
func TestCredentialProcessUnderOutage(t *testing.T) {
	t.Parallel()
	w := newWorld(t, withLag(50*time.Minute))
	script, setPassword, runs := w.changingPassword()
	w.configure("o", "--role-arn", reader, "--password-command", script)
	first := parseCreds(t, w.mustRun("", "credential-process", "--profile", "o").stdout)
	loop := func(n int, want string) {
		t.Helper()
		for i := range n {
			r := w.mustRun("", "credential-process", "--profile", "o")
			if c := parseCreds(t, r.stdout); c.AccessKeyID != first.AccessKeyID {
				t.Fatalf("call %d: key %s, want the still-valid %s", i, c.AccessKeyID, first.AccessKeyID)
			}
			if !stillValid.MatchString(r.stderr) || !strings.Contains(r.stderr, want) {
				t.Fatalf("call %d: notice %q, want one line naming %q", i, r.stderr, want)
			}
			noEncodedSecret(t, "output", r.stderr, password, "N3w-Passw0rd!")
		}
	}

	// Down: one attempt, then every call is served from the cache.
	w.kc.SetFault(idptest.Unreachable)
	if n := w.posts(func() { loop(1, "could not renew them"); loop(9, "renewal paused after a failure") }); n != 0 {
		t.Errorf("password posts while down = %d", n)
	}
	st := w.mustRun("", "status", "--profile", "o")
	if !strings.Contains(st.stderr, "o: renewal paused until ") || !strings.Contains(st.stderr, "after 1 failed attempts: keycloak: ") {
		t.Errorf("status does not show the paused renewal: %s", st)
	}
	var rows []struct {
		RenewalFailures int    `json:"renewal_failures"`
		RenewalError    string `json:"renewal_error"`
	}
	if err := json.Unmarshal([]byte(w.mustRun("", "status", "--json").stdout), &rows); err != nil || len(rows) != 1 ||
		rows[0].RenewalFailures != 1 || rows[0].RenewalError == "" {
		t.Errorf("status --json: %+v, %v", rows, err)
	}
	down := w.kc.Faulted()
	if down == 0 || down > 2 {
		t.Errorf("IdP requests while down = %d, want one attempt", down)
	}
	// 503 after the step.
	w.kc.SetFault(idptest.Unavailable)
	w.endBackoff()
	loop(1, "HTTP 503")
	loop(5, "renewal paused")
	if n := w.kc.Faulted(); n != down+1 {
		t.Errorf("IdP requests = %d, want %d", n, down+1)
	}

	// Back, and it forgot the session, and the password changed: one post.
	w.kc.SetFault(idptest.Healthy)
	w.kc.ExpireSessions()
	w.kc.SetPassword("ana", "N3w-Passw0rd!")
	w.endBackoff()
	if n := w.posts(func() { loop(1, "Invalid username or password."); loop(5, "renewal paused") }); n != 1 {
		t.Errorf("password posts = %d, want exactly 1", n)
	}
	// Past the step: password_command still prints the rejected password,
	// so nothing is posted.
	for range 3 {
		w.endBackoff()
		if n := w.posts(func() {
			loop(1, "the IdP rejected the password from password_command; fix it or run saml2sts login --profile o")
		}); n != 0 {
			t.Fatalf("posted the rejected password again")
		}
	}
	before := runs()
	loop(3, "renewal paused")
	if runs() != before {
		t.Errorf("password_command ran during the backoff")
	}

	// Fixed: the changed output is tried (one post) and renews.
	setPassword("N3w-Passw0rd!")
	w.endBackoff()
	var c processCreds
	if n := w.posts(func() {
		r := w.mustRun("", "credential-process", "--profile", "o")
		c = parseCreds(t, r.stdout)
		if r.stderr != "" {
			t.Errorf("stderr after a good renewal: %q", r.stderr)
		}
	}); n != 1 || c.AccessKeyID == first.AccessKeyID {
		t.Errorf("after fixing password_command: %d posts, key %s", n, c.AccessKeyID)
	}
	w.checkNoLeak(t, "N3w-Passw0rd!")
}

// TestRejectedPasswordNothingValid: with nothing cached, a rejected
// password_command output fails at once with exit 3 and the fix, and is
// never posted again; an interactive login clears the mark.
func TestRejectedPasswordNothingValid(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	script, setPassword, _ := w.changingPassword()
	setPassword("wrong-password")
	w.configure("x", "--role-arn", reader, "--password-command", script)
	const fix = "the IdP rejected the password from password_command; fix it or run saml2sts login --profile x"
	if n := w.posts(func() {
		r := w.run("", "credential-process", "--profile", "x")
		if r.code != 3 || r.stdout != "" || !strings.Contains(r.stderr, "Invalid username or password.") {
			t.Errorf("first call: %s", r)
		}
	}); n != 1 {
		t.Errorf("posts = %d, want 1", n)
	}
	for i := range 4 {
		if i%2 == 1 {
			w.endBackoff()
		}
		if n := w.posts(func() {
			r := w.run("", "credential-process", "--profile", "x")
			if r.code != 3 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 ||
				(i%2 == 1 && !strings.Contains(r.stderr, fix)) {
				t.Errorf("call %d: %s", i, r)
			}
			noEncodedSecret(t, "output", r.stderr, "wrong-password", password)
		}); n != 0 {
			t.Errorf("call %d posted the rejected password", i)
		}
	}
	// env and exec fail the same way, at once.
	for _, args := range [][]string{{"env", "--profile", "x"}, {"exec", "--profile", "x", "--", "true"}, {"exec", "--ecs-server", "--profile", "x", "--", "true"}} {
		if r := w.run("", args...); r.code != 3 || r.stdout != "" {
			t.Errorf("%v: %s", args, r)
		}
	}
	// saml2sts login with the right password: the mark and the backoff go.
	w.mustRun(password, "login", "--profile", "x", "--password-stdin")
	if r := w.mustRun("", "credential-process", "--profile", "x"); r.stderr != "" {
		t.Errorf("after login: %s", r)
	}
	if n := w.kc.Stats().PasswordPosts; n != 2 {
		t.Errorf("password posts = %d, want 2", n)
	}
	w.checkNoLeak(t, "wrong-password")
}

// TestExecECSServerUnderOutage: a child polling the container endpoint
// while the IdP is down, then while it rejects the password: every request
// answered with the still-valid credentials, one password post at most.
func TestExecECSServerUnderOutage(t *testing.T) {
	t.Parallel()
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not on PATH")
	}
	// Time stands still for the CLI, its credential server and the
	// emulators: the server's backoff and recheck (due after seconds of
	// wall time) cannot fire however slowly a loaded machine runs the 15
	// requests, so each run makes exactly its one up-front attempt.
	lag := &ststest.Clock{}
	lag.Advance(-50 * time.Minute)
	lag.Freeze()
	w := newWorld(t, func(ko *idptest.KeycloakOptions, so *ststest.Options) {
		ko.SAMLOptions.Now, so.Now = lag.Now, lag.Now
	})
	w.clock.Freeze()
	script, _, _ := w.changingPassword()
	w.configure("e", "--role-arn", reader, "--password-command", script)
	first := parseCreds(t, w.mustRun("", "credential-process", "--profile", "e").stdout)
	// 15 requests, from one curl (a process each cost more CPU than the
	// rest of the test): each answer is a JSON line, then its status line.
	// That none waits on the IdP shows in the answers and the IdP's
	// request count; -m only guards against a hang.
	poll := `u=$AWS_CONTAINER_CREDENTIALS_FULL_URI
"$1" -s -m 30 -w '%{http_code}\n' -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN"` + strings.Repeat(` "$u"`, 15) + ` || echo "curl failed $?"`
	check := func(r result) {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exec: %s", r)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 30 {
			t.Fatalf("%d lines, want 30 (15 answers, each with its status line); stderr %s", len(lines), r.stderr)
		}
		for i := 0; i < 30; i += 2 {
			if l := lines[i]; lines[i+1] != "200" || !strings.Contains(l, `"AccessKeyId":"`+first.AccessKeyID+`"`) {
				t.Fatalf("request %d: %s %.60q...%q", i/2, lines[i+1], l, l[max(0, len(l)-60):])
			}
		}
		noEncodedSecret(t, "output", r.stderr, password, "N3w-Passw0rd!")
		// The up-front notice only: the failed step is the broker's, and
		// on the frozen clock no server retry falls due.
		if !stillValid.MatchString(r.stderr) {
			t.Errorf("stderr %q, want the one notice line", r.stderr)
		}
	}

	w.kc.SetFault(idptest.Unreachable)
	if n := w.posts(func() { check(w.run("", "exec", "--ecs-server", "--profile", "e", "--", "sh", "-c", poll, "sh", curl)) }); n != 0 {
		t.Errorf("password posts while down = %d", n)
	}
	if n := w.kc.Faulted(); n == 0 || n > 2 {
		t.Errorf("IdP requests while down = %d, want one attempt", n)
	}

	w.kc.SetFault(idptest.Healthy)
	w.kc.ExpireSessions()
	w.kc.SetPassword("ana", "N3w-Passw0rd!")
	w.endBackoff()
	if n := w.posts(func() { check(w.run("", "exec", "--ecs-server", "--profile", "e", "--", "sh", "-c", poll, "sh", curl)) }); n != 1 {
		t.Errorf("password posts = %d, want exactly 1", n)
	}
	w.endBackoff()
	if n := w.posts(func() { check(w.run("", "exec", "--ecs-server", "--profile", "e", "--", "sh", "-c", poll, "sh", curl)) }); n != 0 {
		t.Errorf("password posts of a rejected password_command = %d, want 0", n)
	}
}

// checkNoLeak fails when a password shows up in the cache index, which
// holds no secret.
func (w *world) checkNoLeak(t *testing.T, secrets ...string) {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(w.env["XDG_CACHE_HOME"], "saml2sts", "index.json"))
	for _, s := range append(secrets, password) {
		if strings.Contains(string(b), s) {
			t.Errorf("the cache index holds a password")
		}
	}
}

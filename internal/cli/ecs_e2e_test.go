package cli_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/saml2sts/saml2sts/internal/cli"
)

// shadowing is what a parent shell may hold that would beat the container
// endpoint in the child's credential chain; exec --ecs-server removes it.
var shadowing = map[string]string{
	"AWS_ACCESS_KEY_ID":                      "AKIAIOSFODNN7EXAMPLE",
	"AWS_SECRET_ACCESS_KEY":                  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"AWS_SESSION_TOKEN":                      "stale-token",
	"AWS_SECURITY_TOKEN":                     "stale-token",
	"AWS_CREDENTIAL_EXPIRATION":              "2001-01-01T00:00:00Z",
	"AWS_PROFILE":                            "nosuch",
	"AWS_DEFAULT_PROFILE":                    "nosuch",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/bogus",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/nonexistent/token",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN":      "parent-token",
}

// envProbe prints the child's view of the variables that matter.
const envProbe = `echo "env:${AWS_ACCESS_KEY_ID-unset}|${AWS_SECRET_ACCESS_KEY-unset}|${AWS_SESSION_TOKEN-unset}|${AWS_SECURITY_TOKEN-unset}|${AWS_CREDENTIAL_EXPIRATION-unset}|${AWS_PROFILE-unset}|${AWS_DEFAULT_PROFILE-unset}|${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI-unset}|${AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE-unset}|$AWS_REGION|$AWS_DEFAULT_REGION"
echo "uri:$AWS_CONTAINER_CREDENTIALS_FULL_URI"
echo "token:$AWS_CONTAINER_AUTHORIZATION_TOKEN"
`

const wantProbe = "env:unset|unset|unset|unset|unset|unset|unset|unset|unset|eu-west-1|eu-west-1"

var uriLine = regexp.MustCompile(`(?m)^uri:(http://127\.0\.0\.1:\d+/)$`)
var tokenLine = regexp.MustCompile(`(?m)^token:([A-Za-z0-9_-]{43})$`)

func (w *world) shadow() {
	for k, v := range shadowing {
		w.env[k] = v
	}
}

// checkProbe checks the child's environment and returns the endpoint URL
// and token it was given.
func checkProbe(t *testing.T, out string) (uri, token string) {
	t.Helper()
	if !strings.Contains(out, wantProbe+"\n") {
		t.Errorf("child environment: want %q in:\n%s", wantProbe, out)
	}
	m, tm := uriLine.FindStringSubmatch(out), tokenLine.FindStringSubmatch(out)
	if m == nil || tm == nil {
		t.Fatalf("child has no loopback FULL_URI or no 32-byte token:\n%s", out)
	}
	if tm[1] == shadowing["AWS_CONTAINER_AUTHORIZATION_TOKEN"] {
		t.Errorf("child kept the parent's token")
	}
	return m[1], tm[1]
}

// callerIdentities picks the JSON documents aws sts get-caller-identity
// printed.
func callerIdentities(t *testing.T, out string) []struct{ Account, Arn string } {
	t.Helper()
	var ids []struct{ Account, Arn string }
	dec := json.NewDecoder(strings.NewReader(out[strings.Index(out, "{"):]))
	for dec.More() {
		var id struct{ Account, Arn string }
		if err := dec.Decode(&id); err != nil {
			t.Fatalf("aws output: %v\n%s", err, out)
		}
		ids = append(ids, id)
	}
	return ids
}

// TestExecECSServerAWSCLI: each AWS CLI, run by exec --ecs-server with a
// parent shell's credentials in the way, takes its credentials from our
// endpoint, and credentials that go stale while the child runs are renewed
// silently: the endpoint serves the still-usable ones at once and renews
// in the background, and the AWS CLI then signs with the renewed ones.
// One AWS CLI run per version; the test itself reads the endpoint in
// between.
func TestExecECSServerAWSCLI(t *testing.T) {
	t.Parallel()
	for name, aws := range awsCLIs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// 1h credentials renewed in their last 50 minutes: due 12
			// minutes on, on the clock the CLI and the emulators share, and
			// the renewed ones are not. The AWS CLI signs with the real
			// time: 12 minutes is within SigV4's 15 of skew.
			w := newWorld(t)
			script, counter := w.passwordScript()
			w.configure("r", "--role-arn", reader, "--password-command", script, "--duration", "1h", "--refresh-window", "50m")
			w.shadow()
			renewed := func(stdout, _ func() string) {
				// The child wrote its probe before pausing; its copy to
				// stdout may lag.
				w.waitUntil(func() bool { return tokenLine.MatchString(stdout()) }, nil, "the child's environment")
				uri, token := checkProbe(t, stdout())
				w.advance(12 * time.Minute)
				if key := ecsKey(t, uri, token); key != w.st.Issued()[0].AccessKeyID {
					t.Errorf("due credentials: served %s, want the still-usable %s at once", key, w.st.Issued()[0].AccessKeyID)
				}
				w.waitUntil(func() bool {
					iss := w.st.Issued()
					return len(iss) == 2 && ecsKey(t, uri, token) == iss[1].AccessKeyID
				}, nil, "the renewal")
			}
			r := w.runPaused([]func(stdout, stderr func() string){renewed},
				"exec", "--ecs-server", "--profile", "r", "--", "sh", "-c",
				envProbe+pauseChild+"pause 1\n"+`"$1" sts get-caller-identity --output json --endpoint-url "$2"`, "sh", aws, w.st.URL())
			if r.code != 0 {
				t.Fatalf("%s via exec --ecs-server: %s", awsVersion(aws), r)
			}
			ids := callerIdentities(t, r.stdout)
			if len(ids) != 1 || ids[0].Account != account || !strings.Contains(ids[0].Arn, "assumed-role/SearchReader/") {
				t.Errorf("aws says %+v", ids)
			}
			if got := w.st.Calls("GetCallerIdentity"); got != 1 {
				t.Errorf("GetCallerIdentity calls = %d", got)
			}
			// The up-front login, served from memory, then one silent
			// renewal.
			if n := len(w.st.Issued()); n != 2 {
				t.Errorf("issued %d credentials, want the up-front login and a silent renewal", n)
			}
			// The renewal used the stored IdP session; password_command
			// ran only for the first login.
			if b, _ := os.ReadFile(counter); strings.Count(string(b), "x") != 1 {
				t.Errorf("password_command ran %d times, want 1", strings.Count(string(b), "x"))
			}
			if s := w.kc.Stats(); s.SessionReuses != 1 {
				t.Errorf("IdP stats %+v: want 1 session reuse", s)
			}
			for _, iss := range w.st.Issued() {
				if strings.Contains(r.stdout+r.stderr, iss.SecretAccessKey) {
					t.Error("a secret key reached the child's output")
				}
			}
		})
	}
}

// ecsKey asks the container endpoint for credentials, as an SDK does, and
// returns the access key it served.
func ecsKey(t *testing.T, uri, token string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var c struct{ AccessKeyId string }
	if err := json.NewDecoder(res.Body).Decode(&c); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("endpoint: %s %v", res.Status, err)
	}
	return c.AccessKeyId
}

// pauseChild defines "pause N" for a child's sh -c script: it stops there
// until runPaused has run its step N ("$PAUSE" is a path the test watches).
const pauseChild = `pause() { : > "$PAUSE.$1.wait"; while [ ! -e "$PAUSE.$1.go" ]; do sleep 0.01; done; }
`

// runPaused runs args in-process; when the child script reaches "pause N"
// it waits there while steps[N-1] runs (moves the clock, waits for a
// condition), then goes on. A step gets the run's stdout and stderr so far.
func (w *world) runPaused(steps []func(stdout, stderr func() string), args ...string) result {
	w.t.Helper()
	pause := filepath.Join(w.dir, "pause")
	w.env["PAUSE"] = pause
	defer delete(w.env, "PAUSE")
	var out, errb syncBuffer
	done := make(chan int, 1)
	env := w.environ()
	go func() {
		done <- cli.Run(w.t.Context(), cli.Process{Args: args, Env: env, Stdin: strings.NewReader(""),
			Stdout: &out, Stderr: &errb, Now: w.clock.Now, Executable: w.exe, NoTerminal: w.tty == nil, TTY: w.tty})
	}()
	for i, step := range steps {
		mark := fmt.Sprintf("%s.%d", pause, i+1)
		w.waitUntil(func() bool { _, err := os.Stat(mark + ".wait"); return err == nil }, done, "pause "+strconv.Itoa(i+1))
		step(out.String, errb.String)
		if err := os.WriteFile(mark+".go", nil, 0o600); err != nil {
			w.t.Fatal(err)
		}
	}
	return result{<-done, out.String(), errb.String()}
}

// waitUntil polls cond until it holds; the run ending first (done) fails
// the test. There is no deadline of its own (an AWS CLI start took over a
// minute under load): go test's -timeout ends a run that hangs.
func (w *world) waitUntil(cond func() bool, done <-chan int, what string) {
	w.t.Helper()
	for !cond() {
		select {
		case code := <-done:
			w.t.Fatalf("the run ended (exit %d) before %s", code, what)
		case <-w.t.Context().Done():
			w.t.Fatalf("gave up waiting for %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestExecECSServerEndpoint talks to the endpoint from the child with curl,
// so the wiring is tested without an AWS CLI, and checks the exit status
// and that the server is gone when the child is.
func TestExecECSServerEndpoint(t *testing.T) {
	t.Parallel()
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not on PATH")
	}
	w := newWorld(t)
	w.configure("c", "--role-arn", reader)
	w.mustRun(password, "login", "--profile", "c", "--password-stdin")
	w.shadow()
	r := w.run("", "exec", "--ecs-server", "--profile", "c", "--", "sh", "-c", envProbe+`
echo "creds:$("$1" -s -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" "$AWS_CONTAINER_CREDENTIALS_FULL_URI")"
echo "noauth:$("$1" -s -o /dev/null -w '%{http_code}' "$AWS_CONTAINER_CREDENTIALS_FULL_URI")"
exit 7`, "sh", curl)
	if r.code != 7 {
		t.Fatalf("want the child's exit 7: %s", r)
	}
	uri, _ := checkProbe(t, r.stdout)
	m := regexp.MustCompile(`(?m)^creds:(.*)$`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no creds line:\n%s", r)
	}
	var c struct{ AccessKeyId, SecretAccessKey, Token, Expiration, AccountId string }
	if err := json.Unmarshal([]byte(m[1]), &c); err != nil {
		t.Fatalf("endpoint answer %q: %v", m[1], err)
	}
	iss := w.st.Issued()[0]
	if c.AccessKeyId != iss.AccessKeyID || c.SecretAccessKey != iss.SecretAccessKey || c.Token != iss.SessionToken ||
		c.AccountId != account || !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(c.Expiration) {
		t.Errorf("endpoint answer %+v", c)
	}
	if !strings.Contains(r.stdout, "noauth:401\n") {
		t.Errorf("request without the token was not refused with 401:\n%s", r.stdout)
	}
	if res, err := http.Get(uri); err == nil {
		res.Body.Close()
		t.Errorf("the endpoint still answers after the child exited")
	}
}

// TestExecECSServerLoginFailsFirst: with nothing cached and no way to log
// in, exec --ecs-server fails with exit 4 and never starts the command.
func TestExecECSServerLoginFailsFirst(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.configure("n", "--role-arn", reader)
	marker := filepath.Join(w.dir, "ran")
	r := w.run("", "exec", "--ecs-server", "--profile", "n", "--", "touch", marker)
	if r.code != 4 || !strings.Contains(r.stderr, "saml2sts login --profile n") {
		t.Errorf("want exit 4 with the login hint: %s", r)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran although the login failed")
	}
}

// TestExecECSServerNeverPromptsInBackground: with a terminal attached, a
// renewal that needs the password does not prompt (the command owns the
// terminal); it serves the still-valid credentials and says to log in.
func TestExecECSServerNeverPromptsInBackground(t *testing.T) {
	t.Parallel()
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not on PATH")
	}
	m, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer m.Close()
	defer tty.Close()
	var screen syncBuffer
	go io.Copy(&screen, m)

	w := newWorld(t, withOTP)
	w.configure("tty", "--role-arn", reader) // 1h, refreshed in the last 15m
	w.mustRun(password, "login", "--profile", "tty", "--password-stdin", "--mfa-code", otpCode)
	w.kc.ExpireSessions() // renewing now needs the password and a code
	w.tty = tty
	get := `"$1" -s -m 5 -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" "$AWS_CONTAINER_CREDENTIALS_FULL_URI"; echo` + "\n"
	// The second request finds the credentials due and has the server try
	// to renew them in the background, which needs the password: it says
	// so on stderr (the child waits for that) and serves the old ones.
	failed := func(_, stderr func() string) {
		w.waitUntil(func() bool { return strings.Contains(stderr(), "renewal failed") }, nil, "the renewal's notice")
	}
	r := w.runPaused([]func(stdout, stderr func() string){func(_, _ func() string) { w.advance(50 * time.Minute) }, failed},
		"exec", "--ecs-server", "--profile", "tty", "--", "sh", "-c", pauseChild+get+"pause 1\n"+get+"pause 2\n", "sh", curl)
	if r.code != 0 {
		t.Fatalf("exit: %s", r)
	}
	text := screen.String() + r.stderr
	if strings.Contains(text, "Password") || strings.Contains(text, "code") && strings.Contains(text, "OTP") {
		t.Errorf("a prompt appeared:\n%s", text)
	}
	if !strings.Contains(r.stderr, "saml2sts login --profile tty") {
		t.Errorf("no notice saying to log in: %s", r)
	}
	key := w.st.Issued()[0].AccessKeyID
	if n := strings.Count(r.stdout, `"AccessKeyId":"`+key+`"`); n != 2 {
		t.Errorf("want the still-valid key served twice, got %d: %s", n, r)
	}
	if n := len(w.st.Issued()); n != 1 {
		t.Errorf("issued %d credentials, want 1", n)
	}
}

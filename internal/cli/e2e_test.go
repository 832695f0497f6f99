package cli_test

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/internal/cli"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

// The end-to-end tests run commands in-process through cli.Run, the entry
// point the binary's main uses, each world with its own environment,
// streams and clock, so they run in parallel. A thin set needs the real
// binary (signals, a pty as controlling terminal, the AWS CLI running our
// credential_process, the keyring over D-Bus, exec's exit status): they
// call binary(t) or w.runBinary, which build it once, on first use.

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// binary returns the saml2sts binary, building it on first use.
func binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() { binPath, binErr = buildBinaries() })
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// helperBinary returns the warm-path credential_process helper, built
// with saml2sts. It is not beside saml2sts (configure would write it into
// credential_process instead): installPair puts the two together.
func helperBinary(t testing.TB) string {
	binary(t)
	return filepath.Join(binDir, "helper", "saml2sts-credential-process")
}

// buildBinaries builds saml2sts and the helper with one go build (one
// package load, links in parallel) into a fresh directory binDir. Linking
// costs CPU-seconds, so the output is kept between runs in a private
// directory under the user's cache, and go build relinks only what is
// stale. Each run works on hard links in a directory of its own: go build
// replaces a stale file rather than writing into it, so a concurrent run
// never sees a binary change under it.
func buildBinaries() (string, error) {
	names := []string{"saml2sts", "saml2sts-credential-process"}
	keep := ""
	if wd, err := os.Getwd(); err == nil {
		if cache, err := os.UserCacheDir(); err == nil {
			sum := sha256.Sum256([]byte(wd))
			keep = filepath.Join(cache, "saml2sts-tests", hex.EncodeToString(sum[:8]))
			if os.MkdirAll(keep, 0o700) != nil {
				keep = ""
			}
		}
	}
	if keep != "" {
		// Left by runs that were killed.
		old, _ := filepath.Glob(filepath.Join(keep, "run-*"))
		for _, d := range old {
			if st, err := os.Stat(d); err == nil && time.Since(st.ModTime()) > 24*time.Hour {
				os.RemoveAll(d)
			}
		}
	}
	var err error
	if binDir, err = os.MkdirTemp(keep, "run-"); err != nil {
		return "", err
	}
	for _, n := range names {
		if keep != "" {
			os.Link(filepath.Join(keep, n), filepath.Join(binDir, n)) // none yet: go build makes it
		}
	}
	out, err := exec.Command("go", "build", "-o", binDir+string(filepath.Separator), "../../cmd/saml2sts", "../../cmd/saml2sts-credential-process").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build saml2sts: %v\n%s", err, out)
	}
	for _, n := range names {
		if keep != "" {
			// Published by rename: a run linking it gets a whole file.
			tmp := filepath.Join(binDir, n+".keep")
			if os.Link(filepath.Join(binDir, n), tmp) == nil && os.Rename(tmp, filepath.Join(keep, n)) != nil {
				os.Remove(tmp)
			}
		}
	}
	helper := filepath.Join(binDir, "helper")
	if err := os.Mkdir(helper, 0o700); err != nil {
		return "", err
	}
	if err := os.Rename(filepath.Join(binDir, names[1]), filepath.Join(helper, names[1])); err != nil {
		return "", err
	}
	return filepath.Join(binDir, names[0]), nil
}

// sessionBus is the test process's D-Bus address, kept for the keyring
// tests: TestMain removes it from the process environment.
var sessionBus string

func TestMain(m *testing.M) {
	// In-process runs read only their world's environment, but the AWS SDK
	// and godbus also read the process's: a developer's AWS_PROFILE or
	// session bus must not steer (or be touched by) a test.
	sessionBus = os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "SAML2STS_") || strings.HasPrefix(k, "KRB5") ||
			k == "DBUS_SESSION_BUS_ADDRESS" || strings.HasSuffix(strings.ToUpper(k), "_PROXY") {
			os.Unsetenv(k)
		}
	}
	// Most of an end-to-end test is waiting: on emulators, child processes
	// (sh, curl, the AWS CLI) and the binary's build; the CPU work of all
	// of them together is a few seconds. So more run at once than
	// -parallel's default of one per CPU, unless -parallel is given.
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		flag.Set("test.parallel", strconv.Itoa(max(8, 4*runtime.GOMAXPROCS(0))))
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

const (
	account  = "123456789012"
	provider = "arn:aws:iam::" + account + ":saml-provider/corp"
	reader   = "arn:aws:iam::" + account + ":role/SearchReader"
	admin    = "arn:aws:iam::" + account + ":role/SearchAdmin"
	password = "s3cret-Pa55word!"
	otpCode  = "314159"
)

// world is one isolated machine: emulators, a home directory, env vars and
// a clock shared by the CLI and the emulators (w.advance moves it instead
// of sleeping).
type world struct {
	t     *testing.T
	dir   string
	kc    *idptest.Keycloak
	st    *ststest.Server
	env   map[string]string
	clock *ststest.Clock
	// exe is what configure writes into credential_process: a path that
	// does not exist, unless the test calls w.useBinary.
	exe string
	// viaBinary makes run (and so mustRun, configure) run the built
	// binary: for tests of what only a process has (the keyring's D-Bus
	// connection comes from the process environment).
	viaBinary bool
	// tty, when set, is the terminal of in-process runs (a pty).
	tty *os.File
}

type worldOpt func(*idptest.KeycloakOptions, *ststest.Options)

func newWorld(t *testing.T, opts ...worldOpt) *world {
	t.Helper()
	ko := idptest.KeycloakOptions{Users: []idptest.User{{
		Username: "ana",
		Password: password,
		Roles:    []string{reader + "," + provider, provider + "," + admin},
	}}}
	so := ststest.Options{}
	for _, o := range opts {
		o(&ko, &so)
	}
	clock := &ststest.Clock{}
	if ko.Now == nil {
		ko.Now = clock.Now
	}
	if so.Now == nil {
		so.Now = clock.Now
	}
	kc, err := idptest.NewKeycloak(ko)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	w := newBareWorld(t, kc.Certificate(), so)
	w.clock = clock
	w.kc = kc
	return w
}

// newBareWorld is a world with the STS emulator trusting cert (under
// provider, unless so names providers) and no IdP: tests of other adapters
// start their own emulator and configure the profile themselves.
func newBareWorld(t *testing.T, cert *x509.Certificate, so ststest.Options) *world {
	t.Helper()
	if so.Providers == nil {
		so.Providers = map[string]*x509.Certificate{provider: cert}
	}
	clock := &ststest.Clock{}
	if so.Now == nil {
		so.Now = clock.Now
	}
	st := ststest.New(so)
	t.Cleanup(st.Close)
	dir := t.TempDir()
	return &world{t: t, dir: dir, st: st, clock: clock, exe: filepath.Join(dir, "bin", "saml2sts"), env: map[string]string{
		"PATH":                        os.Getenv("PATH"),
		"HOME":                        dir,
		"XDG_CONFIG_HOME":             filepath.Join(dir, "config"),
		"XDG_CACHE_HOME":              filepath.Join(dir, "cache"),
		"AWS_CONFIG_FILE":             filepath.Join(dir, "aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "aws", "credentials"),
		"AWS_ENDPOINT_URL_STS":        st.URL(),
		"SAML2STS_CACHE":              "file",
		"AWS_EC2_METADATA_DISABLED":   "true",
	}}
}

func withOTP(ko *idptest.KeycloakOptions, _ *ststest.Options) {
	ko.Users[0].OTP = []idptest.OTP{{ID: "otp-1", Label: "FreeOTP", Code: otpCode}}
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

// run runs saml2sts in-process, as the binary would with the world's
// environment and no terminal.
func (w *world) run(stdin string, args ...string) result {
	w.t.Helper()
	if w.viaBinary {
		return w.runBinary(stdin, args...)
	}
	var out, errb syncBuffer
	code := cli.Run(w.t.Context(), cli.Process{
		Args:       args,
		Env:        w.environ(),
		Stdin:      strings.NewReader(stdin),
		Stdout:     &out,
		Stderr:     &errb,
		Now:        w.clock.Now,
		Executable: w.exe,
		NoTerminal: w.tty == nil,
		TTY:        w.tty,
	})
	return result{code, out.String(), errb.String()}
}

// runBinary runs the built binary in a new session, so it has no
// controlling terminal even when the tests run in one.
func (w *world) runBinary(stdin string, args ...string) result {
	w.t.Helper()
	return w.runExe(binary(w.t), stdin, args...)
}

// runExe runs the program exe as runBinary runs saml2sts.
func (w *world) runExe(exe, stdin string, args ...string) result {
	w.t.Helper()
	cmd := exec.Command(exe, args...)
	cmd.Env = w.environ()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	detach(cmd)
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		w.t.Fatalf("run %s %v: %v", exe, args, err)
	}
	return result{code, out.String(), errb.String()}
}

// environ is w.env as KEY=value lines.
func (w *world) environ() []string {
	env := make([]string, 0, len(w.env))
	for k, v := range w.env {
		env = append(env, k+"="+v)
	}
	return env
}

// useBinary makes configure write the built binary into credential_process,
// for tests where the AWS CLI runs it.
func (w *world) useBinary() { w.exe = binary(w.t) }

// advance moves the world's clock (the CLI's and the emulators') by d.
func (w *world) advance(d time.Duration) { w.clock.Advance(d) }

// syncBuffer is a bytes.Buffer safe for the writers of one run: the
// command, its children's output copiers and background servers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (w *world) mustRun(stdin string, args ...string) result {
	w.t.Helper()
	r := w.run(stdin, args...)
	if r.code != 0 {
		w.t.Fatalf("saml2sts %s: %s", strings.Join(args, " "), r)
	}
	return r
}

func (w *world) configure(profile string, extra ...string) {
	w.t.Helper()
	args := append([]string{"configure", "--profile", profile, "--provider", "keycloak",
		"--url", w.kc.URL(), "--username", "ana", "--region", "eu-west-1"}, extra...)
	w.mustRun("", args...)
}

// passwordScript writes a password_command that also counts its runs.
func (w *world) passwordScript() (cmd, countFile string) {
	countFile = filepath.Join(w.dir, "pwcount")
	script := filepath.Join(w.dir, "pw.sh")
	body := fmt.Sprintf("#!/bin/sh\necho x >> %q\nprintf '%%s\\n' %q\n", countFile, password)
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		w.t.Fatal(err)
	}
	return script, countFile
}

var credJSON = regexp.MustCompile(`^\{"Version":1,"AccessKeyId":"ASIA[A-Z0-9]+","SecretAccessKey":"[^"]+","SessionToken":"[^"]+","Expiration":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\}\n$`)

type processCreds struct {
	Version                                   int
	AccessKeyID                               string `json:"AccessKeyId"`
	SecretAccessKey, SessionToken, Expiration string
}

func parseCreds(t *testing.T, s string) processCreds {
	t.Helper()
	if !credJSON.MatchString(s) {
		t.Fatalf("credential-process output is not the exact contract: %q", s)
	}
	var c processCreds
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTour(t *testing.T) {
	t.Parallel()
	w := newWorld(t, withOTP)
	w.configure("analytics", "--role-arn", reader, "--aws-profile", "analytics")

	cfg, _ := os.ReadFile(filepath.Join(w.dir, "config", "saml2sts", "config"))
	for _, want := range []string{"[profile analytics]", "provider = keycloak", "role_arn = " + reader} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
	awsCfg, _ := os.ReadFile(w.env["AWS_CONFIG_FILE"])
	if !strings.Contains(string(awsCfg), "credential_process = "+w.exe+" credential-process --profile analytics") {
		t.Errorf("aws config lacks credential_process:\n%s", awsCfg)
	}

	r := w.mustRun(password+"\n", "login", "--profile", "analytics", "--password-stdin", "--mfa-code", otpCode)
	if r.stdout != "" {
		t.Errorf("login wrote to stdout: %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "Logged in") || !strings.Contains(r.stderr, reader) {
		t.Errorf("login message: %s", r.stderr)
	}

	c := parseCreds(t, w.mustRun("", "credential-process", "--profile", "analytics").stdout)
	issued := w.st.Issued()
	if len(issued) != 1 || issued[0].AccessKeyID != c.AccessKeyID {
		t.Fatalf("credential-process did not print the issued key: %+v vs %s", issued, c.AccessKeyID)
	}

	st := w.mustRun("", "status")
	if !strings.Contains(st.stdout, "analytics") || !strings.Contains(st.stdout, reader) || !strings.Contains(st.stdout, "file") {
		t.Errorf("status: %s", st)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(w.mustRun("", "status", "--json").stdout), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("status --json: %v %v", rows, err)
	}
	if left := rows[0]["seconds_left"].(float64); left < 3000 || left > 3600 {
		t.Errorf("seconds_left = %v, want about an hour", left)
	}
	if st := w.mustRun("", "status", "--json", "--profile", "other"); strings.TrimSpace(st.stdout) != "[]" {
		t.Errorf("status --profile other lists another profile: %s", st)
	}
	if st := w.mustRun("", "status", "--profile", "other"); !strings.Contains(st.stderr, "login --profile other") {
		t.Errorf("status --profile other: %s", st)
	}
	if st := w.mustRun("", "status", "--json", "--profile", "analytics"); !strings.Contains(st.stdout, `"analytics"`) {
		t.Errorf("status --profile analytics: %s", st)
	}

	who := w.mustRun("", "whoami", "--profile", "analytics")
	if !strings.Contains(who.stdout, "arn:aws:sts::"+account+":assumed-role/SearchReader/") {
		t.Errorf("whoami: %s", who)
	}

	env := w.mustRun("", "env", "--profile", "analytics").stdout
	for _, want := range []string{"unset AWS_PROFILE", "export AWS_ACCESS_KEY_ID='" + c.AccessKeyID + "'",
		"export AWS_REGION='eu-west-1'", "export AWS_DEFAULT_REGION='eu-west-1'", "export AWS_CREDENTIAL_EXPIRATION='" + c.Expiration + "'"} {
		if !strings.Contains(env, want) {
			t.Errorf("env lacks %q:\n%s", want, env)
		}
	}

	w.env["AWS_PROFILE"] = "analytics"
	ex := w.run("", "exec", "--profile", "analytics", "--", "sh", "-c",
		`echo "$AWS_ACCESS_KEY_ID|$AWS_SESSION_TOKEN|$AWS_REGION|$AWS_DEFAULT_REGION|${AWS_PROFILE-unset}"; exit 7`)
	delete(w.env, "AWS_PROFILE")
	want := fmt.Sprintf("%s|%s|eu-west-1|eu-west-1|unset\n", c.AccessKeyID, c.SessionToken)
	if ex.code != 7 || ex.stdout != want {
		t.Errorf("exec: want exit 7 and %q, got %s", want, ex)
	}

	if n := w.st.Calls("AssumeRoleWithSAML"); n != 1 {
		t.Errorf("AssumeRoleWithSAML calls = %d, want 1 (everything after login is cached)", n)
	}

	w.mustRun("", "logout", "--profile", "analytics")
	if st := w.mustRun("", "status", "--json"); strings.TrimSpace(st.stdout) != "[]" {
		t.Errorf("status after logout: %s", st)
	}
	// Credentials and the IdP session are gone: the next use needs a full
	// login, and with no terminal that is exit 4 at once.
	r = w.run("", "credential-process", "--profile", "analytics")
	if r.code != 4 || !strings.Contains(r.stderr, "saml2sts login --profile analytics") || r.stdout != "" {
		t.Errorf("credential-process after logout: %s", r)
	}
	if got := w.kc.Stats().PasswordPosts; got != 1 {
		t.Errorf("password posts = %d, want 1", got)
	}
}

func TestEnvFormats(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.configure("p", "--role-arn", reader)
	w.mustRun(password, "login", "--profile", "p", "--password-stdin")
	tests := []struct{ format, want string }{
		{"sh", "export AWS_SECRET_ACCESS_KEY='"},
		{"fish", "set -gx AWS_SECRET_ACCESS_KEY '"},
		{"powershell", "$Env:AWS_SECRET_ACCESS_KEY = '"},
		{"dotenv", "AWS_SECRET_ACCESS_KEY="},
		{"json", `"AWS_SECRET_ACCESS_KEY": "`},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			t.Parallel()
			out := w.mustRun("", "env", "--profile", "p", "--format", tt.format).stdout
			if !strings.Contains(out, tt.want+w.st.Issued()[0].SecretAccessKey) {
				t.Errorf("%s output lacks %q+secret:\n%s", tt.format, tt.want, out)
			}
		})
	}
	if r := w.run("", "env", "--profile", "p", "--format", "csh"); r.code != 2 || !strings.Contains(r.stderr, "--format") {
		t.Errorf("bad format: %s", r)
	}
}

// parallelCreds runs n credential-process calls for profile at once and
// checks that all succeed with the same key (one login served them all).
func (w *world) parallelCreds(profile string, n int) []result {
	w.t.Helper()
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = w.run("", "credential-process", "--profile", profile)
		}()
	}
	wg.Wait()
	keys := map[string]bool{}
	for i, r := range results {
		if r.code != 0 {
			w.t.Fatalf("call %d: %s", i, r)
		}
		keys[parseCreds(w.t, r.stdout).AccessKeyID] = true
	}
	if len(keys) != 1 {
		w.t.Errorf("got %d different keys, want 1", len(keys))
	}
	return results
}

func TestParallelCredentialProcessOneLogin(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	script, counter := w.passwordScript()
	w.configure("par", "--role-arn", reader, "--password-command", script)
	w.parallelCreds("par", 32)
	if got := w.kc.Stats().Logins; got != 1 {
		t.Errorf("IdP logins = %d, want exactly 1", got)
	}
	if got := w.st.Calls("AssumeRoleWithSAML"); got != 1 {
		t.Errorf("AssumeRoleWithSAML calls = %d, want exactly 1", got)
	}
	if b, _ := os.ReadFile(counter); strings.Count(string(b), "x") != 1 {
		t.Errorf("password_command ran %d times, want 1", strings.Count(string(b), "x"))
	}
}

func TestSilentRefreshUsesIdPSession(t *testing.T) {
	t.Parallel()
	w := newWorld(t, withOTP)
	// Credentials count as stale one second after they are issued.
	w.configure("s", "--role-arn", reader, "--duration", "1h", "--refresh-window", "59m59s")
	w.mustRun(password, "login", "--profile", "s", "--password-stdin", "--mfa-code", otpCode)
	w.advance(2 * time.Second) // past the refresh window of 59m59s
	// No terminal, no password_command: only the stored Keycloak session
	// can re-mint.
	c := parseCreds(t, w.mustRun("", "credential-process", "--profile", "s").stdout)
	if got := w.st.Calls("AssumeRoleWithSAML"); got != 2 {
		t.Errorf("AssumeRoleWithSAML calls = %d, want 2 (a silent re-mint)", got)
	}
	if s := w.kc.Stats(); s.PasswordPosts != 1 || s.SessionReuses != 1 {
		t.Errorf("IdP stats %+v: want 1 password post and 1 session reuse", s)
	}
	if c.AccessKeyID != w.st.Issued()[1].AccessKeyID {
		t.Errorf("did not print the re-minted key")
	}

	// IdP session gone too: still-valid credentials are served with a notice
	// rather than failing the AWS CLI.
	w.kc.ExpireSessions()
	w.advance(2 * time.Second) // past the refresh window of 59m59s
	r := w.mustRun("", "credential-process", "--profile", "s")
	parseCreds(t, r.stdout)
	if !strings.Contains(r.stderr, "saml2sts login --profile s") {
		t.Errorf("want a notice naming the login command: %s", r)
	}

	// --force ignores the stored session: with no terminal, exit 4.
	if r := w.run("", "login", "--profile", "s", "--force"); r.code != 4 || !strings.Contains(r.stderr, "--password-stdin") && !strings.Contains(r.stderr, "saml2sts login") {
		t.Errorf("forced login without terminal: %s", r)
	}
}

func TestRolePicking(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.configure("r")
	r := w.run(password, "login", "--profile", "r", "--password-stdin")
	if r.code != 2 || !strings.Contains(r.stderr, reader) || !strings.Contains(r.stderr, admin) || !strings.Contains(r.stderr, "--role-arn") {
		t.Fatalf("several roles, no terminal: %s", r)
	}
	w.mustRun(password, "login", "--profile", "r", "--password-stdin", "--role-arn", admin)
	who := w.mustRun("", "whoami", "--profile", "r")
	if !strings.Contains(who.stdout, "assumed-role/SearchAdmin/") {
		t.Errorf("whoami: %s", who)
	}
}

// TestBadInputs: each bad input gives its exit code and message, and loses
// nothing (the config file and cached credentials are unchanged).
func TestBadInputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opts  []worldOpt
		setup func(w *world) // after configure("bad") and a good login of profile "good"
		stdin string
		args  []string
		code  int
		msg   string
		// breaks says the bad input also stops the good profile (a bad
		// config line fails the whole file; an expired-assertion IdP
		// fails every login).
		breaks bool
	}{
		{name: "wrong password", stdin: "nope", args: []string{"login", "--profile", "bad", "--password-stdin"},
			code: 3, msg: "Invalid username or password."},
		{name: "wrong otp", opts: []worldOpt{withOTP}, stdin: password,
			args: []string{"login", "--profile", "bad", "--password-stdin", "--mfa-code", "000000"},
			code: 3, msg: "Invalid authenticator code."},
		{name: "unknown profile", args: []string{"credential-process", "--profile", "nosuch"},
			code: 2, msg: `profile "nosuch" not found`},
		{name: "bad config line", setup: func(w *world) {
			p := filepath.Join(w.dir, "config", "saml2sts", "config")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, append(b, []byte("rol_arn = x\n")...), 0o600)
		}, args: []string{"credential-process", "--profile", "bad"}, code: 2, msg: `config:`, breaks: true},
		{name: "bad duration flag", stdin: password, args: []string{"login", "--profile", "bad", "--password-stdin", "--duration", "1d"},
			code: 2, msg: "duration"},
		{name: "expired assertion", opts: []worldOpt{func(ko *idptest.KeycloakOptions, _ *ststest.Options) {
			ko.AssertionLifetime = -time.Minute
		}}, stdin: password, args: []string{"login", "--profile", "bad", "--password-stdin"}, code: 5, msg: "expired", breaks: true},
		{name: "role not granted", stdin: password,
			args: []string{"login", "--profile", "bad", "--password-stdin", "--role-arn", "arn:aws:iam::" + account + ":role/Nope"},
			code: 2, msg: "role arn:aws:iam::" + account + ":role/Nope is not granted"},
		{name: "no terminal", args: []string{"credential-process", "--profile", "bad"},
			code: 4, msg: "run: saml2sts login --profile bad"},
		{name: "empty stdin password", stdin: "", args: []string{"login", "--profile", "bad", "--password-stdin"},
			code: 2, msg: "stdin was empty"},
		{name: "unknown command", args: []string{"logn"}, code: 2, msg: "unknown command"},
		{name: "bad flag", args: []string{"login", "--frobnicate"}, code: 2, msg: "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, tt.opts...)
			w.configure("bad", "--role-arn", reader)
			w.configure("good", "--role-arn", reader)
			if !tt.breaks {
				w.mustRun(password, "login", "--profile", "good", "--password-stdin", "--mfa-code", otpCode)
			}
			if tt.setup != nil {
				tt.setup(w)
			}
			before := snapshot(t, w.dir)
			r := w.run(tt.stdin, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.msg) {
				t.Fatalf("want exit %d with %q, got %s", tt.code, tt.msg, r)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty: %q", r.stdout)
			}
			if lines := strings.Count(strings.TrimSpace(r.stderr), "\n"); lines > 1 {
				t.Errorf("want a one-line error (plus at most a usage hint), got:\n%s", r.stderr)
			}
			if strings.Contains(r.stderr, password) {
				t.Errorf("stderr leaks the password")
			}
			after := snapshot(t, w.dir)
			for _, f := range []string{"config/saml2sts/config", "aws/config"} {
				if before[f] != after[f] {
					t.Errorf("%s changed", f)
				}
			}
			for f, v := range before {
				if strings.HasPrefix(f, "cache/") && strings.Contains(f, "good") && after[f] != v {
					t.Errorf("cached file %s of another profile changed", f)
				}
			}
			if !tt.breaks {
				// The good profile still works from its cache.
				parseCreds(t, w.mustRun("", "credential-process", "--profile", "good").stdout)
			}
		})
	}
}

func TestCorruptCacheFileIsAMiss(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	script, _ := w.passwordScript()
	w.configure("c", "--role-arn", reader, "--password-command", script)
	first := parseCreds(t, w.mustRun("", "credential-process", "--profile", "c").stdout)
	n := 0
	filepath.Walk(filepath.Join(w.dir, "cache"), func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() && !strings.Contains(p, "lock") && !strings.HasSuffix(p, "index.json") {
			os.WriteFile(p, []byte("{garbage"), 0o600)
			n++
		}
		return nil
	})
	if n == 0 {
		t.Fatal("found no cache file to corrupt")
	}
	second := parseCreds(t, w.mustRun("", "credential-process", "--profile", "c").stdout)
	if first.AccessKeyID == second.AccessKeyID {
		t.Error("a corrupt cache entry was served")
	}
}

var (
	awsOnce  sync.Once
	awsFound map[string]string
	awsPath  string // the aws on PATH, resolved
)

// awsCLIs lists the distinct AWS CLIs on this machine by name: the one on
// PATH (v1 on the image) and Debian's /usr/bin/aws (v2). It looks once per
// test process and runs neither: `aws --version` costs a Python start-up
// (about a CPU-second), so awsVersion runs it only for a failure message.
// A pyenv shim on PATH is resolved to the program it would run, saving a
// shell and pyenv's own start-up on every call.
func awsCLIs(t *testing.T) map[string]string {
	t.Helper()
	findAWSCLIs()
	if len(awsFound) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the AWS CLI tests must run in CI, but there is no aws on PATH nor /usr/bin/aws (apt-get install awscli)")
		}
		t.Skip("no AWS CLI on this machine")
	}
	return awsFound
}

func findAWSCLIs() {
	awsOnce.Do(func() {
		awsFound = map[string]string{}
		var cands []string
		if p, err := exec.LookPath("aws"); err == nil {
			if filepath.Base(filepath.Dir(p)) == "shims" {
				if out, err := exec.Command("pyenv", "which", "aws").Output(); err == nil {
					p = strings.TrimSpace(string(out))
				}
			}
			awsPath = p
			cands = append(cands, p)
		}
		cands = append(cands, "/usr/bin/aws")
		seen := map[string]bool{}
		for _, p := range cands {
			real, err := filepath.EvalSymlinks(p)
			if err != nil || seen[real] {
				continue
			}
			if st, err := os.Stat(real); err != nil || st.Mode()&0o111 == 0 {
				continue
			}
			seen[real] = true
			awsFound[strings.ReplaceAll(strings.TrimPrefix(p, "/"), "/", "_")] = p
		}
	})
}

// awsVersion is what `aws --version` says, for failure messages.
func awsVersion(aws string) string {
	out, err := exec.Command(aws, "--version").CombinedOutput()
	if f := strings.Fields(string(out)); err == nil && len(f) > 0 {
		return f[0] // aws-cli/2.9.19
	}
	return aws + " (version unknown)"
}

// awsCallerID runs `aws sts get-caller-identity` with the world's
// environment and extra args, and checks that the AWS CLI signed as the
// SearchReader role. --endpoint-url, not only AWS_ENDPOINT_URL_STS:
// Debian's v2.9 predates service-specific endpoint variables (2.13).
func (w *world) awsCallerID(aws string, args ...string) {
	w.t.Helper()
	cmd := exec.Command(aws, append([]string{"sts", "get-caller-identity", "--output", "json", "--endpoint-url", w.st.URL()}, args...)...)
	cmd.Env = w.environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		w.t.Fatalf("%s sts get-caller-identity %v: %v\n%s", awsVersion(aws), args, err, out)
	}
	var id struct{ Account, Arn string }
	if err := json.Unmarshal(out, &id); err != nil || id.Account != account || !strings.Contains(id.Arn, "assumed-role/SearchReader/") {
		w.t.Fatalf("%s says %s (%v)", awsVersion(aws), out, err)
	}
}

// TestDebugRedaction: a --debug login prints a trace but no secret.
func TestDebugRedaction(t *testing.T) {
	t.Parallel()
	w := newWorld(t, withOTP)
	w.configure("d", "--role-arn", reader)
	r := w.mustRun(password, "--debug", "login", "--profile", "d", "--password-stdin", "--mfa-code", otpCode)
	r2 := w.mustRun("", "--debug", "whoami", "--profile", "d")
	out := r.stdout + r.stderr + r2.stdout + r2.stderr
	if !strings.Contains(out, "debug: http") {
		t.Fatalf("no debug trace: %s", r)
	}
	iss := w.st.Issued()[0]
	secrets := map[string]string{
		"password": password, "otp": otpCode, "secret key": iss.SecretAccessKey, "session token": iss.SessionToken,
	}
	for _, resp := range w.kc.IssuedResponses() {
		secrets["SAMLResponse"] = resp
	}
	for _, c := range w.kc.SessionCookies() {
		secrets["session cookie"] = c
	}
	for what, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("debug output leaks the %s", what)
		}
	}
	if strings.Contains(out, w.st.Issued()[0].SessionToken[:20]) {
		t.Errorf("debug output leaks part of the session token")
	}
}

func TestExecForwardsSignals(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.configure("x", "--role-arn", reader)
	w.mustRun(password, "login", "--profile", "x", "--password-stdin")
	cmd := exec.Command(binary(t), "exec", "--profile", "x", "--", "sh", "-c", `trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done`)
	for k, v := range w.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	detach(cmd)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("child did not start: %q %v", buf, err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 42 {
		t.Fatalf("want exit 42 from the child's TERM trap, got %v", err)
	}
}

// snapshot maps relative paths under dir to contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			m[rel] = string(b)
		}
		return nil
	})
	return m
}

// TestConfigureWarnsAboutShadowingKeys: settings in the same ~/.aws/config
// profile that beat credential_process are named.
func TestConfigureWarnsAboutShadowingKeys(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	os.MkdirAll(filepath.Dir(w.env["AWS_CONFIG_FILE"]), 0o700)
	os.WriteFile(w.env["AWS_CONFIG_FILE"], []byte("[profile a]\nsso_session = corp\nregion = us-east-1\n"), 0o600)
	r := w.mustRun("", "configure", "--profile", "a", "--provider", "keycloak", "--url", w.kc.URL(), "--aws-profile", "a")
	if !strings.Contains(r.stderr, "also sets sso_session") {
		t.Errorf("no warning about sso_session: %s", r)
	}
	r = w.mustRun("", "configure", "--profile", "b", "--provider", "keycloak", "--url", w.kc.URL(), "--aws-profile", "b")
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("warning for a clean profile: %s", r)
	}
}

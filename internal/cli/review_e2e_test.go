package cli_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runIn is world.run in directory dir, with extra environment; argv[0] is
// the program (not necessarily saml2sts).
func (w *world) runIn(dir string, extra map[string]string, stdin string, argv ...string) result {
	w.t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	for k, v := range w.env {
		if _, ok := extra[k]; !ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	for k, v := range extra {
		if v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	detach(cmd)
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		w.t.Fatalf("run %v: %v", argv, err)
	}
	return result{code, out.String(), errb.String()}
}

// credentialProcess returns the credential_process line written for the
// AWS profile.
func (w *world) credentialProcess(awsProfile string) string {
	w.t.Helper()
	b, _ := os.ReadFile(w.env["AWS_CONFIG_FILE"])
	in := false
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") {
			in = l == "["+awsProfile+"]" || l == "[profile "+awsProfile+"]"
			continue
		}
		if v, ok := strings.CutPrefix(l, "credential_process = "); ok && in {
			return v
		}
	}
	w.t.Fatalf("no credential_process for %s in:\n%s", awsProfile, b)
	return ""
}

// TestConfigureCredentialProcessIsSelfContained: the credential_process
// line that configure writes selects the same profile and file wherever and
// however the AWS CLI runs it: from another directory, without the
// SAML2STS_CONFIG of the configure run, with another SAML2STS_PROFILE set.
func TestConfigureCredentialProcessIsSelfContained(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	base := []string{binary(t), "--provider", "keycloak", "--url", w.kc.URL(), "--username", "ana", "--role-arn", reader}
	tests := []struct {
		name      string
		env       map[string]string // for configure and login
		args      []string          // global flags for configure and login
		profile   string            // "" is default
		awsProile string
		runEnv    map[string]string // for the AWS CLI's run
	}{
		{name: "default profile, SAML2STS_PROFILE set later", awsProile: "dflt",
			runEnv: map[string]string{"SAML2STS_PROFILE": "nosuch"}},
		{name: "relative --config", args: []string{"--config", "rel.cfg"}, profile: "rel", awsProile: "rel"},
		{name: "SAML2STS_CONFIG", env: map[string]string{"SAML2STS_CONFIG": filepath.Join(w.dir, "env.cfg")}, profile: "env", awsProile: "env"},
		{name: "profile name with a quote", profile: "o'brien", awsProile: "ob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: the cases share one world and its files.
			global := append([]string{}, tt.args...)
			if tt.profile != "" {
				global = append(global, "--profile", tt.profile)
			}
			cfg := append(append([]string{base[0], "configure"}, global...), base[1:]...)
			cfg = append(cfg, "--aws-profile", tt.awsProile)
			if r := w.runIn(w.dir, tt.env, "", cfg...); r.code != 0 {
				t.Fatalf("configure: %s", r)
			}
			login := append(append([]string{binary(t), "login"}, global...), "--password-stdin")
			if r := w.runIn(w.dir, tt.env, password, login...); r.code != 0 {
				t.Fatalf("login: %s", r)
			}
			line := w.credentialProcess(tt.awsProile)
			r := w.runIn("/", tt.runEnv, "", "sh", "-c", line)
			if r.code != 0 {
				t.Fatalf("credential_process %q from /: %s", line, r)
			}
			parseCreds(t, r.stdout)
		})
	}
}

// TestConfigureBadNamesAreUsageErrors: a profile name configure cannot
// write is a usage error (exit 2), found before anything is written.
func TestConfigureBadNamesAreUsageErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cfgPath := filepath.Join(w.dir, "config", "saml2sts", "config")
	for _, args := range [][]string{
		{"configure", "--profile", "a b", "--region", "eu-west-1"},
		{"configure", "--profile", "ok", "--provider", "keycloak", "--url", w.kc.URL(), "--aws-profile", "a b"},
	} {
		r := w.run("", args...)
		if r.code != 2 || !strings.Contains(r.stderr, "a b") {
			t.Errorf("%v: want exit 2 naming the bad name, got %s", args, r)
		}
		if _, err := os.Stat(cfgPath); err == nil {
			t.Errorf("%v: the config file was written", args)
		}
	}
}

// TestProfileWithoutURLIsConfigError: a profile section that lacks url is
// a configuration error, exit 2, with a command that fixes it.
func TestProfileWithoutURLIsConfigError(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mustRun("", "configure", "--profile", "x", "--provider", "keycloak", "--region", "eu-west-1")
	r := w.run("", "credential-process", "--profile", "x")
	if r.code != 2 || !strings.Contains(r.stderr, "saml2sts configure --profile x --url URL") {
		t.Errorf("want exit 2 and the configure command, got %s", r)
	}
}

// TestLoginHintKeepsConfig: the command suggested when a login needs a
// terminal names the same config file, or it would log in another profile.
func TestLoginHintKeepsConfig(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cfg := filepath.Join(w.dir, "other.cfg")
	w.mustRun("", "--config", cfg, "configure", "--profile", "p", "--provider", "keycloak", "--url", w.kc.URL(), "--username", "ana")
	r := w.run("", "--config", cfg, "credential-process", "--profile", "p")
	if r.code != 4 || !strings.Contains(r.stderr, "run: saml2sts login --profile p --config "+cfg) {
		t.Errorf("want exit 4 and a login hint with --config, got %s", r)
	}
}

// TestLoginWithoutTerminalSaysHow: login itself, with no terminal, says
// how to pass the password rather than to run login.
func TestLoginWithoutTerminalSaysHow(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.configure("p", "--role-arn", reader)
	r := w.run("", "login", "--profile", "p")
	if r.code != 4 || !strings.Contains(r.stderr, "--password-stdin") {
		t.Errorf("want exit 4 naming --password-stdin, got %s", r)
	}
}

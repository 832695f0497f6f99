package cli_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// installPair puts saml2sts and the warm-path helper side by side, as
// `go install ./cmd/...` does.
func installPair(t *testing.T) (full, helper string) {
	t.Helper()
	dir := t.TempDir()
	full, helper = filepath.Join(dir, "saml2sts"), filepath.Join(dir, "saml2sts-credential-process")
	b, err := os.ReadFile(binary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("go", "build", "-o", helper, "../../cmd/saml2sts-credential-process").CombinedOutput(); err != nil {
		t.Fatalf("build helper: %v\n%s", err, out)
	}
	return full, helper
}

// TestWarmHelperWithAWSCLI: configure writes the helper when it sits
// beside saml2sts; the AWS CLI runs it; a miss logs in through the full
// binary, a hit is answered by the helper alone (the full binary is
// gone by then), with output identical to saml2sts credential-process.
func TestWarmHelperWithAWSCLI(t *testing.T) {
	full, helper := installPair(t)
	w := newWorld(t)
	script, count := w.passwordScript()
	r := w.runExe(full, "", "configure", "--profile", "cli", "--provider", "keycloak", "--url", w.kc.URL(), "--username", "ana",
		"--region", "eu-west-1", "--role-arn", reader, "--password-command", script, "--aws-profile", "cli")
	if r.code != 0 {
		t.Fatal(r)
	}
	awsCfg, _ := os.ReadFile(w.env["AWS_CONFIG_FILE"])
	if want := "credential_process = " + helper + " --profile cli\n"; !strings.Contains(string(awsCfg), want) {
		t.Fatalf("aws config lacks %q:\n%s", want, awsCfg)
	}
	// Without the helper beside it, configure writes today's line.
	if r := w.mustRun("", "configure", "--profile", "cli", "--aws-profile", "plain"); !strings.Contains(r.stderr, "Wrote credential_process") {
		t.Fatal(r)
	}
	awsCfg, _ = os.ReadFile(w.env["AWS_CONFIG_FILE"])
	if want := "credential_process = " + w.exe + " credential-process --profile cli\n"; !strings.Contains(string(awsCfg), want) {
		t.Fatalf("aws config lacks %q:\n%s", want, awsCfg)
	}

	aws := awsCLIs(t)
	var cli string
	for v, p := range aws {
		if strings.HasPrefix(v, "aws-cli/1.") || cli == "" {
			cli = p
		}
	}
	callerID := func() {
		t.Helper()
		cmd := exec.Command(cli, "sts", "get-caller-identity", "--profile", "cli", "--output", "json", "--endpoint-url", w.st.URL())
		for k, v := range w.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws sts get-caller-identity: %v\n%s", err, out)
		}
		var id struct{ Account, Arn string }
		if json.Unmarshal(out, &id) != nil || id.Account != account || !strings.Contains(id.Arn, "assumed-role/SearchReader/") {
			t.Fatalf("aws says %s", out)
		}
	}
	callerID() // a miss: the helper runs saml2sts, which logs in
	if n := len(w.st.Issued()); n != 1 {
		t.Fatalf("issued %d credentials, want 1", n)
	}
	viaFull := w.runExe(full, "", "credential-process", "--profile", "cli")
	viaHelper := w.runExe(helper, "", "--profile", "cli")
	if viaFull.code != 0 || viaHelper.code != 0 || viaHelper.stdout != viaFull.stdout || viaHelper.stderr != "" {
		t.Fatalf("helper and saml2sts differ:\n%s\n%s", viaHelper, viaFull)
	}
	parseCreds(t, viaHelper.stdout)

	// A hit needs no saml2sts at all.
	if err := os.WriteFile(full, []byte("#!/bin/sh\necho full binary ran >&2\nexit 99\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	callerID()
	if n := len(w.st.Issued()); n != 1 {
		t.Errorf("issued %d credentials, want 1", n)
	}
	if b, _ := os.ReadFile(count); strings.Count(string(b), "x") != 1 {
		t.Errorf("password_command ran %d times, want 1", strings.Count(string(b), "x"))
	}
	// Anything else goes to the full binary, exit code and all.
	if r := w.runExe(helper, "", "--profile", "cli", "--debug"); r.code != 99 || r.stderr != "full binary ran\n" {
		t.Errorf("--debug did not go to saml2sts: %s", r)
	}
	w.env["SAML2STS_DEBUG"] = "1"
	if r := w.runExe(helper, "", "--profile", "cli"); r.code != 99 {
		t.Errorf("SAML2STS_DEBUG did not go to saml2sts: %s", r)
	}
}

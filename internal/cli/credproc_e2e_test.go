package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// installPair puts copies of saml2sts and the warm-path helper side by
// side, as `go install ./cmd/...` does; the test may replace them.
func installPair(t *testing.T) (full, helper string) {
	t.Helper()
	dir := t.TempDir()
	full, helper = filepath.Join(dir, "saml2sts"), filepath.Join(dir, "saml2sts-credential-process")
	for dst, src := range map[string]string{full: binary(t), helper: helperBinary(t)} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return full, helper
}

// TestAWSCLIAcceptsCredentialProcess: for each AWS CLI, configure writes
// the helper when it sits beside saml2sts; the AWS CLI runs it, and on a
// miss the helper hands over to saml2sts, which logs in (password_command)
// and prints the credentials the AWS CLI signs with. One AWS CLI run per
// version proves both. Then, without the AWS CLI (its part is done): a
// hit is answered by the helper alone (the full binary is gone by then),
// with output identical to saml2sts credential-process, and anything else
// goes to saml2sts.
func TestAWSCLIAcceptsCredentialProcess(t *testing.T) {
	t.Parallel()
	for name, aws := range awsCLIs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
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

			w.awsCallerID(aws, "--profile", "cli") // a miss: the helper runs saml2sts, which logs in
			if n := len(w.st.Issued()); n != 1 {
				t.Fatalf("issued %d credentials, want 1", n)
			}
			if got := w.st.Calls("GetCallerIdentity"); got != 1 {
				t.Errorf("GetCallerIdentity calls = %d (the AWS CLI must have signed with our credentials)", got)
			}
			viaFull := w.runExe(full, "", "credential-process", "--profile", "cli")
			viaHelper := w.runExe(helper, "", "--profile", "cli")
			if viaFull.code != 0 || viaHelper.code != 0 || viaHelper.stdout != viaFull.stdout || viaHelper.stderr != "" {
				t.Fatalf("helper and saml2sts differ:\n%s\n%s", viaHelper, viaFull)
			}
			if c := parseCreds(t, viaHelper.stdout); c.AccessKeyID != w.st.Issued()[0].AccessKeyID {
				t.Errorf("the helper printed %s, not the key the AWS CLI got", c.AccessKeyID)
			}

			// A hit needs no saml2sts at all.
			if err := os.WriteFile(full, []byte("#!/bin/sh\necho full binary ran >&2\nexit 99\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			if hit := w.runExe(helper, "", "--profile", "cli"); hit.code != 0 || hit.stdout != viaFull.stdout || hit.stderr != "" {
				t.Errorf("a hit without saml2sts: %s", hit)
			}
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
		})
	}
}

package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// credsFileValues reads key = value lines of [section] in the shared
// credentials file.
func credsFileValues(t *testing.T, w *world, section string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(w.env["AWS_SHARED_CREDENTIALS_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	vals, in := map[string]string{}, false
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") {
			in = l == "["+section+"]"
		} else if k, v, ok := strings.Cut(l, "="); ok && in {
			vals[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return vals
}

// TestExportToCredentialsFile: export writes the four keys into the named
// section (0600, the user's sections and comments byte for byte, CRLF
// kept), prints no secret, configure warns about the section it shadows,
// and logout removes exactly that section, giving back the user's file.
func TestExportToCredentialsFile(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.configure("an", "--role-arn", reader)
	w.mustRun(password, "login", "--profile", "an", "--password-stdin")
	credPath := w.env["AWS_SHARED_CREDENTIALS_FILE"]
	os.MkdirAll(filepath.Dir(credPath), 0o700)
	user := "# my own keys\r\n[default]\r\naws_access_key_id = AKIAUSERKEY\r\naws_secret_access_key = usersecret\r\n"
	if err := os.WriteFile(credPath, []byte(user), 0o600); err != nil {
		t.Fatal(err)
	}

	r := w.mustRun("", "export", "--profile", "an", "--to-credentials-file", "--as", "an-static")
	data, _ := os.ReadFile(credPath)
	if !strings.HasPrefix(string(data), user+"\r\n[an-static]\r\n") {
		t.Fatalf("the user's section was not kept byte for byte:\n%q", data)
	}
	if st, _ := os.Stat(credPath); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	vals := credsFileValues(t, w, "an-static")
	for _, k := range []string{"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "x_security_token_expires"} {
		if strings.TrimSuffix(vals[k], "\r") == "" {
			t.Errorf("%s missing: %q", k, data)
		}
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\r?$`).MatchString(vals["x_security_token_expires"]) {
		t.Errorf("x_security_token_expires = %q", vals["x_security_token_expires"])
	}
	if !strings.Contains(r.stderr, "Wrote credentials of an to [an-static] in "+credPath) {
		t.Errorf("stderr: %s", r.stderr)
	}

	// The same credentials as credential-process serves.
	var cp struct{ AccessKeyID, SecretAccessKey, SessionToken string }
	if err := json.Unmarshal([]byte(w.mustRun("", "credential-process", "--profile", "an").stdout), &cp); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSuffix(vals["aws_session_token"], "\r") != cp.SessionToken || strings.TrimSuffix(vals["aws_secret_access_key"], "\r") != cp.SecretAccessKey {
		t.Error("the file's keys are not the profile's credentials")
	}

	// configure of an AWS profile that the section shadows says how to undo it.
	rc := w.mustRun("", "configure", "--profile", "an", "--aws-profile", "an-static")
	if !strings.Contains(rc.stderr, "has static keys for [an-static]") || !strings.Contains(rc.stderr, "saml2sts export wrote them; remove them with saml2sts logout --profile an") {
		t.Errorf("configure did not warn: %s", rc.stderr)
	}
	// ... and export over a credential_process profile warns the other way.
	re := w.mustRun("", "export", "--profile", "an", "--to-credentials-file", "--as", "an-static")
	if !strings.Contains(re.stderr, "warning: AWS profile an-static also has credential_process") {
		t.Errorf("export did not warn: %s", re.stderr)
	}

	rl := w.mustRun("", "logout", "--profile", "an")
	if !strings.Contains(rl.stderr, "Removed [an-static] from "+credPath) {
		t.Errorf("logout: %s", rl.stderr)
	}
	if back, _ := os.ReadFile(credPath); string(back) != user {
		t.Errorf("after logout:\n%q\nwant\n%q", back, user)
	}
	for _, res := range []result{r, rc, re, rl} {
		noEncodedSecret(t, "export output", res.stdout+res.stderr, cp.SecretAccessKey, cp.SessionToken, password)
	}
}

// TestExportLogoutKeepsUserEdits: a section the user refilled with their
// own keys after export is theirs: logout leaves it and says so.
func TestExportLogoutKeepsUserEdits(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.configure("an", "--role-arn", reader)
	w.mustRun(password, "login", "--profile", "an", "--password-stdin")
	w.mustRun("", "export", "--profile", "an", "--to-credentials-file")
	credPath := w.env["AWS_SHARED_CREDENTIALS_FILE"]
	mine := "[an]\naws_access_key_id = AKIAMINE\naws_secret_access_key = mine\n"
	os.WriteFile(credPath, []byte(mine), 0o600)
	r := w.mustRun("", "logout", "--profile", "an")
	if !strings.Contains(r.stderr, "Left [an] in "+credPath+" alone") {
		t.Errorf("logout: %s", r.stderr)
	}
	if got, _ := os.ReadFile(credPath); string(got) != mine {
		t.Errorf("file changed: %q", got)
	}
}

// TestExportUsage: mistakes are usage errors (exit 2) that write nothing.
func TestExportUsage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.configure("an", "--role-arn", reader)
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"export", "--profile", "an"}, "export: say where to: --to-credentials-file"},
		{[]string{"export", "--profile", "an", "--to-credentials-file", "--as", "a b"}, `--as "a b": use a section name without spaces`},
	} {
		r := w.run("", tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.msg) {
			t.Errorf("%v: %s", tt.args, r)
		}
	}
	if _, err := os.Stat(w.env["AWS_SHARED_CREDENTIALS_FILE"]); err == nil {
		t.Error("a credentials file was written")
	}
}

// TestAWSCLIUsesExportedCredentials: each AWS CLI signs with the keys
// export wrote, without any credential_process.
func TestAWSCLIUsesExportedCredentials(t *testing.T) {
	t.Parallel()
	for name, aws := range awsCLIs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.configure("an", "--role-arn", reader)
			w.mustRun(password, "login", "--profile", "an", "--password-stdin")
			w.mustRun("", "export", "--profile", "an", "--to-credentials-file", "--as", "static")
			os.Remove(w.env["AWS_CONFIG_FILE"]) // nothing but the credentials file
			w.env["AWS_CONFIG_FILE"] = filepath.Join(w.dir, "aws", "none")
			w.awsCallerID(aws, "--profile", "static", "--region", "eu-west-1")
			if got := w.st.Calls("GetCallerIdentity"); got != 1 {
				t.Errorf("GetCallerIdentity calls = %d", got)
			}
		})
	}
}

package cli_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/sts/ststest"
)

// worldFiles is every regular file under the world's directory, joined.
func worldFiles(t *testing.T, w *world) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(w.dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			data, rerr := os.ReadFile(path)
			b.Write(data)
			return rerr
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestLoginAllRoles: one login (one password post, one OTP post, one
// SAMLResponse) writes a profile per granted role, named by account alias
// and role, and caches credentials for each; no assertion reaches the
// disk; a re-run changes nothing; --aws-profiles wires the AWS CLI.
func TestLoginAllRoles(t *testing.T) {
	t.Parallel()
	w := newWorld(t, withOTP, withNames(ststest.ChooserLegacy))
	w.env["SAML2STS_SIGNIN_URL"] = w.st.SigninURL()
	w.configure("corp", "--duration", "2h")
	cfgPath := filepath.Join(w.dir, "config", "saml2sts", "config")
	before, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	r := w.mustRun(password, "login", "--profile", "corp", "--all-roles", "--aws-profiles", "--password-stdin", "--mfa-code", otpCode)
	names := map[string]string{"prod-search-SearchReader": reader, "prod-search-SearchAdmin": admin}
	for name, role := range names {
		if !strings.Contains(r.stderr, "Logged in: profile "+name+", role "+role) {
			t.Errorf("stderr lacks the login of %s: %s", name, r.stderr)
		}
	}
	st := w.kc.Stats()
	if st.PasswordPosts != 1 || st.OTPPosts != 1 || st.SAMLIssued != 1 {
		t.Errorf("IdP saw %d password posts, %d OTP posts, %d SAML responses; want 1, 1, 1", st.PasswordPosts, st.OTPPosts, st.SAMLIssued)
	}
	if n := len(w.st.Issued()); n != 2 {
		t.Errorf("STS issued %d credentials, want 2", n)
	}
	after, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(after), string(before)) {
		t.Errorf("the base profile's bytes changed:\n%s", after)
	}
	for name, role := range names {
		if !strings.Contains(string(after), "[profile "+name+"]") || !strings.Contains(string(after), "role_arn = "+role) {
			t.Errorf("config lacks profile %s with %s:\n%s", name, role, after)
		}
		// Cached: served with no password and no IdP call.
		cp := w.mustRun("", "credential-process", "--profile", name)
		var out struct{ AccessKeyId string }
		if err := json.Unmarshal([]byte(cp.stdout), &out); err != nil || out.AccessKeyId == "" {
			t.Errorf("credential-process %s: %v %s", name, err, cp)
		}
	}
	if st := w.kc.Stats(); st.PasswordPosts != 1 || st.SAMLIssued != 1 {
		t.Errorf("after credential-process: %d password posts, %d SAML responses", st.PasswordPosts, st.SAMLIssued)
	}
	aws, err := os.ReadFile(filepath.Join(w.dir, "aws", "config"))
	if err != nil || !strings.Contains(string(aws), "[profile prod-search-SearchAdmin]") || !strings.Contains(string(aws), "credential-process --profile prod-search-SearchAdmin") {
		t.Errorf("~/.aws/config: %v\n%s", err, aws)
	}
	resp := w.kc.IssuedResponses()
	if len(resp) != 1 {
		t.Fatalf("issued responses: %d", len(resp))
	}
	noEncodedSecret(t, "files and output", worldFiles(t, w)+r.stdout+r.stderr, resp[0], password, otpCode)

	// Re-running writes nothing new and mints no credentials (cached).
	r = w.mustRun(password, "login", "--profile", "corp", "--all-roles", "--password-stdin", "--mfa-code", otpCode)
	again, _ := os.ReadFile(cfgPath)
	if string(again) != string(after) {
		t.Errorf("re-run changed the config:\n%s", again)
	}
	if n := len(w.st.Issued()); n != 2 {
		t.Errorf("re-run: STS issued %d credentials, want 2: %s", n, r)
	}
	noEncodedSecret(t, "files after re-run", worldFiles(t, w), w.kc.IssuedResponses()...)
}

// TestLoginAllRolesErrors: a bad template, a name taken by a profile with
// other settings, or a role flag is refused with exit 2, naming what is
// wrong, and writes no profile.
func TestLoginAllRolesErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.configure("corp")
	// Account names unknown: the account id stands in.
	w.configure(account+"-SearchAdmin", "--role-arn", reader)
	cfgPath := filepath.Join(w.dir, "config", "saml2sts", "config")
	before, _ := os.ReadFile(cfgPath)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown field", []string{"--name-template", "{acount}-{role_name}"}, "unknown field {acount}"},
		{"brace", []string{"--name-template", "{account_id-{role_name}"}, "unbalanced brace"},
		{"no role", []string{"--name-template", "{account_name}"}, "has no {role_name}"},
		{"role flag", []string{"--role-arn", reader}, "--role-arn does not go with --all-roles"},
		{"collision", nil, `profile "` + account + `-SearchAdmin" already exists`},
	} {
		args := append([]string{"login", "--profile", "corp", "--all-roles", "--password-stdin"}, tc.args...)
		r := w.run(password, args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: want exit 2 and %q: %s", tc.name, tc.want, r)
		}
		if after, _ := os.ReadFile(cfgPath); string(after) != string(before) {
			t.Errorf("%s: config changed:\n%s", tc.name, after)
		}
	}
	if r := w.run(password, "login", "--profile", "corp", "--aws-profiles"); r.code != 2 || !strings.Contains(r.stderr, "go with --all-roles") {
		t.Errorf("--aws-profiles alone: %s", r)
	}
	if n := len(w.st.Issued()); n != 0 {
		t.Errorf("STS issued %d credentials, want 0", n)
	}
	// A template with spaces and slashes still gives usable names.
	r := w.mustRun(password, "login", "--profile", "corp", "--all-roles", "--password-stdin", "--name-template", "team a/{profile} {role_name}")
	if !strings.Contains(r.stderr, "profile team-a-corp-SearchReader,") {
		t.Errorf("sanitised names: %s", r)
	}
}

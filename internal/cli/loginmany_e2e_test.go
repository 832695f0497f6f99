package cli_test

import (
	"strings"
	"testing"
)

// TestLoginSeveralProfilesOneLogin: profiles of one IdP identity log in
// with one password post and one OTP post, each with its own role; no
// assertion reaches the disk; a later silent refresh of the second profile
// uses the IdP session it was given (still no new password post).
func TestLoginSeveralProfilesOneLogin(t *testing.T) {
	t.Parallel()
	w := newWorld(t, withOTP)
	w.configure("prod", "--role-arn", reader)
	w.configure("sandbox", "--role-arn", admin)
	r := w.mustRun(password, "login", "--profile", "prod", "--profile", "sandbox", "--password-stdin", "--mfa-code", otpCode)
	for _, want := range []string{"Logged in: profile prod, role " + reader, "Logged in: profile sandbox, role " + admin} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, r.stderr)
		}
	}
	st := w.kc.Stats()
	if st.PasswordPosts != 1 || st.OTPPosts != 1 || st.SAMLIssued != 1 {
		t.Errorf("IdP saw %d password posts, %d OTP posts, %d SAML responses; want 1, 1, 1", st.PasswordPosts, st.OTPPosts, st.SAMLIssued)
	}
	if n := len(w.st.Issued()); n != 2 {
		t.Errorf("STS issued %d credentials, want 2", n)
	}
	// The SAMLResponse was never written: scan every file of the world.
	resp := w.kc.IssuedResponses()
	if len(resp) != 1 {
		t.Fatalf("issued responses: %d", len(resp))
	}
	noEncodedSecret(t, "files and output", worldFiles(t, w)+r.stdout+r.stderr, resp[0], password, otpCode)

	// sandbox renews silently through the IdP session it was given: no
	// password_command, no terminal, yet no new password post.
	// (A window longer than the 1h credentials makes them due at once.)
	w.env["SAML2STS_DURATION"], w.env["SAML2STS_REFRESH_WINDOW"] = "2h", "90m"
	rc := w.mustRun("", "credential-process", "--profile", "sandbox")
	if st := w.kc.Stats(); st.PasswordPosts != 1 || st.SAMLIssued != 2 {
		t.Errorf("renewal: IdP saw %d password posts, %d SAML responses; want 1, 2\n%s", st.PasswordPosts, st.SAMLIssued, rc.stderr)
	}
}

// TestLoginSeveralProfilesUsage: a role for "each" profile is refused.
func TestLoginSeveralProfilesUsage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.configure("prod")
	r := w.run(password, "login", "--profile", "prod", "--profile", "sandbox", "--password-stdin", "--role-arn", reader)
	if r.code != 2 || !strings.Contains(r.stderr, "--role-arn applies to one profile") {
		t.Errorf("%s", r)
	}
}

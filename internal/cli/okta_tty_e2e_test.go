//go:build linux

package cli_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/idptest"
)

// oktaPickFactor answers the Okta factor picker with the entry named label.
func oktaPickFactor(t *testing.T, s *ttySession, label string) {
	t.Helper()
	s.waitFor("Choose 1-")
	m := regexp.MustCompile(`\[(\d)\] ` + regexp.QuoteMeta(label)).FindStringSubmatch(s.shown())
	if m == nil {
		t.Fatalf("factor list lacks %q\n%s", label, s)
	}
	s.typeLine(m[1])
}

// TestOktaTTYPickerAndWrongCode: several factors and mfa auto show the
// picker; a wrong code (E0000068) is asked again on the terminal.
func TestOktaTTYPickerAndWrongCode(t *testing.T) {
	t.Parallel()
	w := newOktaWorld(t, idptest.OktaOptions{}, "", oktaAllFactors()...)
	s := w.startTTYHere("login", "--profile", "o")
	s.waitFor("Password for " + oktaUser + ": ")
	s.waitNoEcho()
	s.typeLine(password)
	oktaPickFactor(t, s, "Okta Verify code")
	s.waitFor("Okta Verify code: ")
	s.typeLine("000000")
	for strings.Count(s.shown(), "Okta Verify code: ") < 2 {
		s.waitFor("Okta Verify code: ")
	}
	s.typeLine(oktaTOTP)
	if code := s.wait(); code != 0 {
		t.Fatalf("login exit %d\n%s", code, s)
	}
	if st := w.k.Stats(); st.PasswordPosts != 1 || st.BadPasscodes != 1 || st.FactorVerifies != 2 {
		t.Errorf("okta stats %+v: want 1 password post, 1 bad code, 2 verifies", st)
	}
	stdout, stderr := s.out()
	if !strings.Contains(stderr, "Okta did not accept the code: Invalid Passcode/Answer") {
		t.Errorf("stderr lacks Okta's message: %q", stderr)
	}
	w.scan(result{0, stdout, stderr})
}

// TestOktaTTYSMSResend: an empty answer asks Okta to send the code again.
func TestOktaTTYSMSResend(t *testing.T) {
	t.Parallel()
	w := newOktaWorld(t, idptest.OktaOptions{}, "", oktaAllFactors()...)
	w.mustRun("", "configure", "--profile", "o", "--mfa", "sms")
	s := w.startTTYHere("login", "--profile", "o")
	s.waitFor("Password for " + oktaUser + ": ")
	s.waitNoEcho()
	s.typeLine(password)
	s.waitFor("(empty to send it again): ")
	s.typeLine("")
	for strings.Count(s.shown(), "(empty to send it again): ") < 2 {
		s.waitFor("(empty to send it again): ")
	}
	s.typeLine(oktaSMS)
	if code := s.wait(); code != 0 {
		t.Fatalf("login exit %d\n%s", code, s)
	}
	if st := w.k.Stats(); st.CodesSent != 2 || st.PasswordPosts != 1 {
		t.Errorf("okta stats %+v: want 2 codes sent, 1 password post", st)
	}
}

// TestOktaTTYThreeWrongCodes: after three wrong codes the login ends with
// exit 3 and Okta's message.
func TestOktaTTYThreeWrongCodes(t *testing.T) {
	t.Parallel()
	w := newOktaWorld(t, idptest.OktaOptions{}, "", idptest.OktaFactor{Type: "token:software:totp", Code: oktaTOTP})
	s := w.startTTYHere("login", "--profile", "o")
	s.waitFor("Password for " + oktaUser + ": ")
	s.waitNoEcho()
	s.typeLine(password)
	for i := 1; i <= 3; i++ {
		for strings.Count(s.shown(), "Okta Verify code: ") < i {
			s.waitFor("Okta Verify code: ")
		}
		s.typeLine("00000" + string(rune('0'+i)))
	}
	if code := s.wait(); code != 3 {
		t.Fatalf("login exit %d, want 3\n%s", code, s)
	}
	_, stderr := s.out()
	if !strings.Contains(stderr, "Invalid Passcode/Answer") {
		t.Errorf("stderr: %q", stderr)
	}
	if st := w.k.Stats(); st.BadPasscodes != 3 || st.PasswordPosts != 1 {
		t.Errorf("okta stats %+v: want 3 bad codes, 1 password post", st)
	}
}

// TestOktaTTYRateLimitWait: on a terminal a short rate limit (E0000047)
// is waited out as X-Rate-Limit-Reset says, then the sign-in goes on.
// The run is in-process on the world's frozen clock, which the emulator's
// window shares: the wait moves the clock, not real time.
func TestOktaTTYRateLimitWait(t *testing.T) {
	t.Parallel()
	const window = 20 * time.Second // under the adapter's 30s limit
	w := newOktaWorld(t, idptest.OktaOptions{RateLimit: 1, RateWindow: window}, "")
	w.clock.Freeze()
	w.mustRun(password, "login", "--profile", "o", "--password-stdin")
	t0 := w.clock.Now()
	s := w.startTTYHere("login", "--profile", "o", "--force")
	s.waitFor("Password for " + oktaUser + ": ")
	s.waitNoEcho()
	s.typeLine(password)
	if code := s.wait(); code != 0 {
		t.Fatalf("login exit %d\n%s", code, s)
	}
	_, stderr := s.out()
	if !strings.Contains(stderr, "Okta rate limit reached; waiting") {
		t.Errorf("no notice of the wait: %q", stderr)
	}
	// The reset is a whole second: the wait is the window, rounded up.
	if waited := w.clock.Now().Sub(t0); waited < window || waited > window+time.Second {
		t.Errorf("the clock moved %s during the login, want the rate window's %s", waited, window)
	}
	if st := w.k.Stats(); st.RateLimited != 1 || st.SAMLIssued != 2 {
		t.Errorf("okta stats %+v: want one 429 and two logins", st)
	}
}

//go:build linux

package cli_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/idp/idptest"
)

// TestEntraTTYPickerAndCode: on a terminal, an mfa the user does not have
// brings up a picker of the methods they have; the code is asked on the
// terminal, never on stdout.
func TestEntraTTYPickerAndCode(t *testing.T) {
	t.Parallel()
	w := newEntraWorld(t, idptest.EntraOptions{}, idptest.EntraUser{Methods: []idptest.EntraMethod{
		{ID: idptest.EntraPush, Default: true}, {ID: idptest.EntraOTP, Code: entraOTP}}}, "--mfa", "sms")
	s := w.startTTYHere("login", "--profile", "o")
	s.waitFor("Password for " + entraUser + ": ")
	s.waitNoEcho()
	s.typeLine(password)
	s.waitFor("Choose 1-")
	if !strings.Contains(s.shown(), `You have no "sms" method in Entra`) {
		t.Errorf("picker lacks its question:\n%s", s)
	}
	m := regexp.MustCompile(`\[(\d)\] authenticator app code`).FindStringSubmatch(s.shown())
	if m == nil {
		t.Fatalf("method list lacks the authenticator code\n%s", s)
	}
	s.typeLine(m[1])
	s.waitFor("Code from authenticator app code")
	s.typeLine(entraOTP)
	if code := s.wait(); code != 0 {
		t.Fatalf("login exit %d\n%s", code, s)
	}
	if st := w.e.Stats(); st.PasswordPosts != 1 || st.BeginAuths != 1 || st.BadCodes != 0 {
		t.Errorf("entra stats %+v", st)
	}
	stdout, stderr := s.out()
	if stdout != "" {
		t.Errorf("stdout: %q", stdout)
	}
	w.scan(result{0, stdout, stderr})
}

//go:build linux

package cli_test

import (
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/idp/idptest"
)

// TestDuoTTYWrongPasscode: behind AD FS, a Duo passcode asked on the
// terminal; a wrong one is refused in Duo's words and a new one asked,
// never the same one posted twice.
func TestDuoTTYWrongPasscode(t *testing.T) {
	t.Parallel()
	d := newDuo(t, idptest.DuoOptions{}, idptest.DuoUser{Devices: []idptest.DuoDevice{phone("approve", "")}, Passcode: duoPIN})
	w := duoADFS(t, d)
	s := w.startTTYHere("login", "--profile", "d", "--mfa", "passcode")
	s.waitFor("Password for " + adfsUPN + ": ")
	s.waitNoEcho()
	s.typeLine(password)
	s.waitFor("Duo passcode")
	s.typeLine("999999")
	for strings.Count(s.shown(), "Duo passcode") < 2 {
		s.waitFor("Duo passcode")
	}
	s.typeLine(duoPIN)
	if code := s.wait(); code != 0 {
		t.Fatalf("login exit %d\n%s", code, s)
	}
	if st := d.Stats(); st.Passcodes != 2 || st.BadCodes != 1 || st.Pushes != 0 {
		t.Errorf("Duo stats %+v: want 2 passcodes, 1 bad, no push", st)
	}
	stdout, stderr := s.out()
	if !strings.Contains(stderr, `Duo says "Incorrect passcode. Please try again.": try another passcode`) {
		t.Errorf("stderr lacks Duo's message: %q", stderr)
	}
	w.scan(result{0, stdout, stderr})
}

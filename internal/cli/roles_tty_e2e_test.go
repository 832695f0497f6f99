//go:build linux

package cli_test

import (
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/sts/ststest"
)

// TestRolePickerAccountNames: the picker on the terminal names the account.
func TestRolePickerAccountNames(t *testing.T) {
	t.Parallel()
	w := newWorld(t, withNames(ststest.ChooserNextJS))
	w.env["SAML2STS_SIGNIN_URL"] = w.st.SigninURL()
	w.configure("p")
	s := w.startTTYHere("login", "--profile", "p")
	s.waitFor("Password for ana: ")
	s.typeLine(password)
	s.waitFor("Choose 1-2: ")
	if !strings.Contains(s.shown(), "account prod-search ("+account+")") {
		t.Fatalf("picker lacks the account name\n%s", s)
	}
	s.typeLine("1")
	if code := s.wait(); code != 0 {
		t.Fatalf("login exit %d\n%s", code, s)
	}
	_, stderr := s.out()
	if !strings.Contains(stderr, "[prod-search]") {
		t.Errorf("summary lacks the account name: %q", stderr)
	}
}

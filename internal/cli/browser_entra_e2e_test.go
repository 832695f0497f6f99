package cli_test

import (
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/idp/idptest"
)

// TestBrowserEntraE2E: `login --browser --headless` against the Entra
// emulator through the real headless Chromium: the username and password
// typed into ConvergedSignIn (#i0116, #i0118, #idSIButton9) in two steps
// as Entra's script shows them (username, GetCredentialType, then the
// password), the MFA push
// started from ConvergedTFA and approved by the emulator, "Stay signed
// in?" answered yes, and the "Working..." form's POST to AWS intercepted.
func TestBrowserEntraE2E(t *testing.T) {
	needChromium(t)
	t.Parallel()
	login := func(w *entraWorld, pw string) result {
		w.mustRun("", "configure", "--profile", "m365", "--provider", "entra", "--url", w.e.URL(), "--username", entraUser,
			"--region", "eu-west-1", "--role-arn", reader)
		return w.run(pw+"\n", "login", "--profile", "m365", "--browser", "--headless", "--password-stdin", "--debug")
	}
	t.Run("push", func(t *testing.T) {
		t.Parallel()
		push := idptest.EntraMethod{ID: idptest.EntraPush, Default: true, Number: 42, After: 2}
		w := newEntraWorld(t, idptest.EntraOptions{TwoStep: true}, idptest.EntraUser{Methods: []idptest.EntraMethod{push,
			{ID: idptest.EntraOTP, Code: entraOTP}}})
		r := login(w, password)
		if r.code != 0 || !strings.Contains(r.stderr, "Logged in: profile m365") {
			t.Fatalf("login: %s", r)
		}
		st := w.e.Stats()
		if st.CredentialTypes != 1 || st.PasswordPosts != 1 || st.BeginAuths != 1 || st.EndAuths != 3 || st.ProcessAuths != 1 || st.KMSIYes != 1 ||
			st.SAMLIssued != 1 || st.StaleTokens != 0 || st.MissingHeaders != 0 {
			t.Errorf("Entra stats %+v: want one password, a push polled to approval, KMSI yes, one assertion", st)
		}
		if issued := w.st.Issued(); len(issued) != 1 {
			t.Errorf("STS issued %d credentials, want 1", len(issued))
		}
		w.scan(r)
		w.noLeftovers()
	})
	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		w := newEntraWorld(t, idptest.EntraOptions{TwoStep: true}, idptest.EntraUser{})
		r := login(w, "wrong-"+password)
		if r.code != 3 || !strings.Contains(r.stderr, idptest.EntraMsgBadPassword) {
			t.Errorf("wrong password: want exit 3 and Entra's text: %s", r)
		}
		if st := w.e.Stats(); st.PasswordPosts != 1 || st.SAMLIssued != 0 {
			t.Errorf("Entra stats %+v: want one password post, no assertion", st)
		}
		w.scan(r)
		noEncodedSecret(t, "output", r.stdout+r.stderr, "wrong-"+password)
		w.noLeftovers()
	})
}

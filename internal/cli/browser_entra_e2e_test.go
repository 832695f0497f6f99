package cli_test

import (
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/idp/idptest"
)

// TestBrowserEntraE2E: the Entra sign-in pages through the browser: the
// username and password typed into ConvergedSignIn (#i0116, #i0118,
// #idSIButton9), then what follows, up to the "Working..." form the
// browser posts to AWS, which is intercepted.
func TestBrowserEntraE2E(t *testing.T) {
	needChromium(t)
	t.Run("password", func(t *testing.T) {
		t.Parallel()
		w := newEntraWorld(t, idptest.EntraOptions{}, idptest.EntraUser{})
		w.mustRun("", "configure", "--profile", "m365", "--provider", "entra", "--url", w.e.URL(), "--username", entraUser,
			"--region", "eu-west-1", "--role-arn", reader)
		r := w.run(password+"\n", "login", "--profile", "m365", "--browser", "--headless", "--password-stdin", "--debug")
		t.Logf("%s", r)
		t.Logf("%+v", w.e.Stats())
		if r.code != 0 || !strings.Contains(r.stderr, "Logged in") {
			t.Errorf("login: %s", r)
		}
		w.scan(r)
		w.noLeftovers()
	})
}

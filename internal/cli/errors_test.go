package cli

import (
	"fmt"
	"net/url"
	"os"
	"testing"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/httpx"
)

func TestExitCodeCABundle(t *testing.T) {
	t.Parallel()
	// As a login sees it: wrapped by the http client and the adapter.
	err := fmt.Errorf("keycloak: %w", &url.Error{Op: "Get", URL: "https://sso.example.com/", Err: &httpx.CABundleError{Path: "/nope.pem", Err: os.ErrNotExist}})
	if got := exitCode(err); got != exitUsage {
		t.Errorf("exit code for an unusable --ca-bundle = %d, want %d", got, exitUsage)
	}
}

// TestExitCodeIdP pins the exit codes of the adapters' typed errors, as
// the broker hands them on (wrapped).
func TestExitCodeIdP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{idp.Configf("okta: url https://corp.okta.com/home/amazon_aws_sso/0oa1/123 is the Okta \"AWS IAM Identity Center\" app"), exitUsage},
		{&idp.AuthError{Message: "Authentication failed"}, exitAuth},
		{&idp.UnsupportedError{What: "WebAuthn"}, exitFailure},
		{&idp.PageError{Title: "Sign In"}, exitFailure},
		{idp.ErrNoTerminal, exitNoTTY},
	}
	for _, tc := range tests {
		if got := exitCode(fmt.Errorf("login: %w", tc.err)); got != tc.want {
			t.Errorf("exit code for %T %v = %d, want %d", tc.err, tc.err, got, tc.want)
		}
	}
}

package cli

import (
	"fmt"
	"net/url"
	"os"
	"testing"

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

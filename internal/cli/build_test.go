package cli_test

import (
	"os"
	"os/exec"
	"testing"
)

// TestBuildsForOtherPlatforms: the docs promise macOS and Windows (Keychain,
// Credential Manager, rundll32 for the console); the command must at least
// build there.
func TestBuildsForOtherPlatforms(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles")
	}
	for _, goos := range []string{"windows", "darwin"} {
		t.Run(goos, func(t *testing.T) {
			cmd := exec.Command("go", "build", "-o", os.DevNull, "../../cmd/saml2sts")
			cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("GOOS=%s go build: %v\n%s", goos, err, out)
			}
		})
	}
}

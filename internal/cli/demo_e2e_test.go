package cli_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoTouchesNothingOutsideItsTempDir: the demo ends with `logout
// --profile demo`, so it must never see the user's real cache, config or
// AWS config, whatever the OS (on macOS and Windows the cache dir ignores
// XDG_CACHE_HOME, so only SAML2STS_CACHE_DIR keeps it in the temp dir).
func TestDemoTouchesNothingOutsideItsTempDir(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	real := map[string]string{
		".cache/saml2sts/demo.cache":         "real credentials",
		".cache/saml2sts/index.json":         `{"version":1,"profiles":{}}`,
		"Library/Caches/saml2sts/demo.cache": "real credentials",
		"AppData/Local/saml2sts/demo.cache":  "real credentials",
		".config/saml2sts/config":            "[profile demo]\nprovider = okta\n",
		".aws/config":                        "[profile demo]\nregion = us-east-1\n",
	}
	for p, body := range real {
		full := filepath.Join(home, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	before := homeFiles(t, home)
	cmd := exec.Command(binary(t), "demo")
	// The demo runs the aws on PATH: the program itself, not a pyenv shim.
	path := os.Getenv("PATH")
	if findAWSCLIs(); awsPath != "" {
		path = filepath.Dir(awsPath) + string(filepath.ListSeparator) + path
	}
	cmd.Env = []string{"PATH=" + path, "HOME=" + home, "LOCALAPPDATA=" + filepath.Join(home, "AppData", "Local")}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	after := homeFiles(t, home)
	if before != after {
		t.Errorf("the demo changed the user's home:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// homeFiles lists every file under dir with its content.
func homeFiles(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		b.WriteString(strings.TrimPrefix(p, dir) + ": " + string(body) + "\n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

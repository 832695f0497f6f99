//go:build keyring

package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyringBackendE2E runs login, credential-process, status and logout
// against the real Secret Service (gnome-keyring), as .ci/run starts it.
func TestKeyringBackendE2E(t *testing.T) {
	t.Parallel()
	bus := sessionBus
	if bus == "" {
		t.Skip("no D-Bus session bus: run under dbus-run-session with gnome-keyring (see .ci/run)")
	}
	w := newWorld(t)
	// The keyring's D-Bus connection comes from the process environment,
	// so every step runs in a process of its own.
	w.viaBinary = true
	w.env["DBUS_SESSION_BUS_ADDRESS"] = bus
	w.env["SAML2STS_CACHE"] = "keyring"
	profile := "kr-" + filepath.Base(w.dir)
	w.configure(profile, "--role-arn", reader)
	w.mustRun(password, "login", "--profile", profile, "--password-stdin")
	c := parseCreds(t, w.mustRun("", "credential-process", "--profile", profile).stdout)
	if c.AccessKeyID != w.st.Issued()[0].AccessKeyID {
		t.Fatal("credential-process did not serve the issued key from the keyring")
	}
	if st := w.mustRun("", "status"); !strings.Contains(st.stdout, "keyring") {
		t.Errorf("status should name the keyring backend: %s", st)
	}
	// No secret reached the file cache: only the index and lock files.
	filepath.Walk(filepath.Join(w.dir, "cache"), func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			if strings.Contains(string(b), c.SecretAccessKey) || strings.Contains(string(b), c.SessionToken) {
				t.Errorf("%s holds a secret while the keyring backend is in use", p)
			}
		}
		return nil
	})
	w.mustRun("", "logout", "--profile", profile)
	if r := w.run("", "credential-process", "--profile", profile); r.code != 4 {
		t.Errorf("after logout the keyring must be empty for %s: %s", profile, r)
	}
}

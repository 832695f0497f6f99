//go:build linux

package cli_test

import (
	"bytes"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/browser"
	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

// TestBrowserCtrlCKillsBrowser: a browser login interrupted while the
// page waits for a security key exits 130 and leaves no browser process.
// It needs a real separate process to signal.
func TestBrowserCtrlCKillsBrowser(t *testing.T) {
	needChromium(t)
	t.Parallel()
	w := newWorld(t, func(ko *idptest.KeycloakOptions, _ *ststest.Options) { ko.Users[0].WebAuthnOnly = true })
	w.configure("c", "--role-arn", reader, "--browser", "--browser-timeout", "2m")
	cmd := exec.Command(bin, "login", "--profile", "c", "--password-stdin")
	for k, v := range w.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(password + "\n")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dir := browser.DataDir(w.browserState("c"))
	deadline := time.Now().Add(60 * time.Second)
	for w.kc.Stats().PasswordPosts == 0 { // the browser is up and on the WebAuthn page
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the browser never posted the password: %s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(browser.Leftovers(dir)) == 0 {
		t.Fatalf("no browser process found for %s", dir)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 130 || !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("after Ctrl-C: %v, stderr %q; want exit 130", err, errb.String())
	}
	if left := browser.Leftovers(dir); len(left) > 0 {
		t.Errorf("browser processes outlived the interrupted login: %v", left)
	}
}

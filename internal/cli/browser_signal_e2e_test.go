//go:build linux

package cli_test

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/browser"
	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

// These tests need a real separate process to signal, and a browser
// sitting on a page that waits for a security key.

// startStuckLogin starts `login --browser` for a WebAuthn-only account and
// returns once the browser has posted the password (it then waits on the
// security-key page), with the browser's user-data dir.
func startStuckLogin(t *testing.T) (*exec.Cmd, *bytes.Buffer, string) {
	t.Helper()
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
	t.Cleanup(func() { cmd.Process.Kill() })
	dir := browser.DataDir(w.browserState("c"))
	deadline := time.Now().Add(60 * time.Second)
	for w.kc.Stats().PasswordPosts == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the browser never posted the password: %s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(browser.Leftovers(dir)) == 0 {
		t.Fatalf("no browser process found for %s", dir)
	}
	return cmd, &errb, dir
}

func exitOf(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// TestBrowserCtrlCKillsBrowser: a browser login interrupted while the page
// waits exits 130 and leaves no browser process.
func TestBrowserCtrlCKillsBrowser(t *testing.T) {
	needChromium(t)
	t.Parallel()
	cmd, errb, dir := startStuckLogin(t)
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); exitOf(err) != 130 || !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("after Ctrl-C: %v, stderr %q; want exit 130", err, errb.String())
	}
	if left := browser.Leftovers(dir); len(left) > 0 {
		t.Errorf("browser processes outlived the interrupted login: %v", left)
	}
}

// TestBrowserClosedE2E: the browser quits under the login (as when the
// person closes its window): exit 1 saying so, nothing left running.
func TestBrowserClosedE2E(t *testing.T) {
	needChromium(t)
	t.Parallel()
	cmd, errb, dir := startStuckLogin(t)
	for _, pid := range browser.Leftovers(dir) {
		if cl, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); !bytes.Contains(cl, []byte("--type=")) {
			syscall.Kill(pid, syscall.SIGTERM) // the main browser process
		}
	}
	if err := cmd.Wait(); exitOf(err) != 1 || !strings.Contains(errb.String(), "the browser window was closed before the sign-in finished") {
		t.Errorf("browser closed: %v, stderr %q; want exit 1 and the reason", err, errb.String())
	}
	if left := browser.Leftovers(dir); len(left) > 0 {
		t.Errorf("browser processes left: %v", left)
	}
}

//go:build linux

package cli_test

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/browser"
	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

// These tests need a browser sitting on a page that waits for a security
// key. They run in-process: what the binary adds, a signal cancelling the
// command's context (exit 130), TestSearchExportInterruptE2E and
// TestInterruptAtPasswordPrompt check on the built binary.

// stuckLogin is `login --browser` for a WebAuthn-only account, running.
type stuckLogin struct {
	cancel context.CancelFunc
	done   chan result
	dir    string // the browser's user-data dir
}

// startStuckLogin starts the login and returns once the browser has posted
// the password (it then waits on the security-key page).
func startStuckLogin(t *testing.T) *stuckLogin {
	t.Helper()
	w := newWorld(t, func(ko *idptest.KeycloakOptions, _ *ststest.Options) { ko.Users[0].WebAuthnOnly = true })
	w.configure("c", "--role-arn", reader, "--browser", "--browser-timeout", "2m")
	ctx, cancel := context.WithCancel(t.Context())
	s := &stuckLogin{cancel: cancel, done: make(chan result, 1), dir: browser.DataDir(w.browserState("c"))}
	t.Cleanup(cancel)
	go func() { s.done <- w.runCtx(ctx, password+"\n", "login", "--profile", "c", "--password-stdin") }()
	deadline := time.Now().Add(3 * time.Minute) // a hang guard
	for w.kc.Stats().PasswordPosts == 0 {
		select {
		case r := <-s.done:
			t.Fatalf("the login ended before the browser posted the password: %s", r)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the browser never posted the password")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(browser.Leftovers(s.dir)) == 0 {
		t.Fatalf("no browser process found for %s", s.dir)
	}
	return s
}

// TestBrowserCtrlCKillsBrowser: a browser login interrupted while the page
// waits exits 130 and leaves no browser process.
func TestBrowserCtrlCKillsBrowser(t *testing.T) {
	needChromium(t)
	t.Parallel()
	s := startStuckLogin(t)
	s.cancel() // what the binary's SIGINT handler does
	if r := <-s.done; r.code != 130 || !strings.Contains(r.stderr, "interrupted") {
		t.Errorf("after Ctrl-C: %s; want exit 130", r)
	}
	if left := browser.Leftovers(s.dir); len(left) > 0 {
		t.Errorf("browser processes outlived the interrupted login: %v", left)
	}
}

// TestBrowserClosedE2E: the browser quits under the login (as when the
// person closes its window): exit 1 saying so, nothing left running.
func TestBrowserClosedE2E(t *testing.T) {
	needChromium(t)
	t.Parallel()
	s := startStuckLogin(t)
	for _, pid := range browser.Leftovers(s.dir) {
		if cl, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); !bytes.Contains(cl, []byte("--type=")) {
			syscall.Kill(pid, syscall.SIGTERM) // the main browser process
		}
	}
	if r := <-s.done; r.code != 1 || !strings.Contains(r.stderr, "the browser window was closed before the sign-in finished") {
		t.Errorf("browser closed: %s; want exit 1 and the reason", r)
	}
	if left := browser.Leftovers(s.dir); len(left) > 0 {
		t.Errorf("browser processes left: %v", left)
	}
}

package browser

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// Modes of the browser profile key.
const (
	Never    = "never"
	Always   = "always"
	Fallback = "fallback"
)

// Defaults.
const (
	// DefaultTimeout bounds a browser login with someone at the window.
	DefaultTimeout = 5 * time.Minute
	// silentTimeout bounds a login nobody watches (credential-process,
	// headless): a stored session answers in seconds or a person is needed.
	silentTimeout = 30 * time.Second
)

// Config is one profile's browser settings.
type Config struct {
	Mode     string        // never, always or fallback
	Headless bool          // --headless, browser_headless = true
	Path     string        // browser_path / SAML2STS_BROWSER; "" = discover
	Timeout  time.Duration // browser_timeout; 0 = DefaultTimeout
	// Dir is the profile's private browser state directory (under the
	// cache directory); Identity fingerprints the profile settings it
	// belongs to. A directory of another identity is emptied first.
	Dir, Identity string
	// Trace, when set, receives redacted page URLs and titles (--debug).
	Trace io.Writer
	// Getenv reads the environment (display detection); nil = os.Getenv.
	Getenv func(string) string
	// Passkey, when set, is a software authenticator the browser offers
	// to WebAuthn pages (CI tests of a passkey login; see docs/browser.md).
	Passkey *Passkey
}

// Provider logs in through a browser, around the profile's adapter.
type Provider struct {
	cfg  Config
	next idp.Provider
	sys  system
	// idle bounds a headless wait on a page nothing happens on; tests
	// shorten it. 0 = silentTimeout (capped by the timeout).
	idle time.Duration
	// hook, when set, runs on every look at the page (tests).
	hook func(ctx context.Context)
	// open, when set, opens the login's tab in a browser the tests share
	// (one launch per test binary instead of one per login); stop closes
	// it. The product always starts its own browser.
	open func(ctx context.Context) (tab context.Context, stop func())
}

// New wraps next (the profile's adapter; may be nil with mode always).
func New(next idp.Provider, cfg Config) *Provider {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Provider{cfg: cfg, next: next, sys: hostSystem(runtime.GOOS, cfg.Getenv)}
}

// Check implements [idp.Checker] by asking the wrapped adapter.
func (p *Provider) Check(req *idp.Request) error {
	if c, ok := p.next.(idp.Checker); ok {
		return c.Check(req)
	}
	return nil
}

// Login implements [idp.Provider].
func (p *Provider) Login(ctx context.Context, req *idp.Request) (string, error) {
	switch {
	case p.cfg.Mode == Always || p.next == nil:
		return p.browse(ctx, req)
	case p.cfg.Mode == Fallback:
		s, err := p.next.Login(ctx, req)
		if err == nil || !HandOff(err) {
			return s, err
		}
		if !idp.Interactive(req.Prompt) || !(p.sys.hasDisplay() || p.cfg.Headless) {
			return "", err // the adapter's error ends with the --browser hint
		}
		if req.Notice != nil {
			fmt.Fprintf(req.Notice, "saml2sts: %v\nsaml2sts: continuing in the browser (browser = fallback)\n", err)
		}
		return p.browse(ctx, req)
	}
	return p.next.Login(ctx, req)
}

// HandOff reports an adapter error that a person in a browser can get
// past: a step the adapter does not support (WebAuthn, FastPass, Duo,
// Conditional Access) or a page it does not know (JavaScript-only).
func HandOff(err error) bool {
	var (
		ue *idp.UnsupportedError
		pe *idp.PageError
	)
	return errors.As(err, &ue) || errors.As(err, &pe)
}

// StartURL is what the adapter would open first: its [idp.Starter] answer,
// else the profile url.
func (p *Provider) startURL(req *idp.Request) (string, error) {
	if s, ok := p.next.(idp.Starter); ok {
		return s.StartURL(req)
	}
	return req.URL, nil
}

// prepareDir makes the private user-data directory: 0700, emptied when it
// belongs to another identity or fresh is set (--force).
func (p *Provider) prepareDir(fresh bool) (string, error) {
	dir := p.cfg.Dir
	if dir == "" {
		return "", errors.New("browser: no state directory")
	}
	idFile := filepath.Join(dir, "identity")
	if b, err := os.ReadFile(idFile); fresh || err != nil || strings.TrimSpace(string(b)) != p.cfg.Identity {
		if err := os.RemoveAll(dir); err != nil {
			return "", fmt.Errorf("browser: reset %s: %w", dir, err)
		}
	}
	data := filepath.Join(dir, "chrome")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return "", fmt.Errorf("browser: %w", err)
	}
	os.Chmod(dir, 0o700)
	if err := os.WriteFile(idFile, []byte(p.cfg.Identity+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("browser: %w", err)
	}
	return data, nil
}

// Forget deletes a profile's browser state directory (logout).
func Forget(dir string) error {
	if dir == "" {
		return nil
	}
	return os.RemoveAll(dir)
}

// DataDir is the user-data directory inside a state directory.
func DataDir(dir string) string { return filepath.Join(dir, "chrome") }

// ClosedError is the browser window closed (or the browser gone) before
// the sign-in finished.
type ClosedError struct{ URL string }

func (e *ClosedError) Error() string {
	return "the browser window was closed before the sign-in finished" + at(e.URL) + ": run again and finish the sign-in in the window"
}

// ExitCode is 1: nothing to fix but trying again.
func (e *ClosedError) ExitCode() int { return exitcode.Failure }

// TimeoutError is a browser login that did not finish in time.
type TimeoutError struct {
	After      time.Duration
	Title, URL string
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("the browser sign-in did not finish within %s (last page %q%s): run again, or raise browser_timeout", e.After, e.Title, at(e.URL))
}

// ExitCode is 1: the person was there but did not finish.
func (e *TimeoutError) ExitCode() int { return exitcode.Failure }

// HumanError is a page that needs a person while nobody can see the
// browser (headless, or no terminal). Without a terminal it unwraps to
// [idp.ErrNoTerminal], so the caller names the login command to run.
type HumanError struct {
	Title, URL  string
	Interactive bool // a terminal is attached (so a display is what lacks)
}

func (e *HumanError) Error() string {
	msg := fmt.Sprintf("the sign-in page %q%s needs a person at the browser window (a security key, a push, a choice saml2sts cannot make)", e.Title, at(e.URL))
	if e.Interactive {
		return msg + ", and the browser runs headless: run saml2sts login where a display is available, without --headless"
	}
	return msg + ", and there is no terminal"
}

// ExitCode is 4: a person is needed and there is none.
func (e *HumanError) ExitCode() int { return exitcode.NoTerminal }

func (e *HumanError) Unwrap() error {
	if e.Interactive {
		return nil
	}
	return idp.ErrNoTerminal
}

func at(u string) string {
	if u == "" {
		return ""
	}
	return " at " + u
}

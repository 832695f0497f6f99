package idp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// Provider drives one IdP's login and returns the base64 SAMLResponse that
// the IdP would have posted to AWS.
type Provider interface {
	Login(ctx context.Context, req *Request) (string, error)
}

// Request is everything an adapter may need for one login. Secrets are asked
// for lazily, so a login that rides on a stored IdP session prompts for nothing.
type Request struct {
	// URL is the IdP-initiated sign-on URL from the profile.
	URL string
	// Username is the login name; adapters may ask Prompt for it when empty.
	Username string
	// Password returns the password; it is called only when a password form
	// is shown, and at most once per login.
	Password func(ctx context.Context) (string, error)
	// MFA is "auto" or a factor name from the profile or --mfa.
	MFA string
	// MFACode is a code given up front (--mfa-code); used once, before any prompt.
	MFACode string
	// Prompt asks the user for codes and choices; never nil (the broker
	// supplies one that fails with ErrNoTerminal when there is no terminal).
	Prompt Prompter
	// Client carries the shared transport and a cookie jar that may already
	// hold a stored IdP session.
	Client *http.Client
	// Debug, when non-nil, receives redacted copies of unexpected pages.
	Debug Debugger
	// Notice, when non-nil, receives one-line advice that is not an error
	// (e.g. "your url works only with /auth: update the profile").
	Notice io.Writer
	// Fresh asks for a login that reuses no stored session (--force).
	Fresh bool
	// Partition is the AWS partition of the profile (aws, aws-us-gov,
	// aws-cn; "" means aws): adapters that build a SAML AuthnRequest
	// name that partition's sign-in endpoint as the ACS.
	Partition string
	// Options are the profile's provider-specific keys (adfs_auth,
	// form_*), by config key name; absent keys are absent.
	Options map[string]string
	// Getenv reads the environment (KRB5CCNAME, KRB5_CONFIG); nil is
	// os.Getenv. Read it through [Request.Env].
	Getenv func(string) string
	// Clock paces the login's waits for the IdP (push polls, number
	// matches, rate limits) and dates what the adapter judges or builds
	// (Kerberos ticket expiry, AuthnRequests); nil is [SystemClock]. The
	// CLI passes its run's clock, whose waits end at once in end-to-end
	// tests (the fake time moves instead), so a wait for something that
	// runs in real time on this machine (a real browser) must not use it.
	Clock Clock
}

// Time is the login's clock: Clock, else [SystemClock].
func (r *Request) Time() Clock {
	if r.Clock == nil {
		return SystemClock
	}
	return r.Clock
}

// Env is the environment variable k, through Getenv.
func (r *Request) Env(k string) string {
	if r.Getenv == nil {
		return os.Getenv(k)
	}
	return r.Getenv(k)
}

// Prompter asks the user things on the terminal, never on stdout.
type Prompter interface {
	// Secret asks for a value without echo (a password).
	Secret(ctx context.Context, label string) (string, error)
	// Code asks for a short one-time code (echo allowed).
	Code(ctx context.Context, label string) (string, error)
	// Choose shows options and returns the index picked.
	Choose(ctx context.Context, label string, options []string) (int, error)
}

// Interactive reports whether p can ask the user anything: prompters that
// know they cannot (no terminal) say so with an Interactive() bool method.
// Adapters use it before waits that only make sense with someone watching.
func Interactive(p Prompter) bool {
	i, ok := p.(interface{ Interactive() bool })
	return !ok || i.Interactive()
}

// Debugger receives diagnostics that only --debug may show.
type Debugger interface {
	// SavePage keeps a redacted copy of an unexpected page and returns where
	// it was saved ("" when nothing was saved).
	SavePage(name string, body []byte) string
}

// ErrNoTerminal means input is needed but no terminal is attached.
var ErrNoTerminal = exitcode.New("input needed but no terminal is available", exitcode.NoTerminal)

// AuthError is the IdP rejecting the credentials or the MFA answer. Message
// is the IdP's own text, verbatim.
type AuthError struct {
	Message string
}

func (e *AuthError) Error() string { return "identity provider rejected the login: " + e.Message }

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *AuthError) ExitCode() int { return exitcode.Auth }

// UnsupportedError names a step the adapter cannot perform (WebAuthn, ...).
type UnsupportedError struct {
	What string // e.g. "WebAuthn (security key) authentication"
	Hint string // e.g. "choose another factor in your account settings"
}

func (e *UnsupportedError) Error() string {
	if e.Hint == "" {
		return e.What + " is not supported: " + BrowserHint
	}
	return fmt.Sprintf("%s is not supported: %s; or %s", e.What, e.Hint, BrowserHint)
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *UnsupportedError) ExitCode() int { return exitcode.Failure }

// BrowserHint ends every message about a step only a person in a browser
// can do: browser mode (idp/browser) can.
const BrowserHint = "run again with --browser"

// PageError is an unexpected page: not a step the adapter knows.
type PageError struct {
	Title string // page <title>, trimmed
	URL   string // where the page came from (query string dropped)
	Saved string // where --debug saved a redacted copy, if anywhere
	Why   string // what the adapter expected
}

func (e *PageError) Error() string {
	msg := fmt.Sprintf("unexpected page %q at %s", e.Title, e.URL)
	if e.Why != "" {
		msg += ": " + e.Why
	}
	if e.Saved != "" {
		msg += " (redacted copy: " + e.Saved + ")"
	}
	return msg
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *PageError) ExitCode() int { return exitcode.Failure }

// ConfigError is a profile setting the adapter cannot work with (a url of
// the wrong kind, an unknown option value): fixing the profile is the way
// on, so the CLI exits 2 as for any configuration mistake.
type ConfigError struct {
	Msg string // what is wrong and what to set instead
}

func (e *ConfigError) Error() string { return e.Msg }

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *ConfigError) ExitCode() int { return exitcode.Usage }

// Configf returns a [ConfigError] with a formatted message.
func Configf(format string, a ...any) error { return &ConfigError{Msg: fmt.Sprintf(format, a...)} }

// Checker is an adapter that can check a profile's settings (URL, MFA,
// Options of the request) without the network, so that configure and login
// refuse a setting it could never work with before anything is written or
// sent. Check returns a [ConfigError].
type Checker interface {
	Check(req *Request) error
}

// Starter is an adapter whose first page is not the profile url as is
// (AD FS adds its sign-on path and relying party): the browser login
// opens StartURL instead.
type Starter interface {
	StartURL(req *Request) (string, error)
}

package warm

import (
	"errors"
	"fmt"

	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// ErrNotFound is a cache miss.
var ErrNotFound = errors.New("not found in cache")

// ErrUnavailable means the backend cannot be used here (no session bus,
// locked or missing keyring, timeout).
var ErrUnavailable = errors.New("keyring unavailable")

// ErrSlow is a read only go-keyring's path can answer (a locked item, a
// value of more items than read at once, a keyring this reader does not
// handle).
var ErrSlow = errors.New("keyring: use the go-keyring path")

// UnavailableError says why the keyring cannot be used. It matches
// ErrUnavailable with errors.Is.
type UnavailableError struct {
	Reason string // e.g. "no D-Bus session bus" or "get creds/dev"
	Err    error  // underlying error, if any

	timedOut bool
}

// TimedOut reports whether the keyring did not answer in time.
func (e *UnavailableError) TimedOut() bool { return e.timedOut }

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("%v: %s", ErrUnavailable, e.Detail())
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *UnavailableError) ExitCode() int { return exitcode.Failure }

// Detail is the reason with the underlying error.
func (e *UnavailableError) Detail() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *UnavailableError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrUnavailable, e.Err}
	}
	return []error{ErrUnavailable}
}

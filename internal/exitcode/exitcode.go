// Package exitcode holds saml2sts's documented exit statuses, so that the
// packages that define errors can say which one each error means.
//
// An error declares its status with a method
//
//	ExitCode() int
//
// and the CLI exits with the status of the first error in the chain
// (errors.As order) that has one; errors without one exit [Failure]. A test
// in internal/cli proves every exported error type of the module has the
// method. docs/exit-codes.md is the user's table of these codes.
package exitcode

import "errors"

// The exit statuses.
const (
	OK         = 0   // success
	Failure    = 1   // any other error: network, unexpected page, ...
	Usage      = 2   // bad flag, argument, profile or config line: fix it
	Auth       = 3   // the IdP rejected the credentials or the MFA answer
	NoTerminal = 4   // a person is needed but there is no terminal
	Refused    = 5   // AWS (STS) or OpenSearch refused the request
	Signaled   = 130 // interrupted (SIGINT); 128+N for signal N
)

// Coder is an error that knows its exit status.
type Coder interface {
	error
	ExitCode() int
}

// Of returns the exit status err declares: the code of the first error in
// its chain implementing [Coder], else [Failure] (nil is [OK]). Wrappers
// that only add context call it to pass on the code of what they wrap.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var c Coder
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return Failure
}

// New returns a sentinel error (compare it with errors.Is) whose exit
// status is code.
func New(msg string, code int) error { return &sentinel{msg, code} }

type sentinel struct {
	msg  string
	code int
}

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) ExitCode() int { return e.code }

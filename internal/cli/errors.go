package cli

import (
	"errors"
	"fmt"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/broker"
	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/sts"
)

// usageError is a bad flag or argument: exit 2 and a pointer to --help.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }

// exitError carries an explicit exit code; silent ones were already
// explained on stderr (or are a child's exit status).
type exitError struct {
	code   int
	err    error
	silent bool
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func isFlagError(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}

// exitCode maps an error to the documented exit status.
func exitCode(err error) int {
	var (
		ee *exitError
		ue *usageError
		ce *config.Error
		nf *config.NotFoundError
		re *broker.RoleError
		pe *broker.ProviderError
		ae *idp.AuthError
		se *sts.Error
	)
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue), errors.As(err, &ce), errors.As(err, &nf), errors.As(err, &re), errors.As(err, &pe):
		return exitUsage
	case errors.As(err, &ae):
		return exitAuth
	case errors.Is(err, idp.ErrNoTerminal):
		return exitNoTTY
	case errors.As(err, &se):
		return exitAWS
	}
	return exitFailure
}

// message is the one-line text printed after "saml2sts: ".
func message(err error) string {
	return err.Error()
}

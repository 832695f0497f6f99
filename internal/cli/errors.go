package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/broker"
	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/internal/httpx"
	"github.com/saml2sts/saml2sts/opensearch"
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
		ee  *exitError
		ue  *usageError
		ce  *config.Error
		nf  *config.NotFoundError
		re  *broker.RoleError
		pe  *broker.ProviderError
		ae  *idp.AuthError
		se  *sts.Error
		be  *httpx.CABundleError
		oe  *opensearch.EndpointError
		ae2 *opensearch.AccessError
		ic  *idp.ConfigError
	)
	var coded interface{ ExitCode() int }
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &coded) && !isProcessExit(coded):
		return coded.ExitCode()
	case errors.Is(err, context.Canceled):
		return exitSignaled
	case errors.As(err, &ue), errors.As(err, &ce), errors.As(err, &nf), errors.As(err, &re), errors.As(err, &pe), errors.As(err, &be), errors.As(err, &oe),
		errors.As(err, &ic):
		return exitUsage
	case errors.As(err, &ae):
		return exitAuth
	case errors.Is(err, idp.ErrNoTerminal):
		return exitNoTTY
	case errors.As(err, &se), errors.As(err, &ae2):
		return exitAWS
	}
	return exitFailure
}

// message is the one-line text printed after "saml2sts: ", with a hint
// for failures whose fix is not in the error itself.
func message(err error) string {
	if errors.Is(err, context.Canceled) {
		return "interrupted"
	}
	msg := err.Error()
	var (
		pe *idp.PageError
		ua x509.UnknownAuthorityError
		ce *tls.CertificateVerificationError
		de *net.DNSError
		oe *net.OpError
	)
	switch {
	case errors.As(err, &pe) && pe.Saved == "":
		msg += " (rerun with --debug to save a redacted copy of the page)"
	case errors.As(err, &ua), errors.As(err, &ce):
		msg += " (a TLS-inspecting proxy or private CA? point AWS_CA_BUNDLE or --ca-bundle at its PEM certificate)"
	case errors.As(err, &de):
		msg += " (check the host name in the profile url, and HTTPS_PROXY if you need a proxy)"
	case errors.As(err, &oe) && oe.Op == "dial":
		msg += " (is the host reachable? check the profile url, your VPN and HTTPS_PROXY)"
	}
	return strings.ReplaceAll(msg, "\n", " ")
}

// isProcessExit reports a child's exit status (*exec.ExitError also has
// ExitCode), which is not an exit code of ours unless exec chose it.
func isProcessExit(e any) bool {
	_, ok := e.(*exec.ExitError)
	return ok
}

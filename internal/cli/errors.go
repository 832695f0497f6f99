package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// usageError is a bad flag or argument: exit 2 and a pointer to --help.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }
func (e *usageError) ExitCode() int { return exitUsage }

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
func (e *exitError) ExitCode() int { return e.code }

func isFlagError(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}

// exitCode maps an error to the documented exit status: the one the first
// error of its chain declares with ExitCode() int (see internal/exitcode),
// else 1. An interrupted run exits 130, unless a command chose its code.
func exitCode(err error) int {
	var ee *exitError
	if !errors.As(err, &ee) && errors.Is(err, context.Canceled) {
		return exitSignaled
	}
	return exitcode.Of(err)
}

// message is the one-line text printed after "saml2sts: ", with a hint
// for failures whose fix is not in the error itself. idpHost is the host
// of the profile's url, "" when the command has none: a network hint
// names the profile's url only for that host (an OpenSearch, STS or
// redirect host is named as itself).
func message(err error, idpHost string) string {
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
	host := failedHost(err)
	ours := host != "" && strings.EqualFold(host, idpHost)
	switch {
	case errors.As(err, &pe) && pe.Saved == "":
		msg += " (rerun with --debug to save a redacted copy of the page)"
	case errors.As(err, &ua), errors.As(err, &ce):
		msg += " (a TLS-inspecting proxy or private CA? point AWS_CA_BUNDLE or --ca-bundle at its PEM certificate)"
	case errors.As(err, &de) && ours:
		msg += " (check the host name in the profile's url, and HTTPS_PROXY if you need a proxy)"
	case errors.As(err, &de):
		msg += fmt.Sprintf(" (%s does not resolve from here: check your network, VPN and DNS, and HTTPS_PROXY if you need a proxy)", host)
	case errors.As(err, &oe) && oe.Op == "dial" && ours:
		msg += " (is the host reachable? check the profile's url, your VPN and HTTPS_PROXY)"
	case errors.As(err, &oe) && oe.Op == "dial" && host != "":
		msg += fmt.Sprintf(" (is %s reachable? check your VPN and HTTPS_PROXY)", host)
	case errors.As(err, &oe) && oe.Op == "dial":
		msg += " (is the host reachable? check your VPN and HTTPS_PROXY)"
	}
	return strings.ReplaceAll(msg, "\n", " ")
}

// failedHost is the host a network error is about: the request's URL, or
// the name that did not resolve; "" when the error names none.
func failedHost(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Hostname() != "" {
			return u.Hostname()
		}
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return de.Name
	}
	return ""
}

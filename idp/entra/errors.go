package entra

import (
	"strings"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// Error is an Entra page or answer that ends the login: its AADSTS code,
// Entra's own text verbatim, the page (pgid) it came on, and what to do.
// Wrong password (50126), unknown user (50034), a locked account (50053)
// and refused MFA answers exit 3 like [idp.AuthError]; the rest exit 1.
type Error struct {
	Code  string // AADSTS number, without the prefix; "" when Entra gave none
	Text  string // sErrTxt or the API's Message, verbatim
	Page  string // pgid, or the API call
	Hint  string // what to do, before "run again with --browser"
	Saved string // where --debug saved a redacted copy of the page
	exit  int

	secrets *idp.Inputs // scrubs the text of the login's secrets
}

func (e *Error) Error() string {
	msg := "entra: "
	if e.Code != "" {
		msg += "AADSTS" + e.Code + " "
	}
	msg += "on " + e.Page
	if e.Text != "" {
		msg += `: "` + strings.Join(strings.Fields(e.Text), " ") + `"` // verbatim, on one line
	}
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	msg += "; run again with --browser"
	if e.Saved != "" {
		msg += " (redacted copy: " + e.Saved + ")"
	}
	if e.secrets != nil {
		msg = e.secrets.Scrub(msg)
	}
	return msg
}

// ExitCode is the CLI's exit status for the error.
func (e *Error) ExitCode() int {
	if e.exit == 0 {
		return exitcode.Failure
	}
	return e.exit
}

// Unwrap makes the refusals an [idp.AuthError] (exit 3) for callers that
// map errors by type.
func (e *Error) Unwrap() error {
	if e.exit == exitcode.Auth {
		return &idp.AuthError{Message: e.Error()}
	}
	return nil
}

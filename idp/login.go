package idp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/saml2sts/saml2sts/internal/httpx"
)

// Inputs is what one login asks the user for, kept so that each thing is
// asked at most once and none of it is ever shown: the password (asked
// once, lazily), the --mfa-code (spent once, before any prompt) and every
// secret value seen (password, codes, tokens). Adapters keep one per login.
type Inputs struct {
	req      *Request
	password string
	asked    bool
	usedCode bool
	secrets  *httpx.Secrets
}

// NewInputs returns the inputs of one login of req. Its secrets are those
// of req.Client when it comes from [NewClient], so that what the login
// marks secret is scrubbed from the --debug trace too.
func NewInputs(req *Request) Inputs {
	in := Inputs{req: req}
	if req != nil {
		in.secrets = ClientSecrets(req.Client)
	}
	if in.secrets == nil {
		in.secrets = &httpx.Secrets{}
	}
	return in
}

// Prompt is the request's Prompter, or one that fails with ErrNoTerminal
// when the request has none.
func (in *Inputs) Prompt() Prompter {
	if in.req == nil || in.req.Prompt == nil {
		return noTerminal{}
	}
	return in.req.Prompt
}

// noTerminal stands in for a missing Prompter.
type noTerminal struct{}

func (noTerminal) Secret(context.Context, string) (string, error)        { return "", ErrNoTerminal }
func (noTerminal) Code(context.Context, string) (string, error)          { return "", ErrNoTerminal }
func (noTerminal) Choose(context.Context, string, []string) (int, error) { return 0, ErrNoTerminal }

// Password returns the password: from req.Password, else the prompt with
// label, the first time; the same value afterwards. Errors come back
// unchanged (callers test errors.Is(err, ErrNoTerminal)).
func (in *Inputs) Password(ctx context.Context, label string) (string, error) {
	if in.asked {
		return in.password, nil
	}
	var (
		p   string
		err error
	)
	if in.req != nil && in.req.Password != nil {
		p, err = in.req.Password(ctx)
	} else {
		p, err = in.Prompt().Secret(ctx, label)
	}
	if err != nil {
		return "", err
	}
	in.password, in.asked = p, true
	in.Secret(p)
	return p, nil
}

// HasPassword reports whether the password was asked for in this login.
func (in *Inputs) HasPassword() bool { return in.asked }

// CodeGiven reports whether a --mfa-code is still there to be used.
func (in *Inputs) CodeGiven() bool { return in.req != nil && in.req.MFACode != "" && !in.usedCode }

// Code returns the next one-time code: the request's MFACode the first
// time, else what ask returns (see [Inputs.AskCode]).
func (in *Inputs) Code(ctx context.Context, ask func(context.Context) (string, error)) (string, error) {
	if !in.CodeGiven() {
		return in.AskCode(ctx, ask)
	}
	in.usedCode = true
	return in.keepCode(in.req.MFACode), nil
}

// AskCode returns what ask returns, whatever --mfa-code says (a SecurID
// next tokencode cannot be the code given up front). Blanks are removed
// ("123 456" as some apps show it) and the code is remembered as a secret.
func (in *Inputs) AskCode(ctx context.Context, ask func(context.Context) (string, error)) (string, error) {
	c, err := ask(ctx)
	if err != nil {
		return "", err
	}
	return in.keepCode(c), nil
}

func (in *Inputs) keepCode(c string) string {
	c = strings.Join(strings.Fields(c), "")
	in.Secret(c)
	return c
}

// Secret remembers a value that must never be shown.
func (in *Inputs) Secret(v string) {
	if in.secrets == nil {
		in.secrets = &httpx.Secrets{}
	}
	in.secrets.Add(v)
}

// Fill sets field name of form to v, a secret: v is hidden wherever it
// appears from now on, whatever the field is called.
func (in *Inputs) Fill(form url.Values, name, v string) {
	in.Secret(v)
	form.Set(name, v)
}

// Scrub replaces every secret of the login in s, as typed and in every
// encoding pages and URLs carry (see [httpx.Secrets.Scrub]), with REDACTED.
func (in *Inputs) Scrub(s string) string { return in.secrets.Scrub(s) }

// PageError describes a page the login cannot get past, secrets scrubbed,
// and with --debug saves a redacted copy named name.
func (in *Inputs) PageError(page *Page, name, why string) *PageError {
	e := &PageError{Title: in.Scrub(page.Title()), URL: StripQuery(page.URL), Why: in.Scrub(why)}
	if in.req != nil && in.req.Debug != nil {
		e.Saved = in.req.Debug.SavePage(name, RedactPage([]byte(in.Scrub(string(page.Body)))))
	}
	return e
}

// DeadEnd is the reason for a page no step of the adapter matches: what
// was expected, prefixed with a non-200 status and followed by the
// page's own error text (said), when there is one.
func DeadEnd(page *Page, expected, said string) string {
	why := expected
	if page.Status != http.StatusOK {
		why = fmt.Sprintf("HTTP %d; %s", page.Status, why)
	}
	if said != "" {
		why += fmt.Sprintf("; the page says %q", said)
	}
	return why
}

// AuthError is the IdP refusing the login: its own message msg, or
// fallback when the page shows none; secrets scrubbed.
func (in *Inputs) AuthError(msg, fallback string) *AuthError {
	if msg == "" {
		msg = fallback
	}
	return &AuthError{Message: in.Scrub(msg)}
}

// Notice writes one line of advice to req.Notice, when there is one,
// secrets scrubbed (notices quote IdP text, which may echo what was sent).
func (in *Inputs) Notice(format string, a ...any) {
	if in.req != nil && in.req.Notice != nil {
		fmt.Fprintf(in.req.Notice, "saml2sts: %s\n", in.Scrub(fmt.Sprintf(format, a...)))
	}
}

// Choose asks which of labels to use, with what as the question. A single
// option is taken without asking; without a terminal the answer is def,
// or ErrNoTerminal when def < 0.
func (in *Inputs) Choose(ctx context.Context, what string, labels []string, def int) (int, error) {
	if len(labels) == 1 {
		return 0, nil
	}
	i, err := in.Prompt().Choose(ctx, what, labels)
	switch {
	case errors.Is(err, ErrNoTerminal) && def >= 0 && def < len(labels):
		return def, nil
	case err != nil:
		return 0, err
	case i < 0 || i >= len(labels):
		return 0, fmt.Errorf("%s: choice %d is not one of the %d offered", what, i, len(labels))
	}
	return i, nil
}

// ShortURL drops the query and fragment of a URL that failed to parse or
// validate, for messages: they may carry session codes.
func ShortURL(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		return raw[:i]
	}
	return raw
}

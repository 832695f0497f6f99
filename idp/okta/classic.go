package okta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// StatusError is an Okta transaction state saml2sts cannot finish from
// the terminal (enrollment, recovery, an expired transaction).
type StatusError struct {
	Status string // Okta status or error code
	Msg    string
}

func (e *StatusError) Error() string { return "okta: " + e.Msg }

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *StatusError) ExitCode() int { return exitcode.Failure }

// call posts one Classic API request, counted against maxSteps. A 429
// (E0000047) means Okta did not process the request, so it is sent again
// after X-Rate-Limit-Reset when that is short and someone can see the
// wait; other errors are mapped.
func (l *login) call(ctx context.Context, href string, body map[string]any) (*txn, error) {
	return l.send(ctx, href, body, true)
}

// send is call; counted says whether the request counts against maxSteps
// (push polls do not: the poll deadline bounds them).
func (l *login) send(ctx context.Context, href string, body map[string]any, counted bool) (*txn, error) {
	for try := 0; ; try++ {
		if err := l.step(counted); err != nil {
			return nil, err
		}
		var t txn
		err := postJSON(ctx, l.req.Client, href, "application/json", body, &t)
		if err == nil {
			l.in.Secret(t.StateToken)
			l.in.Secret(t.SessionToken)
			return &t, nil
		}
		var ae *APIError
		if !errors.As(err, &ae) {
			return nil, err
		}
		if ae.Status == http.StatusTooManyRequests && try < 2 {
			if werr := l.rateWait(ctx, ae); werr != nil {
				return nil, werr
			}
			continue
		}
		return nil, l.apiErr(ae)
	}
}

// rateWait sleeps until the rate limit resets, or says why it will not.
func (l *login) rateWait(ctx context.Context, ae *APIError) error {
	wait := ae.reset
	limit := &StatusError{Status: "E0000047", Msg: "Okta rate limit reached (E0000047 " + orDefault(ae.Summary, "API call exceeded rate limit") + ")"}
	switch {
	case wait <= 0:
		limit.Msg += ": Okta gave no reset time; wait a minute and run again"
		return limit
	case wait > l.p.maxRateWait:
		limit.Msg += fmt.Sprintf(": it resets in %s; run again after that", wait.Round(time.Second))
		return limit
	}
	dl, hasDL := ctx.Deadline()
	interactive := l.p.interactive != nil && l.p.interactive(l.req.Prompt)
	if !interactive && !(hasDL && time.Until(dl) > wait) {
		limit.Msg += fmt.Sprintf(": it resets in %s; not waiting without a terminal, run again after that", wait.Round(time.Second))
		return limit
	}
	l.in.Notice("Okta rate limit reached; waiting %s for it to reset", wait.Round(time.Second))
	return idp.Sleep(ctx, l.req.Clock, wait)
}

// step counts one API call against maxSteps, when counted: an unknown
// loop ends instead of hammering Okta.
func (l *login) step(counted bool) error {
	if !counted {
		return nil
	}
	l.steps++
	if l.steps > maxSteps {
		return fmt.Errorf("okta: stopped after %d Okta API calls without finishing the sign-in", maxSteps)
	}
	return nil
}

// apiErr maps Okta error codes to what the user must do.
func (l *login) apiErr(ae *APIError) error {
	switch ae.Code {
	case "E0000004":
		return &idp.AuthError{Message: orDefault(ae.Summary, "Authentication failed") +
			" (Okta says this for a wrong username or password, a locked account, or a sign-on policy that denies the sign-in)"}
	case "E0000068":
		return &badCode{&idp.AuthError{Message: ae.text()}}
	case "E0000011":
		return &StatusError{Status: ae.Code, Msg: "the Okta sign-in expired (E0000011 " + orDefault(ae.Summary, "Invalid token provided") +
			"): it took too long or was used elsewhere; run the command again"}
	case "E0000079":
		return &StatusError{Status: ae.Code, Msg: "Okta refused the step (E0000079 " + ae.Summary + "): run the command again"}
	case "E0000047":
		return &StatusError{Status: ae.Code, Msg: "Okta rate limit reached (E0000047): wait a minute and run again"}
	}
	return ae
}

// primary posts the username and password: the only place that does, once
// per login.
func (l *login) primary(ctx context.Context) (*txn, error) {
	return l.credentials(ctx, l.api("/api/v1/authn"), "")
}

func (l *login) credentials(ctx context.Context, href, stateToken string) (*txn, error) {
	if l.sentPassword {
		return nil, errors.New("okta: Okta asked for the password a second time; stopped so the account is not locked: run the command again")
	}
	user, err := l.username(ctx)
	if err != nil {
		return nil, err
	}
	pw, err := l.in.Password(ctx, "Okta password")
	if err != nil {
		return nil, err
	}
	body := map[string]any{
		"username": user,
		"password": pw,
		"options":  map[string]any{"warnBeforePasswordExpired": true, "multiOptionalFactorEnroll": false},
	}
	if stateToken != "" {
		body["stateToken"] = stateToken
	}
	l.sentPassword = true
	return l.call(ctx, href, body)
}

// classic drives a transaction to SUCCESS and opens the app with it.
func (l *login) classic(ctx context.Context, t *txn) (*idp.Page, error) {
	t, err := l.advance(ctx, t)
	if err != nil {
		return nil, err
	}
	l.authenticated = true
	if p := l.afterDuo; p != nil {
		// Duo's way back made the Okta session and opened the app.
		l.afterDuo = nil
		return p, nil
	}
	// A step-up transaction ends with a link back to the app.
	if t.Links.Next != nil && t.Links.Next.Href != "" && (t.Type == "SESSION_STEP_UP" || t.Links.Next.Name == "original") {
		return l.fetch(ctx, http.MethodGet, t.Links.Next.Href, nil)
	}
	if t.SessionToken == "" {
		return nil, errors.New("okta: Okta reported SUCCESS without a session token or a link to the app")
	}
	return l.session(ctx, t.SessionToken)
}

// session trades the one-time session token for the sid cookie and lands
// on the app.
func (l *login) session(ctx context.Context, token string) (*idp.Page, error) {
	q := url.Values{"checkAccountSetupComplete": {"true"}, "token": {token}, "redirectUrl": {l.app.String()}}
	return l.fetch(ctx, http.MethodGet, l.api("/login/sessionCookieRedirect"), q)
}

// advance follows the transaction's states until SUCCESS.
func (l *login) advance(ctx context.Context, t *txn) (*txn, error) {
	for {
		var err error
		switch t.Status {
		case "SUCCESS":
			return t, nil
		case "MFA_REQUIRED":
			t, err = l.mfa(ctx, t)
		case "MFA_CHALLENGE":
			t, err = l.resume(ctx, t)
		case "PASSWORD_WARN":
			days := ""
			if d := t.Embedded.Policy.Expiration.PasswordExpireDays; d != nil {
				days = fmt.Sprintf(" in %d days", *d)
			}
			l.in.Notice("your Okta password expires%s: change it in Okta soon", days)
			if t.Links.Skip == nil || t.Links.Skip.Href == "" {
				return nil, &StatusError{Status: t.Status, Msg: "Okta wants the password changed (PASSWORD_WARN) and offers no skip: change it in a browser, then run again"}
			}
			t, err = l.call(ctx, t.Links.Skip.Href, map[string]any{"stateToken": t.StateToken})
		case "LOCKED_OUT":
			return nil, &idp.AuthError{Message: "your Okta account is locked out (LOCKED_OUT): unlock it in a browser at " + l.base.String() + " or ask your Okta administrator"}
		case "PASSWORD_EXPIRED":
			// Not a refusal of the password (it was right): a step only a
			// browser can do, exit 1 like PASSWORD_WARN without skip and
			// Keycloak's "Update Password".
			return nil, &StatusError{Status: t.Status, Msg: "your Okta password has expired (PASSWORD_EXPIRED): change it in a browser at " + l.base.String() + ", then run again"}
		case "MFA_ENROLL", "MFA_ENROLL_ACTIVATE":
			return nil, &StatusError{Status: t.Status, Msg: "Okta wants you to set up an MFA factor first (" + t.Status + "): sign in at " + l.base.String() + " in a browser and enroll one, then run again"}
		case "UNAUTHENTICATED":
			if t.Links.Next == nil || t.Links.Next.Href == "" {
				return nil, &StatusError{Status: t.Status, Msg: "Okta wants a sign-in (UNAUTHENTICATED) but gives no link to send it to"}
			}
			t, err = l.credentials(ctx, t.Links.Next.Href, t.StateToken)
		case "PASSWORD_RESET", "RECOVERY", "RECOVERY_CHALLENGE":
			return nil, &StatusError{Status: t.Status, Msg: "Okta is in a password recovery flow (" + t.Status + "): finish it in a browser, then run again"}
		default:
			return nil, &StatusError{Status: t.Status, Msg: fmt.Sprintf("Okta answered with status %q, which saml2sts does not know: sign in in a browser to see what Okta wants", t.Status)}
		}
		if err != nil {
			return nil, err
		}
	}
}

// mfa verifies one factor of an MFA_REQUIRED transaction.
func (l *login) mfa(ctx context.Context, t *txn) (*txn, error) {
	c, err := l.pick(ctx, t.Embedded.Factors)
	if err != nil {
		return nil, err
	}
	verify := ""
	if c.f.Links.Verify != nil {
		verify = c.f.Links.Verify.Href
	}
	if verify == "" {
		return nil, fmt.Errorf("okta: the %s factor has no verify link", c.label)
	}
	st := map[string]any{"stateToken": t.StateToken}
	switch c.kind {
	case push:
		nt, err := l.call(ctx, verify, st)
		if err != nil {
			return nil, err
		}
		l.in.Notice("Okta Verify push sent%s: approve it on your phone", suffix(c.f.profileString("name"), " to "))
		return l.poll(ctx, nt, verify)
	case passcode:
		return l.passcode(ctx, c, verify, t.StateToken, "")
	case sendCode:
		nt, err := l.call(ctx, verify, st)
		if err != nil {
			return nil, err
		}
		if nt.Status == "SUCCESS" {
			return nt, nil
		}
		l.in.Notice("Okta sent a code: %s", c.label)
		next := verify
		if nt.Links.Next != nil && nt.Links.Next.Href != "" {
			next = nt.Links.Next.Href
		}
		return l.passcode(ctx, c, next, orDefault(nt.StateToken, t.StateToken), resendLink(nt))
	case duoPrompt:
		nt, err := l.call(ctx, verify, st)
		if err != nil {
			return nil, err
		}
		if nt.Links.Next == nil || nt.Links.Next.Href == "" {
			return nil, &StatusError{Status: nt.Status, Msg: "Okta started the Duo factor but gave no link to Duo"}
		}
		if l.afterDuo, err = l.duo(ctx, nt.Links.Next.Href); err != nil {
			return nil, err
		}
		return &txn{Status: "SUCCESS"}, nil
	case question:
		answer, err := l.in.Prompt().Secret(ctx, "Okta security question: "+orDefault(c.f.profileString("questionText"), "answer"))
		if err != nil {
			return nil, err
		}
		l.in.Secret(answer)
		return l.call(ctx, verify, map[string]any{"stateToken": t.StateToken, "answer": answer})
	}
	return nil, unsupportedError(c, nil)
}

// resume continues an MFA_CHALLENGE that Okta started on its own (a
// step-up transaction with auto-push, or a sent code).
func (l *login) resume(ctx context.Context, t *txn) (*txn, error) {
	f := t.challenged()
	if f == nil || t.Links.Next == nil || t.Links.Next.Href == "" {
		return nil, &StatusError{Status: t.Status, Msg: "Okta is waiting for a factor (MFA_CHALLENGE) it does not name: sign in in a browser"}
	}
	c := describe(*f)
	switch c.kind {
	case push:
		if t.FactorResult == "" || t.FactorResult == "WAITING" {
			l.in.Notice("Okta Verify push sent%s: approve it on your phone", suffix(f.profileString("name"), " to "))
		}
		return l.poll(ctx, t, t.Links.Next.Href)
	case passcode, sendCode:
		switch t.FactorResult {
		case "PASSCODE_REPLAYED", "TIME_WINDOW_EXCEEDED":
			l.in.Notice("Okta did not take that code (%s): enter the next one your app shows", t.FactorResult)
		}
		return l.passcode(ctx, c, t.Links.Next.Href, t.StateToken, resendLink(t))
	}
	return nil, unsupportedError(c, nil)
}

func suffix(s, prefix string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

func resendLink(t *txn) string {
	for _, r := range t.Links.Resend {
		if r.Href != "" {
			return r.Href
		}
	}
	return ""
}

// poll waits for a push answer: SUCCESS, or REJECTED/TIMEOUT, or the
// deadline. The number challenge is shown when Okta gives it.
func (l *login) poll(ctx context.Context, t *txn, verify string) (*txn, error) {
	shown := ""
	err := l.poller().Poll(ctx, func(ctx context.Context, attempt int) (bool, error) {
		if attempt > 0 {
			next := verify
			if t.Links.Next != nil && t.Links.Next.Href != "" {
				next = t.Links.Next.Href
			}
			nt, err := l.send(ctx, next, map[string]any{"stateToken": t.StateToken}, false)
			if err != nil {
				return false, err
			}
			t = nt
		}
		if t.Status != "MFA_CHALLENGE" {
			return true, nil
		}
		switch t.FactorResult {
		case "WAITING", "":
		case "REJECTED":
			return false, &idp.AuthError{Message: "the Okta Verify push was rejected on the phone (REJECTED)"}
		case "TIMEOUT":
			return false, &idp.AuthError{Message: "the Okta Verify push was not answered in time (TIMEOUT): run again and approve it"}
		default:
			return false, &idp.AuthError{Message: fmt.Sprintf("the Okta Verify push ended with %s: run again", t.FactorResult)}
		}
		if f := t.challenged(); f != nil {
			if a := f.Embedded.Challenge.CorrectAnswer.String(); a != "" && a != shown {
				shown = a
				l.in.Notice("Okta Verify number challenge: tap %s on your phone", a)
			}
		}
		return false, nil
	})
	if err != nil {
		return nil, l.pushTimeout(err)
	}
	return t, nil
}

// poller paces push polls: every pollEvery, for at most pushWait.
func (l *login) poller() idp.Poller {
	return idp.Poller{Interval: l.p.pollEvery, Timeout: l.p.pushWait, Clock: l.req.Clock}
}

// pushTimeout words a poll deadline as the unanswered push it is; other
// errors pass unchanged.
func (l *login) pushTimeout(err error) error {
	var te *idp.TimeoutError
	if errors.As(err, &te) {
		return &idp.AuthError{Message: fmt.Sprintf("no answer to the Okta Verify push after %s: run again and approve it", l.p.pushWait)}
	}
	return err
}

// passcode sends a code, re-asking after a wrong one (E0000068) up to
// maxCodeTries times when a terminal can ask; an empty answer asks Okta to
// send the code again when the factor can resend.
func (l *login) passcode(ctx context.Context, c choice, href, stateToken, resend string) (*txn, error) {
	var last error
	resends := 0
	for try := 0; try < maxCodeTries; {
		code, err := l.code(ctx, c, resend != "")
		if err != nil {
			if last != nil && errors.Is(err, idp.ErrNoTerminal) {
				return nil, last // the wrong code is the news, not the missing terminal
			}
			return nil, err
		}
		if code == "" {
			if resend == "" || resends >= 3 {
				try++
				last = &idp.AuthError{Message: "no code was entered"}
				continue
			}
			resends++
			if _, err := l.call(ctx, resend, map[string]any{"stateToken": stateToken}); err != nil {
				return nil, err
			}
			l.in.Notice("Okta sent the code again: %s", c.label)
			continue
		}
		try++
		t, err := l.call(ctx, href, map[string]any{"stateToken": stateToken, "passCode": code})
		var ae *idp.AuthError
		if err != nil && errors.As(err, &ae) && isBadCode(err) {
			last = err
			if try < maxCodeTries {
				l.in.Notice("Okta did not accept the code: %s", ae.Message)
			}
			continue
		}
		return t, err
	}
	return nil, last
}

// badCode is a wrong passcode (E0000068, or IDX's message on a code):
// an AuthError the login may answer with another code.
type badCode struct{ *idp.AuthError }

func (e *badCode) Unwrap() error { return e.AuthError }

func isBadCode(err error) bool {
	var bc *badCode
	return errors.As(err, &bc)
}

// code is the next code to send: --mfa-code once, then the prompt.
func (l *login) code(ctx context.Context, c choice, canResend bool) (string, error) {
	label := c.label
	if !strings.HasPrefix(label, "Okta") {
		label = "Okta " + label
	}
	if c.name == "yubikey" {
		label = "Touch your YubiKey (Okta YubiKey OTP)"
	}
	if canResend {
		label += " (empty to send it again)"
	}
	return l.in.Code(ctx, func(ctx context.Context) (string, error) { return l.in.Prompt().Code(ctx, label) })
}

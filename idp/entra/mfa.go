package entra

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

// Entra's MFA methods by AuthMethodId, with the mfa names saml2sts uses.
const (
	push = "PhoneAppNotification"
	totp = "PhoneAppOTP"
	sms  = "OneWaySMS"
	call = "TwoWayVoiceMobile"
)

var names = map[string]string{"push": push, "totp": totp, "sms": sms, "call": call}

// methodID is the AuthMethodId an mfa name (or an AuthMethodId) means,
// or "".
func methodID(mfa string) string {
	m := strings.ToLower(strings.TrimSpace(mfa))
	if id := names[m]; id != "" {
		return id
	}
	for _, id := range names {
		if strings.EqualFold(m, id) {
			return id
		}
	}
	return ""
}

// nameOf is the mfa name of an AuthMethodId (the id itself when unknown).
func nameOf(id string) string {
	for n, v := range names {
		if v == id {
			return n
		}
	}
	return id
}

func label(p Proof) string {
	what := map[string]string{push: "Microsoft Authenticator notification", totp: "authenticator app code",
		sms: "text message code", call: "phone call"}[p.AuthMethodID]
	if what == "" {
		what = p.AuthMethodID
	}
	if p.Display != "" {
		what += " (" + p.Display + ")"
	}
	return what
}

// sasReply is BeginAuth's and EndAuth's answer.
type sasReply struct {
	Success      bool   `json:"Success"`
	ResultValue  string `json:"ResultValue"`
	Message      string `json:"Message"`
	AuthMethodID string `json:"AuthMethodId"`
	ErrCode      int    `json:"ErrCode"`
	Retry        bool   `json:"Retry"`
	FlowToken    string `json:"FlowToken"`
	Ctx          string `json:"Ctx"`
	SessionID    string `json:"SessionId"`
	Entropy      int    `json:"Entropy"`
}

// pick chooses the method to use: the one mfa names, else (auto) the
// authenticator code when --mfa-code is given, else the user's default.
func (l *login) pick(ctx context.Context, proofs []Proof) (Proof, error) {
	if len(proofs) == 0 {
		return Proof{}, &Error{Text: "Entra asks for MFA but lists no method", Page: "ConvergedTFA",
			Hint: "register one at https://aka.ms/mysecurityinfo", exit: exitcode.Failure}
	}
	mfa := strings.TrimSpace(l.req.MFA)
	if mfa != "" && !strings.EqualFold(mfa, "auto") {
		want := methodID(mfa)
		for _, p := range proofs {
			if p.AuthMethodID == want {
				return p, nil
			}
		}
		have := make([]string, len(proofs))
		labels := make([]string, len(proofs))
		for i, p := range proofs {
			have[i], labels[i] = nameOf(p.AuthMethodID), label(p)
		}
		i, err := l.in.Prompt().Choose(ctx, fmt.Sprintf("You have no %q method in Entra; verify with", mfa), labels)
		if errors.Is(err, idp.ErrNoTerminal) {
			return Proof{}, idp.Configf("entra: mfa %q is not one of your Entra methods (%s): set mfa to one of them or to auto",
				mfa, strings.Join(have, ", "))
		}
		if err != nil {
			return Proof{}, err
		}
		if i < 0 || i >= len(proofs) {
			return Proof{}, fmt.Errorf("entra: choice %d is not one of the %d offered", i, len(proofs))
		}
		return proofs[i], nil
	}
	if l.in.CodeGiven() {
		for _, p := range proofs {
			if p.AuthMethodID == totp {
				return p, nil
			}
		}
	}
	for _, p := range proofs {
		if p.IsDefault {
			return p, nil
		}
	}
	return proofs[0], nil
}

// tfa answers ConvergedTFA: BeginAuth, EndAuth (polled for push and
// call, with the code for OTP and SMS), then ProcessAuth.
func (l *login) tfa(ctx context.Context, page *idp.Page, cfg *Config) (*idp.Page, error) {
	l.mfaRounds++
	if l.mfaRounds > 2 {
		return nil, l.pageError(page, cfg.PGID, "Entra asked for MFA a third time; stopped")
	}
	p, err := l.pick(ctx, cfg.Proofs)
	if err != nil {
		return nil, err
	}
	id := p.AuthMethodID
	var begin sasReply
	if err := l.api(ctx, page, resolve(page, cfg.URLBeginAuth), map[string]any{
		"AuthMethodId": id, "Method": "BeginAuth", "Ctx": l.st.ctx, "FlowToken": l.st.ft,
	}, &begin); err != nil {
		return nil, err
	}
	l.sas(&begin)
	if !begin.Success {
		return nil, l.sasError("BeginAuth", &begin)
	}
	if begin.AuthMethodID != "" && begin.AuthMethodID != id {
		// System-preferred MFA: Entra picks the method it deems strongest.
		l.in.Notice("Entra uses %s instead of %s (system-preferred MFA)", nameOf(begin.AuthMethodID), nameOf(id))
		id = begin.AuthMethodID
		for _, q := range cfg.Proofs {
			if q.AuthMethodID == id {
				p = q
			}
		}
	}
	end := map[string]any{"AuthMethodId": id, "Method": "EndAuth", "SessionId": begin.SessionID}
	var code string
	switch id {
	case push, call:
		if begin.Entropy > 0 {
			l.in.Notice("Microsoft Authenticator: enter %d in the app", begin.Entropy)
		} else if id == push {
			l.in.Notice("Microsoft Authenticator: approve the sign-in on your phone")
		} else {
			l.in.Notice("calling %s: answer and press # to approve", orText(p.Display, "your phone"))
		}
		if l.in.CodeGiven() {
			l.in.Notice("--mfa-code is not used: %s takes no code", label(p))
		}
		err = l.wait(ctx, page, cfg, id, end)
	case totp, sms:
		if id == sms {
			l.in.Notice("Entra sent a text message to %s", orText(p.Display, "your phone"))
		}
		code, err = l.code(ctx, p)
		if err == nil {
			end["AdditionalAuthData"] = code
			end["PollCount"] = 1
			err = l.endAuth(ctx, page, cfg, end)
		}
	default:
		return nil, &Error{Text: fmt.Sprintf("MFA method %q is not one saml2sts can answer", id), Page: "ConvergedTFA",
			Hint: "set mfa to push, totp, sms or call", exit: exitcode.Failure}
	}
	if err != nil {
		return nil, err
	}
	typ := "22"
	if code != "" {
		typ = "19"
	}
	form := url.Values{
		"type": {typ}, "request": {l.st.ctx}, "mfaAuthMethod": {id}, "flowToken": {l.st.ft}, "canary": {l.st.canary},
		"login": {cfg.Username}, "hpgrequestid": {l.st.session}, "rememberMFA": {"false"},
	}
	if code != "" {
		form.Set("otc", code)
	}
	return l.fetch(ctx, http.MethodPost, resolve(page, cfg.URLPost), form)
}

// sas keeps the rotated tokens of a BeginAuth or EndAuth answer.
func (l *login) sas(r *sasReply) {
	l.keep(&Config{FlowToken: r.FlowToken, Ctx: r.Ctx})
	l.in.Secret(r.SessionID)
}

// sasError is a refused MFA step: Entra's Message, exit 3.
func (l *login) sasError(call string, r *sasReply) error {
	code := ""
	if r.ErrCode != 0 {
		code = fmt.Sprint(r.ErrCode)
	}
	text := r.Message
	if text == "" {
		text = r.ResultValue
	} else if r.ResultValue != "" {
		text += " (" + r.ResultValue + ")"
	}
	return &Error{Code: code, Text: text, Page: "ConvergedTFA " + call, Hint: sasHints[r.ResultValue], exit: exitcode.Auth, secrets: &l.in}
}

var sasHints = map[string]string{
	"PhoneAppDenied":                            "the sign-in was denied in Microsoft Authenticator",
	"PhoneAppNoResponse":                        "Microsoft Authenticator was not answered in time",
	"PhoneAppOtpAuthFailedDuplicateCodeEntered": "that code was used before: wait for the next one",
	"SMSAuthFailedWrongCodeEntered":             "wrong code",
	"OathCodeIncorrect":                         "wrong code",
}

// endAuth sends one EndAuth; a refusal ends the login.
func (l *login) endAuth(ctx context.Context, page *idp.Page, cfg *Config, body map[string]any) error {
	done, err := l.endOnce(ctx, page, cfg, body)
	if err == nil && !done {
		err = &Error{Text: "Entra did not accept the code yet (Retry)", Page: "ConvergedTFA EndAuth", exit: exitcode.Auth}
	}
	return err
}

func (l *login) endOnce(ctx context.Context, page *idp.Page, cfg *Config, body map[string]any) (bool, error) {
	body["Ctx"], body["FlowToken"] = l.st.ctx, l.st.ft
	var r sasReply
	if err := l.api(ctx, page, resolve(page, cfg.URLEndAuth), body, &r); err != nil {
		return false, err
	}
	l.sas(&r)
	switch {
	case r.Success:
		return true, nil
	case r.Retry:
		return false, nil
	}
	return false, l.sasError("EndAuth", &r)
}

// wait polls EndAuth while Entra answers Retry, every
// oPerAuthPollingInterval seconds, at most iMaxPollAttempts times and for
// at most iPollingTimeout.
func (l *login) wait(ctx context.Context, page *idp.Page, cfg *Config, id string, body map[string]any) error {
	every := time.Second
	if s, ok := cfg.PollInterval[id]; ok && s >= 0 {
		every = time.Duration(s * float64(time.Second))
	}
	attempts := cfg.MaxPollAttempts
	if attempts <= 0 {
		attempts = 60
	}
	timeout := time.Duration(cfg.PollingTimeout) * time.Millisecond
	if timeout <= 0 {
		timeout = time.Duration(attempts) * max(every, time.Second)
	}
	limit := false
	err := idp.Poller{Interval: every, Timeout: timeout, Clock: l.req.Clock}.Poll(ctx, func(ctx context.Context, n int) (bool, error) {
		body["PollCount"] = n + 1
		done, err := l.endOnce(ctx, page, cfg, body)
		if err == nil && !done && n+1 >= attempts {
			limit = true
			return false, errPollLimit
		}
		return done, err
	})
	var te *idp.TimeoutError
	switch {
	case limit:
		return &Error{Text: fmt.Sprintf("no answer from %s after %d checks", nameOf(id), attempts), Page: "ConvergedTFA EndAuth",
			Hint: "approve the sign-in sooner, or use another method (--mfa)", exit: exitcode.Auth}
	case errors.As(err, &te):
		return &Error{Text: fmt.Sprintf("no answer from %s within %s", nameOf(id), te.Waited), Page: "ConvergedTFA EndAuth",
			Hint: "approve the sign-in sooner, or use another method (--mfa)", exit: exitcode.Auth}
	}
	return err
}

// errPollLimit ends a poll that used iMaxPollAttempts.
var errPollLimit = errors.New("poll limit")

// code returns the one-time code: --mfa-code first, then the terminal;
// never one already sent in this run (Entra refuses a reused code with
// 500121 and may lock the method).
func (l *login) code(ctx context.Context, p Proof) (string, error) {
	ask := func(ctx context.Context) (string, error) {
		return l.in.Prompt().Code(ctx, "Code from "+label(p))
	}
	c, err := l.in.Code(ctx, ask)
	for tries := 0; err == nil && l.used[c]; tries++ {
		if tries >= 2 {
			return "", &Error{Text: "the same code was given again", Page: "ConvergedTFA", Hint: "wait for the next code", exit: exitcode.Auth}
		}
		l.in.Notice("that code was already used in this sign-in; wait for the next one")
		c, err = l.in.AskCode(ctx, ask)
	}
	if err != nil {
		return "", err
	}
	if c == "" {
		return "", &Error{Text: "no code given", Page: "ConvergedTFA", Hint: "pass --mfa-code or type the code", exit: exitcode.Auth}
	}
	l.used[c] = true
	return c, nil
}

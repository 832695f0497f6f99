package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/saml2sts/saml2sts/idp"
)

// ionType is the media type of the Identity Engine (IDX) API.
const ionType = "application/ion+json; okta-version=1.0.0"

// IDX answers (Okta's Sign-In Widget protocol): the remediations say which
// forms the client may post next. Only the fields the login reads.
type ionResp struct {
	StateHandle string `json:"stateHandle"`
	Remediation struct {
		Value []remediation `json:"value"`
	} `json:"remediation"`
	CurrentAuthenticator           *ionAuthValue `json:"currentAuthenticator"`
	CurrentAuthenticatorEnrollment *ionAuthValue `json:"currentAuthenticatorEnrollment"`
	Authenticators                 ionAuthList   `json:"authenticators"`
	AuthenticatorEnrollments       ionAuthList   `json:"authenticatorEnrollments"`
	Messages                       ionMessages   `json:"messages"`
	Success                        *struct {
		Name string `json:"name"`
		Href string `json:"href"`
	} `json:"success"`
}

type remediation struct {
	Name  string     `json:"name"`
	Href  string     `json:"href"`
	Value []ionField `json:"value"`
}

type ionField struct {
	Name     string          `json:"name"`
	Label    string          `json:"label"`
	Value    json.RawMessage `json:"value"`
	Options  []ionOption     `json:"options"`
	Form     *ionForm        `json:"form"`
	Messages ionMessages     `json:"messages"`
}

type ionForm struct {
	Value []ionField `json:"value"`
}

type ionOption struct {
	Label     string          `json:"label"`
	Value     json.RawMessage `json:"value"` // a string, or {"form":{...}}
	RelatesTo string          `json:"relatesTo"`
}

type ionMessages struct {
	Value []struct {
		Message string `json:"message"`
		I18n    struct {
			Key string `json:"key"`
		} `json:"i18n"`
		Class string `json:"class"`
	} `json:"value"`
}

type ionAuth struct {
	Type           string `json:"type"`
	Key            string `json:"key"`
	ID             string `json:"id"`
	DisplayName    string `json:"displayName"`
	ContextualData struct {
		CorrectAnswer json.Number `json:"correctAnswer"`
	} `json:"contextualData"`
	Profile map[string]any `json:"profile"`
	Resend  *remediation   `json:"resend"`
}

type ionAuthValue struct {
	Value ionAuth `json:"value"`
}

type ionAuthList struct {
	Value []ionAuth `json:"value"`
}

func (r *ionResp) find(name string) *remediation {
	for i := range r.Remediation.Value {
		if r.Remediation.Value[i].Name == name {
			return &r.Remediation.Value[i]
		}
	}
	return nil
}

func (r *remediation) field(name string) *ionField {
	for i := range r.Value {
		if r.Value[i].Name == name {
			return &r.Value[i]
		}
	}
	return nil
}

// current is the authenticator being challenged.
func (r *ionResp) current() ionAuth {
	if r.CurrentAuthenticatorEnrollment != nil && r.CurrentAuthenticatorEnrollment.Value.Key != "" {
		return r.CurrentAuthenticatorEnrollment.Value
	}
	if r.CurrentAuthenticator != nil {
		return r.CurrentAuthenticator.Value
	}
	return ionAuth{}
}

// errors are the ERROR messages anywhere in the answer: top level and in
// the fields of the forms (where Okta puts "Password is incorrect").
func (r *ionResp) errors() []string {
	var out []string
	add := func(m ionMessages) {
		for _, v := range m.Value {
			if (v.Class == "" || strings.EqualFold(v.Class, "ERROR")) && strings.TrimSpace(v.Message) != "" {
				out = append(out, strings.TrimSpace(v.Message))
			}
		}
	}
	add(r.Messages)
	var walk func([]ionField)
	walk = func(fs []ionField) {
		for _, f := range fs {
			add(f.Messages)
			if f.Form != nil {
				walk(f.Form.Value)
			}
		}
	}
	for _, rem := range r.Remediation.Value {
		walk(rem.Value)
	}
	return unique(out)
}

// i18nKeys are the message keys, for telling a rate limit from the rest.
func (r *ionResp) i18nKeys() string {
	var keys []string
	for _, v := range r.Messages.Value {
		keys = append(keys, v.I18n.Key)
	}
	return strings.Join(keys, " ")
}

// idxUnsupported explains remediations that need a browser.
var idxUnsupported = map[string]string{
	"select-authenticator-enroll":    "Okta wants you to set up an authenticator first: do it in a browser, then run again",
	"authenticator-enrollment-data":  "Okta wants you to set up an authenticator first: do it in a browser, then run again",
	"enroll-authenticator":           "Okta wants you to set up an authenticator first: do it in a browser, then run again",
	"reenroll-authenticator-warning": "Okta wants a new password: change it in a browser, then run again",
	"redirect-idp":                   "this org signs you in through another identity provider: saml2sts cannot follow it; use that IdP's adapter or a browser",
	"device-challenge-poll":          "Okta Verify FastPass (device-bound sign-in) needs the Okta Verify desktop app and a browser",
	"launch-authenticator":           "Okta Verify FastPass (device-bound sign-in) needs the Okta Verify desktop app and a browser",
	"unlock-account":                 "your Okta account is locked: unlock it in a browser or ask your Okta administrator",
	"enroll-profile":                 "Okta wants you to complete your profile first: do it in a browser, then run again",
	"consent":                        "Okta wants your consent first: give it in a browser, then run again",
	"user-unlock-account":            "your Okta account is locked: unlock it in a browser or ask your Okta administrator",
}

// idx drives an Identity Engine sign-in from the stateToken of the app's
// sign-in page to the success redirect, which sets the Okta session and
// leads back to the app.
func (l *login) idx(ctx context.Context, stateToken string) (*idp.Page, error) {
	r, err := l.ion(ctx, l.api("/idp/idx/introspect"), map[string]any{"stateToken": stateToken})
	if err != nil {
		return nil, l.idxErr(r, err, "")
	}
	pushed, identified, lastCode := false, false, ""
	codeTries := 0
	var last error
	for {
		if r.Success != nil && r.Success.Href != "" {
			l.in.Secret(r.Success.Href)
			l.authenticated = true
			return l.fetch(ctx, http.MethodGet, r.Success.Href, nil)
		}
		l.in.Secret(r.StateHandle)
		sh := map[string]any{"stateHandle": r.StateHandle}
		var (
			next *ionResp
			err  error
			what string // what was sent, for the error mapping
		)
		switch {
		case r.find("reenroll-authenticator-warning") != nil && r.find("skip") != nil:
			// Classic's PASSWORD_WARN: the password expires soon.
			l.in.Notice("your Okta password expires soon: change it in Okta soon")
			next, err = l.ion(ctx, r.find("skip").Href, sh)
		case r.find("challenge-poll") != nil && (pushed || r.find("challenge-authenticator") == nil):
			// Okta may push on its own (one enrolled authenticator).
			if !pushed {
				pushed = true
				l.in.Notice("Okta Verify push sent: approve it on your phone")
			}
			next, err = l.idxPoll(ctx, r, &lastCode)
			what = "push"
		case r.find("challenge-authenticator") != nil:
			rem := r.find("challenge-authenticator")
			cur := r.current()
			if cur.Key == "okta_password" || cur.Type == "password" {
				pw, perr := l.sentOnce(ctx)
				if perr != nil {
					return nil, perr
				}
				next, err = l.ion(ctx, rem.Href, merge(sh, "credentials", map[string]any{"passcode": pw}))
				what = "password"
				break
			}
			c := idxChoice(cur, "")
			if c.kind == unsupported {
				return nil, unsupportedError(c, nil)
			}
			resend := ""
			if cur.Resend != nil {
				resend = cur.Resend.Href
			}
			code, cerr := l.code(ctx, c, resend != "")
			if cerr != nil {
				if last != nil && errors.Is(cerr, idp.ErrNoTerminal) {
					return nil, last
				}
				return nil, cerr
			}
			if code == "" && resend != "" {
				next, err = l.ion(ctx, resend, sh)
				if err == nil {
					l.in.Notice("Okta sent the code again: %s", c.label)
				}
				break
			}
			key := "passcode"
			if c.kind == question {
				key = "answer"
			}
			codeTries++
			next, err = l.ion(ctx, rem.Href, merge(sh, "credentials", map[string]any{key: code}))
			what = "code"
		case r.find("identify") != nil:
			rem := r.find("identify")
			if identified {
				// The form came back: Okta did not take the username.
				if msgs := r.errors(); len(msgs) > 0 {
					return nil, &idp.AuthError{Message: strings.Join(msgs, "; ")}
				}
				return nil, &idp.AuthError{Message: "Okta showed the sign-in form again; the username or password was not accepted"}
			}
			identified = true
			user, uerr := l.username(ctx)
			if uerr != nil {
				return nil, uerr
			}
			body := merge(sh, "identifier", user)
			if rem.field("credentials") != nil {
				pw, perr := l.sentOnce(ctx)
				if perr != nil {
					return nil, perr
				}
				body["credentials"] = map[string]any{"passcode": pw}
				what = "password"
			} else {
				what = "identifier"
			}
			next, err = l.ion(ctx, rem.Href, body)
		case r.find("authenticator-verification-data") != nil:
			rem := r.find("authenticator-verification-data")
			cs := l.idxOptions(r, rem)
			if len(cs) == 0 {
				return nil, &StatusError{Status: rem.Name, Msg: "Okta asks how to send the code (authenticator-verification-data) but offers no method saml2sts knows"}
			}
			c, perr := l.pickChoice(ctx, cs)
			if perr != nil {
				return nil, perr
			}
			next, err = l.ion(ctx, rem.Href, merge(sh, "authenticator", c.body))
			if err == nil && c.kind == sendCode {
				l.in.Notice("Okta sent a code: %s", c.label)
			}
		case l.duoSelected && r.find("redirect-idp") != nil:
			// The Duo authenticator: its way back makes the session.
			l.authenticated = true
			return l.duo(ctx, r.find("redirect-idp").Href)
		case r.find("select-authenticator-authenticate") != nil:
			rem := r.find("select-authenticator-authenticate")
			cs := l.idxOptions(r, rem)
			c, perr := l.idxSelect(ctx, cs)
			if perr != nil {
				return nil, perr
			}
			next, err = l.ion(ctx, rem.Href, merge(sh, "authenticator", c.body))
			l.duoSelected = c.kind == duoPrompt
			if err == nil {
				switch c.kind {
				case push:
					pushed = true
					l.in.Notice("Okta Verify push sent: approve it on your phone")
				case sendCode:
					if next.find("authenticator-verification-data") == nil {
						l.in.Notice("Okta sent a code: %s", c.label)
					}
				}
			}
		default:
			return nil, idxDeadEnd(r)
		}
		if err != nil {
			mapped := l.idxErr(next, err, what)
			if what == "code" && isBadCode(mapped) && next != nil && next.find("challenge-authenticator") != nil && codeTries < maxCodeTries {
				last = mapped
				l.in.Notice("Okta did not accept the code: %s", strings.TrimPrefix(mapped.Error(), "identity provider rejected the login: "))
				r = next
				continue
			}
			return nil, mapped
		}
		if what == "push" || pushed {
			if msgs := next.errors(); len(msgs) > 0 {
				return nil, &idp.AuthError{Message: strings.Join(msgs, "; ")}
			}
		}
		r = next
	}
}

// idxPoll polls the challenge-poll remediation of r until Okta answers
// with something else (success, errors, another remediation), showing each
// new number challenge. It returns that answer, or what a failed poll
// returned (the caller maps it); an unanswered push is an *idp.AuthError.
func (l *login) idxPoll(ctx context.Context, r *ionResp, lastCode *string) (*ionResp, error) {
	var failed error
	err := l.poller().Poll(ctx, func(ctx context.Context, attempt int) (bool, error) {
		if attempt > 0 {
			r, failed = l.ionPoll(ctx, r.find("challenge-poll").Href, map[string]any{"stateHandle": r.StateHandle})
			if failed != nil {
				return true, nil
			}
			l.in.Secret(r.StateHandle)
			if r.Success != nil || len(r.errors()) > 0 || r.find("challenge-poll") == nil ||
				(r.find("reenroll-authenticator-warning") != nil && r.find("skip") != nil) {
				return true, nil
			}
		}
		if a := r.current().ContextualData.CorrectAnswer.String(); a != "" && a != *lastCode {
			*lastCode = a
			l.in.Notice("Okta Verify number challenge: tap %s on your phone", a)
		}
		return false, nil
	})
	if err != nil {
		return nil, l.pushTimeout(err)
	}
	return r, failed
}

// ion posts one IDX request, counted against maxSteps, waiting out a short
// rate limit like call.
func (l *login) ion(ctx context.Context, href string, body map[string]any) (*ionResp, error) {
	return l.sendIon(ctx, href, body, true)
}

// ionPoll is ion for a push poll, which the poll deadline bounds.
func (l *login) ionPoll(ctx context.Context, href string, body map[string]any) (*ionResp, error) {
	return l.sendIon(ctx, href, body, false)
}

func (l *login) sendIon(ctx context.Context, href string, body map[string]any, counted bool) (*ionResp, error) {
	for try := 0; ; try++ {
		if err := l.step(counted); err != nil {
			return nil, err
		}
		var r ionResp
		err := postJSON(ctx, l.req.Client, href, ionType, body, &r)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests && try < 2 {
			if werr := l.rateWait(ctx, ae); werr != nil {
				return nil, werr
			}
			continue
		}
		var ie *ionError
		if errors.As(err, &ie) {
			return &r, err
		}
		if err != nil {
			return nil, err
		}
		return &r, nil
	}
}

// idxErr turns a failed IDX step into the user's error: Okta's messages,
// as AuthError for a rejected password or code.
func (l *login) idxErr(r *ionResp, err error, what string) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return err
	}
	var msgs []string
	if r != nil {
		msgs = r.errors()
		if strings.Contains(r.i18nKeys(), "E0000047") {
			return &StatusError{Status: "E0000047", Msg: "Okta rate limit reached (E0000047): wait a minute and run again"}
		}
		if strings.Contains(r.i18nKeys(), "E0000011") || strings.Contains(strings.ToLower(strings.Join(msgs, " ")), "session has expired") {
			return &StatusError{Status: "E0000011", Msg: "the Okta sign-in expired (" + strings.Join(msgs, "; ") + "): run the command again"}
		}
	}
	if len(msgs) == 0 {
		if ae.Code != "" {
			return l.apiErr(ae)
		}
		if what == "" {
			return fmt.Errorf("okta: Identity Engine refused the sign-in page's state token (HTTP %d): run the command again", ae.Status)
		}
		return ae
	}
	text := strings.Join(msgs, "; ")
	switch what {
	case "password", "identifier", "push":
		return &idp.AuthError{Message: text}
	case "code":
		return &badCode{&idp.AuthError{Message: text}}
	}
	return &StatusError{Status: fmt.Sprint(ae.Status), Msg: "Okta says: " + text}
}

// idxDeadEnd names the remediations Okta offers when none can be answered.
func idxDeadEnd(r *ionResp) error {
	var names []string
	for _, rem := range r.Remediation.Value {
		if rem.Name == "reenroll-authenticator" || rem.Name == "reset-authenticator" {
			// Classic's PASSWORD_EXPIRED: a browser step, as there.
			return &StatusError{Status: rem.Name, Msg: fmt.Sprintf("your Okta password has expired (%q): change it in a browser, then run again", rem.Name)}
		}
		if why, ok := idxUnsupported[rem.Name]; ok {
			return &idp.UnsupportedError{What: fmt.Sprintf("the Okta Identity Engine step %q", rem.Name), Hint: why}
		}
		names = append(names, rem.Name)
	}
	if msgs := r.errors(); len(msgs) > 0 {
		return &idp.AuthError{Message: strings.Join(msgs, "; ")}
	}
	if len(names) == 0 {
		return &StatusError{Status: "idx", Msg: "Okta Identity Engine answered with no next step and no success: sign in in a browser to see what it wants"}
	}
	return &idp.UnsupportedError{
		What: fmt.Sprintf("the Okta Identity Engine step %s", strings.Join(quoteAll(names), ", ")),
		Hint: "saml2sts answers identify, password, Okta Verify push/code, authenticator app, SMS, voice, email and YubiKey; ask your Okta administrator which policy asks for this",
	}
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strconv.Quote(v)
	}
	return out
}

func merge(base map[string]any, k string, v any) map[string]any {
	m := make(map[string]any, len(base)+1)
	for bk, bv := range base {
		m[bk] = bv
	}
	m[k] = v
	return m
}

// sentOnce returns the password for its one and only POST.
func (l *login) sentOnce(ctx context.Context) (string, error) {
	if l.sentPassword {
		return "", errors.New("okta: Okta asked for the password a second time; stopped so the account is not locked: run the command again")
	}
	pw, err := l.in.Password(ctx, "Okta password")
	if err != nil {
		return "", err
	}
	l.sentPassword = true
	return pw, nil
}

// idxChoice describes an IDX authenticator (and method) like a Classic
// factor, so both share names, labels and the picker.
func idxChoice(a ionAuth, method string) choice {
	c := choice{}
	profile := func(k string) string { s, _ := a.Profile[k].(string); return s }
	switch a.Key {
	case "okta_password":
		c.name, c.kind, c.label = "password", passcode, "password"
	case "okta_verify":
		switch method {
		case "push":
			c.name, c.kind, c.label = "push", push, "Okta Verify push"
		case "totp", "":
			c.name, c.kind, c.label = "totp", passcode, "Okta Verify code"
		case "signed_nonce":
			c.name, c.label = "fastpass", "Okta Verify FastPass"
		default:
			c.name, c.label = method, "Okta Verify "+method
		}
	case "google_otp":
		c.name, c.kind, c.label = "totp", passcode, "Google Authenticator code"
	case "phone_number":
		if method == "voice" {
			c.name, c.kind, c.label = "call", sendCode, "voice call to "+orDefault(profile("phoneNumber"), "your phone")
		} else {
			c.name, c.kind, c.label = "sms", sendCode, "SMS code to "+orDefault(profile("phoneNumber"), "your phone")
		}
	case "okta_email":
		c.name, c.kind, c.label = "email", sendCode, "email code to "+orDefault(profile("email"), "your address")
	case "yubikey_token":
		c.name, c.kind, c.label = "yubikey", passcode, "YubiKey OTP"
	case "security_question":
		c.name, c.kind, c.label = "question", question, "security question"
	case "custom_otp", "symantec_vip", "rsa_token":
		c.name, c.kind, c.label = "otp", passcode, orDefault(a.DisplayName, "one-time code")
	case "webauthn":
		c.name, c.label = "webauthn", "WebAuthn / FIDO security key or biometrics"
	case "duo":
		c.name, c.label = "duo", "Duo Security"
	case "external_idp":
		c.name, c.label = "idp", orDefault(a.DisplayName, "external identity provider")
		if strings.Contains(strings.ToLower(a.DisplayName), "duo") {
			c.name, c.kind, c.label = "duo", duoPrompt, "Duo Universal Prompt ("+a.DisplayName+")"
		}
	default:
		c.name, c.label = orDefault(a.Key, a.Type), orDefault(a.DisplayName, a.Key)
	}
	// Classic's factorType and provider, so mfa names mean the same on
	// both pipelines ("google", "okta token:software:totp", ...).
	c.f = factor{FactorType: a.Key, Provider: a.Type}
	switch {
	case c.name == "push":
		c.f = factor{FactorType: "push", Provider: "OKTA"}
	case a.Key == "okta_verify" && c.name == "totp":
		c.f = factor{FactorType: "token:software:totp", Provider: "OKTA"}
	case a.Key == "google_otp":
		c.f = factor{FactorType: "token:software:totp", Provider: "GOOGLE"}
	case c.name == "sms" || c.name == "call" || c.name == "email":
		c.f = factor{FactorType: c.name, Provider: "OKTA"}
	case c.name == "yubikey":
		c.f = factor{FactorType: "token:hardware", Provider: "YUBICO"}
	case c.name == "webauthn":
		c.f = factor{FactorType: "webauthn", Provider: "FIDO"}
	case c.kind == duoPrompt:
		c.f = factor{FactorType: "claims_provider", Provider: "CUSTOM"}
	case c.name == "duo":
		c.f = factor{FactorType: "web", Provider: "DUO"}
	}
	return c
}

// idxOptions expands the authenticator options of a select form into one
// choice per method (Okta Verify offers push and totp in one option).
func (l *login) idxOptions(r *ionResp, rem *remediation) []choice {
	fld := rem.field("authenticator")
	if fld == nil {
		return nil
	}
	var opts []ionOption
	if len(fld.Options) > 0 {
		opts = fld.Options
	} else if fld.Form != nil {
		// authenticator-verification-data: one authenticator, its form.
		raw, _ := json.Marshal(map[string]any{"form": fld.Form})
		opts = []ionOption{{Label: fld.Label, Value: raw}}
	}
	var out []choice
	for _, o := range opts {
		var v struct {
			Form ionForm `json:"form"`
		}
		if json.Unmarshal(o.Value, &v) != nil {
			continue
		}
		fixed := map[string]any{}
		var methods []string
		for _, f := range v.Form.Value {
			switch {
			case f.Name == "methodType" && len(f.Options) > 0:
				for _, m := range f.Options {
					var s string
					if json.Unmarshal(m.Value, &s) == nil {
						methods = append(methods, s)
					}
				}
			case len(f.Value) > 0:
				var val any
				if json.Unmarshal(f.Value, &val) == nil {
					fixed[f.Name] = val
				}
			}
		}
		auth := l.relatesTo(r, o.RelatesTo, fixed)
		if auth.Key == "" {
			auth.Key = keyFromLabel(o.Label)
		}
		if len(methods) == 0 {
			m, _ := fixed["methodType"].(string)
			methods = []string{m}
		}
		for _, m := range methods {
			c := idxChoice(auth, m)
			body := map[string]any{}
			for k, val := range fixed {
				body[k] = val
			}
			if m != "" {
				body["methodType"] = m
			}
			c.body = body
			out = append(out, c)
		}
	}
	return out
}

// relatesTo resolves "$.authenticators.value[2]" (or enrollments), else
// finds the authenticator by id.
func (l *login) relatesTo(r *ionResp, ref string, fixed map[string]any) ionAuth {
	lists := map[string][]ionAuth{"authenticators": r.Authenticators.Value, "authenticatorEnrollments": r.AuthenticatorEnrollments.Value}
	if strings.HasPrefix(ref, "$.") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(ref, "$."), ".value[")
		if i, err := strconv.Atoi(strings.TrimSuffix(rest, "]")); ok && err == nil && i >= 0 && i < len(lists[name]) {
			return lists[name][i]
		}
	}
	id, _ := fixed["id"].(string)
	for _, list := range lists {
		for _, a := range list {
			if id != "" && a.ID == id {
				return a
			}
		}
	}
	return ionAuth{}
}

// keyFromLabel guesses the authenticator key from its label when the
// answer does not relate the option to an authenticator.
func keyFromLabel(label string) string {
	l := strings.ToLower(label)
	switch {
	case strings.Contains(l, "password"):
		return "okta_password"
	case strings.Contains(l, "okta verify"):
		return "okta_verify"
	case strings.Contains(l, "google"):
		return "google_otp"
	case strings.Contains(l, "phone"), strings.Contains(l, "sms"):
		return "phone_number"
	case strings.Contains(l, "email"):
		return "okta_email"
	case strings.Contains(l, "yubikey"):
		return "yubikey_token"
	case strings.Contains(l, "security key"), strings.Contains(l, "biometric"):
		return "webauthn"
	case strings.Contains(l, "duo"):
		return "duo"
	case strings.Contains(l, "security question"):
		return "security_question"
	}
	return ""
}

// idxSelect picks among authenticators: the password first while it has
// not been sent (Okta asks for it this way when identify has no password
// field), then an MFA factor as in Classic.
func (l *login) idxSelect(ctx context.Context, cs []choice) (choice, error) {
	var mfa []choice
	for _, c := range cs {
		if c.name == "password" {
			if !l.sentPassword {
				return c, nil
			}
			continue
		}
		mfa = append(mfa, c)
	}
	if len(mfa) == 0 {
		return choice{}, &StatusError{Status: "select-authenticator-authenticate", Msg: "Okta offers no authenticator saml2sts can use: sign in in a browser to see what it wants"}
	}
	return l.pickChoice(ctx, mfa)
}

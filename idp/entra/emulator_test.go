package entra

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/idptest"
)

// These tests run the adapter against idptest's Entra emulator, which
// serves $Config pages and the JSON APIs with rotating tokens.

const (
	emuUser = "ana@corp.example"
	emuPass = "c0rrect-Horse!"
	emuRole = "arn:aws:iam::123456789012:role/Reader,arn:aws:iam::123456789012:saml-provider/entra"
	emuOTP  = "424242"
	emuSMS  = "135790"
)

type prompter struct {
	codes  []string
	choose int
	noTTY  bool
	asked  []string
}

func (p *prompter) Secret(context.Context, string) (string, error) { return "", idp.ErrNoTerminal }
func (p *prompter) Code(_ context.Context, label string) (string, error) {
	p.asked = append(p.asked, label)
	if p.noTTY || len(p.codes) == 0 {
		return "", idp.ErrNoTerminal
	}
	c := p.codes[0]
	p.codes = p.codes[1:]
	return c, nil
}
func (p *prompter) Choose(_ context.Context, label string, _ []string) (int, error) {
	p.asked = append(p.asked, label)
	if p.noTTY {
		return 0, idp.ErrNoTerminal
	}
	return p.choose, nil
}

func newEmu(t *testing.T, o idptest.EntraOptions) *idptest.Entra {
	t.Helper()
	for i := range o.Users {
		if o.Users[i].Roles == nil {
			o.Users[i].Roles = []string{emuRole}
		}
	}
	e, err := idptest.NewEntra(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

type emuRun struct {
	req    *idp.Request
	jar    *idp.Jar
	prompt *prompter
	notice *bytes.Buffer
	clock  *idptest.Clock
	prov   *Provider
}

func newRun(url string, jar *idp.Jar) *emuRun {
	if jar == nil {
		jar, _ = idp.NewJar(nil)
	}
	r := &emuRun{jar: jar, prompt: &prompter{}, notice: &bytes.Buffer{}, clock: &idptest.Clock{}}
	r.req = &idp.Request{
		URL:      url,
		Username: emuUser,
		Password: func(context.Context) (string, error) { return emuPass, nil },
		MFA:      "auto",
		Prompt:   r.prompt,
		Client:   idp.NewClient(nil, jar),
		Notice:   r.notice,
		Clock:    r.clock,
	}
	r.prov = New()
	return r
}

func (r *emuRun) login(t *testing.T, e *idptest.Entra) (string, error) {
	t.Helper()
	saml, err := r.prov.Login(context.Background(), r.req)
	leaks := append(e.Secrets(), emuPass, emuOTP, emuSMS)
	for _, s := range leaks {
		if s == "" {
			continue
		}
		if err != nil && strings.Contains(err.Error(), s) {
			t.Errorf("error leaks %q: %v", s, err)
		}
		if strings.Contains(r.notice.String(), s) {
			t.Errorf("notice leaks %q", s)
		}
	}
	return saml, err
}

func assertion(t *testing.T, saml string) string {
	t.Helper()
	x, err := base64.StdEncoding.DecodeString(saml)
	if err != nil {
		t.Fatalf("SAMLResponse is not base64: %v", err)
	}
	return string(x)
}

func TestLoginPaths(t *testing.T) {
	tests := []struct {
		name   string
		o      idptest.EntraOptions
		user   idptest.EntraUser
		mfa    string
		code   string
		notice string
		check  func(t *testing.T, s idptest.EntraStats)
	}{
		{name: "password only", check: func(t *testing.T, s idptest.EntraStats) {
			if s.PasswordPosts != 1 || s.KMSIYes != 1 || s.CredentialTypes != 1 || s.MissingHeaders != 0 || s.StaleTokens != 0 {
				t.Errorf("stats %+v", s)
			}
		}},
		{name: "push with number", user: idptest.EntraUser{Methods: []idptest.EntraMethod{{ID: idptest.EntraPush, Default: true, Number: 42, After: 3}}},
			notice: "Microsoft Authenticator: enter 42 in the app", check: func(t *testing.T, s idptest.EntraStats) {
				if s.EndAuths != 4 || s.ProcessAuths != 1 {
					t.Errorf("stats %+v: want 4 EndAuth polls", s)
				}
			}},
		{name: "totp", mfa: "totp", code: emuOTP, user: idptest.EntraUser{Methods: []idptest.EntraMethod{
			{ID: idptest.EntraPush, Default: true}, {ID: idptest.EntraOTP, Code: emuOTP}}}},
		{name: "auto with code picks totp", code: emuOTP, user: idptest.EntraUser{Methods: []idptest.EntraMethod{
			{ID: idptest.EntraPush, Default: true}, {ID: idptest.EntraOTP, Code: emuOTP}}}},
		{name: "sms", mfa: "sms", code: emuSMS, notice: "text message to +XX", user: idptest.EntraUser{Methods: []idptest.EntraMethod{
			{ID: idptest.EntraSMS, Code: emuSMS}}}, check: func(t *testing.T, s idptest.EntraStats) {
			if s.CodesSent != 1 {
				t.Errorf("stats %+v", s)
			}
		}},
		{name: "call", mfa: "call", notice: "calling +XX", user: idptest.EntraUser{Methods: []idptest.EntraMethod{{ID: idptest.EntraCall}}}},
		{name: "system preferred", mfa: "sms", o: idptest.EntraOptions{SystemPreferred: idptest.EntraPush}, notice: "instead of sms",
			user: idptest.EntraUser{Methods: []idptest.EntraMethod{{ID: idptest.EntraSMS, Code: emuSMS}, {ID: idptest.EntraPush}}}},
		{name: "kmsi skipped", o: idptest.EntraOptions{SkipKMSI: true}, check: func(t *testing.T, s idptest.EntraStats) {
			if s.KMSIShown != 0 || s.SAMLIssued != 1 {
				t.Errorf("stats %+v", s)
			}
		}},
		{name: "device auth tls", o: idptest.EntraOptions{DeviceAuthTls: true}, check: func(t *testing.T, s idptest.EntraStats) {
			if s.DeviceAuthTls != 1 {
				t.Errorf("stats %+v", s)
			}
		}},
		{name: "proof-up skipped", user: idptest.EntraUser{ProofUp: "skip"}, notice: "register more security info", check: func(t *testing.T, s idptest.EntraStats) {
			if s.ProofUpSkips != 1 {
				t.Errorf("stats %+v", s)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := tc.user
			u.Username, u.Password = emuUser, emuPass
			tc.o.Users = []idptest.EntraUser{u}
			e := newEmu(t, tc.o)
			r := newRun(e.URL(), nil)
			if tc.mfa != "" {
				r.req.MFA = tc.mfa
			}
			r.req.MFACode = tc.code
			saml, err := r.login(t, e)
			if err != nil {
				t.Fatalf("login: %v (notices: %s)", err, r.notice)
			}
			if !strings.Contains(assertion(t, saml), "https://sts.windows.net/") {
				t.Errorf("not the emulator's assertion")
			}
			if !strings.Contains(r.notice.String(), tc.notice) {
				t.Errorf("notices %q lack %q", r.notice, tc.notice)
			}
			for _, ua := range e.UserAgents() {
				if ua != UserAgent {
					t.Fatalf("request with User-Agent %q", ua)
				}
			}
			if tc.check != nil {
				tc.check(t, e.Stats())
			}
		})
	}
}

func TestLoginFailures(t *testing.T) {
	tests := []struct {
		name  string
		user  idptest.EntraUser
		login string
		pass  string
		mfa   string
		code  string
		noTTY bool
		exit  int
		want  string
	}{
		{name: "wrong password", pass: "nope", exit: 3, want: `AADSTS50126 on ConvergedSignIn: "` + idptest.EntraMsgBadPassword},
		{name: "unknown user", login: "bob@corp.example", exit: 3, want: `no such account bob@corp.example`},
		{name: "locked", user: idptest.EntraUser{Locked: true}, exit: 3, want: "AADSTS50053 on ConvergedSignIn"},
		{name: "password expired", user: idptest.EntraUser{PasswordExpired: true}, exit: 1, want: "AADSTS50055 on ConvergedChangePassword"},
		{name: "conditional access", user: idptest.EntraUser{Blocked: true}, exit: 1, want: "AADSTS53003 on ConvergedConditionalAccess: \"" + idptest.EntraMsgBlocked},
		{name: "proof-up required", user: idptest.EntraUser{ProofUp: "required"}, exit: 1, want: "AADSTS50072 on ConvergedProofUpRedirect"},
		{name: "passwordless", user: idptest.EntraUser{Passwordless: true}, exit: 1, want: "signs in without a password"},
		{name: "push denied", user: idptest.EntraUser{Methods: []idptest.EntraMethod{{ID: idptest.EntraPush, Answer: "deny"}}}, exit: 3,
			want: "AADSTS500121 on ConvergedTFA EndAuth: \"" + idptest.EntraMsgDenied + " (PhoneAppDenied)"},
		{name: "push unanswered", user: idptest.EntraUser{Methods: []idptest.EntraMethod{{ID: idptest.EntraPush, Answer: "timeout"}}}, exit: 3,
			want: "PhoneAppNoResponse"},
		{name: "push never answered", user: idptest.EntraUser{Methods: []idptest.EntraMethod{{ID: idptest.EntraPush, After: 1000}}}, exit: 3,
			want: "no answer from push after 10 checks"},
		{name: "wrong code", user: idptest.EntraUser{Methods: []idptest.EntraMethod{{ID: idptest.EntraOTP, Code: emuOTP}}}, code: "000000", exit: 3,
			want: "OathCodeIncorrect"},
		{name: "code without terminal", user: idptest.EntraUser{Methods: []idptest.EntraMethod{{ID: idptest.EntraOTP, Code: emuOTP}}}, noTTY: true},
		{name: "method not registered", mfa: "sms", noTTY: true, user: idptest.EntraUser{Methods: []idptest.EntraMethod{{ID: idptest.EntraPush}}},
			want: `mfa "sms" is not one of your Entra methods (push)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := tc.user
			u.Username, u.Password = emuUser, emuPass
			e := newEmu(t, idptest.EntraOptions{Users: []idptest.EntraUser{u}})
			r := newRun(e.URL(), nil)
			if tc.login != "" {
				r.req.Username = tc.login
			}
			if tc.pass != "" {
				r.req.Password = func(context.Context) (string, error) { return tc.pass, nil }
			}
			if tc.mfa != "" {
				r.req.MFA = tc.mfa
			}
			r.req.MFACode, r.prompt.noTTY = tc.code, tc.noTTY
			_, err := r.login(t, e)
			if err == nil {
				t.Fatal("login succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			var ee *Error
			switch {
			case tc.exit != 0 && (!errors.As(err, &ee) || ee.ExitCode() != tc.exit):
				t.Errorf("error %v: want an entra.Error with exit %d", err, tc.exit)
			case tc.exit == 3 && !errors.As(err, new(*idp.AuthError)):
				t.Errorf("exit-3 error is not an idp.AuthError")
			case tc.exit != 0 && !strings.HasSuffix(err.Error(), "run again with --browser"):
				t.Errorf("error %q does not end with the browser hint", err)
			case tc.noTTY && tc.mfa == "" && !errors.Is(err, idp.ErrNoTerminal):
				t.Errorf("error %v: want ErrNoTerminal", err)
			case tc.mfa != "" && !errors.As(err, new(*idp.ConfigError)):
				t.Errorf("error %v: want a ConfigError", err)
			}
			if s := e.Stats(); s.PasswordPosts > 1 {
				t.Errorf("password posted %d times", s.PasswordPosts)
			}
		})
	}
}

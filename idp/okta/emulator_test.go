package okta

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/idptest"
)

// These tests run the adapter against idptest's Okta emulator, which
// answers with Okta's JSON shapes, error bodies, headers and cookies.

const (
	emuUser = "ana@example.com"
	emuPass = "c0rrect-Horse!"
	emuRole = "arn:aws:iam::123456789012:role/Reader,arn:aws:iam::123456789012:saml-provider/okta"
)

func newEmu(t *testing.T, o idptest.OktaOptions) *idptest.Okta {
	t.Helper()
	for i := range o.Users {
		if o.Users[i].Roles == nil {
			o.Users[i].Roles = []string{emuRole}
		}
	}
	k, err := idptest.NewOkta(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return k
}

type emuRun struct {
	req    *idp.Request
	jar    *idp.Jar
	prompt *prompter
	notice *bytes.Buffer
	prov   *Provider
}

func newRun(k *idptest.Okta, jar *idp.Jar) *emuRun {
	if jar == nil {
		jar, _ = idp.NewJar(nil)
	}
	r := &emuRun{jar: jar, prompt: &prompter{}, notice: &bytes.Buffer{}}
	r.req = &idp.Request{
		URL:      k.URL(),
		Username: emuUser,
		Password: func(context.Context) (string, error) { return emuPass, nil },
		MFA:      "auto",
		Prompt:   r.prompt,
		Client:   idp.NewClient(nil, jar),
		Notice:   r.notice,
		Clock:    &idptest.Clock{},
	}
	r.prov = &Provider{pollEvery: pollEvery, pushWait: pushWait, maxRateWait: 3 * time.Second,
		interactive: func(idp.Prompter) bool { return !r.prompt.noTTY }}
	return r
}

func (r *emuRun) login(t *testing.T, k *idptest.Okta) (string, error) {
	t.Helper()
	saml, err := r.prov.Login(context.Background(), r.req)
	leaks := append(k.Secrets(), emuPass)
	if err != nil {
		for _, s := range leaks {
			if s != "" && strings.Contains(err.Error(), s) {
				t.Errorf("error leaks %q: %v", s, err)
			}
		}
	}
	for _, s := range leaks {
		if s != "" && strings.Contains(r.notice.String(), s) {
			t.Errorf("notice leaks %q", s)
		}
	}
	return saml, err
}

func factors(fs ...idptest.OktaFactor) []idptest.OktaUser {
	return []idptest.OktaUser{{Username: emuUser, Password: emuPass, Factors: fs}}
}

func TestEmulatorFactors(t *testing.T) {
	all := []idptest.OktaFactor{
		{Type: "push", CorrectAnswer: 37},
		{Type: "token:software:totp", Code: "111111"},
		{Type: "token:software:totp", Provider: "GOOGLE", Code: "222222"},
		{Type: "sms", Code: "333333"},
		{Type: "call", Code: "444444"},
		{Type: "email", Code: "555555"},
		{Type: "token:hardware", Code: "cccccckdvvulethkhtvkrtbeukiettlkcvhkgcnlfhjb"},
		{Type: "webauthn"},
		{Type: "web"},
	}
	tests := []struct {
		pipeline, mfa, code string
		prompts             []string
		notice              string
		verifies, sent      int
	}{
		{pipeline: "v1", mfa: "push", notice: "tap 37"},
		{pipeline: "v1", mfa: "okta token:software:totp", code: "111111", verifies: 1},
		{pipeline: "v1", mfa: "google", prompts: []string{"222222"}, verifies: 1},
		{pipeline: "v1", mfa: "sms", prompts: []string{"", "333333"}, verifies: 1, sent: 2, notice: "sent the code again"},
		{pipeline: "v1", mfa: "call", prompts: []string{"444444"}, verifies: 1, sent: 1},
		{pipeline: "v1", mfa: "email", prompts: []string{"555555"}, verifies: 1, sent: 1},
		{pipeline: "v1", mfa: "yubikey", code: "cccccckdvvulethkhtvkrtbeukiettlkcvhkgcnlfhjb", verifies: 1},
		{pipeline: "idx", mfa: "push", notice: "tap 37"},
		{pipeline: "idx", mfa: "google", code: "222222", verifies: 1},
		{pipeline: "idx", mfa: "sms", prompts: []string{"333333"}, verifies: 1, sent: 1},
	}
	for _, tc := range tests {
		t.Run(tc.pipeline+"/"+tc.mfa, func(t *testing.T) {
			k := newEmu(t, idptest.OktaOptions{Pipeline: tc.pipeline, Users: factors(all...)})
			r := newRun(k, nil)
			r.req.MFA, r.req.MFACode = tc.mfa, tc.code
			r.prompt.codes = tc.prompts
			saml, err := r.login(t, k)
			if err != nil {
				t.Fatal(err)
			}
			if got := k.IssuedResponses(); len(got) != 1 || got[0] != saml {
				t.Fatalf("SAMLResponse is not the one the emulator issued")
			}
			s := k.Stats()
			if s.PasswordPosts != 1 || s.FactorVerifies < tc.verifies || s.CodesSent != tc.sent {
				t.Errorf("stats %+v: want 1 password post, %d verifies, %d codes sent", s, tc.verifies, tc.sent)
			}
			if !strings.Contains(r.notice.String(), tc.notice) {
				t.Errorf("notices %q lack %q", r.notice, tc.notice)
			}
		})
	}
}

func TestEmulatorSessionReuse(t *testing.T) {
	for _, pipeline := range []string{"v1", "idx"} {
		t.Run(pipeline, func(t *testing.T) {
			k := newEmu(t, idptest.OktaOptions{Pipeline: pipeline, Users: factors(idptest.OktaFactor{Type: "push"})})
			first := newRun(k, nil)
			if _, err := first.login(t, k); err != nil {
				t.Fatal(err)
			}
			// A later process restores the saved jar: no password, no push.
			jar, err := idp.NewJar(first.jar.Export())
			if err != nil {
				t.Fatal(err)
			}
			again := newRun(k, jar)
			again.req.Password = func(context.Context) (string, error) {
				t.Error("password asked with a live Okta session")
				return "", idp.ErrNoTerminal
			}
			if _, err := again.login(t, k); err != nil {
				t.Fatal(err)
			}
			if s := k.Stats(); s.PasswordPosts != 1 || s.SessionReuses != 1 || s.SAMLIssued != 2 {
				t.Errorf("stats %+v: want 1 password post, 1 session reuse, 2 SAML", s)
			}
			// Session gone: the next login asks again.
			k.ExpireSessions()
			third := newRun(k, jar)
			third.req.Password = func(context.Context) (string, error) { return "", idp.ErrNoTerminal }
			if _, err := third.login(t, k); !errors.Is(err, idp.ErrNoTerminal) {
				t.Errorf("expired session: got %v, want ErrNoTerminal", err)
			}
		})
	}
}

func TestEmulatorFailures(t *testing.T) {
	tests := []struct {
		name     string
		o        idptest.OktaOptions
		mfa      string
		code     string
		prompts  []string
		noTTY    bool
		password string
		url      func(*idptest.Okta) string
		want     string
		auth     bool
		unsup    bool
		config   bool // an idp.ConfigError: exit 2
		noTerm   bool
	}{
		{name: "bad password", o: idptest.OktaOptions{Users: factors()}, password: "wrong", want: "Authentication failed", auth: true},
		{name: "locked out", o: idptest.OktaOptions{Users: []idptest.OktaUser{{Username: emuUser, Password: emuPass, Status: "LOCKED_OUT"}}}, want: "LOCKED_OUT", auth: true},
		{name: "expired password", o: idptest.OktaOptions{Users: []idptest.OktaUser{{Username: emuUser, Password: emuPass, Status: "PASSWORD_EXPIRED"}}}, want: "PASSWORD_EXPIRED"},
		{name: "mfa enroll", o: idptest.OktaOptions{Users: []idptest.OktaUser{{Username: emuUser, Password: emuPass, Status: "MFA_ENROLL"}}}, want: "MFA_ENROLL"},
		{name: "push rejected", o: idptest.OktaOptions{Users: factors(idptest.OktaFactor{Type: "push", Push: "reject"})}, want: "rejected", auth: true},
		{name: "push timeout", o: idptest.OktaOptions{Users: factors(idptest.OktaFactor{Type: "push", Push: "timeout"})}, want: "TIMEOUT", auth: true},
		{name: "bad code scripted", o: idptest.OktaOptions{Users: factors(idptest.OktaFactor{Type: "token:software:totp", Code: "111111"})},
			code: "999999", noTTY: true, want: "Invalid Passcode/Answer", auth: true},
		{name: "three bad codes", o: idptest.OktaOptions{Users: factors(idptest.OktaFactor{Type: "token:software:totp", Code: "111111"})},
			prompts: []string{"1", "2", "3", "111111"}, want: "Invalid Passcode/Answer", auth: true},
		{name: "totp without terminal", o: idptest.OktaOptions{Users: factors(idptest.OktaFactor{Type: "token:software:totp", Code: "111111"})},
			noTTY: true, noTerm: true},
		{name: "webauthn", o: idptest.OktaOptions{Users: factors(idptest.OktaFactor{Type: "webauthn"})}, want: "WebAuthn", unsup: true},
		{name: "duo", o: idptest.OktaOptions{Users: factors(idptest.OktaFactor{Type: "web"})}, want: "Duo", unsup: true},
		{name: "identity center", o: idptest.OktaOptions{Users: factors()}, url: (*idptest.Okta).IdentityCenterURL, want: "IAM Identity Center", config: true},
		{name: "rate limit without terminal", o: idptest.OktaOptions{Users: factors(), RateLimit: 1}, noTTY: true, want: "E0000047"},
		{name: "idx bad password", o: idptest.OktaOptions{Pipeline: "idx", Users: factors()}, password: "wrong", auth: true},
		{name: "idx push rejected", o: idptest.OktaOptions{Pipeline: "idx", Users: factors(idptest.OktaFactor{Type: "push", Push: "reject"})}, auth: true},
		{name: "idx push timeout", o: idptest.OktaOptions{Pipeline: "idx", Users: factors(idptest.OktaFactor{Type: "push", Push: "timeout"})}, auth: true},
		{name: "idx locked out", o: idptest.OktaOptions{Pipeline: "idx", Users: []idptest.OktaUser{{Username: emuUser, Password: emuPass, Status: "LOCKED_OUT"}}}, want: "Authentication failed", auth: true},
		{name: "idx expired password", o: idptest.OktaOptions{Pipeline: "idx", Users: []idptest.OktaUser{{Username: emuUser, Password: emuPass, Status: "PASSWORD_EXPIRED"}}}, want: `password has expired ("reenroll-authenticator")`},
		{name: "idx mfa enroll", o: idptest.OktaOptions{Pipeline: "idx", Users: []idptest.OktaUser{{Username: emuUser, Password: emuPass, Status: "MFA_ENROLL"}}}, unsup: true},
		{name: "idx webauthn", o: idptest.OktaOptions{Pipeline: "idx", Users: factors(idptest.OktaFactor{Type: "webauthn"})}, want: "WebAuthn", unsup: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := newEmu(t, tc.o)
			r := newRun(k, nil)
			if tc.name == "rate limit without terminal" {
				// Use up the budget first.
				if _, err := newRun(k, nil).login(t, k); err != nil {
					t.Fatal(err)
				}
			}
			if tc.url != nil {
				r.req.URL = tc.url(k)
			}
			if tc.password != "" {
				r.req.Password = func(context.Context) (string, error) { return tc.password, nil }
			}
			r.req.MFA, r.req.MFACode = orDefault(tc.mfa, "auto"), tc.code
			r.prompt.codes, r.prompt.noTTY = tc.prompts, tc.noTTY
			_, err := r.login(t, k)
			var (
				ae *idp.AuthError
				ue *idp.UnsupportedError
				ce *idp.ConfigError
			)
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.As(err, &ae) != tc.auth || errors.As(err, &ue) != tc.unsup ||
				errors.As(err, &ce) != tc.config || errors.Is(err, idp.ErrNoTerminal) != tc.noTerm {
				t.Fatalf("got %v; want %q (auth %v, unsupported %v, config %v, no terminal %v)", err, tc.want, tc.auth, tc.unsup, tc.config, tc.noTerm)
			}
			if s := k.Stats(); s.PasswordPosts > 2 || (tc.name != "rate limit without terminal" && s.PasswordPosts > 1) {
				t.Errorf("password posted %d times", s.PasswordPosts)
			}
		})
	}
}

func TestEmulatorIDXPasswordWarn(t *testing.T) {
	k := newEmu(t, idptest.OktaOptions{Pipeline: "idx", Users: []idptest.OktaUser{{Username: emuUser, Password: emuPass, Status: "PASSWORD_WARN"}}})
	r := newRun(k, nil)
	if _, err := r.login(t, k); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.notice.String(), "password expires") {
		t.Errorf("no password warning: %q", r.notice)
	}
}

func TestEmulatorStepUpAndWarn(t *testing.T) {
	k := newEmu(t, idptest.OktaOptions{StepUp: true, Users: []idptest.OktaUser{{Username: emuUser, Password: emuPass, Status: "PASSWORD_WARN",
		Factors: []idptest.OktaFactor{{Type: "token:software:totp", Code: "111111"}}}}})
	r := newRun(k, nil)
	r.prompt.codes = []string{"111111", "111111"}
	if _, err := r.login(t, k); err != nil {
		t.Fatal(err)
	}
	if s := k.Stats(); s.StepUps != 1 || s.PasswordPosts != 1 {
		t.Errorf("stats %+v: want 1 step-up, 1 password post", s)
	}
	if !strings.Contains(r.notice.String(), "password expires") {
		t.Errorf("no password warning: %q", r.notice)
	}
}

func TestEmulatorSSOURLAndRateWait(t *testing.T) {
	// The emulator's rate window and the adapter's wait share one fake clock.
	clk := &idptest.Clock{}
	k := newEmu(t, idptest.OktaOptions{Users: factors(), RateLimit: 1, RateWindow: 1500 * time.Millisecond, SAMLOptions: idptest.SAMLOptions{Now: clk.Now}})
	if _, err := newRun(k, nil).login(t, k); err != nil {
		t.Fatal(err)
	}
	r := newRun(k, nil)
	r.req.Clock = clk
	r.req.URL = k.SSOURL()
	if _, err := r.login(t, k); err != nil {
		t.Fatal(err)
	}
	if s := k.Stats(); s.RateLimited != 1 || s.PasswordPosts < 2 {
		t.Errorf("stats %+v: want one 429 then a login", s)
	}
	if !strings.Contains(r.notice.String(), "waiting") || len(clk.Waits()) != 1 {
		t.Errorf("no wait notice (%q) or not one wait: %v", r.notice, clk.Waits())
	}
}

// TestEmulatorPushWait: push polls run on the injected clock, every
// pollEvery until pushWait, and do not count against maxSteps: a push
// approved after more polls than maxSteps signs in, one never approved
// ends with the deadline's own message after exactly pushWait.
func TestEmulatorPushWait(t *testing.T) {
	t.Parallel()
	for _, pipeline := range []string{"v1", "idx"} {
		for _, tc := range []struct {
			name  string
			after int
			want  string // error; "" = signed in
		}{
			{name: "approved after 2*maxSteps polls", after: 2 * maxSteps},
			{name: "never approved", after: 1 << 20, want: "identity provider rejected the login: no answer to the Okta Verify push after 3m0s: run again and approve it"},
		} {
			t.Run(pipeline+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				k := newEmu(t, idptest.OktaOptions{Pipeline: pipeline, Users: factors(idptest.OktaFactor{Type: "push", PushAfter: tc.after})})
				r := newRun(k, nil)
				clk := &idptest.Clock{}
				r.req.Clock = clk
				saml, err := r.login(t, k)
				waits := clk.Waits()
				for _, w := range waits {
					if w != pollEvery {
						t.Fatalf("waited %s, want every wait %s", w, pollEvery)
					}
				}
				if tc.want == "" {
					if err != nil || saml == "" {
						t.Fatalf("login: %v", err)
					}
					if s := k.Stats(); s.Polls != tc.after+1 || len(waits) != s.Polls {
						t.Errorf("%d polls, %d waits; want %d of each", s.Polls, len(waits), tc.after+1)
					}
					return
				}
				var ae *idp.AuthError
				if !errors.As(err, &ae) || err.Error() != tc.want {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				// A poll after each wait; the one at 180s is still in time,
				// the one at 181s is past the deadline.
				if n := int(pushWait/pollEvery) + 1; len(waits) != n || k.Stats().Polls != n {
					t.Errorf("%d waits, %d polls; want %d of each", len(waits), k.Stats().Polls, n)
				}
			})
		}
	}
}

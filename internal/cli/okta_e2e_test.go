package cli_test

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

// Okta end to end: the built binary against idptest's Okta emulator and
// the STS emulator, with no terminal (see okta_tty_e2e_test.go for the
// terminal cases).

const oktaUser = "ana@example.com"

// Codes the emulated factors accept.
const (
	oktaTOTP    = "271828"
	oktaGA      = "161803"
	oktaSMS     = "141421"
	oktaCall    = "173205"
	oktaEmail   = "223606"
	oktaYubiOTP = "cccccckdvvulethkhtvkrtbeukiettlkcvhkgcnlfhjb"
)

var oktaCodes = []string{oktaTOTP, oktaGA, oktaSMS, oktaCall, oktaEmail, oktaYubiOTP}

type oktaWorld struct {
	*world
	k *idptest.Okta
}

// newOktaWorld starts an Okta org whose user ana has the given factors,
// and configures profile "o" for it.
func newOktaWorld(t *testing.T, o idptest.OktaOptions, status string, fs ...idptest.OktaFactor) *oktaWorld {
	t.Helper()
	if o.Users == nil {
		o.Users = []idptest.OktaUser{{Username: oktaUser, Password: password, Status: status, Factors: fs,
			Roles: []string{reader + "," + provider, provider + "," + admin}}}
	}
	// The org's sessions and rate window run on the world's clock, which
	// the CLI's waits move.
	clock := &ststest.Clock{}
	if o.Now == nil {
		o.Now = clock.Now
	}
	k, err := idptest.NewOkta(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	w := &oktaWorld{world: newBareWorld(t, k.Certificate(), ststest.Options{Now: clock.Now}), k: k}
	w.clock = clock
	w.mustRun("", "configure", "--profile", "o", "--provider", "okta", "--url", k.URL(), "--username", oktaUser,
		"--region", "eu-west-1", "--role-arn", reader)
	return w
}

// scan fails the test when any output shows a secret: the password, a
// passcode, a stateToken, sessionToken, stateHandle or sid, or a
// SAMLResponse.
func (w *oktaWorld) scan(rs ...result) {
	w.t.Helper()
	// Keyed by value: a name shared by several values (every
	// SAMLResponse) would check only the last one.
	secrets := map[string]string{password: "password"}
	for _, c := range oktaCodes {
		secrets[c] = "passcode " + c
	}
	for _, s := range w.k.Secrets() {
		secrets[s] = "okta token " + s[:min(6, len(s))] + "…"
	}
	for _, s := range w.k.IssuedResponses() {
		secrets[s] = "SAMLResponse"
	}
	for _, r := range rs {
		for s, what := range secrets {
			if s != "" && (strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s)) {
				w.t.Errorf("output leaks the %s:\n%s", what, r)
			}
		}
	}
}

func oktaAllFactors() []idptest.OktaFactor {
	return []idptest.OktaFactor{
		{Type: "push", CorrectAnswer: 37},
		{Type: "token:software:totp", Code: oktaTOTP},
		{Type: "token:software:totp", Provider: "GOOGLE", Code: oktaGA},
		{Type: "sms", Code: oktaSMS},
		{Type: "call", Code: oktaCall},
		{Type: "email", Code: oktaEmail},
		{Type: "token:hardware", Code: oktaYubiOTP},
		{Type: "webauthn"},
		{Type: "web"},
	}
}

func TestOktaFactors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pipeline string
		args     []string
		stderr   string // a notice the user must see
		sent     int    // codes Okta sent (sms/call/email)
	}{
		{pipeline: "v1", args: []string{"--mfa", "push"}, stderr: "tap 37 on your phone"},
		{pipeline: "v1", args: []string{"--mfa", "okta:token:software:totp", "--mfa-code", oktaTOTP}},
		{pipeline: "v1", args: []string{"--mfa-code", oktaTOTP}}, // auto + a code: the first TOTP
		{pipeline: "v1", args: []string{"--mfa", "google", "--mfa-code", oktaGA}},
		{pipeline: "v1", args: []string{"--mfa", "sms", "--mfa-code", oktaSMS}, stderr: "SMS code to", sent: 1},
		{pipeline: "v1", args: []string{"--mfa", "call", "--mfa-code", oktaCall}, stderr: "voice call to", sent: 1},
		{pipeline: "v1", args: []string{"--mfa", "email", "--mfa-code", oktaEmail}, stderr: "email code to", sent: 1},
		{pipeline: "v1", args: []string{"--mfa", "yubikey", "--mfa-code", oktaYubiOTP}},
		{pipeline: "idx", args: []string{"--mfa", "push"}, stderr: "tap 37 on your phone"},
		{pipeline: "idx", args: []string{"--mfa", "okta:token:software:totp", "--mfa-code", oktaTOTP}},
		{pipeline: "idx", args: []string{"--mfa", "sms", "--mfa-code", oktaSMS}, sent: 1},
	}
	for _, tc := range tests {
		t.Run(tc.pipeline+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			w := newOktaWorld(t, idptest.OktaOptions{Pipeline: tc.pipeline}, "", oktaAllFactors()...)
			r := w.mustRun(password, append([]string{"login", "--profile", "o", "--password-stdin"}, tc.args...)...)
			if !strings.Contains(r.stderr, "Logged in") || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr lacks %q: %s", tc.stderr, r)
			}
			c := parseCreds(t, w.mustRun("", "credential-process", "--profile", "o").stdout)
			if c.AccessKeyID != w.st.Issued()[0].AccessKeyID {
				t.Errorf("credential-process did not serve the cached login")
			}
			s := w.k.Stats()
			if s.PasswordPosts != 1 || s.SAMLIssued != 1 || s.CodesSent != tc.sent {
				t.Errorf("okta stats %+v: want 1 password post, 1 SAML, %d codes sent", s, tc.sent)
			}
			w.scan(r)
		})
	}
}

func TestOktaFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		o       idptest.OktaOptions
		status  string
		factors []idptest.OktaFactor
		stdin   string
		args    []string
		url     func(*idptest.Okta) string
		code    int
		want    []string
		pwPosts int
	}{
		{name: "bad password", stdin: "wrong-password", code: 3, pwPosts: 1,
			want: []string{"identity provider rejected the login: Authentication failed"}},
		{name: "locked out", status: "LOCKED_OUT", code: 3, pwPosts: 1, want: []string{"locked out (LOCKED_OUT)"}},
		{name: "password expired", status: "PASSWORD_EXPIRED", code: 1, pwPosts: 1, want: []string{"password has expired (PASSWORD_EXPIRED)", "change it in a browser"}},
		{name: "mfa enroll", status: "MFA_ENROLL", code: 1, pwPosts: 1, want: []string{"set up an MFA factor first (MFA_ENROLL)"}},
		{name: "push rejected", factors: []idptest.OktaFactor{{Type: "push", Push: "reject"}}, code: 3, pwPosts: 1,
			want: []string{"push was rejected"}},
		{name: "push timeout", factors: []idptest.OktaFactor{{Type: "push", Push: "timeout"}}, code: 3, pwPosts: 1,
			want: []string{"not answered in time (TIMEOUT)"}},
		{name: "wrong code", factors: []idptest.OktaFactor{{Type: "token:software:totp", Code: oktaTOTP}}, args: []string{"--mfa-code", "000000"},
			code: 3, pwPosts: 1, want: []string{"Invalid Passcode/Answer", "Your passcode doesn't match our records"}},
		{name: "totp without terminal", factors: []idptest.OktaFactor{{Type: "token:software:totp", Code: oktaTOTP}}, code: 4, pwPosts: 1},
		{name: "webauthn", factors: []idptest.OktaFactor{{Type: "webauthn"}}, code: 1, pwPosts: 1, want: []string{"WebAuthn", "not supported"}},
		{name: "duo", factors: []idptest.OktaFactor{{Type: "web"}}, code: 1, pwPosts: 1, want: []string{"Duo Security is not supported"}},
		{name: "factor not enrolled", factors: []idptest.OktaFactor{{Type: "push"}}, args: []string{"--mfa", "sms"}, code: 2, pwPosts: 1,
			want: []string{`mfa "sms" is not one of your Okta factors (push)`}},
		{name: "identity center app", url: (*idptest.Okta).IdentityCenterURL, code: 2,
			want: []string{"IAM Identity Center", "aws sso login", "/home/amazon_aws/"}},
		{name: "idx bad password", o: idptest.OktaOptions{Pipeline: "idx"}, stdin: "wrong-password", code: 3, pwPosts: 1,
			want: []string{"identity provider rejected the login"}},
		{name: "idx push rejected", o: idptest.OktaOptions{Pipeline: "idx"}, factors: []idptest.OktaFactor{{Type: "push", Push: "reject"}},
			code: 3, pwPosts: 1},
		{name: "idx webauthn", o: idptest.OktaOptions{Pipeline: "idx"}, factors: []idptest.OktaFactor{{Type: "webauthn"}},
			code: 1, pwPosts: 1, want: []string{"WebAuthn"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newOktaWorld(t, tc.o, tc.status, tc.factors...)
			if tc.url != nil {
				// configure refuses it, writing nothing; login (here
				// given it by the environment) refuses it too.
				if r := w.run("", "configure", "--profile", "o", "--url", tc.url(w.k)); r.code != tc.code || !strings.Contains(r.stderr, tc.want[0]) {
					t.Errorf("configure: want exit %d with %q: %s", tc.code, tc.want[0], r)
				}
				w.env["SAML2STS_URL"] = tc.url(w.k)
			}
			r := w.failedLogin(tc.stdin, tc.args, tc.code, tc.want...)
			if got := w.k.Stats().PasswordPosts; got != tc.pwPosts {
				t.Errorf("password posts = %d, want %d", got, tc.pwPosts)
			}
			w.scan(r)
		})
	}
}

// TestOktaRateLimit: a 429 (E0000047) with no terminal fails at once with
// Okta's reset time, and the password is not posted again.
func TestOktaRateLimit(t *testing.T) {
	t.Parallel()
	w := newOktaWorld(t, idptest.OktaOptions{RateLimit: 1, RateWindow: time.Hour}, "")
	w.mustRun(password, "login", "--profile", "o", "--password-stdin")
	r := w.run(password, "login", "--profile", "o", "--password-stdin", "--force")
	if r.code != 1 || !strings.Contains(r.stderr, "Okta rate limit reached (E0000047") || !strings.Contains(r.stderr, "resets in") {
		t.Errorf("rate limited login: %s", r)
	}
	if s := w.k.Stats(); s.RateLimited != 1 || s.PasswordPosts != 1 {
		t.Errorf("okta stats %+v: want one 429 and the first password post only", s)
	}
	w.scan(r)
}

// TestOktaStepUp: the app's sign-on policy asks for MFA again after the
// session cookie redirect; the step-up page's stateToken is finished with
// a second push, and the password is posted once.
func TestOktaStepUp(t *testing.T) {
	t.Parallel()
	w := newOktaWorld(t, idptest.OktaOptions{StepUp: true}, "PASSWORD_WARN", idptest.OktaFactor{Type: "push"})
	r := w.mustRun(password, "login", "--profile", "o", "--password-stdin")
	if s := w.k.Stats(); s.StepUps != 1 || s.PasswordPosts != 1 || s.SAMLIssued != 1 {
		t.Errorf("okta stats %+v: want a step-up, one password post, one SAML", s)
	}
	if !strings.Contains(r.stderr, "password expires") || strings.Count(r.stderr, "push sent") != 2 {
		t.Errorf("want the password warning and two pushes: %s", r)
	}
	w.scan(r)
}

// expireIn rewrites the cached credentials of profile "o" to expire in d:
// inside the refresh window (15m by default) they are stale but still
// valid, without waiting for the clock.
func (w *oktaWorld) expireIn(d time.Duration) {
	w.t.Helper()
	store, err := cache.NewFile(filepath.Join(w.dir, "cache", "saml2sts"))
	if err != nil {
		w.t.Fatal(err)
	}
	raw, err := store.Get(cache.CredsKey("o"))
	if err != nil {
		w.t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(raw, &rec); err != nil {
		w.t.Fatal(err)
	}
	rec["credentials"].(map[string]any)["Expiration"] = w.clock.Now().Add(d).UTC().Format(time.RFC3339)
	raw, _ = json.Marshal(rec)
	if err := store.Set(cache.CredsKey("o"), raw); err != nil {
		w.t.Fatal(err)
	}
}

// TestOktaParallelRefreshRidesSession: after one login, N parallel
// credential-process calls with stale credentials re-mint once, from the
// Okta sid kept in the store: no password, no prompt, no second login.
func TestOktaParallelRefreshRidesSession(t *testing.T) {
	t.Parallel()
	for _, pipeline := range []string{"v1", "idx"} {
		t.Run(pipeline, func(t *testing.T) {
			t.Parallel()
			w := newOktaWorld(t, idptest.OktaOptions{Pipeline: pipeline}, "", idptest.OktaFactor{Type: "push"})
			first := w.mustRun(password, "login", "--profile", "o", "--password-stdin")
			w.expireIn(5 * time.Minute) // stale: the re-minted ones (1h) are fresh
			results := w.parallelCreds("o", 12)
			if got := w.st.Calls("AssumeRoleWithSAML"); got != 2 {
				t.Errorf("AssumeRoleWithSAML calls = %d, want 2 (login + one silent re-mint)", got)
			}
			if s := w.k.Stats(); s.PasswordPosts != 1 || s.SessionReuses != 1 || s.SAMLIssued != 2 {
				t.Errorf("okta stats %+v: want 1 password post, 1 session reuse, 2 SAML", s)
			}
			w.scan(append(results, first)...)

			// The Okta session ends: no terminal, so the still-valid
			// credentials are served with a notice, never a hang.
			w.k.ExpireSessions()
			w.expireIn(5 * time.Minute)
			r := w.mustRun("", "credential-process", "--profile", "o")
			if !strings.Contains(r.stderr, "saml2sts login --profile o") {
				t.Errorf("want a notice naming the login command: %s", r)
			}
			w.scan(r)
		})
	}
}

// TestOktaDebugRedaction: --debug traces requests but shows no secret, on
// both pipelines: Classic (stateToken, sessionToken in the token= query of
// /login/sessionCookieRedirect, sid cookie) and Identity Engine
// (stateHandle, idx cookie), for a login and for a silent refresh on the
// stored Okta session.
func TestOktaDebugRedaction(t *testing.T) {
	t.Parallel()
	for _, pipeline := range []string{"v1", "idx"} {
		t.Run(pipeline, func(t *testing.T) {
			t.Parallel()
			w := newOktaWorld(t, idptest.OktaOptions{Pipeline: pipeline}, "", idptest.OktaFactor{Type: "sms", Code: oktaSMS})
			r := w.run(password, "--debug", "login", "--profile", "o", "--password-stdin", "--mfa-code", oktaSMS)
			if r.code != 0 || !strings.Contains(r.stderr, "debug: http") {
				t.Fatalf("no debug trace: %s", r)
			}
			// The secret-bearing steps are in the trace, redacted.
			if pipeline == "v1" && !strings.Contains(r.stderr, "/login/sessionCookieRedirect?") {
				t.Errorf("the trace lacks the sessionCookieRedirect step: %s", r.stderr)
			}
			if pipeline == "idx" && !strings.Contains(r.stderr, "/idp/idx/") {
				t.Errorf("the trace lacks the IDX steps: %s", r.stderr)
			}
			// Another role needs new credentials: minted on the stored
			// Okta session, no password, traced too.
			w.mustRun("", "configure", "--profile", "o", "--role-arn", admin)
			r2 := w.run("", "--debug", "credential-process", "--profile", "o")
			if r2.code != 0 || w.k.Stats().SessionReuses != 1 {
				t.Fatalf("no silent refresh (%+v): %s", w.k.Stats(), r2)
			}
			kinds := map[string]int{}
			for _, s := range w.k.Secrets() {
				kinds[s[:2]]++
			}
			want := map[string][]string{"v1": {"00", "20", "10"}, "idx": {"10", "ey"}}[pipeline]
			for _, k := range want {
				if kinds[k] == 0 {
					t.Errorf("the emulator handed out no %q secret (%v): the scan below would prove nothing", k, kinds)
				}
			}
			r2.stdout = "" // credential-process prints the credentials there, by design
			w.scan(r, r2)
			for _, c := range w.st.Issued() {
				if strings.Contains(r.stderr+r2.stderr, c.SecretAccessKey) || strings.Contains(r.stderr+r2.stderr, c.SessionToken) {
					t.Errorf("debug output leaks AWS credentials")
				}
			}
		})
	}
}

// TestOktaMFACodeWithPushOnly: a scripted login with --mfa-code for a user
// whose only factor is push still logs in by push, and says the code was
// not used rather than leaving the user to wonder why the phone buzzed.
func TestOktaMFACodeWithPushOnly(t *testing.T) {
	t.Parallel()
	for _, pipeline := range []string{"v1", "idx"} {
		t.Run(pipeline, func(t *testing.T) {
			t.Parallel()
			w := newOktaWorld(t, idptest.OktaOptions{Pipeline: pipeline}, "", idptest.OktaFactor{Type: "push"})
			r := w.mustRun(password, "login", "--profile", "o", "--password-stdin", "--mfa-code", oktaTOTP)
			if !regexp.MustCompile(`(?m)^saml2sts: --mfa-code is not used: Okta Verify push( \(\w+\))? takes no code$`).MatchString(r.stderr) ||
				!strings.Contains(r.stderr, "Logged in") {
				t.Errorf("stderr: %s", r.stderr)
			}
			if st := w.k.Stats(); st.FactorVerifies != 0 || st.BadPasscodes != 0 {
				t.Errorf("the code was sent: %+v", st)
			}
			w.scan(r)
		})
	}
}

// failedLogin runs "login --profile o --password-stdin args..." with stdin
// (default the password) and checks a failure: exit code, each want in
// stderr, one line of error, nothing on stdout, no credentials minted.
func (w *world) failedLogin(stdin string, args []string, code int, want ...string) result {
	w.t.Helper()
	if stdin == "" {
		stdin = password
	}
	r := w.run(stdin, append([]string{"login", "--profile", "o", "--password-stdin"}, args...)...)
	if r.code != code {
		w.t.Errorf("exit %d, want %d: %s", r.code, code, r)
	}
	for _, s := range want {
		if !strings.Contains(r.stderr, s) {
			w.t.Errorf("stderr lacks %q: %s", s, r)
		}
	}
	if r.stdout != "" {
		w.t.Errorf("stdout not empty: %q", r.stdout)
	}
	if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n > 1 {
		w.t.Errorf("error is %d lines, want one: %s", n+1, r)
	}
	if len(w.st.Issued()) != 0 {
		w.t.Errorf("a failed login minted credentials")
	}
	return r
}

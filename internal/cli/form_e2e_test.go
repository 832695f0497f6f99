package cli_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

// formIdP is what the generic-form e2e tests need of an emulator.
type formIdP interface {
	URL() string
	Stats() idptest.Stats
	IssuedResponses() []string
	SessionCookies() []string
}

const formErrSSP = "Incorrect username or password Either no user with the given username could be found, or the password you gave was wrong. Please check the username and try again."

// newFormWorld starts a SimpleSAMLphp (or Shibboleth) emulator with user ana
// and profile "f" using provider form.
func newFormWorld(t *testing.T, shib, otp bool, extra ...string) (*world, *idptest.SimpleSAML) {
	t.Helper()
	u := idptest.User{Username: "ana", Password: password, Roles: []string{reader + "," + provider, provider + "," + admin}}
	if otp {
		u.OTP = []idptest.OTP{{Code: otpCode}}
	}
	start := idptest.NewSimpleSAML
	if shib {
		start = idptest.NewShibboleth
	}
	s, err := start(idptest.SimpleSAMLOptions{Users: []idptest.User{u}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	w := newBareWorld(t, s.Certificate(), ststest.Options{})
	w.mustRun("", append([]string{"configure", "--profile", "f", "--provider", "form", "--url", s.URL(),
		"--username", "ana", "--region", "eu-west-1", "--role-arn", reader}, extra...)...)
	return w, s
}

// noSecrets fails when out holds any secret the run handled.
func noSecrets(t *testing.T, w *world, idp formIdP, out string, extra ...string) {
	t.Helper()
	// Keyed by value: a name shared by several values (the keys of each
	// login) would check only the last one.
	secrets := map[string]string{password: "password", otpCode: "otp"}
	for _, iss := range w.st.Issued() {
		secrets[iss.SecretAccessKey], secrets[iss.SessionToken] = "secret key", "session token"
	}
	for _, r := range idp.IssuedResponses() {
		secrets[r] = "SAMLResponse " + r[:12]
	}
	for _, c := range idp.SessionCookies() {
		secrets[c] = "cookie " + c
	}
	for i, e := range extra {
		secrets[e] = "extra " + string(rune('a'+i))
	}
	for s, what := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("output leaks the %s", what)
		}
	}
}

// TestFormLoginE2E: provider form logs in to SimpleSAMLphp and Shibboleth,
// with and without a code, then re-mints silently on the IdP session.
func TestFormLoginE2E(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		shib, otp bool
	}{{"simplesamlphp", false, false}, {"simplesamlphp-otp", false, true}, {"shibboleth", true, false}, {"shibboleth-otp", true, true}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, s := newFormWorld(t, tt.shib, tt.otp, "--duration", "1h", "--refresh-window", "59m59s")
			args := []string{"--debug", "login", "--profile", "f", "--password-stdin"}
			if tt.otp {
				args = append(args, "--mfa-code", otpCode)
			}
			r := w.mustRun(password+"\n", args...)
			if r.stdout != "" || !strings.Contains(r.stderr, "Logged in") || !strings.Contains(r.stderr, reader) || !strings.Contains(r.stderr, "debug: http") {
				t.Errorf("login: %s", r)
			}
			otp := 0
			if tt.otp {
				otp = 1
			}
			if st := s.Stats(); st.PasswordPosts != 1 || st.Logins != 1 || st.OTPPosts != otp || st.SAMLIssued != 1 || st.Restarts != 0 {
				t.Errorf("IdP stats %+v", st)
			}

			// Stale one second after issue: only the stored IdP session
			// can re-mint (no terminal, no password_command).
			w.advance(2 * time.Second) // past the refresh window of 59m59s
			r2 := w.mustRun("", "--debug", "credential-process", "--profile", "f")
			c := parseCreds(t, r2.stdout)
			if got := w.st.Calls("AssumeRoleWithSAML"); got != 2 || c.AccessKeyID != w.st.Issued()[1].AccessKeyID {
				t.Errorf("AssumeRoleWithSAML calls = %d, want a silent re-mint", got)
			}
			if st := s.Stats(); st.PasswordPosts != 1 || st.SessionReuses != 1 {
				t.Errorf("IdP stats %+v: want 1 password post and 1 session reuse", st)
			}
			noSecrets(t, w, s, r.stdout+r.stderr+r2.stderr, s.AuthStates()...)
		})
	}
}

// TestFormKeycloakE2E: the same provider, unchanged, against every Keycloak
// theme, with and without OTP.
func TestFormKeycloakE2E(t *testing.T) {
	t.Parallel()
	for _, theme := range []string{"v2", "v1", "old"} {
		for _, otp := range []bool{false, true} {
			name := theme
			opts := []worldOpt{func(ko *idptest.KeycloakOptions, _ *ststest.Options) { ko.Theme = theme }}
			args := []string{"login", "--profile", "k", "--password-stdin"}
			if otp {
				name += "-otp"
				opts = append(opts, withOTP)
				args = append(args, "--mfa-code", otpCode)
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				w := newWorld(t, opts...)
				w.mustRun("", "configure", "--profile", "k", "--provider", "form", "--url", w.kc.URL(),
					"--username", "ana", "--region", "eu-west-1", "--role-arn", reader)
				r := w.mustRun(password, args...)
				if !strings.Contains(r.stderr, "Logged in") {
					t.Errorf("login: %s", r)
				}
				if st := w.kc.Stats(); st.PasswordPosts != 1 || st.Logins != 1 || st.SAMLIssued != 1 || st.Restarts != 0 {
					t.Errorf("Keycloak stats %+v", st)
				}
				noSecrets(t, w, w.kc, r.stdout+r.stderr)
			})
		}
	}
}

// TestFormFailuresE2E: each way a form login fails has its exit code and a
// one-line message, posts the password at most once and leaks nothing.
func TestFormFailuresE2E(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		shib, otp bool
		keycloak  string // a Keycloak required action instead of SimpleSAMLphp
		extra     []string
		stdin     string
		args      []string
		code      int
		msg       string
		posts     int
	}{
		{name: "simplesamlphp wrong password", stdin: "nope", code: 3, posts: 1,
			msg: "saml2sts: identity provider rejected the login: " + formErrSSP},
		{name: "shibboleth wrong password", shib: true, stdin: "nope", code: 3, posts: 1,
			msg: "identity provider rejected the login: The password you entered was incorrect."},
		{name: "wrong code", otp: true, stdin: password, args: []string{"--mfa-code", "000000"}, code: 3, posts: 1,
			msg: "identity provider rejected the login: Incorrect verification code The verification code you entered is not valid. Please try again."},
		{name: "shibboleth wrong code", shib: true, otp: true, stdin: password, args: []string{"--mfa-code", "000000"}, code: 3, posts: 1,
			msg: "identity provider rejected the login: The code you entered was incorrect."},
		{name: "code needs a terminal", otp: true, stdin: password, code: 4, posts: 1,
			msg: "saml2sts: a login is needed and there is no terminal to ask on; run: saml2sts login --profile f in a terminal, or pass --password-stdin and --mfa-code"},
		// A profile mistake, named with the inputs to choose from: exit 2.
		{name: "override names no input", shib: true, extra: []string{"--form-username-field", "username"}, stdin: password, code: 2, posts: 0,
			msg: `/idp/profile/SAML2/Unsolicited/SSO has no input named "username" (form_username_field); its inputs: j_username (text), j_password (password)`},
		{name: "wrong url", extra: []string{"--url", "REPLACE?spentityid=urn:other"}, stdin: password, code: 1, posts: 0,
			msg: `unexpected page "SimpleSAMLphp error" at `},
		{name: "keycloak update password", keycloak: "Update password", stdin: password, code: 1, posts: 1,
			msg: "the IdP wants a new password (the page has a form with several password fields): change it in a browser, then run again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				w  *world
				em formIdP
			)
			if tt.keycloak != "" {
				w = newWorld(t, func(ko *idptest.KeycloakOptions, _ *ststest.Options) { ko.RequiredAction = tt.keycloak })
				w.mustRun("", "configure", "--profile", "f", "--provider", "form", "--url", w.kc.URL(),
					"--username", "ana", "--region", "eu-west-1", "--role-arn", reader)
				em = w.kc
			} else {
				var s *idptest.SimpleSAML
				w, s = newFormWorld(t, tt.shib, tt.otp)
				em = s
				if len(tt.extra) > 0 {
					extra := append([]string(nil), tt.extra...)
					for i, e := range extra {
						if base, ok := strings.CutPrefix(e, "REPLACE"); ok {
							extra[i] = strings.SplitN(s.URL(), "?", 2)[0] + base
						}
					}
					w.mustRun("", append([]string{"configure", "--profile", "f"}, extra...)...)
				}
			}
			w.env["TMPDIR"] = w.dir // where --debug saves pages
			r := w.run(tt.stdin, append([]string{"--debug", "login", "--profile", "f", "--password-stdin"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.msg) {
				t.Fatalf("want exit %d with %q, got %s", tt.code, tt.msg, r)
			}
			if r.stdout != "" {
				t.Errorf("stdout: %q", r.stdout)
			}
			msgs := regexp.MustCompile(`(?m)^saml2sts: .*$`).FindAllString(r.stderr, -1)
			if len(msgs) != 1 {
				t.Errorf("want one error line, got %q", msgs)
			}
			if st := em.Stats(); st.PasswordPosts != tt.posts {
				t.Errorf("password posts = %d, want %d", st.PasswordPosts, tt.posts)
			}
			if tt.code == 1 {
				// --debug keeps a redacted copy of the page it could not pass.
				m := regexp.MustCompile(`redacted copy: ([^)]+)\)`).FindStringSubmatch(r.stderr)
				if m == nil {
					t.Fatalf("no saved page named: %s", r.stderr)
				}
				b, err := os.ReadFile(m[1])
				if err != nil || len(b) == 0 {
					t.Fatalf("saved page: %v", err)
				}
				noSecrets(t, w, em, string(b))
			}
			noSecrets(t, w, em, r.stdout+r.stderr)
		})
	}
}

// TestFormOptionsFromEnvironment: the form_* keys also come from the
// environment, and a bad selector is a configuration error (exit 2).
func TestFormOptionsFromEnvironment(t *testing.T) {
	t.Parallel()
	w, s := newFormWorld(t, true, false)
	w.env["SAML2STS_FORM_PASSWORD_FIELD"] = "j_pass"
	r := w.run(password, "login", "--profile", "f", "--password-stdin")
	if r.code != 2 || !strings.Contains(r.stderr, `no input named "j_pass" (form_password_field)`) {
		t.Fatalf("env override not used: %s", r)
	}
	w.env["SAML2STS_FORM_PASSWORD_FIELD"] = "j_password"
	w.env["SAML2STS_FORM_ERROR_SELECTOR"] = "section > p"
	w.mustRun(password, "login", "--profile", "f", "--password-stdin")
	if st := s.Stats(); st.PasswordPosts != 1 || st.Logins != 1 {
		t.Errorf("stats %+v", st)
	}
	if r := w.run("", "configure", "--profile", "f", "--form-error-selector", "div["); r.code != 2 || !strings.Contains(r.stderr, "is not a CSS selector") {
		t.Errorf("bad selector: %s", r)
	}
}

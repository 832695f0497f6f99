package form

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/sts"
)

const (
	user     = "alice"
	password = "s3cret-Pa55&<word>"
	goodCode = "314159"
	role     = "arn:aws:iam::123456789012:role/Reader,arn:aws:iam::123456789012:saml-provider/corp"
)

// prompter answers from a script and records what was asked.
type prompter struct {
	mu     sync.Mutex
	codes  []string
	secret string
	asked  []string
}

func (p *prompter) Secret(_ context.Context, label string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, "secret: "+label)
	if p.secret == "" {
		return "", idp.ErrNoTerminal
	}
	return p.secret, nil
}

func (p *prompter) Code(_ context.Context, label string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, "code: "+label)
	if len(p.codes) == 0 {
		return "", idp.ErrNoTerminal
	}
	c := p.codes[0]
	p.codes = p.codes[1:]
	return c, nil
}

func (p *prompter) Choose(context.Context, string, []string) (int, error) {
	return 0, idp.ErrNoTerminal
}

// debugger keeps what it is given.
type debugger struct{ pages map[string][]byte }

func (d *debugger) SavePage(name string, body []byte) string {
	if d.pages == nil {
		d.pages = map[string][]byte{}
	}
	d.pages[name] = body
	return "/tmp/" + name + ".html"
}

// emulator is what the tests need of every IdP emulator.
type emulator interface {
	URL() string
	Stats() idptest.Stats
	IssuedResponses() []string
	SessionCookies() []string
	ExpireSessions()
}

func keycloakIdP(theme string, kerberos, prefix bool) func(*testing.T, []idptest.User) emulator {
	return func(t *testing.T, users []idptest.User) emulator {
		k, err := idptest.NewKeycloak(idptest.KeycloakOptions{Theme: theme, Kerberos: kerberos, AuthPrefix: prefix, Users: users})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(k.Close)
		return k
	}
}

func simpleSAMLIdP(inQuery bool) func(*testing.T, []idptest.User) emulator {
	return func(t *testing.T, users []idptest.User) emulator {
		s, err := idptest.NewSimpleSAML(idptest.SimpleSAMLOptions{Users: users, AuthStateInQuery: inQuery})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
}

func shibbolethIdP(t *testing.T, users []idptest.User) emulator {
	s, err := idptest.NewShibboleth(idptest.SimpleSAMLOptions{Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

var idps = []struct {
	name  string
	start func(*testing.T, []idptest.User) emulator
	// wrongPassword and wrongCode are the IdP's own messages.
	wrongPassword, wrongCode string
}{
	{"keycloak-v2", keycloakIdP("v2", false, false), "Invalid username or password.", "Invalid authenticator code."},
	{"keycloak-v1", keycloakIdP("v1", false, false), "Invalid username or password.", "Invalid authenticator code."},
	{"keycloak-old", keycloakIdP("old", false, true), "Invalid username or password.", "Invalid authenticator code."},
	{"keycloak-kerberos", keycloakIdP("v2", true, false), "Invalid username or password.", "Invalid authenticator code."},
	{"simplesamlphp", simpleSAMLIdP(false),
		"Incorrect username or password Either no user with the given username could be found, or the password you gave was wrong. Please check the username and try again.",
		"Incorrect verification code The verification code you entered is not valid. Please try again."},
	{"simplesamlphp-2x", simpleSAMLIdP(true),
		"Incorrect username or password Either no user with the given username could be found, or the password you gave was wrong. Please check the username and try again.",
		"Incorrect verification code The verification code you entered is not valid. Please try again."},
	{"shibboleth", shibbolethIdP, "The password you entered was incorrect.", "The code you entered was incorrect."},
}

func users(otp bool) []idptest.User {
	u := idptest.User{Username: user, Password: password, Roles: []string{role}}
	if otp {
		u.OTP = []idptest.OTP{{ID: "otp-1", Label: "FreeOTP", Code: goodCode}}
	}
	return []idptest.User{u}
}

type run struct {
	req      *idp.Request
	prompt   *prompter
	debug    *debugger
	pwCalls  int
	jar      *idp.Jar
	password string
}

func newRun(t *testing.T, url string, jar *idp.Jar) *run {
	t.Helper()
	if jar == nil {
		var err error
		if jar, err = idp.NewJar(nil); err != nil {
			t.Fatal(err)
		}
	}
	r := &run{prompt: &prompter{}, debug: &debugger{}, jar: jar, password: password}
	r.req = &idp.Request{
		URL:      url,
		Username: user,
		Password: func(context.Context) (string, error) { r.pwCalls++; return r.password, nil },
		Prompt:   r.prompt,
		Client:   idp.NewClient(http.DefaultTransport, jar),
		Debug:    r.debug,
	}
	return r
}

func checkAssertion(t *testing.T, saml string) {
	t.Helper()
	a, err := sts.ParseResponse(saml)
	if err != nil {
		t.Fatalf("SAMLResponse does not parse: %v", err)
	}
	if len(a.Roles) != 1 || a.Roles[0].RoleARN != "arn:aws:iam::123456789012:role/Reader" {
		t.Errorf("roles = %+v", a.Roles)
	}
}

// TestEmulators logs in, unchanged, to every emulated IdP, with and
// without a one-time code, then again on the stored session.
func TestEmulators(t *testing.T) {
	for _, e := range idps {
		for _, otp := range []bool{false, true} {
			name := e.name
			if otp {
				name += "/otp"
			}
			t.Run(name, func(t *testing.T) {
				em := e.start(t, users(otp))
				r := newRun(t, em.URL(), nil)
				if otp {
					r.req.MFACode = " 314 159 " // spaces as apps show it
				}
				saml, err := New().Login(context.Background(), r.req)
				if err != nil {
					t.Fatalf("login: %v", err)
				}
				checkAssertion(t, saml)
				if issued := em.IssuedResponses(); len(issued) != 1 || issued[0] != saml {
					t.Errorf("returned SAMLResponse is not the one issued")
				}
				st := em.Stats()
				wantOTP := 0
				if otp {
					wantOTP = 1
				}
				if st.PasswordPosts != 1 || st.Logins != 1 || st.OTPPosts != wantOTP || st.Restarts != 0 {
					t.Errorf("stats = %+v", st)
				}
				if r.pwCalls != 1 || len(r.prompt.asked) != 0 {
					t.Errorf("password asked %d times, prompts %v", r.pwCalls, r.prompt.asked)
				}

				// Silent refresh: the session cookie makes the entry page
				// the SAML POST page; no password, no code.
				again := newRun(t, em.URL(), mustJar(t, r.jar.Export()))
				saml2, err := New().Login(context.Background(), again.req)
				if err != nil {
					t.Fatalf("refresh: %v", err)
				}
				checkAssertion(t, saml2)
				if again.pwCalls != 0 || len(again.prompt.asked) != 0 || em.Stats().SessionReuses != 1 || em.Stats().PasswordPosts != 1 {
					t.Errorf("refresh asked for secrets (%d, %v) or did not reuse the session: %+v", again.pwCalls, again.prompt.asked, em.Stats())
				}

				// An expired session falls back to the full login.
				em.ExpireSessions()
				third := newRun(t, em.URL(), mustJar(t, r.jar.Export()))
				third.prompt.codes = []string{goodCode}
				if _, err := New().Login(context.Background(), third.req); err != nil {
					t.Fatalf("login after expiry: %v", err)
				}
				if third.pwCalls != 1 || em.Stats().Logins != 2 {
					t.Errorf("after expiry: password calls %d, stats %+v", third.pwCalls, em.Stats())
				}
				if otp && (len(third.prompt.asked) != 1 || !strings.HasPrefix(third.prompt.asked[0], "code: ")) {
					t.Errorf("prompts after expiry = %v, want one code prompt", third.prompt.asked)
				}
			})
		}
	}
}

// TestEmulatorFailures checks the refusals: the IdP's text, exit-3 type,
// exactly one password post, and no secret in the error.
func TestEmulatorFailures(t *testing.T) {
	for _, e := range idps {
		t.Run(e.name+"/wrong-password", func(t *testing.T) {
			em := e.start(t, users(false))
			r := newRun(t, em.URL(), nil)
			r.password = "wrong-" + password
			_, err := New().Login(context.Background(), r.req)
			var ae *idp.AuthError
			if !errors.As(err, &ae) || ae.Message != e.wrongPassword {
				t.Fatalf("err = %v, want AuthError %q", err, e.wrongPassword)
			}
			if st := em.Stats(); st.PasswordPosts != 1 || st.Logins != 0 {
				t.Errorf("stats = %+v: the password must be posted exactly once", st)
			}
			if strings.Contains(err.Error(), r.password) {
				t.Errorf("error leaks the password: %v", err)
			}
		})
		t.Run(e.name+"/unknown-user", func(t *testing.T) {
			em := e.start(t, users(false))
			r := newRun(t, em.URL(), nil)
			r.req.Username = "mallory"
			_, err := New().Login(context.Background(), r.req)
			var ae *idp.AuthError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want AuthError", err)
			}
			if st := em.Stats(); st.PasswordPosts != 1 {
				t.Errorf("stats = %+v", st)
			}
		})
		t.Run(e.name+"/wrong-code", func(t *testing.T) {
			em := e.start(t, users(true))
			r := newRun(t, em.URL(), nil)
			r.req.MFACode = "000000"
			r.prompt.codes = []string{"111111"} // must not be asked: one try per login
			_, err := New().Login(context.Background(), r.req)
			var ae *idp.AuthError
			if !errors.As(err, &ae) || ae.Message != e.wrongCode {
				t.Fatalf("err = %v, want AuthError %q", err, e.wrongCode)
			}
			if st := em.Stats(); st.OTPPosts != 1 || st.PasswordPosts != 1 {
				t.Errorf("stats = %+v", st)
			}
			if len(r.prompt.asked) != 0 {
				t.Errorf("prompted %v after a refused code", r.prompt.asked)
			}
		})
		t.Run(e.name+"/code-without-terminal", func(t *testing.T) {
			em := e.start(t, users(true))
			r := newRun(t, em.URL(), nil)
			_, err := New().Login(context.Background(), r.req)
			if !errors.Is(err, idp.ErrNoTerminal) {
				t.Fatalf("err = %v, want ErrNoTerminal", err)
			}
			if st := em.Stats(); st.OTPPosts != 0 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func mustJar(t *testing.T, saved []byte) *idp.Jar {
	t.Helper()
	j, err := idp.NewJar(saved)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

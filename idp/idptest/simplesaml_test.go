package idptest_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/idptest"
)

// follow GETs Location while p is a redirect, as a browser does.
func (b *browser) follow(t *testing.T, p *page) *page {
	t.Helper()
	for i := 0; p.status >= 300 && p.status < 400; i++ {
		if i > 5 {
			t.Fatalf("redirect loop at %s", p.url)
		}
		loc, err := p.url.Parse(p.header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		p = b.mustGet(t, loc.String())
	}
	return p
}

func newSimpleSAML(t *testing.T, shib bool, o idptest.SimpleSAMLOptions) *idptest.SimpleSAML {
	t.Helper()
	start := idptest.NewSimpleSAML
	if shib {
		start = idptest.NewShibboleth
	}
	s, err := start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

const sspErrorText = "Incorrect username or password Either no user with the given username could be found, or the password you gave was wrong. Please check the username and try again."

func TestSimpleSAMLLogin(t *testing.T) {
	for _, inQuery := range []bool{false, true} {
		for _, u := range []idptest.User{alice, carol} {
			name := u.Username
			if inQuery {
				name += "/2.x"
			}
			t.Run(name, func(t *testing.T) {
				s := newSimpleSAML(t, false, idptest.SimpleSAMLOptions{Users: users, AuthStateInQuery: inQuery})
				if !strings.HasPrefix(s.URL(), s.BaseURL()+"/simplesaml/saml2/idp/SSOService.php?spentityid=urn%3Aamazon%3Awebservices") {
					t.Fatalf("URL() = %s", s.URL())
				}
				b := newBrowser()
				p := b.mustGet(t, s.URL()+"&RelayState=r%26s")
				if p.status != http.StatusFound {
					t.Fatalf("SSOService status %d, want 302", p.status)
				}
				if c := cookie(p, "SimpleSAMLSessionID"); c == nil || c.Path != "/" || !c.HttpOnly {
					t.Errorf("session cookie = %+v", c)
				}
				loc, _ := url.Parse(p.header.Get("Location"))
				if loc.Path != "/simplesaml/module.php/core/loginuserpass.php" || loc.Query().Get("AuthState") == "" {
					t.Fatalf("redirected to %s", loc)
				}
				p = b.follow(t, p)
				if title(p) != "Enter your username and password" || p.doc.Find("form#f input[name=username][autocomplete=username]").Length() != 1 ||
					p.doc.Find("form#f input[name=password][type=password]").Length() != 1 {
					t.Fatalf("login page %q lacks the SimpleSAMLphp form", title(p))
				}
				hidden := p.doc.Find("form#f input[type=hidden][name=AuthState]").Length()
				action := p.doc.Find("form#f").AttrOr("action", "")
				if inQuery && (hidden != 0 || !strings.Contains(action, "AuthState=")) || !inQuery && hidden != 1 {
					t.Errorf("AuthState: %d hidden inputs, action %q", hidden, action)
				}

				p = b.mustSubmit(t, p, "form#f", map[string]string{"username": u.Username, "password": u.Password})
				if p.status != http.StatusSeeOther {
					t.Fatalf("login post status %d, want 303; page %q says %q", p.status, title(p), text(p, ".message-box"))
				}
				p = b.follow(t, p)
				if len(u.OTP) > 0 {
					if p.doc.Find("input[name=code][inputmode=numeric]").Length() != 1 {
						t.Fatalf("no code page: %q", title(p))
					}
					p = b.follow(t, b.mustSubmit(t, p, "form", map[string]string{"code": u.OTP[0].Code}))
				}
				b64 := samlResponse(p)
				if b64 == "" {
					t.Fatalf("no SAMLResponse; page %q", title(p))
				}
				if got := p.doc.Find(`input[name="RelayState"]`).AttrOr("value", ""); got != "r&s" {
					t.Errorf("RelayState = %q", got)
				}
				checkAssertion(t, b64, s.Certificate(), want{
					dest: "https://signin.aws.amazon.com/saml", issuer: s.BaseURL() + "/simplesaml/saml2/idp/metadata.php",
					nameID: u.Username, sessionName: u.Username, roles: u.Roles, notOnOrAfter: within(5 * time.Minute),
				})
				otp := 0
				if len(u.OTP) > 0 {
					otp = 1
				}
				if got, want := s.Stats(), (idptest.Stats{PasswordPosts: 1, Logins: 1, OTPPosts: otp, SAMLIssued: 1}); got != want {
					t.Errorf("Stats = %+v, want %+v", got, want)
				}
				// The resume URL works once.
				if again := b.mustGet(t, p.url.String()); again.status != http.StatusForbidden || !strings.Contains(again.body, "State information lost") {
					t.Errorf("resume replay: %d %q", again.status, title(again))
				}

				// The session cookies skip the login.
				p = b.mustGet(t, s.URL())
				if p.status != http.StatusOK || samlResponse(p) == "" || s.Stats().SessionReuses != 1 {
					t.Fatalf("session reuse: status %d, stats %+v", p.status, s.Stats())
				}
				if issued := s.IssuedResponses(); len(issued) != 2 || issued[1] != samlResponse(p) {
					t.Errorf("IssuedResponses = %d", len(issued))
				}
				if len(s.SessionCookies()) != 2 || len(s.AuthStates()) != 1 {
					t.Errorf("cookies %d, states %d", len(s.SessionCookies()), len(s.AuthStates()))
				}
				s.ExpireSessions()
				if p = b.mustGet(t, s.URL()); p.status != http.StatusFound {
					t.Errorf("after ExpireSessions: status %d, want the login again", p.status)
				}
			})
		}
	}
}

func TestSimpleSAMLErrors(t *testing.T) {
	s := newSimpleSAML(t, false, idptest.SimpleSAMLOptions{Users: users})
	b := newBrowser()
	login := b.follow(t, b.mustGet(t, s.URL()))

	p := b.mustSubmit(t, login, "form#f", map[string]string{"username": "alice", "password": "Wr0ng-Pw!"})
	if p.status != http.StatusOK || text(p, ".message-box.error") == "" ||
		strings.Join(strings.Fields(text(p, ".message-box.error")), " ") != sspErrorText {
		t.Errorf("wrong password: %d %q", p.status, text(p, ".message-box.error"))
	}
	if got := p.doc.Find("input[name=username]").AttrOr("value", ""); got != "alice" {
		t.Errorf("username not kept: %q", got)
	}
	if strings.Contains(p.body, "Wr0ng-Pw!") {
		t.Errorf("page echoes the password")
	}
	// The same AuthState still works after a failure.
	p = b.mustSubmit(t, p, "form#f", map[string]string{"username": "alice", "password": alice.Password})
	if p.status != http.StatusSeeOther {
		t.Errorf("retry with the right password: %d", p.status)
	}

	tests := []struct {
		name, path string
		post       url.Values
		noCookie   bool
		status     int
		want       string
	}{
		{"no AuthState", "/simplesaml/module.php/core/loginuserpass.php", nil, false, 400, "Missing AuthState parameter."},
		{"unknown AuthState", "/simplesaml/module.php/core/loginuserpass.php?AuthState=_x", nil, false, 403, "State information lost"},
		{"other SP", "/simplesaml/saml2/idp/SSOService.php?spentityid=urn:other", nil, false, 500, "Unable to locate metadata for &#39;urn:other&#39;"},
		{"unknown page", "/simplesaml/admin/", nil, false, 404, "The given page was not found."},
		{"code without login", "/simplesaml/module.php/simpletotp/authenticate.php?StateId=_x", nil, false, 403, "State information lost"},
	}
	for _, tt := range tests {
		p := b.mustGet(t, s.BaseURL()+tt.path)
		if p.status != tt.status || !strings.Contains(p.body, tt.want) {
			t.Errorf("%s: %d, want %d with %q", tt.name, p.status, tt.status, tt.want)
		}
	}

	// Cookies are required, as SimpleSAMLphp's session is.
	nb := newBrowser()
	fresh := nb.follow(t, nb.mustGet(t, s.URL()))
	nb.c.Jar, _ = newJar()
	if p := nb.mustSubmit(t, fresh, "form#f", map[string]string{"username": "alice", "password": alice.Password}); p.status != 403 || !strings.Contains(p.body, "Missing cookie") {
		t.Errorf("no cookie: %d %q", p.status, title(p))
	}

	// A wrong code shows the code page again.
	cb := newBrowser()
	cp := cb.follow(t, cb.mustSubmit(t, cb.follow(t, cb.mustGet(t, s.URL())), "form#f", map[string]string{"username": "carol", "password": carol.Password}))
	cp = cb.mustSubmit(t, cp, "form", map[string]string{"code": "000000"})
	if got := strings.Join(strings.Fields(text(cp, ".message-box.error")), " "); got != "Incorrect verification code The verification code you entered is not valid. Please try again." {
		t.Errorf("wrong code: %q", got)
	}
	if st := s.Stats(); st.PasswordPosts != 3 || st.Logins != 2 || st.OTPPosts != 1 || st.SAMLIssued != 0 || st.Restarts != 2 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestShibbolethLogin(t *testing.T) {
	for _, u := range []idptest.User{alice, carol} {
		t.Run(u.Username, func(t *testing.T) {
			s := newSimpleSAML(t, true, idptest.SimpleSAMLOptions{Users: users})
			if want := s.BaseURL() + "/idp/profile/SAML2/Unsolicited/SSO?providerId=urn%3Aamazon%3Awebservices"; s.URL() != want {
				t.Fatalf("URL() = %s", s.URL())
			}
			b := newBrowser()
			p := b.mustGet(t, s.URL()+"&target=r%26s")
			if p.status != http.StatusFound || p.header.Get("Location") != "/idp/profile/SAML2/Unsolicited/SSO?execution=e1s1" {
				t.Fatalf("start: %d %s", p.status, p.header.Get("Location"))
			}
			if c := cookie(p, "JSESSIONID"); c == nil || c.Path != "/idp" {
				t.Errorf("JSESSIONID = %+v", c)
			}
			p = b.follow(t, p)
			if title(p) != "Loading Session Information" || p.doc.Find("body[onload]").Length() != 1 {
				t.Fatalf("storage page: %q", title(p))
			}
			p = b.follow(t, b.mustSubmit(t, p, "form", nil))
			if p.doc.Find("input[name=j_username]").Length() != 1 || p.doc.Find("button[name=_eventId_proceed]").Length() != 1 {
				t.Fatalf("login page: %q", title(p))
			}
			p = b.follow(t, b.mustSubmit(t, p, "form", map[string]string{"j_username": u.Username, "j_password": u.Password, "_eventId_proceed": ""}))
			if len(u.OTP) > 0 {
				if p.doc.Find("input[name=j_tokenNumber]").Length() != 1 {
					t.Fatalf("no token page: %q", title(p))
				}
				p = b.follow(t, b.mustSubmit(t, p, "form", map[string]string{"j_tokenNumber": u.OTP[0].Code, "_eventId_proceed": ""}))
			}
			if title(p) != "Saving Session Information" {
				t.Fatalf("storage write page: %q", title(p))
			}
			p = b.mustSubmit(t, p, "form", nil)
			b64 := samlResponse(p)
			if b64 == "" || cookie(p, "shib_idp_session") == nil {
				t.Fatalf("no SAMLResponse or session; page %q", title(p))
			}
			checkAssertion(t, b64, s.Certificate(), want{
				dest: "https://signin.aws.amazon.com/saml", issuer: s.BaseURL() + "/idp/shibboleth",
				nameID: u.Username, sessionName: u.Username, roles: u.Roles, notOnOrAfter: within(5 * time.Minute),
			})
			if got := p.doc.Find(`input[name="RelayState"]`).AttrOr("value", ""); got != "r&s" {
				t.Errorf("RelayState = %q", got)
			}
			p = b.mustGet(t, s.URL())
			if samlResponse(p) == "" || s.Stats().SessionReuses != 1 {
				t.Errorf("session reuse failed: %+v", s.Stats())
			}
		})
	}
}

func TestShibbolethErrors(t *testing.T) {
	s := newSimpleSAML(t, true, idptest.SimpleSAMLOptions{Users: users})
	b := newBrowser()
	login := b.follow(t, b.mustSubmit(t, b.follow(t, b.mustGet(t, s.URL())), "form", nil))

	// No _eventId_proceed: the flow does not move and nothing is counted.
	p := b.mustSubmit(t, login, "form", map[string]string{"j_username": "alice", "j_password": alice.Password})
	if p.status != http.StatusOK || p.doc.Find("input[name=j_password]").Length() != 1 || s.Stats().PasswordPosts != 0 {
		t.Errorf("post without event: %d %+v", p.status, s.Stats())
	}
	p = b.follow(t, b.mustSubmit(t, login, "form", map[string]string{"j_username": "alice", "j_password": "nope", "_eventId_proceed": ""}))
	if got := text(p, "p.form-error"); got != "The password you entered was incorrect." {
		t.Errorf("wrong password: %q", got)
	}
	p = b.follow(t, b.mustSubmit(t, p, "form", map[string]string{"j_username": "zed", "j_password": "x", "_eventId_proceed": ""}))
	if got := text(p, "p.form-error"); got != "The username you entered cannot be identified." {
		t.Errorf("unknown user: %q", got)
	}
	// The old snapshot is stale now.
	p = b.mustSubmit(t, login, "form", map[string]string{"j_username": "alice", "j_password": alice.Password, "_eventId_proceed": ""})
	if !strings.Contains(title(p)+text(p, "h2"), "Stale Request") {
		t.Errorf("stale snapshot: %q", text(p, "h2"))
	}
	if p := b.mustGet(t, s.BaseURL()+"/idp/profile/SAML2/Unsolicited/SSO?providerId=urn:other"); !strings.Contains(text(p, "h2"), "Unsupported Request") {
		t.Errorf("other SP: %q", text(p, "h2"))
	}
	// Another browser cannot continue this flow.
	other := newBrowser()
	if p := other.mustGet(t, s.BaseURL()+"/idp/profile/SAML2/Unsolicited/SSO?execution=e1s4"); !strings.Contains(text(p, "h2"), "Stale Request") {
		t.Errorf("foreign JSESSIONID: %q", text(p, "h2"))
	}
	if st := s.Stats(); st.PasswordPosts != 2 || st.Logins != 0 || st.Restarts != 2 {
		t.Errorf("Stats = %+v", st)
	}
}

func newJar() (http.CookieJar, error) { return cookiejar.New(nil) }

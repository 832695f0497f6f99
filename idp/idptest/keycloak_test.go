package idptest_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/idptest"
)

var (
	roleReader = "arn:aws:iam::123456789012:role/SearchReader,arn:aws:iam::123456789012:saml-provider/corp"
	roleAdmin  = "arn:aws:iam::123456789012:role/Admin,arn:aws:iam::123456789012:saml-provider/corp"

	alice = idptest.User{Username: "alice", Password: "correct horse", Roles: []string{roleReader, roleAdmin}}
	carol = idptest.User{Username: "carol", Password: "pw", Roles: []string{roleReader},
		OTP: []idptest.OTP{{ID: "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", Label: "FreeOTP", Code: "123456"}}}
	dave = idptest.User{Username: "dave", Password: "pw", Roles: []string{roleReader},
		OTP: []idptest.OTP{
			{ID: "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", Label: "FreeOTP", Code: "111111"},
			{ID: "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb", Label: "Google Authenticator", Code: "222222"},
		}}
	erin    = idptest.User{Username: "erin", Password: "pw", Disabled: true}
	frank   = idptest.User{Username: "frank", Password: "pw", WebAuthnOnly: true, OTP: carol.OTP}
	users   = []idptest.User{alice, carol, dave, erin, frank}
	themes  = []string{"v2", "v1", "old"}
	otpName = map[string]string{"v2": "otp", "v1": "otp", "old": "totp"}
	otpForm = map[string]string{"v2": "form#kc-otp-login-form", "v1": "form#kc-otp-login-form", "old": "form#kc-totp-login-form"}
	// where each theme shows "Invalid username or password." and friends
	loginError = map[string]string{"v2": "div#input-error-username", "v1": "span#input-error", "old": "div.alert-error .kc-feedback-text"}
	otpError   = map[string]string{"v2": "#input-error-otp-code", "v1": "span#input-error-otp-code", "old": "div.alert-error .kc-feedback-text"}
	alertSel   = map[string]string{"v2": ".pf-v5-c-alert .kc-feedback-text", "v1": ".alert-error .kc-feedback-text", "old": "div.alert-error .kc-feedback-text"}
)

func within(d time.Duration) [2]time.Time {
	now := time.Now()
	return [2]time.Time{now.Add(d - 5*time.Second), now.Add(d + 5*time.Second)}
}

func TestLoginSuccess(t *testing.T) {
	tests := []struct {
		theme      string
		authPrefix bool
		realm      string
		// markers of the theme generation on the login page
		markers []string
		code    string // action parameter carrying the flow code
	}{
		{"v2", false, "", []string{"form#kc-form-login.pf-v5-c-form", "button#kc-login[name=login][type=submit]"}, "session_code"},
		{"v1", false, "", []string{"input#kc-login[type=submit][value]", "input#id-hidden-input[name=credentialId]"}, "session_code"},
		{"old", false, "", []string{"form#kc-form-login.form-horizontal", "input#rememberMe", "input#kc-login[type=submit]"}, "code"},
		{"v2", true, "", []string{"button#kc-login"}, "session_code"},
		{"v1", true, "master", []string{"input#kc-login[type=submit]"}, "session_code"},
		{"old", true, "master", []string{"input#rememberMe"}, "code"},
	}
	for _, tt := range tests {
		name := tt.theme
		if tt.authPrefix {
			name += "/auth"
		}
		t.Run(name, func(t *testing.T) {
			k := newKeycloak(t, idptest.KeycloakOptions{Theme: tt.theme, AuthPrefix: tt.authPrefix, Realm: tt.realm, Users: users})
			realm := tt.realm
			if realm == "" {
				realm = "corp"
			}
			realmPath := "/realms/" + realm
			if tt.authPrefix {
				realmPath = "/auth" + realmPath
			}
			if want := k.BaseURL() + realmPath + "/protocol/saml/clients/aws"; k.URL() != want {
				t.Fatalf("URL() = %q, want %q", k.URL(), want)
			}
			if !strings.HasPrefix(k.BaseURL(), "http://127.0.0.1:") {
				t.Errorf("BaseURL() = %q, want loopback", k.BaseURL())
			}

			b := newBrowser()
			p := b.mustGet(t, k.URL()+"?RelayState=r%26s")
			if p.status != http.StatusOK {
				t.Fatalf("login page status %d", p.status)
			}
			for _, m := range tt.markers {
				if p.doc.Find(m).Length() == 0 {
					t.Errorf("login page lacks %s", m)
				}
			}
			if c := cookie(p, "AUTH_SESSION_ID"); c == nil || c.Path != realmPath+"/" || !c.HttpOnly {
				t.Errorf("AUTH_SESSION_ID cookie = %+v", c)
			}
			action := p.doc.Find("form#kc-form-login").AttrOr("action", "")
			u, err := url.Parse(action)
			if err != nil || u.Path != realmPath+"/login-actions/authenticate" {
				t.Fatalf("form action %q", action)
			}
			q := u.Query()
			if q.Get(tt.code) == "" || q.Get("execution") == "" || q.Get("client_id") != "urn:amazon:webservices" {
				t.Errorf("form action query %v", q)
			}
			if strings.Contains(p.body, "&execution=") {
				t.Errorf("form action is not HTML-escaped (raw & in the page)")
			}

			p = b.mustSubmit(t, p, "form#kc-form-login", map[string]string{"username": "alice", "password": "correct horse"})
			b64 := samlResponse(p)
			if b64 == "" {
				t.Fatalf("no SAMLResponse after a good password; page %q", title(p))
			}
			form := p.doc.Find("form")
			if got := form.AttrOr("action", ""); got != "https://signin.aws.amazon.com/saml" {
				t.Errorf("POST page action = %q", got)
			}
			if got := p.doc.Find(`input[name="RelayState"]`).AttrOr("value", ""); got != "r&s" {
				t.Errorf("RelayState = %q, want r&s", got)
			}
			if strings.Contains(p.body, "&#43;") {
				t.Errorf("SAMLResponse is entity-escaped; Keycloak emits raw base64")
			}
			for _, name := range []string{"KEYCLOAK_IDENTITY", "KEYCLOAK_SESSION"} {
				c := cookie(p, name)
				if c == nil || c.Value == "" || c.Path != realmPath+"/" || !c.HttpOnly {
					t.Errorf("%s cookie = %+v, want HttpOnly with path %s/", name, c, realmPath)
				}
			}
			checkAssertion(t, b64, k.Certificate(), want{
				dest: "https://signin.aws.amazon.com/saml", issuer: k.BaseURL() + realmPath,
				nameID: "alice", sessionName: "alice", roles: alice.Roles, notOnOrAfter: within(5 * time.Minute),
			})
			if got, want := k.Stats(), (idptest.Stats{PasswordPosts: 1, Logins: 1, SAMLIssued: 1}); got != want {
				t.Errorf("Stats = %+v, want %+v", got, want)
			}
		})
	}
}

func TestLoginErrors(t *testing.T) {
	tests := []struct {
		name, user, pass, want string
	}{
		{"wrong password", "alice", "wrong", "Invalid username or password."},
		{"unknown user", "mallory", "x", "Invalid username or password."},
		{"empty", "", "", "Invalid username or password."},
		{"disabled", "erin", "pw", "Account is disabled, contact your administrator."},
		{"disabled, wrong password", "erin", "nope", "Account is disabled, contact your administrator."},
		{"markup in username", `a"b<c>`, "x", "Invalid username or password."},
	}
	for _, theme := range themes {
		for _, tt := range tests {
			t.Run(theme+"/"+tt.name, func(t *testing.T) {
				k := newKeycloak(t, idptest.KeycloakOptions{Theme: theme, Users: users})
				b := newBrowser()
				p := b.mustGet(t, k.URL())
				p = b.mustSubmit(t, p, "form#kc-form-login", map[string]string{"username": tt.user, "password": tt.pass})
				if p.status != http.StatusOK {
					t.Errorf("status %d, want 200 (Keycloak errors are 200 pages)", p.status)
				}
				if got := text(p, loginError[theme]); got != tt.want {
					t.Errorf("%s = %q, want %q", loginError[theme], got, tt.want)
				}
				if got := p.doc.Find("input#username").AttrOr("value", "?"); got != tt.user {
					t.Errorf("username not echoed back: %q", got)
				}
				if samlResponse(p) != "" {
					t.Error("SAMLResponse issued after a failed login")
				}
				// The fresh form still works.
				p = b.mustSubmit(t, p, "form#kc-form-login", map[string]string{"username": "alice", "password": "correct horse"})
				if samlResponse(p) == "" {
					t.Errorf("retry after an error does not log in; page %q", title(p))
				}
				if got, want := k.Stats(), (idptest.Stats{PasswordPosts: 2, Logins: 1, SAMLIssued: 1}); got != want {
					t.Errorf("Stats = %+v, want %+v", got, want)
				}
			})
		}
	}
}

func TestOTP(t *testing.T) {
	for _, theme := range themes {
		t.Run(theme, func(t *testing.T) {
			k := newKeycloak(t, idptest.KeycloakOptions{Theme: theme, Users: users})
			b := newBrowser()
			p := b.mustGet(t, k.URL())
			p = b.mustSubmit(t, p, "form#kc-form-login", map[string]string{"username": "carol", "password": "pw"})
			if p.doc.Find(otpForm[theme]).Length() != 1 || p.doc.Find("input#"+otpName[theme]).Length() != 1 {
				t.Fatalf("no %s with input#%s after the password; page %q", otpForm[theme], otpName[theme], title(p))
			}
			if n := p.doc.Find(`input[name="selectedCredentialId"]`).Length(); n != 0 {
				t.Errorf("%d credential radios for a single authenticator", n)
			}
			if theme != "old" && text(p, "#kc-attempted-username") != "carol" {
				t.Errorf("attempted username not shown")
			}

			p = b.mustSubmit(t, p, otpForm[theme], map[string]string{otpName[theme]: "000000"})
			if got := text(p, otpError[theme]); got != "Invalid authenticator code." {
				t.Errorf("%s = %q after a wrong code", otpError[theme], got)
			}
			if samlResponse(p) != "" {
				t.Fatal("SAMLResponse issued for a wrong code")
			}
			p = b.mustSubmit(t, p, otpForm[theme], map[string]string{otpName[theme]: "123456"})
			if samlResponse(p) == "" {
				t.Fatalf("no SAMLResponse after the right code; page %q", title(p))
			}
			if got, want := k.Stats(), (idptest.Stats{PasswordPosts: 1, Logins: 1, OTPPosts: 2, SAMLIssued: 1}); got != want {
				t.Errorf("Stats = %+v, want %+v", got, want)
			}
		})
	}
}

func TestOTPFieldNameIsStrict(t *testing.T) {
	// Keycloak 8 renamed totp to otp; a client that sends the other
	// generation's field is told the code is wrong.
	k := newKeycloak(t, idptest.KeycloakOptions{Theme: "v1", Users: users})
	b := newBrowser()
	p := b.mustGet(t, k.URL())
	p = b.mustSubmit(t, p, "form#kc-form-login", map[string]string{"username": "carol", "password": "pw"})
	p = b.mustSubmit(t, p, "form#kc-otp-login-form", map[string]string{"totp": "123456"})
	if got := text(p, otpError["v1"]); got != "Invalid authenticator code." {
		t.Errorf("totp on a v1 page: error %q", got)
	}
}

func TestOTPCancel(t *testing.T) {
	k := newKeycloak(t, idptest.KeycloakOptions{Theme: "old", Users: users})
	b := newBrowser()
	p := b.mustGet(t, k.URL())
	p = b.mustSubmit(t, p, "form#kc-form-login", map[string]string{"username": "carol", "password": "pw"})
	p = b.mustSubmit(t, p, "form#kc-totp-login-form", map[string]string{"totp": "123456", "cancel": "Cancel"})
	if p.doc.Find("form#kc-form-login").Length() != 1 || samlResponse(p) != "" {
		t.Errorf("posting cancel did not reset to the login form; page %q", title(p))
	}
}

func TestTwoAuthenticators(t *testing.T) {
	for _, theme := range themes {
		t.Run(theme, func(t *testing.T) {
			k := newKeycloak(t, idptest.KeycloakOptions{Theme: theme, Users: users})
			b := newBrowser()
			p := b.mustGet(t, k.URL())
			p = b.mustSubmit(t, p, "form#kc-form-login", map[string]string{"username": "dave", "password": "pw"})
			radios := p.doc.Find(`input[type="radio"][name="selectedCredentialId"]`)
			if radios.Length() != 2 {
				t.Fatalf("%d credential radios, want 2", radios.Length())
			}
			if _, ok := p.doc.Find("#kc-otp-credential-0").Attr("checked"); !ok {
				t.Error("first authenticator is not preselected")
			}
			if got := text(p, `label[for="kc-otp-credential-1"]`); got != "Google Authenticator" {
				t.Errorf("second label = %q", got)
			}
			second := p.doc.Find("#kc-otp-credential-1").AttrOr("value", "")
			if second != dave.OTP[1].ID {
				t.Errorf("second radio value = %q, want the credential id", second)
			}

			// The second device's code is wrong for the preselected first one.
			p = b.mustSubmit(t, p, otpForm[theme], map[string]string{otpName[theme]: "222222"})
			if samlResponse(p) != "" {
				t.Fatal("code of authenticator 2 accepted for authenticator 1")
			}
			p = b.mustSubmit(t, p, otpForm[theme], map[string]string{otpName[theme]: "222222", "selectedCredentialId": second})
			if samlResponse(p) == "" {
				t.Fatalf("no SAMLResponse after choosing the second authenticator; page %q", title(p))
			}
		})
	}
}

func TestKerberos(t *testing.T) {
	for _, follow := range []string{"GET", "POST"} { // saml2aws GETs the action; browsers POST it
		t.Run(follow, func(t *testing.T) {
			k := newKeycloak(t, idptest.KeycloakOptions{Kerberos: true, Users: users})
			b := newBrowser()
			p := b.mustGet(t, k.URL())
			if p.status != http.StatusUnauthorized || p.header.Get("WWW-Authenticate") != "Negotiate" {
				t.Fatalf("first GET: status %d, WWW-Authenticate %q", p.status, p.header.Get("WWW-Authenticate"))
			}
			if title(p) != "Kerberos Unsupported" {
				t.Errorf("title %q", title(p))
			}
			action := p.doc.Find("form").AttrOr("action", "")
			if !strings.Contains(action, "/realms/corp/login-actions/authenticate?") {
				t.Fatalf("Kerberos form action %q", action)
			}
			if follow == "GET" {
				p = b.mustGet(t, action)
			} else {
				p = b.mustSubmit(t, p, "form", nil)
			}
			if p.status != http.StatusOK || p.doc.Find("form#kc-form-login").Length() != 1 {
				t.Fatalf("after Kerberos: status %d, page %q", p.status, title(p))
			}
			p = b.mustSubmit(t, p, "form#kc-form-login", map[string]string{"username": "alice", "password": "correct horse"})
			if samlResponse(p) == "" {
				t.Fatal("no SAMLResponse")
			}
		})
	}
}

func TestSessionReuse(t *testing.T) {
	k := newKeycloak(t, idptest.KeycloakOptions{Users: users})
	b := newBrowser()
	first, err := b.login(k, "carol", "pw", "123456")
	if err != nil {
		t.Fatal(err)
	}
	p := b.mustGet(t, k.URL())
	b64 := samlResponse(p)
	if b64 == "" {
		t.Fatalf("SSO session not reused; page %q", title(p))
	}
	if got := k.IssuedResponses(); !slices.Equal(got, []string{samlResponse(first), b64}) {
		t.Errorf("IssuedResponses has %d entries, want the 2 served", len(got))
	}
	set := k.SessionCookies()
	for _, name := range []string{"KEYCLOAK_IDENTITY", "KEYCLOAK_SESSION", "AUTH_SESSION_ID", "KC_RESTART"} {
		if c := cookie(first, name); c != nil && c.Value != "" && !slices.Contains(set, c.Value) {
			t.Errorf("SessionCookies lacks the %s value", name)
		}
	}
	if c := cookie(first, "KEYCLOAK_IDENTITY"); c == nil || !slices.Contains(set, c.Value) {
		t.Errorf("SessionCookies lacks KEYCLOAK_IDENTITY")
	}
	checkAssertion(t, b64, k.Certificate(), want{
		dest: "https://signin.aws.amazon.com/saml", issuer: k.BaseURL() + "/realms/corp",
		nameID: "carol", sessionName: "carol", roles: carol.Roles, notOnOrAfter: within(5 * time.Minute),
	})
	if got, want := k.Stats(), (idptest.Stats{PasswordPosts: 1, Logins: 1, OTPPosts: 1, SAMLIssued: 2, SessionReuses: 1}); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}

	// Another browser has no session.
	if p := newBrowser().mustGet(t, k.URL()); p.doc.Find("form#kc-form-login").Length() != 1 {
		t.Errorf("a fresh cookie jar got %q, want the login page", title(p))
	}

	k.ExpireSessions()
	p = b.mustGet(t, k.URL())
	if p.doc.Find("form#kc-form-login").Length() != 1 {
		t.Fatalf("after ExpireSessions got %q, want the login page", title(p))
	}
	if c := cookie(p, "KEYCLOAK_IDENTITY"); c == nil || c.MaxAge >= 0 {
		t.Errorf("stale KEYCLOAK_IDENTITY not cleared: %+v", c)
	}
	if got := k.Stats().SessionReuses; got != 1 {
		t.Errorf("SessionReuses = %d after expiry, want 1", got)
	}
}

func TestStaleCode(t *testing.T) {
	for _, theme := range themes {
		t.Run(theme, func(t *testing.T) {
			k := newKeycloak(t, idptest.KeycloakOptions{Theme: theme, Users: users})
			b := newBrowser()
			first := b.mustGet(t, k.URL())
			// An error page rotates the code, so the first form is now stale.
			b.mustSubmit(t, first, "form#kc-form-login", map[string]string{"username": "alice", "password": "wrong"})
			p := b.mustSubmit(t, first, "form#kc-form-login", map[string]string{"username": "alice", "password": "correct horse"})
			const msg = "Your login attempt timed out. Login will start from the beginning."
			if got := text(p, alertSel[theme]); got != msg {
				t.Errorf("stale code: alert %q, want %q", got, msg)
			}
			if samlResponse(p) != "" {
				t.Fatal("stale code logged in")
			}
			if got := k.Stats(); got.Restarts != 1 || got.PasswordPosts != 1 {
				t.Errorf("Stats = %+v, want 1 restart and 1 counted password post", got)
			}
			// The restarted flow works.
			p = b.mustSubmit(t, p, "form#kc-form-login", map[string]string{"username": "alice", "password": "correct horse"})
			if samlResponse(p) == "" {
				t.Errorf("login after restart failed; page %q", title(p))
			}
		})
	}
}

func TestNoCookies(t *testing.T) {
	k := newKeycloak(t, idptest.KeycloakOptions{Users: users})
	p := newBrowser().mustGet(t, k.URL())
	action := p.doc.Find("form#kc-form-login").AttrOr("action", "")
	resp, err := http.PostForm(action, url.Values{"username": {"alice"}, "password": {"correct horse"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST without cookies: status %d, want 400", resp.StatusCode)
	}
	if got := k.Stats(); got.PasswordPosts != 0 || got.SAMLIssued != 0 {
		t.Errorf("Stats = %+v", got)
	}
}

func TestNotFound(t *testing.T) {
	k := newKeycloak(t, idptest.KeycloakOptions{Users: users})
	kAuth := newKeycloak(t, idptest.KeycloakOptions{AuthPrefix: true, Users: users})
	tests := []struct{ name, url, contains string }{
		{"unknown realm", k.BaseURL() + "/realms/other/protocol/saml/clients/aws", "Realm does not exist"},
		{"unknown client", k.BaseURL() + "/realms/corp/protocol/saml/clients/gcp", "Client not found."},
		{"auth prefix on a Quarkus server", k.BaseURL() + "/auth/realms/corp/protocol/saml/clients/aws", "Page not found"},
		{"no prefix on a WildFly server", kAuth.BaseURL() + "/realms/corp/protocol/saml/clients/aws", "Page not found"},
		{"other path", k.BaseURL() + "/realms/corp/account", "Page not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newBrowser().mustGet(t, tt.url)
			if p.status != http.StatusNotFound || !strings.Contains(p.body, tt.contains) {
				t.Errorf("status %d, body lacks %q", p.status, tt.contains)
			}
		})
	}
}

func TestWebAuthnOnly(t *testing.T) {
	for _, theme := range themes {
		t.Run(theme, func(t *testing.T) {
			k := newKeycloak(t, idptest.KeycloakOptions{Theme: theme, Users: users})
			b := newBrowser()
			p := b.mustGet(t, k.URL())
			p = b.mustSubmit(t, p, "form#kc-form-login", map[string]string{"username": "frank", "password": "pw"})
			if p.doc.Find("form#webauth").Length() != 1 || p.doc.Find(`form#authn_select input[name="authn_use_chk"]`).Length() != 1 {
				t.Fatalf("no WebAuthn page; got %q", title(p))
			}
			if p.doc.Find("input#otp, input#totp").Length() != 0 {
				t.Error("WebAuthn page offers an OTP field")
			}
			p = b.mustSubmit(t, p, "form#webauth", map[string]string{"error": "NotAllowedError"})
			if p.doc.Find("form#webauth").Length() != 1 || samlResponse(p) != "" {
				t.Errorf("WebAuthn POST: page %q", title(p))
			}
			if got, want := k.Stats(), (idptest.Stats{PasswordPosts: 1, Logins: 1, WebAuthnPosts: 1}); got != want {
				t.Errorf("Stats = %+v, want %+v", got, want)
			}
		})
	}
}

func TestRequiredAction(t *testing.T) {
	k := newKeycloak(t, idptest.KeycloakOptions{Theme: "v1", Users: users, RequiredAction: "Update password"})
	b := newBrowser()
	p := b.mustGet(t, k.URL())
	p = b.mustSubmit(t, p, "form#kc-form-login", map[string]string{"username": "carol", "password": "pw"})
	p = b.mustSubmit(t, p, "form#kc-otp-login-form", map[string]string{"otp": "123456"})
	if title(p) != "Update password" || p.doc.Find("form#kc-passwd-update-form").Length() != 1 {
		t.Fatalf("after the OTP got %q, want the required action page", title(p))
	}
	action := p.doc.Find("form").AttrOr("action", "")
	if !strings.Contains(action, "/login-actions/required-action?") || !strings.Contains(action, "execution=UPDATE_PASSWORD") {
		t.Errorf("required action form posts to %q", action)
	}
	// Like Keycloak, the page has a (hidden) password input; posting the old
	// password there does not log in.
	p = b.mustSubmit(t, p, "form#kc-passwd-update-form", map[string]string{"password": "pw"})
	if samlResponse(p) != "" || text(p, alertSel["v1"]) != "Please specify password." {
		t.Fatalf("posting only the old password: page %q alert %q", title(p), text(p, alertSel["v1"]))
	}
	p = b.mustSubmit(t, p, "form#kc-passwd-update-form", map[string]string{"password-new": "n", "password-confirm": "m"})
	if text(p, alertSel["v1"]) != "Passwords don't match." {
		t.Errorf("mismatch: alert %q", text(p, alertSel["v1"]))
	}
	p = b.mustSubmit(t, p, "form#kc-passwd-update-form", map[string]string{"password-new": "n", "password-confirm": "n"})
	if samlResponse(p) == "" {
		t.Fatalf("no SAMLResponse after the required action; page %q", title(p))
	}
}

func TestConcurrentLogins(t *testing.T) {
	k := newKeycloak(t, idptest.KeycloakOptions{Users: users})
	const n = 32
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make(chan error, n)
		b64s  = make(chan string, n)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var p *page
			var err error
			if i%2 == 0 {
				p, err = newBrowser().login(k, "alice", "correct horse")
			} else {
				p, err = newBrowser().login(k, "carol", "pw", "123456")
			}
			if err != nil {
				errs <- err
				return
			}
			b64s <- samlResponse(p)
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	close(b64s)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for b64 := range b64s {
		a := parseSAML(t, b64).Root().SelectElement("Assertion")
		if err := verify(a, k.Certificate()); err != nil {
			t.Errorf("concurrent assertion: %v", err)
		}
		id := a.SelectAttrValue("ID", "")
		if seen[id] {
			t.Errorf("assertion ID %s issued twice", id)
		}
		seen[id] = true
	}
	if got, want := k.Stats(), (idptest.Stats{PasswordPosts: n, Logins: n, OTPPosts: n / 2, SAMLIssued: n}); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

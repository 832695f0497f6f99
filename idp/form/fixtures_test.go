package form

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/saml2sts/saml2sts/idp"
)

// loadPage reads a fixture as if fetched from pageURL.
func loadPage(t *testing.T, file string) *idp.Page {
	t.Helper()
	path := filepath.Join("testdata", file)
	if strings.HasPrefix(file, "keycloak/") || strings.HasPrefix(file, "adfs/") {
		path = filepath.Join("..", "testdata", file)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("https://idp.example.edu/start/page?x=1")
	doc.Url = u
	return &idp.Page{URL: u, Status: 200, Body: b, Doc: doc}
}

// TestFixtures runs one step of the adapter on many real and realistic
// form shapes: which form it picks, what it posts, or how it stops.
func TestFixtures(t *testing.T) {
	const pw, code = password, goodCode
	tests := []struct {
		name, file   string
		opts         map[string]string
		sentPassword bool
		sentUser     bool
		sentOTP      bool
		noUsername   bool

		// one of these
		action  string            // the submission's action
		values  map[string]string // exactly what is posted
		auth    string            // AuthError message
		page    string            // PageError substring
		config  string            // ConfigError substring
		unsupp  bool              // UnsupportedError
		wantErr string            // other error substring
	}{
		// Login forms.
		{name: "simplesamlphp 1.x", file: "simplesaml1-login.html",
			action: "https://idp.example.edu/start/page?",
			values: map[string]string{"username": user, "password": pw,
				"AuthState": "_4c1a0c4e8c3cb0f6e4e1a5f0b3b8d9e2c1f7a6b5d4:https://idp.example.edu/simplesaml/saml2/idp/SSOService.php?spentityid=urn%3Aamazon%3Awebservices&cookieTime=1700000000"}},
		{name: "shibboleth v3 default button only", file: "shibboleth-v3-login.html",
			action: "https://idp.example.edu/idp/profile/SAML2/Unsolicited/SSO?execution=e1s2",
			values: map[string]string{"j_username": user, "j_password": pw, "_eventId_proceed": ""}},
		{name: "adfs 2012 r2", file: "adfs/adfs2-loginpage.html",
			values: map[string]string{"UserName": user, "Password": pw, "AuthMethod": "FormsAuthentication"}},
		{name: "cas among other forms", file: "multi-form.html",
			action: "https://idp.example.edu/cas/login?service=https%3A%2F%2Fidp.example.edu%2Fidp%2FAuthn%2FExternal",
			values: map[string]string{"username": user, "password": pw, "execution": "4d8f7e1c-aa7e-4c0b-8b1a_ZXlKaGJHY2lPaUpJVXpVeE1pSjkuZXlK",
				"_eventId": "submit", "geolocation": "", "submitBtn": "Login"}},
		{name: "login beats a code-looking form before the password", file: "login-with-voucher.html",
			action: "https://idp.example.edu/login", values: map[string]string{"username": user, "password": pw}},
		{name: "after the password a code-looking form is the code step", file: "login-with-voucher.html", sentPassword: true,
			action: "https://idp.example.edu/voucher", values: map[string]string{"voucher_code": code}},
		{name: "autocomplete beats name", file: "odd-names.html",
			values: map[string]string{"f_region": "EU", "f_17": user, "f_18": pw}},
		{name: "position before password", file: "position.html",
			action: "https://idp.example.edu/start/access.cgi",
			values: map[string]string{"a1": user, "a2": pw, "a3": "prefilled"}},
		{name: "type email", file: "role-alert.html",
			values: map[string]string{"mail": user, "pw": pw}},
		{name: "forced username is not sent", file: "disabled-username.html",
			values: map[string]string{"password": pw}},
		{name: "password only after identifier", file: "password-only.html", sentUser: true,
			values: map[string]string{"state": "hKFo2SBxa2d0", "username": "alice@example.com", "password": pw, "action": "default"}},
		{name: "keycloak 3", file: "keycloak/loginpage.html",
			values: map[string]string{"username": user, "password": pw, "login": "Log in"}},
		{name: "keycloak v2", file: "keycloak/loginpage-v2.html",
			values: map[string]string{"username": user, "password": pw, "credentialId": "", "login": ""}},
		{name: "prefilled username when the profile has none", file: "simplesaml1-error.html", noUsername: true,
			values: map[string]string{"username": "alice", "password": pw, "AuthState": "_4c1a0c4e8c3c:https://idp.example.edu/simplesaml/saml2/idp/SSOService.php"}},
		{name: "no username anywhere", file: "keycloak/loginpage.html", noUsername: true,
			wantErr: "the login form needs a username: set username in the profile"},

		// Overrides.
		{name: "override both fields", file: "two-text-fields.html",
			opts:   map[string]string{KeyUsernameField: "account_name", KeyPasswordField: "secret_word"},
			values: map[string]string{"domain": "CORP", "account_name": user, "secret_word": pw, "ok": "Sign in"}},
		{name: "without overrides a password-less form is a username step", file: "two-text-fields.html",
			values: map[string]string{"domain": "CORP", "account_name": user, "secret_word": "", "ok": "Sign in"}},
		{name: "override username", file: "odd-names.html", opts: map[string]string{KeyUsernameField: "f_region"},
			values: map[string]string{"f_region": user, "f_17": "", "f_18": pw}},
		// An override naming no input of a login page is a profile mistake (exit 2).
		{name: "username override matches nothing", file: "odd-names.html", opts: map[string]string{KeyUsernameField: "login"},
			config: `form: the login form at https://idp.example.edu/start/page has no input named "login" (form_username_field); ` +
				`its inputs: f_region (text), f_17 (text), f_18 (password): set form_username_field to one of them, or remove it to let saml2sts find the field`},
		{name: "password override matches nothing", file: "odd-names.html", opts: map[string]string{KeyPasswordField: "pass"},
			config: `no input named "pass" (form_password_field); its inputs: f_region (text), f_17 (text), f_18 (password): set form_password_field`},
		{name: "shibboleth names with simplesamlphp overrides", file: "shibboleth-v3-login.html", opts: map[string]string{KeyUsernameField: "username"},
			config: `no input named "username" (form_username_field); its inputs: j_username (text), j_password (password)`},

		// Identifier-first.
		{name: "email first", file: "identifier-first.html",
			action: "https://idp.example.edu/login/identifier",
			values: map[string]string{"state": "hKFo2SBxa2d0", "identifier": user, "action": "default"}},
		{name: "username with code in its placeholder", file: "username-code-placeholder.html",
			values: map[string]string{"username": user}},
		{name: "single username field after the password is no code", file: "username-code-placeholder.html", sentPassword: true,
			page: "expected a login form"},
		{name: "username refused", file: "identifier-first.html", sentUser: true,
			auth: "the username form was shown again: the IdP did not accept the username (set form_error_selector to show the IdP's message)"},

		// One-time codes.
		{name: "keycloak 3 totp", file: "keycloak/mfapage.html", sentPassword: true,
			values: map[string]string{"totp": code, "login": "Log in"}},
		{name: "keycloak checked authenticator kept", file: "keycloak/mfapage2authenticators.html", sentPassword: true,
			values: map[string]string{"totp": code, "login": "Log in", "selectedCredentialId": "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"}},
		{name: "numeric code", file: "otp-numeric.html", sentPassword: true,
			values: map[string]string{"txn": "T-8f2a", "response": code}},
		{name: "numeric code before any password", file: "otp-numeric.html",
			values: map[string]string{"txn": "T-8f2a", "response": code}},
		{name: "securid passcode in a password input", file: "adfs/adfs2-securid-passcode.html", sentPassword: true,
			values: map[string]string{"AuthMethod": "SecurIDAuthentication", "Context": "*", "Passcode": code, "Submit": "Submit"}},
		{name: "single plain field after the password", file: "otp-plain-after-password.html", sentPassword: true,
			values: map[string]string{"flow": "x9", "answer": code, "go": "Submit"}},
		{name: "single plain field before the password is no code", file: "otp-plain-after-password.html",
			page: `unexpected page "Additional verification" at https://idp.example.edu/start/page: expected a login form`},
		{name: "code refused", file: "keycloak/otp-invalid.html", sentPassword: true, sentOTP: true,
			auth: "Invalid authenticator code."},

		// Self-submitting pages.
		{name: "keycloak kerberos 401 page", file: "keycloak/redirect.html",
			values: map[string]string{}},
		{name: "shibboleth local storage", file: "shibboleth-storage-read.html",
			action: "https://idp.example.edu/idp/profile/SAML2/Unsolicited/SSO?execution=e1s1",
			values: map[string]string{"shib_idp_ls_exception.shib_idp_session_ss": "", "shib_idp_ls_success.shib_idp_session_ss": "false",
				"shib_idp_ls_value.shib_idp_session_ss": "", "shib_idp_ls_supported": "", "_eventId_proceed": ""}},
		{name: "noscript continue", file: "continue-noscript.html",
			values: map[string]string{"ticket": "ST-1"}},

		// Refusals: the login form again after the password.
		{name: "keycloak base theme error", file: "keycloak/authError-invalidPassword.html", sentPassword: true,
			auth: "Invalid username or password."},
		{name: "keycloak v2 error", file: "keycloak/authError-invalidPassword-v2.html", sentPassword: true,
			auth: "Invalid username or password."},
		{name: "keycloak japanese", file: "keycloak/authError-invalidPassword_ja.html", sentPassword: true,
			auth: "無効なユーザー名またはパスワードです。"},
		{name: "simplesamlphp 1.x icon box", file: "simplesaml1-error.html", sentPassword: true,
			auth: "Error Incorrect username or password Either no user with the given username could be found, or the password you gave was wrong. Please check the username and try again."},
		{name: "shibboleth", file: "shibboleth-error.html", sentPassword: true,
			auth: "The password you entered was incorrect."},
		{name: "custom theme class", file: "custom-error.html", sentPassword: true,
			auth: "Invalid username or password."},
		{name: "visible role=alert", file: "role-alert.html", sentPassword: true,
			auth: "Your account is locked. Contact the service desk."},
		{name: "error selector override", file: "two-text-fields.html", sentPassword: true,
			opts: map[string]string{KeyUsernameField: "account_name", KeyPasswordField: "secret_word", KeyErrorSelector: "p.msg"},
			auth: "Sign-in failed: bad credentials (code 4711)"},
		{name: "no message found", file: "position.html", sentPassword: true,
			auth: "the login form was shown again after the password was sent: the IdP did not accept the username or password (set form_error_selector to show the IdP's message)"},
		{name: "adfs empty errorText then nothing", file: "adfs/adfs2-loginpage.html", sentPassword: true,
			auth: "the login form was shown again after the password was sent"},

		// Dead ends.
		{name: "expired password", file: "change-password.html",
			page: "the IdP wants a new password"},
		{name: "keycloak update password", file: "keycloak/update-password.html", sentPassword: true,
			page: "the IdP wants a new password"},
		{name: "keycloak terms", file: "keycloak/terms.html", sentPassword: true,
			page: "the IdP wants you to accept its terms and conditions first"},
		{name: "shibboleth consent", file: "shibboleth-consent.html", sentPassword: true,
			page: `unexpected page "Information Release" at https://idp.example.edu/start/page: the IdP asks you to consent to releasing your attributes to AWS`},
		{name: "authenticator setup", file: "otp-setup.html", sentPassword: true,
			page: "the IdP wants you to set up an authenticator app first"},
		{name: "password by GET", file: "get-login.html",
			page: "the login form sends the password with GET, in the URL; refusing to send it"},
		{name: "access denied", file: "dead-end.html", sentPassword: true,
			page: `unexpected page "Access denied" at https://idp.example.edu/start/page: expected a login form, a one-time code form, a self-submitting form or a SAML POST page; the page says "You are not allowed to use Amazon Web Services."`},
		{name: "webauthn", file: "keycloak/webauthnPage.html", sentPassword: true, unsupp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := loadPage(t, tt.file)
			pwCalls := 0
			req := &idp.Request{
				URL: page.URL.String(), Username: user, MFACode: code, Options: tt.opts,
				Password: func(context.Context) (string, error) { pwCalls++; return pw, nil },
				Prompt:   &prompter{},
			}
			if tt.noUsername {
				req.Username = ""
			}
			l := &login{req: req, in: idp.NewInputs(req), sentPassword: tt.sentPassword, sentUser: tt.sentUser, sentOTP: tt.sentOTP}
			l.w = idp.Walker{Name: "form", Max: maxPages, In: &l.in}
			l.userField, l.passField, l.errSel = tt.opts[KeyUsernameField], tt.opts[KeyPasswordField], tt.opts[KeyErrorSelector]
			f, err := l.next(context.Background(), page)

			var ae *idp.AuthError
			var pe *idp.PageError
			var ue *idp.UnsupportedError
			switch {
			case tt.auth != "":
				if !errors.As(err, &ae) || !strings.HasPrefix(ae.Message, tt.auth) {
					t.Fatalf("got %v, %v; want AuthError %q", f, err, tt.auth)
				}
			case tt.page != "":
				if !errors.As(err, &pe) || !strings.Contains(pe.Error(), tt.page) {
					t.Fatalf("got %v, %v; want PageError with %q", f, err, tt.page)
				}
			case tt.config != "":
				var ce *idp.ConfigError
				if !errors.As(err, &ce) || !strings.Contains(ce.Error(), tt.config) {
					t.Fatalf("got %v, %v; want ConfigError with %q", f, err, tt.config)
				}
			case tt.unsupp:
				if !errors.As(err, &ue) {
					t.Fatalf("got %v, %v; want UnsupportedError", f, err)
				}
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %v; want error with %q", f, err, tt.wantErr)
				}
			default:
				if err != nil {
					t.Fatalf("next: %v", err)
				}
				got := map[string]string{}
				for k, v := range f.Values {
					if len(v) != 1 {
						t.Errorf("%s posted %d times: %q", k, len(v), v)
					}
					got[k] = v[0]
					if tt.values[k] == "*" && v[0] != "" {
						got[k] = "*" // long opaque state, checked for presence
					}
				}
				if !reflect.DeepEqual(got, tt.values) {
					t.Errorf("posted\n %q\nwant\n %q", got, tt.values)
				}
				if tt.action != "" && f.Action != tt.action {
					t.Errorf("action = %q, want %q", f.Action, tt.action)
				}
				if f.Method != "POST" {
					t.Errorf("method = %s", f.Method)
				}
				if sent := f.Values.Encode(); strings.Contains(sent, url.QueryEscape(pw)) != (pwCalls == 1) || pwCalls > 1 {
					t.Errorf("password asked %d times; sent: %v", pwCalls, strings.Contains(sent, url.QueryEscape(pw)))
				}
			}
			if err != nil && (strings.Contains(err.Error(), pw) || pwCalls > 0 && tt.auth != "") {
				t.Errorf("error leaks or asked for the password (%d calls): %v", pwCalls, err)
			}
		})
	}
}

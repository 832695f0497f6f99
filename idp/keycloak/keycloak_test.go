package keycloak

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/httpx"
)

const (
	user     = "alice"
	password = "s3cret-Pa55"
	goodCode = "123456"
	entry    = "/realms/master/protocol/saml/clients/aws"
	saml     = "abc123" // the value in testdata/assertion.html
)

// answer is one page the fake Keycloak sends.
type answer struct {
	status int
	file   string // fixture in testdata
	body   string // or inline HTML
	edit   func(string) string
}

func page(file string) answer { return answer{file: file} }

// fakeKC is a scripted Keycloak. Fixture pages are served with their form
// actions rewritten to the test server; login and OTP posts are answered
// by the case's functions.
type fakeKC struct {
	prefix   string // "/auth" for Keycloak 16 and older, "" after
	kerberos bool   // start with the 401 Kerberos page
	always   *answer
	login    answer
	onLogin  func(url.Values) answer
	onOTP    func(url.Values) answer

	mu        sync.Mutex
	url       string
	requests  int
	posts     []url.Values
	kerberosd bool
}

func (k *fakeKC) start(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(k.serve))
	t.Cleanup(srv.Close)
	k.url = srv.URL
	if k.login.file == "" && k.login.body == "" {
		k.login = page("loginpage.html")
	}
	return srv
}

func (k *fakeKC) serve(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.requests++
	if k.always != nil {
		k.write(w, *k.always)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == k.prefix+entry:
		if c, err := r.Cookie("KEYCLOAK_IDENTITY"); err == nil && c.Value == "valid" {
			k.write(w, page("assertion.html"))
			return
		}
		if k.kerberos && !k.kerberosd {
			k.write(w, answer{status: http.StatusUnauthorized, file: "redirect.html"})
			return
		}
		k.write(w, k.login)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/login-actions/authenticate"):
		r.ParseForm()
		f := r.PostForm
		k.posts = append(k.posts, f)
		a := k.login
		switch {
		case f.Has("otp") || f.Has("totp"):
			a = k.onOTP(f)
		case f.Has("username") || f.Has("password"):
			a = k.onLogin(f)
		default: // the Kerberos page's empty post
			k.kerberosd = true
		}
		if a.file == "assertion.html" {
			http.SetCookie(w, &http.Cookie{Name: "KEYCLOAK_IDENTITY", Value: "valid", Path: "/"})
		}
		k.write(w, a)
	default:
		http.NotFound(w, r)
	}
}

func (k *fakeKC) write(w http.ResponseWriter, a answer) {
	body := a.body
	if a.file != "" {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "keycloak", a.file))
		if err != nil {
			panic(err)
		}
		body = string(b)
	}
	for _, host := range []string{"https://id.example.com", "https://auth.xxx", "https://my.domain", "http://localhost:18080"} {
		body = strings.ReplaceAll(body, host, k.url)
	}
	if a.edit != nil {
		body = a.edit(body)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if a.status != 0 {
		w.WriteHeader(a.status)
	}
	w.Write([]byte(body))
}

// okLogin accepts alice's password and answers next.
func okLogin(next answer) func(url.Values) answer {
	return func(f url.Values) answer {
		if f.Get("username") == user && f.Get("password") == password {
			return next
		}
		return page("authError-invalidPassword.html")
	}
}

// okOTP accepts goodCode (and, when set, only for credential id).
func okOTP(field, id string, wrong answer) func(url.Values) answer {
	return func(f url.Values) answer {
		if f.Get(field) == goodCode && (id == "" || f.Get("selectedCredentialId") == id) {
			return page("assertion.html")
		}
		return wrong
	}
}

// fail answers a post that must not happen; the login then fails on a
// page it does not know, and the case's other checks catch it.
func fail(url.Values) answer { return answer{body: "<title>unexpected post</title>"} }

// prompter records what was asked.
type prompter struct {
	codes     []string
	codeErr   error
	secret    string
	secretErr error
	choice    int
	chooseErr error

	asked   []string
	options []string
}

func (p *prompter) Secret(_ context.Context, label string) (string, error) {
	p.asked = append(p.asked, "secret: "+label)
	return p.secret, p.secretErr
}

func (p *prompter) Code(_ context.Context, label string) (string, error) {
	p.asked = append(p.asked, "code: "+label)
	if p.codeErr != nil {
		return "", p.codeErr
	}
	if len(p.codes) == 0 {
		return "", errors.New("test: no code left")
	}
	c := p.codes[0]
	p.codes = p.codes[1:]
	return c, nil
}

func (p *prompter) Choose(_ context.Context, label string, options []string) (int, error) {
	p.asked = append(p.asked, "choose: "+label)
	p.options = options
	return p.choice, p.chooseErr
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

// inject puts html right after the login form's opening, where themes show
// their messages.
func inject(html string) func(string) string {
	return func(body string) string {
		i := strings.Index(body, "<form")
		j := i + strings.Index(body[i:], ">") + 1
		return body[:j] + html + body[j:]
	}
}

type result struct {
	saml      string
	err       error
	kc        *fakeKC
	prompt    *prompter
	passCalls int
	debug     *debugger
	notice    *strings.Builder
}

type testCase struct {
	name     string
	kc       *fakeKC
	urlPath  string // path of the profile URL; default prefix+entry
	username string // default alice; "-" for none
	mfa      string
	mfaCode  string
	prompt   prompter
	noPass   bool  // Password must not be called
	passErr  error // Password fails with this
	nilPass  bool  // no Password func: the prompter's Secret is used
	jar      func(*idp.Jar, string)
	debug    bool

	wantSAML     string
	wantAuth     string // exact AuthError message
	wantErrIs    error
	wantErr      string // substring of the error
	wantType     any    // pointer to the wanted error type: **idp.PageError, ...
	wantRequests int
	wantAsked    []string
	check        func(*testing.T, result)
}

func run(t *testing.T, tc testCase) result {
	t.Helper()
	k := tc.kc
	k.start(t)
	jar, _ := idp.NewJar(nil)
	if tc.jar != nil {
		tc.jar(jar, k.url)
	}
	rt, err := httpx.NewTransport(httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := result{kc: k, prompt: &tc.prompt, notice: &strings.Builder{}}
	path := tc.urlPath
	if path == "" {
		path = k.prefix + entry
	}
	username := tc.username
	switch username {
	case "":
		username = user
	case "-":
		username = ""
	}
	req := &idp.Request{
		URL:      k.url + path + "?RelayState=relay",
		Username: username,
		Password: func(context.Context) (string, error) {
			res.passCalls++
			if tc.noPass {
				t.Error("Password called although no password form was shown")
			}
			return password, tc.passErr
		},
		MFA:     tc.mfa,
		MFACode: tc.mfaCode,
		Prompt:  &tc.prompt,
		Client:  idp.NewClient(rt, jar),
		Notice:  res.notice,
	}
	if tc.nilPass {
		req.Password = nil
	}
	if tc.debug {
		res.debug = &debugger{}
		req.Debug = res.debug
	}
	res.saml, res.err = New().Login(t.Context(), req)
	return res
}

func (tc testCase) verify(t *testing.T, res result) {
	t.Helper()
	if tc.wantSAML != "" {
		if res.err != nil || res.saml != tc.wantSAML {
			t.Fatalf("Login = %q, %v; want %q", res.saml, res.err, tc.wantSAML)
		}
	} else if res.err == nil {
		t.Fatalf("Login = %q, want an error", res.saml)
	}
	if res.err != nil {
		msg := res.err.Error()
		if strings.Contains(msg, password) {
			t.Errorf("error holds the password: %s", msg)
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("error spans lines: %q", msg)
		}
		if tc.wantAuth != "" {
			var ae *idp.AuthError
			if !errors.As(res.err, &ae) || ae.Message != tc.wantAuth {
				t.Errorf("err = %#v (%v), want AuthError %q", res.err, res.err, tc.wantAuth)
			}
		}
		if tc.wantErrIs != nil && !errors.Is(res.err, tc.wantErrIs) {
			t.Errorf("err = %v, want errors.Is %v", res.err, tc.wantErrIs)
		}
		if tc.wantErr != "" && !strings.Contains(msg, tc.wantErr) {
			t.Errorf("err = %q, want it to contain %q", msg, tc.wantErr)
		}
		if tc.wantType != nil && !errors.As(res.err, tc.wantType) {
			t.Errorf("err = %T %v, want %T", res.err, res.err, tc.wantType)
		}
	}
	if res.passCalls > 1 {
		t.Errorf("Password called %d times, want at most once", res.passCalls)
	}
	if tc.wantRequests != 0 && res.kc.requests != tc.wantRequests {
		t.Errorf("Keycloak saw %d requests, want %d", res.kc.requests, tc.wantRequests)
	}
	if tc.wantAsked != nil && (len(tc.wantAsked) != 0 || len(res.prompt.asked) != 0) && !reflect.DeepEqual(res.prompt.asked, tc.wantAsked) {
		t.Errorf("prompts %q, want %q", res.prompt.asked, tc.wantAsked)
	}
	if tc.check != nil {
		tc.check(t, res)
	}
}

func TestLogin(t *testing.T) {
	var (
		pageErr     *idp.PageError
		unsupported *idp.UnsupportedError
	)
	tests := []testCase{
		{
			name:         "old theme under /auth",
			kc:           &fakeKC{prefix: "/auth", onLogin: okLogin(page("assertion.html"))},
			wantSAML:     saml,
			wantRequests: 2,
			wantAsked:    []string{},
			check: func(t *testing.T, r result) {
				want := url.Values{"username": {user}, "password": {password}, "login": {"Log in"}}
				if !reflect.DeepEqual(r.kc.posts[0], want) {
					t.Errorf("posted %v, want %v", r.kc.posts[0], want)
				}
			},
		},
		{
			name:     "v2 theme without /auth posts no login button",
			kc:       &fakeKC{login: page("loginpage-v2.html"), onLogin: okLogin(page("assertion.html"))},
			wantSAML: saml,
			check: func(t *testing.T, r result) {
				want := url.Values{"username": {user}, "password": {password}, "credentialId": {""}}
				if !reflect.DeepEqual(r.kc.posts[0], want) {
					t.Errorf("posted %v, want %v", r.kc.posts[0], want)
				}
			},
		},
		{
			name:     "try another way is never posted",
			kc:       &fakeKC{prefix: "/auth", login: page("loginpage-another-way.html"), onLogin: okLogin(page("assertion.html"))},
			wantSAML: saml,
			check: func(t *testing.T, r result) {
				if r.kc.posts[0].Has("tryAnotherWay") {
					t.Errorf("posted tryAnotherWay: %v", r.kc.posts[0])
				}
			},
		},
		{
			name: "custom theme keeps hidden inputs",
			kc: &fakeKC{login: answer{body: `<html><head><title>ACME SSO</title></head><body>
<form id="acme" action="/realms/master/login-actions/authenticate?session_code=x" method="post">
<input type="hidden" name="credentialId" value="cred-1"><input type="hidden" name="tryAnotherWay" value="on"><input name="username"><input type="password" name="password">
<button type="submit">Go</button></form></body></html>`}, onLogin: okLogin(page("assertion.html"))},
			wantSAML: saml,
			check: func(t *testing.T, r result) {
				if got := r.kc.posts[0].Get("credentialId"); got != "cred-1" || r.kc.posts[0].Has("tryAnotherWay") {
					t.Errorf("posted %v, want credentialId=cred-1 and no tryAnotherWay", r.kc.posts[0])
				}
			},
		},
		{
			name: "username and password on separate pages",
			kc: &fakeKC{
				login: answer{body: `<title>Sign in</title><form id="kc-form-login" action="/realms/master/login-actions/authenticate?s=1" method="post">
<input id="username" name="username" type="text"><input name="login" id="kc-login" type="submit" value="Sign In"></form>`},
				onLogin: func(f url.Values) answer {
					if f.Get("username") == user && !f.Has("password") {
						return answer{body: `<title>Sign in</title><form id="kc-form-login" action="/realms/master/login-actions/authenticate?s=2" method="post">
<input id="password" name="password" type="password"><input name="login" id="kc-login" type="submit" value="Sign In"></form>`}
					}
					if f.Get("password") == password && !f.Has("username") {
						return page("assertion.html")
					}
					return page("authError-invalidPassword.html")
				},
			},
			wantSAML:     saml,
			wantRequests: 3,
		},
		{
			name:     "profile url with /auth on a newer Keycloak",
			kc:       &fakeKC{onLogin: okLogin(page("assertion.html"))},
			urlPath:  "/auth" + entry,
			wantSAML: saml, wantRequests: 3,
		},
		{
			name:     "profile url without /auth on an older Keycloak",
			kc:       &fakeKC{prefix: "/auth", onLogin: okLogin(page("assertion.html"))},
			urlPath:  entry,
			wantSAML: saml, wantRequests: 3,
			check: func(t *testing.T, r result) {
				n := r.notice.String()
				if strings.Count(n, "\n") != 1 || !strings.Contains(n, "/auth"+entry+" works: update url in the profile") {
					t.Errorf("want one notice naming the working /auth url, got %q", n)
				}
			},
		},
		{
			name:    "not found with and without /auth",
			kc:      &fakeKC{prefix: "/nowhere"},
			urlPath: entry,
			noPass:  true, wantType: &pageErr, wantRequests: 2,
			wantErr: "/auth" + entry,
		},
		{
			name:    "not found, no realm path to adjust",
			kc:      &fakeKC{},
			urlPath: "/sso/clients/aws",
			noPass:  true, wantType: &pageErr, wantRequests: 1,
			wantErr: "HTTP 404",
		},
		{
			name:         "wrong password, base theme #input-error",
			kc:           &fakeKC{onLogin: func(url.Values) answer { return page("authError-invalidPassword.html") }},
			wantAuth:     "Invalid username or password.",
			wantRequests: 2,
		},
		{
			name:     "wrong password, v2 theme #input-error-username",
			kc:       &fakeKC{login: page("loginpage-v2.html"), onLogin: func(url.Values) answer { return page("authError-invalidPassword-v2.html") }},
			wantAuth: "Invalid username or password.", wantRequests: 2,
		},
		{
			name:     "wrong password, Japanese .kc-feedback-text",
			kc:       &fakeKC{onLogin: func(url.Values) answer { return page("authError-invalidPassword_ja.html") }},
			wantAuth: "無効なユーザー名またはパスワードです。", wantRequests: 2,
		},
		{
			name: "wrong password, #input-error-password",
			kc: &fakeKC{onLogin: func(url.Values) answer {
				return answer{file: "loginpage.html", edit: inject(`<div id="input-error-password"><span>  Invalid
					password. </span></div>`)}
			}},
			wantAuth: "Invalid password.", wantRequests: 2,
		},
		{
			name: "wrong password, old .alert-error",
			kc: &fakeKC{onLogin: func(url.Values) answer {
				return answer{file: "loginpage.html", edit: inject(`<div class="alert alert-error">Ungültiger Benutzername oder Passwort.</div>`)}
			}},
			wantAuth: "Ungültiger Benutzername oder Passwort.",
		},
		{
			name:     "account disabled",
			kc:       &fakeKC{onLogin: func(url.Values) answer { return page("authError-accountDisabled.html") }},
			wantAuth: "Account is disabled, contact your administrator.", wantRequests: 2,
		},
		{
			name:     "account disabled, Japanese page",
			kc:       &fakeKC{onLogin: func(url.Values) answer { return page("authError-accountDisabled_ja.html") }},
			wantAuth: "無効なユーザー名またはパスワードです。",
		},
		{
			name: "login form back without a known error element",
			kc: &fakeKC{onLogin: func(url.Values) answer {
				return answer{file: "loginpage.html", edit: inject(`<div class="error_message"><span>Nope.</span></div>`)}
			}},
			wantAuth:     "the login form was shown again; the password or username was not accepted",
			wantRequests: 2,
		},
		{
			name: "a theme echoing the password does not leak it",
			kc: &fakeKC{onLogin: func(f url.Values) answer {
				return answer{file: "loginpage.html", edit: inject(`<span class="kc-feedback-text">Password ` + f.Get("password") + ` is wrong</span>`)}
			}},
			wantAuth: "Password REDACTED is wrong",
		},
		{
			name:         "OTP, legacy totp field, code given up front",
			kc:           &fakeKC{onLogin: okLogin(page("mfapage.html")), onOTP: okOTP("totp", "", page("mfapage.html"))},
			mfaCode:      goodCode,
			wantSAML:     saml,
			wantRequests: 3,
			wantAsked:    []string{},
			check: func(t *testing.T, r result) {
				want := url.Values{"totp": {goodCode}}
				if !reflect.DeepEqual(r.kc.posts[1], want) {
					t.Errorf("OTP post %v, want %v", r.kc.posts[1], want)
				}
			},
		},
		{
			name:      "OTP, otp field, code prompted",
			kc:        &fakeKC{onLogin: okLogin(page("otp-page.html")), onOTP: okOTP("otp", "", page("otp-invalid.html"))},
			prompt:    prompter{codes: []string{"123 456"}},
			wantSAML:  saml,
			wantAsked: []string{"code: Keycloak one-time code"},
		},
		{
			name:         "OTP wrong, #input-error-otp-code",
			kc:           &fakeKC{onLogin: okLogin(page("otp-page.html")), onOTP: okOTP("otp", "", page("otp-invalid.html"))},
			mfaCode:      "000000",
			prompt:       prompter{codes: []string{goodCode}},
			wantAuth:     "Invalid authenticator code.",
			wantRequests: 3,
			wantAsked:    []string{},
		},
		{
			name:     "OTP wrong, form back without message",
			kc:       &fakeKC{onLogin: okLogin(page("mfapage.html")), onOTP: okOTP("totp", "", page("mfapage.html"))},
			mfaCode:  "000000",
			wantAuth: "the one-time code form was shown again; the code was not accepted",
		},
		{
			name: "two authenticators, mfa names one",
			kc: &fakeKC{onLogin: okLogin(page("mfapage2authenticators.html")),
				onOTP: okOTP("totp", "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb", page("mfapage2authenticators.html"))},
			mfa:       "google",
			prompt:    prompter{codes: []string{goodCode}},
			wantSAML:  saml,
			wantAsked: []string{"code: Keycloak one-time code (Google Authenticator)"},
		},
		{
			name: "two authenticators, mfa is the label as shown, spaces included",
			kc: &fakeKC{onLogin: okLogin(page("mfapage2authenticators.html")),
				onOTP: okOTP("totp", "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb", page("mfapage2authenticators.html"))},
			mfa:       "Google Authenticator",
			prompt:    prompter{codes: []string{goodCode}},
			wantSAML:  saml,
			wantAsked: []string{"code: Keycloak one-time code (Google Authenticator)"},
		},
		{
			name: "two authenticators, label in other case and spacing",
			kc: &fakeKC{onLogin: okLogin(page("mfapage2authenticators.html")),
				onOTP: okOTP("totp", "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb", page("mfapage2authenticators.html"))},
			mfa:       "google   AUTHENTICATOR",
			mfaCode:   goodCode,
			wantSAML:  saml,
			wantAsked: []string{},
		},
		{
			name: "two authenticators, a name both labels contain",
			kc: &fakeKC{onLogin: okLogin(answer{file: "mfapage2authenticators.html", edit: func(s string) string {
				return strings.Replace(s, "FreeOTP", "Google Authenticator (old phone)", -1)
			}}), onOTP: fail},
			mfa:          "google",
			wantErr:      `mfa "google" matches several one-time code authenticators ("Google Authenticator (old phone)", "Google Authenticator")`,
			wantType:     new(*idp.ConfigError),
			wantRequests: 2,
		},
		{
			name: "two authenticators, user chooses",
			kc: &fakeKC{onLogin: okLogin(page("mfapage2authenticators.html")),
				onOTP: okOTP("totp", "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb", page("mfapage2authenticators.html"))},
			mfa:       "auto",
			prompt:    prompter{codes: []string{goodCode}, choice: 1},
			wantSAML:  saml,
			wantAsked: []string{"choose: Keycloak one-time code authenticator", "code: Keycloak one-time code (Google Authenticator)"},
			check: func(t *testing.T, r result) {
				if want := []string{"FreeOTP", "Google Authenticator"}; !reflect.DeepEqual(r.prompt.options, want) {
					t.Errorf("options %q, want %q", r.prompt.options, want)
				}
			},
		},
		{
			name: "two authenticators, no terminal: the preselected one",
			kc: &fakeKC{onLogin: okLogin(page("mfapage2authenticators.html")),
				onOTP: okOTP("totp", "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", page("mfapage2authenticators.html"))},
			mfaCode:  goodCode,
			prompt:   prompter{chooseErr: idp.ErrNoTerminal},
			wantSAML: saml,
		},
		{
			name: "two authenticators, no terminal: the preselected second one",
			kc: &fakeKC{onLogin: okLogin(answer{file: "mfapage2authenticators.html", edit: func(s string) string {
				s = strings.Replace(s, `checked="checked"`, "", 1)
				return strings.Replace(s, `value="bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb" >`, `value="bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb" checked>`, 1)
			}}), onOTP: okOTP("totp", "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb", page("mfapage2authenticators.html"))},
			mfaCode:  goodCode,
			prompt:   prompter{chooseErr: idp.ErrNoTerminal},
			wantSAML: saml,
		},
		{
			name:         "two authenticators, mfa names none",
			kc:           &fakeKC{onLogin: okLogin(page("mfapage2authenticators.html")), onOTP: fail},
			mfa:          "yubikey",
			wantErr:      `"yubikey" matches none of your one-time code authenticators (FreeOTP, Google Authenticator)`,
			wantType:     new(*idp.ConfigError), // a profile mistake: exit 2
			wantRequests: 2,
		},
		{
			name: "two authenticators, generic mfa totp asks",
			kc: &fakeKC{onLogin: okLogin(page("mfapage2authenticators.html")),
				onOTP: okOTP("totp", "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", page("mfapage2authenticators.html"))},
			mfa:       "TOTP",
			prompt:    prompter{codes: []string{goodCode}, choice: 0},
			wantSAML:  saml,
			wantAsked: []string{"choose: Keycloak one-time code authenticator", "code: Keycloak one-time code (FreeOTP)"},
		},
		{
			name:         "Kerberos page first",
			kc:           &fakeKC{prefix: "/auth", kerberos: true, onLogin: okLogin(page("assertion.html"))},
			wantSAML:     saml,
			wantRequests: 3,
		},
		{
			name:     "WebAuthn only",
			kc:       &fakeKC{onLogin: okLogin(page("webauthnPage.html"))},
			wantType: &unsupported, wantErr: "WebAuthn",
			check: func(t *testing.T, r result) {
				if !strings.Contains(unsupported.Hint, "OTP") || strings.Contains(unsupported.Hint, "Try another way") {
					t.Errorf("hint %q, want OTP advice without Try another way", unsupported.Hint)
				}
			},
		},
		{
			name: "WebAuthn with Try another way",
			kc: &fakeKC{onLogin: okLogin(answer{file: "webauthnPage.html", edit: func(s string) string {
				return strings.Replace(s, "</body>", `<form id="kc-select-try-another-way-form" action="/x" method="post"><input type="hidden" name="tryAnotherWay" value="on"></form></body>`, 1)
			}})},
			wantType: &unsupported,
			check: func(t *testing.T, r result) {
				if !strings.Contains(unsupported.Hint, `"Try another way"`) {
					t.Errorf("hint %q, want it to mention Try another way", unsupported.Hint)
				}
			},
		},
		{
			name: "stored session: no password",
			kc:   &fakeKC{onLogin: fail},
			jar: func(j *idp.Jar, at string) {
				u, _ := url.Parse(at)
				j.SetCookies(u, []*http.Cookie{{Name: "KEYCLOAK_IDENTITY", Value: "valid", Path: "/"}})
			},
			noPass:       true,
			wantSAML:     saml,
			wantRequests: 1,
		},
		{
			name:         "unexpected page",
			kc:           &fakeKC{login: page("unknown.html")},
			noPass:       true,
			debug:        true,
			wantType:     &pageErr,
			wantErr:      "expected a Keycloak login, one-time code or SAML post page",
			wantRequests: 1,
			check: func(t *testing.T, r result) {
				if pageErr.Title != "Scheduled maintenance" || strings.Contains(pageErr.URL, "?") || pageErr.Saved == "" {
					t.Errorf("PageError %+v: want title, URL without query, saved copy", pageErr)
				}
				for _, b := range r.debug.pages {
					if strings.Contains(string(b), "token=abc") {
						t.Errorf("saved page not redacted: %s", b)
					}
				}
			},
		},
		{
			name:         "auto-submitting pages forever stop after 8",
			kc:           &fakeKC{always: &answer{status: http.StatusUnauthorized, file: "redirect.html"}},
			noPass:       true,
			wantType:     &pageErr,
			wantErr:      "after 8 pages",
			wantRequests: 8,
		},
		{
			name:     "required action: update password",
			kc:       &fakeKC{onLogin: okLogin(page("update-password.html"))},
			wantType: &pageErr, wantErr: `Keycloak wants a new password first (required action "Update Password")`, wantRequests: 2,
		},
		{
			name:     "required action: terms",
			kc:       &fakeKC{onLogin: okLogin(page("terms.html"))},
			wantType: &pageErr, wantErr: "accept its terms and conditions",
		},
		{
			name:     "page has expired",
			kc:       &fakeKC{onLogin: okLogin(page("page-expired.html"))},
			wantType: &pageErr, wantErr: "the login page has expired",
		},
		{
			name:     "Keycloak error page",
			kc:       &fakeKC{login: answer{status: http.StatusBadRequest, file: "error-page.html"}},
			noPass:   true,
			wantType: &pageErr, wantErr: "Keycloak reported an error: Client not found.",
		},
		{
			name:      "no terminal for the password",
			kc:        &fakeKC{onLogin: fail},
			passErr:   idp.ErrNoTerminal,
			wantErrIs: idp.ErrNoTerminal, wantRequests: 1,
		},
		{
			name:      "no Password func: the prompter is asked, no terminal",
			kc:        &fakeKC{onLogin: fail},
			nilPass:   true,
			prompt:    prompter{secretErr: idp.ErrNoTerminal},
			wantErrIs: idp.ErrNoTerminal,
			wantAsked: []string{"secret: Keycloak password"},
		},
		{
			name:      "no terminal for the code",
			kc:        &fakeKC{onLogin: okLogin(page("otp-page.html")), onOTP: fail},
			prompt:    prompter{codeErr: idp.ErrNoTerminal},
			wantErrIs: idp.ErrNoTerminal, wantRequests: 2,
		},
		{
			name:     "no username",
			kc:       &fakeKC{onLogin: fail},
			username: "-",
			noPass:   true,
			wantErr:  "set username in the profile",
			wantType: new(*idp.ConfigError), // a profile mistake: exit 2
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.verify(t, run(t, tc))
		})
	}
}

func TestLoginBadURL(t *testing.T) {
	for _, raw := range []string{"", "id.example.com/realms/x", "ftp://id.example.com/x?token=secret"} {
		_, err := New().Login(t.Context(), &idp.Request{URL: raw, Client: idp.NewClient(nil, nil)})
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("Login(%q) = %v, want an error without the query", raw, err)
		}
	}
	if _, err := New().Login(t.Context(), &idp.Request{URL: "https://id.example.com/"}); err == nil {
		t.Error("Login without a client succeeded")
	}
}

func TestToggleAuth(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://h/auth/realms/r/protocol/saml/clients/aws?RelayState=x", "https://h/realms/r/protocol/saml/clients/aws?RelayState=x"},
		{"https://h/realms/r/protocol/saml/clients/aws", "https://h/auth/realms/r/protocol/saml/clients/aws"},
		{"https://h/sso/realms/r/protocol/saml/clients/aws", ""},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.in)
		alt, ok := toggleAuth(u)
		got := ""
		if ok {
			got = alt.String()
		}
		if got != tt.want {
			t.Errorf("toggleAuth(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

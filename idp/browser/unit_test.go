package browser

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"

	"github.com/saml2sts/saml2sts/idp"
)

func TestFind(t *testing.T) {
	files := map[string]bool{
		"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome":                 true,
		"/Users/ana/Applications/Chromium.app/Contents/MacOS/Chromium":                 true,
		`C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe`:                 true,
		`C:\Users\ana\AppData\Local\BraveSoftware\Brave-Browser\Application\brave.exe`: true,
		"/opt/chrome/chrome": true,
	}
	env := map[string]string{"HOME": "/Users/ana", "ProgramFiles(x86)": `C:\Program Files (x86)`, "LocalAppData": `C:\Users\ana\AppData\Local`}
	tests := []struct {
		name, goos, configured string
		onPath                 []string
		files                  map[string]bool
		want, err              string
	}{
		{name: "linux PATH order", goos: "linux", onPath: []string{"brave-browser", "chromium"}, want: "/usr/bin/chromium"},
		{name: "linux nothing", goos: "linux", err: "no Chrome, Chromium, Edge or Brave found"},
		{name: "configured path", goos: "linux", configured: "/opt/chrome/chrome", onPath: []string{"chromium"}, want: "/opt/chrome/chrome"},
		{name: "configured name on PATH", goos: "linux", configured: "brave-browser", onPath: []string{"brave-browser"}, want: "/usr/bin/brave-browser"},
		{name: "configured missing", goos: "linux", configured: "/nope/chrome", onPath: []string{"chromium"}, err: `browser_path "/nope/chrome" is not an executable file`},
		{name: "darwin applications", goos: "darwin", files: files, want: "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"},
		{name: "darwin home applications", goos: "darwin", files: map[string]bool{"/Users/ana/Applications/Chromium.app/Contents/MacOS/Chromium": true},
			want: "/Users/ana/Applications/Chromium.app/Contents/MacOS/Chromium"},
		{name: "windows edge", goos: "windows", files: files, want: `C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe`},
		{name: "windows brave per user", goos: "windows", files: map[string]bool{`C:\Users\ana\AppData\Local\BraveSoftware\Brave-Browser\Application\brave.exe`: true},
			want: `C:\Users\ana\AppData\Local\BraveSoftware\Brave-Browser\Application\brave.exe`},
		{name: "windows none", goos: "windows", err: "standard install places"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := system{goos: tt.goos, getenv: func(k string) string { return env[k] },
				lookPath: func(n string) (string, error) {
					for _, p := range tt.onPath {
						if p == n {
							return "/usr/bin/" + n, nil
						}
					}
					return "", errors.New("not found")
				},
				isFile: func(p string) bool { return tt.files[p] || (tt.configured != "" && p == tt.configured && files[p]) }}
			got, err := s.find(tt.configured)
			if tt.err != "" {
				var ce *idp.ConfigError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want a ConfigError with %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("find = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestHasDisplay(t *testing.T) {
	tests := []struct {
		goos string
		env  map[string]string
		want bool
	}{
		{"linux", nil, false},
		{"linux", map[string]string{"DISPLAY": ":0"}, true},
		{"linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, true},
		{"freebsd", map[string]string{"DISPLAY": ":1"}, true},
		{"darwin", nil, true},
		{"windows", nil, true},
	}
	for _, tt := range tests {
		s := system{goos: tt.goos, getenv: func(k string) string { return tt.env[k] }}
		if got := s.hasDisplay(); got != tt.want {
			t.Errorf("%s %v: hasDisplay = %v", tt.goos, tt.env, got)
		}
	}
}

func TestIsSignin(t *testing.T) {
	tests := map[string]bool{
		"https://signin.aws.amazon.com/saml":                     true,
		"https://signin.aws.amazon.com/saml?x=1":                 true,
		"https://eu-west-1.signin.aws.amazon.com/saml":           true,
		"https://us-gov-west-1.signin.amazonaws-us-gov.com/saml": true,
		"https://signin.amazonaws-us-gov.com/saml":               true,
		"https://signin.amazonaws.cn/saml":                       true,
		"https://cn-north-1.signin.amazonaws.cn/saml":            true,
		"https://signin.aws.amazon.com/saml/acs/SAMLSPD0123":     true,
		"https://signin.aws.amazon.com/static/saml":              true,
		"http://signin.aws.amazon.com/saml":                      false,
		"https://signin.aws.amazon.com/console":                  false,
		"https://evil.signin.aws.amazon.com/saml":                false,
		"https://signin.aws.amazon.com.evil.example/saml":        false,
		"https://signin.aws.amazon.com:8443/saml":                false,
		"https://xsignin.aws.amazon.com/saml":                    false,
	}
	for u, want := range tests {
		if got := isSignin(u); got != want {
			t.Errorf("isSignin(%s) = %v, want %v", u, got, want)
		}
	}
	if len(patterns()) != 6 {
		t.Errorf("want a global and a regional pattern per partition, got %d", len(patterns()))
	}
}

func TestSAMLFromBody(t *testing.T) {
	v, ok := samlFromBody([]byte("RelayState=x&SAMLResponse=PHNhbWw%2BPC9zYW1sPg%3D%3D"))
	if !ok || v != "PHNhbWw+PC9zYW1sPg==" {
		t.Errorf("got %q %v", v, ok)
	}
	if _, ok := samlFromBody([]byte("RelayState=x")); ok {
		t.Error("no SAMLResponse: want false")
	}
	if v, ok := samlFromBody([]byte("samlresponse=abc")); !ok || v != "abc" {
		t.Errorf("any case: %q %v", v, ok)
	}
}

// TestCookiesRoundTrip: cookies go from the jar into the browser and back
// with their scope, flags and expiry; session cookies stay session ones.
func TestCookiesRoundTrip(t *testing.T) {
	now := time.Now()
	jar, _ := idp.NewJar(nil)
	u, _ := url.Parse("https://sso.example.com/realms/corp/login")
	jar.SetCookies(u, []*http.Cookie{
		{Name: "KEYCLOAK_IDENTITY", Value: "tok", Path: "/realms/corp/", HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode},
		{Name: "pref", Value: "1", Domain: "example.com", Expires: now.Add(time.Hour)},
	})
	params := toBrowser(jar.All())
	if len(params) != 2 {
		t.Fatalf("params: %+v", params)
	}
	if p := params[0]; p.URL != "https://sso.example.com/" || p.Path != "/realms/corp/" || p.Domain != "" || !p.HTTPOnly || !p.Secure || p.SameSite != network.CookieSameSiteNone || p.Expires != 0 {
		t.Errorf("host-only session cookie: %+v", p)
	}
	if p := params[1]; p.Domain != ".example.com" || p.Path != "/realms/corp" || int64(p.Expires) != now.Add(time.Hour).Unix() {
		t.Errorf("domain cookie: %+v", p)
	}

	// Back, as Chrome reports them.
	out, _ := idp.NewJar(nil)
	fromBrowser(out, []*network.Cookie{
		{Name: "KEYCLOAK_IDENTITY", Value: "tok", Domain: "sso.example.com", Path: "/realms/corp/", HTTPOnly: true, Secure: true, Session: true, Expires: -1},
		{Name: "pref", Value: "1", Domain: ".example.com", Path: "/", Expires: float64(now.Add(time.Hour).Unix())},
		{Name: "gone", Value: "x", Domain: "sso.example.com", Path: "/", Expires: float64(now.Add(-time.Hour).Unix())},
	}, now)
	got := out.Cookies(&url.URL{Scheme: "https", Host: "sso.example.com", Path: "/realms/corp/x"})
	names := map[string]string{}
	for _, c := range got {
		names[c.Name] = c.Value
	}
	if names["KEYCLOAK_IDENTITY"] != "tok" || names["pref"] != "1" || names["gone"] != "" || len(names) != 2 {
		t.Errorf("cookies back in the jar: %v", names)
	}
	if other := out.Cookies(&url.URL{Scheme: "https", Host: "www.example.com", Path: "/"}); len(other) != 1 || other[0].Name != "pref" {
		t.Errorf("domain cookie scope: %v", other)
	}
}

func TestErrorsAndCodes(t *testing.T) {
	h := &HumanError{Title: "Security Key login", URL: "https://sso.example.com/x"}
	if !errors.Is(h, idp.ErrNoTerminal) || h.ExitCode() != 4 {
		t.Errorf("no terminal: want ErrNoTerminal and exit 4")
	}
	h.Interactive = true
	if errors.Is(h, idp.ErrNoTerminal) || !strings.Contains(h.Error(), "without --headless") {
		t.Errorf("headless with a terminal: %v", h)
	}
	ue := &idp.UnsupportedError{What: "WebAuthn (security key) authentication", Hint: "use OTP"}
	if !strings.HasSuffix(ue.Error(), "run again with --browser") || !HandOff(ue) {
		t.Errorf("unsupported: %q", ue.Error())
	}
	if HandOff(&idp.AuthError{Message: "no"}) || HandOff(idp.ErrNoTerminal) {
		t.Error("a refusal or a missing terminal is no reason to open a browser")
	}
}

// TestClick: the Entra pages answered by a button, by $Config.pgid.
func TestClick(t *testing.T) {
	tests := []struct {
		pgid, code, want string
	}{
		{"KmsiInterrupt", "", "#idSIButton9"},
		{"KmsiInterrupt", "123456", "#idSIButton9"},
		{"ConvergedTFA", "", "#idSubmit_SAOTCC_Continue"},
		{"ConvergedTFA", "123456", ""}, // the code is typed by the form heuristics
		{"ConvergedSignIn", "", ""},
		{"ConvergedError", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		req := &idp.Request{MFACode: tt.code}
		s := &session{req: req, in: idp.NewInputs(req)}
		if got := s.click(tt.pgid); got != tt.want {
			t.Errorf("click(%q) with code %q = %q, want %q", tt.pgid, tt.code, got, tt.want)
		}
	}
}

package httpx

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestTraceRedacts(t *testing.T) {
	const (
		bearer   = "Bearer tok-AUTH-9f8e"
		cookie   = "KEYCLOAK_SESSION=sess-COOKIE-77"
		stsTok   = "FwoGZXIvYXdzEXAMPLE-sts-token"
		pass     = "pw-SECRET-123"
		saml     = "PHNhbWxwOlJlc3BvbnNlIFNBTUwtU0VDUkVU"
		code     = "code-SECRET-42"
		sessCode = "sesscode-SECRET-x"
		setCook  = "AUTH_SESSION_ID=set-COOKIE-SECRET; Path=/; HttpOnly"
		locCode  = "loc-SECRET-code"
	)
	bodies := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- string(b)
		w.Header().Add("Set-Cookie", setCook)
		w.Header().Set("Location", "https://user:pw-IN-URL@idp.example/next?code="+locCode+"&tab_id=t1")
		w.WriteHeader(http.StatusFound)
	}))
	defer srv.Close()

	var trace lockedBuf
	rt, err := NewTransport(Options{Trace: &trace})
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"password": {pass}, "SAMLResponse": {saml}, "username": {"ana"}}.Encode()
	req, err := http.NewRequest("POST", srv.URL+"/login?code="+code+"&session_code="+sessCode+"&client_id=aws", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", bearer)
	req.Header.Set("Cookie", cookie)
	req.Header.Set("X-Amz-Security-Token", stsTok)
	req.Header.Set("Proxy-Authorization", "Basic cHJveHktU0VDUkVU")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if gotBody := <-bodies; gotBody != form {
		t.Errorf("tracing changed the body the server got: %q", gotBody)
	}

	out := trace.String()
	for _, s := range []string{bearer, "tok-AUTH", cookie, "sess-COOKIE", stsTok, pass, saml, code, sessCode,
		"set-COOKIE-SECRET", locCode, "pw-IN-URL", "cHJveHktU0VDUkVU"} {
		if strings.Contains(out, s) {
			t.Errorf("trace leaks %q:\n%s", s, out)
		}
	}
	for _, want := range []string{
		"username=ana", "client_id=aws", "tab_id=t1",
		"Authorization: REDACTED", "Cookie: REDACTED", "X-Amz-Security-Token: REDACTED", "Proxy-Authorization: REDACTED",
		"Set-Cookie: REDACTED", "password=REDACTED", "SAMLResponse=REDACTED", "code=REDACTED", "session_code=REDACTED",
		"> POST http://127.0.0.1:", "< 302 Found", "-> https://idp.example/next?code=REDACTED",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !strings.HasPrefix(l, "debug: http ") {
			t.Errorf("trace line without prefix: %q", l)
		}
	}
}

// TestTraceError: a refused request is traced by host only and still fails.
func TestTraceError(t *testing.T) {
	var trace lockedBuf
	c := &http.Client{Timeout: 5 * time.Second}
	rt, err := NewTransport(Options{Trace: &trace})
	if err != nil {
		t.Fatal(err)
	}
	c.Transport = rt
	_, err = c.Get("http://example.invalid/x?token=tok-SECRET")
	if err == nil {
		t.Fatal("plain http to example.invalid was allowed")
	}
	out := trace.String()
	if strings.Contains(out, "tok-SECRET") || !strings.Contains(out, "token=REDACTED") || !strings.Contains(out, "< GET example.invalid: refusing plain http") {
		t.Errorf("trace:\n%s", out)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://ana:pw@idp.example/realms/x?a=1", "https://idp.example/realms/x?a=1"},
		{"https://idp.example/p?SAMLRequest=abc&RelayState=r&Signature=s&SigAlg=x",
			"https://idp.example/p?RelayState=REDACTED&SAMLRequest=REDACTED&SigAlg=REDACTED&Signature=REDACTED"},
		{"https://idp.example/p?execution=e1&session_code=s&tab_id=t", "https://idp.example/p?execution=e1&session_code=REDACTED&tab_id=t"},
		{"https://idp.example/p?state=s&code=c", "https://idp.example/p?code=REDACTED&state=REDACTED"},
		{"https://idp.example/p?token=", "https://idp.example/p?token="},
		{"https://idp.example/p", "https://idp.example/p"},
		// Unparsable pairs are dropped rather than shown.
		{"https://idp.example/p?a=1;password=x", "https://idp.example/p"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := RedactURL(u); got != tt.want {
			t.Errorf("RedactURL(%s) = %s, want %s", tt.in, got, tt.want)
		}
		if u.String() != tt.in && u.User != nil {
			t.Errorf("RedactURL changed its argument")
		}
	}
}

func TestIsSecretParam(t *testing.T) {
	for _, n := range []string{"password", "Password", "SAMLResponse", "otp", "totp", "code", "session_code", "X-Amz-Security-Token",
		"X-Amz-Signature", "X-Amz-Credential", "client_secret", "RelayState", "id_token",
		// Today's IdPs: Okta, SimpleSAMLphp, AD FS MFA (the encrypted
		// Context of a half-done login) and its codes.
		"stateToken", "sessionToken", "stateHandle", "token", "AuthState", "Context", "Passcode", "SecurityCode", "security_code", "pwd", "j_pin", "answer"} {
		if !IsSecretParam(n) {
			t.Errorf("%s is not secret", n)
		}
	}
	for _, n := range []string{"username", "client_id", "execution", "tab_id", "kc_locale", "UserName", "AuthMethod", "redirectUrl", "loginToRp"} {
		if IsSecretParam(n) {
			t.Errorf("%s is secret", n)
		}
	}
}

package ststest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// federation sends a GET to the sign-in endpoint without following redirects.
func federation(t *testing.T, srv *Server, q url.Values) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(srv.SigninURL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func sessionJSON(id, key, token string) string {
	b, _ := json.Marshal(map[string]string{"sessionId": id, "sessionKey": key, "sessionToken": token})
	return string(b)
}

func TestGetSigninToken(t *testing.T) {
	idp, srv, clk := setup(t, Options{})
	c := issue(t, idp, srv)
	good := sessionJSON(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	tests := []struct {
		name    string
		q       url.Values
		advance time.Duration
		ok      bool
	}{
		{"ok", url.Values{"Action": {"getSigninToken"}, "Session": {good}}, 0, true},
		{"duration 15m", url.Values{"Action": {"getSigninToken"}, "Session": {good}, "SessionDuration": {"900"}}, 0, true},
		{"duration 12h", url.Values{"Action": {"getSigninToken"}, "Session": {good}, "SessionDuration": {"43200"}}, 0, true},
		{"duration short", url.Values{"Action": {"getSigninToken"}, "Session": {good}, "SessionDuration": {"899"}}, 0, false},
		{"duration long", url.Values{"Action": {"getSigninToken"}, "Session": {good}, "SessionDuration": {"43201"}}, 0, false},
		{"duration junk", url.Values{"Action": {"getSigninToken"}, "Session": {good}, "SessionDuration": {"1h"}}, 0, false},
		{"expired", url.Values{"Action": {"getSigninToken"}, "Session": {good}}, 2 * time.Hour, false},
		{"unknown key", url.Values{"Action": {"getSigninToken"}, "Session": {sessionJSON("ASIAUNKNOWN", c.SecretAccessKey, c.SessionToken)}}, 0, false},
		{"wrong secret", url.Values{"Action": {"getSigninToken"}, "Session": {sessionJSON(c.AccessKeyID, "x", c.SessionToken)}}, 0, false},
		{"wrong token", url.Values{"Action": {"getSigninToken"}, "Session": {sessionJSON(c.AccessKeyID, c.SecretAccessKey, "x")}}, 0, false},
		{"not JSON", url.Values{"Action": {"getSigninToken"}, "Session": {"{"}}, 0, false},
		{"no session", url.Values{"Action": {"getSigninToken"}}, 0, false},
		{"no action", url.Values{"Session": {good}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Advance(tt.advance)
			defer clk.Advance(-tt.advance)
			resp, body := federation(t, srv, tt.q)
			if !tt.ok {
				if resp.StatusCode != 400 || strings.Contains(body, c.SecretAccessKey) {
					t.Errorf("%d %q, want 400 without the secret", resp.StatusCode, body)
				}
				return
			}
			var out struct{ SigninToken string }
			if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &out) != nil || out.SigninToken == "" {
				t.Fatalf("%d %q, want {\"SigninToken\":...}", resp.StatusCode, body)
			}
			if got, ok := srv.SigninCredentials(out.SigninToken); !ok || got.AccessKeyID != c.AccessKeyID {
				t.Errorf("SigninCredentials = %v, %v", got.AccessKeyID, ok)
			}
		})
	}
	if n := srv.Calls("getSigninToken"); n != len(tests)-1 {
		t.Errorf("Calls(getSigninToken) = %d, want %d", n, len(tests)-1)
	}
}

func TestSigninLogin(t *testing.T) {
	idp, srv, clk := setup(t, Options{})
	c := issue(t, idp, srv)
	resp, body := federation(t, srv, url.Values{"Action": {"getSigninToken"}, "Session": {sessionJSON(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)}})
	var out struct{ SigninToken string }
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &out) != nil {
		t.Fatalf("getSigninToken: %d %s", resp.StatusCode, body)
	}
	const dest = "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"
	login := func(token, dest string) url.Values {
		return url.Values{"Action": {"login"}, "Issuer": {"test"}, "Destination": {dest}, "SigninToken": {token}}
	}
	tests := []struct {
		name    string
		q       url.Values
		advance time.Duration
		status  int
	}{
		{"ok", login(out.SigninToken, dest), 0, 302},
		{"ok again within 15m", login(out.SigninToken, dest), 14 * time.Minute, 302},
		{"token expired", login(out.SigninToken, dest), 16 * time.Minute, 400},
		{"unknown token", login("nope", dest), 0, 400},
		{"no token", login("", dest), 0, 400},
		{"relative destination", login(out.SigninToken, "/console/home"), 0, 400},
		{"no destination", login(out.SigninToken, ""), 0, 400},
		{"bad scheme", login(out.SigninToken, "javascript:alert(1)"), 0, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Advance(tt.advance)
			defer clk.Advance(-tt.advance)
			resp, body := federation(t, srv, tt.q)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d %q, want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status == 302 && resp.Header.Get("Location") != dest {
				t.Errorf("Location = %q, want %q", resp.Header.Get("Location"), dest)
			}
		})
	}
	if n := srv.Calls("login"); n != len(tests) {
		t.Errorf("Calls(login) = %d, want %d", n, len(tests))
	}
	// STS itself is untouched by the sign-in route.
	if n := srv.Calls("GetCallerIdentity"); n != 0 {
		t.Errorf("GetCallerIdentity calls = %d", n)
	}
}

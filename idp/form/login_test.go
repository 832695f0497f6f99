package form

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/saml2sts/saml2sts/idp"
)

// scripted is a tiny IdP whose handler is the test's.
func scripted(t *testing.T, h http.HandlerFunc) (*httptest.Server, *int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

const loginPage = `<html><head><title>Sign in</title></head><body>%s
<form method="post" action="/login"><input name="user"><input type="password" name="pass"><input type="hidden" name="st" value="42"></form></body></html>`

func TestLoginStopsAfterMaxPages(t *testing.T) {
	// A page that submits itself to itself forever.
	served := 0
	srv, n := scripted(t, func(w http.ResponseWriter, r *http.Request) {
		if served++; served > 50 {
			t.Error("no bound on pages")
			fmt.Fprint(w, "<title>stop</title>")
			return
		}
		fmt.Fprint(w, `<html><head><title>Redirecting</title></head><body onload="document.forms[0].submit()">
<form method="post" action="/loop"><input type="hidden" name="s" value="1"></form></body></html>`)
	})
	r := newRun(t, srv.URL+"/start", nil)
	_, err := New().Login(context.Background(), r.req)
	var pe *idp.PageError
	if !errors.As(err, &pe) || !strings.Contains(pe.Why, "still no SAML response after 12 pages") || pe.Title != "Redirecting" {
		t.Fatalf("err = %v", err)
	}
	if *n != maxPages {
		t.Errorf("fetched %d pages, want %d", *n, maxPages)
	}
}

func TestLoginPostsPasswordOnce(t *testing.T) {
	// The IdP shows the form again with no recognisable message: that is a
	// refusal, not a reason to post again.
	posts := 0
	srv, _ := scripted(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts++
			r.ParseForm()
			if r.PostForm.Get("user") != user || r.PostForm.Get("pass") != "pw" || r.PostForm.Get("st") != "42" {
				t.Errorf("posted %v", r.PostForm)
			}
		}
		fmt.Fprintf(w, loginPage, "")
	})
	r := newRun(t, srv.URL+"/start", nil)
	r.password = "pw"
	_, err := New().Login(context.Background(), r.req)
	var ae *idp.AuthError
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, "the login form was shown again") {
		t.Fatalf("err = %v", err)
	}
	if posts != 1 || r.pwCalls != 1 {
		t.Errorf("posts = %d, password calls = %d; want 1 and 1", posts, r.pwCalls)
	}
}

func TestLoginDeadEndIsSavedRedacted(t *testing.T) {
	// The IdP echoes the password (HTML-escaped) into an unknown page.
	srv, _ := scripted(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			r.ParseForm()
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `<html><head><title>Blocked</title></head><body><p class="error">You typed %s</p>
<a href="/help?session=abc123">help</a></body></html>`, html.EscapeString(r.PostForm.Get("pass")))
			return
		}
		fmt.Fprintf(w, loginPage, "")
	})
	r := newRun(t, srv.URL+"/start", nil)
	_, err := New().Login(context.Background(), r.req)
	var pe *idp.PageError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want PageError", err)
	}
	if pe.Title != "Blocked" || pe.URL != srv.URL+"/login" || !strings.Contains(pe.Why, "HTTP 403") ||
		!strings.Contains(pe.Why, `the page says "You typed REDACTED"`) || pe.Saved != "/tmp/form-page2.html" {
		t.Errorf("page error = %+v", pe)
	}
	saved := string(r.debug.pages["form-page2"])
	if saved == "" || strings.Contains(saved, html.EscapeString(password)) || strings.Contains(saved, password) || strings.Contains(saved, "abc123") {
		t.Errorf("saved page is not redacted:\n%s", saved)
	}
	if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), html.EscapeString(password)) {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestLoginBadInput(t *testing.T) {
	tests := []struct {
		url  string
		opts map[string]string
		want string
	}{
		{"idp.example.com/sso?token=secret", nil, `form: url "idp.example.com/sso" is not an absolute https url`},
		{"ftp://idp.example.com/", nil, "is not an absolute https url"},
		{"https://idp.example.com/", map[string]string{KeyErrorSelector: "div["}, `form: form_error_selector "div[" is not a CSS selector`},
	}
	for _, tt := range tests {
		r := newRun(t, tt.url, nil)
		r.req.Options = tt.opts
		_, err := New().Login(context.Background(), r.req)
		var ce *idp.ConfigError // a profile mistake: exit 2
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret") || !errors.As(err, &ce) {
			t.Errorf("%s: err = %v, want a ConfigError with %q", tt.url, err, tt.want)
		}
	}
	if _, err := New().Login(context.Background(), &idp.Request{URL: "https://x"}); err == nil {
		t.Error("no client: want an error")
	}
}

func TestLoginPromptsForPasswordWithoutCallback(t *testing.T) {
	srv, _ := scripted(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, loginPage, "")
	})
	r := newRun(t, srv.URL+"/", nil)
	r.req.Password = nil
	_, err := New().Login(context.Background(), r.req)
	if !errors.Is(err, idp.ErrNoTerminal) || len(r.prompt.asked) != 1 || r.prompt.asked[0] != "secret: Password" {
		t.Fatalf("err = %v, asked %v", err, r.prompt.asked)
	}
}

// TestCheck is what configure and login refuse before any request (exit 2).
func TestCheck(t *testing.T) {
	tests := []struct {
		url, mfa string
		opts     map[string]string
		want     string // "" = accepted
	}{
		{url: "https://idp.example.edu/sso", mfa: "auto"},
		{url: "https://idp.example.edu/sso", mfa: ""},
		{url: "https://idp.example.edu/sso", mfa: "AUTO", opts: map[string]string{KeyErrorSelector: "p.err"}},
		{url: "https://idp.example.edu/sso", mfa: "push"}, // a Duo factor, behind Duo
		{url: "https://idp.example.edu/sso", mfa: "totp"},
		{url: "https://idp.example.edu/sso", mfa: "yubikey", want: `form: mfa "yubikey" has no effect with provider form`},
		{url: "https://idp.example.edu/sso", mfa: "sms", want: "set mfa to auto (or, behind Duo, to push, passcode or call)"},
		{url: "idp.example.edu/sso?token=secret", want: `form: url "idp.example.edu/sso" is not an absolute https url`},
		{url: "https://idp.example.edu/sso", opts: map[string]string{KeyErrorSelector: "div["}, want: `form_error_selector "div[" is not a CSS selector`},
	}
	for _, tt := range tests {
		err := New().Check(&idp.Request{URL: tt.url, MFA: tt.mfa, Options: tt.opts})
		var ce *idp.ConfigError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s mfa %q: %v, want accepted", tt.url, tt.mfa, err)
		case tt.want != "" && (!errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret")):
			t.Errorf("%s mfa %q: %v, want a ConfigError with %q", tt.url, tt.mfa, err, tt.want)
		}
	}
}

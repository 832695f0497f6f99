package idp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/saml2sts/saml2sts/internal/httpx"
)

// hops redirects /hop/<n> to /hop/<n+1> until n reaches last.
func hops(t *testing.T, last int) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if ua := r.Header.Get("User-Agent"); ua != "saml2sts/"+Version {
			t.Errorf("hop %s: User-Agent %q, want saml2sts/%s", r.URL.Path, ua, Version)
		}
		if al := r.Header.Get("Accept-Language"); al != "en" {
			t.Errorf("hop %s: Accept-Language %q, want en", r.URL.Path, al)
		}
		i, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
		if i >= last {
			fmt.Fprint(w, "<title>done</title>")
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hop/%d?session_code=SECRET%d", i+1, i+1), http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestClientRedirects(t *testing.T) {
	rt, err := httpx.NewTransport(httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		last     int
		wantErr  bool
		requests int32
	}{
		{"ten redirects are followed", 10, false, 11},
		{"the eleventh is refused", 11, true, 11},
		{"a loop is cut short", 1 << 30, true, 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, n := hops(t, tt.last)
			p, err := Fetch(t.Context(), NewClient(rt, nil), "GET", srv.URL+"/hop/0", nil)
			if got := n.Load(); got != tt.requests {
				t.Errorf("server saw %d requests, want %d", got, tt.requests)
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				if p.Title() != "done" || p.URL.Path != "/hop/10" {
					t.Errorf("ended at %s titled %q", p.URL, p.Title())
				}
				return
			}
			if !errors.Is(err, ErrTooManyRedirects) {
				t.Fatalf("err = %v, want ErrTooManyRedirects", err)
			}
			if msg := err.Error(); !strings.Contains(msg, "/hop/11") || strings.Contains(msg, "SECRET") {
				t.Errorf("error should name the next URL without its secret query: %s", msg)
			}
		})
	}
}

func TestClientKeepsCallerHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("User-Agent")+"|"+r.Header.Get("Accept-Language"))
	}))
	defer srv.Close()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL, nil)
	req.Header.Set("User-Agent", "custom")
	resp, err := NewClient(nil, nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != "custom|en" {
		t.Errorf("headers sent %q, want %q", got, "custom|en")
	}
	if req.Header.Get("Accept-Language") != "" {
		t.Error("client changed the caller's request headers")
	}
}

// TestClientKeepsSecretsOnTheirHost: a request carrying a secret of the
// login goes only to the host of the last page; one without secrets, or
// to that host, goes anywhere.
func TestClientKeepsSecretsOnTheirHost(t *testing.T) {
	var other atomic.Int32
	by := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { other.Add(1) }))
	defer by.Close()
	byURL := strings.Replace(by.URL, "127.0.0.1", "localhost", 1) // another host
	idpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/307" {
			http.Redirect(w, r, byURL+"/collect", http.StatusTemporaryRedirect)
		}
	}))
	defer idpSrv.Close()
	rt, _ := httpx.NewTransport(httpx.Options{})
	c := NewClient(rt, nil)
	in := NewInputs(&Request{Client: c})
	ctx := context.Background()
	if _, err := Fetch(ctx, c, "GET", idpSrv.URL+"/login", nil); err != nil {
		t.Fatal(err)
	}
	form := url.Values{}
	in.Fill(form, "pwd", "hunter2-secret")
	for _, target := range []string{byURL + "/collect", idpSrv.URL + "/307"} {
		_, err := Fetch(ctx, c, "POST", target, form)
		var se *SecretHostError
		if !errors.As(err, &se) || se.Host != "localhost" || se.Page != "127.0.0.1" {
			t.Errorf("POST %s: err = %v, want a SecretHostError", target, err)
		}
	}
	if _, err := Fetch(ctx, c, "GET", byURL+"/x?q=hunter2-secret", nil); err == nil {
		t.Error("a secret in the query went to another host")
	}
	if n := other.Load(); n != 0 {
		t.Errorf("the other host got %d requests", n)
	}
	// Without a secret, other hosts are fine (redirect chains, continue
	// forms); with one, the page's own host is.
	if _, err := Fetch(ctx, c, "POST", byURL+"/collect", url.Values{"x": {"1"}}); err != nil || other.Load() != 1 {
		t.Errorf("a secret-free POST to another host: %v", err)
	}
	if _, err := Fetch(ctx, c, "POST", byURL+"/collect", form); err != nil || other.Load() != 2 {
		t.Errorf("a POST to the host of the last page: %v", err)
	}
}

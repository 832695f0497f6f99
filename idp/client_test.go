package idp

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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

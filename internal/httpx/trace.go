package httpx

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// secretHeaders are never printed, only marked as present.
var secretHeaders = map[string]bool{
	"Authorization":        true,
	"Cookie":               true,
	"Set-Cookie":           true,
	"X-Amz-Security-Token": true,
	"Proxy-Authorization":  true,
}

// secretParams are query or form names whose values are never printed.
var secretParams = []string{"password", "passwd", "pass", "otp", "totp", "code", "token", "saml",
	"secret", "session", "signature", "credential", "sig", "state", "assertion", "ticket",
	"context", // AD FS MFA: the encrypted state of a password-verified login
	// Entra: ctx/request (the sign-in state), canary, otc (the MFA code),
	// and WS-Federation's wresult/wctx.
	"ctx", "request", "canary", "otc", "wresult"}

// IsSecretParam reports whether a query or form field name looks secret.
func IsSecretParam(name string) bool {
	n := strings.ToLower(name)
	for _, s := range secretParams {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// RedactURL returns u with userinfo and secret-looking query values hidden.
func RedactURL(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		c.RawQuery = RedactValues(c.Query()).Encode()
	}
	return c.String()
}

// RedactValues copies v with the values of secret-looking names replaced.
func RedactValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		for _, s := range vs {
			if IsSecretParam(k) && s != "" {
				s = "REDACTED"
			}
			out.Add(k, s)
		}
	}
	return out
}

type tracer struct {
	next http.RoundTripper
	mu   sync.Mutex
	w    io.Writer
}

func (t *tracer) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	t.printf("> %s %s%s\n", r.Method, RedactURL(r.URL), headerList(r.Header))
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-www-form-urlencoded") && r.GetBody != nil {
		if body, err := r.GetBody(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(body, 1<<20))
			body.Close()
			if v, err := url.ParseQuery(string(b)); err == nil {
				t.printf(">   form %s\n", RedactValues(v).Encode())
			}
		}
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		t.printf("< %s %s: %v\n", r.Method, r.URL.Host, err)
		return nil, err
	}
	loc := ""
	if l := resp.Header.Get("Location"); l != "" {
		if u, err := url.Parse(l); err == nil {
			loc = " -> " + RedactURL(u)
		}
	}
	t.printf("< %s (%s)%s%s\n", resp.Status, time.Since(start).Round(time.Millisecond), loc, headerList(resp.Header))
	return resp, nil
}

func (t *tracer) printf(format string, a ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "debug: http "+format, a...)
}

// headerList names the secret headers present, without their values.
func headerList(h http.Header) string {
	var names []string
	for k := range h {
		if secretHeaders[http.CanonicalHeaderKey(k)] {
			names = append(names, http.CanonicalHeaderKey(k)+": REDACTED")
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return " [" + strings.Join(names, ", ") + "]"
}

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
	// Short names forms use for passwords, PINs and security answers; values
	// are scrubbed by value as well (Secrets), these also hide what a page
	// prefilled.
	"pwd", "pin", "answer",
	"sid", "xsrf", "txid", "authkey"} // Duo's prompt session, its form token and transactions

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
				s = Redacted
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
	sec := SecretsFrom(r.Context())
	sec.AddCookies(r, nil)
	t.printf(sec, "> %s %s%s\n", r.Method, RedactURL(r.URL), headerList(r.Header))
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-www-form-urlencoded") && r.GetBody != nil {
		if body, err := r.GetBody(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(body, 1<<20))
			body.Close()
			if v, err := url.ParseQuery(string(b)); err == nil {
				t.printf(sec, ">   form %s\n", redactForm(v, sec).Encode())
			}
		}
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		t.printf(sec, "< %s %s: %v\n", r.Method, r.URL.Host, err)
		return nil, err
	}
	sec.AddCookies(nil, resp) // before the Location line, which may repeat one
	loc := ""
	if l := resp.Header.Get("Location"); l != "" {
		if u, err := url.Parse(l); err == nil {
			loc = " -> " + RedactURL(u)
		}
	}
	t.printf(sec, "< %s (%s)%s%s\n", resp.Status, time.Since(start).Round(time.Millisecond), loc, headerList(resp.Header))
	return resp, nil
}

// redactForm is RedactValues that also hides every value holding a
// secret of sec, whatever its field is called.
func redactForm(v url.Values, sec *Secrets) url.Values {
	out := RedactValues(v)
	for k, vs := range out {
		for i, s := range vs {
			if sec.Contains(s) {
				vs[i] = Redacted
			}
		}
		out[k] = vs
	}
	return out
}

// printf writes one trace line, sec's values scrubbed.
func (t *tracer) printf(sec *Secrets, format string, a ...any) {
	line := sec.Scrub(fmt.Sprintf(format, a...))
	t.mu.Lock()
	defer t.mu.Unlock()
	io.WriteString(t.w, "debug: http "+line)
}

// headerList names the secret headers present, without their values.
func headerList(h http.Header) string {
	var names []string
	for k := range h {
		if secretHeaders[http.CanonicalHeaderKey(k)] {
			names = append(names, http.CanonicalHeaderKey(k)+": "+Redacted)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return " [" + strings.Join(names, ", ") + "]"
}

package idp

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/saml2sts/saml2sts/internal/httpx"
)

// Version names the build in the User-Agent; release builds set it with
// -ldflags "-X github.com/saml2sts/saml2sts/idp.Version=v1.2.3".
var Version = "dev"

const (
	// maxRedirects matches browsers' order of magnitude and stops
	// redirect loops between an IdP and a misconfigured relying party.
	maxRedirects = 10
	// requestTimeout bounds one request with its redirects and body. MFA
	// prompts happen between requests, so they are not limited by it.
	requestTimeout = 60 * time.Second
)

// NewClient returns the client adapters use: rt (from httpx.NewTransport)
// for TLS, proxies and tracing, jar for the IdP session, at most
// 10 redirects, a 60 s limit per request, and fixed User-Agent and
// Accept-Language headers (English keeps IdP messages predictable).
//
// The client has its own set of secrets ([ClientSecrets]): the login's
// [Inputs] add the password and codes to it, the client adds the session
// cookies it sends and receives, and every request carries it in its
// context, so the --debug trace scrubs them by value. A request whose
// query or body carries one of them goes only to the host of the last
// response (the page it was filled in on): a form whose action is another
// host, or a 307 re-posting the password elsewhere, fails with a
// [*SecretHostError] before anything is sent.
func NewClient(rt http.RoundTripper, jar http.CookieJar) *http.Client {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &http.Client{
		Transport:     headers{next: rt, secrets: &httpx.Secrets{}, last: &lastHost{}},
		Jar:           jar,
		Timeout:       requestTimeout,
		CheckRedirect: checkRedirect,
	}
}

// ErrTooManyRedirects is wrapped by the error a client from [NewClient]
// returns when a chain of redirects is too long.
var ErrTooManyRedirects = errors.New("too many redirects")

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects { // via holds the requests so far, the first included
		return fmt.Errorf("%w: gave up after %d, next was %s; the IdP or the profile url is misconfigured",
			ErrTooManyRedirects, maxRedirects, httpx.RedactURL(req.URL))
	}
	return nil
}

// ClientSecrets returns the secrets of a client from [NewClient], or nil
// for any other client.
func ClientSecrets(c *http.Client) *httpx.Secrets {
	if c == nil {
		return nil
	}
	if h, ok := c.Transport.(headers); ok {
		return h.secrets
	}
	return nil
}

// SecretHostError is a request carrying a secret of the login to another
// host than the page it came from: a hostile or broken page, refused.
type SecretHostError struct {
	Host string // where the request was going
	Page string // host of the page it came from
}

func (e *SecretHostError) Error() string {
	return fmt.Sprintf("refusing to send the password, a code or a session token to %s: the page asking for it came from %s; "+
		"a form or redirect taking secrets to another host is never followed (check the profile's url)", e.Host, e.Page)
}

// ExitCode is 1: not the user's credentials, not the configuration.
func (e *SecretHostError) ExitCode() int { return 1 }

// lastHost is the host of the last response a client got.
type lastHost struct {
	mu   sync.Mutex
	host string
}

func (l *lastHost) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.host
}

func (l *lastHost) set(h string) {
	l.mu.Lock()
	l.host = h
	l.mu.Unlock()
}

// headers sets the headers every IdP request carries, on every hop, hands
// the client's secrets to the transport below (the trace) and keeps them
// on the host they were given for.
type headers struct {
	next    http.RoundTripper
	secrets *httpx.Secrets
	last    *lastHost
}

func (h headers) RoundTrip(r *http.Request) (*http.Response, error) {
	if page := h.last.get(); page != "" && !strings.EqualFold(page, r.URL.Hostname()) && carriesSecret(r, h.secrets) {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, &SecretHostError{Host: r.URL.Hostname(), Page: page}
	}
	// A RoundTripper must not change its request: work on a copy.
	r = r.Clone(httpx.WithSecrets(r.Context(), h.secrets))
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", "saml2sts/"+Version)
	}
	if r.Header.Get("Accept-Language") == "" {
		r.Header.Set("Accept-Language", "en")
	}
	h.secrets.AddCookies(r, nil)
	resp, err := h.next.RoundTrip(r)
	if resp != nil {
		h.secrets.AddCookies(nil, resp)
		h.last.set(r.URL.Hostname())
	}
	return resp, err
}

// carriesSecret reports whether r's query or (re-readable) body holds a
// secret of s.
func carriesSecret(r *http.Request, s *httpx.Secrets) bool {
	if s.Contains(r.URL.RawQuery) {
		return true
	}
	if r.Body == nil || r.Body == http.NoBody || r.GetBody == nil {
		return false
	}
	body, err := r.GetBody()
	if err != nil {
		return true // cannot tell: assume the worst
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, 1<<20))
	return err != nil || s.Contains(string(b))
}

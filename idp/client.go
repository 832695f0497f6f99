package idp

import (
	"errors"
	"fmt"
	"net/http"
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
// context, so the --debug trace scrubs them by value.
func NewClient(rt http.RoundTripper, jar http.CookieJar) *http.Client {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &http.Client{
		Transport:     headers{next: rt, secrets: &httpx.Secrets{}},
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

// headers sets the headers every IdP request carries, on every hop, and
// hands the client's secrets to the transport below (the trace).
type headers struct {
	next    http.RoundTripper
	secrets *httpx.Secrets
}

func (h headers) RoundTrip(r *http.Request) (*http.Response, error) {
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
	}
	return resp, err
}

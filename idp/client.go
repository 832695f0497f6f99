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
func NewClient(rt http.RoundTripper, jar http.CookieJar) *http.Client {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &http.Client{
		Transport:     headers{rt},
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

// headers sets the headers every IdP request carries, on every hop.
type headers struct{ next http.RoundTripper }

func (h headers) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("User-Agent") != "" && r.Header.Get("Accept-Language") != "" {
		return h.next.RoundTrip(r)
	}
	r = r.Clone(r.Context()) // a RoundTripper must not change its request
	if r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", "saml2sts/"+Version)
	}
	if r.Header.Get("Accept-Language") == "" {
		r.Header.Set("Accept-Language", "en")
	}
	return h.next.RoundTrip(r)
}

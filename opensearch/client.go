package opensearch

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Doer sends one OpenSearch API call. *Client (SigV4) and *Dashboards
// (console proxy) implement it.
type Doer interface {
	Do(ctx context.Context, r *Request) (*Response, error)
}

// Request is one API call.
type Request struct {
	Method string
	// Path as typed: "/logs-*/_search", "/a,b/_count", "/ü x/_doc/1"; may
	// hold "?query". A valid %XX escape is kept (a "/" in a document id is
	// %2F); everything else is escaped for the wire.
	Path  string
	Query url.Values // merged with any query in Path
	// Body is nil for none; in memory so every retry is re-signed.
	Body []byte
	// Header holds extra headers; Content-Type defaults to
	// application/json (application/x-ndjson for _bulk and _msearch).
	Header http.Header
}

// contentType is the request's Content-Type, defaulted by path.
func (r *Request) contentType() string {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		return ct
	}
	p, _, _ := strings.Cut(r.Path, "?")
	p = strings.TrimRight(p, "/")
	if strings.HasSuffix(p, "_bulk") || strings.HasSuffix(p, "_msearch") {
		return "application/x-ndjson"
	}
	return "application/json"
}

func (r *Request) method() string {
	if r.Method == "" {
		return http.MethodGet
	}
	return strings.ToUpper(r.Method)
}

// Response is the server's answer. Body streams; the caller must Close it.
type Response struct {
	Status int
	Header http.Header
	Body   io.ReadCloser

	diag *diagContext // what Err needs to explain a 401/403
}

// Options configure a Client.
type Options struct {
	Endpoint    *Endpoint
	Credentials aws.CredentialsProvider // nil = send unsigned (loopback/bench; CLI --no-sign)
	// ExpiryWindow is how long before their expiry the credentials are
	// asked for again (default 2m). Set it no longer than the provider's
	// own refresh window, or the provider is asked on every request
	// while it still serves the same credentials. An *aws.CredentialsCache
	// given as Credentials is used as is, with its own window.
	ExpiryWindow time.Duration
	Transport    http.RoundTripper // the shared internal/httpx transport
	Retry        Retry             // zero = defaults
	Debug        io.Writer         // redacted trace; canonical request when the signature mismatches
	// Caller returns the caller ARN for 403 diagnosis (GetCallerIdentity);
	// called only when a 403 needs it.
	Caller func(ctx context.Context) (string, error)
	Now    func() time.Time
}

// DefaultExpiryWindow is Options.ExpiryWindow's default.
const DefaultExpiryWindow = 2 * time.Minute

// Client sends SigV4-signed calls to one endpoint. It is safe for
// concurrent use.
type Client struct {
	o     Options
	hc    *http.Client
	creds *aws.CredentialsCache
	sign  signer
	retry retrier

	renewMu sync.Mutex // one renewal after an expired-token 403
}

// New returns a Client for o.Endpoint.
func New(o Options) (*Client, error) {
	if o.Endpoint == nil || o.Endpoint.URL == nil {
		return nil, errors.New("opensearch: no endpoint")
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Client{
		o: o,
		// No redirects: a signed request must not be replayed elsewhere,
		// and a 3xx (a login page) is an answer to show.
		hc: &http.Client{Transport: o.Transport, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		sign:  signer{service: o.Endpoint.Service, region: o.Endpoint.Region, v: v4.NewSigner()},
		retry: newRetrier(o.Retry, o.Debug),
	}
	if o.Credentials != nil {
		if cc, ok := o.Credentials.(*aws.CredentialsCache); ok {
			c.creds = cc
		} else {
			c.creds = aws.NewCredentialsCache(o.Credentials, func(co *aws.CredentialsCacheOptions) {
				// Renew a little early: a long export must not sign
				// with credentials that expire in flight.
				co.ExpiryWindow = cmp.Or(o.ExpiryWindow, DefaultExpiryWindow)
			})
		}
	}
	return c, nil
}

// Do sends r. 429/502/503/504 and connection failures before a response
// are retried (re-signed each time); a 403 saying the token expired
// renews the credentials and retries once. A successful body is streamed.
func (c *Client) Do(ctx context.Context, r *Request) (*Response, error) {
	u, err := buildURL(c.o.Endpoint.URL, r.Path, r.Query)
	if err != nil {
		return nil, err
	}
	d := &diagContext{
		service: c.o.Endpoint.Service, region: c.o.Endpoint.Region,
		method: r.method(), path: r.Path, signed: c.creds != nil,
		caller: c.o.Caller, debug: c.o.Debug,
	}
	renewed := false
	for {
		resp, err := c.retry.do(ctx, r.method()+" "+u.EscapedPath(), func() (*http.Response, error) {
			req, err := c.request(ctx, r, u, d)
			if err != nil {
				return nil, err
			}
			return c.hc.Do(req)
		})
		if err != nil {
			return nil, err
		}
		out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: resp.Body, diag: d}
		if resp.StatusCode != http.StatusForbidden || c.creds == nil {
			return out, nil
		}
		// Peek at the 403: an expired token is ours to fix.
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrBody))
		resp.Body.Close()
		out.Body = io.NopCloser(bytes.NewReader(body))
		if renewed || !tokenExpired(body) {
			return out, nil
		}
		renewed = true
		c.debugf("403 expired token: renewing the credentials and retrying once")
		c.expired(ctx, d.signedWith())
	}
}

// Expirer is a credentials provider that can be told the server refused
// its credentials as expired although they looked fresh (clock skew, an
// ended session), so that its next Retrieve renews them.
type Expirer interface {
	Expired(accessKeyID string)
}

// expired drops the refused credentials, once for all concurrent callers:
// if another request already renewed them, the new ones stay.
func (c *Client) expired(ctx context.Context, key string) {
	if e, ok := c.o.Credentials.(Expirer); ok {
		e.Expired(key)
	}
	c.renewMu.Lock()
	defer c.renewMu.Unlock()
	if cur, err := c.creds.Retrieve(ctx); err != nil || cur.AccessKeyID == key {
		c.creds.Invalidate()
	}
}

// request builds and signs one attempt.
func (c *Client) request(ctx context.Context, r *Request, u *url.URL, d *diagContext) (*http.Request, error) {
	// The URL is set, not parsed from its string: a parse per attempt was
	// a quarter of a signed request's build time, and RawPath stays exact.
	req, err := http.NewRequestWithContext(ctx, r.method(), "", nil)
	if err != nil {
		return nil, err
	}
	wire := *u
	req.URL, req.Host = &wire, wire.Host
	if r.Body != nil {
		req.Header.Set("Content-Type", r.contentType())
	}
	// Only x-amz-* extras are signed with the minimal set; proxies and
	// load balancers rewrite the others.
	for k, vs := range r.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-") {
			req.Header[http.CanonicalHeaderKey(k)] = vs
		}
	}
	if c.creds != nil {
		creds, err := c.creds.Retrieve(ctx)
		if err != nil {
			return nil, unwrapCredsErr(ctx, err)
		}
		canon, err := c.sign.sign(ctx, req, r.Body, creds, c.o.Now())
		if err != nil {
			return nil, err
		}
		d.setCanonical(canon, creds.SessionToken, creds.AccessKeyID)
	}
	for k, vs := range r.Header {
		if _, set := req.Header[http.CanonicalHeaderKey(k)]; !set {
			req.Header[http.CanonicalHeaderKey(k)] = vs
		}
	}
	if r.Body != nil {
		body := r.Body
		req.ContentLength = int64(len(body))
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return req, nil
}

func (c *Client) debugf(format string, a ...any) {
	if c.o.Debug != nil {
		fmt.Fprintf(c.o.Debug, "debug: opensearch: "+format+"\n", a...)
	}
}

// unwrapCredsErr drops the SDK cache's wrapping so the broker's typed
// errors (login needed, IdP refused) keep their message and exit code.
func unwrapCredsErr(ctx context.Context, err error) error {
	var rc *aws.RequestCanceledError
	if errors.As(err, &rc) && ctx.Err() != nil {
		return ctx.Err()
	}
	if strings.HasPrefix(err.Error(), "failed to refresh cached credentials, ") {
		if u := errors.Unwrap(err); u != nil {
			return u
		}
	}
	return err
}

// tokenExpired reports whether a 403 body says the session token expired.
func tokenExpired(body []byte) bool {
	return bytes.Contains(bytes.ToLower(body), []byte("security token included in the request is expired"))
}

package opensearch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/saml2sts/saml2sts/internal/exitcode"
	"github.com/saml2sts/saml2sts/sts"
)

// DashboardsOptions configure a Dashboards console-proxy Doer.
type DashboardsOptions struct {
	// URL is the Dashboards base, e.g.
	// https://search-x.eu-west-1.es.amazonaws.com/_dashboards (or
	// …/_plugin/kibana on legacy Elasticsearch domains).
	URL *url.URL
	// Assertion returns a fresh base64 SAMLResponse from the IdP's app
	// for this Dashboards (IdP-initiated, no STS call).
	Assertion func(ctx context.Context) (string, error)
	// Cookies keeps the session cookies between runs (nil = none).
	Cookies   CookieStore
	Transport http.RoundTripper
	Retry     Retry
	Debug     io.Writer
	Now       func() time.Time
}

// CookieStore keeps the Dashboards session cookies between runs.
type CookieStore interface {
	Load() ([]*http.Cookie, error)
	Save([]*http.Cookie) error
}

// Dashboards sends API calls through the OpenSearch Dashboards console
// proxy (POST <base>/api/console/proxy?path=…&method=…) with the session
// cookies of an IdP-initiated SAML login: the way into domains that admit
// SAML users only. It is safe for concurrent use.
type Dashboards struct {
	o     DashboardsOptions
	hc    *http.Client
	retry retrier
	xsrf  string // osd-xsrf, or kbn-xsrf for Kibana

	mu      sync.Mutex
	cookies []*http.Cookie // security_authentication*
	loaded  bool
	gen     int // logins made, so parallel 401s log in once
}

// cookiePrefix names the security plugin's session cookies; since 2.7 the
// JWT is split over security_authentication_saml1..N, all needed.
const cookiePrefix = "security_authentication"

// NewDashboards returns a console-proxy Doer.
func NewDashboards(o DashboardsOptions) (*Dashboards, error) {
	if o.URL == nil {
		return nil, errors.New("opensearch: no Dashboards URL")
	}
	if o.Assertion == nil {
		return nil, errors.New("opensearch: no SAML assertion source for Dashboards")
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	base := *o.URL
	base.Path = strings.TrimRight(base.Path, "/")
	base.RawPath = ""
	o.URL = &base
	d := &Dashboards{
		o: o,
		hc: &http.Client{Transport: o.Transport, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		retry: newRetrier(o.Retry, o.Debug),
		xsrf:  "osd-xsrf",
	}
	if strings.Contains(base.Path, "/_plugin/kibana") {
		d.xsrf = "kbn-xsrf"
	}
	return d, nil
}

// Do sends r through the console proxy, logging in when there is no
// session and once more when the proxy answers 401.
func (d *Dashboards) Do(ctx context.Context, r *Request) (*Response, error) {
	target, err := buildURL(&url.URL{}, r.Path, r.Query)
	if err != nil {
		return nil, err
	}
	path := target.EscapedPath()
	if target.RawQuery != "" {
		path += "?" + target.RawQuery
	}
	method := r.method()
	switch method {
	case "GET", "POST", "PUT", "DELETE", "HEAD":
	default:
		return nil, fmt.Errorf("the Dashboards console proxy does not send %s requests (GET, POST, PUT, DELETE, HEAD only): use --via iam", method)
	}
	diag := &diagContext{via: "dashboards", method: method, path: r.Path, debug: d.o.Debug}
	gen, err := d.session(ctx, -1)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		resp, err := d.retry.do(ctx, "console proxy "+method+" "+path, func() (*http.Response, error) {
			return d.hc.Do(d.proxyRequest(ctx, r, method, path))
		})
		if err != nil {
			return nil, err
		}
		d.keep(resp)
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if d.o.Debug != nil {
				fmt.Fprintf(d.o.Debug, "debug: opensearch: Dashboards answered 401: logging in again\n")
			}
			if gen, err = d.session(ctx, gen); err != nil {
				return nil, err
			}
			continue
		}
		return &Response{Status: resp.StatusCode, Header: resp.Header, Body: resp.Body, diag: diag}, nil
	}
}

func (d *Dashboards) proxyRequest(ctx context.Context, r *Request, method, path string) *http.Request {
	u := *d.o.URL
	u.Path += "/api/console/proxy"
	u.RawQuery = url.Values{"path": {path}, "method": {method}}.Encode()
	var body io.Reader = http.NoBody
	if r.Body != nil {
		body = strings.NewReader(string(r.Body))
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), body)
	for k, vs := range r.Header {
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	req.Header.Set("Content-Type", r.contentType())
	req.Header.Set(d.xsrf, "true")
	d.mu.Lock()
	for _, c := range d.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	d.mu.Unlock()
	return req
}

// session makes sure there are live session cookies: the cached ones,
// else those of a new login, and returns their generation. rejected >= 0
// is the generation Dashboards answered 401 to: a new login is made unless
// a parallel request made one since.
func (d *Dashboards) session(ctx context.Context, rejected int) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.loaded && d.o.Cookies != nil {
		d.loaded = true
		if cs, err := d.o.Cookies.Load(); err == nil {
			d.cookies = d.live(cs)
		}
	}
	if rejected != d.gen && len(d.cookies) > 0 {
		return d.gen, nil
	}
	cs, err := d.login(ctx)
	if err != nil {
		return d.gen, err
	}
	d.cookies = cs
	d.gen++
	d.save()
	return d.gen, nil
}

// live drops expired cookies and those that are not the session's.
func (d *Dashboards) live(cs []*http.Cookie) []*http.Cookie {
	var out []*http.Cookie
	now := d.o.Now()
	for _, c := range cs {
		if strings.HasPrefix(c.Name, cookiePrefix) && c.Value != "" && (c.Expires.IsZero() || c.Expires.After(now)) && c.MaxAge >= 0 {
			out = append(out, c)
		}
	}
	return out
}

// login posts a fresh SAMLResponse to the ACS it is addressed to, which
// must be under the Dashboards URL, and returns every
// security_authentication* cookie set.
func (d *Dashboards) login(ctx context.Context) ([]*http.Cookie, error) {
	saml, err := d.o.Assertion(ctx)
	if err != nil {
		return nil, err
	}
	u, err := d.acs(saml)
	if err != nil {
		return nil, err
	}
	form := url.Values{"SAMLResponse": {saml}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(d.xsrf, "true")
	resp, err := d.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("Dashboards SAML login: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	cs := d.live(resp.Cookies())
	if resp.StatusCode >= 400 || len(cs) == 0 {
		return nil, &AccessError{
			Status:    resp.StatusCode,
			Message:   fmt.Sprintf("Dashboards did not accept the SAML login at %s (HTTP %d, no session cookie)", u.Redacted(), resp.StatusCode),
			Kind:      KindDashboards,
			Diagnosis: "the domain's SAML settings do not trust this assertion: wrong IdP app, audience (SP entity ID) or ACS URL",
			Fix:       "point dashboards_idp_url at the IdP-initiated URL of the IdP app whose ACS is " + u.Redacted() + " (and check --dashboards-url)",
		}
	}
	if d.o.Debug != nil {
		fmt.Fprintf(d.o.Debug, "debug: opensearch: Dashboards SAML login: HTTP %d, %d session cookie(s)\n", resp.StatusCode, len(cs))
	}
	return cs, nil
}

// ACSError is a SAML assertion saml2sts refuses to send to Dashboards: it
// is not addressed to an ACS under the Dashboards URL. Whoever receives an
// assertion may replay it (one addressed to AWS sign-in buys the user's
// roles at STS, which needs no credentials), so it goes only where the IdP
// addressed it, and only when that is the Dashboards the user named.
type ACSError struct {
	ACS        string // where the assertion is addressed; "" if nowhere
	Dashboards string // the Dashboards URL given
	Reason     string
}

func (e *ACSError) Error() string { return e.Reason }

// ExitCode is 2: a configuration problem (dashboards_idp_url, --dashboards-url).
func (e *ACSError) ExitCode() int { return exitcode.Usage }

// DefaultACSPath is the security plugin's IdP-initiated ACS, under the
// Dashboards URL.
const DefaultACSPath = "/_opendistro/_security/saml/acs/idpinitiated"

// acs returns the ACS the assertion is addressed to (Response@Destination,
// SubjectConfirmationData@Recipient: all must agree), provided it belongs to
// the Dashboards URL: same scheme, host and port, path under its path.
func (d *Dashboards) acs(saml string) (*url.URL, error) {
	base := d.o.URL.Redacted()
	addrs, err := sts.Addressees(saml)
	if err != nil {
		return nil, &ACSError{Dashboards: base, Reason: "the SAML response for Dashboards cannot be read (" + err.Error() + "): not sending it; check dashboards_idp_url"}
	}
	if len(addrs) == 0 {
		return nil, &ACSError{Dashboards: base, Reason: "the SAML assertion for Dashboards names no Destination or Recipient, so saml2sts cannot tell whom it is for and will not send it: " +
			"set the ACS URL " + base + DefaultACSPath + " in the IdP's Dashboards app"}
	}
	for _, a := range addrs {
		if sts.IsSignin(a) {
			return nil, &ACSError{ACS: a, Dashboards: base, Reason: "the SAML assertion is addressed to AWS sign-in (" + a + "), not to Dashboards; " +
				"sending it to Dashboards would hand out a reusable AWS login: set dashboards_idp_url to the IdP-initiated URL of the Dashboards SAML app " +
				"(saml2sts configure --dashboards-idp-url URL)"}
		}
	}
	for _, a := range addrs[1:] {
		if a != addrs[0] {
			return nil, &ACSError{ACS: addrs[0], Dashboards: base, Reason: fmt.Sprintf("the SAML assertion names two recipients (%s and %s): not sending it; check the IdP's Dashboards app", addrs[0], a)}
		}
	}
	u, err := url.Parse(addrs[0])
	if err != nil || !under(u, d.o.URL) {
		return nil, &ACSError{ACS: addrs[0], Dashboards: base, Reason: fmt.Sprintf("the SAML assertion is addressed to %s, which is not under --dashboards-url %s: not sending it there; "+
			"check --dashboards-url (a typo?) and that dashboards_idp_url is the IdP app of this Dashboards", addrs[0], base)}
	}
	return u, nil
}

// under reports whether u is base or below it: same scheme, host and port
// (default ports spelled or not), no user info, path under base's path.
func under(u, base *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		return map[string]string{"https": "443", "http": "80"}[strings.ToLower(u.Scheme)]
	}
	if !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Hostname(), base.Hostname()) ||
		port(u) != port(base) || u.User != nil || u.Opaque != "" {
		return false
	}
	p, bp := u.Path, strings.TrimRight(base.Path, "/")
	if seg := "/" + p + "/"; strings.Contains(seg, "/../") || strings.Contains(seg, "/./") {
		return false // dot segments: a server may resolve them above base
	}
	return bp == "" || p == bp || strings.HasPrefix(p, bp+"/")
}

// keep merges refreshed session cookies from a proxy answer.
func (d *Dashboards) keep(resp *http.Response) {
	set := d.live(resp.Cookies())
	if len(set) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	byName := map[string]int{}
	for i, c := range d.cookies {
		byName[c.Name] = i
	}
	for _, c := range set {
		if i, ok := byName[c.Name]; ok {
			d.cookies[i] = c
		} else {
			d.cookies = append(d.cookies, c)
		}
	}
	d.save()
}

// save stores the cookies; the caller holds d.mu. A store that cannot
// keep them costs a login next time, nothing more.
func (d *Dashboards) save() {
	if d.o.Cookies == nil {
		return
	}
	if err := d.o.Cookies.Save(d.cookies); err != nil && d.o.Debug != nil {
		fmt.Fprintf(d.o.Debug, "debug: opensearch: could not keep the Dashboards session: %v\n", err)
	}
}

// Package httpx builds the one HTTP transport every outbound call uses:
// verified TLS with an optional extra CA bundle, proxies from the
// environment, plain http only to loopback hosts, and an optional redacted
// trace for --debug.
package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// Options configures [NewTransport].
type Options struct {
	// CABundle is a PEM file of extra trusted roots (--ca-bundle); when empty
	// AWS_CA_BUNDLE is used.
	CABundle string
	// Trace, when set, receives a redacted line per request and response.
	Trace io.Writer
}

// InsecureSchemeError is a plain-http URL to a host that is not loopback.
type InsecureSchemeError struct{ Host string }

func (e *InsecureSchemeError) Error() string {
	return fmt.Sprintf("refusing plain http to %s: use https (http is allowed only for loopback hosts)", e.Host)
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *InsecureSchemeError) ExitCode() int { return exitcode.Failure }

// NewTransport returns the shared transport described in the package doc.
func NewTransport(o Options) (http.RoundTripper, error) {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.Proxy = proxy
	base.DialContext = dialLoopback(base.DialContext)
	base.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	bundle := o.CABundle
	if bundle == "" {
		bundle = os.Getenv("AWS_CA_BUNDLE")
	}
	if bundle != "" {
		pool, err := loadPool(bundle)
		if err != nil {
			return nil, err
		}
		base.TLSClientConfig.RootCAs = pool
	}
	var rt http.RoundTripper = guard{base}
	if o.Trace != nil {
		rt = &tracer{next: rt, w: o.Trace}
	}
	return rt, nil
}

// NewClient is NewTransport wrapped in a client with an overall timeout.
func NewClient(o Options, timeout time.Duration) (*http.Client, error) {
	rt, err := NewTransport(o)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: rt, Timeout: timeout}, nil
}

// CABundleError is a CA bundle (--ca-bundle, AWS_CA_BUNDLE) that cannot
// be used: a configuration problem.
type CABundleError struct {
	Path string
	Err  error // the read error; nil when the file holds no certificate
}

func (e *CABundleError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("read CA bundle: %v: fix --ca-bundle or AWS_CA_BUNDLE", e.Err)
	}
	return fmt.Sprintf("CA bundle %s holds no PEM certificate: fix --ca-bundle or AWS_CA_BUNDLE", e.Path)
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *CABundleError) ExitCode() int { return exitcode.Usage }

func (e *CABundleError) Unwrap() error { return e.Err }

func loadPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, &CABundleError{Path: path, Err: err}
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, &CABundleError{Path: path}
	}
	return pool, nil
}

// IsLoopback reports whether host (no port) is localhost or a loopback IP.
// localhost and *.localhost are loopback by name (RFC 6761): the
// transport dials them on loopback itself instead of asking DNS, which
// could send plain http across the network (see dialLoopback).
func IsLoopback(host string) bool {
	if isLocalhostName(host) {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func isLocalhostName(host string) bool {
	return strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost")
}

// dialLoopback makes dial connect localhost and *.localhost to 127.0.0.1,
// else ::1, without resolving the name: plain http is allowed to them
// because they are loopback, so no resolver (a hostile DNS answer for
// idp.localhost, a hosts file) may point them elsewhere. Browsers do the
// same.
func dialLoopback(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || !isLocalhostName(host) {
			return dial(ctx, network, addr)
		}
		c, err := dial(ctx, network, net.JoinHostPort("127.0.0.1", port))
		if err == nil || ctx.Err() != nil {
			return c, err
		}
		if c6, err6 := dial(ctx, network, net.JoinHostPort("::1", port)); err6 == nil {
			return c6, nil
		}
		return nil, err
	}
}

// proxy is http.ProxyFromEnvironment, except that no loopback host (by
// IsLoopback, which also allows LOCALHOST and *.localhost over plain http)
// is ever sent to a proxy: net/http exempts only "localhost" and loopback
// IPs, and a proxy would carry a plain-http login across the network.
func proxy(r *http.Request) (*url.URL, error) {
	if IsLoopback(r.URL.Hostname()) {
		return nil, nil
	}
	return http.ProxyFromEnvironment(r)
}

// guard refuses plain http to anything but loopback, on every hop
// (redirects included, since the client calls RoundTrip per hop).
type guard struct{ next http.RoundTripper }

func (g guard) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme == "http" && !IsLoopback(r.URL.Hostname()) {
		return nil, &InsecureSchemeError{Host: r.URL.Hostname()}
	}
	return g.next.RoundTrip(r)
}

// NewLazyTransport is NewTransport built on the first request, so commands
// served from the cache never pay for loading CA bundles (~10 ms for the
// system pool plus a bundle). A bad bundle fails that first request.
func NewLazyTransport(o Options) http.RoundTripper {
	return &lazy{o: o}
}

type lazy struct {
	o    Options
	once sync.Once
	rt   http.RoundTripper
	err  error
}

func (l *lazy) RoundTrip(r *http.Request) (*http.Response, error) {
	l.once.Do(func() { l.rt, l.err = NewTransport(l.o) })
	if l.err != nil {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, l.err
	}
	return l.rt.RoundTrip(r)
}

package ecsserver

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/sts"
)

// Source returns current credentials and the role they are for. It is
// called with the server's own context, never a request's, and never
// concurrently.
type Source func(ctx context.Context) (creds sts.Credentials, roleARN string, err error)

const (
	// refreshTimeout bounds one call of the Source (a full IdP login).
	refreshTimeout = 2 * time.Minute
	// retryDelay is how long still-valid credentials are served after a
	// refresh that could not renew them, before the Source is asked again:
	// SDKs ask on every API call near expiry, and each ask would be an IdP
	// round trip and a notice on stderr.
	retryDelay = 30 * time.Second
	// maxMessage caps an error message in a response or the log.
	maxMessage = 512
)

// Server is a loopback HTTP server speaking the container credentials
// protocol. Close it when the child exits.
type Server struct {
	src    Source
	token  string
	window time.Duration
	now    func() time.Time
	log    io.Writer

	ln     net.Listener
	hs     *http.Server
	ctx    context.Context // refreshes run under it; Close cancels it
	cancel context.CancelFunc
	wg     sync.WaitGroup // running refreshes

	mu      sync.Mutex
	cur     *entry    // last credentials from the Source
	retryAt time.Time // serve cur until then even when it is not fresh
	pending *refresh  // the refresh in progress, shared by all requests
	closed  bool
}

type entry struct {
	creds sts.Credentials
	role  string
}

type refresh struct {
	done chan struct{}
	e    entry
	err  error // message already redacted
}

// Option configures a Server.
type Option func(*Server)

// WithWindow sets how long before expiry the in-memory copy stops being
// used (the profile's refresh_window); default cache.DefaultWindow.
func WithWindow(d time.Duration) Option { return func(s *Server) { s.window = d } }

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithCredentials seeds the in-memory copy, so the first request after an
// up-front login needs no Source call.
func WithCredentials(c sts.Credentials, roleARN string) Option {
	return func(s *Server) { s.cur = &entry{c, roleARN} }
}

// WithLog makes the server write one line per failed refresh to w
// (stderr), since the child's SDK may hide our error message.
func WithLog(w io.Writer) Option {
	return func(s *Server) {
		if w != nil {
			s.log = w
		}
	}
}

// New starts a server on 127.0.0.1 on a free port, with a fresh random
// token.
func New(src Source, opts ...Option) (*Server, error) {
	if src == nil {
		return nil, errors.New("ecsserver: nil credential source")
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("credential server token: %w", err)
	}
	s := &Server{
		src:    src,
		token:  base64.RawURLEncoding.EncodeToString(b),
		window: cache.DefaultWindow,
		now:    time.Now,
		log:    io.Discard,
	}
	for _, o := range opts {
		o(s)
	}
	if s.cur != nil && !cache.Fresh(s.cur.creds.Expiration, s.now(), s.window) {
		// The caller has just tried to renew them.
		s.retryAt = s.now().Add(retryDelay)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start credential server on 127.0.0.1: %w", err)
	}
	s.ln = ln
	// Not the caller's context: a Ctrl-C meant for the child (which the
	// child may well survive) must not stop its refreshes.
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.hs = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go s.hs.Serve(ln)
	return s, nil
}

// URL is the value for AWS_CONTAINER_CREDENTIALS_FULL_URI.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/" }

// Token is the value for AWS_CONTAINER_AUTHORIZATION_TOKEN.
func (s *Server) Token() string { return s.token }

// Close stops serving, cancels a running refresh and waits for it.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	err := s.hs.Close()
	s.wg.Wait()
	return err
}

// response is the container credentials document.
type response struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
	AccountID       string `json:"AccountId,omitempty"`
}

// ServeHTTP answers GET / from loopback clients that present the token.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case !loopback(r.RemoteAddr):
		writeError(w, http.StatusForbidden, "AccessDenied", "only loopback clients are served")
		return
	case !loopbackHost(r.Host):
		// A DNS-rebound browser page sends its own host name.
		writeError(w, http.StatusForbidden, "AccessDenied", "host not allowed: use the URL in AWS_CONTAINER_CREDENTIALS_FULL_URI")
		return
	case r.Method != http.MethodGet:
		w.Header().Set("Allow", http.MethodGet)
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "only GET is allowed")
		return
	case r.URL.Path != "/":
		writeError(w, http.StatusNotFound, "NotFound", "no such path: credentials are served at /")
		return
	}
	got := r.Header.Values("Authorization")
	if len(got) == 0 || got[0] == "" {
		writeError(w, http.StatusUnauthorized, "MissingAuthorization", "no Authorization header: set it to AWS_CONTAINER_AUTHORIZATION_TOKEN")
		return
	}
	if len(got) != 1 || !s.validToken(got[0]) {
		writeError(w, http.StatusForbidden, "AccessDenied", "wrong authorization token")
		return
	}
	e, err := s.credentials(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "CredentialsUnavailable", err.Error())
		return
	}
	c := e.creds
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(response{
		AccessKeyID:     c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey,
		Token:           c.SessionToken,
		Expiration:      c.Expiration.UTC().Truncate(time.Second).Format(time.RFC3339),
		AccountID:       accountID(e.role),
	})
}

// validToken compares in constant time, so response timing says nothing
// about how much of a guess was right.
func (s *Server) validToken(got string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) == 1
}

// credentials returns the in-memory copy while it is fresh, else the
// result of a refresh shared with every other request waiting for one.
func (s *Server) credentials(ctx context.Context) (entry, error) {
	s.mu.Lock()
	now := s.now()
	if s.cur != nil {
		exp := s.cur.creds.Expiration
		if cache.Fresh(exp, now, s.window) || (now.Before(s.retryAt) && cache.Usable(exp, now)) {
			e := *s.cur
			s.mu.Unlock()
			return e, nil
		}
	}
	if s.closed {
		s.mu.Unlock()
		return entry{}, errors.New("credential server is shutting down")
	}
	c := s.pending
	if c == nil {
		c = &refresh{done: make(chan struct{})}
		s.pending = c
		s.wg.Add(1)
		go s.refresh(c)
	}
	s.mu.Unlock()
	select {
	case <-c.done:
		return c.e, c.err
	case <-ctx.Done():
		// The client gave up; the refresh goes on and its retry gets it.
		return entry{}, errors.New("refreshing credentials is taking a while; retry")
	}
}

// refresh calls the Source once and publishes the outcome to c.
func (s *Server) refresh(c *refresh) {
	defer s.wg.Done()
	ctx, cancel := context.WithTimeout(s.ctx, refreshTimeout)
	creds, role, err := s.src(ctx)
	cancel()
	now := s.now()
	if err == nil {
		switch {
		case creds.AccessKeyID == "" || creds.SecretAccessKey == "":
			err = errors.New("the credential source returned no credentials")
		case !cache.Usable(creds.Expiration, now):
			err = fmt.Errorf("the credential source returned credentials that expire at %s", creds.Expiration.UTC().Format(time.RFC3339))
		}
	}

	s.mu.Lock()
	defer close(c.done)
	defer s.mu.Unlock()
	s.pending = nil
	if s.closed {
		// Close cancelled the call: nobody is left to tell.
		c.err = errors.New("credential server is shutting down")
		return
	}
	switch {
	case err == nil:
		s.cur = &entry{creds, role}
		s.retryAt = time.Time{}
		if !cache.Fresh(creds.Expiration, now, s.window) {
			// The source could not renew them (it said why on stderr).
			s.retryAt = now.Add(retryDelay)
		}
		c.e = *s.cur
	case s.cur != nil && cache.Usable(s.cur.creds.Expiration, now):
		// Still-valid credentials beat a failed call in the child.
		s.retryAt = now.Add(retryDelay)
		c.e = *s.cur
		fmt.Fprintf(s.log, "saml2sts: credential server: refresh failed, serving credentials valid until %s: %s\n",
			s.cur.creds.Expiration.UTC().Format(time.RFC3339), s.redact(err.Error()))
	default:
		c.err = errors.New(s.redact("refresh credentials: " + err.Error()))
		fmt.Fprintf(s.log, "saml2sts: credential server: %s\n", c.err)
	}
}

// redact makes msg one line of bounded length without any secret the
// server knows (errors should carry none; this is the last guard).
// The caller holds s.mu.
func (s *Server) redact(msg string) string {
	secrets := []string{s.token}
	if s.cur != nil {
		secrets = append(secrets, s.cur.creds.SecretAccessKey, s.cur.creds.SessionToken)
	}
	for _, x := range secrets {
		if x != "" {
			msg = strings.ReplaceAll(msg, x, "[redacted]")
		}
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > maxMessage {
		msg = strings.ToValidUTF8(msg[:maxMessage], "") + "..."
	}
	return msg
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{code, msg})
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// accountID is the account field of a role ARN
// (arn:aws:iam::123456789012:role/Name), or "".
func accountID(roleARN string) string {
	f := strings.SplitN(roleARN, ":", 6)
	if len(f) != 6 || f[0] != "arn" || len(f[4]) != 12 {
		return ""
	}
	for _, r := range f[4] {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return f[4]
}

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

// Answer is what a Source returns.
type Answer struct {
	Credentials sts.Credentials
	RoleARN     string
	// Renewal is set when the credentials are not renewed although they
	// were due: why (a failed or paused renewal).
	Renewal error
	// RetryAt is when the Source will next try to renew (the end of its
	// backoff step), after a Renewal or an error; zero lets the server
	// pick.
	RetryAt time.Time
}

// Source returns current credentials, renewing those that expire within
// the refresh window plus ahead. It is called from the server's own
// goroutine with the server's context, never a request's, and never
// concurrently.
type Source func(ctx context.Context, ahead time.Duration) (Answer, error)

// Clock is the server's time: Now, and After for its renewal timer.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

const (
	// refreshTimeout bounds one call of the Source (a full IdP login).
	refreshTimeout = 2 * time.Minute
	// retryDelay is the wait after a failed call that named no RetryAt.
	retryDelay = 30 * time.Second
	// recheck is how often requests for credentials that are due may have
	// the Source called during a backoff: it then only reads the cache
	// (a login done in another terminal), it does not log in.
	recheck = 5 * time.Second
	// maxAhead is how long before the refresh window renewals start, so
	// that clients asking inside the window already get new credentials.
	maxAhead = 5 * time.Minute
	// maxMessage caps an error message in a response or the log.
	maxMessage = 512
)

// Server is a loopback HTTP server speaking the container credentials
// protocol. Close it when the child exits.
//
// Requests are answered at once from memory, never after a Source call: a
// goroutine renews in the background, maxAhead (at most a quarter of the
// time left before the window) before the credentials enter the refresh
// window, and after a failure when the Source's backoff says. Still-valid
// credentials are served while renewals fail; from cache.Margin before
// their expiry requests get HTTP 500 naming the failure.
type Server struct {
	src    Source
	token  string
	window time.Duration
	clock  Clock
	log    io.Writer

	seed *Answer

	ln     net.Listener
	hs     *http.Server
	ctx    context.Context // renewals run under it; Close cancels it
	cancel context.CancelFunc
	wg     sync.WaitGroup // the renewal loop
	kick   chan struct{}  // a request found the credentials due

	mu       sync.Mutex
	cur      *entry        // last credentials from the Source
	renewAt  time.Time     // when cur is due for renewal
	aheadBy  time.Duration // how long before the window renewAt is
	nextTry  time.Time     // no Source call before this (backoff)
	lastCall time.Time     // end of the last Source call
	cause    string        // why the last renewal did not happen, redacted; "" after a success
	logged   string        // the last failure written to the log
	closed   bool

	onRenew func() // tests: called after each Source call
}

type entry struct {
	creds sts.Credentials
	role  string
}

// Option configures a Server.
type Option func(*Server)

// WithWindow sets how long before expiry credentials are due for renewal
// (the profile's refresh_window); default cache.DefaultWindow.
func WithWindow(d time.Duration) Option { return func(s *Server) { s.window = d } }

// WithClock replaces the wall clock (tests).
func WithClock(c Clock) Option { return func(s *Server) { s.clock = c } }

// WithAnswer seeds the in-memory copy with what the caller got from the
// Source just before, so that the first request needs no Source call.
func WithAnswer(a Answer) Option { return func(s *Server) { s.seed = &a } }

// WithLog makes the server write one line per failed renewal step to w
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
		clock:  realClock{},
		log:    io.Discard,
		kick:   make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(s)
	}
	if s.seed != nil {
		// The caller has told the user about a failed renewal already.
		w := s.log
		s.log = io.Discard
		s.settle(*s.seed, nil)
		s.log = w
		s.lastCall = s.clock.Now()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start credential server on 127.0.0.1: %w", err)
	}
	s.ln = ln
	// Not the caller's context: a Ctrl-C meant for the child (which the
	// child may well survive) must not stop its renewals.
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.hs = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	s.wg.Add(1)
	go s.loop()
	go s.hs.Serve(ln)
	return s, nil
}

// URL is the value for AWS_CONTAINER_CREDENTIALS_FULL_URI.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/" }

// Token is the value for AWS_CONTAINER_AUTHORIZATION_TOKEN.
func (s *Server) Token() string { return s.token }

// Close stops serving, cancels a running renewal and waits for it.
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
	e, err := s.credentials()
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

// credentials returns the in-memory copy while it is usable, at once;
// when it is due it also has the loop renew it.
func (s *Server) credentials() (entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if !now.Before(s.renewAt) {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	switch {
	case s.closed:
		return entry{}, errors.New("credential server is shutting down")
	case s.cur == nil && s.cause == "":
		return entry{}, errors.New("fetching credentials: retry in a moment")
	case s.cur == nil:
		return entry{}, errors.New("no credentials: " + s.cause)
	case cache.Usable(s.cur.creds.Expiration, now):
		return *s.cur, nil
	}
	exp := s.cur.creds.Expiration.UTC().Format(time.RFC3339)
	if s.cause == "" {
		return entry{}, fmt.Errorf("the credentials expire at %s and are being renewed: retry in a moment", exp)
	}
	return entry{}, fmt.Errorf("the credentials expire at %s and renewing them failed: %s", exp, s.cause)
}

// loop renews in the background: when the credentials fall due, when a
// backoff step ends, and when a request finds them due (at most every
// recheck during a backoff, to pick up a login done elsewhere).
func (s *Server) loop() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		due := s.renewAt
		if s.nextTry.After(due) {
			due = s.nextTry
		}
		s.mu.Unlock()
		wake := s.clock.After(due.Sub(s.clock.Now()))
		kicked := false
		select {
		case <-s.ctx.Done():
			return
		case <-wake:
		case <-s.kick:
			kicked = true
		}
		now := s.clock.Now()
		s.mu.Lock()
		call := !now.Before(s.renewAt) && (!now.Before(s.nextTry) || kicked && now.Sub(s.lastCall) >= recheck)
		ahead := s.aheadBy
		s.mu.Unlock()
		if call {
			s.renew(ahead)
		}
	}
}

// ahead is how early before the window to renew: maxAhead, or a quarter
// of the time left before the window when that is less (short sessions).
// The caller holds s.mu.
func (s *Server) ahead(now time.Time) time.Duration {
	if s.cur == nil {
		return 0
	}
	left := s.cur.creds.Expiration.Sub(now) - s.window
	return max(0, min(maxAhead, left/4))
}

// renew calls the Source once and keeps the outcome.
func (s *Server) renew(ahead time.Duration) {
	ctx, cancel := context.WithTimeout(s.ctx, refreshTimeout)
	a, err := s.src(ctx, ahead)
	cancel()
	now := s.clock.Now()
	if err == nil {
		switch {
		case a.Credentials.AccessKeyID == "" || a.Credentials.SecretAccessKey == "":
			err = errors.New("the credential source returned no credentials")
		case !cache.Usable(a.Credentials.Expiration, now) && a.Renewal == nil:
			err = fmt.Errorf("the credential source returned credentials that expire at %s", a.Credentials.Expiration.UTC().Format(time.RFC3339))
		}
	}
	s.mu.Lock()
	s.lastCall = now
	if !s.closed {
		s.settle(a, err)
	}
	hook := s.onRenew
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
}

// settle keeps the outcome of a Source call and schedules the next one.
// The caller holds s.mu.
func (s *Server) settle(a Answer, err error) {
	now := s.clock.Now()
	fail := err
	if err == nil {
		same := s.cur != nil && s.cur.creds.AccessKeyID == a.Credentials.AccessKeyID
		s.cur = &entry{a.Credentials, a.RoleARN}
		fail = a.Renewal
		if !same {
			s.aheadBy = s.ahead(now)
			s.renewAt = a.Credentials.Expiration.Add(-s.window - s.aheadBy)
		}
		if fail == nil && !s.renewAt.After(now) {
			// New, yet already due (duration not above refresh_window):
			// renewing again at once would log in on every call.
			s.renewAt = now.Add(retryDelay)
		}
	}
	if fail == nil {
		s.cause, s.nextTry = "", time.Time{}
		return
	}
	s.cause = s.redact(fail.Error())
	s.nextTry = a.RetryAt
	if !s.nextTry.After(now) {
		s.nextTry = now.Add(retryDelay)
	}
	// One line per backoff step: the Source reports the same step (same
	// RetryAt) on every call until it ends.
	line := s.nextTry.String()
	if a.RetryAt.IsZero() {
		line = s.cause + "|" + line
	}
	if line == s.logged {
		return
	}
	s.logged = line
	next := s.nextTry.UTC().Format(time.RFC3339)
	switch {
	case s.cur != nil && cache.Usable(s.cur.creds.Expiration, now):
		fmt.Fprintf(s.log, "saml2sts: credential server: renewal failed (%s); serving credentials valid until %s; next try %s\n",
			s.cause, s.cur.creds.Expiration.UTC().Format(time.RFC3339), next)
	case s.cur != nil:
		fmt.Fprintf(s.log, "saml2sts: credential server: renewal failed (%s); the credentials expired at %s, requests get HTTP 500 until a renewal works; next try %s\n",
			s.cause, s.cur.creds.Expiration.UTC().Format(time.RFC3339), next)
	default:
		fmt.Fprintf(s.log, "saml2sts: credential server: no credentials (%s); next try %s\n", s.cause, next)
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
	// aws-vault's shape; the Go SDK reads it too (it matches field names
	// without regard to case).
	json.NewEncoder(w).Encode(struct {
		Code    string `json:"Code"`
		Message string `json:"Message"`
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

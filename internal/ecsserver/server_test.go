package ecsserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/sts"
)

const role = "arn:aws:iam::123456789012:role/SearchReader"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a fake Clock: time moves only when a test calls add, which
// fires the timers it passes.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	timers []timer
}

type timer struct {
	at time.Time
	ch chan time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.t
		return ch
	}
	c.timers = append(c.timers, timer{c.t.Add(d), ch})
	return ch
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	kept := c.timers[:0]
	for _, tm := range c.timers {
		if tm.at.After(c.t) {
			kept = append(kept, tm)
			continue
		}
		tm.ch <- c.t
	}
	c.timers = kept
}

// source hands out numbered credentials valid for an hour from the clock
// (call n gets ASIAKEYn), or fails with err (and retryAt), or, when stale
// is set, answers as the broker does when a renewal failed: the old
// credentials with the reason.
type source struct {
	clk   *clock
	calls atomic.Int32
	mu    sync.Mutex
	err   error
	stale *Answer
	retry time.Time
	ahead []time.Duration
	gate  chan struct{} // when set, each call waits for it
}

func (s *source) get(ctx context.Context, ahead time.Duration) (Answer, error) {
	n := s.calls.Add(1)
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return Answer{}, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ahead = append(s.ahead, ahead)
	switch {
	case s.err != nil:
		return Answer{RetryAt: s.retry}, s.err
	case s.stale != nil:
		a := *s.stale
		a.RetryAt = s.retry
		return a, nil
	}
	return Answer{Credentials: creds(n, s.clk.Now().Add(time.Hour)), RoleARN: role}, nil
}

func (s *source) fail(err error, retry time.Time) {
	s.mu.Lock()
	s.err, s.retry = err, retry
	s.mu.Unlock()
}

func creds(n int32, exp time.Time) sts.Credentials {
	return sts.Credentials{
		AccessKeyID:     "ASIAKEY" + string(rune('0'+n)),
		SecretAccessKey: "secret-" + strings.Repeat(string(rune('a'+n)), 30),
		SessionToken:    "session-token-" + strings.Repeat(string(rune('A'+n)), 60),
		Expiration:      exp,
	}
}

// renewals counts finished Source calls, for tests to wait on.
type renewals struct {
	mu sync.Mutex
	n  int
	ch chan struct{}
}

func (r *renewals) done() {
	r.mu.Lock()
	r.n++
	close(r.ch)
	r.ch = make(chan struct{})
	r.mu.Unlock()
}

// wait blocks until n Source calls have finished.
func (r *renewals) wait(t *testing.T, n int) {
	t.Helper()
	for {
		r.mu.Lock()
		got, ch := r.n, r.ch
		r.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d Source calls finished, want %d", got, n)
		}
	}
}

type rig struct {
	*Server
	src     *source
	clk     *clock
	renewed *renewals
	log     *syncBuffer
}

// newTest starts a server seeded, as exec does, with credentials ASIAKEY0
// valid for an hour.
func newTest(t *testing.T, opts ...Option) *rig {
	t.Helper()
	return newRig(t, nil, append([]Option{WithAnswer(Answer{Credentials: creds(0, t0.Add(time.Hour)), RoleARN: role})}, opts...)...)
}

// newRig starts a server with opts; gate, when not nil, holds every
// Source call until it is closed.
func newRig(t *testing.T, gate chan struct{}, opts ...Option) *rig {
	t.Helper()
	r := &rig{clk: &clock{t: t0}, renewed: &renewals{ch: make(chan struct{})}, log: &syncBuffer{}}
	r.src = &source{clk: r.clk, gate: gate}
	base := []Option{WithClock(r.clk), WithLog(r.log), func(s *Server) { s.onRenew = r.renewed.done }}
	s, err := New(r.src.get, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	r.Server = s
	t.Cleanup(func() { s.Close() })
	return r
}

// key is the AccessKeyId a request gets; it fails the test on an error.
func (r *rig) key(t *testing.T) string {
	t.Helper()
	rep := get(t, r.Server, "GET", "/", r.Token())
	if rep.status != 200 {
		t.Fatalf("status %d: %s", rep.status, rep.body)
	}
	var m map[string]string
	json.Unmarshal([]byte(rep.body), &m)
	return m["AccessKeyId"]
}

type reply struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, s *Server, method, path string, auth ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(s.URL(), "/")+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range auth {
		req.Header.Add("Authorization", a)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{res.StatusCode, res.Header, string(b)}
}

type errBody struct{ Code, Message string }

func decodeError(t *testing.T, r reply) errBody {
	t.Helper()
	var e errBody
	dec := json.NewDecoder(strings.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Code == "" || e.Message == "" || !strings.Contains(r.body, `"Message":`) {
		t.Fatalf("error body is not {Code,Message}: %q (%v)", r.body, err)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	return e
}

func TestAuthorization(t *testing.T) {
	r := newTest(t)
	s, src := r.Server, r.src
	tests := []struct {
		name   string
		auth   []string
		status int
		code   string
	}{
		{"missing", nil, 401, "MissingAuthorization"},
		{"empty", []string{""}, 401, "MissingAuthorization"},
		{"wrong", []string{"not-the-token"}, 403, "AccessDenied"},
		{"last char differs", []string{s.Token()[:len(s.Token())-1] + flip(s.Token()[len(s.Token())-1])}, 403, "AccessDenied"},
		{"prefix", []string{s.Token()[:20]}, 403, "AccessDenied"},
		{"bearer", []string{"Bearer " + s.Token()}, 403, "AccessDenied"},
		{"twice", []string{s.Token(), "other"}, 403, "AccessDenied"},
		{"right", []string{s.Token()}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, s, "GET", "/", tt.auth...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.code != "" {
				if e := decodeError(t, r); e.Code != tt.code {
					t.Errorf("code %q, want %q", e.Code, tt.code)
				}
				if strings.Contains(r.body, "secret-") || strings.Contains(r.body, s.Token()) {
					t.Errorf("error body leaks a secret: %s", r.body)
				}
			}
		})
	}
	if n := src.calls.Load(); n != 0 {
		t.Errorf("source calls = %d, want 0 (the seeded credentials are fresh)", n)
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

func TestOnlyGETAtRoot(t *testing.T) {
	rg := newTest(t)
	s, src := rg.Server, rg.src
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"} {
		r := get(t, s, m, "/", s.Token())
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET" {
			t.Errorf("%s: status %d, Allow %q", m, r.status, r.header.Get("Allow"))
		}
		if m != "HEAD" {
			if e := decodeError(t, r); e.Code != "MethodNotAllowed" {
				t.Errorf("%s: code %q", m, e.Code)
			}
		}
	}
	r := get(t, s, "GET", "/role-arn/"+role, s.Token())
	if r.status != 404 || decodeError(t, r).Code != "NotFound" {
		t.Errorf("other path: %d %s", r.status, r.body)
	}
	if n := src.calls.Load(); n != 0 {
		t.Errorf("source called %d times for refused requests", n)
	}
}

func TestOnlyLoopback(t *testing.T) {
	s := newTest(t).Server
	tests := []struct {
		remote, host string
		status       int
	}{
		{"127.0.0.1:5555", "127.0.0.1:1234", 200},
		{"[::1]:5555", "localhost:1234", 200},
		{"127.0.0.1:5555", "[::1]:1234", 200},
		{"192.0.2.10:5555", "127.0.0.1:1234", 403},
		{"10.0.0.1:5555", "127.0.0.1:1234", 403},
		{"127.0.0.1:5555", "evil.example:1234", 403}, // DNS rebinding
		{"127.0.0.1:5555", "169.254.170.2", 403},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr, req.Host = tt.remote, tt.host
		req.Header.Set("Authorization", s.Token())
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != tt.status {
			t.Errorf("remote %s host %s: status %d, want %d: %s", tt.remote, tt.host, rec.Code, tt.status, rec.Body)
		}
		if tt.status == 403 && strings.Contains(rec.Body.String(), "secret-") {
			t.Errorf("refused request got credentials")
		}
	}
}

var expRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

func TestResponseShape(t *testing.T) {
	// Expiration in another zone and with nanoseconds: the answer must be
	// UTC, whole seconds, with a Z.
	cet := time.FixedZone("CET", 3600)
	exp := time.Date(2026, 3, 1, 14, 30, 15, 987654321, cet)
	want := creds(7, exp)
	for _, tt := range []struct{ role, account string }{
		{role, "123456789012"},
		{"arn:aws-us-gov:iam::210987654321:role/path/R", "210987654321"},
		{"", ""},
		{"not-an-arn", ""},
		{"arn:aws:iam::12345:role/Short", ""},
	} {
		t.Run(tt.role, func(t *testing.T) {
			s, err := New(func(context.Context, time.Duration) (Answer, error) { return Answer{}, errors.New("not called") },
				WithClock(&clock{t: t0}), WithAnswer(Answer{Credentials: want, RoleARN: tt.role}))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			r := get(t, s, "GET", "/", s.Token())
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(r.body), &m); err != nil {
				t.Fatalf("not JSON: %v: %s", err, r.body)
			}
			keys := []string{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}
			if tt.account != "" {
				keys = append(keys, "AccountId")
			}
			if len(m) != len(keys) {
				t.Errorf("fields %v, want exactly %v", m, keys)
			}
			for _, k := range keys {
				if _, ok := m[k].(string); !ok {
					t.Errorf("field %s missing or not a string: %s", k, r.body)
				}
			}
			if m["AccessKeyId"] != want.AccessKeyID || m["SecretAccessKey"] != want.SecretAccessKey || m["Token"] != want.SessionToken {
				t.Errorf("wrong credentials: %s", r.body)
			}
			e, _ := m["Expiration"].(string)
			got, err := time.Parse(time.RFC3339, e)
			if !expRE.MatchString(e) || err != nil || !got.Equal(exp.Truncate(time.Second)) {
				t.Errorf("Expiration %q, want %s", e, exp.UTC().Truncate(time.Second).Format(time.RFC3339))
			}
			if tt.account != "" && m["AccountId"] != tt.account {
				t.Errorf("AccountId %v, want %s", m["AccountId"], tt.account)
			}
		})
	}
}

func TestSourceErrorIs500WithoutSecrets(t *testing.T) {
	r := newTest(t)
	old := creds(0, t0.Add(time.Hour))
	// Past expiry: nothing usable is left to fall back on.
	r.src.fail(errors.New("idp said no\nwhile holding "+old.SecretAccessKey+" and "+old.SessionToken+" for "+r.Token()), time.Time{})
	r.clk.add(2 * time.Hour)
	r.renewed.wait(t, 1)
	rep := get(t, r.Server, "GET", "/", r.Token())
	if rep.status != 500 {
		t.Fatalf("status %d, want 500: %s", rep.status, rep.body)
	}
	e := decodeError(t, rep)
	if e.Code != "CredentialsUnavailable" || !strings.Contains(e.Message, "idp said no") ||
		!strings.Contains(e.Message, "expire at "+old.Expiration.Format(time.RFC3339)) {
		t.Errorf("error %+v", e)
	}
	logged := r.log.String()
	for what, out := range map[string]string{"response": e.Message, "log": logged} {
		if strings.ContainsAny(strings.TrimSuffix(out, "\n"), "\r\n") {
			t.Errorf("%s is not one line: %q", what, out)
		}
		for _, secret := range []string{old.SecretAccessKey, old.SessionToken, r.Token()} {
			if strings.Contains(out, secret) {
				t.Errorf("%s leaks a secret: %q", what, out)
			}
		}
	}
	if !strings.Contains(logged, "idp said no") || !strings.Contains(logged, "HTTP 500") {
		t.Errorf("log: %q", logged)
	}
	// A long message is cut.
	r.src.fail(errors.New(strings.Repeat("x", 5000)), time.Time{})
	r.clk.add(retryDelay)
	r.renewed.wait(t, 2)
	if rep := get(t, r.Server, "GET", "/", r.Token()); len(decodeError(t, rep).Message) > maxMessage+100 {
		t.Errorf("message of %d bytes", len(rep.body))
	}
}

// TestRenewsAheadOfWindow: the renewal runs in the background before the
// credentials enter the refresh window, so a client asking inside the
// window gets new credentials at once.
func TestRenewsAheadOfWindow(t *testing.T) {
	r := newTest(t, WithWindow(15*time.Minute))
	if k := r.key(t); k != "ASIAKEY0" {
		t.Fatalf("seeded key %s", k)
	}
	r.clk.add(39 * time.Minute) // 21m left: fresh, no renewal yet
	if k := r.key(t); k != "ASIAKEY0" || r.src.calls.Load() != 0 {
		t.Fatalf("key %s, %d source calls; want the seed and none", k, r.src.calls.Load())
	}
	r.clk.add(time.Minute) // 20m left: window (15m) + ahead (5m)
	r.renewed.wait(t, 1)
	if k := r.key(t); k != "ASIAKEY1" {
		t.Errorf("key %s after the background renewal, want ASIAKEY1", k)
	}
	if a := r.src.ahead; len(a) != 1 || a[0] != 5*time.Minute {
		t.Errorf("source asked to renew %v ahead, want [5m]", a)
	}
	// The next renewal is due 40 minutes after this one.
	r.clk.add(39 * time.Minute)
	if k := r.key(t); k != "ASIAKEY1" || r.src.calls.Load() != 1 {
		t.Errorf("key %s, %d calls; want ASIAKEY1 and still 1 call", k, r.src.calls.Load())
	}
	r.clk.add(time.Minute)
	r.renewed.wait(t, 2)
	if k := r.key(t); k != "ASIAKEY2" {
		t.Errorf("key %s, want ASIAKEY2", k)
	}
}

func TestSeededCredentials(t *testing.T) {
	r := newTest(t)
	if k := r.key(t); k != "ASIAKEY0" || r.src.calls.Load() != 0 {
		t.Errorf("seeded credentials not served from memory: %s, %d calls", k, r.src.calls.Load())
	}
}

// TestNoSeed: without credentials the server fetches at once; a request
// before that ends gets a 500 at once, not a wait.
func TestNoSeed(t *testing.T) {
	r := newRig(t, make(chan struct{}))
	rep := get(t, r.Server, "GET", "/", r.Token())
	if rep.status != 500 || !strings.Contains(decodeError(t, rep).Message, "retry") {
		t.Errorf("before the first fetch: %d %s", rep.status, rep.body)
	}
	close(r.src.gate)
	r.renewed.wait(t, 1)
	if k := r.key(t); k != "ASIAKEY1" {
		t.Errorf("key %s", k)
	}
}

// TestFailedRenewalBacksOff: while renewals fail, the still-valid copy is
// served, the Source is called per backoff step (and, to pick up a login
// made elsewhere, at most every recheck on requests), and each step is
// logged once, not each request.
func TestFailedRenewalBacksOff(t *testing.T) {
	r := newTest(t)
	seed := creds(0, t0.Add(time.Hour))
	r.src.mu.Lock()
	r.src.stale = &Answer{Credentials: seed, RoleARN: role, Renewal: errors.New("could not renew them (IdP down)")}
	r.src.retry = t0.Add(40*time.Minute + 30*time.Second)
	r.src.mu.Unlock()
	r.clk.add(40 * time.Minute) // due
	r.renewed.wait(t, 1)
	for i := range 20 {
		if k := r.key(t); k != "ASIAKEY0" {
			t.Fatalf("request %d: key %s, want the still-valid seed", i, k)
		}
	}
	if n := r.src.calls.Load(); n != 1 {
		t.Errorf("source calls = %d after 20 requests in one step, want 1", n)
	}
	// Requests after recheck: the Source is asked again (it answers from
	// its cache), the same step is not logged again.
	r.clk.add(recheck)
	r.key(t)
	r.renewed.wait(t, 2)
	if n := r.src.calls.Load(); n != 2 {
		t.Errorf("source calls = %d, want 2", n)
	}
	if c := strings.Count(r.log.String(), "\n"); c != 1 || !strings.Contains(r.log.String(), "IdP down") ||
		!strings.Contains(r.log.String(), "valid until "+seed.Expiration.Format(time.RFC3339)) {
		t.Errorf("log: %q; want one line naming the cause and the expiry", r.log.String())
	}
	// A new step: one more line.
	r.src.mu.Lock()
	r.src.retry = t0.Add(42 * time.Minute)
	r.src.mu.Unlock()
	r.clk.add(30 * time.Second)
	r.renewed.wait(t, 3)
	if c := strings.Count(r.log.String(), "\n"); c != 2 {
		t.Errorf("log after the second step: %q", r.log.String())
	}
	// The IdP is back: the step's end brings new credentials.
	r.src.mu.Lock()
	r.src.stale = nil
	r.src.mu.Unlock()
	r.clk.add(90 * time.Second)
	r.renewed.wait(t, 4)
	if k := r.key(t); k != "ASIAKEY4" {
		t.Errorf("key %s after the IdP came back, want ASIAKEY4", k)
	}
}

// TestAnswersWhileRenewing: a renewal that hangs (a loaded machine, a slow
// IdP) delays no answer: a client that waits at most 1s (the JavaScript
// SDK's container provider) always gets one, before and after expiry.
func TestAnswersWhileRenewing(t *testing.T) {
	r := newTest(t)
	r.src.gate = make(chan struct{})
	impatient := &http.Client{Timeout: time.Second}
	ask := func() (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", r.URL(), nil)
		req.Header.Set("Authorization", r.Token())
		res, err := impatient.Do(req)
		if err != nil {
			t.Fatalf("the client gave up: %v", err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	r.clk.add(50 * time.Minute) // inside the window: a renewal starts and hangs
	for r.src.calls.Load() == 0 {
		ask() // a request kicks the loop, should the timer not have
	}
	for i := range 10 {
		if code, body := ask(); code != 200 || !strings.Contains(body, "ASIAKEY0") {
			t.Fatalf("request %d during the renewal: %d %s", i, code, body)
		}
	}
	r.clk.add(10 * time.Minute) // expired, renewal still running
	if code, body := ask(); code != 500 || !strings.Contains(body, "being renewed") {
		t.Errorf("after expiry during the renewal: %d %s", code, body)
	}
	close(r.src.gate)
	r.renewed.wait(t, 1)
	if code, body := ask(); code != 200 || !strings.Contains(body, "ASIAKEY1") {
		t.Errorf("after the renewal: %d %s", code, body)
	}
}

func TestCloseCancelsRefresh(t *testing.T) {
	r := newRig(t, make(chan struct{})) // never opened: only ctx ends the call
	for r.src.calls.Load() == 0 {
		runtime.Gosched()
	}
	done := make(chan error)
	go func() { done <- r.Close() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not cancel the running renewal")
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Get(r.URL()); err == nil {
		t.Error("server still answers after Close")
	}
}

func TestTokenAndURL(t *testing.T) {
	a := newTest(t)
	b := newTest(t)
	raw, err := base64.RawURLEncoding.DecodeString(a.Token())
	if err != nil || len(raw) != 32 {
		t.Errorf("token %q is not 32 bytes base64url: %v", a.Token(), err)
	}
	if a.Token() == b.Token() {
		t.Error("two servers share a token")
	}
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/$`).MatchString(a.URL()) || a.URL() == b.URL() {
		t.Errorf("URLs %s, %s", a.URL(), b.URL())
	}
}

// TestTokenComparedInConstantTime reads the source: the token is checked
// only through subtle.ConstantTimeCompare and never with == or !=, whose
// early exit leaks how many leading bytes of a guess were right.
func TestTokenComparedInConstantTime(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "server.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	isSubtle := func(n ast.Node) bool {
		c, ok := n.(*ast.CallExpr)
		if !ok {
			return false
		}
		sel, ok := c.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "ConstantTimeCompare" {
			return false
		}
		id, ok := sel.X.(*ast.Ident)
		return ok && id.Name == "subtle"
	}
	// mentionsToken: s.token or a Token() call, outside the safe compare.
	mentionsToken := func(e ast.Expr) bool {
		found := false
		ast.Inspect(e, func(n ast.Node) bool {
			if isSubtle(n) {
				return false
			}
			if x, ok := n.(*ast.SelectorExpr); ok && (x.Sel.Name == "token" || x.Sel.Name == "Token") {
				found = true
			}
			return true
		})
		return found
	}
	usesSubtle := false
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.BinaryExpr:
			if (x.Op == token.EQL || x.Op == token.NEQ) && (mentionsToken(x.X) || mentionsToken(x.Y)) {
				t.Errorf("%s: token compared with %s", fset.Position(x.Pos()), x.Op)
			}
		case *ast.CallExpr:
			if isSubtle(x) && len(x.Args) == 2 && (mentionsToken(x.Args[0]) || mentionsToken(x.Args[1])) {
				usesSubtle = true
			}
		}
		return true
	})
	if !usesSubtle {
		t.Error("the token is not checked with subtle.ConstantTimeCompare")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

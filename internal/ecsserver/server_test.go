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
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/sts"
)

const role = "arn:aws:iam::123456789012:role/SearchReader"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// source hands out numbered credentials valid for an hour from the clock,
// or the error in err.
type source struct {
	clk   *clock
	calls atomic.Int32
	mu    sync.Mutex
	err   error
	gate  chan struct{} // when set, each call waits for it
}

func (s *source) get(ctx context.Context) (sts.Credentials, string, error) {
	n := s.calls.Add(1)
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return sts.Credentials{}, "", ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return sts.Credentials{}, "", s.err
	}
	return creds(n, s.clk.now().Add(time.Hour)), role, nil
}

func (s *source) fail(err error) { s.mu.Lock(); s.err = err; s.mu.Unlock() }

func creds(n int32, exp time.Time) sts.Credentials {
	return sts.Credentials{
		AccessKeyID:     "ASIAKEY" + string(rune('0'+n)),
		SecretAccessKey: "secret-" + strings.Repeat(string(rune('a'+n)), 30),
		SessionToken:    "session-token-" + strings.Repeat(string(rune('A'+n)), 60),
		Expiration:      exp,
	}
}

func newTest(t *testing.T, opts ...Option) (*Server, *source, *clock) {
	t.Helper()
	clk := &clock{t: t0}
	src := &source{clk: clk}
	s, err := New(src.get, append([]Option{WithClock(clk.now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, src, clk
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
	if err := dec.Decode(&e); err != nil || e.Code == "" || e.Message == "" {
		t.Fatalf("error body is not {code,message}: %q (%v)", r.body, err)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	return e
}

func TestAuthorization(t *testing.T) {
	s, src, _ := newTest(t)
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
	if n := src.calls.Load(); n != 1 {
		t.Errorf("source calls = %d, want 1 (only the authorized request)", n)
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

func TestOnlyGETAtRoot(t *testing.T) {
	s, src, _ := newTest(t)
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
	s, _, _ := newTest(t)
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
			s, err := New(func(context.Context) (sts.Credentials, string, error) { return want, tt.role, nil },
				WithClock(func() time.Time { return t0 }))
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
	var logBuf syncBuffer
	s, src, clk := newTest(t, WithLog(&logBuf))
	first := get(t, s, "GET", "/", s.Token())
	if first.status != 200 {
		t.Fatalf("first: %s", first.body)
	}
	old := creds(1, t0.Add(time.Hour))
	// Past expiry: nothing usable is left to fall back on.
	clk.add(2 * time.Hour)
	src.fail(errors.New("idp said no\nwhile holding " + old.SecretAccessKey + " and " + old.SessionToken + " for " + s.Token()))
	r := get(t, s, "GET", "/", s.Token())
	if r.status != 500 {
		t.Fatalf("status %d, want 500: %s", r.status, r.body)
	}
	e := decodeError(t, r)
	if e.Code != "CredentialsUnavailable" || !strings.Contains(e.Message, "idp said no") {
		t.Errorf("error %+v", e)
	}
	logged := logBuf.String()
	for what, out := range map[string]string{"response": e.Message, "log": logged} {
		if strings.ContainsAny(strings.TrimSuffix(out, "\n"), "\r\n") {
			t.Errorf("%s is not one line: %q", what, out)
		}
		for _, secret := range []string{old.SecretAccessKey, old.SessionToken, s.Token()} {
			if strings.Contains(out, secret) {
				t.Errorf("%s leaks a secret: %q", what, out)
			}
		}
	}
	if !strings.Contains(logged, "idp said no") {
		t.Errorf("log: %q", logged)
	}
	// A long message is cut.
	src.fail(errors.New(strings.Repeat("x", 5000)))
	if r := get(t, s, "GET", "/", s.Token()); len(decodeError(t, r).Message) > maxMessage+50 {
		t.Errorf("message of %d bytes", len(r.body))
	}
}

func TestRefreshWhenStale(t *testing.T) {
	s, src, clk := newTest(t, WithWindow(15*time.Minute))
	key := func() string {
		t.Helper()
		r := get(t, s, "GET", "/", s.Token())
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		var m map[string]string
		json.Unmarshal([]byte(r.body), &m)
		return m["AccessKeyId"]
	}
	steps := []struct {
		advance time.Duration
		key     string
		calls   int32
	}{
		{0, "ASIAKEY1", 1},
		{10 * time.Minute, "ASIAKEY1", 1}, // 50m left: fresh, from memory
		{34 * time.Minute, "ASIAKEY1", 1}, // 16m left: still fresh
		{2 * time.Minute, "ASIAKEY2", 2},  // 14m left: inside the window
		{time.Minute, "ASIAKEY2", 2},
	}
	for i, st := range steps {
		clk.add(st.advance)
		if k := key(); k != st.key || src.calls.Load() != st.calls {
			t.Errorf("step %d: key %s, calls %d; want %s, %d", i, k, src.calls.Load(), st.key, st.calls)
		}
	}
}

func TestSeededCredentials(t *testing.T) {
	seed := creds(9, t0.Add(time.Hour))
	s, src, _ := newTest(t, WithCredentials(seed, role))
	r := get(t, s, "GET", "/", s.Token())
	if !strings.Contains(r.body, seed.AccessKeyID) || src.calls.Load() != 0 {
		t.Errorf("seeded credentials not served from memory: %s, %d calls", r.body, src.calls.Load())
	}
}

// TestStaleButUsableBackoff: when the source cannot renew, the still-valid
// copy is served and the source is not asked again on every request.
func TestStaleButUsableBackoff(t *testing.T) {
	var logBuf syncBuffer
	s, src, clk := newTest(t, WithLog(&logBuf))
	get(t, s, "GET", "/", s.Token())
	clk.add(50 * time.Minute) // 10m left
	src.fail(errors.New("credentials expired and logging in needs a terminal; run: saml2sts login"))
	for i := range 5 {
		r := get(t, s, "GET", "/", s.Token())
		if r.status != 200 || !strings.Contains(r.body, "ASIAKEY1") {
			t.Fatalf("request %d: %d %s", i, r.status, r.body)
		}
	}
	if n := src.calls.Load(); n != 2 {
		t.Errorf("source calls = %d, want 2 (one failed refresh, then back off)", n)
	}
	if c := strings.Count(logBuf.String(), "\n"); c != 1 || !strings.Contains(logBuf.String(), "saml2sts login") {
		t.Errorf("log: %q", logBuf.String())
	}
	src.fail(nil)
	clk.add(retryDelay + time.Second)
	if r := get(t, s, "GET", "/", s.Token()); !strings.Contains(r.body, "ASIAKEY3") {
		t.Errorf("after the back-off: %s", r.body)
	}
}

func TestConcurrentRequestsShareOneRefresh(t *testing.T) {
	s, src, _ := newTest(t)
	src.gate = make(chan struct{})
	var wg sync.WaitGroup
	bodies := make([]string, 16)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies[i] = get(t, s, "GET", "/", s.Token()).body
		}()
	}
	time.Sleep(100 * time.Millisecond)
	close(src.gate)
	wg.Wait()
	for i, b := range bodies {
		if !strings.Contains(b, "ASIAKEY1") {
			t.Errorf("request %d: %s", i, b)
		}
	}
	if n := src.calls.Load(); n != 1 {
		t.Errorf("source calls = %d, want 1", n)
	}
}

// TestRefreshOutlivesImpatientClient: SDKs time out after about 2s and
// retry; a login that takes longer must still finish and serve the retry.
func TestRefreshOutlivesImpatientClient(t *testing.T) {
	s, src, _ := newTest(t)
	src.gate = make(chan struct{})
	impatient := &http.Client{Timeout: 100 * time.Millisecond}
	req, _ := http.NewRequest("GET", s.URL(), nil)
	req.Header.Set("Authorization", s.Token())
	if res, err := impatient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("want a client timeout, got %s", res.Status)
	}
	close(src.gate) // the login finishes after the client gave up
	r := get(t, s, "GET", "/", s.Token())
	if r.status != 200 || !strings.Contains(r.body, "ASIAKEY1") {
		t.Errorf("retry: %d %s", r.status, r.body)
	}
	if n := src.calls.Load(); n != 1 {
		t.Errorf("source calls = %d, want 1 (the retry joins the first refresh)", n)
	}
}

func TestCloseCancelsRefresh(t *testing.T) {
	s, src, _ := newTest(t)
	src.gate = make(chan struct{}) // never opened: only ctx ends the call
	go func() {
		req, _ := http.NewRequest("GET", s.URL(), nil)
		req.Header.Set("Authorization", s.Token())
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	for src.calls.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	done := make(chan error)
	go func() { done <- s.Close() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not cancel the running refresh")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Get(s.URL()); err == nil {
		t.Error("server still answers after Close")
	}
}

func TestTokenAndURL(t *testing.T) {
	a, _, _ := newTest(t)
	b, _, _ := newTest(t)
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

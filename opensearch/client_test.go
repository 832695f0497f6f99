package opensearch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/saml2sts/saml2sts/sts/ststest"
)

const (
	testAKID   = "ASIATESTKEY"
	testSecret = "test/secret/KEYvalue+1234567890abcdefgh"
	testToken  = "FwoGZXIvYXdzEXAMPLEtokenVALUE//abc=="
)

// countingCreds hands out credentials and counts how often it was asked.
type countingCreds struct {
	n      atomic.Int32
	expire time.Time
}

func (c *countingCreds) Retrieve(context.Context) (aws.Credentials, error) {
	c.n.Add(1)
	return aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: testToken,
		CanExpire: !c.expire.IsZero(), Expires: c.expire}, nil
}

// verifier checks requests the way AWS does, with ststest's SigV4
// verifier (the SDK signer with its default, double path escaping).
func verifySig(r *http.Request, body []byte, service, region string) error {
	lookup := func(akid string) (string, string, time.Time, bool) {
		return testSecret, testToken, time.Time{}, akid == testAKID
	}
	_, err := ststest.VerifySigV4(r, body, lookup, service, region, time.Now())
	return err
}

type reqLog struct {
	mu   sync.Mutex
	reqs []*http.Request
	body [][]byte
}

func (s *reqLog) add(r *http.Request, b []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, r)
	s.body = append(s.body, b)
	return len(s.reqs)
}

func (s *reqLog) get(i int) (*http.Request, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs[i], s.body[i]
}

func (s *reqLog) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

func testEndpoint(t *testing.T, srvURL, service string) *Endpoint {
	t.Helper()
	e, err := ParseEndpoint(srvURL, service, "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func recordSleep(waits *[]time.Duration) func(context.Context, time.Duration) error {
	var mu sync.Mutex
	return func(_ context.Context, d time.Duration) error {
		mu.Lock()
		*waits = append(*waits, d)
		mu.Unlock()
		return nil
	}
}

// TestSignPaths sends index names with every awkward character to a
// server that verifies SigV4 the way AWS does, and checks the wire path
// is escaped once and the canonical path twice.
func TestSignPaths(t *testing.T) {
	var s reqLog
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.add(r, b)
		for _, svc := range []string{"es", "aoss"} {
			if strings.Contains(r.Header.Get("Authorization"), "/"+svc+"/") {
				if err := verifySig(r, b, svc, "eu-west-1"); err != nil {
					http.Error(w, err.Error(), http.StatusForbidden)
					return
				}
			}
		}
		fmt.Fprintf(w, `{"path":%q}`, r.URL.Path)
	}))
	defer srv.Close()
	tests := []struct {
		path, wire, canonical, decoded string
		query                          url.Values
	}{
		{"/logs-*/_search", "/logs-%2A/_search", "/logs-%252A/_search", "/logs-*/_search", nil},
		{"/a,b/_count", "/a%2Cb/_count", "/a%252Cb/_count", "/a,b/_count", nil},
		{"/cluster:logs-*/_search", "/cluster%3Alogs-%2A/_search", "/cluster%253Alogs-%252A/_search", "/cluster:logs-*/_search", nil},
		{"/my index/_doc/1", "/my%20index/_doc/1", "/my%2520index/_doc/1", "/my index/_doc/1", nil},
		{"/ü x/_doc/1", "/%C3%BC%20x/_doc/1", "/%25C3%25BC%2520x/_doc/1", "/ü x/_doc/1", nil},
		{"/idx/_doc/a%2fb", "/idx/_doc/a%2Fb", "/idx/_doc/a%252Fb", "/idx/_doc/a/b", nil},
		{"_cat/indices?v", "/_cat/indices", "/_cat/indices", "/_cat/indices", nil},
		{"/_search?q=level:ERROR AND msg:x&size=5", "/_search", "/_search", "/_search", url.Values{"sort": {"@timestamp:desc"}}},
	}
	for _, svc := range []string{"es", "aoss"} {
		for _, tt := range tests {
			var dbg strings.Builder
			c, err := New(Options{Endpoint: testEndpoint(t, srv.URL, svc), Credentials: &countingCreds{}, Debug: &dbg})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(context.Background(), &Request{Method: "POST", Path: tt.path, Query: tt.query, Body: []byte(`{"query":{"match_all":{}}}`)})
			if err != nil {
				t.Fatalf("%s %s: %v", svc, tt.path, err)
			}
			if err := resp.Err(); err != nil {
				t.Errorf("%s %s: %v", svc, tt.path, err)
				continue
			}
			resp.Body.Close()
			r, _ := s.get(s.len() - 1)
			wirePath, _, _ := strings.Cut(r.RequestURI, "?")
			if wirePath != tt.wire || r.URL.Path != tt.decoded {
				t.Errorf("%s %s: wire %s (decoded %s); want %s (%s)", svc, tt.path, wirePath, r.URL.Path, tt.wire, tt.decoded)
			}
			canon := resp.diag.canonical
			if got := strings.Split(canon, "\n")[1]; got != tt.canonical {
				t.Errorf("%s %s: canonical path %s; want %s", svc, tt.path, got, tt.canonical)
			}
			auth := r.Header.Get("Authorization")
			if !strings.Contains(auth, "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token,") {
				t.Errorf("%s %s: signed headers in %s", svc, tt.path, auth)
			}
			if strings.Contains(canon, testToken) || !strings.Contains(canon, "x-amz-security-token:<redacted>") {
				t.Errorf("canonical request does not redact the token:\n%s", canon)
			}
		}
	}
	// The query is merged, sorted and %20-encoded on the wire as signed.
	r, _ := s.get(s.len() - 1)
	if want := "q=level%3AERROR%20AND%20msg%3Ax&size=5&sort=%40timestamp%3Adesc"; r.URL.RawQuery != want {
		t.Errorf("query %s; want %s", r.URL.RawQuery, want)
	}
}

// TestSignHeaders: the content hash is always sent and signed (aoss wants
// it, bodiless requests too), content-length never signed, extras unsigned
// except x-amz-*, Content-Type defaulted by path.
func TestSignHeaders(t *testing.T) {
	var s reqLog
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.add(r, b)
		if err := verifySig(r, b, "aoss", "eu-west-1"); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
		}
	}))
	defer srv.Close()
	c, err := New(Options{Endpoint: testEndpoint(t, srv.URL, "aoss"), Credentials: &countingCreds{}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path string
		body         []byte
		hdr          http.Header
		wantCT       string
		wantSigned   string
	}{
		{"GET", "/_cat/indices", nil, nil, "", "host;x-amz-content-sha256;x-amz-date;x-amz-security-token"},
		{"post", "/_bulk", []byte("{\"index\":{}}\n{}\n"), nil, "application/x-ndjson", "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token"},
		{"POST", "/idx/_msearch/", []byte("{}\n{}\n"), nil, "application/x-ndjson", "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token"},
		{"PUT", "/idx", []byte(`{}`), http.Header{"X-Opaque-Id": {"job-1"}, "X-Amz-Meta": {"m"}}, "application/json", "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta;x-amz-security-token"},
		{"POST", "/idx/_doc", []byte(`a,b`), http.Header{"Content-Type": {"text/csv"}}, "text/csv", "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token"},
	}
	for _, tt := range tests {
		resp, err := c.Do(context.Background(), &Request{Method: tt.method, Path: tt.path, Body: tt.body, Header: tt.hdr})
		if err != nil {
			t.Fatal(err)
		}
		if err := resp.Err(); err != nil {
			t.Errorf("%s %s: %v", tt.method, tt.path, err)
			continue
		}
		r, b := s.get(s.len() - 1)
		if r.Method != strings.ToUpper(tt.method) || string(b) != string(tt.body) {
			t.Errorf("%s %s: server saw %s with body %q", tt.method, tt.path, r.Method, b)
		}
		if got := r.Header.Get("Content-Type"); got != tt.wantCT {
			t.Errorf("%s %s: Content-Type %q; want %q", tt.method, tt.path, got, tt.wantCT)
		}
		if got := r.Header.Get(hdrContentSHA); len(got) != 64 {
			t.Errorf("%s %s: X-Amz-Content-Sha256 %q", tt.method, tt.path, got)
		}
		if got := r.Header.Get("Authorization"); !strings.Contains(got, "SignedHeaders="+tt.wantSigned+",") {
			t.Errorf("%s %s: %s; want SignedHeaders=%s", tt.method, tt.path, got, tt.wantSigned)
		}
		if tt.hdr != nil && tt.hdr.Get("X-Opaque-Id") != "" && r.Header.Get("X-Opaque-Id") != "job-1" {
			t.Errorf("extra header not sent")
		}
	}
}

// TestUnsigned: no credentials, no SigV4 headers.
func TestUnsigned(t *testing.T) {
	var s reqLog
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.add(r, nil)
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	c, _ := New(Options{Endpoint: testEndpoint(t, srv.URL, "es")})
	resp, err := c.Do(context.Background(), &Request{Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	r, _ := s.get(0)
	if string(b) != `{"ok":true}` || r.Header.Get("Authorization") != "" || r.Header.Get(hdrContentSHA) != "" {
		t.Errorf("body %s, headers %v", b, r.Header)
	}
}

// TestRetry: throttling and gateway errors are retried with backoff,
// honouring Retry-After, re-signed each time, bounded.
func TestRetry(t *testing.T) {
	// A Retry-After date is read against the retrier's clock, fixed here:
	// the wait is exact whatever the machine's load.
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	date := clock.Add(3 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		name      string
		statuses  []int
		after     []string // Retry-After per attempt
		attempts  int
		wantCalls int
		wantFinal int
		check     func(t *testing.T, waits []time.Duration)
	}{
		{name: "429 then ok", statuses: []int{429, 200}, wantCalls: 2, wantFinal: 200},
		{name: "each gateway error", statuses: []int{502, 503, 504, 200}, wantCalls: 4, wantFinal: 200},
		{name: "retry-after seconds", statuses: []int{429, 200}, after: []string{"7"}, wantCalls: 2, wantFinal: 200,
			check: func(t *testing.T, w []time.Duration) {
				if len(w) != 1 || w[0] != 7*time.Second {
					t.Errorf("waits %v; want [7s]", w)
				}
			}},
		{name: "retry-after date", statuses: []int{503, 200}, after: []string{date}, wantCalls: 2, wantFinal: 200,
			check: func(t *testing.T, w []time.Duration) {
				if len(w) != 1 || w[0] != 3*time.Second {
					t.Errorf("waits %v; want [3s]", w)
				}
			}},
		{name: "retry-after beyond budget", statuses: []int{429, 200}, after: []string{"600"}, wantCalls: 1, wantFinal: 429},
		{name: "bounded attempts", statuses: []int{503, 503, 503, 503, 503}, attempts: 3, wantCalls: 3, wantFinal: 503},
		{name: "500 not retried", statuses: []int{500, 200}, wantCalls: 1, wantFinal: 500},
		{name: "full jitter under an exponential cap", statuses: []int{503, 503, 503, 503, 503, 503}, wantCalls: 6, wantFinal: 503,
			check: func(t *testing.T, w []time.Duration) {
				if len(w) != 5 {
					t.Fatalf("waits %v", w)
				}
				for i, d := range w {
					ceil := defaultBase << i
					if d < 0 || d >= ceil {
						t.Errorf("wait %d = %v; want in [0, %v)", i+1, d, ceil)
					}
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s reqLog
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				n := s.add(r, b) - 1
				if err := verifySig(r, b, "es", "eu-west-1"); err != nil {
					http.Error(w, err.Error(), http.StatusForbidden)
					return
				}
				if n < len(tt.after) {
					w.Header().Set("Retry-After", tt.after[n])
				}
				w.WriteHeader(tt.statuses[min(n, len(tt.statuses)-1)])
				fmt.Fprintf(w, `{"attempt":%d}`, n+1)
			}))
			defer srv.Close()
			var waits []time.Duration
			var dbg strings.Builder
			tick := time.Now()
			var mu sync.Mutex
			creds := &countingCreds{}
			c, _ := New(Options{Endpoint: testEndpoint(t, srv.URL, "es"), Credentials: creds,
				Retry: Retry{Attempts: tt.attempts, Sleep: recordSleep(&waits), Now: func() time.Time { return clock }}, Debug: &dbg,
				// Each attempt signs at a later time: the signature changes.
				Now: func() time.Time { mu.Lock(); defer mu.Unlock(); tick = tick.Add(time.Second); return tick }})
			resp, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/i/_search", Body: []byte(`{"size":1}`)})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if s.len() != tt.wantCalls || resp.Status != tt.wantFinal {
				t.Fatalf("%d calls, final %d %s; want %d calls, final %d", s.len(), resp.Status, b, tt.wantCalls, tt.wantFinal)
			}
			if want := fmt.Sprintf(`{"attempt":%d}`, tt.wantCalls); string(b) != want {
				t.Errorf("body %s; want %s", b, want)
			}
			sigs := map[string]bool{}
			for i := 0; i < s.len(); i++ {
				r, b := s.get(i)
				sigs[r.Header.Get("Authorization")] = true
				if string(b) != `{"size":1}` {
					t.Errorf("attempt %d body %q", i+1, b)
				}
			}
			if len(sigs) != s.len() {
				t.Errorf("%d distinct signatures over %d attempts: every retry must be re-signed", len(sigs), s.len())
			}
			if creds.n.Load() != 1 {
				t.Errorf("credentials retrieved %d times; want 1 (cached)", creds.n.Load())
			}
			if tt.check != nil {
				tt.check(t, waits)
			}
			// --debug: one line per retry, marked like every debug line.
			lines := strings.Split(strings.TrimSuffix(dbg.String(), "\n"), "\n")
			if dbg.Len() == 0 {
				lines = nil
			}
			if len(lines) != len(waits) {
				t.Errorf("%d debug lines for %d retries:\n%s", len(lines), len(waits), dbg.String())
			}
			for _, l := range lines {
				if !strings.HasPrefix(l, "debug: opensearch: POST /i/_search: ") || !strings.Contains(l, "retrying in") {
					t.Errorf("debug line %q", l)
				}
			}
		})
	}
}

// TestRetryConnectionReset: a connection closed before any response is
// retried; the caller never sees it.
func TestRetryConnectionReset(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					tc.SetLinger(0) // RST, not FIN
				}
				conn.Close()
			}
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	var waits []time.Duration
	c, _ := New(Options{Endpoint: testEndpoint(t, srv.URL, "es"), Credentials: &countingCreds{}, Retry: Retry{Sleep: recordSleep(&waits)}})
	resp, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/_bulk", Body: []byte("{}\n")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != `{"ok":true}` || n.Load() != 3 || len(waits) != 2 {
		t.Errorf("body %s after %d attempts, %d waits", b, n.Load(), len(waits))
	}
	// Bounded: a server that always resets ends in an error.
	n.Store(-100)
	c, _ = New(Options{Endpoint: testEndpoint(t, srv.URL, "es"), Retry: Retry{Attempts: 3, Sleep: recordSleep(&waits)}})
	_, err = c.Do(context.Background(), &Request{Path: "/"})
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Errorf("err %v; want gave up after 3 attempts", err)
	}
}

// TestRetryContext: cancelling during a wait stops at once.
func TestRetryContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	c, _ := New(Options{Endpoint: testEndpoint(t, srv.URL, "es"), Retry: Retry{Sleep: func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}}})
	_, err := c.Do(ctx, &Request{Path: "/"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v; want context.Canceled", err)
	}
}

// TestExpiredTokenRenews: a 403 "token expired" invalidates the cached
// credentials and retries once with fresh ones; a second one is final.
func TestExpiredTokenRenews(t *testing.T) {
	const expired = `{"message":"The security token included in the request is expired"}`
	for _, fails := range []int{1, 5} {
		var n atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if int(n.Add(1)) <= fails {
				w.WriteHeader(403)
				io.WriteString(w, expired)
				return
			}
			io.WriteString(w, `{"ok":true}`)
		}))
		creds := &countingCreds{expire: time.Now().Add(time.Hour)}
		c, _ := New(Options{Endpoint: testEndpoint(t, srv.URL, "es"), Credentials: creds})
		resp, err := c.Do(context.Background(), &Request{Path: "/"})
		if err != nil {
			t.Fatal(err)
		}
		err = resp.Err()
		switch fails {
		case 1:
			if err != nil || n.Load() != 2 || creds.n.Load() != 2 {
				t.Errorf("one expiry: err %v, %d calls, %d retrievals; want ok, 2, 2", err, n.Load(), creds.n.Load())
			}
		default:
			var ae *AccessError
			if !errors.As(err, &ae) || ae.Kind != KindExpired || n.Load() != 2 {
				t.Errorf("persistent expiry: err %v, %d calls; want KindExpired after 2", err, n.Load())
			}
		}
		srv.Close()
	}
}

// TestStreaming: a success body is handed over before the server ends it.
func TestStreaming(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "second\n")
	}))
	defer srv.Close()
	defer close(release)
	c, _ := New(Options{Endpoint: testEndpoint(t, srv.URL, "es"), Credentials: &countingCreds{}})
	done := make(chan string, 1)
	go func() {
		resp, err := c.Do(context.Background(), &Request{Path: "/_search"})
		if err != nil {
			done <- err.Error()
			return
		}
		buf := make([]byte, 6)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			done <- err.Error()
		} else {
			done <- string(buf)
		}
		resp.Body.Close()
	}()
	select {
	case got := <-done:
		if got != "first\n" {
			t.Errorf("got %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the body was buffered: first line not delivered before the end")
	}
}

// BenchmarkDo compares a signed call with an unsigned one against a
// loopback server: the cost of SigV4 (hash, canonical request, HMAC chain)
// per request.
func BenchmarkDo(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"hits":{"hits":[]}}`)
	}))
	defer srv.Close()
	body := []byte(`{"size":1000,"query":{"match_all":{}},"sort":["_doc"],"search_after":[123456789012345678]}`)
	for _, signed := range []bool{false, true} {
		name := "unsigned"
		var creds aws.CredentialsProvider
		if signed {
			name, creds = "signed", &countingCreds{}
		}
		b.Run(name, func(b *testing.B) {
			e, _ := ParseEndpoint(srv.URL, "es", "eu-west-1")
			c, _ := New(Options{Endpoint: e, Credentials: creds})
			ctx := context.Background()
			for b.Loop() {
				resp, err := c.Do(ctx, &Request{Method: "POST", Path: "/logs-*/_search", Body: body})
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// rotatingCreds hands out key K1, then K2 once told K1 expired.
type rotatingCreds struct {
	mu       sync.Mutex
	rejected []string
	n        int
}

func (c *rotatingCreds) Retrieve(context.Context) (aws.Credentials, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	key := "K1"
	if len(c.rejected) > 0 {
		key = "K2"
	}
	return aws.Credentials{AccessKeyID: key, SecretAccessKey: "s", CanExpire: true, Expires: time.Now().Add(time.Hour)}, nil
}

func (c *rotatingCreds) Expired(key string) {
	c.mu.Lock()
	c.rejected = append(c.rejected, key)
	c.mu.Unlock()
}

// TestExpiredTokenConcurrent: parallel requests (export slices) refused as
// expired renew the credentials once, and the provider learns which key the
// server refused.
func TestExpiredTokenConcurrent(t *testing.T) {
	const par = 8
	var arrived sync.WaitGroup
	arrived.Add(par)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Authorization"), "Credential=K1/") {
			arrived.Done()
			arrived.Wait() // every request holds K1 before any renews
			w.WriteHeader(403)
			io.WriteString(w, `{"message":"The security token included in the request is expired"}`)
			return
		}
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	creds := &rotatingCreds{}
	c, _ := New(Options{Endpoint: testEndpoint(t, srv.URL, "es"), Credentials: creds})
	var wg sync.WaitGroup
	for range par {
		wg.Go(func() {
			resp, err := c.Do(context.Background(), &Request{Path: "/"})
			if err == nil {
				err = resp.Err()
				resp.Body.Close()
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if creds.n != 2 {
		t.Errorf("provider asked %d times; want 2 (one renewal for %d refused requests)", creds.n, par)
	}
	for _, k := range creds.rejected {
		if k != "K1" {
			t.Errorf("Expired(%q); want K1", k)
		}
	}
}

// BenchmarkRequest builds and signs one search request, no network: the
// client CPU a signed page request costs over an unsigned one.
func BenchmarkRequest(b *testing.B) {
	e, _ := ParseEndpoint("https://search-logs-abc.eu-west-1.es.amazonaws.com", "", "")
	body := []byte(`{"size":1000,"query":{"match_all":{}},"sort":["_doc"],"search_after":[123456789012345678]}`)
	r := &Request{Method: "POST", Path: "/logs-*/_search", Body: body}
	for _, signed := range []bool{false, true} {
		name := "unsigned"
		var creds aws.CredentialsProvider
		if signed {
			name, creds = "signed", &countingCreds{expire: time.Now().Add(time.Hour)}
		}
		b.Run(name, func(b *testing.B) {
			c, _ := New(Options{Endpoint: e, Credentials: creds})
			u, _ := buildURL(e.URL, r.Path, nil)
			d := &diagContext{}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.request(ctx, r, u, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestExpiryWindow: credentials are asked for again only inside the
// window, so a provider that renews later than 2 minutes before expiry is
// not asked on every request.
func TestExpiryWindow(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{}`) }))
	defer srv.Close()
	for _, tc := range []struct {
		window time.Duration
		want   int32
	}{{0, 3}, {time.Minute, 1}} {
		creds := &countingCreds{expire: time.Now().Add(90 * time.Second)}
		c, _ := New(Options{Endpoint: testEndpoint(t, srv.URL, "es"), Credentials: creds, ExpiryWindow: tc.window})
		for range 3 {
			resp, err := c.Do(context.Background(), &Request{Path: "/"})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		if n := creds.n.Load(); n != tc.want {
			t.Errorf("window %s: provider asked %d times for 3 requests; want %d", tc.window, n, tc.want)
		}
	}
}

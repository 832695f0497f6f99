package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LocalHost", true},
		{"idp.localhost", true},
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"[::1]", true},
		{"::ffff:127.0.0.1", true},
		{"example.com", false},
		{"localhost.example.com", false},
		{"127.0.0.1.nip.io", false},
		{"0.0.0.0", false},
		{"10.0.0.1", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsLoopback(tt.host); got != tt.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

// recorder is a RoundTripper that answers 200 and remembers the URLs.
type recorder struct {
	mu   sync.Mutex
	urls []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL.String())
	r.mu.Unlock()
	return &http.Response{StatusCode: 200, Status: "200 OK", Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

func TestGuard(t *testing.T) {
	tests := []struct {
		url  string
		host string // refused host, "" when allowed
	}{
		{"http://127.0.0.1:8080/realms/x", ""},
		{"http://localhost/x", ""},
		{"http://[::1]:9000/x", ""},
		{"https://example.com/x", ""},
		{"HTTPS://Example.com/x", ""},
		{"http://example.com/x", "example.com"},
		{"HTTP://EXAMPLE.COM/x", "EXAMPLE.COM"},
		{"http://10.0.0.1/x", "10.0.0.1"},
		{"http://localhost.example.com/x", "localhost.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			next := &recorder{}
			req, err := http.NewRequest("GET", tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = guard{next}.RoundTrip(req)
			if tt.host == "" {
				if err != nil || len(next.urls) != 1 {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ie *InsecureSchemeError
			if !errors.As(err, &ie) || ie.Host != tt.host {
				t.Fatalf("want InsecureSchemeError for %s, got %v", tt.host, err)
			}
			if len(next.urls) != 0 {
				t.Errorf("request passed on: %v", next.urls)
			}
			if !strings.Contains(err.Error(), "use https") {
				t.Errorf("error does not say what to do: %v", err)
			}
		})
	}
}

// TestGuardRedirect: a redirect from a loopback server to plain http
// elsewhere is refused before any dial (example.invalid never resolves).
func TestGuardRedirect(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "http://example.invalid/login?code=abc", http.StatusFound)
	}))
	defer srv.Close()
	c, err := NewClient(Options{}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(srv.URL + "/start")
	if err == nil {
		resp.Body.Close()
		t.Fatal("redirect to plain http was followed")
	}
	var ie *InsecureSchemeError
	if !errors.As(err, &ie) || ie.Host != "example.invalid" {
		t.Fatalf("want InsecureSchemeError for example.invalid, got %v", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("loopback server hits = %d, want 1", n)
	}
}

// writeCert writes the server's certificate as a PEM bundle.
func writeCert(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func get(t *testing.T, o Options, url string) (string, error) {
	t.Helper()
	c, err := NewClient(o, 5*time.Second)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestCABundle(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	defer srv.Close()
	bundle := writeCert(t, srv)
	t.Setenv("AWS_CA_BUNDLE", "")

	t.Run("untrusted", func(t *testing.T) {
		_, err := get(t, Options{}, srv.URL)
		var ua x509.UnknownAuthorityError
		var ve *tls.CertificateVerificationError
		if !errors.As(err, &ua) && !errors.As(err, &ve) {
			t.Fatalf("want an x509 verification error, got %v", err)
		}
	})
	t.Run("option", func(t *testing.T) {
		if body, err := get(t, Options{CABundle: bundle}, srv.URL); err != nil || body != "hello" {
			t.Fatalf("got %q, %v", body, err)
		}
	})
	t.Run("AWS_CA_BUNDLE", func(t *testing.T) {
		t.Setenv("AWS_CA_BUNDLE", bundle)
		if body, err := get(t, Options{}, srv.URL); err != nil || body != "hello" {
			t.Fatalf("got %q, %v", body, err)
		}
	})
	t.Run("option wins over AWS_CA_BUNDLE", func(t *testing.T) {
		t.Setenv("AWS_CA_BUNDLE", filepath.Join(t.TempDir(), "missing.pem"))
		if body, err := get(t, Options{CABundle: bundle}, srv.URL); err != nil || body != "hello" {
			t.Fatalf("got %q, %v", body, err)
		}
	})
}

func TestCABundleErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("this is not a certificate\n"), 0o600)
	missing := filepath.Join(dir, "missing.pem")
	tests := []struct {
		name, path, env, want string
	}{
		{name: "missing file", path: missing, want: "read CA bundle"},
		{name: "missing file from env", env: missing, want: "read CA bundle"},
		{name: "not PEM", path: notPEM, want: "holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_CA_BUNDLE", tt.env)
			_, err := NewTransport(Options{CABundle: tt.path})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want an error with %q, got %v", tt.want, err)
			}
			// A configuration problem: the CLI exits 2 for it.
			var be *CABundleError
			if !errors.As(err, &be) || (tt.path != "" && be.Path != tt.path) {
				t.Errorf("want a *CABundleError naming the file, got %T %v", err, err)
			}
			if tt.path == missing && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("error does not wrap the cause: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestNewClientTimeout(t *testing.T) {
	c, err := NewClient(Options{}, 7*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if c.Timeout != 7*time.Second {
		t.Errorf("timeout = %v", c.Timeout)
	}
}

// Proxy settings are read once per process (http.ProxyFromEnvironment
// caches them), so the proxy tests run this test binary again with the
// variables set. No real network is used: https://example.com goes through
// a loopback proxy that tunnels to a local TLS server (whose test
// certificate is valid for example.com), and loopback URLs go direct.
const proxyChildEnv = "HTTPX_PROXY_CHILD_URL"

func TestProxyChild(t *testing.T) {
	u := os.Getenv(proxyChildEnv)
	if u == "" {
		t.Skip("helper for TestProxy")
	}
	body, err := get(t, Options{CABundle: os.Getenv("HTTPX_PROXY_CHILD_CA")}, u)
	if err != nil {
		t.Fatalf("get %s: %v", u, err)
	}
	if body != "origin" {
		t.Fatalf("body %q", body)
	}
}

func TestProxy(t *testing.T) {
	if os.Getenv(proxyChildEnv) != "" {
		return
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "origin") })
	origin := httptest.NewTLSServer(handler)
	defer origin.Close()
	plain := httptest.NewServer(handler)
	defer plain.Close()
	var (
		mu   sync.Mutex
		seen []string // CONNECT targets and proxied URLs
	)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.RequestURI)
		mu.Unlock()
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := net.Dial("tcp", origin.Listener.Addr().String())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer up.Close()
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		done := make(chan struct{}, 2)
		go func() { io.Copy(up, rw); done <- struct{}{} }()
		go func() { io.Copy(conn, up); done <- struct{}{} }()
		<-done
	}))
	defer proxy.Close()
	ca := writeCert(t, origin)

	tests := []struct {
		name string
		env  []string
		url  string
		want []string // what the proxy sees
	}{
		{"HTTPS_PROXY", []string{"HTTPS_PROXY=" + proxy.URL}, "https://example.com/x", []string{"CONNECT example.com:443"}},
		{"https_proxy", []string{"https_proxy=" + proxy.URL}, "https://example.com/x", []string{"CONNECT example.com:443"}},
		// Loopback never goes through a proxy: the emulators and the demo
		// keep working behind a corporate proxy.
		{"loopback https", []string{"HTTPS_PROXY=" + proxy.URL}, origin.URL, nil},
		{"loopback http", []string{"HTTP_PROXY=" + proxy.URL, "HTTPS_PROXY=" + proxy.URL}, plain.URL, nil},
		// Every name IsLoopback accepts for plain http stays off the
		// proxy, or a password would cross the network in clear text
		// (net/http only exempts the exact name "localhost").
		{"loopback name http", []string{"HTTP_PROXY=" + proxy.URL}, strings.Replace(plain.URL, "127.0.0.1", "LocalHost", 1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			cmd := exec.Command(os.Args[0], "-test.run=^TestProxyChild$", "-test.v")
			cmd.Env = append(cleanProxyEnv(), proxyChildEnv+"="+tt.url, "HTTPX_PROXY_CHILD_CA="+ca)
			cmd.Env = append(cmd.Env, tt.env...)
			out, err := runWithTimeout(cmd, 30*time.Second)
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			mu.Lock()
			got := strings.Join(seen, "; ")
			mu.Unlock()
			if want := strings.Join(tt.want, "; "); got != want {
				t.Errorf("proxy saw %q, want %q", got, want)
			}
		})
	}
}

func cleanProxyEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY", "REQUEST_METHOD", "AWS_CA_BUNDLE":
			continue
		}
		env = append(env, kv)
	}
	return env
}

func runWithTimeout(cmd *exec.Cmd, d time.Duration) (string, error) {
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		return out.String(), errors.New("child timed out")
	}
}

// TestDialLoopback: localhost names are dialled on loopback, never
// resolved; other names go to the resolver unchanged.
func TestDialLoopback(t *testing.T) {
	var dialled []string
	refuse6 := func(_ context.Context, _, addr string) (net.Conn, error) {
		dialled = append(dialled, addr)
		return nil, errors.New("refused")
	}
	for _, tt := range []struct {
		addr string
		want []string
	}{
		{"idp.localhost:8443", []string{"127.0.0.1:8443", "[::1]:8443"}},
		{"LOCALHOST:80", []string{"127.0.0.1:80", "[::1]:80"}},
		{"a.b.Localhost:1", []string{"127.0.0.1:1", "[::1]:1"}},
		{"localhost.example.com:443", []string{"localhost.example.com:443"}},
		{"127.0.0.1:9", []string{"127.0.0.1:9"}},
	} {
		dialled = nil
		dialLoopback(refuse6)(context.Background(), "tcp", tt.addr)
		if strings.Join(dialled, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%s dialled %v, want %v", tt.addr, dialled, tt.want)
		}
	}

	// End to end: a name no resolver knows reaches a loopback server.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Host) }))
	defer srv.Close()
	rt, err := NewTransport(Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	resp, err := (&http.Client{Transport: rt}).Get("http://no-such-name-" + port + ".idp.localhost:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); !strings.HasSuffix(string(b), ".idp.localhost:"+port) {
		t.Errorf("server saw Host %q", b)
	}
}

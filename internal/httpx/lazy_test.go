package httpx

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLazyTransportDefersBundle: a bad CA bundle costs nothing (and fails
// nothing) until the first request, which then fails with the bundle error.
func TestLazyTransportDefersBundle(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bad, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	rt := NewLazyTransport(Options{CABundle: bad})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, err := (&http.Client{Transport: rt}).Get(srv.URL)
	if err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Fatalf("first request: %v, want the CA bundle error", err)
	}

	ok := NewLazyTransport(Options{})
	resp, err := (&http.Client{Transport: ok}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := (&http.Client{Transport: ok}).Get("http://example.invalid/"); err == nil || !strings.Contains(err.Error(), "refusing plain http") {
		t.Fatalf("lazy transport must keep the loopback guard: %v", err)
	}
}

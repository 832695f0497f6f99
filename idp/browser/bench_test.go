package browser

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/saml2sts/saml2sts/idp"
)

// BenchmarkFirstPage measures the time from the start of a browser login
// to the first page seen (a login form on loopback), headless and, when a
// display is there (xvfb-run), headed; the baseline is the same browser
// started bare to dump that page (chromium --headless --dump-dom), in the
// same run. docs/performance.md records the figures.
//
//	go test ./idp/browser -run '^$' -bench FirstPage -benchtime 5x
//	xvfb-run -a go test ./idp/browser -run '^$' -bench FirstPage -benchtime 5x
func BenchmarkFirstPage(b *testing.B) {
	exe, err := hostSystem(runtime.GOOS, os.Getenv).find(os.Getenv("SAML2STS_BROWSER"))
	if err != nil {
		b.Skip(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!DOCTYPE html><title>Sign in</title><form method="post"><input name="username"><input type="password" name="password"></form>`))
	}))
	defer srv.Close()

	b.Run("baseline-dump-dom", func(b *testing.B) {
		for b.Loop() {
			dir := b.TempDir()
			if out, err := exec.Command(exe, "--headless", "--no-sandbox", "--no-first-run", "--disable-background-networking",
				"--disable-component-update", "--disable-sync", "--disable-quic", "--user-data-dir="+dir, "--dump-dom", srv.URL).CombinedOutput(); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
		}
	})
	modes := []struct {
		name     string
		headless bool
	}{{"headless", true}}
	if os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "" {
		modes = append(modes, struct {
			name     string
			headless bool
		}{"headed", false})
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			for b.Loop() {
				p := New(nil, Config{Mode: Always, Headless: m.headless, Dir: filepath.Join(b.TempDir(), "s"), Identity: "x"})
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				p.hook = func(tab context.Context) {
					if t, _ := chromedp.Run(tab, chromedp.Title()); t == "Sign in" {
						cancel()
					}
				}
				jar, _ := idp.NewJar(nil)
				p.Login(ctx, &idp.Request{URL: srv.URL, Prompt: tty{}, Client: idp.NewClient(nil, jar),
					Password: func(context.Context) (string, error) { return "", context.Canceled }})
				cancel()
			}
		})
	}
}

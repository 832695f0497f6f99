package bench

import (
	"bufio"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/opensearch/opensearchtest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

// export is one whole-process export: wall time, the child's peak RSS and
// the lines it wrote.
type export struct {
	wall  time.Duration
	cpu   time.Duration // the child's user + system time
	rssKB int64
	lines int64
}

// runExport runs `saml2sts search INDEX --all --format ndjson` as a child
// and counts its output lines. The emulator is in this process, so the
// child's rusage is the client alone.
func runExport(b *testing.B, bin string, env []string, args ...string) export {
	b.Helper()
	c := exec.Command(bin, append([]string{"search", "logs", "--all", "--format", "ndjson"}, args...)...)
	c.Env = env
	out, err := c.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	var stderr strings.Builder
	c.Stderr = &stderr
	start := time.Now()
	if err := c.Start(); err != nil {
		b.Fatal(err)
	}
	var lines int64
	r := bufio.NewReaderSize(out, 1<<20)
	for {
		chunk, err := r.ReadSlice('\n')
		if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
			lines++
		}
		if err == io.EOF {
			break
		}
		if err != nil && err != bufio.ErrBufferFull {
			b.Fatal(err)
		}
	}
	if err := c.Wait(); err != nil {
		b.Fatalf("saml2sts search: %v\n%s", err, stderr.String())
	}
	wall := time.Since(start)
	return export{wall, c.ProcessState.UserTime() + c.ProcessState.SystemTime(), peakRSS(c.ProcessState), lines}
}

// BenchmarkExport exports 10k, 100k and 1M synthetic documents
// (unsigned, open emulator domain, PIT + search_after, 1000 hits a page)
// through the built binary. It reports docs/s and the client's peak RSS:
// flat memory means the same RSS for 1M documents as for 10k.
func BenchmarkExport(b *testing.B) {
	dir := b.TempDir()
	bin := build(b, dir)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"SAML2STS_CONFIG=" + filepath.Join(dir, "config"), "XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
	// --no-sign still reads a profile; this one is never logged in to.
	c := exec.Command(bin, "configure", "--profile", "open", "--provider", "keycloak",
		"--url", "https://sso.example.com/realms/corp", "--username", "ana", "--region", "eu-west-1")
	c.Env = env
	if out, err := c.CombinedOutput(); err != nil {
		b.Fatalf("configure: %v\n%s", err, out)
	}
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		for _, sl := range []int{1, 4} {
			b.Run(fmt.Sprintf("docs=%d/slices=%d", n, sl), func(b *testing.B) {
				srv, err := opensearchtest.New(opensearchtest.Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer srv.Close()
				srv.Synthetic("logs", n)
				var wall, cpu time.Duration
				var rss int64
				for b.Loop() {
					e := runExport(b, bin, env, "--profile", "open", "--endpoint", srv.URL(), "--service", "es", "--no-sign", "--slices", fmt.Sprint(sl))
					if e.lines != int64(n) {
						b.Fatalf("exported %d lines, want %d", e.lines, n)
					}
					wall += e.wall
					cpu += e.cpu
					rss = max(rss, e.rssKB)
				}
				b.ReportMetric(float64(n)*float64(b.N)/wall.Seconds(), "docs/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(n*b.N), "client-cpu-µs/doc")
				b.ReportMetric(float64(rss)/1024, "maxrss-MB")
				if st := srv.Stats(); st.OpenContexts() != 0 {
					b.Fatalf("%d contexts left open", st.OpenContexts())
				}
			})
		}
	}
}

// BenchmarkExportSigned compares a SigV4-signed export (credentials from a
// logged-in profile, every request verified by the emulator against the STS
// emulator's keys) with an unsigned one of the same documents, paired in
// each iteration. The target: signed/unsigned throughput >= 0.9.
// The 1000-document case shows the fixed cost of a signed run (profile,
// broker and credential cache), the 100k case the per-page cost.
func BenchmarkExportSigned(b *testing.B) {
	dir := b.TempDir()
	bin := build(b, dir)
	const pw = "bench-password"
	kc, err := idptest.NewKeycloak(idptest.KeycloakOptions{Users: []idptest.User{{
		Username: "ana", Password: pw, Roles: []string{role + "," + provider},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	defer kc.Close()
	st := ststest.New(ststest.Options{Providers: map[string]*x509.Certificate{provider: kc.Certificate()}})
	defer st.Close()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"SAML2STS_CONFIG=" + filepath.Join(dir, "config"), "XDG_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"AWS_ENDPOINT_URL_STS=" + st.URL(), "SAML2STS_CACHE=file", "AWS_EC2_METADATA_DISABLED=true"}
	runOK := func(stdin string, args ...string) {
		c := exec.Command(bin, args...)
		c.Env, c.Stdin = env, strings.NewReader(stdin)
		if out, err := c.CombinedOutput(); err != nil {
			b.Fatalf("saml2sts %v: %v\n%s", args, err, out)
		}
	}
	runOK("", "configure", "--profile", "bench", "--provider", "keycloak", "--url", kc.URL(),
		"--username", "ana", "--role-arn", role, "--region", "eu-west-1")
	runOK(pw, "login", "--profile", "bench", "--password-stdin")

	open, err := opensearchtest.New(opensearchtest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer open.Close()
	signed, err := opensearchtest.New(opensearchtest.Options{
		Verify: func(r *http.Request, body []byte, service string) (string, error) {
			c, err := st.Verify(r, body, service)
			return c.AssumedRoleARN, err
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer signed.Close()
	for _, n := range []int{1_000, 100_000} {
		open.Synthetic("logs", n)
		signed.Synthetic("logs", n)
		b.Run(fmt.Sprintf("docs=%d", n), func(b *testing.B) { pairs(b, bin, env, open, signed, n) })
	}
}

// pairs runs the paired exports of BenchmarkExportSigned.
func pairs(b *testing.B, bin string, env []string, open, signed *opensearchtest.Server, n int) {

	var tu, ts, cu, cs, cso time.Duration
	var ratios, ratiosOpen []float64 // per pair: unsigned wall / signed wall
	// signOnly signs for the open domain, which does not check: the
	// client's share of the cost without the emulator's verification.
	signOnly := func() export {
		return runExport(b, bin, env, "--endpoint", open.URL(), "--service", "es", "--region", "eu-west-1", "--profile", "bench")
	}
	unsigned := func() export {
		return runExport(b, bin, env, "--endpoint", open.URL(), "--service", "es", "--region", "eu-west-1", "--no-sign", "--profile", "bench")
	}
	sign := func() export {
		return runExport(b, bin, env, "--endpoint", signed.URL(), "--service", "es", "--region", "eu-west-1", "--profile", "bench")
	}
	i := 0
	for b.Loop() {
		// Alternate which goes first, so drift and warm-up hit both.
		var u, s, so export
		if i%2 == 0 {
			u, s, so = unsigned(), sign(), signOnly()
		} else {
			so, s, u = signOnly(), sign(), unsigned()
		}
		ratiosOpen = append(ratiosOpen, u.wall.Seconds()/so.wall.Seconds())
		i++
		if u.lines != int64(n) || s.lines != int64(n) {
			b.Fatalf("exported %d unsigned, %d signed lines, want %d", u.lines, s.lines, n)
		}
		tu += u.wall
		ts += s.wall
		ratios = append(ratios, u.wall.Seconds()/s.wall.Seconds())
		cu += u.cpu
		cs += s.cpu
		cso += so.cpu
	}
	b.ReportMetric(float64(n)*float64(b.N)/tu.Seconds(), "unsigned-docs/s")
	b.ReportMetric(float64(n)*float64(b.N)/ts.Seconds(), "signed-docs/s")
	// The median of paired ratios resists the noise of a shared machine.
	slices.Sort(ratios)
	slices.Sort(ratiosOpen)
	b.ReportMetric(ratios[len(ratios)/2], "signed/unsigned")
	b.ReportMetric(ratiosOpen[len(ratiosOpen)/2], "signed-unverified/unsigned")
	b.ReportMetric(cs.Seconds()/cu.Seconds(), "client-cpu-signed/unsigned")
	b.ReportMetric(float64((cs-cu).Microseconds())/1000/float64(b.N), "signed-extra-cpu-ms")
	// The same without the emulator's verification: the client's signing
	// work alone (the verifying emulator competes for the same 2 cores).
	b.ReportMetric(float64((cso-cu).Microseconds())/1000/float64(b.N), "signed-unverified-extra-cpu-ms")
	if s := signed.Stats(); s.Signed == 0 || len(s.Rejected) > 0 || s.OpenContexts() != 0 {
		b.Fatalf("signed exports: %d verified requests, rejected %v, %d contexts open", s.Signed, s.Rejected, s.OpenContexts())
	}
}

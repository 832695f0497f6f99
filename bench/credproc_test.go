package bench

import (
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

const (
	provider = "arn:aws:iam::123456789012:saml-provider/corp"
	role     = "arn:aws:iam::123456789012:role/SearchReader"
	password = "bench-password"
)

// rig is a logged-in profile per backend, each with the credential_process
// line configure wrote, against loopback Keycloak and STS emulators.
type rig struct {
	env                []string
	bin, helper, hello string
	backends           []string
	lines              map[string][]string // backend -> the line configure wrote
	profiles           map[string]string   // backend -> its profile
	st                 *ststest.Server
}

func newRig(b *testing.B) *rig {
	dir := b.TempDir()
	bin := build(b, dir)
	helper := buildHelper(b, dir)
	hello := buildHello(b, dir)

	kc, err := idptest.NewKeycloak(idptest.KeycloakOptions{Users: []idptest.User{{
		Username: "ana", Password: password, Roles: []string{role + "," + provider},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(kc.Close)
	st := ststest.New(ststest.Options{Providers: map[string]*x509.Certificate{provider: kc.Certificate()}})
	b.Cleanup(st.Close)

	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"SAML2STS_CONFIG=" + filepath.Join(dir, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"AWS_ENDPOINT_URL_STS=" + st.URL(),
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "aws-config"),
	}
	bus := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if bus != "" {
		env = append(env, "DBUS_SESSION_BUS_ADDRESS="+bus)
	}
	runOK := func(stdin string, args ...string) {
		c := exec.Command(bin, args...)
		c.Env, c.Stdin = env, strings.NewReader(stdin)
		if out, err := c.CombinedOutput(); err != nil {
			b.Fatalf("saml2sts %v: %v\n%s", args, err, out)
		}
	}
	backends := []string{"file"}
	if bus != "" {
		backends = append(backends, "keyring")
	}
	// The keyring outlives this run (gnome-keyring keeps it on disk), so
	// profile names are unique per run and logged out at the end.
	name := func(be string) string { return be + "-" + filepath.Base(dir) }
	b.Cleanup(func() {
		for _, be := range backends {
			c := exec.Command(bin, "logout", "--profile", name(be))
			c.Env = env
			c.Run()
		}
	})
	for _, be := range backends {
		runOK("", "configure", "--profile", name(be), "--provider", "keycloak", "--url", kc.URL(),
			"--username", "ana", "--role-arn", role, "--cache", be, "--region", "eu-west-1", "--aws-profile", name(be))
		runOK(password, "login", "--profile", name(be), "--password-stdin")
	}
	// The exact line configure wrote (no quoting needed: temp paths).
	byProfile := map[string][]string{}
	awsCfg, _ := os.ReadFile(filepath.Join(dir, "aws-config"))
	for _, l := range strings.Split(string(awsCfg), "\n") {
		if v, ok := strings.CutPrefix(l, "credential_process = "); ok {
			f := strings.Fields(v)
			if i := slices.Index(f, "--profile"); i > 0 && i+1 < len(f) {
				byProfile[f[i+1]] = f
			}
		}
	}
	r := &rig{env: env, bin: bin, helper: helper, hello: hello, backends: backends, lines: map[string][]string{}, profiles: map[string]string{}, st: st}
	for _, be := range backends {
		l := byProfile[name(be)]
		if len(l) == 0 || l[0] != helper {
			b.Fatalf("configure wrote %q for %s, want the helper %s:\n%s", l, be, helper, awsCfg)
		}
		r.lines[be], r.profiles[be] = l, name(be)
	}
	return r
}

// BenchmarkWarmCredentialProcess times whole processes, interleaved in each
// iteration so machine drift hits all of them alike: a Go hello-world (the
// floor for spawning any Go binary), then, per backend (file; keyring when
// a D-Bus session bus is available), the exact credential_process line
// `configure --aws-profile` writes (the saml2sts-credential-process helper
// installed beside saml2sts) and the full `saml2sts credential-process`.
// It reports medians and the median of per-iteration ratios to hello (the
// pairs share the load of that moment): issue 15 targets line/hello <= 1.5
// for file and <= 2.0 for keyring.
func BenchmarkWarmCredentialProcess(b *testing.B) {
	r := newRig(b)
	env, bin, hello, backends, lines := r.env, r.bin, r.hello, r.backends, r.lines
	timeOne := func(name string, args ...string) time.Duration {
		c := exec.Command(name, args...)
		c.Env = env
		start := time.Now()
		if out, err := c.CombinedOutput(); err != nil {
			b.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return time.Since(start)
	}
	times := map[string][]time.Duration{}
	ratios := map[string][]float64{}
	b.ResetTimer()
	for b.Loop() {
		h := timeOne(hello)
		times["hello"] = append(times["hello"], h)
		for _, be := range backends {
			l := lines[be]
			for _, run := range []struct {
				key  string
				args []string
			}{{be, l}, {be + "-full", []string{bin, "credential-process", "--profile", r.profiles[be]}}} {
				d := timeOne(run.args[0], run.args[1:]...)
				times[run.key] = append(times[run.key], d)
				ratios[run.key] = append(ratios[run.key], float64(d)/float64(h))
			}
		}
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(median(times["hello"])), "hello-ms")
	for _, be := range backends {
		for _, k := range []string{be, be + "-full"} {
			b.ReportMetric(ms(median(times[k])), k+"-ms")
			b.ReportMetric(medianF(ratios[k]), k+"/hello")
		}
	}
	if n := r.st.Calls("AssumeRoleWithSAML"); n != len(backends) {
		b.Fatalf("AssumeRoleWithSAML calls = %d: the timed calls were not warm", n)
	}
}

func medianF(f []float64) float64 {
	s := slices.Clone(f)
	slices.Sort(s)
	return s[len(s)/2]
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func build(b *testing.B, dir string) string {
	out := filepath.Join(dir, "saml2sts")
	c := exec.Command("go", "build", "-o", out, "../cmd/saml2sts")
	if msg, err := c.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, msg)
	}
	return out
}

// buildHelper builds the warm-path helper beside saml2sts, as go install
// ./cmd/... does, so that configure writes it.
func buildHelper(b *testing.B, dir string) string {
	out := filepath.Join(dir, "saml2sts-credential-process")
	c := exec.Command("go", "build", "-o", out, "../cmd/saml2sts-credential-process")
	if msg, err := c.CombinedOutput(); err != nil {
		b.Fatalf("build helper: %v\n%s", err, msg)
	}
	return out
}

func buildHello(b *testing.B, dir string) string {
	src := filepath.Join(dir, "hello", "main.go")
	os.MkdirAll(filepath.Dir(src), 0o700)
	os.WriteFile(src, []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(`{\"hello\":1}`) }\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "hello", "go.mod"), []byte("module hello\n\ngo 1.22\n"), 0o600)
	out := filepath.Join(dir, "hello-bin")
	c := exec.Command("go", "build", "-o", out, ".")
	c.Dir = filepath.Dir(src)
	if msg, err := c.CombinedOutput(); err != nil {
		b.Fatalf("build hello: %v\n%s", err, msg)
	}
	return out
}

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/internal/credrec"
)

// runMainEnv makes this test binary run main() instead of the tests: a
// copy of it is the helper in TestFallback, without a go build.
const runMainEnv = "CREDPROC_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) != "" {
		main()
	}
	os.Exit(m.Run())
}

// TestDeps: the helper links none of the heavy packages whose init made
// the warm call slow, nor go-keyring, godbus, flock or net (its keyring
// read is cache/warm's own D-Bus client).
func TestDeps(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/saml2sts/saml2sts/internal/credrec") {
		t.Fatalf("go list -deps gave no credrec: %v", deps)
	}
	forbidden := []string{"net/http", "encoding/gob", "regexp", "github.com/aws/", "github.com/spf13/", "github.com/crewjam/",
		"github.com/PuerkitoBio/", "golang.org/x/net/html", "github.com/jcmturner/", "github.com/saml2sts/saml2sts/idp",
		"github.com/saml2sts/saml2sts/sts", "github.com/saml2sts/saml2sts/internal/cli", "github.com/saml2sts/saml2sts/internal/broker",
		"github.com/saml2sts/saml2sts/internal/config", "github.com/saml2sts/saml2sts/opensearch",
		"github.com/zalando/", "github.com/godbus/", "github.com/gofrs/", "net"}
	if slices.Contains(deps, "github.com/saml2sts/saml2sts/cache") {
		t.Error("links package cache (go-keyring, flock): read through cache/warm")
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasSuffix(f, "/") && strings.HasPrefix(d, f) || strings.HasPrefix(d, f+"/") {
				t.Errorf("links %s (forbidden: %s)", d, f)
			}
		}
	}
}

func TestParseArgs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args          []string
		profile, conf string
		ok            bool
	}{
		{nil, "", "", true},
		{[]string{"--profile", "p"}, "p", "", true},
		{[]string{"credential-process", "--profile", "p", "--config", "/c"}, "p", "/c", true},
		{[]string{"--config=/c", "--profile=a b"}, "a b", "/c", true},
		{[]string{"--profile"}, "", "", false},
		{[]string{"--profile", "p", "--profile", "q"}, "", "", false},
		{[]string{"--profile", "--debug"}, "", "", false},
		{[]string{"--profile", "p", "--debug"}, "", "", false},
		{[]string{"-p", "p"}, "", "", false},
		{[]string{"--profile="}, "", "", false},
		{[]string{"login"}, "", "", false},
		{[]string{"--help"}, "", "", false},
	} {
		p, c2, ok := parseArgs(c.args)
		if p != c.profile || c2 != c.conf || ok != c.ok {
			t.Errorf("parseArgs(%q) = %q, %q, %v; want %q, %q, %v", c.args, p, c2, ok, c.profile, c.conf, c.ok)
		}
	}
	if got := fullArgs([]string{"credential-process", "--profile", "p"}); !slices.Equal(got, []string{"saml2sts", "credential-process", "--profile", "p"}) {
		t.Errorf("fullArgs = %q", got)
	}
}

// TestServe: a fresh record of the profile's identity is printed; every
// other case is left to the full binary.
func TestServe(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(home, "cache")
	store, err := cache.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(home, "config")
	const url = "https://sso.example.com/realms/corp/protocol/saml/clients/aws"
	os.WriteFile(cfg, []byte("[profile p]\nprovider = keycloak\nurl = "+url+"\nusername = ana\ncache = file\n[profile k]\nprovider = keycloak\nurl = "+url+"\ncache = keyring\n"), 0o600)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := &credrec.Record{Profile: "p", Identity: credrec.Identity("keycloak", url, "ana", ""),
		Credentials: credrec.Credentials{AccessKeyID: "ASIAX", SecretAccessKey: "sk", SessionToken: "tok", Expiration: now.Add(time.Hour)}}
	raw, _ := credrec.Encode(rec)
	store.Set(cache.CredsKey("p"), raw)
	env := func(kv ...string) func(string) string {
		kv = append(kv, "SAML2STS_CACHE_DIR", dir)
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	noBus := env("DBUS_SESSION_BUS_ADDRESS", "")
	for _, c := range []struct {
		name    string
		args    []string
		environ []string
		getenv  func(string) string
		now     time.Time
		ok      bool
		code    int
		out     string
		errOut  string
	}{
		{name: "fresh", args: []string{"--profile", "p", "--config", cfg}, getenv: noBus, now: now, ok: true,
			out: `{"Version":1,"AccessKeyId":"ASIAX","SecretAccessKey":"sk","SessionToken":"tok","Expiration":"2026-03-01T13:00:00Z"}` + "\n"},
		{name: "profile from the environment", args: []string{"--config", cfg}, getenv: env("SAML2STS_PROFILE", "p"), now: now, ok: true,
			out: `{"Version":1,"AccessKeyId":"ASIAX","SecretAccessKey":"sk","SessionToken":"tok","Expiration":"2026-03-01T13:00:00Z"}` + "\n"},
		{name: "stale", args: []string{"--profile", "p", "--config", cfg}, getenv: noBus, now: now.Add(50 * time.Minute)},
		{name: "debug", args: []string{"--profile", "p", "--config", cfg}, environ: []string{"SAML2STS_DEBUG=1"}, getenv: noBus, now: now},
		{name: "key override", args: []string{"--profile", "p", "--config", cfg}, environ: []string{"SAML2STS_USERNAME=bob"}, getenv: noBus, now: now},
		{name: "other flag", args: []string{"--profile", "p", "--config", cfg, "--debug"}, getenv: noBus, now: now},
		{name: "unknown profile", args: []string{"--profile", "nope", "--config", cfg}, getenv: noBus, now: now},
		{name: "missing config", args: []string{"--profile", "p", "--config", cfg + "-none"}, getenv: noBus, now: now},
		{name: "miss", args: []string{"--profile", "k", "--config", cfg}, getenv: env("SAML2STS_CACHE", "file"), now: now, environ: []string{"SAML2STS_CACHE=file"}},
		{name: "keyring without a bus", args: []string{"--profile", "k", "--config", cfg}, getenv: noBus, now: now, ok: true, code: 1,
			errOut: "saml2sts: read cached credentials from keyring: keyring unavailable: no D-Bus session bus; set cache = file (or SAML2STS_CACHE=file)\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
				if c.errOut != "" {
					t.Skip("no D-Bus here")
				}
			}
			t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
			for _, kv := range c.environ {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			var out, errOut bytes.Buffer
			code, ok := serve(c.args, c.environ, c.getenv, &out, &errOut, c.now)
			if ok != c.ok || code != c.code || out.String() != c.out || errOut.String() != c.errOut {
				t.Errorf("serve = %d, %v, out %q, err %q; want %d, %v, %q, %q", code, ok, out.String(), errOut.String(), c.code, c.ok, c.out, c.errOut)
			}
		})
	}
	// A cache directory others can write is the full binary's to fix.
	os.Chmod(dir, 0o755)
	var out bytes.Buffer
	if _, ok := serve([]string{"--profile", "p", "--config", cfg}, nil, noBus, &out, &out, now); ok || out.Len() > 0 {
		t.Errorf("served from a non-private cache dir: %q", out.String())
	}
}

// TestFallback: anything but a hit replaces the helper by the saml2sts
// beside it, with the same arguments, stdio and exit code.
func TestFallback(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("sh script")
	}
	t.Parallel()
	dir := t.TempDir()
	helper := filepath.Join(dir, "saml2sts-credential-process")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err == nil {
		err = os.WriteFile(helper, b, 0o755)
	}
	if err != nil {
		t.Fatalf("copy the test binary as the helper: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "saml2sts"), []byte("#!/bin/sh\necho \"full $$ $*\"; pwd; echo oops >&2; exit 4\n"), 0o755)
	work := t.TempDir()
	c := exec.Command(helper, "--profile", "p", "--debug")
	c.Dir = work
	c.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin", runMainEnv + "=1"}
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err = c.Run()
	ee, _ := err.(*exec.ExitError)
	if ee == nil || ee.ExitCode() != 4 {
		t.Fatalf("exit: %v", err)
	}
	pid := c.Process.Pid
	want := "full " + strconv.Itoa(pid) + " credential-process --profile p --debug\n" + work + "\n"
	if got := out.String(); got != want {
		t.Errorf("stdout %q, want %q (same pid and directory: exec, not a child)", got, want)
	}
	if errb.String() != "oops\n" {
		t.Errorf("stderr %q", errb.String())
	}
}

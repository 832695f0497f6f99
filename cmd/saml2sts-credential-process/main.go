// Command saml2sts-credential-process is the warm path of
// `saml2sts credential-process`: the AWS CLI and SDKs start it on every
// credential resolution, so it links only what a cache hit needs (no AWS
// SDK, no cobra, no net/http, no IdP adapter, no go-keyring or godbus: it
// reads through cache/warm, whose keyring read is a three-round-trip D-Bus
// client of its own) and starts in about the time of a hello-world.
//
// On a fresh cache hit it prints the credential_process JSON and exits 0.
// On anything else (a miss, stale credentials, another identity's record,
// a locked keyring item or one only go-keyring can read, another flag,
// SAML2STS_DEBUG or a SAML2STS_<KEY> override, any error) it
// replaces itself with `saml2sts credential-process` and the same
// arguments (the saml2sts beside it, else on PATH), so that errors, exit
// codes and logins are exactly the full binary's. With cache = keyring and
// a keyring that does not answer it fails itself, with the full binary's
// message, rather than wait a second time.
//
// The name says what it serves and sits beside saml2sts in listings;
// `saml2sts configure --aws-profile` writes it into ~/.aws/config when
// both are installed together (go install ./cmd/...).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/saml2sts/saml2sts/cache/warm"
	"github.com/saml2sts/saml2sts/internal/credrec"
	"github.com/saml2sts/saml2sts/internal/exitcode"
	"github.com/saml2sts/saml2sts/internal/safefile"
)

func main() {
	args := os.Args[1:]
	code, ok := serve(args, os.Environ(), os.Getenv, os.Stdout, os.Stderr, time.Now())
	if !ok {
		code = fallback(args)
	}
	os.Exit(code)
}

// serve answers from the cache when it can; ok is false when the full
// binary must run instead.
func serve(args, environ []string, getenv func(string) string, out, errOut io.Writer, now time.Time) (code int, ok bool) {
	profile, cfg, ok := parseArgs(args)
	if !ok || credrec.Overridden(environ) {
		return 0, false
	}
	if cfg == "" {
		cfg = credrec.ConfigPath(getenv)
	}
	s, err := credrec.ReadSettings(cfg, credrec.ProfileName(profile, getenv), getenv)
	if err != nil {
		return 0, false
	}
	dir, err := warm.Dir(runtime.GOOS, getenv)
	if err != nil || !private(dir) {
		return 0, false // the full binary makes it private, or says why not
	}
	raw, err := warm.Get(s.Cache, dir, warm.CredsKey(s.Name), errOut)
	if err != nil {
		if u, isU := errors.AsType[*warm.UnavailableError](err); isU && u.Err == nil && s.Cache == "keyring" {
			// No bus, or no answer in time: the full binary would wait
			// as long again to say the same.
			err = credrec.ReadError("keyring", err)
			fmt.Fprintf(errOut, "saml2sts: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
			return exitcode.Of(err), true
		}
		return 0, false // a miss, a locked item, ...: the full binary's
	}
	line, ok := credrec.Serve(raw, s.Want(), now)
	if !ok {
		return 0, false
	}
	if _, err := out.Write(line); err != nil {
		return exitcode.Failure, true // the reader went away: nothing to retry
	}
	return 0, true
}

// parseArgs accepts what configure writes: [credential-process]
// --profile P [--config F], also as --flag=value, each at most once.
func parseArgs(args []string) (profile, cfg string, ok bool) {
	if len(args) > 0 && args[0] == "credential-process" {
		args = args[1:]
	}
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		name, val, hasVal := strings.Cut(args[i], "=")
		if name != "--profile" && name != "--config" || seen[name] {
			return "", "", false
		}
		seen[name] = true
		if !hasVal {
			if i+1 == len(args) {
				return "", "", false
			}
			i++
			val = args[i]
		}
		if val == "" || strings.HasPrefix(val, "-") {
			return "", "", false
		}
		if name == "--profile" {
			profile = val
		} else {
			cfg = val
		}
	}
	return profile, cfg, true
}

// private reports whether dir is the user's own directory with no group
// or other access, as the full binary leaves it (cache.PrivateDir).
func private(dir string) bool {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() {
		return false
	}
	if uid, ok := safefile.Owner(fi); ok && uid != safefile.UID() {
		return false
	}
	return runtime.GOOS == "windows" || fi.Mode().Perm()&0o077 == 0
}

// fullArgs are the full binary's arguments for ours.
func fullArgs(args []string) []string {
	if len(args) > 0 && args[0] == "credential-process" {
		args = args[1:]
	}
	return append([]string{"saml2sts", "credential-process"}, args...)
}

// fullBinary is the saml2sts beside this executable, else on PATH.
func fullBinary(self string, lookPath func(string) (string, error)) (string, error) {
	name := "saml2sts"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if self != "" {
		dir := self[:strings.LastIndexAny(self, `/\`)+1]
		if fi, err := os.Stat(dir + name); err == nil && fi.Mode().IsRegular() {
			return dir + name, nil
		}
	}
	p, err := lookPath("saml2sts")
	if err != nil {
		return "", fmt.Errorf("saml2sts-credential-process needs saml2sts beside it or on PATH to log in: %w", err)
	}
	return p, nil
}

package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/cache"
)

// warmCalls is how many sequential warm credential-process calls
// TestLoadCredentialProcess makes: the 1000 the issue asks for, in-process
// through the same entry point as the binary (w.run).
const warmCalls = 1000

// TestLoadCredentialProcess: 64 parallel credential-process calls on an
// empty cache while logouts race them, then warmCalls sequential warm
// calls with one expiry in the middle. Nothing is lost (every call
// answers with credentials STS issued), nothing duplicated (at most one
// login per logout that could have forced one, one login per expiry).
func TestLoadCredentialProcess(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	script, counter := w.passwordScript()
	w.configure("load", "--role-arn", reader, "--password-command", script)

	const callers, logouts = 64, 4
	var wg sync.WaitGroup
	results := make([]result, callers)
	outs := make([]result, logouts)
	for i := range callers {
		wg.Go(func() { results[i] = w.run("", "credential-process", "--profile", "load") })
		if i%(callers/logouts) == callers/logouts/2 {
			wg.Go(func() { outs[i/(callers/logouts)] = w.run("", "logout", "--profile", "load") })
		}
	}
	wg.Wait()
	issued := map[string]bool{}
	for _, c := range w.st.Issued() {
		issued[c.AccessKeyID] = true
	}
	served := map[string]bool{}
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("call %d lost: %s", i, r)
		}
		k := parseCreds(t, r.stdout).AccessKeyID
		if !issued[k] {
			t.Fatalf("call %d served %s, which STS never issued", i, k)
		}
		served[k] = true
	}
	for i, r := range outs {
		if r.code != 0 || !strings.Contains(r.stderr, "Logged out of load") {
			t.Fatalf("logout %d: %s", i, r)
		}
	}
	mints := w.st.Calls("AssumeRoleWithSAML")
	if mints < 1 || mints > 1+logouts || len(served) > mints {
		t.Errorf("%d AssumeRoleWithSAML calls, %d keys served; want 1..%d mints (one, plus at most one per logout)", mints, len(served), 1+logouts)
	}
	if n := w.kc.Stats().Logins; n > 1+logouts {
		t.Errorf("%d IdP password logins; want at most %d", n, 1+logouts)
	}

	// Warm: the same key every time, no login, until the credentials
	// expire (the cached expiry is moved into the refresh window at the
	// half-way mark): then exactly one renewal, through the IdP session.
	first := parseCreds(t, w.mustRun("", "credential-process", "--profile", "load").stdout).AccessKeyID
	mints, pwRuns := w.st.Calls("AssumeRoleWithSAML"), countRuns(counter)
	keys := map[string]int{}
	var second string
	for i := range warmCalls {
		if i == warmCalls/2 {
			expireCached(t, w, "load", time.Now().Add(time.Minute))
		}
		k := parseCreds(t, w.mustRun("", "credential-process", "--profile", "load").stdout).AccessKeyID
		keys[k]++
		if i < warmCalls/2 && k != first {
			t.Fatalf("warm call %d: key changed before expiry", i)
		}
		if i > warmCalls/2 && k != second {
			t.Fatalf("warm call %d: key changed again after one renewal", i)
		}
		if i == warmCalls/2 {
			second = k
		}
	}
	if len(keys) != 2 || second == first || keys[first] != warmCalls/2 {
		t.Errorf("keys served %v; want %d of the first, then one renewal", keys, warmCalls/2)
	}
	if got := w.st.Calls("AssumeRoleWithSAML") - mints; got != 1 {
		t.Errorf("%d AssumeRoleWithSAML calls during %d warm calls; want exactly 1 (one expiry)", got, warmCalls)
	}
	if got := countRuns(counter) - pwRuns; got != 0 {
		t.Errorf("password_command ran %d times during warm calls; the renewal rides the IdP session", got)
	}
}

func countRuns(counter string) int {
	b, _ := os.ReadFile(counter)
	return strings.Count(string(b), "x")
}

// expireCached moves the cached credentials' expiry of profile to at.
func expireCached(t *testing.T, w *world, profile string, at time.Time) {
	t.Helper()
	store, err := cache.NewFile(filepath.Join(w.dir, "cache", "saml2sts"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := store.Get(cache.CredsKey(profile))
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	rec["credentials"].(map[string]any)["Expiration"] = at.UTC().Format(time.RFC3339)
	raw, _ = json.Marshal(rec)
	if err := store.Set(cache.CredsKey(profile), raw); err != nil {
		t.Fatal(err)
	}
}

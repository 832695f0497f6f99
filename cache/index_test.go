package cache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestIndexMissingAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	for _, content := range []string{"", "{", "null", `{"version":2,"profiles":{"x":{}}}`, `{"version":1}`, "\x00\x01"} {
		if content != "" {
			if err := os.WriteFile(indexPath(dir), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		m, err := ReadIndex(dir)
		if err != nil || m == nil || len(m) != 0 {
			t.Errorf("index %q: ReadIndex = %v, %v; want an empty map", content, m, err)
		}
	}
	// A corrupt index is replaced by the next update.
	if err := UpdateIndex(dir, func(m map[string]Meta) { m["dev"] = Meta{Profile: "dev"} }); err != nil {
		t.Fatal(err)
	}
	if m, _ := ReadIndex(dir); len(m) != 1 {
		t.Fatalf("after update: %v", m)
	}
}

func TestIndexUpdate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	exp := time.Date(2026, 5, 1, 13, 0, 0, 0, time.UTC)
	dev := Meta{
		Profile: "dev", RoleARN: "arn:aws:iam::123456789012:role/Dev", Region: "eu-west-1",
		Backend: "keyring", Expiration: exp, Updated: exp.Add(-time.Hour), HasSession: true,
	}
	if err := UpdateIndex(dir, func(m map[string]Meta) { m["dev"] = dev }); err != nil {
		t.Fatal(err)
	}
	if err := UpdateIndex(dir, func(m map[string]Meta) { m["prod"] = Meta{Profile: "prod", Backend: "file"} }); err != nil {
		t.Fatal(err)
	}
	m, err := ReadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := m["dev"]; got != dev {
		t.Fatalf("dev = %+v, want %+v", got, dev)
	}
	if m["prod"].Backend != "file" || len(m) != 2 {
		t.Fatalf("index = %+v", m)
	}
	if err := UpdateIndex(dir, func(m map[string]Meta) { delete(m, "dev") }); err != nil {
		t.Fatal(err)
	}
	if m, _ := ReadIndex(dir); len(m) != 1 || m["prod"].Profile != "prod" {
		t.Fatalf("after delete: %+v", m)
	}
	if runtime.GOOS != "windows" {
		assertMode(t, indexPath(dir), 0o600)
		assertMode(t, dir, 0o700)
	}
}

func TestIndexConcurrentUpdates(t *testing.T) {
	dir := t.TempDir()
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("p%d", i)
			errs <- UpdateIndex(dir, func(m map[string]Meta) {
				time.Sleep(time.Millisecond) // widen the read-modify-write window
				m[name] = Meta{Profile: name}
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	m, err := ReadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != n {
		t.Fatalf("index has %d profiles, want %d: updates were lost", len(m), n)
	}
}

// The index lock must not be the lock of a profile named "index", or a
// broker updating the index while holding that profile's lock deadlocks.
func TestIndexUnderProfileLock(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"index", ".index"} {
		unlock, err := Lock(context.Background(), dir, name)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- UpdateIndex(dir, func(m map[string]Meta) { m[name] = Meta{Profile: name} }) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("UpdateIndex blocked by the lock of profile %q", name)
		}
		unlock()
	}
}

// TestBackoff: the renewal backoff lives in the index next to the
// profiles, keyed by identity, and survives profile updates.
func TestBackoff(t *testing.T) {
	dir := t.TempDir()
	next := time.Date(2026, 5, 1, 13, 0, 30, 0, time.UTC)
	if _, ok := ReadBackoff(dir, "id1"); ok {
		t.Fatal("backoff in an empty index")
	}
	step := func(b *Backoff) bool { b.Failures++; b.Next = next; b.Cause = "IdP down"; b.Code = 1; return true }
	for range 2 {
		if err := UpdateBackoff(dir, "id1", step); err != nil {
			t.Fatal(err)
		}
	}
	if err := UpdateIndex(dir, func(m map[string]Meta) { m["dev"] = Meta{Profile: "dev"} }); err != nil {
		t.Fatal(err)
	}
	b, ok := ReadBackoff(dir, "id1")
	if !ok || b.Failures != 2 || !b.Next.Equal(next) || b.Cause != "IdP down" || b.Code != 1 {
		t.Fatalf("backoff = %+v, %v", b, ok)
	}
	if _, ok := ReadBackoff(dir, "id2"); ok {
		t.Error("another identity shares the backoff")
	}
	if m, _ := ReadIndex(dir); len(m) != 1 {
		t.Errorf("profiles = %v", m)
	}
	if err := UpdateBackoff(dir, "id1", func(*Backoff) bool { return false }); err != nil {
		t.Fatal(err)
	}
	if _, ok := ReadBackoff(dir, "id1"); ok {
		t.Error("backoff not cleared")
	}
	if m, _ := ReadIndex(dir); len(m) != 1 {
		t.Errorf("clearing the backoff dropped profiles: %v", m)
	}
}

func TestAccountNamesTTL(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := []string{"111122223333", "444455556666"}
	if KnownAccounts(dir, ids, t0) {
		t.Fatal("known before any lookup")
	}
	if err := SaveAccountNames(dir, ids, map[string]string{"111122223333": "prod"}, t0); err != nil {
		t.Fatal(err)
	}
	// The account without an alias counts as looked up: no new try.
	if !KnownAccounts(dir, ids, t0.Add(AccountNameTTL-time.Minute)) {
		t.Error("not known within the TTL")
	}
	if got := AccountNames(dir, t0.Add(time.Hour)); len(got) != 1 || got["111122223333"] != "prod" {
		t.Errorf("names %v", got)
	}
	later := t0.Add(AccountNameTTL)
	if KnownAccounts(dir, ids, later) || len(AccountNames(dir, later)) != 0 {
		t.Error("names outlive the TTL")
	}
	// Profiles and backoff survive: names share the index file.
	if err := UpdateIndex(dir, func(m map[string]Meta) { m["p"] = Meta{Profile: "p"} }); err != nil {
		t.Fatal(err)
	}
	if AccountNames(dir, t0)["111122223333"] != "prod" {
		t.Error("a profile update dropped the names")
	}
}

// TestExportRecords: export records survive profile index updates, are
// listed per profile, dropped one by one, and hold no access key ID.
func TestExportRecords(t *testing.T) {
	dir := t.TempDir()
	a := Export{Profile: "p", Path: "/h/.aws/credentials", Section: "p", Created: true, KeyHash: KeyHash("ASIAKEY1")}
	b := Export{Profile: "p", Path: "/h/.aws/credentials", Section: "p-static", KeyHash: KeyHash("ASIAKEY1")}
	c := Export{Profile: "q", Path: "/h/.aws/credentials", Section: "q", KeyHash: KeyHash("ASIAKEY2")}
	for _, e := range []Export{a, b, c} {
		if err := RecordExport(dir, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := UpdateIndex(dir, func(m map[string]Meta) { m["p"] = Meta{Profile: "p"} }); err != nil {
		t.Fatal(err)
	}
	if got := Exports(dir, "p"); len(got) != 2 || got[0].Section != "p" || got[1].Section != "p-static" || !got[0].Created {
		t.Fatalf("Exports(p) = %+v", got)
	}
	if err := DropExport(dir, a); err != nil {
		t.Fatal(err)
	}
	if got := AllExports(dir); len(got) != 2 {
		t.Fatalf("after drop: %+v", got)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if strings.Contains(string(raw), "ASIAKEY") || KeyHash("ASIAKEY1") == KeyHash("ASIAKEY2") {
		t.Errorf("index holds an access key ID, or hashes collide:\n%s", raw)
	}
}

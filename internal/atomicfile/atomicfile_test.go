package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteReplacesAndSetsMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "new" {
		t.Fatalf("content = %q, %v", b, err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", st.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("left temporary files behind: %v", ents)
	}
}

func TestWriteMissingDirLeavesNothing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "no", "f")
	if err := Write(p, []byte("x"), 0o600); err == nil {
		t.Fatal("want error for a missing directory")
	}
}

// TestWriteRemovesStaleTemps: a writer killed mid-write (kill -9) leaves
// .NAME.tmp-* behind, possibly holding a secret; the next write of the
// same file removes it once it is older than StaleAge, and leaves a
// concurrent writer's fresh one and other files' alone.
func TestWriteRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	plant := func(name string, age time.Duration) string {
		q := filepath.Join(dir, name)
		if err := os.WriteFile(q, []byte("cookie=secret"), 0o600); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-age)
		os.Chtimes(q, old, old)
		return q
	}
	stale := plant(".f.tmp-123", 2*StaleAge)
	fresh := plant(".f.tmp-456", 0)
	other := plant(".g.tmp-789", 2*StaleAge)
	if err := Write(p, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temp file survived the next write: %v", err)
	}
	for _, q := range []string{fresh, other} {
		if _, err := os.Stat(q); err != nil {
			t.Errorf("%s removed: %v", filepath.Base(q), err)
		}
	}
	RemoveTemps(p, 0)
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("RemoveTemps(0) left %s", fresh)
	}
}

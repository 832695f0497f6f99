//go:build unix

package cache

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/internal/safefile/safefiletest"
)

// TestPlantedCacheFiles: records another local user could have planted or
// changed are never served: other owner, group/other bits, symbolic links,
// FIFOs. Each is a miss and is removed (a link, not its target).
func TestPlantedCacheFiles(t *testing.T) {
	dir := t.TempDir()
	f, err := NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	record := []byte(`{"credentials":{"AccessKeyId":"ASIAPLANTED","Expiration":"2099-01-01T00:00:00Z"}}`)
	// A valid record of the user's own, elsewhere, as a link target.
	elsewhere, _ := NewFile(filepath.Join(t.TempDir(), "x"))
	elsewhere.Set("creds/p", record)
	target := elsewhere.path("creds/p")

	plant := map[string]func(path string){
		"other owner": func(p string) { f.Set("creds/p", record); safefiletest.Foreign(t, p) },
		"group bits":  func(p string) { f.Set("creds/p", record); os.Chmod(p, 0o640) },
		"other write": func(p string) { f.Set("creds/p", record); os.Chmod(p, 0o602) },
		"symlink":     func(p string) { os.Symlink(target, p) },
		"fifo":        func(p string) { syscall.Mkfifo(p, 0o600) },
	}
	for name, do := range plant {
		t.Run(name, func(t *testing.T) {
			p := f.path("creds/p")
			os.Remove(p)
			do(p)
			if _, err := os.Lstat(p); err != nil {
				t.Fatalf("nothing planted: %v", err)
			}
			done := make(chan struct{})
			var got []byte
			go func() { got, err = f.Get("creds/p"); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Get blocked on the planted file")
			}
			if !errors.Is(err, ErrNotFound) || got != nil || !strings.Contains(err.Error(), "not trusted") {
				t.Fatalf("Get = %q, %v; want a miss (not trusted)", got, err)
			}
			if _, err := os.Lstat(p); !os.IsNotExist(err) {
				t.Errorf("the planted entry is still there: %v", err)
			}
			// A fresh login replaces it with a trusted file.
			if err := f.Set("creds/p", []byte("mine")); err != nil {
				t.Fatal(err)
			}
			if b, err := f.Get("creds/p"); err != nil || string(b) != "mine" {
				t.Fatalf("after Set: %q, %v", b, err)
			}
		})
	}
	if b, err := elsewhere.Get("creds/p"); err != nil || !bytes.Equal(b, record) {
		t.Errorf("the link target was touched: %q, %v", b, err)
	}
}

// TestPlantedIndex: a status index planted by another user reads as empty.
func TestPlantedIndex(t *testing.T) {
	dir := t.TempDir()
	if err := UpdateIndex(dir, func(m map[string]Meta) { m["p"] = Meta{Profile: "p", Backend: "file"} }); err != nil {
		t.Fatal(err)
	}
	if m, _ := ReadIndex(dir); len(m) != 1 {
		t.Fatalf("index %v", m)
	}
	safefiletest.Foreign(t, indexPath(dir))
	if m, err := ReadIndex(dir); err != nil || len(m) != 0 {
		t.Errorf("planted index read as %v, %v; want empty", m, err)
	}
}

// TestRepairedDirIsEmptied: a cache dir others could write to is made
// private and emptied, with one line of notice; one others could only
// read is made private and kept; one owned by another user is refused.
func TestRepairedDirIsEmptied(t *testing.T) {
	for _, tt := range []struct {
		mode  os.FileMode
		keeps bool
	}{{0o777, false}, {0o770, false}, {0o702, false}, {0o755, true}, {0o750, true}} {
		dir := filepath.Join(t.TempDir(), "saml2sts")
		f, err := NewFile(dir)
		if err != nil {
			t.Fatal(err)
		}
		f.Set("creds/p", []byte("x"))
		os.MkdirAll(filepath.Join(dir, "locks"), 0o700)
		os.Symlink("/etc/passwd", filepath.Join(dir, "planted-link"))
		os.Chmod(dir, tt.mode)
		var notice bytes.Buffer
		if err := PrivateDir(dir, &notice); err != nil {
			t.Fatal(err)
		}
		assertMode(t, dir, 0o700)
		ents, _ := os.ReadDir(dir)
		if tt.keeps {
			if len(ents) != 3 || notice.Len() != 0 {
				t.Errorf("mode %v: %d entries left, notice %q; want all kept silently", tt.mode, len(ents), notice.String())
			}
			continue
		}
		if len(ents) != 0 {
			t.Errorf("mode %v: %d entries left; want none", tt.mode, len(ents))
		}
		line := notice.String()
		if !strings.Contains(line, "writable by other users") || !strings.Contains(line, "discarded its 3 entries") || strings.Count(line, "\n") != 1 {
			t.Errorf("mode %v: notice %q; want one line", tt.mode, line)
		}
		if _, err := os.Stat("/etc/passwd"); err != nil {
			t.Errorf("a link target was removed")
		}
	}
	dir := filepath.Join(t.TempDir(), "theirs")
	os.Mkdir(dir, 0o700)
	safefiletest.Foreign(t, dir)
	if _, err := NewFile(dir); err == nil || !strings.Contains(err.Error(), "owned by uid 4242") {
		t.Errorf("a dir of another user: %v; want refused", err)
	}
}

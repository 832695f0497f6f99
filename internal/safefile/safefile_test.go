//go:build unix

package safefile_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/saml2sts/saml2sts/internal/safefile"
	"github.com/saml2sts/saml2sts/internal/safefile/safefiletest"
)

func TestReadPrivate(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("secret"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", 0o600)
	if b, err := safefile.ReadPrivate(good, 100); err != nil || string(b) != "secret" {
		t.Fatalf("private file: %q, %v", b, err)
	}
	if _, err := safefile.ReadPrivate(good, 3); err == nil || safefile.Untrusted(err) {
		t.Errorf("over the size cap: %v", err)
	}
	if _, err := safefile.ReadPrivate(filepath.Join(dir, "missing"), 100); !os.IsNotExist(err) {
		t.Errorf("missing: %v", err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	foreign := write("foreign", 0o600)
	safefiletest.Foreign(t, foreign)
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o700)
	for path, want := range map[string]string{
		write("group", 0o640): "readable or writable by others",
		write("other", 0o606): "readable or writable by others",
		write("world", 0o666): "readable or writable by others",
		link:                  "a symbolic link",
		fifo:                  "not a regular file",
		sub:                   "not a regular file",
		foreign:               "owned by uid 4242",
	} {
		_, err := safefile.ReadPrivate(path, 100)
		if !safefile.Untrusted(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want untrusted, %q", filepath.Base(path), err, want)
		}
	}
}

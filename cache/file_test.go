package cache

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestFileRoundTrip(t *testing.T) {
	f, err := NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if f.Name() != "file" {
		t.Fatalf("Name = %q", f.Name())
	}
	keys := []string{"creds/dev", "session/dev", "creds/Dev", "creds/../../etc/passwd", "..", "a b\\c:d", "créds/ü", strings.Repeat("k", 300), ""}
	for i, k := range keys {
		val := []byte(strings.Repeat(string(rune('a'+i)), i*100))
		if err := f.Set(k, val); err != nil {
			t.Fatalf("Set(%q): %v", k, err)
		}
	}
	for i, k := range keys {
		got, err := f.Get(k)
		want := []byte(strings.Repeat(string(rune('a'+i)), i*100))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("Get(%q) = %q, %v; want %q", k, got, err, want)
		}
	}
	ents, err := os.ReadDir(f.Dir())
	if err != nil {
		t.Fatal(err)
	}
	// One file per key, all directly in dir, none differing only in case
	// (macOS and Windows file systems fold case).
	seen := map[string]bool{}
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".cache") || seen[strings.ToLower(e.Name())] {
			t.Errorf("unexpected entry %q", e.Name())
		}
		seen[strings.ToLower(e.Name())] = true
	}
	if len(seen) != len(keys) {
		t.Fatalf("%d files for %d keys", len(seen), len(keys))
	}
	if err := f.Delete("creds/dev"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get("creds/dev"); err != ErrNotFound {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := f.Delete("creds/dev"); err != nil {
		t.Fatalf("Delete of an absent key: %v", err)
	}
}

func TestFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	dir := filepath.Join(t.TempDir(), "a", "saml2sts")
	f, err := NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set("creds/dev", []byte("secret")); err != nil {
		t.Fatal(err)
	}
	assertMode(t, dir, 0o700)
	assertMode(t, f.path("creds/dev"), 0o600)

	// A loose existing directory is tightened; a stricter one is left.
	for _, m := range []os.FileMode{0o755, 0o777, 0o710} {
		if err := os.Chmod(dir, m); err != nil {
			t.Fatal(err)
		}
		if _, err := NewFile(dir); err != nil {
			t.Fatal(err)
		}
		assertMode(t, dir, 0o700)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != want {
		t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), want)
	}
}

func TestFileCorruptIsMiss(t *testing.T) {
	f, err := NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mangle func(path string, b []byte) error
	}{
		{"empty", func(p string, b []byte) error { return os.WriteFile(p, nil, 0o600) }},
		{"truncated", func(p string, b []byte) error { return os.WriteFile(p, b[:len(b)-3], 0o600) }},
		{"flipped byte", func(p string, b []byte) error {
			b[len(b)-1] ^= 1
			return os.WriteFile(p, b, 0o600)
		}},
		{"no header", func(p string, b []byte) error { return os.WriteFile(p, []byte(`{"AccessKeyId":"x"}`), 0o600) }},
		{"other magic", func(p string, b []byte) error {
			return os.WriteFile(p, bytes.Replace(b, []byte("-v1"), []byte("-v9"), 1), 0o600)
		}},
		{"directory", func(p string, b []byte) error {
			if err := os.Remove(p); err != nil {
				return err
			}
			return os.Mkdir(p, 0o700)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := f.Set("creds/dev", []byte(`{"SecretAccessKey":"s3cr3t"}`)); err != nil {
				t.Fatal(err)
			}
			p := f.path("creds/dev")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.mangle(p, b); err != nil {
				t.Fatal(err)
			}
			got, err := f.Get("creds/dev")
			if !errors.Is(err, ErrNotFound) || got != nil {
				t.Fatalf("Get = %q, %v; want ErrNotFound", got, err)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("error leaks the value: %v", err)
			}
			if tt.name == "directory" {
				os.Remove(p)
			}
		})
	}
}

func TestNewFileNotDir(t *testing.T) {
	p := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFile(p); err == nil {
		t.Fatal("NewFile on a regular file succeeded")
	}
}

func TestDir(t *testing.T) {
	tests := []struct {
		goos    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{"linux", map[string]string{"HOME": "/home/ana", "XDG_CACHE_HOME": "/xdg/cache"}, "/xdg/cache/saml2sts", ""},
		{"linux", map[string]string{"HOME": "/home/ana"}, "/home/ana/.cache/saml2sts", ""},
		{"linux", map[string]string{"HOME": "/home/ana", "XDG_CACHE_HOME": "relative/cache"}, "/home/ana/.cache/saml2sts", ""}, // XDG: ignore relative
		{"linux", map[string]string{}, "", "set XDG_CACHE_HOME or SAML2STS_CACHE_DIR"},
		{"darwin", map[string]string{"HOME": "/Users/ana", "XDG_CACHE_HOME": "/xdg"}, "/Users/ana/Library/Caches/saml2sts", ""},
		{"windows", map[string]string{"LOCALAPPDATA": `C:\Users\ana\AppData\Local`}, filepath.Join(`C:\Users\ana\AppData\Local`, "saml2sts"), ""},
		{"windows", map[string]string{}, "", "%LocalAppData% is not set"},
		{"darwin", map[string]string{"HOME": "/Users/ana", "SAML2STS_CACHE_DIR": "/tmp/demo/cache"}, "/tmp/demo/cache", ""},
		{"windows", map[string]string{"SAML2STS_CACHE_DIR": "/tmp/demo/cache"}, "/tmp/demo/cache", ""},
		{"linux", map[string]string{"SAML2STS_CACHE_DIR": "cache"}, "", "not an absolute path"},
	}
	for _, tt := range tests {
		got, err := Dir(tt.goos, func(k string) string { return tt.env[k] })
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s %v: err = %v, want %q", tt.goos, tt.env, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s %v: Dir = %q, %v; want %q", tt.goos, tt.env, got, err, tt.want)
		}
	}
}

func BenchmarkFileGet(b *testing.B) {
	f, err := NewFile(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Set("creds/bench", randBytes(1500)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := f.Get("creds/bench"); err != nil {
			b.Fatal(err)
		}
	}
}

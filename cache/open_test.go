package cache

import (
	"bytes"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func skipUnlessLinux(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("D-Bus session bus behaviour is Linux-only")
	}
}

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	var notice bytes.Buffer
	s, err := Open("file", dir, &notice)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := s.(*File)
	if !ok || f.Dir() != dir || s.Name() != "file" {
		t.Fatalf("Open(file) = %T %v", s, s.Name())
	}
	if notice.Len() != 0 {
		t.Fatalf("notice for an explicit file store: %q", notice.String())
	}
}

func TestOpenDefaultDir(t *testing.T) {
	skipUnlessLinux(t)
	xdg := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", xdg)
	s, err := Open("file", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.(*File).Dir(); got != filepath.Join(xdg, "saml2sts") {
		t.Fatalf("dir = %q", got)
	}
}

func TestOpenUnknown(t *testing.T) {
	_, err := Open("vault", t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), `"vault"`) {
		t.Fatalf("Open(vault): %v", err)
	}
}

func TestOpenAutoNoBus(t *testing.T) {
	skipUnlessLinux(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	for _, mode := range []string{"auto", ""} {
		dir := t.TempDir()
		var notice bytes.Buffer
		s, err := Open(mode, dir, &notice)
		if err != nil {
			t.Fatal(err)
		}
		if notice.Len() != 0 {
			t.Fatalf("Open(%q) wrote a notice before any use: %q", mode, notice.String())
		}
		if _, err := s.Get("creds/p"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("first Get: %v, want a plain miss from the file backend", err)
		}
		if err := s.Set("creds/p", []byte("v")); err != nil {
			t.Fatal(err)
		}
		if s.Name() != "file" {
			t.Fatalf("Open(%q) without a bus serves from %q, want file", mode, s.Name())
		}
		if v, err := NewFileMust(t, dir).Get("creds/p"); err != nil || string(v) != "v" {
			t.Fatalf("value not in the file backend: %q, %v", v, err)
		}
		want := "saml2sts: keyring unavailable (no D-Bus session bus); caching in " + dir + " (mode 0600)\n"
		if notice.String() != want {
			t.Fatalf("notice = %q, want %q (exactly once)", notice.String(), want)
		}
		// The next process with the same cache directory stays quiet.
		var again bytes.Buffer
		s2, _ := Open(mode, dir, &again)
		if _, err := s2.Get("creds/p"); err != nil {
			t.Fatal(err)
		}
		if again.Len() != 0 {
			t.Fatalf("notice repeated on the next run: %q", again.String())
		}
	}
	s, err := Open("auto", t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("nil notice writer: %v", err)
	}
}

func NewFileMust(t *testing.T, dir string) *File {
	t.Helper()
	f, err := NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestOpenKeyringNoBus(t *testing.T) {
	skipUnlessLinux(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	s, err := Open("keyring", t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Get("creds/p")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Get on an unavailable keyring = %v; want ErrUnavailable", err)
	}
	for _, want := range []string{"no D-Bus session bus", "set cache = file (or SAML2STS_CACHE=file)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if err := s.Set("creds/p", []byte("v")); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Set = %v; want ErrUnavailable (never a silent fallback when keyring was asked for)", err)
	}
}

func TestOpenAutoMock(t *testing.T) {
	useMock(t, nil)
	var notice bytes.Buffer
	dir := t.TempDir()
	s, err := Open("auto", dir, &notice)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("creds/p"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if err := s.Set("creds/p", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if s.Name() != "keyring" {
		t.Fatalf("Open(auto) with a working keyring serves from %q", s.Name())
	}
	if _, err := NewFileMust(t, dir).Get("creds/p"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("value leaked into the file backend: %v", err)
	}
	if notice.Len() != 0 {
		t.Fatalf("notice with a working keyring: %q", notice.String())
	}
	if s, err := Open("keyring", "", nil); err != nil || s.Name() != "keyring" {
		t.Fatalf("Open(keyring) = %v, %v", s, err)
	}
}

func TestOpenAutoMockError(t *testing.T) {
	useMock(t, errors.New("failed to unlock correct collection"))
	dir := t.TempDir()
	var notice bytes.Buffer
	s, err := Open("auto", dir, &notice)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set("creds/p", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if s.Name() != "file" {
		t.Fatalf("Open(auto) with a failing keyring serves from %q, want file", s.Name())
	}
	if n := strings.Count(notice.String(), "\n"); n != 1 ||
		!strings.Contains(notice.String(), "failed to unlock correct collection") ||
		!strings.Contains(notice.String(), dir) {
		t.Fatalf("notice = %q", notice.String())
	}
	k, err := Open("keyring", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get("creds/p"); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "SAML2STS_CACHE=file") {
		t.Fatalf("Open(keyring) with a failing keyring: %v", err)
	}
}

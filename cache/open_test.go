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
		if _, ok := s.(*File); !ok {
			t.Fatalf("Open(%q) without a bus = %T, want *File", mode, s)
		}
		want := "saml2sts: keyring unavailable (no D-Bus session bus); caching in " + dir + " (mode 0600)\n"
		if notice.String() != want {
			t.Fatalf("notice = %q, want %q", notice.String(), want)
		}
	}
	if _, err := Open("auto", t.TempDir(), nil); err != nil {
		t.Fatalf("nil notice writer: %v", err)
	}
}

func TestOpenKeyringNoBus(t *testing.T) {
	skipUnlessLinux(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	s, err := Open("keyring", t.TempDir(), nil)
	if s != nil || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Open(keyring) = %v, %v; want ErrUnavailable", s, err)
	}
	for _, want := range []string{"no D-Bus session bus", "set cache = file (or SAML2STS_CACHE=file)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestOpenAutoMock(t *testing.T) {
	useMock(t, nil)
	var notice bytes.Buffer
	s, err := Open("auto", t.TempDir(), &notice)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*Keyring); !ok || s.Name() != "keyring" {
		t.Fatalf("Open(auto) with a working keyring = %T", s)
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
	if _, ok := s.(*File); !ok {
		t.Fatalf("Open(auto) with a failing keyring = %T, want *File", s)
	}
	if n := strings.Count(notice.String(), "\n"); n != 1 ||
		!strings.Contains(notice.String(), "failed to unlock correct collection") ||
		!strings.Contains(notice.String(), dir) {
		t.Fatalf("notice = %q", notice.String())
	}
	if _, err := Open("keyring", dir, nil); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "SAML2STS_CACHE=file") {
		t.Fatalf("Open(keyring) with a failing keyring: %v", err)
	}
}

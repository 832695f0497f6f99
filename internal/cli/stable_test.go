package cli

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestStablePath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cellar := filepath.Join(dir, "Cellar", "saml2sts", "1.2.3", "bin", "saml2sts")
	os.MkdirAll(filepath.Dir(cellar), 0o755)
	os.WriteFile(cellar, []byte("#!/bin/sh\n"), 0o755)
	link := filepath.Join(dir, "bin", "saml2sts")
	os.MkdirAll(filepath.Dir(link), 0o755)
	if err := os.Symlink(cellar, link); err != nil {
		t.Skip("no symlinks here:", err)
	}
	other := filepath.Join(dir, "other", "saml2sts")
	os.MkdirAll(filepath.Dir(other), 0o755)
	os.WriteFile(other, []byte("#!/bin/sh\n"), 0o755)
	find := func(p string) func(string) (string, error) {
		return func(string) (string, error) {
			if p == "" {
				return "", errors.New("not found")
			}
			return p, nil
		}
	}
	tests := []struct{ name, onPath, want string }{
		{"PATH symlink to the running binary wins", link, link},
		{"PATH has another saml2sts", other, cellar},
		{"not on PATH", "", cellar},
	}
	for _, tt := range tests {
		if got := stablePath(cellar, find(tt.onPath)); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

//go:build unix

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/internal/safefile/safefiletest"
)

// TestCheckTrusted: a profiles file another local user could have written
// (other owner, group/other write bits, a directory they can write) does
// not get to choose the password_command; read bits, a symlink to a
// private file, a sticky shared dir and root's files are fine.
func TestCheckTrusted(t *testing.T) {
	mk := func(t *testing.T, dirMode, mode os.FileMode) string {
		dir := filepath.Join(t.TempDir(), "cfg")
		os.Mkdir(dir, 0o700)
		p := filepath.Join(dir, "config")
		if err := os.WriteFile(p, []byte("[default]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		os.Chmod(dir, dirMode)
		return p
	}
	for _, tt := range []struct {
		name          string
		dirMode, mode os.FileMode
		foreign       bool // file owned by another user
		want          string
	}{
		{name: "private", dirMode: 0o700, mode: 0o600},
		{name: "readable by all", dirMode: 0o755, mode: 0o644},
		{name: "sticky shared dir", dirMode: 0o777 | os.ModeSticky, mode: 0o600},
		{name: "group-writable", dirMode: 0o700, mode: 0o660, want: "the file is writable by other users (mode -rw-rw----)"},
		{name: "world-writable", dirMode: 0o700, mode: 0o666, want: "writable by other users"},
		{name: "writable dir", dirMode: 0o777, mode: 0o600, want: "its directory"},
		{name: "other owner", dirMode: 0o700, mode: 0o600, foreign: true, want: "owned by uid 4242"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := mk(t, tt.dirMode, tt.mode)
			if tt.foreign {
				safefiletest.Foreign(t, p)
			}
			err := CheckTrusted(p)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			_, ok := err.(*Error)
			if !ok || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "not running its password_command") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err %v; want a one-line *config.Error saying %q", err, tt.want)
			}
		})
	}
	// A link (dotfile manager) to a private file is followed and trusted;
	// to a world-writable one, refused.
	good, bad := mk(t, 0o700, 0o600), mk(t, 0o700, 0o666)
	dir := t.TempDir()
	for target, ok := range map[string]bool{good: true, bad: false} {
		link := filepath.Join(dir, filepath.Base(filepath.Dir(filepath.Dir(target))))
		os.Symlink(target, link)
		if err := CheckTrusted(link); (err == nil) != ok {
			t.Errorf("link to %s: %v", target, err)
		}
	}
}

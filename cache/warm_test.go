package cache

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/saml2sts/saml2sts/cache/warm"
)

// TestWarmGetMatchesOpen: the helper's read (warm.Get) answers what the
// store Open gives answers in a fresh process, for each mode without a
// bus: the same value, the same miss, the same error text, the same
// fallback notice (once).
func TestWarmGetMatchesOpen(t *testing.T) {
	skipUnlessLinux(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	for _, mode := range []string{"file", "auto", "keyring"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			f, err := NewFile(dir)
			if err != nil {
				t.Fatal(err)
			}
			val := []byte(`{"credentials":{"AccessKeyId":"ASIAX"}}`)
			if err := f.Set(CredsKey("p"), val); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{CredsKey("p"), CredsKey("none")} {
				var n1, n2 bytes.Buffer
				warm.ForgetNotice(dir)
				s, err := Open(mode, dir, &n1)
				if err != nil {
					t.Fatal(err)
				}
				want, werr := s.Get(key)
				warm.ForgetNotice(dir)
				got, err := warm.Get(mode, dir, key, &n2)
				if !bytes.Equal(got, want) || errText(err) != errText(werr) || n1.String() != n2.String() {
					t.Errorf("%s: warm.Get = %q, %v, notice %q; Open(%s).Get = %q, %v, notice %q", key, got, err, n2.String(), mode, want, werr, n1.String())
				}
				if mode == "auto" && n2.Len() == 0 {
					t.Errorf("%s: no fallback notice", key)
				}
				var n3 bytes.Buffer
				warm.Get(mode, dir, key, &n3)
				if n3.Len() != 0 {
					t.Errorf("notice repeated: %q", n3.String())
				}
			}
		})
	}
	if _, err := warm.Get("bogus", t.TempDir(), "k", nil); !errors.Is(err, warm.ErrSlow) {
		t.Errorf("unknown mode: %v", err)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestWarmFilePath: the helper and the store name files alike.
func TestWarmFilePath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, _ := NewFile(dir)
	if got := f.Path("creds/a b#1"); got != warm.FilePath(dir, "creds/a b#1") || filepath.Dir(got) != dir {
		t.Errorf("File.Path %q, warm.FilePath %q", got, warm.FilePath(dir, "creds/a b#1"))
	}
}

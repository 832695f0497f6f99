// Package safefiletest plants files that look written by another local
// user, for tests of code that must not trust them.
package safefiletest

import (
	"io/fs"
	"os"
	"sync"
	"testing"

	"github.com/saml2sts/saml2sts/internal/safefile"
)

// OtherUID is the owner planted files get.
const OtherUID = 4242

var (
	mu      sync.Mutex
	planted []fs.FileInfo // files reported as OtherUID's (by identity: a replacement is not)
)

// Foreign makes path owned by another user: really (lchown) when the test
// runs as root, else by reporting it so through safefile.Owner until the
// test ends. Tests that call it must not run in parallel with tests that
// plant files through the seam.
func Foreign(t testing.TB, path string) {
	t.Helper()
	if os.Getuid() == 0 {
		if err := os.Lchown(path, OtherUID, OtherUID); err != nil {
			t.Fatal(err)
		}
		return
	}
	mu.Lock()
	defer mu.Unlock()
	if len(planted) == 0 {
		real := safefile.Owner
		safefile.Owner = func(fi fs.FileInfo) (int, bool) {
			mu.Lock()
			defer mu.Unlock()
			for _, p := range planted {
				// Same inode and mtime: a file written in its place
				// later (which may reuse the inode) is the user's.
				if os.SameFile(p, fi) && p.ModTime().Equal(fi.ModTime()) && p.Size() == fi.Size() {
					return OtherUID, true
				}
			}
			return real(fi)
		}
		t.Cleanup(func() {
			mu.Lock()
			defer mu.Unlock()
			planted = nil
			safefile.Owner = real
		})
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	planted = append(planted, fi)
}

package cache

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/saml2sts/saml2sts/cache/warm"
	"github.com/saml2sts/saml2sts/internal/atomicfile"
	"github.com/saml2sts/saml2sts/internal/safefile"
)

// File is a Store in a private directory, one 0600 file per key. The
// values are not encrypted: the protection is the file mode.
type File struct {
	dir string
}

// NewFile returns a file store in dir, creating it with mode 0700 and
// tightening it to 0700 if it exists with looser permissions (see
// PrivateDir; here without a notice).
func NewFile(dir string) (*File, error) {
	if err := privateDir(dir, nil); err != nil {
		return nil, err
	}
	return &File{dir: dir}, nil
}

// Dir is the directory the store writes to.
func (f *File) Dir() string { return f.dir }

// Name implements Store.
func (f *File) Name() string { return "file" }

// Get implements Store (warm.ReadFile): a corrupt or unreadable file is
// a miss, and so is one another user could have planted or changed; it
// is removed, never served.
func (f *File) Get(key string) ([]byte, error) { return warm.ReadFile(f.dir, key) }

// Set implements Store.
func (f *File) Set(key string, value []byte) error {
	var b bytes.Buffer
	b.Grow(len(warm.FileMagic) + 66 + len(value))
	fmt.Fprintf(&b, "%s %s\n", warm.FileMagic, warm.FileSum(value))
	b.Write(value)
	if err := atomicfile.Write(f.path(key), b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("cache %s: %w", key, err)
	}
	return nil
}

// Delete implements Store. Temporary files a killed writer left for the
// key (they may hold its secret) go too: the caller holds the profile
// lock, so no write of it is running.
func (f *File) Delete(key string) error {
	atomicfile.RemoveTemps(f.path(key), 0)
	err := os.Remove(f.path(key))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cache delete %s: %w", key, err)
	}
	return nil
}

// Path is the file holding key.
func (f *File) Path(key string) string { return f.path(key) }

func (f *File) path(key string) string { return warm.FilePath(f.dir, key) }

// DefaultDir is the cache directory of this process's environment; see [Dir].
func DefaultDir() (string, error) { return Dir(runtime.GOOS, os.Getenv) }

// Dir is the cache directory on goos given an environment (warm.Dir).
func Dir(goos string, getenv func(string) string) (string, error) { return warm.Dir(goos, getenv) }

// PrivateDir makes dir (and parents) with mode 0700, refuses one owned by
// another user, and removes group and other access from an existing one.
// A dir others could write to may hold planted records (served as the
// user's credentials) or links: its contents are discarded, with one line
// on notice (nil: none).
func PrivateDir(dir string, notice io.Writer) error { return privateDir(dir, notice) }

func privateDir(dir string, notice io.Writer) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cache directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("cache directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("cache directory %s is not a directory", dir)
	}
	if uid, ok := safefile.Owner(fi); ok && uid != safefile.UID() {
		return fmt.Errorf("cache directory %s is owned by uid %d, not by you (uid %d): remove it, or set SAML2STS_CACHE_DIR to a directory of your own", dir, uid, safefile.UID())
	}
	// Windows has no group/other bits: the dir gets an owner-only ACL
	// that the files written in it inherit.
	if runtime.GOOS == "windows" {
		if err := ownerOnlyACL(dir); err != nil {
			return fmt.Errorf("cache directory %s cannot be made private: %w", dir, err)
		}
		return nil
	}
	perm := fi.Mode().Perm()
	if perm&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("cache directory %s has mode %v and cannot be made private: %w", dir, perm, err)
	}
	if perm&0o022 == 0 {
		return nil // others could read, not write: nothing was planted
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cache directory %s: %w", dir, err)
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("cache directory %s was writable by others and %s cannot be removed: %w", dir, e.Name(), err)
		}
	}
	if notice != nil && len(ents) > 0 {
		fmt.Fprintf(notice, "saml2sts: cache directory %s was writable by other users (mode %v): made it private and discarded its %d entries; you may be asked to log in again\n", dir, perm, len(ents))
	}
	return nil
}

package warm

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/saml2sts/saml2sts/internal/safefile"
)

// FileMagic starts every cache file; the checksum of the payload follows
// on the same line, so a truncated or edited file reads as a miss.
const FileMagic = "saml2sts-cache-v1"

// names are lower-case base32hex: safe for '/' in keys and for
// case-insensitive file systems.
var names = base32.HexEncoding.WithPadding(base32.NoPadding)

// MaxFile bounds a cache file: the largest value is an IdP cookie jar.
const MaxFile = 4 << 20

// FilePath is the file holding key in the file store in dir.
func FilePath(dir, key string) string {
	n := strings.ToLower(names.EncodeToString([]byte(key)))
	if len(n) > 200 { // stay under the usual 255-byte name limit
		s := sha256.Sum256([]byte(key))
		n = "h" + hex.EncodeToString(s[:])
	}
	return filepath.Join(dir, n+".cache")
}

// FileSum is the checksum on a cache file's first line.
func FileSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// ReadFile reads key from the file store in dir. A corrupt or unreadable
// file is a miss, and so is one another user could have planted or
// changed (a symbolic link, not a regular file, owned by someone else,
// group/other permission bits): it is removed, never served.
func ReadFile(dir, key string) ([]byte, error) {
	path := FilePath(dir, key)
	b, err := safefile.ReadPrivate(path, MaxFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if safefile.Untrusted(err) {
		os.Remove(path) // in our private dir: the link or file itself
		return nil, fmt.Errorf("%w: cache file for %s not trusted: %v", ErrNotFound, key, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: cache file for %s is unreadable: %v", ErrNotFound, key, err)
	}
	line, val, ok := bytes.Cut(b, []byte("\n"))
	if !ok || string(line) != FileMagic+" "+FileSum(val) {
		return nil, fmt.Errorf("%w: cache file for %s is corrupt", ErrNotFound, key)
	}
	return val, nil
}

// Dir is the cache directory on goos given an environment:
// $SAML2STS_CACHE_DIR when set (the demo and tests use it); else
// %LocalAppData%\saml2sts on Windows, ~/Library/Caches/saml2sts on macOS,
// and $XDG_CACHE_HOME/saml2sts or ~/.cache/saml2sts elsewhere.
func Dir(goos string, getenv func(string) string) (string, error) {
	if d := getenv("SAML2STS_CACHE_DIR"); d != "" {
		if !filepath.IsAbs(d) {
			return "", fmt.Errorf("SAML2STS_CACHE_DIR=%q is not an absolute path", d)
		}
		return d, nil
	}
	switch goos {
	case "windows":
		for _, k := range []string{"LOCALAPPDATA", "LocalAppData"} {
			if d := getenv(k); d != "" {
				return filepath.Join(d, "saml2sts"), nil
			}
		}
		return "", errors.New("find cache directory: %LocalAppData% is not set; set SAML2STS_CACHE_DIR")
	case "darwin", "ios":
		if h := getenv("HOME"); h != "" {
			return filepath.Join(h, "Library", "Caches", "saml2sts"), nil
		}
		return "", errors.New("find cache directory: $HOME is not set; set SAML2STS_CACHE_DIR")
	}
	// The XDG spec says to ignore a relative XDG_CACHE_HOME.
	if x := getenv("XDG_CACHE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "saml2sts"), nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "saml2sts"), nil
	}
	return "", errors.New("find cache directory: $HOME is not set; set XDG_CACHE_HOME or SAML2STS_CACHE_DIR")
}

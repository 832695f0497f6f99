package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/saml2sts/saml2sts/internal/atomicfile"
	"github.com/saml2sts/saml2sts/internal/safefile"
)

// indexLockWait bounds the wait for the index lock, which is only ever
// held for one read-modify-write.
const indexLockWait = 10 * time.Second

// Meta is the non-secret record of a cached profile. The index lets status
// list sessions and logout --all find keys without reading the keyring.
type Meta struct {
	Profile    string    `json:"profile"`
	RoleARN    string    `json:"role_arn,omitempty"`
	Region     string    `json:"region,omitempty"`
	Backend    string    `json:"backend"` // Store.Name() holding the secrets
	Expiration time.Time `json:"expiration"`
	Updated    time.Time `json:"updated"`
	HasSession bool      `json:"has_session"`
}

type indexFile struct {
	Version  int             `json:"version"`
	Profiles map[string]Meta `json:"profiles"`
}

func indexPath(dir string) string { return filepath.Join(dir, "index.json") }

// ReadIndex returns the index in dir, keyed by profile. A missing or
// corrupt index is empty: it is rebuilt by the next UpdateIndex.
func ReadIndex(dir string) (map[string]Meta, error) {
	b, err := safefile.ReadPrivate(indexPath(dir), maxFile)
	if errors.Is(err, fs.ErrNotExist) || safefile.Untrusted(err) {
		return map[string]Meta{}, nil // planted: rebuilt by the next update
	}
	if err != nil {
		return map[string]Meta{}, fmt.Errorf("read cache index: %w", err)
	}
	var f indexFile
	if json.Unmarshal(b, &f) != nil || f.Version != 1 || f.Profiles == nil {
		return map[string]Meta{}, nil
	}
	return f.Profiles, nil
}

// UpdateIndex runs fn on the index in dir and writes the result, under
// the index lock so that concurrent updates are not lost. It may be called
// while holding a Lock of any name.
func UpdateIndex(dir string, fn func(map[string]Meta)) error {
	if err := privateDir(dir, nil); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), indexLockWait)
	defer cancel()
	unlock, err := lockFile(ctx, dir, ".index", "index")
	if err != nil {
		return err
	}
	defer unlock()
	m, err := ReadIndex(dir)
	if err != nil {
		return err
	}
	fn(m)
	b, err := json.MarshalIndent(indexFile{Version: 1, Profiles: m}, "", "  ")
	if err != nil {
		return fmt.Errorf("write cache index: %w", err)
	}
	if err := atomicfile.Write(indexPath(dir), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write cache index: %w", err)
	}
	return nil
}

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
	// Identity is the fingerprint the profile's credentials were minted
	// for: the key of its renewal Backoff.
	Identity string `json:"identity,omitempty"`
}

// Backoff is the shared state of automatic renewals for one identity (an
// IdP account at one URL): after an IdP or STS failure every process waits
// until Next before trying again, so a fleet of credential_process calls
// makes one attempt per step, not one each. It holds no secret.
type Backoff struct {
	Failures int       `json:"failures"` // consecutive failed renewals
	Since    time.Time `json:"since"`    // the first of them
	Next     time.Time `json:"next"`     // no automatic renewal before this
	Cause    string    `json:"cause"`    // the last failure, one line
	Code     int       `json:"code"`     // its exit status, for callers left with nothing
}

type indexFile struct {
	Version  int             `json:"version"`
	Profiles map[string]Meta `json:"profiles"`
	// Backoff is keyed by identity fingerprint (not profile): profiles of
	// one IdP account share it, as they share its lockout counter.
	Backoff map[string]Backoff `json:"backoff,omitempty"`
}

func indexPath(dir string) string { return filepath.Join(dir, "index.json") }

// ReadIndex returns the index in dir, keyed by profile. A missing or
// corrupt index is empty: it is rebuilt by the next UpdateIndex.
func ReadIndex(dir string) (map[string]Meta, error) {
	f, err := readIndex(dir)
	return f.Profiles, err
}

func readIndex(dir string) (indexFile, error) {
	empty := indexFile{Version: 1, Profiles: map[string]Meta{}, Backoff: map[string]Backoff{}}
	b, err := safefile.ReadPrivate(indexPath(dir), maxFile)
	if errors.Is(err, fs.ErrNotExist) || safefile.Untrusted(err) {
		return empty, nil // planted: rebuilt by the next update
	}
	if err != nil {
		return empty, fmt.Errorf("read cache index: %w", err)
	}
	var f indexFile
	if json.Unmarshal(b, &f) != nil || f.Version != 1 || f.Profiles == nil {
		return empty, nil
	}
	if f.Backoff == nil {
		f.Backoff = map[string]Backoff{}
	}
	return f, nil
}

// ReadBackoff returns the renewal backoff of identity id, if one is set.
func ReadBackoff(dir, id string) (Backoff, bool) {
	f, err := readIndex(dir)
	if err != nil {
		return Backoff{}, false
	}
	b, ok := f.Backoff[id]
	return b, ok
}

// UpdateBackoff runs fn on the backoff of identity id (the zero value when
// none is set) under the index lock; fn returns false to delete it.
func UpdateBackoff(dir, id string, fn func(*Backoff) bool) error {
	return updateIndex(dir, func(f *indexFile) {
		b := f.Backoff[id]
		if fn(&b) {
			f.Backoff[id] = b
		} else {
			delete(f.Backoff, id)
		}
	})
}

// UpdateIndex runs fn on the index in dir and writes the result, under
// the index lock so that concurrent updates are not lost. It may be called
// while holding a Lock of any name.
func UpdateIndex(dir string, fn func(map[string]Meta)) error {
	return updateIndex(dir, func(f *indexFile) { fn(f.Profiles) })
}

func updateIndex(dir string, fn func(*indexFile)) error {
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
	f, err := readIndex(dir)
	if err != nil {
		return err
	}
	fn(&f)
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("write cache index: %w", err)
	}
	if err := atomicfile.Write(indexPath(dir), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write cache index: %w", err)
	}
	return nil
}

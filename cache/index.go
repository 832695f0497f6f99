package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/saml2sts/saml2sts/cache/warm"
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
	// ChainRoleARN is the role assumed from RoleARN by role chaining: the
	// credentials are its.
	ChainRoleARN string `json:"chain_role_arn,omitempty"`
}

// AccountNameTTL is how long an account alias read from the AWS sign-in
// page is trusted before it is read again.
const AccountNameTTL = 30 * 24 * time.Hour

// AccountName is an account alias and when it was read. Not a secret.
type AccountName struct {
	Name string    `json:"name"`
	Seen time.Time `json:"seen"`
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
	// Accounts are account aliases by account ID.
	Accounts map[string]AccountName `json:"accounts,omitempty"`
	// Exports are the credentials-file sections export wrote, keyed by
	// path and section, for logout to remove exactly those.
	Exports map[string]Export `json:"exports,omitempty"`
}

// Export records a section `saml2sts export --to-credentials-file` wrote.
// KeyHash identifies the access key written, so that logout leaves a
// section the user has since filled with their own keys; no secret.
type Export struct {
	Profile string    `json:"profile"`
	Path    string    `json:"path"`
	Section string    `json:"section"`
	Created bool      `json:"created"` // the section did not exist before
	KeyHash string    `json:"key_hash"`
	Written time.Time `json:"written"`
}

// KeyHash is Export.KeyHash for an access key ID.
func KeyHash(keyID string) string {
	s := sha256.Sum256([]byte("saml2sts export\x00" + keyID))
	return hex.EncodeToString(s[:16])
}

func exportKey(path, section string) string { return path + "\x00" + section }

// RecordExport adds or replaces e in the index in dir.
func RecordExport(dir string, e Export) error {
	return updateIndex(dir, func(f *indexFile) { f.Exports[exportKey(e.Path, e.Section)] = e })
}

// Exports lists what export wrote for profile.
func Exports(dir, profile string) []Export {
	return slices.DeleteFunc(AllExports(dir), func(e Export) bool { return e.Profile != profile })
}

// AllExports lists what export wrote, for every profile.
func AllExports(dir string) []Export {
	f, _ := readIndex(dir)
	out := make([]Export, 0, len(f.Exports))
	for _, e := range f.Exports {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Export) int {
		return strings.Compare(exportKey(a.Path, a.Section), exportKey(b.Path, b.Section))
	})
	return out
}

// DropExport removes e's record from the index in dir.
func DropExport(dir string, e Export) error {
	return updateIndex(dir, func(f *indexFile) { delete(f.Exports, exportKey(e.Path, e.Section)) })
}

func indexPath(dir string) string { return filepath.Join(dir, "index.json") }

// ReadIndex returns the index in dir, keyed by profile. A missing or
// corrupt index is empty: it is rebuilt by the next UpdateIndex.
func ReadIndex(dir string) (map[string]Meta, error) {
	f, err := readIndex(dir)
	return f.Profiles, err
}

func readIndex(dir string) (indexFile, error) {
	empty := indexFile{Version: 1, Profiles: map[string]Meta{}, Backoff: map[string]Backoff{}, Exports: map[string]Export{}}
	b, err := safefile.ReadPrivate(indexPath(dir), warm.MaxFile)
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
	if f.Exports == nil {
		f.Exports = map[string]Export{}
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

// AccountNames returns the account aliases read less than AccountNameTTL
// before now, by account ID.
func AccountNames(dir string, now time.Time) map[string]string {
	f, _ := readIndex(dir)
	names := map[string]string{}
	for id, a := range f.Accounts {
		if now.Sub(a.Seen) < AccountNameTTL && a.Name != "" {
			names[id] = a.Name
		}
	}
	return names
}

// SaveAccountNames records aliases read at now; ids lists every account
// the page was asked about, so one without an alias is remembered as such
// (an empty name) and not asked again within the TTL.
func SaveAccountNames(dir string, ids []string, names map[string]string, now time.Time) error {
	return updateIndex(dir, func(f *indexFile) {
		if f.Accounts == nil {
			f.Accounts = map[string]AccountName{}
		}
		for _, id := range ids {
			f.Accounts[id] = AccountName{Name: names[id], Seen: now.UTC()}
		}
	})
}

// KnownAccounts reports whether every id was looked up within the TTL
// (with or without an alias found).
func KnownAccounts(dir string, ids []string, now time.Time) bool {
	f, _ := readIndex(dir)
	for _, id := range ids {
		a, ok := f.Accounts[id]
		if !ok || now.Sub(a.Seen) >= AccountNameTTL {
			return false
		}
	}
	return true
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

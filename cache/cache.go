package cache

import "github.com/saml2sts/saml2sts/cache/warm"

// Store keeps small secrets under string keys. Implementations: the OS
// keyring and a private file directory.
type Store interface {
	// Get returns ErrNotFound when the key is absent (or its data is corrupt).
	Get(key string) ([]byte, error)
	Set(key string, value []byte) error
	// Delete succeeds when the key is already absent.
	Delete(key string) error
	// Name is "keyring" or "file", for status output.
	Name() string
}

// ErrNotFound is a cache miss.
var ErrNotFound = warm.ErrNotFound

// ErrUnavailable means the backend cannot be used here (no session bus,
// locked or missing keyring, timeout).
var ErrUnavailable = warm.ErrUnavailable

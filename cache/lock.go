package cache

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// lockPoll is how often a held lock is retried.
const lockPoll = 25 * time.Millisecond

// Lock takes the exclusive cross-process lock name (for example a profile)
// in dir/locks, waiting until it is free or ctx is done. The lock is a
// kernel file lock (flock, LockFileEx): it dies with its holder, so a
// killed process never leaves it stuck. unlock is safe to call twice.
func Lock(ctx context.Context, dir, name string) (unlock func(), err error) {
	return lockFile(ctx, dir, lockName(name), name)
}

// TryLock is Lock without waiting: ok is false while another process
// holds the lock.
func TryLock(dir, name string) (unlock func(), ok bool, err error) {
	fl, _, err := newLock(dir, lockName(name), name)
	if err != nil {
		return nil, false, err
	}
	if ok, err = fl.TryLock(); err != nil || !ok {
		return nil, false, err
	}
	return release(fl), true, nil
}

// lockFile locks dir/locks/<file>.lock; label names it in errors.
func lockFile(ctx context.Context, dir, file, label string) (func(), error) {
	fl, path, err := newLock(dir, file, label)
	if err != nil {
		return nil, err
	}
	ok, err := fl.TryLockContext(ctx, lockPoll)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("lock %q: another saml2sts process is logging in (%w); "+
			"remove nothing, %s is released when that process exits", label, ctx.Err(), path)
	}
	if err != nil {
		return nil, fmt.Errorf("lock %q: %w", label, err)
	}
	if !ok { // flock returns (false, nil) only with a done context
		return nil, fmt.Errorf("lock %q: %s not acquired", label, path)
	}
	return release(fl), nil
}

func newLock(dir, file, label string) (*flock.Flock, string, error) {
	ldir := filepath.Join(dir, "locks")
	if err := privateDir(ldir, nil); err != nil {
		return nil, "", fmt.Errorf("lock %q: %w", label, err)
	}
	path := filepath.Join(ldir, file+".lock")
	return flock.New(path, flock.SetPermissions(0o600)), path, nil
}

// release returns an unlock func that is safe to call twice.
func release(fl *flock.Flock) func() {
	var once sync.Once
	return func() { once.Do(func() { fl.Unlock() }) }
}

// lockName turns name into a file name: [A-Za-z0-9_-] and inner dots are
// kept, anything else becomes '_'. Two names that collide merely share a
// lock. A leading dot is never produced, which keeps ".index" private.
func lockName(name string) string {
	b := []byte(name)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		case c == '.' && i > 0:
		default:
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	if len(b) > 100 {
		b = b[:100]
	}
	return string(b)
}

package cache

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/saml2sts/saml2sts/cache/warm"
)

// The item format is warm's (ItemName, Assemble, ...): the helper reads
// it without go-keyring.
const (
	chunkSize = warm.ChunkSize
	maxChunks = warm.MaxChunks
	probeUser = ".probe"
)

// DefaultTimeout bounds each keyring call when NewKeyring gets 0. A locked
// KeePassXC collection can otherwise block a Secret Service call forever.
const DefaultTimeout = warm.DefaultTimeout

// UnavailableError says why the keyring cannot be used. It matches
// ErrUnavailable with errors.Is.
type UnavailableError = warm.UnavailableError

// backend is the go-keyring surface; tests replace it to simulate hangs.
type backend interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

type zalando struct{}

func (zalando) Get(s, u string) (string, error) { return keyring.Get(s, u) }
func (zalando) Set(s, u, v string) error        { return keyring.Set(s, u, v) }
func (zalando) Delete(s, u string) error        { return keyring.Delete(s, u) }

// Keyring is a Store in the OS keyring (macOS Keychain, Windows Credential
// Manager, Secret Service on Linux) via github.com/zalando/go-keyring.
// Values are split into chunks under NAME, NAME#1, NAME#2, ..., where NAME
// is the key with '%' and '#' escaped (see itemName).
type Keyring struct {
	service string
	timeout time.Duration
	be      backend
	// hung is set once a call times out: its goroutine may still hold the
	// connection, so later calls fail fast instead of waiting again.
	hung atomic.Bool
}

// NewKeyring returns a keyring store for service (normally "saml2sts").
// Each keyring call is abandoned after timeout (DefaultTimeout when 0).
func NewKeyring(service string, timeout time.Duration) *Keyring {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Keyring{service: service, timeout: timeout, be: zalando{}}
}

// Name implements Store.
func (k *Keyring) Name() string { return "keyring" }

// Probe checks that the keyring answers with one cheap lookup.
func (k *Keyring) Probe() error {
	_, err := k.get(probeUser)
	if err == nil || errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Get implements Store. A missing chunk, a bad header or a checksum
// mismatch (a half-updated set) reads as ErrNotFound.
func (k *Keyring) Get(key string) ([]byte, error) {
	v, err := k.readFast(itemName(key))
	if errors.Is(err, errSlow) {
		v, err = k.read(itemName(key))
	}
	if errors.Is(err, ErrNotFound) && itemName(key) != key {
		return k.migrate(key)
	}
	return v, err
}

// read returns the value whose head item is name.
func (k *Keyring) read(name string) ([]byte, error) {
	head, err := k.get(name)
	if err != nil {
		return nil, err
	}
	return warm.Assemble(name, head, func(i int) (string, error) { return k.get(name + "#" + strconv.Itoa(i)) })
}

// errSlow sends a read down go-keyring's path (locked items, prompts,
// anything the one-socket reader does not handle).
var errSlow = warm.ErrSlow

// migrate moves a value stored under the old, unescaped names (before
// itemName; only keys with '%' or '#' differ) to the new ones. Under the
// old scheme profile "p#1" shared its head with chunk 1 of profile "p":
// only a whole, checksummed value is moved (a chunk never parses as a
// head), then the old items are deleted.
func (k *Keyring) migrate(key string) ([]byte, error) {
	val, err := k.read(key)
	if err != nil {
		return nil, err
	}
	if err := k.Set(key, val); err != nil {
		return val, nil // served; moved on a later call
	}
	k.deleteOld(key)
	return val, nil
}

// deleteOld removes the old-scheme items of key, if its old head is one.
func (k *Keyring) deleteOld(key string) error {
	head, err := k.get(key)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	n, _, _, ok := parseHead(head)
	if !ok {
		return nil // chunk 1 of another key under the new scheme
	}
	if err := k.del(key); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	for i := 1; i < n; i++ {
		if err := k.del(key + "#" + strconv.Itoa(i)); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// Set implements Store. Extra chunks are written before the head, so a
// concurrent reader sees the old head (a checksum miss) or the complete new
// value; chunks left over from a longer old value are then deleted.
func (k *Keyring) Set(key string, value []byte) error {
	n := (len(value) + chunkSize - 1) / chunkSize
	if n == 0 {
		n = 1
	}
	if n > maxChunks {
		return fmt.Errorf("keyring set %s: value of %d bytes exceeds the %d byte limit", key, len(value), maxChunks*chunkSize)
	}
	name := itemName(key)
	old := 0
	// This Get also keeps gnome-keyring 42.1 up: go-keyring's Set opens
	// with OpenSession, which can overtake the daemon's set-up of a new
	// client and abort it (internal/secretservice's doc); its Get starts
	// with Properties.Get, and both share one connection per process.
	if head, err := k.get(name); err == nil {
		old, _, _, _ = parseHead(head)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	part := func(i int) string {
		end := min((i+1)*chunkSize, len(value))
		return base64.StdEncoding.EncodeToString(value[i*chunkSize : end])
	}
	for i := 1; i < n; i++ {
		if err := k.set(chunkKey(key, i), part(i)); err != nil {
			return err
		}
	}
	head := warm.Head(n, value, part(0))
	if err := k.set(name, head); err != nil {
		return err
	}
	return k.deleteChunks(key, n, old)
}

// Delete implements Store. The head goes first so readers miss at once.
// A value still under the old names (see migrate) goes too.
func (k *Keyring) Delete(key string) error {
	name := itemName(key)
	old := 0
	head, err := k.get(name)
	switch {
	case err == nil:
		old, _, _, _ = parseHead(head)
		if err := k.del(name); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	case !errors.Is(err, ErrNotFound):
		return err
	}
	if err := k.deleteChunks(key, 1, old); err != nil {
		return err
	}
	if name != key {
		return k.deleteOld(key)
	}
	return nil
}

// deleteChunks removes key#from and up: at least up to the old count, and
// further while chunks are found (orphans of an interrupted write).
func (k *Keyring) deleteChunks(key string, from, old int) error {
	for i := from; i < maxChunks; i++ {
		err := k.del(chunkKey(key, i))
		if errors.Is(err, ErrNotFound) {
			if i >= old-1 {
				return nil
			}
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func itemName(key string) string { return warm.ItemName(key) }

// chunkKey is the item name of key's chunk i (i >= 1).
func chunkKey(key string, i int) string { return warm.ChunkName(itemName(key), i) }

func checksum(b []byte) string { return warm.Checksum(b) }

func parseHead(s string) (n int, sum, first string, ok bool) { return warm.ParseHead(s) }

func (k *Keyring) get(user string) (string, error) {
	return call(k, "get", user, func() (string, error) { return k.be.Get(k.service, user) })
}

func (k *Keyring) set(user, v string) error {
	_, err := call(k, "set", user, func() (struct{}, error) { return struct{}{}, k.be.Set(k.service, user, v) })
	return err
}

func (k *Keyring) del(user string) error {
	_, err := call(k, "delete", user, func() (struct{}, error) { return struct{}{}, k.be.Delete(k.service, user) })
	return err
}

type result[T any] struct {
	v   T
	err error
}

// call runs fn under the keyring's timeout and maps its errors onto
// ErrNotFound and ErrUnavailable. A timed-out goroutine is left behind:
// go-keyring offers no way to cancel it.
func call[T any](k *Keyring, op, user string, fn func() (T, error)) (T, error) {
	var zero T
	if err := busCheck(); err != nil {
		return zero, err
	}
	if k.hung.Load() {
		return zero, &UnavailableError{Reason: fmt.Sprintf("an earlier call did not answer within %s", k.timeout)}
	}
	done := make(chan result[T], 1)
	go func() {
		v, err := fn()
		done <- result[T]{v, err}
	}()
	t := time.NewTimer(k.timeout)
	defer t.Stop()
	select {
	case r := <-done:
		switch {
		case r.err == nil:
			return r.v, nil
		case errors.Is(r.err, keyring.ErrNotFound):
			return zero, ErrNotFound
		default:
			return zero, &UnavailableError{Reason: op + " " + user, Err: r.err}
		}
	case <-t.C:
		k.hung.Store(true)
		return zero, &UnavailableError{Reason: fmt.Sprintf("%s %s did not answer within %s", op, user, k.timeout)}
	}
}

// busCheck refuses to touch D-Bus without a session bus address (see
// warm.BusAddress).
func busCheck() error {
	_, err := warm.BusAddress()
	return err
}

// readFast reads the value whose head item is name through warm's
// one-socket Secret Service reader (Linux); errSlow sends it down
// go-keyring's path.
func (k *Keyring) readFast(name string) ([]byte, error) {
	if _, real := k.be.(zalando); !real {
		return nil, errSlow // tests' fake backends
	}
	if k.hung.Load() {
		return nil, &UnavailableError{Reason: fmt.Sprintf("an earlier call did not answer within %s", k.timeout)}
	}
	v, err := warm.ReadKeyring(k.service, name, k.timeout)
	if u, ok := errors.AsType[*UnavailableError](err); ok && u.TimedOut() {
		k.hung.Store(true)
	}
	return v, err
}

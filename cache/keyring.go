package cache

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// Chunking keeps every stored item under the smallest platform limit:
// Windows Credential Manager takes 2560 bytes, macOS `security -i` about
// 3 KB. 1800 payload bytes are 2400 base64 characters, plus a short header.
const (
	chunkSize = 1800
	maxChunks = 64 // 115 KB; Secret Service slows down well before that
	headMagic = "s2s1"
	probeUser = ".probe"
)

// DefaultTimeout bounds each keyring call when NewKeyring gets 0. A locked
// KeePassXC collection can otherwise block a Secret Service call forever.
const DefaultTimeout = 3 * time.Second

// UnavailableError says why the keyring cannot be used. It matches
// ErrUnavailable with errors.Is.
type UnavailableError struct {
	Reason string // e.g. "no D-Bus session bus" or "get creds/dev"
	Err    error  // underlying error, if any
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("%v: %s", ErrUnavailable, e.detail())
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *UnavailableError) ExitCode() int { return exitcode.Failure }

func (e *UnavailableError) detail() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *UnavailableError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrUnavailable, e.Err}
	}
	return []error{ErrUnavailable}
}

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
	return assemble(name, head, func(i int) (string, error) { return k.get(name + "#" + strconv.Itoa(i)) })
}

// errSlow sends a read down go-keyring's path (locked items, prompts,
// anything the one-connection reader does not handle).
var errSlow = errors.New("keyring: use the go-keyring path")

// assemble decodes the value whose head item (named name) holds head,
// getting chunk i >= 1 from chunk.
func assemble(name, head string, chunk func(i int) (string, error)) ([]byte, error) {
	n, sum, first, ok := parseHead(head)
	if !ok {
		return nil, fmt.Errorf("%w: keyring item %s has a bad header", ErrNotFound, name)
	}
	var b strings.Builder
	b.WriteString(first)
	for i := 1; i < n; i++ {
		c, err := chunk(i)
		if err != nil {
			return nil, err
		}
		b.WriteString(c)
	}
	// Chunks are decoded as one string: each is a whole base64 quantum
	// (1800 is a multiple of 3), so only the last may carry padding.
	val, err := base64.StdEncoding.DecodeString(b.String())
	if err != nil || checksum(val) != sum {
		return nil, fmt.Errorf("%w: keyring item %s is incomplete or corrupt", ErrNotFound, name)
	}
	return val, nil
}

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
	head := fmt.Sprintf("%s:%d:%s:%s", headMagic, n, checksum(value), part(0))
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

// itemName is the keyring item name of key's head: '%' and '#' escaped,
// so a '#' in an item name only ever starts a chunk number and profile
// "p#1" cannot meet chunk 1 of profile "p". Keys with neither keep the
// name they always had.
func itemName(key string) string {
	if !strings.ContainsAny(key, "%#") {
		return key
	}
	return strings.NewReplacer("%", "%25", "#", "%23").Replace(key)
}

// chunkKey is the item name of key's chunk i (i >= 1).
func chunkKey(key string, i int) string { return itemName(key) + "#" + strconv.Itoa(i) }

func checksum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:16])
}

// parseHead splits "s2s1:<n>:<sum>:<base64>".
func parseHead(s string) (n int, sum, first string, ok bool) {
	f := strings.SplitN(s, ":", 4)
	if len(f) != 4 || f[0] != headMagic {
		return 0, "", "", false
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n < 1 || n > maxChunks {
		return 0, "", "", false
	}
	return n, f[2], f[3], true
}

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

// busCheck refuses to touch D-Bus without a session bus address: godbus
// would otherwise run dbus-launch and leave orphan daemons behind.
// "autolaunch:" asks for exactly that, so it counts as no bus too.
func busCheck() error {
	_, err := busAddress()
	return err
}

// busAddress is the session bus address ("" on macOS and Windows).
func busAddress() (string, error) {
	switch runtime.GOOS {
	case "darwin", "windows":
		return "", nil
	}
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return a, nil
	}
	return "", &UnavailableError{Reason: "no D-Bus session bus"}
}

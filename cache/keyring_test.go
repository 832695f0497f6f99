package cache

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// realKeyring is set by the keyring-tagged integration test; go-keyring's
// mock is process-global and cannot be undone, so mock tests skip then.
var realKeyring bool

const testService = "saml2sts-test"

// useMock switches go-keyring to its in-memory mock. The address is fake:
// the mock never dials it, but busCheck wants a bus on Linux.
func useMock(t testing.TB, err error) {
	t.Helper()
	if realKeyring {
		t.Skip("real keyring under test; the go-keyring mock cannot be restored")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/saml2sts-test-bus")
	if err != nil {
		keyring.MockInitWithError(err)
	} else {
		keyring.MockInit()
	}
}

// memBackend is an in-memory backend that exposes the stored items and
// can be made to block.
type memBackend struct {
	mu    sync.Mutex
	items map[string]string
	calls int
	block chan struct{} // when non-nil, every call waits on it
}

func newMem() *memBackend { return &memBackend{items: map[string]string{}} }

func (m *memBackend) wait() {
	m.mu.Lock()
	m.calls++
	b := m.block
	m.mu.Unlock()
	if b != nil {
		<-b
	}
}

func (m *memBackend) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

func (m *memBackend) Get(s, u string) (string, error) {
	m.wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.items[s+"\x00"+u]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (m *memBackend) Set(s, u, v string) error {
	m.wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[s+"\x00"+u] = v
	return nil
}

func (m *memBackend) Delete(s, u string) error {
	m.wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[s+"\x00"+u]; !ok {
		return keyring.ErrNotFound
	}
	delete(m.items, s+"\x00"+u)
	return nil
}

func memKeyring(t testing.TB) (*Keyring, *memBackend) {
	t.Helper()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/saml2sts-test-bus")
	m := newMem()
	k := NewKeyring(testService, 0)
	k.be = m
	return k, m
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.IntN(256))
	}
	return b
}

func TestNewKeyringDefaults(t *testing.T) {
	k := NewKeyring("saml2sts", 0)
	if k.timeout != 3*time.Second || k.Name() != "keyring" {
		t.Fatalf("timeout %v name %q, want 3s keyring", k.timeout, k.Name())
	}
	if k := NewKeyring("saml2sts", time.Second); k.timeout != time.Second {
		t.Fatalf("timeout %v, want 1s", k.timeout)
	}
}

func TestKeyringChunking(t *testing.T) {
	tests := []struct {
		size, chunks int
	}{
		{0, 1}, {1, 1}, {1799, 1}, {1800, 1}, {1801, 2}, {3600, 2}, {3601, 3}, {5000, 3}, {20000, 12},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.size), func(t *testing.T) {
			k, m := memKeyring(t)
			val := randBytes(tt.size)
			if err := k.Set("creds/dev", val); err != nil {
				t.Fatal(err)
			}
			if len(m.items) != tt.chunks {
				t.Fatalf("stored %d items, want %d", len(m.items), tt.chunks)
			}
			for u, v := range m.items {
				// Windows caps a credential blob at 2560 bytes; macOS
				// base64s the secret again into a 4096-byte command.
				if len(v) > 2560 || 18+len(v)*4/3+4 > 3500 {
					t.Errorf("item %q is %d bytes, over the platform limits", u, len(v))
				}
			}
			for i := 1; i < tt.chunks; i++ {
				if _, ok := m.items[testService+"\x00"+fmt.Sprintf("creds/dev#%d", i)]; !ok {
					t.Errorf("chunk creds/dev#%d missing", i)
				}
			}
			got, err := k.Get("creds/dev")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, val) {
				t.Fatalf("Get returned %d bytes that differ from the %d set", len(got), len(val))
			}
		})
	}
}

func TestKeyringTooBig(t *testing.T) {
	k, m := memKeyring(t)
	if err := k.Set("creds/dev", make([]byte, maxChunks*chunkSize+1)); err == nil {
		t.Fatal("Set of an oversized value succeeded")
	}
	if len(m.items) != 0 {
		t.Fatalf("oversized Set stored %d items", len(m.items))
	}
}

func TestKeyringShrinkAndGrow(t *testing.T) {
	k, m := memKeyring(t)
	steps := []int{9000, 100, 5000, 4000, 0, 1801}
	for _, n := range steps {
		val := randBytes(n)
		if err := k.Set("session/dev", val); err != nil {
			t.Fatal(err)
		}
		want := max(1, (n+chunkSize-1)/chunkSize)
		if len(m.items) != want {
			t.Fatalf("after Set of %d bytes: %d items stored, want %d (stale chunks left?)", n, len(m.items), want)
		}
		got, err := k.Get("session/dev")
		if err != nil || !bytes.Equal(got, val) {
			t.Fatalf("after Set of %d bytes: Get = %d bytes, %v", n, len(got), err)
		}
	}
}

func TestKeyringHalfUpdatedIsMiss(t *testing.T) {
	k, m := memKeyring(t)
	if err := k.Set("creds/dev", randBytes(5000)); err != nil {
		t.Fatal(err)
	}
	old := m.items[testService+"\x00creds/dev#1"]
	if err := k.Set("creds/dev", randBytes(5000)); err != nil {
		t.Fatal(err)
	}
	// What a reader sees when a writer died halfway: a new head with an
	// old chunk 1.
	m.items[testService+"\x00creds/dev#1"] = old
	if _, err := k.Get("creds/dev"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a mixed chunk set: %v, want ErrNotFound", err)
	}
	// A missing chunk is a miss too.
	delete(m.items, testService+"\x00creds/dev#2")
	if _, err := k.Get("creds/dev"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get with a missing chunk: %v, want ErrNotFound", err)
	}
}

func TestKeyringCorruptHead(t *testing.T) {
	for _, head := range []string{
		"", "garbage", "s2s1:x:00:AA==", "s2s1:0:00:", "s2s1:99999:00:", "s2s1:1:00:!!!", "s2s0:1:" + checksum(nil) + ":",
		"s2s1:1:" + checksum([]byte("other")) + ":" + "aGVsbG8=",
	} {
		k, m := memKeyring(t)
		m.items[testService+"\x00creds/dev"] = head
		if _, err := k.Get("creds/dev"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get of head %q: %v, want ErrNotFound", head, err)
		}
		// A corrupt value can still be replaced and deleted.
		if err := k.Set("creds/dev", []byte("ok")); err != nil {
			t.Errorf("Set over head %q: %v", head, err)
		}
		if err := k.Delete("creds/dev"); err != nil || len(m.items) != 0 {
			t.Errorf("Delete over head %q: %v, %d items left", head, err, len(m.items))
		}
	}
}

func TestKeyringDelete(t *testing.T) {
	k, m := memKeyring(t)
	if err := k.Delete("creds/none"); err != nil {
		t.Fatalf("Delete of an absent key: %v", err)
	}
	if err := k.Set("creds/dev", randBytes(7000)); err != nil {
		t.Fatal(err)
	}
	if err := k.Set("creds/other", []byte("keep")); err != nil {
		t.Fatal(err)
	}
	// An orphan chunk beyond the recorded count goes too.
	m.items[testService+"\x00creds/dev#4"] = "orphan"
	if err := k.Delete("creds/dev"); err != nil {
		t.Fatal(err)
	}
	if len(m.items) != 1 {
		t.Fatalf("%d items left after Delete, want only creds/other: %v", len(m.items), m.items)
	}
	if _, err := k.Get("creds/dev"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
}

func TestKeyringTimeout(t *testing.T) {
	k, m := memKeyring(t)
	k.timeout = 50 * time.Millisecond
	m.block = make(chan struct{})
	defer close(m.block)

	start := time.Now()
	_, err := k.Get("creds/dev")
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Get took %v with a 50ms timeout", d)
	}
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "50ms") {
		t.Fatalf("Get of a hung keyring: %v, want ErrUnavailable naming 50ms", err)
	}
	// Later calls fail at once instead of waiting again.
	calls := m.count()
	start = time.Now()
	if err := k.Set("creds/dev", []byte("x")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Set after a timeout: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 20*time.Millisecond || m.count() != calls {
		t.Fatalf("Set after a timeout took %v and %d calls", d, m.count()-calls)
	}
	if err := k.Probe(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Probe after a timeout: %v, want ErrUnavailable", err)
	}
}

func TestKeyringNoBus(t *testing.T) {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		t.Skip("no D-Bus on " + runtime.GOOS)
	}
	for _, addr := range []string{"", "autolaunch:"} {
		t.Run(addr, func(t *testing.T) {
			t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
			m := newMem()
			k := NewKeyring(testService, 0)
			k.be = m
			_, gerr := k.Get("creds/dev")
			serr := k.Set("creds/dev", []byte("x"))
			derr := k.Delete("creds/dev")
			perr := k.Probe()
			for _, err := range []error{gerr, serr, derr, perr} {
				if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no D-Bus session bus") {
					t.Errorf("got %v, want ErrUnavailable about the missing bus", err)
				}
			}
			if m.count() != 0 {
				t.Fatalf("backend called %d times without a bus", m.count())
			}
			// The real backend must not get the chance to run dbus-launch.
			start := time.Now()
			if _, err := NewKeyring(testService, 0).Get("creds/dev"); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("real keyring without a bus: %v", err)
			}
			if d := time.Since(start); d > 50*time.Millisecond {
				t.Fatalf("real keyring without a bus took %v", d)
			}
		})
	}
}

func TestKeyringMock(t *testing.T) {
	useMock(t, nil)
	k := NewKeyring(testService, 0)
	if err := k.Probe(); err != nil {
		t.Fatalf("Probe of the mock: %v", err)
	}
	if _, err := k.Get("creds/dev"); err != ErrNotFound {
		t.Fatalf("Get of an absent key: %v, want ErrNotFound itself", err)
	}
	val := randBytes(5 * 1024)
	if err := k.Set("creds/dev", val); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		if _, err := keyring.Get(testService, fmt.Sprintf("creds/dev#%d", i)); err != nil {
			t.Fatalf("chunk %d not in the mock: %v", i, err)
		}
	}
	got, err := k.Get("creds/dev")
	if err != nil || !bytes.Equal(got, val) {
		t.Fatalf("Get = %d bytes, %v", len(got), err)
	}
	if err := k.Set("creds/dev", []byte("short")); err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.Get(testService, "creds/dev#1"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("stale chunk 1 after shrinking: %v", err)
	}
	if err := k.Delete("creds/dev"); err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.Get(testService, "creds/dev"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("head after Delete: %v", err)
	}
}

func TestKeyringMockError(t *testing.T) {
	useMock(t, errors.New("org.freedesktop.DBus.Error.ServiceUnknown"))
	k := NewKeyring(testService, 0)
	if err := k.Probe(); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "ServiceUnknown") {
		t.Fatalf("Probe: %v, want ErrUnavailable with the cause", err)
	}
	if _, err := k.Get("creds/dev"); !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) {
		t.Fatalf("Get: %v, want ErrUnavailable", err)
	}
	if err := k.Set("creds/dev", []byte("x")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Set: %v, want ErrUnavailable", err)
	}
	if err := k.Delete("creds/dev"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Delete: %v, want ErrUnavailable", err)
	}
}

func BenchmarkKeyringMockGet(b *testing.B) {
	for _, n := range []int{1500, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			useMock(b, nil)
			k := NewKeyring(testService, 0)
			if err := k.Set("creds/bench", randBytes(n)); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := k.Get("creds/bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestKeyringNoKeyCollision: profile "p#1" and chunk 1 of profile "p" used
// to be the same keyring item, so storing one destroyed the other.
func TestKeyringNoKeyCollision(t *testing.T) {
	k, _ := memKeyring(t)
	big, small := randBytes(5000), []byte(`{"profile":"p#1"}`)
	keys := []string{"creds/p", "creds/p#1", "creds/p#1#1", "creds/p%231", "creds/p%", "session/p#2"}
	vals := map[string][]byte{}
	for i, key := range keys {
		v := small
		if i%2 == 0 {
			v = big
		}
		vals[key] = append([]byte(key), v...)
		if err := k.Set(key, vals[key]); err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range keys {
		if got, err := k.Get(key); err != nil || !bytes.Equal(got, vals[key]) {
			t.Errorf("Get(%q) = %d bytes, %v; another key's write clobbered it", key, len(got), err)
		}
	}
	if err := k.Delete("creds/p#1"); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get("creds/p"); err != nil || !bytes.Equal(got, vals["creds/p"]) {
		t.Errorf("deleting p#1 damaged p: %v", err)
	}
}

// TestKeyringMigratesOldNames: a value stored under the old unescaped
// names is read, rewritten under the new ones and the old items deleted;
// a bare old chunk is never taken for a value; Delete removes a value
// still under the old names.
func TestKeyringMigratesOldNames(t *testing.T) {
	k, m := memKeyring(t)
	val := randBytes(4000) // 3 items
	// Write it as the old scheme did: head at the raw key, chunks key#i.
	if err := k.Set("tmp", val); err != nil {
		t.Fatal(err)
	}
	rename := func(from, to string) {
		m.items[testService+"\x00"+to] = m.items[testService+"\x00"+from]
		delete(m.items, testService+"\x00"+from)
	}
	rename("tmp", "creds/team#a")
	rename("tmp#1", "creds/team#a#1")
	rename("tmp#2", "creds/team#a#2")
	got, err := k.Get("creds/team#a")
	if err != nil || !bytes.Equal(got, val) {
		t.Fatalf("old-scheme value: %d bytes, %v", len(got), err)
	}
	var names []string
	for u := range m.items {
		names = append(names, strings.TrimPrefix(u, testService+"\x00"))
	}
	slices.Sort(names)
	if want := []string{"creds/team%23a", "creds/team%23a#1", "creds/team%23a#2"}; !slices.Equal(names, want) {
		t.Errorf("items after migration %q; want %q", names, want)
	}
	if got, err := k.Get("creds/team#a"); err != nil || !bytes.Equal(got, val) {
		t.Fatalf("after migration: %v", err)
	}
	// An old-scheme value is deleted by Delete without a Get first.
	k.Set("tmp", []byte("old"))
	rename("tmp", "session/x#y")
	if err := k.Delete("session/x#y"); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.items[testService+"\x00session/x#y"]; ok {
		t.Errorf("Delete left the old-scheme item")
	}
	// Chunk 1 of "creds/p" is not a value of "creds/p#1": a miss, and it
	// stays (it is p's).
	k.Set("creds/p", randBytes(3000))
	if _, err := k.Get("creds/p#1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a chunk read as a value: %v", err)
	}
	if err := k.Delete("creds/p#1"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get("creds/p"); err != nil {
		t.Errorf("p damaged by deleting p#1: %v", err)
	}
}

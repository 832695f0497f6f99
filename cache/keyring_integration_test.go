//go:build keyring

// Run against a real Secret Service (as CI does):
//
//	dbus-run-session -- sh -c 'echo -n pw | gnome-keyring-daemon --unlock --components=secrets; go test -tags keyring ./cache/'
package cache

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

func init() { realKeyring = true }

func needBus(t *testing.T) {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Skip("DBUS_SESSION_BUS_ADDRESS is empty; run under dbus-run-session with gnome-keyring")
	}
}

func TestRealKeyring(t *testing.T) {
	needBus(t)
	k := NewKeyring(testService, 0)
	if err := k.Probe(); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	key := fmt.Sprintf("creds/it-%d", time.Now().UnixNano())
	t.Cleanup(func() { k.Delete(key) })

	val := randBytes(5 * 1024)
	if err := k.Set(key, val); err != nil {
		t.Fatal(err)
	}
	// 5 KB is three items in the real keyring.
	for i := 1; i <= 2; i++ {
		if _, err := keyring.Get(testService, chunkKey(key, i)); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
	}
	got, err := k.Get(key)
	if err != nil || !bytes.Equal(got, val) {
		t.Fatalf("Get = %d bytes, %v", len(got), err)
	}

	logGet(t, k, key, "5 KB (3 items)")
	small := key + "-small"
	t.Cleanup(func() { k.Delete(small) })
	if err := k.Set(small, randBytes(1500)); err != nil {
		t.Fatal(err)
	}
	logGet(t, k, small, "1.5 KB (1 item)")

	if err := k.Set(key, []byte("short")); err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.Get(testService, chunkKey(key, 1)); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("stale chunk after shrinking: %v", err)
	}
	if err := k.Delete(key); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(key); err != ErrNotFound {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if _, err := keyring.Get(testService, key); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("head after Delete: %v", err)
	}
}

func TestRealOpenAuto(t *testing.T) {
	needBus(t)
	var notice bytes.Buffer
	s, err := Open("auto", t.TempDir(), &notice)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*Keyring); !ok || notice.Len() != 0 {
		t.Fatalf("Open(auto) = %T, notice %q; want the keyring", s, notice.String())
	}
}

func logGet(t *testing.T, k *Keyring, key, what string) {
	t.Helper()
	var ds []time.Duration
	for range 50 {
		start := time.Now()
		if _, err := k.Get(key); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	t.Logf("Get of %s over D-Bus: p50 %v, p95 %v", what, ds[len(ds)/2], ds[len(ds)*95/100])
}

//go:build keyring && linux

package cache

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestRealKeyringFastRead: values go-keyring wrote read back the same
// through the one-connection reader, up to three items (head and two
// chunks); longer ones and misses answer as the go-keyring path does.
func TestRealKeyringFastRead(t *testing.T) {
	needBus(t)
	k := NewKeyring(testService, 0)
	for _, size := range []int{10, 1500, chunkSize, 2*chunkSize + 1, 3 * chunkSize, 3*chunkSize + 1} {
		key := fmt.Sprintf("creds/fast-%d-%d", size, time.Now().UnixNano())
		t.Cleanup(func() { k.Delete(key) })
		val := randBytes(size)
		if err := k.Set(key, val); err != nil {
			t.Fatal(err)
		}
		got, err := secretServiceRead(os.Getenv("DBUS_SESSION_BUS_ADDRESS"), time.Second, testService, itemName(key))
		if size > 3*chunkSize {
			if !errors.Is(err, errSlow) {
				t.Errorf("%d bytes: %v, want the go-keyring path", size, err)
			}
		} else if err != nil || !bytes.Equal(got, val) {
			t.Errorf("%d bytes: fast read %d bytes, %v", size, len(got), err)
		}
		if got, err := k.Get(key); err != nil || !bytes.Equal(got, val) {
			t.Errorf("%d bytes: Get %d bytes, %v", size, len(got), err)
		}
	}
	if _, err := k.Get(fmt.Sprintf("creds/none-%d", time.Now().UnixNano())); !errors.Is(err, ErrNotFound) {
		t.Errorf("miss: %v", err)
	}
}

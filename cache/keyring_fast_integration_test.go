//go:build keyring && linux

package cache

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/cache/warm"
)

// TestRealKeyringWarmRead: values written through go-keyring read back
// byte-identical through warm's one-socket reader, as go-keyring's own
// path reads them: up to three items (head and two chunks) directly,
// longer ones as ErrSlow (Get then falls back), misses as ErrNotFound,
// keys with '%', '#' and non-ASCII under their escaped item names. No
// error carries the value.
func TestRealKeyringWarmRead(t *testing.T) {
	needBus(t)
	k := NewKeyring(testService, 0)
	run := fmt.Sprint(time.Now().UnixNano())
	type tc struct {
		key  string
		size int
	}
	var cases []tc
	for _, size := range []int{10, 1500, chunkSize, 2*chunkSize + 1, 3 * chunkSize, 3*chunkSize + 1, 5 * chunkSize} {
		cases = append(cases, tc{fmt.Sprintf("creds/warm-%d-%s", size, run), size})
	}
	for _, key := range []string{"creds/p%41-" + run, "creds/p#1-" + run, "creds/p%23#2-" + run, "creds/ünïcødé 名前-" + run, "creds/p-" + run + "#1"} {
		cases = append(cases, tc{key, 2*chunkSize + 7})
	}
	// "creds/p-RUN#1" must not meet chunk 1 of "creds/p-RUN".
	cases = append(cases, tc{"creds/p-" + run, 2*chunkSize + 9})
	vals := map[string][]byte{}
	for _, c := range cases {
		t.Cleanup(func() { k.Delete(c.key) })
		vals[c.key] = randBytes(c.size)
		if err := k.Set(c.key, vals[c.key]); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cases {
		val := vals[c.key]
		name := itemName(c.key)
		slow, serr := k.read(name) // go-keyring's path
		if serr != nil || !bytes.Equal(slow, val) {
			t.Fatalf("%s: go-keyring read %d bytes, %v", c.key, len(slow), serr)
		}
		got, err := warm.ReadKeyring(testService, name, time.Second)
		switch {
		case c.size > 3*chunkSize:
			if !errors.Is(err, warm.ErrSlow) {
				t.Errorf("%s (%d bytes): %d bytes, %v; want ErrSlow", c.key, c.size, len(got), err)
			}
		case err != nil || !bytes.Equal(got, slow):
			t.Errorf("%s (%d bytes): warm read %d bytes, %v; go-keyring %d", c.key, c.size, len(got), err, len(slow))
		}
		noSecret(t, err, val)
		if got, err := k.Get(c.key); err != nil || !bytes.Equal(got, val) {
			t.Errorf("%s: Get %d bytes, %v", c.key, len(got), err)
		}
	}
	missing := "creds/none-" + run
	if _, err := warm.ReadKeyring(testService, itemName(missing), time.Second); !errors.Is(err, warm.ErrNotFound) {
		t.Errorf("miss: %v", err)
	}
	if _, err := k.Get(missing); !errors.Is(err, ErrNotFound) {
		t.Errorf("miss through Get: %v", err)
	}
	// The helper's entry point reads what the stores Open gives hold.
	dir := t.TempDir()
	for _, mode := range []string{"keyring", "auto", "file"} {
		st, err := Open(mode, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		key := CredsKey("warm-" + mode + "-" + run)
		t.Cleanup(func() { st.Delete(key) })
		val := randBytes(1400)
		if err := st.Set(key, val); err != nil {
			t.Fatal(err)
		}
		want, werr := st.Get(key)
		got, err := warm.Get(mode, dir, key, nil)
		if werr != nil || err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: warm.Get %d bytes, %v; store %d bytes, %v", mode, len(got), err, len(want), werr)
		}
		if _, err := warm.Get(mode, dir, key+"-none", nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s miss: %v", mode, err)
		}
	}
}

// noSecret fails when err's text holds the value or its base64.
func noSecret(t *testing.T, err error, val []byte) {
	t.Helper()
	if err == nil || len(val) < 8 {
		return
	}
	b64 := base64.StdEncoding.EncodeToString(val)
	if msg := err.Error(); strings.Contains(msg, string(val)) || strings.Contains(msg, b64[:16]) {
		t.Errorf("error carries the secret: %.80q", msg)
	}
}

package warm

import (
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReadKeyringSilentBus: a session bus that takes the connection and
// never answers is an UnavailableError that says so (the helper prints it
// and exits instead of making the full binary wait as long again), not a
// hang and not ErrSlow.
func TestReadKeyringSilentBus(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "bus")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+sock)
	_, err = ReadKeyring(Service, "saml2sts/creds/p", 50*time.Millisecond)
	u, ok := errors.AsType[*UnavailableError](err)
	if !ok || !u.TimedOut() || u.Err != nil || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want a timed-out UnavailableError", err)
	}
	if want := "did not answer within 50ms"; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want it to say %q", err, want)
	}
}

// TestReadKeyringBusGone: a bus address whose socket is gone is ErrSlow
// (the cache package's go-keyring path decides), not a timeout.
func TestReadKeyringBusGone(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "none"))
	if _, err := ReadKeyring(Service, "saml2sts/creds/p", time.Second); !errors.Is(err, ErrSlow) {
		t.Fatalf("err = %v, want ErrSlow", err)
	}
}

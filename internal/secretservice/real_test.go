//go:build keyring && linux

package secretservice

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// recorder records a real exchange as a script.
type recorder struct {
	c *conn
	s *script
}

func (r *recorder) Write(b []byte) (int, error) {
	r.s.Client = append(r.s.Client, append([]byte(nil), b...))
	r.s.Server = append(r.s.Server, nil)
	return r.c.Write(b)
}

func (r *recorder) Read(b []byte) (int, error) {
	n, err := r.c.Read(b)
	i := len(r.s.Server) - 1
	r.s.Server[i] = append(r.s.Server[i], b[:n]...)
	return n, err
}

func realBus(t *testing.T) endpoint {
	t.Helper()
	eps, err := parseAddress(os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
	if err != nil {
		t.Skip("no session bus; run under dbus-run-session with gnome-keyring")
	}
	return eps[0]
}

func record(t *testing.T, queries []map[string]string) (*script, error) {
	t.Helper()
	ep := realBus(t)
	c, err := dial(ep, time.Now().Add(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := &script{Queries: queries}
	res, err := exchange(&recorder{c, s}, 0, ep.guid, LoginCollection, queries)
	s.Want = res
	if err != nil {
		s.Err = err.Error()
	}
	return s, err
}

// TestRealCapture records the replay fixtures (testdata/*.json) from the
// real gnome-keyring when SECRETSERVICE_CAPTURE=1. Store the test item
// first, with go-keyring's attributes: keyring.Set("saml2sts-capture",
// "capture-hit", "test-secret: ünïcødé value"); delete it afterwards.
func TestRealCapture(t *testing.T) {
	if os.Getenv("SECRETSERVICE_CAPTURE") == "" {
		t.Skip("set SECRETSERVICE_CAPTURE=1 to record testdata/*.json")
	}
	for _, c := range []struct {
		file, user string
	}{{"hit.json", "capture-hit"}, {"miss.json", "capture-none"}} {
		q := []map[string]string{{"service": "saml2sts-capture", "username": c.user}, {"service": "saml2sts-capture", "username": c.user + "#1"}}
		s, _ := record(t, q)
		s.Note = fmt.Sprintf("recorded %s from gnome-keyring under dbus-run-session (TestRealCapture); the secret is a test value", time.Now().UTC().Format("2006-01-02"))
		b, _ := json.MarshalIndent(s, "", "  ")
		if err := os.WriteFile(filepath.Join("testdata", c.file), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRealConcurrentReaders: readers that come and go in parallel, as
// parallel AWS SDK clients spawn credential_process, leave gnome-keyring
// running: the same daemon owns org.freedesktop.secrets before and after,
// and every read finds the value. With OpenSession sent before an answer
// from the daemon (the race in doc.go), gnome-keyring 42.1 aborted within
// the first few reads of this test.
func TestRealConcurrentReaders(t *testing.T) {
	realBus(t)
	const service, user, value = "saml2sts-stress", "stress", "stress-secret"
	if err := keyring.Set(service, user, value); err != nil {
		t.Fatalf("storing the test item: %v", err)
	}
	t.Cleanup(func() { keyring.Delete(service, user) })
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	daemon := func() string {
		var owner string
		if err := conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, secretsName).Store(&owner); err != nil {
			return err.Error()
		}
		return owner
	}
	before := daemon()
	const readers, reads = 4, 150
	errs := make(chan error, readers)
	for range readers {
		go func() {
			for range reads {
				res, err := Read(os.Getenv("DBUS_SESSION_BUS_ADDRESS"), 3*time.Second, LoginCollection,
					[]map[string]string{{"service": service, "username": user}})
				if err == nil && (!res[0].Found || string(res[0].Secret) != value) {
					err = fmt.Errorf("read found=%v, %d bytes; want the stored value", res[0].Found, len(res[0].Secret))
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range readers {
		if err := <-errs; err != nil {
			t.Errorf("reader: %v", err)
		}
	}
	if after := daemon(); after != before {
		t.Fatalf("org.freedesktop.secrets was %s, now %s: gnome-keyring crashed or restarted", before, after)
	}
}

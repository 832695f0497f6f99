//go:build keyring && linux

package secretservice

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
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

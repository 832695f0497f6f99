package secretservice

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParseMessage: any bytes from the socket parse or fail cleanly, and
// whatever parses decodes (or not) under every reply signature read here.
func FuzzParseMessage(f *testing.F) {
	for _, r := range happy() {
		for _, m := range r {
			f.Add(m.bytes())
		}
	}
	for _, s := range loadScripts(f) {
		for _, b := range s.Server {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, n, err := parseMessage(b)
		if err != nil || n == 0 {
			return
		}
		if n > len(b) || len(m.body) > n {
			t.Fatalf("message of %d bytes in %d", n, len(b))
		}
		openReply(m, m.sender)
		pathsReply(m, m.sender, false)
		pathsReply(m, m.sender, true)
		secretsReply(m, m.sender, session)
		expect(m, m.sender, m.sig)
	})
}

// FuzzExchange: any server stream (SASL answer and messages) ends in
// results for every query or an error, never a panic, and no error
// carries the secret.
func FuzzExchange(f *testing.F) {
	join := func(parts [][]byte) []byte { return bytes.Join(parts, nil) }
	f.Add(join(stream(okLine, happy())))
	for _, s := range loadScripts(f) {
		f.Add(join(s.Server))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := &player{server: [][]byte{b}}
		res, err := exchange(p, 0, "", LoginCollection, oneQuery)
		if err != nil {
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "test-secret") {
				t.Fatalf("error carries the secret: %v", err)
			}
			return
		}
		if len(res) != 1 {
			t.Fatalf("%d results for 1 query", len(res))
		}
	})
}

// FuzzParseAddress: any $DBUS_SESSION_BUS_ADDRESS gives usable unix
// endpoints or ErrUnsupported.
func FuzzParseAddress(f *testing.F) {
	f.Add("unix:path=/run/user/1000/bus")
	f.Add("unix:abstract=/tmp/dbus-x,guid=0123456789abcdef0123456789abcdef;tcp:host=h")
	f.Fuzz(func(t *testing.T, a string) {
		eps, err := parseAddress(a)
		if err != nil {
			return
		}
		for _, e := range eps {
			if e.path == "" || len(e.path) > 107 || strings.IndexByte(e.path, 0) >= 0 || !e.abstract && e.path[0] != '/' {
				t.Fatalf("endpoint %+v from %q", e, a)
			}
		}
	})
}

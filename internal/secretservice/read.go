package secretservice

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"slices"
	"strconv"
)

const (
	busName      = "org.freedesktop.DBus"
	busPath      = "/org/freedesktop/DBus"
	secretsName  = "org.freedesktop.secrets"
	secretsPath  = "/org/freedesktop/secrets"
	ifService    = "org.freedesktop.Secret.Service"
	ifCollection = "org.freedesktop.Secret.Collection"
	ifProps      = "org.freedesktop.DBus.Properties"
)

// LoginCollection is the collection go-keyring stores items in when the
// Secret Service lists it. Otherwise (KeePassXC and others name their
// collections after their databases) go-keyring uses DefaultAlias, and so
// does a read of LoginCollection.
const LoginCollection = "/org/freedesktop/secrets/collection/login"

// DefaultAlias is the path of the default collection's alias.
const DefaultAlias = "/org/freedesktop/secrets/aliases/default"

// Result is what one query found: the secret of the first matching item.
type Result struct {
	Found  bool
	Secret []byte
}

// exchange runs one read over rw, a connected bus socket: queries are
// the attribute sets sought in collection. uid is the client's for SASL
// EXTERNAL; guid, when not empty, is the server GUID the address named.
//
// Three round trips:
//
//  1. SASL, BEGIN, Hello and the Service's Collections property, in one
//     write (sd-bus pipelines the handshake the same way);
//  2. OpenSession("plain") and a SearchItems per query, in one write;
//  3. one GetSecrets for every item found.
//
// The first call to the daemon must not need the caller's per-client
// state, and its answer must be awaited: see doc.go for the gnome-keyring
// race this avoids. Every reply to a call sent is read before returning
// (but on a broken stream or timeout), so the daemon never handles a
// call of ours after we hung up.
func exchange(rw io.ReadWriter, uid int, guid, collection string, queries []map[string]string) ([]Result, error) {
	if !validPath(collection) || len(queries) == 0 {
		return nil, unsupported("bad request")
	}
	// Round trip 1.
	out := []byte("\x00AUTH EXTERNAL " + hex.EncodeToString([]byte(strconv.Itoa(uid))) + "\r\nBEGIN\r\n")
	out = append(out, call{dest: busName, path: busPath, iface: busName, member: "Hello"}.marshal(1)...)
	out = append(out, call{dest: secretsName, path: secretsPath, iface: ifProps, member: "Get", sig: "ss", body: propBody(ifService, "Collections")}.marshal(2)...)
	if _, err := rw.Write(out); err != nil {
		return nil, writeErr(err)
	}
	r := &reader{r: rw}
	if err := r.auth(guid); err != nil {
		return nil, err
	}
	replies, err := r.replies(2)
	if err != nil {
		return nil, err
	}
	if err := expect(replies[0], busName, "s"); err != nil {
		return nil, err
	}
	// The daemon that answered first must answer the rest.
	owner := replies[1].sender
	if replies[1].typ != typeError && (len(owner) < 2 || owner[0] != ':') {
		return nil, unsupported("%s answered from no unique name", secretsName)
	}
	colls, err := pathsReply(replies[1], owner, true)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(colls, collection) {
		if collection != LoginCollection {
			return nil, unsupported("no collection %s", collection)
		}
		collection = DefaultAlias // go-keyring's choice, where it wrote
	}
	// Round trip 2.
	out = call{dest: secretsName, path: secretsPath, iface: ifService, member: "OpenSession", sig: "sv", body: openBody()}.marshal(3)
	for i, q := range queries {
		out = append(out, call{dest: secretsName, path: collection, iface: ifCollection, member: "SearchItems", sig: "a{ss}", body: attrsBody(q)}.marshal(uint32(4+i))...)
	}
	if _, err := rw.Write(out); err != nil {
		return nil, writeErr(err)
	}
	if replies, err = r.replies(1 + len(queries)); err != nil {
		return nil, err
	}
	session, err := openReply(replies[0], owner)
	if err != nil {
		return nil, err
	}
	results := make([]Result, len(queries))
	paths := make([]string, len(queries))
	var want []string
	for i := range queries {
		items, err := pathsReply(replies[1+i], owner, false)
		if err != nil {
			return nil, err
		}
		if len(items) > 0 {
			paths[i] = items[0]
			if !slices.Contains(want, items[0]) {
				want = append(want, items[0])
			}
		}
	}
	if len(want) == 0 {
		return results, nil
	}
	// Round trip 3.
	get := call{dest: secretsName, path: secretsPath, iface: ifService, member: "GetSecrets", sig: "aoo", body: getBody(want, session)}
	if _, err := rw.Write(get.marshal(uint32(4 + len(queries)))); err != nil {
		return nil, writeErr(err)
	}
	last, err := r.replies(1)
	if err != nil {
		return nil, err
	}
	secrets, err := secretsReply(last[0], owner, session)
	if err != nil {
		return nil, err
	}
	for i, p := range paths {
		if p == "" {
			continue
		}
		s, ok := secrets[p]
		if !ok {
			return nil, unsupported("no secret for a found item (locked?)")
		}
		results[i] = Result{Found: true, Secret: s}
	}
	return results, nil
}

// propBody is Properties.Get's (interface, property).
func propBody(iface, prop string) []byte {
	var e enc
	e.str(iface)
	e.str(prop)
	return e.b
}

// openBody is OpenSession's ("plain", <"">): no transport encryption,
// which the socket to a same-user daemon does not need.
func openBody() []byte {
	var e enc
	e.str("plain")
	e.sig("s")
	e.str("")
	return e.b
}

func attrsBody(attrs map[string]string) []byte {
	var e enc
	e.array(8, func() {
		for _, k := range slices.Sorted(maps.Keys(attrs)) {
			e.pad(8)
			e.str(k)
			e.str(attrs[k])
		}
	})
	return e.b
}

func getBody(items []string, session string) []byte {
	var e enc
	e.array(4, func() {
		for _, p := range items {
			e.str(p)
		}
	})
	e.str(session)
	return e.b
}

// reader reads the server's side of the connection.
type reader struct {
	r    io.Reader
	buf  []byte
	next uint32 // reply serial expected next
}

// maxAuthLine bounds the server's SASL answer.
const maxAuthLine = 256

// auth reads the server's answer to AUTH EXTERNAL: "OK <guid>".
func (r *reader) auth(guid string) error {
	for {
		if i := bytes.Index(r.buf, []byte("\r\n")); i >= 0 {
			line := string(r.buf[:i])
			r.buf = r.buf[i+2:]
			got, ok := cutPrefix(line, "OK ")
			if !ok || len(got) != 32 || !isHex(got) {
				return unsupported("authentication refused")
			}
			if guid != "" && got != guid {
				return unsupported("server GUID differs from the address's")
			}
			r.next = 1
			return nil
		}
		if len(r.buf) > maxAuthLine {
			return unsupported("authentication answer too long")
		}
		if err := r.fill(); err != nil {
			return err
		}
	}
}

// replies reads until the replies to the next n serials are in, in
// order; signals (NameAcquired) are skipped, anything else is an error.
func (r *reader) replies(n int) ([]*message, error) {
	first := r.next
	got := make([]*message, n)
	for left := n; left > 0; {
		m, size, err := parseMessage(r.buf)
		if err != nil {
			return nil, err
		}
		if size == 0 {
			if err := r.fill(); err != nil {
				return nil, err
			}
			continue
		}
		r.buf = r.buf[size:]
		switch m.typ {
		case typeSignal:
			continue
		case typeReturn, typeError:
		default:
			return nil, unsupported("unexpected method call")
		}
		i := int(m.replySerial) - int(first)
		if i < 0 || i >= n || got[i] != nil {
			return nil, unsupported("reply to an unknown serial")
		}
		got[i] = m
		left--
	}
	r.next = first + uint32(n)
	return got, nil
}

// fill reads more from the connection.
func (r *reader) fill() error {
	if len(r.buf) > maxMessage+maxAuthLine {
		return unsupported("message too long")
	}
	var b [16 << 10]byte
	n, err := r.r.Read(b[:])
	r.buf = append(r.buf, b[:n]...)
	switch {
	case n > 0:
		return nil
	case err == nil:
		return unsupported("read made no progress")
	case errors.Is(err, ErrTimeout):
		return ErrTimeout
	case err == io.EOF:
		return unsupported("connection closed")
	}
	return unsupported("read: %v", err)
}

// writeErr is the error of a failed write.
func writeErr(err error) error {
	if errors.Is(err, ErrTimeout) {
		return ErrTimeout
	}
	return unsupported("write: %v", err)
}

// expect checks that m is a successful reply from sender with signature sig.
func expect(m *message, sender, sig string) error {
	if m.typ == typeError {
		return unsupported("%s", m.errName)
	}
	if m.sender != sender {
		return unsupported("reply from an unexpected sender")
	}
	if m.sig != sig {
		return unsupported("reply signature %q, want %q", m.sig, sig)
	}
	return nil
}

// done checks that the whole body was read.
func (d *dec) done() error {
	if d.err == nil && d.off != len(d.b) {
		d.fail("trailing bytes after the body")
	}
	return d.err
}

// openReply is the session of OpenSession's (v output, o session).
func openReply(m *message, sender string) (string, error) {
	if err := expect(m, sender, "vo"); err != nil {
		return "", err
	}
	d := &dec{b: m.body, order: m.order}
	d.skip("v", 0)
	s := d.objectPath()
	return s, d.done()
}

// pathsReply is SearchItems's ao or, as a variant, Collections's.
func pathsReply(m *message, sender string, variant bool) ([]string, error) {
	sig := "ao"
	if variant {
		sig = "v"
	}
	if err := expect(m, sender, sig); err != nil {
		return nil, err
	}
	d := &dec{b: m.body, order: m.order}
	if variant && d.signature() != "ao" {
		d.fail("Collections is not an ao")
		return nil, d.err
	}
	var out []string
	d.array(4, func() { out = append(out, d.objectPath()) })
	return out, d.done()
}

// secretsReply is GetSecrets's a{o(oayays)}: item -> (session,
// parameters, value, content type). A plain session has no parameters.
func secretsReply(m *message, sender, session string) (map[string][]byte, error) {
	if err := expect(m, sender, "a{o(oayays)}"); err != nil {
		return nil, err
	}
	d := &dec{b: m.body, order: m.order}
	out := map[string][]byte{}
	d.array(8, func() {
		d.align(8)
		item := d.objectPath()
		d.align(8)
		s := d.objectPath()
		params := d.bytes()
		value := d.bytes()
		d.str()
		if d.err != nil {
			return
		}
		if s != session || len(params) != 0 {
			d.fail("secret of another session")
			return
		}
		if _, dup := out[item]; dup {
			d.fail("item listed twice")
			return
		}
		out[item] = bytes.Clone(value)
	})
	if err := d.done(); err != nil {
		return nil, err
	}
	return out, nil
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}

func isHex(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

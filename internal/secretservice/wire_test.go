package secretservice

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// msg builds an incoming message (little-endian) for tests.
type msg struct {
	typ                 byte
	serial, replySerial uint32
	sender, errName     string
	sig                 string
	body                []byte
	fds                 uint32
}

func (m msg) bytes() []byte {
	var e enc
	e.b = append(e.b, 'l', m.typ, 1, 1)
	e.u32(uint32(len(m.body)))
	e.u32(max(m.serial, 1))
	e.array(8, func() {
		field := func(code byte, sig string, v func()) {
			e.pad(8)
			e.b = append(e.b, code)
			e.sig(sig)
			v()
		}
		if m.replySerial != 0 {
			field(fieldReplySerial, "u", func() { e.u32(m.replySerial) })
		}
		if m.sender != "" {
			field(fieldSender, "s", func() { e.str(m.sender) })
		}
		if m.errName != "" {
			field(fieldErrorName, "s", func() { e.str(m.errName) })
		}
		if m.sig != "" {
			field(fieldSignature, "g", func() { e.sig(m.sig) })
		}
		if m.fds != 0 {
			field(fieldUnixFDs, "u", func() { e.u32(m.fds) })
		}
	})
	e.pad(8)
	return append(e.b, m.body...)
}

const (
	owner   = ":1.7"
	session = "/org/freedesktop/secrets/session/s3"
	item    = "/org/freedesktop/secrets/collection/login/4"
	secret  = "sk-TEST-SECRET-VALUE"
)

func strBody(s string) []byte { var e enc; e.str(s); return e.b }

func ret(replySerial uint32, sender, sig string, body []byte) msg {
	return msg{typ: typeReturn, serial: 10 + replySerial, replySerial: replySerial, sender: sender, sig: sig, body: body}
}

func openRet(sess string) []byte {
	var e enc
	e.sig("s")
	e.str("")
	e.str(sess)
	return e.b
}

func pathsRet(paths ...string) []byte {
	var e enc
	e.array(4, func() {
		for _, p := range paths {
			e.str(p)
		}
	})
	return e.b
}

// collsRet is Properties.Get(Collections)'s variant.
func collsRet(paths ...string) []byte {
	var e enc
	e.sig("ao")
	e.array(4, func() {
		for _, p := range paths {
			e.str(p)
		}
	})
	return e.b
}

func secretsRet(sess string, params string, items map[string]string) []byte {
	var e enc
	e.array(8, func() {
		for p, v := range items {
			e.pad(8)
			e.str(p)
			e.pad(8)
			e.str(sess)
			e.u32(uint32(len(params)))
			e.b = append(e.b, params...)
			e.u32(uint32(len(v)))
			e.b = append(e.b, v...)
			e.str("text/plain")
		}
	})
	return e.b
}

const okLine = "OK 0123456789abcdef0123456789abcdef\r\n"

// happy is a server's side of a one-query hit, per round trip (the SASL
// answer goes first).
func happy() [][]msg {
	return [][]msg{
		{
			{typ: typeSignal, serial: 2, sender: busName, sig: "s", body: strBody(":1.9")},
			ret(1, busName, "s", strBody(":1.9")),
			ret(2, owner, "v", collsRet("/org/freedesktop/secrets/collection/session", LoginCollection)),
		},
		{ret(3, owner, "vo", openRet(session)), ret(4, owner, "ao", pathsRet(item))},
		{ret(5, owner, "a{o(oayays)}", secretsRet(session, "", map[string]string{item: secret}))},
	}
}

func stream(auth string, rounds [][]msg) [][]byte {
	out := make([][]byte, len(rounds))
	for i, r := range rounds {
		if i == 0 {
			out[i] = []byte(auth)
		}
		for _, m := range r {
			out[i] = append(out[i], m.bytes()...)
		}
	}
	return out
}

var oneQuery = []map[string]string{{"service": "s", "username": "u"}}

func TestExchange(t *testing.T) {
	t.Parallel()
	p := &player{server: stream(okLine, happy())}
	got, err := exchange(p, 1000, "0123456789abcdef0123456789abcdef", LoginCollection, oneQuery)
	if err != nil || len(got) != 1 || !got[0].Found || string(got[0].Secret) != secret {
		t.Fatalf("exchange = %+v, %v", got, err)
	}
	if len(p.writes) != 3 || !bytes.HasPrefix(p.writes[0], []byte("\x00AUTH EXTERNAL 31303030\r\nBEGIN\r\nl")) {
		t.Fatalf("%d writes, first %q", len(p.writes), p.writes[0])
	}
}

// TestExchangeCollection: without a login collection (KeePassXC), a read
// of LoginCollection searches the default alias, as go-keyring does when
// it writes; any other collection that is not listed is refused.
func TestExchangeCollection(t *testing.T) {
	t.Parallel()
	noLogin := happy()
	noLogin[0][2] = ret(2, owner, "v", collsRet("/org/freedesktop/secrets/collection/Passwords"))
	p := &player{server: stream(okLine, noLogin)}
	got, err := exchange(p, 0, "", LoginCollection, oneQuery)
	if err != nil || !got[0].Found || string(got[0].Secret) != secret {
		t.Fatalf("exchange = %+v, %v", got, err)
	}
	if !bytes.Contains(p.writes[1], []byte(DefaultAlias)) || bytes.Contains(p.writes[1], []byte(LoginCollection)) {
		t.Errorf("searched %q, want the default alias", p.writes[1])
	}
	other := "/org/freedesktop/secrets/collection/other"
	p = &player{server: stream(okLine, happy())}
	if _, err := exchange(p, 0, "", other, oneQuery); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "no collection "+other) {
		t.Errorf("unlisted %s: %v", other, err)
	}
	if len(p.writes) != 1 {
		t.Errorf("%d writes after the refusal, want 1 (nothing sent after the answer)", len(p.writes))
	}
}

// TestExchangeFirstCall: the first call to the daemon is one that needs
// no per-client state (Properties.Get), and nothing else goes to the
// daemon before its answer is read: gnome-keyring creates that state in
// an idle callback that can run after a pipelined call (doc.go).
func TestExchangeFirstCall(t *testing.T) {
	t.Parallel()
	p := &player{server: stream(okLine, happy())}
	if _, err := exchange(p, 0, "", LoginCollection, oneQuery); err != nil {
		t.Fatal(err)
	}
	has := func(w int, s string) bool { return bytes.Contains(p.writes[w], []byte(s)) }
	if !has(0, ifProps) || !has(0, "Collections") || has(0, "OpenSession") || has(0, "SearchItems") || has(0, "GetSecrets") {
		t.Errorf("first write %q", p.writes[0])
	}
	if !has(1, "OpenSession") || !has(1, "SearchItems") || has(1, ifProps) {
		t.Errorf("second write %q", p.writes[1])
	}
}

// TestExchangeRefuses: every surprise is ErrUnsupported (the caller takes
// go-keyring's path), never a wrong value, and no error names the secret.
func TestExchangeRefuses(t *testing.T) {
	t.Parallel()
	mod := func(f func(r [][]msg)) [][]msg { r := happy(); f(r); return r }
	for _, c := range []struct {
		name   string
		auth   string
		guid   string
		rounds [][]msg
		want   string
	}{
		{"auth rejected", "REJECTED EXTERNAL\r\n", "", happy(), "authentication refused"},
		{"other server", okLine, "ffffffffffffffffffffffffffffffff", happy(), "GUID"},
		{"long auth line", strings.Repeat("x", 400), "", happy(), "too long"},
		{"no daemon", okLine, "", mod(func(r [][]msg) {
			r[0][2] = msg{typ: typeError, serial: 9, replySerial: 2, sender: busName, errName: "org.freedesktop.DBus.Error.ServiceUnknown"}
		}), "ServiceUnknown"},
		{"no unique owner", okLine, "", mod(func(r [][]msg) { r[0][2].sender = busName }), "no unique name"},
		{"Collections not an ao", okLine, "", mod(func(r [][]msg) {
			var e enc
			e.sig("s")
			e.str(LoginCollection)
			r[0][2] = ret(2, owner, "v", e.b)
		}), "not an ao"},
		{"no such collection", okLine, "", mod(func(r [][]msg) {
			r[1][1] = msg{typ: typeError, serial: 9, replySerial: 4, sender: owner, errName: "org.freedesktop.Secret.Error.NoSuchObject", sig: "s", body: strBody(secret)}
		}), "NoSuchObject"},
		{"reply from another peer", okLine, "", mod(func(r [][]msg) { r[1][1].sender = ":1.8" }), "unexpected sender"},
		{"session from another peer", okLine, "", mod(func(r [][]msg) { r[1][0].sender = ":1.8" }), "unexpected sender"},
		{"unknown serial", okLine, "", mod(func(r [][]msg) { r[1][0].replySerial = 42 }), "unknown serial"},
		{"duplicate reply", okLine, "", mod(func(r [][]msg) { r[1][1].replySerial = 3 }), "unknown serial"},
		{"wrong signature", okLine, "", mod(func(r [][]msg) { r[1][1].sig = "as" }), "signature"},
		{"locked: no secret returned", okLine, "", mod(func(r [][]msg) {
			r[2][0] = ret(5, owner, "a{o(oayays)}", secretsRet(session, "", nil))
		}), "locked"},
		{"GetSecrets refused", okLine, "", mod(func(r [][]msg) {
			r[2][0] = msg{typ: typeError, serial: 9, replySerial: 5, sender: owner, errName: "org.freedesktop.Secret.Error.IsLocked"}
		}), "IsLocked"},
		{"secret of another session", okLine, "", mod(func(r [][]msg) {
			r[2][0] = ret(5, owner, "a{o(oayays)}", secretsRet("/org/freedesktop/secrets/session/s9", "", map[string]string{item: secret}))
		}), "another session"},
		{"encrypted secret", okLine, "", mod(func(r [][]msg) {
			r[2][0] = ret(5, owner, "a{o(oayays)}", secretsRet(session, "iv0123456789abcd", map[string]string{item: secret}))
		}), "another session"},
		{"trailing bytes", okLine, "", mod(func(r [][]msg) { r[1][0].body = append(openRet(session), 0, 0, 0, 0) }), "trailing"},
		{"file descriptors", okLine, "", mod(func(r [][]msg) { r[1][0].fds = 1 }), "file descriptors"},
		{"method call to us", okLine, "", mod(func(r [][]msg) { r[0][1].typ = typeCall; r[0][1].replySerial = 0 }), "method call"},
		{"connection closed", okLine, "", happy()[:2], "closed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &player{server: stream(c.auth, c.rounds)}
			got, err := exchange(p, 0, c.guid, LoginCollection, oneQuery)
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("exchange = %+v, %v; want ErrUnsupported with %q", got, err, c.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error names the secret: %v", err)
			}
		})
	}
}

func TestParseMessage(t *testing.T) {
	t.Parallel()
	good := ret(3, owner, "ao", pathsRet(item, item+"0")).bytes()
	m, n, err := parseMessage(good)
	if err != nil || n != len(good) || m.replySerial != 3 || m.sender != owner || m.sig != "ao" {
		t.Fatalf("parseMessage = %+v, %d, %v", m, n, err)
	}
	if paths, err := pathsReply(m, owner, false); err != nil || len(paths) != 2 || paths[1] != item+"0" {
		t.Errorf("pathsReply = %q, %v", paths, err)
	}
	for i := range len(good) {
		if _, n, err := parseMessage(good[:i]); n != 0 || err != nil && i >= 16 {
			t.Fatalf("prefix of %d bytes: n %d, %v; want more needed", i, n, err)
		}
	}
	big := binary.BigEndian
	be := func() []byte { // the same reply, big-endian
		b := bytes.Clone(good)
		b[0] = 'B'
		for _, off := range []int{4, 8, 12} {
			big.PutUint32(b[off:], binary.LittleEndian.Uint32(b[off:]))
		}
		return b
	}
	if _, _, err := parseMessage(be()); err == nil {
		t.Error("a big-endian header with little-endian fields parsed")
	}
	set := func(off int, v byte) []byte { b := bytes.Clone(good); b[off] = v; return b }
	for name, b := range map[string][]byte{
		"byte order":     set(0, 'x'),
		"type":           set(1, 9),
		"version":        set(3, 2),
		"serial 0":       func() []byte { b := bytes.Clone(good); binary.LittleEndian.PutUint32(b[8:], 0); return b }(),
		"huge body":      func() []byte { b := bytes.Clone(good); binary.LittleEndian.PutUint32(b[4:], 1<<30); return b }(),
		"huge fields":    func() []byte { b := bytes.Clone(good); binary.LittleEndian.PutUint32(b[12:], 1<<30); return b }(),
		"padding":        set(len(good)-len(pathsRet(item, item+"0"))-1, 1),
		"bad signature":  bytes.Replace(good, []byte("\x02ao\x00"), []byte("\x02a{\x00"), 1),
		"multi-type var": bytes.Replace(good, []byte("\x01u\x00"), []byte("\x02uu"), 1),
	} {
		if _, _, err := parseMessage(b); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
	// An unknown header field is skipped, whatever it holds.
	var e enc
	e.b = append(e.b, 'l', typeSignal, 0, 1)
	e.u32(0)
	e.u32(5)
	e.array(8, func() {
		e.pad(8)
		e.b = append(e.b, 42)
		e.sig("a(sv)")
		e.array(8, func() { e.pad(8); e.str("k"); e.sig("t"); e.pad(8); e.b = append(e.b, 1, 2, 3, 4, 5, 6, 7, 8) })
	})
	e.pad(8)
	if m, _, err := parseMessage(e.b); err != nil || m.typ != typeSignal {
		t.Errorf("unknown field: %+v, %v", m, err)
	}
}

func TestSignatures(t *testing.T) {
	t.Parallel()
	for sig, ok := range map[string]bool{
		"": true, "s": true, "a{o(oayays)}": true, "vo": true, "a(sv)": true, "aai": true,
		"{ss}": false, "a{vs}": false, "a{sss}": false, "(": false, "()": false, "a": false, "z": false,
		"(s{ss})": false, strings.Repeat("a", 40) + "i": false,
	} {
		if got := validSignature(sig); got != ok {
			t.Errorf("validSignature(%q) = %v", sig, got)
		}
	}
	for p, ok := range map[string]bool{"/": true, "/a/b_1": true, "": false, "a": false, "/a/": false, "//a": false, "/a-b": false} {
		if got := validPath(p); got != ok {
			t.Errorf("validPath(%q) = %v", p, got)
		}
	}
}

func TestParseAddress(t *testing.T) {
	t.Parallel()
	eps, err := parseAddress("tcp:host=x,port=1;unix:path=/run/user/1000/bus;unix:abstract=/tmp/dbus-x%2cy,guid=0123456789abcdef0123456789abcdef;unix:runtime=yes;unix:path=rel")
	if err != nil || len(eps) != 2 {
		t.Fatalf("parseAddress = %+v, %v", eps, err)
	}
	if eps[0].path != "/run/user/1000/bus" || eps[0].abstract || eps[1].path != "/tmp/dbus-x,y" || !eps[1].abstract || eps[1].guid != "0123456789abcdef0123456789abcdef" {
		t.Errorf("endpoints %+v", eps)
	}
	for _, a := range []string{"", "autolaunch:", "unix:path=/a,abstract=/b", "unix:path=%zz", "unix:path=/a,guid=short", "launchd:env=X"} {
		if eps, err := parseAddress(a); !errors.Is(err, ErrUnsupported) {
			t.Errorf("parseAddress(%q) = %+v, %v", a, eps, err)
		}
	}
}

package secretservice

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// ErrUnsupported is every answer this reader does not handle; the caller
// reads through a general client instead. Its detail never holds a value
// read from a secret.
var ErrUnsupported = errors.New("secretservice: not handled by the fast reader")

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}

// Message types and header fields (D-Bus specification, "Message Format").
const (
	typeCall   = 1
	typeReturn = 2
	typeError  = 3
	typeSignal = 4

	fieldPath        = 1
	fieldInterface   = 2
	fieldMember      = 3
	fieldErrorName   = 4
	fieldReplySerial = 5
	fieldDestination = 6
	fieldSender      = 7
	fieldSignature   = 8
	fieldUnixFDs     = 9
)

// maxMessage bounds one message read: a GetSecrets reply for a few items
// is a few KB. (The protocol allows 128 MiB.)
const maxMessage = 1 << 20

// maxDepth bounds container nesting in a value skipped generically.
const maxDepth = 32

// enc marshals little-endian; offsets are from the start of the message
// part being built, which always starts 8-aligned.
type enc struct{ b []byte }

func (e *enc) pad(n int) {
	for len(e.b)%n != 0 {
		e.b = append(e.b, 0)
	}
}

func (e *enc) u32(v uint32) {
	e.pad(4)
	e.b = binary.LittleEndian.AppendUint32(e.b, v)
}

// str writes a string or object path.
func (e *enc) str(s string) {
	e.u32(uint32(len(s)))
	e.b = append(append(e.b, s...), 0)
}

func (e *enc) sig(s string) { e.b = append(append(append(e.b, byte(len(s))), s...), 0) }

// array writes an array whose elements align to align, filled by elems.
func (e *enc) array(align int, elems func()) {
	e.u32(0)
	at := len(e.b)
	e.pad(align)
	start := len(e.b)
	elems()
	binary.LittleEndian.PutUint32(e.b[at-4:], uint32(len(e.b)-start))
}

// call is one method call.
type call struct {
	dest, path, iface, member, sig string
	body                           []byte
}

// marshal is the wire form of c with serial.
func (c call) marshal(serial uint32) []byte {
	var e enc
	e.b = append(e.b, 'l', typeCall, 0, 1)
	e.u32(uint32(len(c.body)))
	e.u32(serial)
	field := func(code byte, sig, v string) {
		e.pad(8)
		e.b = append(e.b, code)
		e.sig(sig)
		if sig == "g" {
			e.sig(v)
		} else {
			e.str(v)
		}
	}
	e.array(8, func() {
		field(fieldPath, "o", c.path)
		field(fieldInterface, "s", c.iface)
		field(fieldMember, "s", c.member)
		field(fieldDestination, "s", c.dest)
		if c.sig != "" {
			field(fieldSignature, "g", c.sig)
		}
	})
	e.pad(8)
	return append(e.b, c.body...)
}

// message is a parsed incoming message.
type message struct {
	typ         byte
	serial      uint32
	replySerial uint32
	errName     string
	sender      string
	sig         string
	body        []byte
	order       binary.ByteOrder
}

// parseMessage parses the message at the start of b. n is its length; n
// is 0 (with a nil error) when b does not hold all of it yet.
func parseMessage(b []byte) (m *message, n int, err error) {
	if len(b) < 16 {
		return nil, 0, nil
	}
	m = new(message)
	switch b[0] {
	case 'l':
		m.order = binary.LittleEndian
	case 'B':
		m.order = binary.BigEndian
	default:
		return nil, 0, unsupported("bad byte order %#x", b[0])
	}
	m.typ = b[1]
	if m.typ < typeCall || m.typ > typeSignal || b[3] != 1 {
		return nil, 0, unsupported("bad message type %d or version %d", b[1], b[3])
	}
	bodyLen, fieldsLen := m.order.Uint32(b[4:]), m.order.Uint32(b[12:])
	m.serial = m.order.Uint32(b[8:])
	if bodyLen > maxMessage || fieldsLen > maxMessage || m.serial == 0 {
		return nil, 0, unsupported("message of %d+%d bytes, serial %d", fieldsLen, bodyLen, m.serial)
	}
	hdrEnd := (16 + int(fieldsLen) + 7) &^ 7
	total := hdrEnd + int(bodyLen)
	if total > maxMessage {
		return nil, 0, unsupported("message of %d bytes", total)
	}
	if len(b) < total {
		return nil, 0, nil
	}
	d := &dec{b: b[:16+fieldsLen], off: 16, order: m.order}
	var fdCount uint32
	for d.err == nil && d.off < len(d.b) {
		d.align(8)
		code := d.byte()
		sig := d.signature()
		if d.err == nil && !single(sig) {
			d.fail("header field %d holds more than one type", code)
		}
		if d.err != nil {
			break
		}
		want := map[byte]string{fieldPath: "o", fieldInterface: "s", fieldMember: "s", fieldErrorName: "s",
			fieldReplySerial: "u", fieldDestination: "s", fieldSender: "s", fieldSignature: "g", fieldUnixFDs: "u"}[code]
		switch {
		case want == "":
			d.skip(sig, 0) // unknown fields are ignored, as the spec says
		case sig != want:
			d.fail("header field %d has signature %q", code, sig)
		case code == fieldReplySerial:
			m.replySerial = d.u32()
		case code == fieldUnixFDs:
			fdCount = d.u32()
		case code == fieldSignature:
			m.sig = d.signature()
		case code == fieldPath:
			d.objectPath()
		default:
			v := d.str()
			switch code {
			case fieldErrorName:
				m.errName = v
			case fieldSender:
				m.sender = v
			}
		}
	}
	if d.err != nil {
		return nil, 0, d.err
	}
	if !zero(b[16+fieldsLen : hdrEnd]) {
		return nil, 0, unsupported("non-zero header padding")
	}
	if fdCount != 0 {
		return nil, 0, unsupported("message carries file descriptors")
	}
	if (m.typ == typeReturn || m.typ == typeError) && m.replySerial == 0 {
		return nil, 0, unsupported("reply without a reply serial")
	}
	if m.typ == typeError && !validName(m.errName) {
		return nil, 0, unsupported("error reply without a valid error name")
	}
	m.body = b[hdrEnd:total]
	return m, total, nil
}

func zero(b []byte) bool { return !slices.ContainsFunc(b, func(c byte) bool { return c != 0 }) }

// validName reports whether s is a well-formed error or interface name,
// so that a D-Bus error name can be put in an error message.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 255 || !strings.Contains(s, ".") {
		return false
	}
	for _, el := range strings.Split(s, ".") {
		if el == "" || el[0] >= '0' && el[0] <= '9' {
			return false
		}
		for _, c := range []byte(el) {
			if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

// dec unmarshals b from off; alignment is relative to the start of b. The
// first error sticks and zeroes every later read.
type dec struct {
	b     []byte
	off   int
	order binary.ByteOrder
	err   error
}

func (d *dec) fail(format string, args ...any) {
	if d.err == nil {
		d.err = unsupported(format, args...)
	}
}

func (d *dec) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.fail("value runs past the end of its message")
		return nil
	}
	v := d.b[d.off : d.off+n]
	d.off += n
	return v
}

func (d *dec) align(n int) {
	p := (n - d.off%n) % n
	if v := d.take(p); v != nil && !zero(v) {
		d.fail("non-zero padding")
	}
}

func (d *dec) byte() byte {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *dec) u32() uint32 {
	d.align(4)
	if v := d.take(4); v != nil {
		return d.order.Uint32(v)
	}
	return 0
}

// str reads a string: valid UTF-8 without NUL, NUL-terminated.
func (d *dec) str() string {
	n := d.u32()
	v := d.take(int(min(n, maxMessage)) + 1)
	if v == nil {
		return ""
	}
	s := string(v[:len(v)-1])
	if v[len(v)-1] != 0 || strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
		d.fail("malformed string")
		return ""
	}
	return s
}

func (d *dec) objectPath() string {
	p := d.str()
	if d.err == nil && !validPath(p) {
		d.fail("malformed object path")
		return ""
	}
	return p
}

func (d *dec) signature() string {
	n := d.byte()
	v := d.take(int(n) + 1)
	if v == nil {
		return ""
	}
	s := string(v[:n])
	if v[n] != 0 || !validSignature(s) {
		d.fail("malformed signature")
		return ""
	}
	return s
}

// bytes reads an ay.
func (d *dec) bytes() []byte {
	n := d.u32()
	return d.take(int(min(n, maxMessage)))
}

// array calls elem for each element of an array whose elements align to
// align, until exactly its length is consumed.
func (d *dec) array(align int, elem func()) {
	n := d.u32()
	d.align(align)
	if d.err != nil {
		return
	}
	if n > uint32(len(d.b)-d.off) {
		d.fail("array runs past the end of its message")
		return
	}
	end := d.off + int(n)
	for d.err == nil && d.off < end {
		before := d.off
		elem()
		if d.off == before {
			d.fail("empty array element")
		}
	}
	if d.err == nil && d.off != end {
		d.fail("array element runs past the array")
	}
}

// skip reads and discards one value of the single complete type sig.
func (d *dec) skip(sig string, depth int) {
	if depth > maxDepth {
		d.fail("value nested too deeply")
		return
	}
	if d.err != nil || sig == "" {
		d.fail("empty signature")
		return
	}
	switch sig[0] {
	case 'y':
		d.take(1)
	case 'n', 'q':
		d.align(2)
		d.take(2)
	case 'b', 'i', 'u', 'h':
		d.u32()
	case 'x', 't', 'd':
		d.align(8)
		d.take(8)
	case 's':
		d.str()
	case 'o':
		d.objectPath()
	case 'g':
		d.signature()
	case 'v':
		s := d.signature()
		if d.err == nil && !single(s) {
			d.fail("variant holds more than one type")
			return
		}
		d.skip(s, depth+1)
	case 'a':
		elem := sig[1:]
		d.array(alignOf(elem[0]), func() { d.skip(elem, depth+1) })
	case '(', '{':
		d.align(8)
		for _, f := range fields(sig[1 : len(sig)-1]) {
			d.skip(f, depth+1)
		}
	default:
		d.fail("unknown type %q", sig[0])
	}
}

func alignOf(c byte) int {
	switch c {
	case 'y', 'g', 'v':
		return 1
	case 'n', 'q':
		return 2
	case 'x', 't', 'd', '(', '{':
		return 8
	}
	return 4
}

// next is the length of the single complete type at the start of sig, 0
// when there is none.
func next(sig string, depth int) int {
	if sig == "" || depth > maxDepth {
		return 0
	}
	switch sig[0] {
	case 'y', 'b', 'n', 'q', 'i', 'u', 'x', 't', 'd', 'h', 's', 'o', 'g', 'v':
		return 1
	case 'a':
		if n := next(sig[1:], depth+1); n > 0 {
			return 1 + n
		}
	case '(':
		i := 1
		for i < len(sig) && sig[i] != ')' {
			n := next(sig[i:], depth+1)
			if n == 0 {
				return 0
			}
			i += n
		}
		if i > 1 && i < len(sig) {
			return i + 1
		}
	case '{':
		k := next(sig[1:], depth+1)
		if k != 1 || sig[1] == 'v' {
			return 0 // the key is a basic type
		}
		v := next(sig[2:], depth+1)
		if v > 0 && 2+v < len(sig) && sig[2+v] == '}' {
			return 3 + v
		}
	}
	return 0
}

// fields splits a signature into its single complete types.
func fields(sig string) []string {
	var out []string
	for sig != "" {
		n := next(sig, 0)
		if n == 0 {
			return nil
		}
		out, sig = append(out, sig[:n]), sig[n:]
	}
	return out
}

func validSignature(s string) bool {
	for rest := s; rest != ""; {
		n := next(rest, 0)
		if n == 0 || rest[0] == '{' {
			return false // a dict entry only inside an array
		}
		rest = rest[n:]
	}
	return len(s) <= 255 && dictsInArrays(s)
}

// dictsInArrays reports whether every '{' follows an 'a'.
func dictsInArrays(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '{' && (i == 0 || s[i-1] != 'a') {
			return false
		}
	}
	return true
}

func single(s string) bool { n := next(s, 0); return n > 0 && n == len(s) && s[0] != '{' }

// validPath reports whether p is an object path: "/" or /-separated
// non-empty elements of [A-Za-z0-9_].
func validPath(p string) bool {
	if p == "/" {
		return true
	}
	if len(p) < 2 || p[0] != '/' || p[len(p)-1] == '/' {
		return false
	}
	for _, el := range strings.Split(p[1:], "/") {
		if el == "" {
			return false
		}
		for _, c := range []byte(el) {
			if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

package opensearchtest

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SeqBase is the "seq" value of synthetic document 0: above 2^53, so a
// client that rounds sort values through float64 skips or repeats
// documents.
const SeqBase int64 = 1 << 60

// SyntheticEpoch is the @timestamp of synthetic document 0; document i is
// i seconds later.
var SyntheticEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// SyntheticID is the _id of synthetic document i.
func SyntheticID(i int) string { return fmt.Sprintf("%010d", i) }

// SyntheticLevel is the "level" of synthetic document i: about 60% INFO,
// 20% WARN, 10% ERROR, 10% DEBUG.
func SyntheticLevel(i int) string {
	switch mix(uint64(i)) % 10 {
	case 0, 1, 2, 3, 4, 5:
		return "INFO"
	case 6, 7:
		return "WARN"
	case 8:
		return "ERROR"
	}
	return "DEBUG"
}

// mix is splitmix64's finaliser: a cheap deterministic hash.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// index is one emulated index: stored documents or a synthetic range.
type index struct {
	name, uuid string
	synthetic  bool
	n          int // synthetic document count
	docs       []*stored
	ids        map[string]int // id → position in docs (nil entries deleted)
	next       uint64         // auto-id counter
}

type stored struct {
	id  string
	src json.RawMessage
	m   map[string]any // parsed with UseNumber
}

// snapshot is a read-only view of the current positions: searches read
// it without the server lock. Writers never modify a published docs array
// in place (see add and remove), so the view stays valid.
func (ix *index) snapshot() *index {
	return &index{name: ix.name, uuid: ix.uuid, synthetic: ix.synthetic, n: ix.n, docs: ix.docs[:len(ix.docs):len(ix.docs)]}
}

// cow copies docs before an in-place change (a delete), so snapshots
// taken earlier keep their view.
func (ix *index) cow() { ix.docs = append([]*stored(nil), ix.docs...) }

// count is the number of positions (deleted stored docs included).
func (ix *index) count() int {
	if ix.synthetic {
		return ix.n
	}
	return len(ix.docs)
}

// live reports whether position p holds a document.
func (ix *index) live(p int) bool { return ix.synthetic || ix.docs[p] != nil }

func (ix *index) docCount() int {
	if ix.synthetic {
		return ix.n
	}
	n := 0
	for _, d := range ix.docs {
		if d != nil {
			n++
		}
	}
	return n
}

func (ix *index) id(p int) string {
	if ix.synthetic {
		return SyntheticID(p)
	}
	return ix.docs[p].id
}

// add stores src under id ("" = auto id). Re-indexing an id deletes the old
// position and appends, so open PIT snapshots keep their view.
func (ix *index) add(id string, src json.RawMessage) (string, error) {
	if ix.synthetic {
		return "", errors.New("synthetic index is read-only")
	}
	d := json.NewDecoder(bytes.NewReader(src))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return "", fmt.Errorf("document is not a JSON object")
	}
	if id == "" {
		id = ix.autoID()
	}
	if p, ok := ix.ids[id]; ok {
		ix.cow()
		ix.docs[p] = nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, src); err != nil {
		return "", err
	}
	ix.ids[id] = len(ix.docs)
	ix.docs = append(ix.docs, &stored{id: id, src: buf.Bytes(), m: m})
	return id, nil
}

func (ix *index) remove(id string) bool {
	p, ok := ix.ids[id]
	if !ok || ix.synthetic {
		return false
	}
	ix.cow()
	ix.docs[p] = nil
	delete(ix.ids, id)
	return true
}

// autoID makes a 20-character URL-safe id like OpenSearch's time-based
// UUIDs, deterministic per index.
func (ix *index) autoID() string {
	var b [15]byte
	h := sha1.Sum([]byte(ix.name))
	copy(b[:7], h[:7])
	ix.next++
	binary.BigEndian.PutUint64(b[7:], ix.next)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func uuidFor(name string) string {
	h := sha1.Sum([]byte(name))
	return base64.RawURLEncoding.EncodeToString(h[:16])[:22]
}

// source appends the _source of position p.
func (ix *index) source(dst []byte, p int) []byte {
	if !ix.synthetic {
		return append(dst, ix.docs[p].src...)
	}
	h := mix(uint64(p))
	dst = append(dst, `{"@timestamp":"`...)
	dst = SyntheticEpoch.Add(time.Duration(p)*time.Second).AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	dst = append(dst, `","seq":`...)
	dst = strconv.AppendInt(dst, SeqBase+int64(p), 10)
	dst = append(dst, `,"level":"`...)
	dst = append(dst, SyntheticLevel(p)...)
	dst = append(dst, `","message":"`...)
	dst = appendMessage(dst, p, h)
	dst = append(dst, `","host":{"name":"host-`...)
	dst = strconv.AppendInt(dst, int64(p%16), 10)
	dst = append(dst, `","ip":"10.0.`...)
	dst = strconv.AppendInt(dst, int64(p/256%256), 10)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, int64(p%256), 10)
	dst = append(dst, `"},"user":{"id":`...)
	dst = strconv.AppendInt(dst, int64(p%1000), 10)
	dst = append(dst, `,"name":"user-`...)
	dst = strconv.AppendInt(dst, int64(p%1000), 10)
	dst = append(dst, `"},"bytes":`...)
	dst = strconv.AppendUint(dst, h>>40%100000, 10)
	return append(dst, '}')
}

var paths = []string{"/api/items", "/api/orders", "/login", "/health", "/search"}

func appendMessage(dst []byte, p int, h uint64) []byte {
	dst = append(dst, "event "...)
	dst = strconv.AppendInt(dst, int64(p), 10)
	dst = append(dst, " GET "...)
	dst = append(dst, paths[h>>8%uint64(len(paths))]...)
	dst = append(dst, " took "...)
	dst = strconv.AppendUint(dst, h>>16%1000, 10)
	return append(dst, "ms"...)
}

// values returns the values of a dotted field at position p: strings,
// json.Number, bool or nil, arrays flattened. Objects are returned as
// map[string]any (for exists).
func (ix *index) values(p int, field string) []any {
	switch field {
	case "_id":
		return []any{ix.id(p)}
	case "_index":
		return []any{ix.name}
	}
	field = strings.TrimSuffix(field, ".keyword")
	if !ix.synthetic {
		return lookup(ix.docs[p].m, field, nil)
	}
	h := mix(uint64(p))
	switch field {
	case "@timestamp":
		return []any{SyntheticEpoch.Add(time.Duration(p) * time.Second).Format("2006-01-02T15:04:05.000Z07:00")}
	case "seq":
		return []any{json.Number(strconv.FormatInt(SeqBase+int64(p), 10))}
	case "level":
		return []any{SyntheticLevel(p)}
	case "message":
		return []any{string(appendMessage(nil, p, h))}
	case "host.name":
		return []any{"host-" + strconv.Itoa(p%16)}
	case "host.ip":
		return []any{fmt.Sprintf("10.0.%d.%d", p/256%256, p%256)}
	case "user.id":
		return []any{json.Number(strconv.Itoa(p % 1000))}
	case "user.name":
		return []any{"user-" + strconv.Itoa(p%1000)}
	case "bytes":
		return []any{json.Number(strconv.FormatUint(h>>40%100000, 10))}
	case "host", "user":
		return []any{map[string]any{}}
	}
	return nil
}

// syntheticFields are the leaf fields of a synthetic document.
var syntheticFields = []string{"@timestamp", "seq", "level", "message", "host.name", "host.ip", "user.id", "user.name", "bytes"}

// allValues returns every leaf value of position p (query_string with no
// field).
func (ix *index) allValues(p int) []any {
	if ix.synthetic {
		var out []any
		for _, f := range syntheticFields {
			out = append(out, ix.values(p, f)...)
		}
		return out
	}
	return leaves(ix.docs[p].m, nil)
}

func lookup(v any, path string, out []any) []any {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			out = lookup(e, path, out)
		}
		return out
	case map[string]any:
		if path == "" {
			return append(out, t)
		}
		if e, ok := t[path]; ok { // flat key with dots, or last segment
			out = lookup(e, "", out)
		}
		for i := 0; i < len(path); i++ {
			if path[i] == '.' {
				if e, ok := t[path[:i]]; ok {
					out = lookup(e, path[i+1:], out)
				}
			}
		}
		return out
	default:
		if path != "" {
			return out
		}
		return append(out, t)
	}
}

func leaves(v any, out []any) []any {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			out = leaves(e, out)
		}
	case map[string]any:
		for _, e := range t {
			out = leaves(e, out)
		}
	default:
		out = append(out, t)
	}
	return out
}

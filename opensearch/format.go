package opensearch

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Hit is one search hit. Source and Sort stay raw so that numbers keep the
// server's exact text (int64 ids, epoch-nanosecond dates).
type Hit struct {
	Index  string            `json:"_index"`
	ID     string            `json:"_id"`
	Source json.RawMessage   `json:"_source,omitempty"`
	Sort   []json.RawMessage `json:"sort,omitempty"`
}

// HitWriter writes hits in an output format. Write is never called
// concurrently; Close flushes and ends the output.
type HitWriter interface {
	Write(h *Hit) error
	Close() error
}

// Formats are the output formats of NewHitWriter ("json" is the raw answer
// of a single search, handled by the caller; here it is the --all form).
var Formats = []string{"json", "ndjson", "csv", "table"}

// FormatOptions choose how hits are written.
type FormatOptions struct {
	Format   string   // json, ndjson, csv or table
	Fields   []string // columns for csv and table (dotted paths); nil = from the first hit
	WithMeta bool     // include _index and _id
	Width    int      // table: terminal width; 0 = no limit
	// CSVRaw keeps csv text cells that start with = + - @ (or a tab or
	// carriage return) as they are; by default they get a leading ' so a
	// spreadsheet shows them instead of running them as formulas.
	CSVRaw bool
}

// NewHitWriter returns the writer for o.Format.
func NewHitWriter(w io.Writer, o FormatOptions) (HitWriter, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	switch o.Format {
	case "ndjson":
		return &ndjsonWriter{w: bw, meta: o.WithMeta}, nil
	case "json":
		return &jsonArrayWriter{w: bw}, nil
	case "csv":
		esc := csvCell
		if o.CSVRaw {
			esc = func(s string, _ bool) string { return visible(s, false) }
		}
		return &csvWriter{bw: bw, w: csv.NewWriter(bw), cols: columns{fields: o.Fields, meta: o.WithMeta, esc: esc}}, nil
	case "table":
		return &tableWriter{w: bw, width: o.Width, cols: columns{fields: o.Fields, meta: o.WithMeta, esc: tableCell}}, nil
	}
	return nil, fmt.Errorf("unknown format %q (use %s)", o.Format, strings.Join(Formats, ", "))
}

// compact returns b on one line; sources are usually compact already (the
// Dashboards proxy pretty-prints them).
func compact(dst *bytes.Buffer, b []byte) []byte {
	if bytes.IndexByte(b, '\n') < 0 {
		return b
	}
	dst.Reset()
	if json.Compact(dst, b) != nil {
		return b
	}
	return dst.Bytes()
}

type ndjsonWriter struct {
	w    *bufio.Writer
	meta bool
	tmp  bytes.Buffer
}

func (n *ndjsonWriter) Write(h *Hit) error {
	src := h.Source
	if len(src) == 0 {
		src = json.RawMessage("{}")
	}
	if n.meta {
		writeMeta(n.w, h, compact(&n.tmp, src))
	} else {
		n.w.Write(compact(&n.tmp, src))
	}
	return n.w.WriteByte('\n')
}

func (n *ndjsonWriter) Close() error { return n.w.Flush() }

// writeMeta writes {"_index":…,"_id":…,"_source":…}.
func writeMeta(w *bufio.Writer, h *Hit, src []byte) {
	ix, _ := json.Marshal(h.Index)
	id, _ := json.Marshal(h.ID)
	w.WriteString(`{"_index":`)
	w.Write(ix)
	w.WriteString(`,"_id":`)
	w.Write(id)
	w.WriteString(`,"_source":`)
	w.Write(src)
	w.WriteByte('}')
}

// jsonArrayWriter writes one JSON array of hits (with _index and _id), for
// --all --format json where there is no single raw answer to print.
type jsonArrayWriter struct {
	w   *bufio.Writer
	n   int
	tmp bytes.Buffer
}

func (j *jsonArrayWriter) Write(h *Hit) error {
	if j.n == 0 {
		j.w.WriteString("[\n")
	} else {
		j.w.WriteString(",\n")
	}
	j.n++
	src := h.Source
	if len(src) == 0 {
		src = json.RawMessage("{}")
	}
	writeMeta(j.w, h, compact(&j.tmp, src))
	return nil
}

func (j *jsonArrayWriter) Close() error {
	if j.n == 0 {
		j.w.WriteString("[")
	}
	j.w.WriteString("\n]\n")
	return j.w.Flush()
}

// columns resolves the csv/table columns: --fields, else the leaf paths of
// the first hit's _source in document order (later hits' extra fields are
// not shown: a header cannot grow while streaming).
type columns struct {
	fields []string
	meta   bool
	names  []string // the fields: what rows look up
	head   []string // names as printed (escaped)
	// esc makes a cell safe for the output; text is true for a JSON
	// string (or a name, _index, _id), false for numbers, booleans, JSON.
	esc func(s string, text bool) string
}

func (c *columns) header(h *Hit) []string {
	if c.names == nil {
		if c.meta {
			c.names = append(c.names, "_index", "_id")
		}
		if c.fields != nil {
			c.names = append(c.names, c.fields...)
		} else {
			c.names = append(c.names, leafPaths(h.Source)...)
		}
		// Field names come from the documents too.
		for _, n := range c.names {
			c.head = append(c.head, c.esc(n, true))
		}
	}
	return c.head
}

func (c *columns) row(h *Hit, dst []string) []string {
	dst = dst[:0]
	fields := c.names
	if c.meta {
		dst = append(dst, c.esc(h.Index, true), c.esc(h.ID, true))
		fields = fields[2:]
	}
	src := parseObject(h.Source)
	for _, f := range fields {
		v := lookup(src, f)
		dst = append(dst, c.esc(cell(v), isString(v)))
	}
	return dst
}

func isString(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] == '"'
}

// Documents are written by whoever can write to the index (a log line is
// user input): their text must neither drive the terminal nor run in a
// spreadsheet.

// tableCell puts s on one line, with control characters made visible.
func tableCell(s string, _ bool) string { return visible(oneLine(s), false) }

// csvCell makes control characters visible (line breaks and tabs are
// data, quoted by encoding/csv) and prefixes a text cell a spreadsheet
// could run as a formula (it starts with = + - @, a tab or a CR) with '
// (OWASP's advice). Left alone: numbers, JSON's or written as text (-5,
// +3.2), and a bare @name (@timestamp, @version), which run nothing.
func csvCell(s string, text bool) string {
	s = visible(s, true)
	if text && formula(s) {
		return "'" + s
	}
	return s
}

func formula(s string) bool {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return false
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return false
	}
	if s[0] == '@' && len(s) > 1 && strings.IndexFunc(s[1:], func(r rune) bool {
		return !(r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return false
	}
	return true
}

// visible replaces control characters (C0 but, with keepSpace, tab, CR
// and LF; DEL; C1, which includes the 8-bit CSI and OSC) and bidi
// overrides, which can reorder what a terminal shows, by \xHH or \uHHHH.
// An ESC from a document can then neither recolour the terminal, set its
// title, write to the clipboard (OSC 52) nor hide text.
func visible(s string, keepSpace bool) string {
	bad := func(r rune) bool {
		switch {
		case keepSpace && (r == '\t' || r == '\n' || r == '\r'):
			return false
		case r < 0x20, r >= 0x7f && r < 0xa0:
			return true
		case r >= 0x200e && r <= 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return true
		}
		return false
	}
	if strings.IndexFunc(s, bad) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !bad(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return b.String()
}

type csvWriter struct {
	bw   *bufio.Writer
	w    *csv.Writer
	cols columns
	rec  []string
}

func (c *csvWriter) Write(h *Hit) error {
	if c.cols.names == nil {
		if err := c.w.Write(c.cols.header(h)); err != nil {
			return err
		}
	}
	c.rec = c.cols.row(h, c.rec)
	return c.w.Write(c.rec)
}

func (c *csvWriter) Close() error {
	if c.cols.names == nil && c.cols.fields != nil {
		c.w.Write(c.cols.header(&Hit{}))
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.bw.Flush()
}

// tableRows is how many rows the table buffers to size its columns before
// streaming the rest with the same widths.
const tableRows = 100

type tableWriter struct {
	w      *bufio.Writer
	width  int
	cols   columns
	buf    [][]string
	widths []int
}

func (t *tableWriter) Write(h *Hit) error {
	t.cols.header(h)
	row := t.cols.row(h, nil)
	if t.widths != nil {
		t.line(row)
		return nil
	}
	t.buf = append(t.buf, row)
	if len(t.buf) >= tableRows {
		t.flushBuf()
	}
	return nil
}

func (t *tableWriter) flushBuf() {
	t.widths = fitWidths(t.cols.head, t.buf, t.width)
	t.line(t.cols.head)
	for _, r := range t.buf {
		t.line(r)
	}
	t.buf = nil
}

func (t *tableWriter) Close() error {
	if t.widths == nil && (t.cols.names != nil || t.cols.fields != nil) {
		t.cols.header(&Hit{})
		t.flushBuf()
	}
	return t.w.Flush()
}

// line writes one row, cells padded or truncated to the column widths and
// separated by two spaces, without trailing blanks.
func (t *tableWriter) line(row []string) {
	var b strings.Builder
	for i, v := range row {
		if i > 0 {
			b.WriteString("  ")
		}
		v = truncate(v, t.widths[i])
		b.WriteString(v)
		b.WriteString(strings.Repeat(" ", t.widths[i]-utf8.RuneCountInString(v)))
	}
	t.w.WriteString(strings.TrimRight(b.String(), " "))
	t.w.WriteByte('\n')
}

// fitWidths sizes the columns to their widest cell, then, while the line is
// wider than the terminal, shrinks the widest column (never below 4).
func fitWidths(head []string, rows [][]string, width int) []int {
	w := make([]int, len(head))
	for i, h := range head {
		w[i] = utf8.RuneCountInString(h)
	}
	for _, r := range rows {
		for i, v := range r {
			w[i] = max(w[i], utf8.RuneCountInString(v))
		}
	}
	if width <= 0 {
		return w
	}
	total := func() int {
		s := 2 * (len(w) - 1)
		for _, x := range w {
			s += x
		}
		return s
	}
	for total() > width {
		// Shrink the widest column towards the next widest, so the cut
		// is shared by the long columns.
		wi, next := 0, 0
		for i := range w {
			if w[i] > w[wi] {
				wi = i
			}
		}
		for i := range w {
			if i != wi && w[i] > next {
				next = w[i]
			}
		}
		if w[wi] <= 4 {
			break
		}
		cut := min(total()-width, w[wi]-max(next, 4))
		w[wi] -= max(cut, 1)
	}
	return w
}

// truncate shortens s to n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	if n < 1 {
		return ""
	}
	return string(r[:n-1]) + "…"
}

func oneLine(s string) string {
	if !strings.ContainsAny(s, "\n\r\t") {
		return s
	}
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(s)
}

// parseObject decodes one level of a JSON object; nil when it is not one.
func parseObject(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return nil
	}
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// lookup resolves a dotted path: "a.b.c" is {"a":{"b":{"c":…}}}, and also
// {"a.b":{"c":…}} or {"a.b.c":…} since OpenSearch sources may hold dotted
// keys. Exact keys win over nesting. Through an array of objects the path
// gives the array of their values, as OpenSearch flattens it: "items.k" of
// {"items":[{"k":1},{"k":2}]} is [1,2].
func lookup(m map[string]json.RawMessage, path string) json.RawMessage {
	if m == nil {
		return nil
	}
	if v, ok := m[path]; ok {
		return v
	}
	for i := len(path) - 1; i > 0; i-- {
		if path[i] != '.' {
			continue
		}
		if v, ok := m[path[:i]]; ok {
			if r := lookupIn(v, path[i+1:]); r != nil {
				return r
			}
		}
	}
	return nil
}

// lookupIn resolves path inside an object or an array of them.
func lookupIn(v json.RawMessage, path string) json.RawMessage {
	t := bytes.TrimSpace(v)
	if len(t) == 0 || t[0] != '[' {
		return lookup(parseObject(t), path)
	}
	var elems []json.RawMessage
	if json.Unmarshal(t, &elems) != nil {
		return nil
	}
	var out []json.RawMessage
	for _, e := range elems {
		r := bytes.TrimSpace(lookupIn(e, path))
		if len(r) == 0 {
			continue
		}
		var inner []json.RawMessage
		if r[0] == '[' && json.Unmarshal(r, &inner) == nil {
			out = append(out, inner...) // flattened, like OpenSearch
			continue
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil
	}
	b, err := json.Marshal(out) // RawMessage: numbers keep their text
	if err != nil {
		return nil
	}
	return b
}

// cell renders a value for csv and table: strings unquoted, numbers as the
// server wrote them, null and missing empty, objects and arrays as compact
// JSON.
func cell(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	switch v[0] {
	case '"':
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
	case '{', '[':
		var b bytes.Buffer
		if json.Compact(&b, v) == nil {
			return b.String()
		}
	}
	return string(v)
}

// leafPaths lists the dotted paths of the leaves of a JSON object in
// document order; arrays are leaves.
func leafPaths(raw json.RawMessage) []string {
	var out []string
	var walk func(prefix string, raw json.RawMessage)
	walk = func(prefix string, raw json.RawMessage) {
		dec := json.NewDecoder(bytes.NewReader(raw))
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			if prefix != "" {
				out = append(out, prefix)
			}
			return
		}
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return
			}
			k, _ := t.(string)
			var v json.RawMessage
			if dec.Decode(&v) != nil {
				return
			}
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			v = bytes.TrimSpace(v)
			if len(v) > 0 && v[0] == '{' && len(bytes.TrimSpace(v[1:len(v)-1])) > 0 {
				walk(p, v)
			} else {
				out = append(out, p)
			}
		}
	}
	walk("", raw)
	return out
}

package config

import (
	"slices"
	"strings"
)

// The INI model shared by our profiles file and ~/.aws/config: a slice of
// lines kept verbatim, each classified once. Edits replace, insert or delete
// whole lines, so everything not edited is written back byte for byte.

type kind int

const (
	blank kind = iota
	comment
	header
	keyval
	bad
)

type line struct {
	raw    string // the text, without its line ending
	eol    string // "\n", "\r\n", or "" for a last line without one
	kind   kind
	name   string // header: the text between the brackets, trimmed
	key    string // keyval: trimmed
	value  string // keyval: trimmed
	vpos   int    // keyval: where the value starts in raw, to keep the key's spacing on edit
	indent bool   // starts with a space or tab: a sub-key or continuation in AWS files
}

type doc struct {
	bom   bool // a UTF-8 byte order mark preceded the first line
	lines []line
	nl    string // line ending for added lines: the file's own
}

const bomText = "\ufeff"

// parse splits data into lines. delims are the key/value separators: "=" for
// our file; "=:" for AWS files, whose parser (Python's configparser) also
// accepts a colon.
func parse(data []byte, delims string) *doc {
	s := string(data)
	d := &doc{nl: "\n"}
	if rest, ok := strings.CutPrefix(s, bomText); ok {
		d.bom, s = true, rest
	}
	d.lines = make([]line, 0, strings.Count(s, "\n")+1)
	for s != "" {
		raw, eol := s, ""
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			raw, eol, s = s[:i], "\n", s[i+1:]
		} else {
			s = ""
		}
		if r, ok := strings.CutSuffix(raw, "\r"); ok && eol != "" {
			raw, eol = r, "\r\n"
		}
		if eol == "\r\n" && len(d.lines) == 0 {
			d.nl = eol
		}
		d.lines = append(d.lines, classify(raw, eol, delims))
	}
	return d
}

func classify(raw, eol, delims string) line {
	l := line{raw: raw, eol: eol}
	t := strings.TrimSpace(raw)
	l.indent = t != "" && (raw[0] == ' ' || raw[0] == '\t')
	switch {
	case t == "":
		l.kind = blank
	case t[0] == '#' || t[0] == ';':
		l.kind = comment
	case t[0] == '[':
		end := strings.IndexByte(t, ']')
		rest := ""
		if end > 0 {
			rest = strings.TrimSpace(t[end+1:])
		}
		if end < 0 || (rest != "" && rest[0] != '#' && rest[0] != ';') {
			l.kind = bad
			break
		}
		l.kind, l.name = header, strings.TrimSpace(t[1:end])
	default:
		i := strings.IndexAny(raw, delims)
		if i < 0 || strings.TrimSpace(raw[:i]) == "" {
			l.kind = bad
			break
		}
		l.kind, l.key = keyval, strings.TrimSpace(raw[:i])
		l.vpos = i + 1
		for l.vpos < len(raw) && (raw[l.vpos] == ' ' || raw[l.vpos] == '\t') {
			l.vpos++
		}
		l.value = strings.TrimSpace(raw[l.vpos:])
	}
	return l
}

func (d *doc) bytes() []byte {
	var b strings.Builder
	if d.bom {
		b.WriteString(bomText)
	}
	for _, l := range d.lines {
		b.WriteString(l.raw)
		b.WriteString(l.eol)
	}
	return []byte(b.String())
}

// find returns the index of the first header for which match is true, or -1.
func (d *doc) find(match func(name string) bool) int {
	for i, l := range d.lines {
		if l.kind == header && match(l.name) {
			return i
		}
	}
	return -1
}

// end returns the index just past the section whose header is at h.
func (d *doc) end(h int) int {
	for i := h + 1; i < len(d.lines); i++ {
		if d.lines[i].kind == header {
			return i
		}
	}
	return len(d.lines)
}

// insert adds a line before index i, giving the line before it a line ending
// if it was the file's unterminated last line.
func (d *doc) insert(i int, raw string) {
	if i > 0 && d.lines[i-1].eol == "" {
		d.lines[i-1].eol = d.nl
	}
	d.lines = slices.Insert(d.lines, i, classify(raw, d.nl, "="))
}

// addSection appends a header, after a blank line unless the file is empty
// or already ends with one, and returns its index.
func (d *doc) addSection(name string) int {
	if n := len(d.lines); n > 0 && d.lines[n-1].kind != blank {
		d.insert(n, "")
	}
	d.insert(len(d.lines), "["+name+"]")
	return len(d.lines) - 1
}

// setKey updates, adds or (value "") deletes a key in the section at h.
// is picks the key's line; the first such line is edited. A new key goes
// after the section's last key, so comments that introduce the next section
// stay with it.
func (d *doc) setKey(h int, key, value string, is func(line) bool) {
	end, last := d.end(h), h
	for i := h + 1; i < end; i++ {
		l := d.lines[i]
		if l.kind != keyval {
			continue
		}
		last = i
		if !is(l) {
			continue
		}
		if value == "" {
			d.lines = slices.Delete(d.lines, i, i+1)
			return
		}
		prefix := l.raw[:l.vpos]
		if l.value == "" && !strings.HasSuffix(prefix, " ") && !strings.HasSuffix(prefix, "\t") {
			prefix += " "
		}
		d.lines[i].raw, d.lines[i].value = prefix+value, value
		return
	}
	if value != "" {
		d.insert(last+1, key+" = "+value)
	}
}

// deleteSection removes the section at h together with the comment lines
// directly above its header; comment lines directly above the next header
// belong to that section and stay.
func (d *doc) deleteSection(h int) {
	from, to := h, d.end(h)
	for from > 0 && d.lines[from-1].kind == comment {
		from--
	}
	if to < len(d.lines) {
		for to-1 > h && d.lines[to-1].kind == comment {
			to--
		}
	} else {
		// Last section: also drop the blank lines that separated it.
		for from > 0 && d.lines[from-1].kind == blank {
			from--
		}
	}
	d.lines = slices.Delete(d.lines, from, to)
	if n := len(d.lines); n > 0 && d.lines[n-1].eol == "" {
		d.lines[n-1].eol = d.nl
	}
}

package config

import (
	"bytes"
	"testing"
)

// FuzzINI: any bytes parse without panic and are written back byte for
// byte; the checks never panic; setting a key in a section leaves a file
// that reads back with that value; deleting a section leaves one header
// fewer.
func FuzzINI(f *testing.F) {
	for _, seed := range []string{
		"", "\n", "\r\n", "\ufeff[default]\nprovider = keycloak\n",
		"[profile a]\r\nurl=https://x\r\n# c\r\n\r\n[profile b]\nregion = eu-west-1",
		"key = outside\n[bad\n", "[default] # c\n  indented = 1\n;x\n[profile  sp ]\n",
		"[profile a]\nurl:=\n=\n[]\n[profile]\n\x00\r",
		"[default]\ns3 =\n  max_concurrent_requests = 20\nregion: us-east-1\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, delims := range []string{"=", "=:"} {
			d := parse(data, delims)
			if got := d.bytes(); !bytes.Equal(got, data) {
				t.Fatalf("round trip (%q): %q -> %q", delims, data, got)
			}
		}
		file := &File{path: "fuzz", doc: parse(data, "="), heads: map[string]int{}}
		_ = file.check()

		d := parse(data, "=")
		h := d.find(func(string) bool { return true })
		if h < 0 {
			h = d.addSection("default")
		}
		name := d.lines[h].name
		headers := countHeaders(d)
		d.setKey(h, "region", "eu-west-1", func(l line) bool { return l.key == "region" })
		back := parse(d.bytes(), "=")
		hb := back.find(func(n string) bool { return n == name })
		found := false
		for i, end := hb+1, back.end(hb); hb >= 0 && i < end; i++ {
			if l := back.lines[i]; l.kind == keyval && l.key == "region" {
				found = l.value == "eu-west-1"
				break
			}
		}
		if !found || countHeaders(back) != headers {
			t.Fatalf("set region in [%s] of %q: got %q", name, data, d.bytes())
		}
		back.deleteSection(hb)
		if n := countHeaders(parse(back.bytes(), "=")); n != headers-1 {
			t.Fatalf("delete [%s] of %q: %d headers left, want %d: %q", name, data, n, headers-1, back.bytes())
		}
	})
}

func countHeaders(d *doc) int {
	n := 0
	for _, l := range d.lines {
		if l.kind == header {
			n++
		}
	}
	return n
}

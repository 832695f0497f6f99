package idp

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/saml2sts/saml2sts/internal/httpx"
)

var (
	// inputTag is an <input ...> tag, quoted attribute values may hold '>'.
	inputTag = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)<input\b(?:[^>"']|"[^"]*"|'[^']*')*>`) })
	// attr is one attribute inside a tag; group 2 is the raw value.
	attr = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`([^\s"'<>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>` + "`" + `]+))?`)
	})
	// urlAttr is an attribute holding a URL whose query may carry session codes.
	urlAttr = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)(\b(?:action|href|src|formaction)\s*=\s*["']?[^"'\s>?]*)\?[^"'\s>]*`)
	})
	// absURL and pathURL catch URLs in scripts and text (history.replaceState ...).
	absURL  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)(https?://[^\s"'<>?#]*)\?[^\s"'<>]*`) })
	pathURL = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(["'])(/[^\s"'<>?#]*)\?[^\s"'<>]*(["'])`) })
	// blob is a base64 or base64url run longer than 200 characters: an
	// assertion, a token or a state blob, whatever its surroundings.
	blob = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[A-Za-z0-9+/_-]{201,}={0,2}`) })
)

const redacted = "REDACTED"

// RedactPage returns a copy of an HTML page that is safe to keep for
// debugging: values of hidden and secret-looking inputs (passwords,
// SAMLResponse, RelayState, one-time codes), query strings of URLs, and
// long base64 runs are replaced with REDACTED. It works on the text, so
// the rest of the page stays as the IdP sent it.
func RedactPage(body []byte) []byte {
	s := inputTag().ReplaceAllStringFunc(string(body), redactInput)
	s = urlAttr().ReplaceAllString(s, "${1}?"+redacted)
	s = absURL().ReplaceAllString(s, "${1}?"+redacted)
	s = pathURL().ReplaceAllString(s, "${1}${2}?"+redacted+"${3}")
	s = blob().ReplaceAllString(s, redacted)
	return []byte(s)
}

// redactInput blanks the value of one input tag when the input looks secret.
func redactInput(tag string) string {
	var name, typ string
	var val []int // start and end of the value, quotes excluded
	for _, m := range attr().FindAllStringSubmatchIndex(tag[len("<input"):], -1) {
		off := len("<input")
		key := strings.ToLower(tag[off+m[2] : off+m[3]])
		if m[4] < 0 {
			continue
		}
		start, end := off+m[4], off+m[5]
		if q := tag[start]; q == '"' || q == '\'' {
			start, end = start+1, end-1
		}
		switch key {
		case "name":
			name = tag[start:end]
		case "type":
			typ = strings.ToLower(tag[start:end])
		case "value":
			val = []int{start, end}
		}
	}
	if val == nil || val[0] == val[1] {
		return tag
	}
	if typ == "password" || typ == "hidden" || httpx.IsSecretParam(name) {
		return tag[:val[0]] + redacted + tag[val[1]:]
	}
	return tag
}

// DirDebugger is the [Debugger] for --debug: it keeps redacted copies of
// unexpected pages in Dir (created 0700 when missing; files are 0600) and
// reports each save, or the failure to save, on W. With Dir empty, a new
// saml2sts-debug-* dir is made in Parent at the first save, so a run that
// saves nothing leaves nothing behind. Use it through a pointer.
type DirDebugger struct {
	Dir    string    // where pages go; empty: a new dir in Parent
	Parent string    // where that dir goes; empty: os.TempDir()
	W      io.Writer // where saves are reported; may be nil

	mu sync.Mutex
}

// SavePage implements [Debugger].
func (d *DirDebugger) SavePage(name string, body []byte) string {
	dir, err := d.dir()
	if err != nil {
		d.logf("debug: cannot save page %s: %v\n", name, err)
		return ""
	}
	f, err := os.CreateTemp(dir, fileName(name)+"-*.html") // CreateTemp uses mode 0600
	if err != nil {
		d.logf("debug: cannot save page %s: %v\n", name, err)
		return ""
	}
	_, werr := f.Write(RedactPage(body))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(f.Name())
		d.logf("debug: cannot save page %s: %v\n", name, werr)
		return ""
	}
	d.logf("debug: saved a redacted copy of page %s to %s\n", name, f.Name())
	return f.Name()
}

// dir returns the dir pages go to, creating it on first use.
func (d *DirDebugger) dir() (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.Dir == "" {
		dir, err := os.MkdirTemp(d.Parent, "saml2sts-debug-") // mode 0700
		if err != nil {
			return "", err
		}
		d.Dir = dir
		return dir, nil
	}
	return d.Dir, os.MkdirAll(d.Dir, 0o700)
}

func (d *DirDebugger) logf(format string, a ...any) {
	if d.W != nil {
		fmt.Fprintf(d.W, format, a...)
	}
}

// fileName keeps a page name usable as a file name on every OS.
func fileName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	if b.Len() == 0 {
		return "page"
	}
	return b.String()
}

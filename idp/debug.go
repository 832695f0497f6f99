package idp

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"

	"golang.org/x/net/html"

	"github.com/saml2sts/saml2sts/internal/httpx"
)

var (
	// absURL and pathURL catch URLs in scripts and text (history.replaceState ...).
	absURL  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)(https?://[^\s"'<>?#]*)\?[^\s"'<>]*`) })
	pathURL = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(["'])(/[^\s"'<>?#]*)\?[^\s"'<>]*(["'])`) })
	// blob is a base64 or base64url run longer than 200 characters: an
	// assertion, a token or a state blob, whatever its surroundings.
	blob = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[A-Za-z0-9+/_-]{201,}={0,2}`) })
)

const redacted = httpx.Redacted

// urlAttrs hold URLs whose query may carry session codes.
var urlAttrs = map[string]bool{"action": true, "href": true, "src": true, "formaction": true}

// RedactPage returns a copy of an HTML page that is safe to keep for
// debugging: values of hidden and secret-looking inputs (passwords,
// SAMLResponse, RelayState, one-time codes), query strings of URLs, and
// long base64 runs are replaced with REDACTED.
//
// Which input is secret and which of its attributes counts (the first of
// duplicates, as browsers and [ParseForm] read them) is decided by the
// HTML tokenizer the form parser is built on; only the tags and text it
// changes are rewritten, so the rest of the page stays as the IdP sent
// it. The result is then parsed as [ParseForm] would: should the parser
// still see a secret input's value (markup where parser and tokenizer
// part ways), the page is rebuilt from the parsed tree instead, and
// withheld when even that fails.
func RedactPage(body []byte) []byte {
	if out := redactTokens(body); !leaksInput(out) {
		return out
	}
	if out := redactTree(body); out != nil && !leaksInput(out) {
		return out
	}
	return []byte("<!-- saml2sts: this page could not be redacted safely, so it was not kept -->\n")
}

// SecretInput reports whether an input with these attributes (first of
// each name wins) holds a value that must not be kept: passwords, hidden
// state and anything whose name looks secret.
func SecretInput(attrs []html.Attribute) bool {
	typ := strings.ToLower(strings.TrimSpace(attrValue(attrs, "type")))
	return typ == "password" || typ == "hidden" || httpx.IsSecretParam(attrValue(attrs, "name"))
}

// attrValue is the value of the first attribute key, as goquery's Attr.
func attrValue(attrs []html.Attribute, key string) string {
	for _, a := range attrs {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

// redactTag redacts the attributes of one tag in place and reports
// whether any changed.
func redactTag(tag string, attrs []html.Attribute) bool {
	secret := tag == "input" && SecretInput(attrs)
	changed := false
	for i := range attrs {
		a := &attrs[i]
		v := a.Val
		switch {
		case secret && a.Key == "value":
			if v != "" {
				v = redacted // every duplicate too: whichever a reader takes
			}
		case urlAttrs[a.Key]:
			if q := strings.IndexByte(v, '?'); q >= 0 {
				v = v[:q] + "?" + redacted
			}
			v = redactText(v)
		default:
			v = redactText(v)
		}
		if v != a.Val {
			a.Val, changed = v, true
		}
	}
	return changed
}

// redactTokens rewrites the tags and text of body that hold secrets,
// token by token; everything else is copied byte for byte.
func redactTokens(body []byte) []byte {
	z := html.NewTokenizer(bytes.NewReader(body))
	var b bytes.Buffer
	b.Grow(len(body))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			b.Write(z.Raw()) // what is left, if the error is not EOF
			return b.Bytes()
		}
		raw := z.Raw()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			rawCopy := append([]byte(nil), raw...)
			tok := z.Token()
			if redactTag(tok.Data, tok.Attr) {
				renderTag(&b, tok)
			} else {
				b.Write(rawCopy)
			}
		case html.TextToken, html.CommentToken:
			b.WriteString(redactText(string(raw)))
		default:
			b.Write(raw)
		}
	}
}

// renderTag writes a start tag as the tokenizer will read it back:
// values double-quoted, with only what ends or changes them escaped.
func renderTag(b *bytes.Buffer, tok html.Token) {
	b.WriteByte('<')
	b.WriteString(tok.Data)
	for _, a := range tok.Attr {
		b.WriteByte(' ')
		b.WriteString(a.Key)
		b.WriteString(`="`)
		b.WriteString(attrEscape.Replace(a.Val))
		b.WriteByte('"')
	}
	if tok.Type == html.SelfClosingTagToken {
		b.WriteByte('/')
	}
	b.WriteByte('>')
}

var attrEscape = strings.NewReplacer("&", "&amp;", `"`, "&quot;")

// redactText hides URL queries and long base64 runs in text, keeping what
// makes markup: a match right after '<' is left alone (replacing it would
// make a tag), and the '-' and '!' a match starts or ends with stay, so
// comment and script-escape delimiters (<!--, -->, --!>) survive.
func redactText(s string) string {
	s = replaceSafe(absURL(), s, "${1}?"+redacted)
	s = replaceSafe(pathURL(), s, "${1}${2}?"+redacted+"${3}")
	return replaceSafe(blob(), s, redacted)
}

func replaceSafe(re *regexp.Regexp, s, template string) string {
	ms := re.FindAllStringSubmatchIndex(s, -1)
	if ms == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range ms {
		start, end := m[0], m[1]
		if start > 0 && s[start-1] == '<' {
			continue
		}
		lead, trail := start, end
		for lead < end && (s[lead] == '-' || s[lead] == '!') {
			lead++
		}
		for trail > lead && (s[trail-1] == '-' || s[trail-1] == '!') {
			trail--
		}
		b.WriteString(s[last:lead])
		b.Write(re.ExpandString(nil, template, s, m))
		last = trail
	}
	b.WriteString(s[last:])
	return b.String()
}

// leaksInput parses page as [ParseForm] does and reports whether any
// secret input still has a value other than REDACTED.
func leaksInput(page []byte) bool {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return true
	}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "input" && SecretInput(n.Attr) {
			if v := attrValue(n.Attr, "value"); v != "" && v != redacted {
				return true
			}
		}
	}
	return false
}

// redactTree redacts the parsed page and renders it: the fallback for
// pages whose markup the tokenizer pass cannot redact safely.
func redactTree(body []byte) []byte {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return nil
	}
	for n := range doc.Descendants() {
		switch n.Type {
		case html.ElementNode:
			redactTag(n.Data, n.Attr)
		case html.TextNode, html.CommentNode:
			n.Data = redactText(n.Data)
		}
	}
	var b bytes.Buffer
	if html.Render(&b, doc) != nil {
		return nil
	}
	return b.Bytes()
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

package httpx

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Redacted replaces every secret that is scrubbed.
const Redacted = "REDACTED"

// minCookieSecret is the shortest cookie value taken for a secret: shorter
// ones are flags ("1", "en-US"), and scrubbing them would garble the trace.
const minCookieSecret = 8

// Secrets is the set of secret values one login knows (password, codes,
// tokens, session cookies), so that text can be scrubbed by value whatever
// the field or header carrying it is called. The zero value is empty and
// ready; a nil *Secrets scrubs nothing. Safe for concurrent use.
type Secrets struct {
	mu   sync.RWMutex
	vals map[string]bool
	rep  *strings.Replacer // built on first Scrub after a change
}

// Add remembers values ("" is ignored).
func (s *Secrets) Add(vals ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vals {
		if v == "" || s.vals[v] {
			continue
		}
		if s.vals == nil {
			s.vals = map[string]bool{}
		}
		s.vals[v] = true
		s.rep = nil
	}
}

// AddCookies remembers the values of the cookies a request sends and a
// response sets (either may be nil), when long enough to be a session.
func (s *Secrets) AddCookies(r *http.Request, resp *http.Response) {
	if s == nil {
		return
	}
	var cs []*http.Cookie
	if r != nil {
		cs = r.Cookies()
	}
	if resp != nil {
		cs = append(cs, resp.Cookies()...)
	}
	for _, c := range cs {
		if len(c.Value) >= minCookieSecret {
			s.Add(c.Value)
		}
	}
}

// Contains reports whether text holds any secret in any of the encodings
// Scrub knows.
func (s *Secrets) Contains(text string) bool { return s != nil && s.Scrub(text) != text }

// Scrub replaces every secret in text with REDACTED: as is, URL-encoded
// (query with '+' and path style, either hex case), HTML-escaped (named
// or numeric entities), JSON- and JavaScript-escaped (\", \/, \u00XX,
// \xHH) and in base64 (standard and URL alphabets).
func (s *Secrets) Scrub(text string) string {
	if s == nil || text == "" {
		return text
	}
	s.mu.RLock()
	rep, n := s.rep, len(s.vals)
	s.mu.RUnlock()
	if n == 0 {
		return text
	}
	if rep == nil {
		s.mu.Lock()
		if s.rep == nil {
			s.rep = newScrubber(s.vals)
		}
		rep = s.rep
		s.mu.Unlock()
	}
	return rep.Replace(text)
}

// newScrubber is a Replacer of every encoding of every value, longest
// first so that a longer form is never left half replaced by a shorter.
func newScrubber(vals map[string]bool) *strings.Replacer {
	seen := map[string]bool{}
	var forms []string
	for v := range vals {
		for _, f := range Encodings(v) {
			if f != "" && !seen[f] {
				seen[f] = true
				forms = append(forms, f)
			}
		}
	}
	sort.Slice(forms, func(i, j int) bool {
		if len(forms[i]) != len(forms[j]) {
			return len(forms[i]) > len(forms[j])
		}
		return forms[i] < forms[j]
	})
	args := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		args = append(args, f, Redacted)
	}
	return strings.NewReplacer(args...)
}

// Encodings lists the forms v takes in URLs, pages and scripts (see
// [Secrets.Scrub]); v itself first.
func Encodings(v string) []string {
	j, _ := json.Marshal(v) // escapes <, >, & as \u003c ...
	jsonStr := strings.Trim(string(j), `"`)
	var plain strings.Builder
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	plainStr := strings.Trim(strings.TrimSpace(plain.String()), `"`)
	b := []byte(v)
	forms := []string{v,
		url.QueryEscape(v), lowerHex(url.QueryEscape(v)),
		url.PathEscape(v), lowerHex(url.PathEscape(v)),
		strings.ReplaceAll(url.QueryEscape(v), "+", "%20"), // encodeURIComponent
		html.EscapeString(v), htmlEntities.Replace(v),
		jsonStr, plainStr, strings.ReplaceAll(plainStr, "/", `\/`), strings.ReplaceAll(jsonStr, "/", `\/`),
		base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
	}
	// Character references and escapes, of the special characters only or
	// of every character (as some encoders write them).
	for _, all := range []bool{false, true} {
		forms = append(forms, escapeEach(v, "&#%d;", false, all), escapeEach(v, "&#x%x;", false, all), escapeEach(v, "&#x%X;", false, all),
			escapeEach(v, `\u%04x`, false, all), escapeEach(v, `\u%04X`, false, all),
			escapeEach(v, `\x%02x`, true, all), escapeEach(v, `\x%02X`, true, all))
	}
	return forms
}

// htmlEntities is the other common HTML escaping (Keycloak's FreeMarker,
// PHP's htmlspecialchars): named &quot; and &#39;.
var htmlEntities = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

// lowerHex lower-cases the hex digits of %XX escapes.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			for k := i + 1; k <= i+2; k++ {
				if b[k] >= 'A' && b[k] <= 'F' {
					b[k] += 'a' - 'A'
				}
			}
		}
	}
	return string(b)
}

// escapeEach writes the characters of v in format: all of them, or all but
// ASCII letters and digits; per UTF-8 byte when bytes (JavaScript \xHH,
// as Okta writes its stateToken), else per character (HTML &#NN;) or, for
// \u formats, per UTF-16 unit.
func escapeEach(v, format string, bytes, all bool) string {
	var b strings.Builder
	if bytes {
		for i := 0; i < len(v); i++ {
			if !all && isAlnum(rune(v[i])) {
				b.WriteByte(v[i])
			} else {
				fmt.Fprintf(&b, format, v[i])
			}
		}
		return b.String()
	}
	utf16 := strings.HasPrefix(format, `\u`)
	for _, r := range v {
		switch {
		case !all && isAlnum(r):
			b.WriteRune(r)
		case utf16 && r >= 0x10000 && r <= utf8.MaxRune:
			r -= 0x10000
			fmt.Fprintf(&b, format, 0xD800+(r>>10))
			fmt.Fprintf(&b, format, 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&b, format, r)
		}
	}
	return b.String()
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

type secretsKey struct{}

// WithSecrets returns ctx carrying s: the trace of requests made with it
// scrubs s's values from every line.
func WithSecrets(ctx context.Context, s *Secrets) context.Context {
	return context.WithValue(ctx, secretsKey{}, s)
}

// SecretsFrom returns the Secrets ctx carries, or nil.
func SecretsFrom(ctx context.Context) *Secrets {
	s, _ := ctx.Value(secretsKey{}).(*Secrets)
	return s
}

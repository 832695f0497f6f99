package opensearch

import (
	"bytes"
	"encoding/json"
	"net"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/saml2sts/saml2sts/internal/httpx"
)

// FuzzParseEndpoint: whatever is typed, an accepted endpoint is https (or
// http to loopback), has no credentials, query or fragment, a known
// service and a region, and parses again to itself.
func FuzzParseEndpoint(f *testing.F) {
	for _, s := range [][3]string{
		{"https://search-logs-abc123.eu-west-1.es.amazonaws.com/", "", ""},
		{"abc123xyz.aoss.ap-southeast-2.on.aws", "auto", ""},
		{"http://127.0.0.1:9200/base/", "es", "eu-west-1"},
		{"http://idp.localhost:1", "aoss", "us-east-1"},
		{"https://user:pw@host.example?x#y", "es", "eu-west-1"},
		{"https://[::1]:443/_dashboards", "", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, raw, service, region string) {
		ep, err := ParseEndpoint(raw, service, region)
		if err != nil {
			if _, ok := err.(*EndpointError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		u := ep.URL
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Host == "" ||
			!(u.Scheme == "https" || u.Scheme == "http" && httpx.IsLoopback(u.Hostname())) {
			t.Fatalf("accepted %q as %s", raw, u)
		}
		if ep.Service != ServiceES && ep.Service != ServiceAOSS || !regionRe().MatchString(ep.Region) {
			t.Fatalf("accepted %q with service %q, region %q", raw, ep.Service, ep.Region)
		}
		if _, _, err := net.SplitHostPort(u.Host); err != nil && strings.Contains(u.Host, ":") && !strings.HasPrefix(u.Host, "[") {
			t.Fatalf("host %q is ambiguous", u.Host)
		}
		again, err := ParseEndpoint(u.String(), ep.Service, ep.Region)
		if err != nil || again.URL.String() != u.String() || again.Service != ep.Service || again.Region != ep.Region {
			t.Fatalf("%q -> %s does not parse to itself: %v", raw, u, err)
		}
	})
}

// FuzzDecodePage: the hit scanner never panics, and where encoding/json
// reads a page unambiguously (no repeated or case-folded keys, valid UTF-8:
// encoding/json turns invalid bytes into U+FFFD where the scanner passes
// them on as the server sent them) the scanner reads the same page.
func FuzzDecodePage(f *testing.F) {
	for _, c := range pageCorpus {
		f.Add([]byte(c))
	}
	f.Add([]byte(`{"hits":{"hits":[]},"hits":{"hits":[{"_id":"x"}]}}`))
	f.Add([]byte(`{"HITS":{"hits":[{"_id":"x"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got page
		err := decodePage(data, &got)
		if !utf8.Valid(data) {
			return // no panic is all that is asked; the two readers differ by design
		}
		want, werr := refDecode(data)
		if werr != nil || !plainKeys(data) {
			return
		}
		if err != nil {
			t.Fatalf("scanner rejects what encoding/json reads: %v\n%q", err, data)
		}
		if !reflect.DeepEqual(norm(got), norm(want)) {
			t.Fatalf("%q:\nscanner %s\njson    %s", data, norm(got), norm(want))
		}
	})
}

// plainKeys reports whether no object in data repeats a key and no key
// differs from one the page reads only in case (encoding/json folds case,
// the server never sends such keys).
func plainKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []map[string]bool // keys per open object; nil for arrays
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return true
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, map[string]bool{})
				expectKey = true
				continue
			case '[':
				stack = append(stack, nil)
			case '}', ']':
				stack = stack[:len(stack)-1]
			}
		case string:
			if expectKey {
				keys := stack[len(stack)-1]
				k := strings.ToLower(v)
				if keys[k] {
					return false
				}
				keys[k] = true
				switch k {
				case "_scroll_id", "pit_id", "hits", "total", "_index", "_id", "_source", "sort":
					if k != v {
						return false
					}
				}
				expectKey = false
				continue
			}
		}
		// After a value inside an object, the next string is a key.
		expectKey = len(stack) > 0 && stack[len(stack)-1] != nil
	}
}

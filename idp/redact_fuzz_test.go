package idp

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// input is one input element as form discovery reads it (goquery, first
// attribute of each name).
type input struct {
	name, value string
	secret      bool
}

func inputsOf(t *testing.T, page []byte) []input {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []input
	doc.Find("input").Each(func(_ int, s *goquery.Selection) {
		out = append(out, input{name: s.AttrOr("name", ""), value: s.AttrOr("value", ""), secret: SecretInput(s.Nodes[0].Attr)})
	})
	return out
}

// checkAgreement fails when form discovery finds, in the redacted copy of
// page, a secret input with a value, or any secret value of the original.
func checkAgreement(t *testing.T, page []byte) []byte {
	t.Helper()
	out := RedactPage(page)
	before, after := inputsOf(t, page), inputsOf(t, out)
	secret, plain := map[string]bool{}, map[string]bool{}
	for _, in := range before {
		if in.secret {
			secret[in.value] = true
		} else {
			plain[in.value] = true
		}
	}
	for _, in := range after {
		if in.secret && in.value != "" && in.value != redacted {
			t.Fatalf("redacted page keeps secret input %q = %q\npage: %q\nredacted: %q", in.name, in.value, page, out)
		}
		if !in.secret && secret[in.value] && !plain[in.value] && in.value != redacted {
			t.Fatalf("redacted page shows the secret value %q in input %q\npage: %q\nredacted: %q", in.value, in.name, page, out)
		}
	}
	doc, _ := goquery.NewDocumentFromReader(bytes.NewReader(out))
	doc.Find("form").Each(func(_ int, s *goquery.Selection) {
		for name, vs := range ParseForm(&Page{Doc: doc}, s).Values {
			for _, v := range vs {
				if v != "" && secret[v] && !plain[v] && v != redacted {
					t.Fatalf("form discovery on the redacted page finds secret value %q (field %q)\npage: %q\nredacted: %q", v, name, page, out)
				}
			}
		}
	})
	return out
}

// TestRedactPageAgreesWithParseForm: duplicate attributes and stray quotes
// are read the same way by redaction and form discovery.
func TestRedactPageAgreesWithParseForm(t *testing.T) {
	for _, page := range []string{
		`<form><input type="hidden" name="tok" value="SECRET1" value=""></form>`,
		`<form><input type="hidden" type="text" name="x" value="SECRET2"></form>`,
		`<form><input name="a"" type="hidden" value="SECRET3"></form>`,
		`<form><input type=hidden value='SECRET4' name=x'></form>`,
		`<form><input type="text" name="password" NAME="user" value="SECRET5"></form>`,
		`<form><input value="SECRET6" type = "password" value="x"></form>`,
		`<form><svg><title><input type="hidden" name="t" value="SECRET7"></title></svg></form>`,
		`<form><input type="hidden" name="t" value="SECRET8"` + "\x00" + `></form>`,
		`<!-- https://x.example/?a=1--><form><input type="hidden" name="t" value="SECRET9"></form>`,
	} {
		out := checkAgreement(t, []byte(page))
		for i := 1; i <= 9; i++ {
			if s := "SECRET" + string(rune('0'+i)); strings.Contains(page, s) && bytes.Contains(out, []byte(s)) {
				t.Errorf("%q kept %s: %q", page, s, out)
			}
		}
	}
	// What is not secret survives, where it was.
	page := `<form><input type="text" name="username" value="ana" value="bob"><input type="hidden" name="h" value=""></form>`
	if out := RedactPage([]byte(page)); string(out) != page {
		t.Errorf("an input without secrets changed: %q", out)
	}
}

// FuzzRedactPage: for any page, form discovery on the redacted copy finds
// no secret input value, and redaction never panics.
func FuzzRedactPage(f *testing.F) {
	for _, s := range []string{
		`<form action="/x?code=1"><input type="password" name="pwd" value="hunter2"><input name="login" value="ana"></form>`,
		`<form><input type="hidden" name="tok" value="SECRET1" value=""></form>`,
		`<form><input name="a"" type="hidden" value="S"></form>`,
		`<svg><title><input type="hidden" value="S"></title></svg>`,
		`<script><!--<script></script><input type=hidden value=S>--></script>`,
		`<!-- https://a.example/?q--!><input type=hidden value=S>`,
		`<p><-` + strings.Repeat("A", 210) + `<input type=hidden value=S>`,
		`<textarea><input type=hidden value=S></textarea><input type=hidden value=T>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, page []byte) {
		if len(page) > 1<<16 {
			return
		}
		checkAgreement(t, page)
		if _, err := html.Parse(bytes.NewReader(RedactPage(page))); err != nil {
			t.Fatalf("redacted page does not parse: %v", err)
		}
	})
}

// TestRedactPageKeepsRealPages: on every captured IdP page the token pass
// suffices (no rebuilt or withheld copy), and only what it redacts changes.
func TestRedactPageKeepsRealPages(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.html")
	more, _ := filepath.Glob("form/testdata/*.html")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, p := range append(files, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out := redactTokens(b)
		if leaksInput(out) {
			t.Errorf("%s: the token pass leaves a secret input", p)
		}
		if got := RedactPage(b); !bytes.Equal(got, out) {
			t.Errorf("%s: RedactPage did not keep the token pass", p)
		}
		checkAgreement(t, b)
	}
}

package idp

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// page parses a fixture as if it had been fetched from at.
func page(t *testing.T, file, at string) *Page {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "keycloak", file))
	if err != nil {
		t.Fatal(err)
	}
	return pageOf(t, string(b), at)
}

func pageOf(t *testing.T, html, at string) *Page {
	t.Helper()
	u, err := url.Parse(at)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatal(err)
	}
	doc.Url = u
	return &Page{URL: u, Status: 200, Body: []byte(html), Doc: doc}
}

func TestParseFormFixtures(t *testing.T) {
	tests := []struct {
		file, sel  string
		wantAction string
		wantValues url.Values
	}{
		{
			file:       "loginpage.html",
			sel:        "form#kc-form-login",
			wantAction: "https://id.example.com/auth/realms/master/login-actions/authenticate?code=G5PSj-AJ7mC2wRS5yOA5NEGZ7BO97Y0_qUkS5zInmhQ&execution=e0c4f6fe-6f9a-435e-a7ff-d61eb2456d58&client_id=urn%3Aamazon%3Awebservices",
			// password has no value attribute, rememberMe is unchecked, login is a submit.
			wantValues: url.Values{"username": {""}},
		},
		{
			file:       "authError-invalidPassword-v2.html",
			sel:        "form#kc-form-login",
			wantAction: "https://my.domain/realms/internal/login-actions/authenticate?session_code=sessionId&execution=uuid&client_id=urn%3Aamazon%3Awebservices&tab_id=tabId&client_data=clientData",
			wantValues: url.Values{"username": {"aorlovskiy"}, "password": {""}},
		},
		{
			file:       "loginpage-another-way.html",
			sel:        "form#kc-select-try-another-way-form",
			wantAction: "https://id.example.com/auth/realms/master/login-actions/authenticate?code=G5PSj-AJ7mC2wRS5yOA5NEGZ7BO97Y0_qUkS5zInmhQ&execution=e0c4f6fe-6f9a-435e-a7ff-d61eb2456d58&client_id=urn%3Aamazon%3Awebservices",
			wantValues: url.Values{"tryAnotherWay": {"on"}},
		},
		{
			file:       "mfapage2authenticators.html",
			sel:        "form",
			wantAction: "https://id.example.com/auth/realms/master/login-actions/authenticate?code=1SYK2D1kwKyOO7JyriHDfP_e9-rNes91_uzfqi8Dc94&execution=a718db5b-6d9e-40a2-a895-4f4505e6f464&client_id=urn%3Aamazon%3Awebservices",
			wantValues: url.Values{"selectedCredentialId": {"aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"}},
		},
		{
			file:       "assertion.html",
			sel:        "form",
			wantAction: "https://signin.aws.amazon.com/saml",
			wantValues: url.Values{"SAMLResponse": {"abc123"}},
		},
		{
			file:       "webauthnPage.html",
			sel:        "form#webauth",
			wantAction: "http://localhost:18080/auth/realms/users/login-actions/authenticate?session_code=cAvKCM1_ncyromQzW3CdxxpRwCh3cVKhFztJ-i5WUjY&execution=1d68fdff-aa94-4e0e-9fd5-852e8002ae92&client_id=urn%3Aamazon%3Awebservices&tab_id=_MjbKy0M1eA",
			wantValues: url.Values{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := page(t, tt.file, "https://id.example.com/start")
			f := ParseForm(p, p.Doc.Find(tt.sel))
			if f == nil {
				t.Fatal("no form")
			}
			if f.Action != tt.wantAction {
				t.Errorf("Action = %s\nwant     %s", f.Action, tt.wantAction)
			}
			if f.Method != "POST" {
				t.Errorf("Method = %s, want POST", f.Method)
			}
			if !reflect.DeepEqual(f.Values, tt.wantValues) {
				t.Errorf("Values = %v, want %v", f.Values, tt.wantValues)
			}
		})
	}
}

func TestParseFormRules(t *testing.T) {
	const html = `<html><body>
<form id="f" method="get" action="../next?x=1&amp;y=2">
  <input name="text" value="a b">
  <input name="novalue" type="text">
  <input value="nameless">
  <input name="hidden" type="HIDDEN" value="h">
  <input name="off" type="hidden" value="d" disabled>
  <input name="box" type="checkbox" value="yes" checked>
  <input name="box" type="checkbox" value="no">
  <input name="plain" type="checkbox" checked>
  <input name="pick" type="radio" value="1">
  <input name="pick" type="radio" value="2" checked>
  <input name="go" type="submit" value="Go">
  <input name="img" type="image" value="i">
  <button name="btn" value="b">B</button>
  <textarea name="note">hello
world</textarea>
  <select name="one"><option value="a">A</option><option value="b" selected>B</option></select>
  <select name="first"><option>First</option><option>Second</option></select>
  <select name="many" multiple><option value="m1" selected>1</option><option value="m2" selected>2</option><option value="m3">3</option></select>
</form>
<div id="wrap"><form id="bare"><input name="q" value="1"></form></div>
</body></html>`
	p := pageOf(t, html, "https://idp.example.com/a/b/login?old=1")
	f := ParseForm(p, p.Doc.Find("#f"))
	if want := "https://idp.example.com/a/next?x=1&y=2"; f.Action != want {
		t.Errorf("Action = %s, want %s", f.Action, want)
	}
	if f.Method != "GET" {
		t.Errorf("Method = %s, want GET", f.Method)
	}
	want := url.Values{
		"text":   {"a b"},
		"hidden": {"h"},
		"box":    {"yes"},
		"plain":  {"on"},
		"pick":   {"2"},
		"note":   {"hello\nworld"},
		"one":    {"b"},
		"first":  {"First"},
		"many":   {"m1", "m2"},
	}
	if !reflect.DeepEqual(f.Values, want) {
		t.Errorf("Values = %v\nwant     %v", f.Values, want)
	}

	// A selection holding the form works too.
	bare := ParseForm(p, p.Doc.Find("#wrap"))
	if bare == nil || bare.Action != "https://idp.example.com/a/b/login?old=1" || bare.Method != "POST" {
		t.Errorf("form without action/method = %+v, want page URL and POST", bare)
	}
	if ParseForm(p, p.Doc.Find("#nothing")) != nil {
		t.Error("ParseForm of an empty selection is not nil")
	}
}

func TestSAMLResponse(t *testing.T) {
	tests := []struct {
		name, html string
		want       string
		ok         bool
	}{
		{"fixture with nameless input", "", "abc123", true},
		{"lower case", `<form><input type="hidden" name="samlresponse" value=" PHNhbWw+ "></form>`, "PHNhbWw+", true},
		{"newer template", `<form name="saml-post-binding" method="post" action="https://signin.aws.amazon.com/saml"><input type="hidden" name="SAMLResponse" value="eHl6"/><input type="hidden" name="RelayState" value="r"/></form>`, "eHl6", true},
		{"empty value", `<input name="SAMLResponse" value="">`, "", false},
		{"absent", `<form><input name="SAMLRequest" value="x"></form>`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p *Page
			if tt.html == "" {
				p = page(t, "assertion.html", "https://id.example.com/x")
			} else {
				p = pageOf(t, tt.html, "https://id.example.com/x")
			}
			got, ok := SAMLResponse(p)
			if got != tt.want || ok != tt.ok {
				t.Errorf("SAMLResponse = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestAutoSubmitForm(t *testing.T) {
	tests := []struct {
		name, file, html string
		want             bool
	}{
		{name: "saml post, body onload", file: "assertion.html", want: true},
		{name: "kerberos page", file: "redirect.html", want: true},
		{name: "window.onload script", html: `<html><body><form action="/x" method="post"><input type="hidden" name="a" value="1"></form><script>window.onload = function() {document.forms[0].submit()};</script></body></html>`, want: true},
		{name: "login page", file: "loginpage.html", want: false},
		{name: "webauthn, two forms", file: "webauthnPage.html", want: false},
		{name: "onload without submit", html: `<body onload="init()"><form action="/x"></form></body>`, want: false},
		{name: "two forms", html: `<body onload="document.forms[0].submit()"><form></form><form></form></body>`, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p *Page
			if tt.file != "" {
				p = page(t, tt.file, "https://id.example.com/x")
			} else {
				p = pageOf(t, tt.html, "https://id.example.com/x")
			}
			if got := AutoSubmitForm(p) != nil; got != tt.want {
				t.Errorf("AutoSubmitForm found a form: %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFetch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/kerberos":
			w.WriteHeader(http.StatusUnauthorized)
			b, _ := os.ReadFile("testdata/keycloak/redirect.html")
			w.Write(b)
		case "/echo":
			r.ParseForm()
			fmt.Fprintf(w, "<title> %s   %s </title><p>%s|%s</p>", r.Method, r.Header.Get("Content-Type"), r.URL.RawQuery, r.PostForm.Encode())
		case "/huge":
			w.Write(bytes.Repeat([]byte("a"), maxPage+1))
		case "/redirect":
			http.Redirect(w, r, "/echo?from=redirect", http.StatusSeeOther)
		}
	}))
	defer srv.Close()
	c := NewClient(nil, nil)

	p, err := Fetch(t.Context(), c, "GET", srv.URL+"/kerberos", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != 401 || p.Title() != "Kerberos Unsupported" {
		t.Errorf("got status %d title %q, want 401 and the page", p.Status, p.Title())
	}

	p, err = Fetch(t.Context(), c, "post", srv.URL+"/echo?keep=1", url.Values{"a": {"1 2"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Title(), "POST application/x-www-form-urlencoded"; got != want {
		t.Errorf("title %q, want %q", got, want)
	}
	if got, want := p.Doc.Find("p").Text(), "keep=1|a=1+2"; got != want {
		t.Errorf("echo %q, want %q", got, want)
	}

	p, err = Fetch(t.Context(), c, "GET", srv.URL+"/echo?old=1", url.Values{"q": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Doc.Find("p").Text(), "q=x|"; got != want {
		t.Errorf("GET form: echo %q, want %q (form replaces the query)", got, want)
	}

	p, err = Fetch(t.Context(), c, "POST", srv.URL+"/redirect", url.Values{"a": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.URL.Path != "/echo" || p.Doc.Url.Path != "/echo" {
		t.Errorf("page URL = %s, want the final URL after redirects", p.URL)
	}

	if _, err := Fetch(t.Context(), c, "GET", srv.URL+"/huge", nil); err == nil || !strings.Contains(err.Error(), "larger than 4 MiB") {
		t.Errorf("huge page: err = %v, want a size error", err)
	}

	_, err = Fetch(t.Context(), c, "GET", "http://127.0.0.1:1/x?password=hunter2", nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("connection error = %v, want an error without the secret query", err)
	}
}

func TestTitleAndStripQuery(t *testing.T) {
	p := page(t, "loginpage.html", "https://u:p@id.example.com/auth/realms/master/protocol/saml/clients/aws?RelayState=x#frag")
	if got := p.Title(); got != "Log in to Keycloak" {
		t.Errorf("Title = %q", got)
	}
	if got, want := StripQuery(p.URL), "https://id.example.com/auth/realms/master/protocol/saml/clients/aws"; got != want {
		t.Errorf("StripQuery = %q, want %q", got, want)
	}
	var empty Page
	if empty.Title() != "" {
		t.Error("Title of an empty page")
	}
}

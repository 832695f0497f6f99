package sts

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseAccountNames(t *testing.T) {
	for _, tc := range []struct {
		file string
		want map[string]string
	}{
		{"role-chooser-legacy-saml2aws.html", map[string]string{"000000000001": "account-alias"}},
		{"role-chooser-legacy.html", map[string]string{"012345678901": "testaccount1"}},
		{"role-chooser-nextjs.html", map[string]string{"012345678901": "testaccount1"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			page, err := os.ReadFile(filepath.Join("testdata/aws-signin", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseAccountNames(page)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseAccountNamesShapes(t *testing.T) {
	for _, tc := range []struct {
		name, page string
		want       map[string]string
		err        bool
	}{
		{"next data json", `<script id="__NEXT_DATA__" type="application/json">{"props":{"pageProps":{"accounts":[{"accountId":"1111-2222-3333","accountName":"prod"},{"accountId":"444455556666","accountName":"444455556666"}]}}}</script>`,
			map[string]string{"111122223333": "prod"}, false},
		{"control chars dropped", "<div class=\"saml-account-name\">Account: a\x01b (111122223333)</div>", map[string]string{}, false},
		{"escape and bidi dropped", "<div class=\"saml-account-name\">Account: a\u001b[31mb (111122223333)</div><div class=\"saml-account-name\">Account: a\u202eb (444455556666)</div><div class=\"saml-account-name\">Account: a\u0085b (777788889999)</div>", map[string]string{}, false},
		{"login page", `<html><form><input name="password"></form></html>`, nil, true},
		{"empty", ``, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAccountNames([]byte(tc.page))
			var ce *ChooserError
			if tc.err != errors.As(err, &ce) {
				t.Fatalf("err = %v", err)
			}
			if !tc.err && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAccountNamesPostsAssertion(t *testing.T) {
	page, _ := os.ReadFile("testdata/aws-signin/role-chooser-legacy.html")
	const raw = "UEhOaGJXeHdPbEpsYzNCdmJuTmw="
	var gotPath, gotResp string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotResp = r.URL.Path, r.PostFormValue("SAMLResponse")
		if gotResp != raw {
			http.Error(w, "no", 400)
			return
		}
		w.Write(page)
	}))
	defer ts.Close()
	a := &Assertion{Raw: raw, Destination: "https://signin.aws.amazon.com/saml"}
	names, err := AccountNames(context.Background(), ts.Client(), a, ts.URL+"/federation")
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "/saml" || names["012345678901"] != "testaccount1" {
		t.Fatalf("path %q names %v", gotPath, names)
	}

	// Failures never quote the assertion.
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, raw, 500) })
	_, err = AccountNames(context.Background(), ts.Client(), a, ts.URL)
	if err == nil || strings.Contains(err.Error(), raw) {
		t.Fatalf("err = %v", err)
	}
}

func TestSAMLEndpoint(t *testing.T) {
	for _, tc := range []struct{ dest, override, want string }{
		{"https://signin.aws.amazon.com/saml", "", "https://signin.aws.amazon.com/saml"},
		{"https://eu-west-1.signin.aws.amazon.com/saml", "", "https://eu-west-1.signin.aws.amazon.com/saml"},
		{"https://signin.amazonaws-us-gov.com/saml", "", "https://signin.amazonaws-us-gov.com/saml"},
		{"https://evil.example/saml", "", ""},
		{"http://signin.aws.amazon.com/saml", "", ""},
		{"urn:amazon:webservices", "", ""},
		{"", "http://127.0.0.1:9/federation", "http://127.0.0.1:9/saml"},
		{"", "http://example.com/federation", ""},
	} {
		got, err := samlEndpoint(&Assertion{Destination: tc.dest}, tc.override)
		if (err != nil) != (tc.want == "") || got != tc.want {
			t.Errorf("samlEndpoint(%q, %q) = %q, %v; want %q", tc.dest, tc.override, got, err, tc.want)
		}
	}
}

// FuzzParseAccountNames: any page parses without panic, and every name
// kept is keyed by a 12-digit account and free of control characters.
func FuzzParseAccountNames(f *testing.F) {
	files, _ := filepath.Glob("testdata/aws-signin/*.html")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`<script id="__NEXT_DATA__">{"a":[{"accountId":"111122223333","alias":"x"}]}</script>`))
	f.Fuzz(func(t *testing.T, page []byte) {
		names, err := ParseAccountNames(page)
		if err != nil {
			return
		}
		for id, n := range names {
			if !accountIDRe.MatchString(id) || n == "" || strings.ContainsAny(n, "\x00\n\r\x1b\u202e") {
				t.Fatalf("bad entry %q=%q", id, n)
			}
		}
	})
}

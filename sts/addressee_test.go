package sts

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzAddressees: any input gives addressees or an error, never a panic;
// each addressee is trimmed and non-empty, and a response built around one
// yields it.
func FuzzAddressees(f *testing.F) {
	f.Add("https://dash.example.com/_dashboards/_opendistro/_security/saml/acs/idpinitiated", "")
	f.Add("https://signin.aws.amazon.com/saml", "<!DOCTYPE x>")
	f.Add("", `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`)
	f.Fuzz(func(t *testing.T, dest, raw string) {
		for _, in := range []string{raw, base64.StdEncoding.EncodeToString([]byte(raw))} {
			got, err := Addressees(in)
			if err != nil {
				continue
			}
			for _, a := range got {
				if a == "" || a != strings.TrimSpace(a) {
					t.Fatalf("addressee %q of %q", a, in)
				}
			}
		}
		// The property needs a dest XML can carry as is.
		if strings.ContainsAny(dest, "<>&\"") || strings.TrimSpace(dest) == "" || !utf8.ValidString(dest) ||
			strings.IndexFunc(dest, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) >= 0 {
			return
		}
		got, err := Addressees(base64.StdEncoding.EncodeToString([]byte(doc{dest: dest, recipient: dest}.String())))
		if err != nil || len(got) != 2 || got[0] != strings.TrimSpace(dest) || got[1] != got[0] {
			t.Fatalf("response addressed to %q: %q, %v", dest, got, err)
		}
	})
}

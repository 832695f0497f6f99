package sts

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseResponse: any XML an IdP page carries is parsed without panic
// (by ParseResponse and Addressees), and an accepted assertion grants only
// well-formed role pairs.
func FuzzParseResponse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.xml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(doc{dest: "https://eu-west-1.signin.aws.amazon.com/saml", attrs: attr("saml", "Role", role1+","+prov1)}.String()))
	f.Add([]byte(doc{p: "saml2", attrs: attr("saml2", "Role", prov1+","+role1) + attr("saml2", "SessionDuration", "3600")}.String()))
	f.Add([]byte(`<Response><Assertion/><Assertion/></Response>`))
	f.Fuzz(func(t *testing.T, xml []byte) {
		b64 := base64.StdEncoding.EncodeToString(xml)
		if _, err := Addressees(b64); err != nil {
			if _, ok := err.(*AssertionError); !ok {
				t.Fatalf("Addressees: error of type %T: %v", err, err)
			}
		}
		a, err := ParseResponse(b64)
		if err != nil {
			if _, ok := err.(*AssertionError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if len(a.Roles) == 0 {
			t.Fatal("accepted an assertion without roles")
		}
		for _, r := range a.Roles {
			if !roleARNRe().MatchString(r.RoleARN) || !providerARNRe().MatchString(r.PrincipalARN) {
				t.Fatalf("accepted role pair %q, %q", r.RoleARN, r.PrincipalARN)
			}
		}
		if raw, err := base64.StdEncoding.DecodeString(a.Raw); err != nil || len(raw) > MaxResponseSize {
			t.Fatalf("Raw is not the decoded response (%v)", err)
		}
	})
}

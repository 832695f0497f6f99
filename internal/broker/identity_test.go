package broker

import (
	"context"
	"testing"

	"github.com/saml2sts/saml2sts/internal/config"
)

// TestIdentityBindsCacheAndSession: the cache is keyed by profile name, so a
// profile of the same name set to another url or user (another config file,
// or an edit) must neither get the cached credentials nor ride on the stored
// IdP session.
func TestIdentityBindsCacheAndSession(t *testing.T) {
	tests := []struct {
		name   string
		change func(*config.Profile)
	}{
		{"other username", func(p *config.Profile) { p.Username = "bob" }},
		{"other url", func(p *config.Profile) { p.URL = "https://other.example.com/realms/x/protocol/saml/clients/aws" }},
		{"other principal", func(p *config.Profile) { p.PrincipalARN = provCorp }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			first := r.mustLogin(t, profile())
			other := profile(tt.change)
			res, err := r.b.Credentials(context.Background(), other, Options{Password: pw, LoginHint: hint})
			if err != nil {
				t.Fatal(err)
			}
			if res.Cached || res.Credentials.AccessKeyID == first.Credentials.AccessKeyID {
				t.Fatal("served credentials minted for another identity")
			}
			if got := r.idp.withSession; len(got) != 2 || got[1] {
				t.Fatalf("IdP session reuse per login = %v, want [false false]: the session belongs to another identity", got)
			}
		})
	}
	// Same identity: cached, and a refresh reuses the session.
	r := newRig(t)
	first := r.mustLogin(t, profile())
	res := r.mustLogin(t, profile())
	if !res.Cached || res.Credentials.AccessKeyID != first.Credentials.AccessKeyID {
		t.Fatal("same identity not served from the cache")
	}
}

package broker

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/internal/config"
)

// withNotOnOrAfter gives a samlResponse a SubjectConfirmationData
// NotOnOrAfter.
func withNotOnOrAfter(t *testing.T, resp string, at time.Time) string {
	t.Helper()
	xml, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(xml), "<saml:Assertion>", `<saml:Assertion><saml:Subject><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">`+
		`<saml:SubjectConfirmationData NotOnOrAfter="`+at.UTC().Format(time.RFC3339)+`"/></saml:SubjectConfirmation></saml:Subject>`, 1)
	return base64.StdEncoding.EncodeToString([]byte(s))
}

// TestSharedLogin: a second profile of the same IdP identity reuses the
// first one's SAMLResponse (and gets its IdP session) while the response
// is valid; past NotOnOrAfter (less the margin), with another identity, or
// without a SharedLogin it logs in itself.
func TestSharedLogin(t *testing.T) {
	tests := []struct {
		name   string
		shared bool
		second func(*config.Profile)
		after  time.Duration // clock moves between the logins
		logins int
	}{
		{name: "same identity, shared", shared: true, logins: 1},
		{name: "another role, shared", shared: true, second: func(p *config.Profile) { p.RoleARN = admin }, logins: 1},
		{name: "within the margin", shared: true, after: 5*time.Minute - sharedMargin - time.Second, logins: 1},
		{name: "too close to NotOnOrAfter", shared: true, after: 5*time.Minute - sharedMargin, logins: 2},
		{name: "another user", shared: true, second: func(p *config.Profile) { p.Username = "bob" }, logins: 2},
		{name: "another url", shared: true, second: func(p *config.Profile) { p.URL = idpURL + "2" }, logins: 2},
		{name: "not shared", logins: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, reader+","+provCorp, admin+","+provCorp)
			r.idp.saml = withNotOnOrAfter(t, r.idp.saml, r.clock.Now().Add(5*time.Minute))
			var s *SharedLogin
			if tt.shared {
				s = &SharedLogin{}
			}
			o := Options{Password: pw, LoginHint: hint, Shared: s}
			first := profile()
			second := profile(func(p *config.Profile) { p.Name = "q" })
			if tt.second != nil {
				tt.second(second)
			}
			ctx := context.Background()
			if _, err := r.b.Credentials(ctx, first, o); err != nil {
				t.Fatal(err)
			}
			r.clock.Add(tt.after)
			res, err := r.b.Credentials(ctx, second, o)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.idp.count(); got != tt.logins {
				t.Errorf("IdP logins = %d, want %d", got, tt.logins)
			}
			if r.sts.count() != 2 || res.RoleARN != second.RoleARN {
				t.Errorf("STS calls %d, role %s", r.sts.count(), res.RoleARN)
			}
			if r.b.session(second) == nil {
				t.Error("the second profile has no IdP session for its silent refreshes")
			}
		})
	}
}

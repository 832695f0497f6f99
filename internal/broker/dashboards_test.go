package broker

import (
	"net/http"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/internal/config"
)

func TestDashboardsCookies(t *testing.T) {
	store, err := cache.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := &Broker{Store: store, Now: func() time.Time { return now }}
	const base = "https://search-a-1.eu-west-1.es.amazonaws.com/_dashboards"
	p := &config.Profile{Name: "p", Provider: "keycloak", URL: "https://sso/x", Username: "ana", DashboardsIdPURL: "https://sso/d"}
	d := b.DashboardsCookies(p, base)
	exp := now.Add(time.Hour)
	if err := d.Save([]*http.Cookie{{Name: "security_authentication", Value: "v1", Expires: exp}, {Name: "security_authentication_saml1", Value: "v2", MaxAge: 60}}); err != nil {
		t.Fatal(err)
	}
	cs, err := b.DashboardsCookies(p, base).Load()
	if err != nil || len(cs) != 2 || cs[0].Value != "v1" || !cs[0].Expires.Equal(exp) || !cs[1].Expires.Equal(now.Add(time.Minute)) {
		t.Fatalf("Load = %v, %v", cs, err)
	}
	// Another user, IdP, IdP app, provider ARN or Dashboards never gets
	// these cookies: the fingerprint is the broker's identity plus the
	// Dashboards app and URL.
	other := func(edit func(*config.Profile)) *config.Profile { q := *p; edit(&q); return &q }
	for name, d2 := range map[string]*DashboardsCookies{
		"user":           b.DashboardsCookies(other(func(q *config.Profile) { q.Username = "bob" }), base),
		"idp":            b.DashboardsCookies(other(func(q *config.Profile) { q.URL = "https://sso/z" }), base),
		"principal":      b.DashboardsCookies(other(func(q *config.Profile) { q.PrincipalARN = "arn:aws:iam::1:saml-provider/x" }), base),
		"dashboards app": b.DashboardsCookies(other(func(q *config.Profile) { q.DashboardsIdPURL = "https://sso/y" }), base),
		"dashboards":     b.DashboardsCookies(p, "https://other/_dashboards"),
	} {
		if cs, err := d2.Load(); err == nil || len(cs) != 0 {
			t.Errorf("cookies served to another %s: %v", name, cs)
		}
	}
	// logout forgets them.
	if err := (&Broker{Store: store, Dir: t.TempDir()}).Forget("p"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Load(); err == nil {
		t.Errorf("Forget left the Dashboards cookies")
	}
}

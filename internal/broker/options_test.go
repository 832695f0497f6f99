package broker

import (
	"context"
	"maps"
	"testing"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/internal/config"
)

// optionsIdP records the provider-specific options and the clock it was
// given.
type optionsIdP struct {
	*fakeIdP
	got   map[string]string
	clock idp.Clock
}

func (o *optionsIdP) Login(ctx context.Context, req *idp.Request) (string, error) {
	o.got, o.clock = req.Options, req.Clock
	return o.fakeIdP.Login(ctx, req)
}

func TestLoginPassesProviderOptions(t *testing.T) {
	r := newRig(t)
	rec := &optionsIdP{fakeIdP: r.idp}
	r.b.Providers["keycloak"] = rec
	want := map[string]string{"form_username_field": "j_username"}
	p := profile(func(p *config.Profile) { p.Options = maps.Clone(want) })
	r.mustLogin(t, p)
	if !maps.Equal(rec.got, want) {
		t.Fatalf("adapter got options %v, want %v", rec.got, want)
	}
	// The adapter's copy is its own: changing it leaves the profile alone.
	rec.got["form_username_field"] = "x"
	if p.Options["form_username_field"] != "j_username" {
		t.Error("adapter shares the profile's options map")
	}
}

// TestLoginPassesClock: the adapter's waits (push polls, rate limits) run
// on the broker's Clock, so the CLI's clock reaches them.
func TestLoginPassesClock(t *testing.T) {
	r := newRig(t)
	rec := &optionsIdP{fakeIdP: r.idp}
	r.b.Providers["keycloak"] = rec
	clk := &idptest.Clock{}
	r.b.Clock = clk
	r.mustLogin(t, profile())
	if rec.clock != idp.Clock(clk) {
		t.Fatalf("adapter got clock %v, want the broker's", rec.clock)
	}
}

package broker

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/config"
)

// urlIdP records the URL each login went to.
type urlIdP struct {
	*fakeIdP
	mu   sync.Mutex
	urls []string
}

func (u *urlIdP) Login(ctx context.Context, req *idp.Request) (string, error) {
	u.mu.Lock()
	u.urls = append(u.urls, req.URL)
	u.mu.Unlock()
	return u.fakeIdP.Login(ctx, req)
}

const dashURL = "https://idp.example/realms/corp/protocol/saml/clients/dashboards"

func TestAssertion(t *testing.T) {
	r := newRig(t)
	u := &urlIdP{fakeIdP: r.idp}
	r.b.Providers["keycloak"] = u
	p := profile()

	// First: no IdP session, the password is asked; no STS call.
	got, err := r.b.Assertion(context.Background(), p, Options{Password: pw, LoginHint: hint}, dashURL)
	if err != nil {
		t.Fatal(err)
	}
	if got != r.idp.saml {
		t.Errorf("assertion %q; want the IdP's SAMLResponse", got)
	}
	if r.sts.count() != 0 {
		t.Errorf("STS called %d times; an assertion needs none", r.sts.count())
	}
	// Second: rides on the stored session, silently (no password source).
	if _, err := r.b.Assertion(context.Background(), p, Options{LoginHint: hint}, dashURL); err != nil {
		t.Fatalf("silent assertion: %v", err)
	}
	// A credentials login reuses the session the assertion saved.
	if _, err := r.b.Credentials(context.Background(), p, Options{LoginHint: hint}); err != nil {
		t.Fatalf("credentials after assertion: %v", err)
	}
	// No default: "" never means the profile's (AWS) url.
	if _, err := r.b.Assertion(context.Background(), p, Options{LoginHint: hint}, ""); err == nil {
		t.Fatal("an assertion without an app URL; want an error")
	}
	want := []string{dashURL, dashURL, idpURL}
	if len(u.urls) != len(want) {
		t.Fatalf("logins to %v; want %v", u.urls, want)
	}
	for i := range want {
		if u.urls[i] != want[i] {
			t.Errorf("login %d went to %s; want %s", i+1, u.urls[i], want[i])
		}
	}
	if ws := r.idp.withSession; len(ws) != 3 || ws[0] || !ws[1] || !ws[2] {
		t.Errorf("session reuse per login %v; want [false true true]", ws)
	}
	if len(r.idp.passwords) != 1 {
		t.Errorf("password asked %d times; want 1", len(r.idp.passwords))
	}
}

func TestAssertionNoTerminal(t *testing.T) {
	r := newRig(t)
	_, err := r.b.Assertion(context.Background(), profile(), Options{LoginHint: hint}, dashURL)
	var ne *NeedLoginError
	if !errors.As(err, &ne) || !errors.Is(err, idp.ErrNoTerminal) || ne.Hint != hint {
		t.Errorf("err %v; want *NeedLoginError wrapping ErrNoTerminal", err)
	}
}

func TestAssertionForeignSession(t *testing.T) {
	// A session saved for another user is not reused.
	r := newRig(t)
	if _, err := r.b.Assertion(context.Background(), profile(), Options{Password: pw}, dashURL); err != nil {
		t.Fatal(err)
	}
	bob := profile(func(p *config.Profile) { p.Username = "bob" })
	if _, err := r.b.Assertion(context.Background(), bob, Options{Password: pw}, dashURL); err != nil {
		t.Fatal(err)
	}
	if ws := r.idp.withSession; len(ws) != 2 || ws[1] {
		t.Errorf("session reuse %v; bob must not ride on ana's session", ws)
	}
}

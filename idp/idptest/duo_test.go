package idptest

import (
	"net/http"
	"strings"
	"testing"
)

func TestNewDuoValidates(t *testing.T) {
	for _, tc := range []struct {
		o    DuoOptions
		want string
	}{
		{DuoOptions{Prompt: "iframe"}, "unknown duo prompt"},
		{DuoOptions{Users: []DuoUser{{Username: "a", Devices: []DuoDevice{{Push: "maybe"}}}}}, "unknown outcome"},
		{DuoOptions{Users: []DuoUser{{Username: "a"}, {Username: "A"}}}, "duplicate duo user"},
	} {
		if _, err := NewDuo(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewDuo(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
	_, err := NewOkta(OktaOptions{Users: []OktaUser{{Username: "a", Factors: []OktaFactor{{Type: "claims_provider"}}}}})
	if err == nil || !strings.Contains(err.Error(), "needs OktaOptions.Duo") {
		t.Errorf("claims_provider without Duo: %v", err)
	}
}

// A duo_code is redeemed once, and only a real one.
func TestDuoExchangeOnce(t *testing.T) {
	d, err := NewDuo(DuoOptions{Users: []DuoUser{{Username: "a"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.mu.Lock()
	u := d.exitURL(&duoSess{user: d.users["a"], redirect: "http://127.0.0.1/cb", state: "s1"})
	d.mu.Unlock()
	code := u[strings.Index(u, "duo_code=")+len("duo_code="):]
	code = code[:strings.IndexByte(code, '&')]
	if user, st, ok := d.Exchange(code); !ok || user != "a" || st != "s1" {
		t.Fatalf("Exchange = %q %q %v", user, st, ok)
	}
	if _, _, ok := d.Exchange(code); ok {
		t.Error("a duo_code was redeemed twice")
	}
	if _, _, ok := d.Exchange("dc-forged"); ok {
		t.Error("a forged duo_code was accepted")
	}
}

// A Duo outage refuses every request, as the other emulators' do.
func TestDuoFault(t *testing.T) {
	d, err := NewDuo(DuoOptions{Users: []DuoUser{{Username: "a"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.SetFault(Unavailable)
	resp, err := http.Get(d.AuthorizeURL("a", "http://127.0.0.1/cb", "s"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || d.Faulted() != 1 || d.Stats().Authorizes != 0 {
		t.Errorf("status %d, faulted %d, authorizes %d", resp.StatusCode, d.Faulted(), d.Stats().Authorizes)
	}
}

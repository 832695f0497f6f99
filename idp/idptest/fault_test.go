package idptest

import (
	"net/http"
	"testing"
)

// TestKeycloakOutageAndPasswordChange: the switches outage tests use.
func TestKeycloakOutageAndPasswordChange(t *testing.T) {
	k, err := NewKeycloak(KeycloakOptions{Users: []User{{Username: "ana", Password: "old", Roles: []string{"r,p"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	k.SetFault(Unavailable)
	res, err := http.Get(k.URL())
	if err != nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("Unavailable: %v %v", res, err)
	}
	res.Body.Close()
	k.SetFault(Unreachable)
	if res, err := http.Get(k.URL()); err == nil {
		res.Body.Close()
		t.Fatalf("Unreachable answered %s", res.Status)
	}
	if n := k.Faulted(); n != 2 {
		t.Errorf("Faulted = %d, want 2", n)
	}
	k.SetFault(Healthy)
	res, err = http.Get(k.URL())
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("Healthy: %v %v", res, err)
	}
	res.Body.Close()

	k.SetPassword("ANA", "new")
	k.mu.Lock()
	got := k.users["ana"].Password
	k.mu.Unlock()
	if got != "new" {
		t.Errorf("password = %q", got)
	}
}

// TestEveryEmulatorHasFaults: the other emulators take the same switch.
func TestEveryEmulatorHasFaults(t *testing.T) {
	type faulty interface {
		SetFault(Fault)
		Faulted() int
		URL() string
		Close()
	}
	a, err := NewADFS(ADFSOptions{Users: []ADFSUser{{Username: `CORP\ana`, Password: "pw"}}})
	if err != nil {
		t.Fatal(err)
	}
	o, err := NewOkta(OktaOptions{Users: []OktaUser{{Username: "ana", Password: "pw"}}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSimpleSAML(SimpleSAMLOptions{Users: []User{{Username: "ana", Password: "pw"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []faulty{a, o, s} {
		defer e.Close()
		e.SetFault(Unavailable)
		res, err := http.Get(e.URL())
		if err != nil || res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%T: %v %v", e, res, err)
		} else {
			res.Body.Close()
		}
		if e.Faulted() != 1 {
			t.Errorf("%T: Faulted = %d", e, e.Faulted())
		}
	}
}

package broker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/idp"
)

// blockingIdP holds a login until released, signalling when it started.
type blockingIdP struct {
	*fakeIdP
	started, release chan struct{}
}

func (b *blockingIdP) Login(ctx context.Context, req *idp.Request) (string, error) {
	close(b.started)
	<-b.release
	return b.fakeIdP.Login(ctx, req)
}

// TestLogoutWaitsForRefresh: a logout that starts while a refresh is in
// flight waits for it (saying so), then forgets what it wrote: nothing is
// left after "Logged out".
func TestLogoutWaitsForRefresh(t *testing.T) {
	r := newRig(t)
	bi := &blockingIdP{fakeIdP: r.idp, started: make(chan struct{}), release: make(chan struct{})}
	r.b.Providers["keycloak"] = bi
	p := profile()
	refreshed := make(chan error, 1)
	go func() {
		_, err := r.b.Credentials(context.Background(), p, Options{Password: pw, LoginHint: hint})
		refreshed <- err
	}()
	<-bi.started // the refresh holds the profile lock now
	waiting := make(chan struct{})
	loggedOut := make(chan error, 1)
	go func() {
		loggedOut <- Logout(context.Background(), r.b.Dir, []cache.Store{r.store}, p.Name, func() { close(waiting) })
	}()
	select {
	case <-waiting:
	case err := <-loggedOut:
		t.Fatalf("logout did not wait for the refresh in flight (err %v)", err)
	}
	close(bi.release)
	if err := <-refreshed; err != nil {
		t.Fatal(err)
	}
	if err := <-loggedOut; err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{cache.CredsKey(p.Name), cache.SessionKey(p.Name)} {
		if _, err := r.store.Get(k); !errors.Is(err, cache.ErrNotFound) {
			t.Errorf("%s survived the logout: %v", k, err)
		}
	}
	if idx, _ := cache.ReadIndex(r.b.Dir); len(idx) != 0 {
		t.Errorf("index after logout: %v", idx)
	}
}

// TestLogoutRemovesTempFiles: a writer killed mid-write leaves
// .NAME.tmp-* (here holding IdP cookies); logout removes it whatever its
// age.
func TestLogoutRemovesTempFiles(t *testing.T) {
	r := newRig(t)
	p := profile()
	if _, err := r.b.Credentials(context.Background(), p, Options{Password: pw, LoginHint: hint}); err != nil {
		t.Fatal(err)
	}
	var temps []string
	for _, k := range []string{cache.CredsKey(p.Name), cache.SessionKey(p.Name), cache.DashboardsKey(p.Name)} {
		f := filepath.Join(r.store.Dir(), "."+filepath.Base(r.store.Path(k))+".tmp-4242")
		if err := os.WriteFile(f, []byte(`{"jar":"KEYCLOAK_SESSION=secret"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		temps = append(temps, f)
	}
	if err := Logout(context.Background(), r.b.Dir, []cache.Store{r.store}, p.Name, nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range temps {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s survived the logout", filepath.Base(f))
		}
	}
}

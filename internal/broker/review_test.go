package broker

import (
	"context"
	"errors"
	"testing"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/idp"
)

// downStore is a chosen keyring that does not answer: every call fails.
type downStore struct{ sets int }

func (s *downStore) Get(string) ([]byte, error) {
	return nil, &cache.UnavailableError{Reason: "no D-Bus session bus"}
}
func (s *downStore) Set(string, []byte) error {
	s.sets++
	return &cache.UnavailableError{Reason: "no D-Bus session bus"}
}
func (s *downStore) Delete(string) error {
	return &cache.UnavailableError{Reason: "no D-Bus session bus"}
}
func (s *downStore) Name() string { return "keyring" }

// TestUnreadableStoreFailsBeforeLogin: when the cache cannot even be read,
// a login could not be kept either, so none is attempted: no password
// prompt, no IdP login, no STS call (an IdP login per AWS CLI call would
// risk an account lockout).
func TestUnreadableStoreFailsBeforeLogin(t *testing.T) {
	r := newRig(t)
	s := &downStore{}
	r.b.Store = s
	r.prompt.secret = ptr(password)
	_, err := r.b.Credentials(context.Background(), profile(), Options{LoginHint: hint})
	if !errors.Is(err, cache.ErrUnavailable) {
		t.Fatalf("want the keyring error, got %v", err)
	}
	if n := r.idp.count(); n != 0 {
		t.Errorf("IdP logins = %d, want 0", n)
	}
	if n := r.sts.count(); n != 0 {
		t.Errorf("STS calls = %d, want 0", n)
	}
	if len(r.prompt.asked) != 0 {
		t.Errorf("asked %v, want no prompt", r.prompt.asked)
	}
}

// TestNeedLoginMessage: the no-terminal error does not claim credentials
// expired (there may never have been any) and names the hint.
func TestNeedLoginMessage(t *testing.T) {
	r := newRig(t)
	_, err := r.b.Credentials(context.Background(), profile(), Options{LoginHint: hint})
	if !errors.Is(err, idp.ErrNoTerminal) {
		t.Fatalf("want ErrNoTerminal, got %v", err)
	}
	want := "a login is needed and there is no terminal to ask on; run: " + hint
	if err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
}

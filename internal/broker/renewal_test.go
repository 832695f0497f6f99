package broker

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/exitcode"
	"github.com/saml2sts/saml2sts/internal/prompt"
	"github.com/saml2sts/saml2sts/sts"
)

func TestBackoffDelay(t *testing.T) {
	tests := []struct {
		n      int
		jitter float64
		want   time.Duration
	}{
		{1, 0, 30 * time.Second},
		{2, 0, time.Minute},
		{3, 0, 2 * time.Minute},
		{5, 0, 8 * time.Minute},
		{6, 0, 10 * time.Minute},
		{40, 0, 10 * time.Minute},
		{1, 0.5, 33 * time.Second},
		{5, 0.99, 10 * time.Minute}, // 9m35s would be fine, the cap is not
		{6, 0.99, 10 * time.Minute},
	}
	for _, tt := range tests {
		got := backoffDelay(tt.n, tt.jitter)
		if tt.n == 5 && tt.jitter > 0 {
			if got < 8*time.Minute || got > backoffMax {
				t.Errorf("backoffDelay(%d, %v) = %s", tt.n, tt.jitter, got)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("backoffDelay(%d, %v) = %s, want %s", tt.n, tt.jitter, got, tt.want)
		}
	}
}

// TestFailedRenewalServesValid: whatever makes a renewal fail, credentials
// that are still valid are served with one notice line naming the cause
// and the expiry; a person logging in, --force and revoked credentials get
// the error instead.
func TestFailedRenewalServesValid(t *testing.T) {
	failures := []struct {
		name string
		idp  error
		sts  error
		code int
	}{
		{"network", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, nil, 1},
		{"IdP 5xx", &idp.PageError{Title: "503 Service Unavailable", URL: idpURL, Why: "HTTP 503"}, nil, 1},
		{"STS throttling", nil, &sts.Error{Op: "AssumeRoleWithSAML", Code: "Throttling", Message: "Rate exceeded", Status: 400}, 5},
		{"IdP rejects", &idp.AuthError{Message: "Account is disabled"}, nil, 3},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			r := newRig(t)
			first := r.mustLogin(t, profile())
			r.clock.Add(50 * time.Minute)
			r.idp.err, r.sts.err = f.idp, f.sts
			res, err := r.b.Credentials(context.Background(), profile(), Options{Password: pw, LoginHint: hint})
			if err != nil {
				t.Fatalf("still-valid credentials refused: %v", err)
			}
			n := r.notice.String()
			if res.Credentials != first.Credentials || res.Renewal == nil || strings.Count(n, "\n") != 1 ||
				!strings.Contains(n, "valid until 2026-03-01T13:00:00Z (expire in 10m)") || !strings.Contains(n, hint) {
				t.Errorf("got %+v, notice %q", res, n)
			}
			if bo, ok := cache.ReadBackoff(r.b.Dir, identity(profile())); !ok || bo.Code != f.code {
				t.Errorf("backoff %+v, %v; want exit code %d kept", bo, ok, f.code)
			}
			// Expired, past the step: the real error; then, during the
			// next step, its message and exit code.
			r.clock.Add(10 * time.Minute)
			_, err = r.b.Credentials(context.Background(), profile(), Options{Password: pw, LoginHint: hint})
			var be *BackoffError
			if err == nil || errors.As(err, &be) || exitcode.Of(err) != f.code {
				t.Errorf("after expiry: %v (exit %d), want the failure itself, exit %d", err, exitcode.Of(err), f.code)
			}
			_, err = r.b.Credentials(context.Background(), profile(), Options{Password: pw, LoginHint: hint})
			if !errors.As(err, &be) || exitcode.Of(err) != f.code || !strings.Contains(err.Error(), oneLine(errors.Join(f.idp, f.sts))) {
				t.Errorf("during the backoff: %v (exit %d), want the cause with exit %d", err, exitcode.Of(err), f.code)
			}
			if n := r.idp.count(); n != 3 {
				t.Errorf("IdP logins = %d, want 3 (none during the backoff)", n)
			}
		})
	}
	for _, tt := range []struct {
		name string
		o    Options
	}{
		{"interactive", Options{Interactive: true}},
		{"force", Options{Force: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.mustLogin(t, profile())
			r.clock.Add(50 * time.Minute)
			r.sts.err = &sts.Error{Op: "AssumeRoleWithSAML", Code: "Throttling", Status: 400}
			tt.o.Password, tt.o.LoginHint = pw, hint
			if _, err := r.b.Credentials(context.Background(), profile(), tt.o); err == nil {
				t.Fatal("the failure was covered up")
			}
			// A person is not held back by the backoff.
			if tt.o.Interactive {
				r.sts.err = nil
				if res, err := r.b.Credentials(context.Background(), profile(), tt.o); err != nil || res.Cached {
					t.Fatalf("login during the backoff: %v", err)
				}
			}
		})
	}
	t.Run("revoked", func(t *testing.T) {
		r := newRig(t)
		first := r.mustLogin(t, profile())
		r.clock.Add(50 * time.Minute)
		r.idp.err = errors.New("IdP down")
		_, err := r.b.Credentials(context.Background(), profile(), Options{Rejected: first.Credentials.AccessKeyID, LoginHint: hint})
		if err == nil {
			t.Fatal("revoked credentials served")
		}
	})
}

// TestRejectedCodeNotReplayed: a --mfa-code in a login the IdP rejected is
// never sent again; another code is.
func TestRejectedCodeNotReplayed(t *testing.T) {
	r := newRig(t)
	r.idp.err = &idp.AuthError{Message: "Invalid authenticator code."}
	o := Options{Password: pw, MFACode: "123 456", Interactive: true, LoginHint: hint}
	if _, err := r.b.Credentials(context.Background(), profile(), o); exitcode.Of(err) != 3 {
		t.Fatalf("first: %v", err)
	}
	r.idp.err = nil
	o.MFACode = "123456"
	_, err := r.b.Credentials(context.Background(), profile(), o)
	var rc *RejectedCodeError
	if !errors.As(err, &rc) || exitcode.Of(err) != 3 {
		t.Fatalf("replay: %v", err)
	}
	if n := r.idp.count(); n != 1 {
		t.Errorf("IdP logins = %d, want 1: the rejected code went out again", n)
	}
	o.MFACode = "654321"
	if _, err := r.b.Credentials(context.Background(), profile(), o); err != nil || r.idp.count() != 2 {
		t.Errorf("a new code: %v, %d logins", err, r.idp.count())
	}
}

// TestNeedLoginPauseSkipsTerminal: after a renewal failed for want of a
// terminal (an IDE's credential_process), a caller that has one is not
// held back: it is the fix. Callers without one are.
func TestNeedLoginPauseSkipsTerminal(t *testing.T) {
	r := newRig(t)
	r.b.Prompt = prompt.None{}
	if _, err := r.b.Credentials(context.Background(), profile(), Options{LoginHint: hint}); exitcode.Of(err) != 4 {
		t.Fatalf("no terminal: %v", err)
	}
	if _, err := r.b.Credentials(context.Background(), profile(), Options{LoginHint: hint}); !errors.As(err, new(*BackoffError)) || exitcode.Of(err) != 4 {
		t.Fatalf("again, no terminal: %v, want the pause (exit 4)", err)
	}
	r.b.Prompt = &fakePrompt{secret: ptr(password)}
	if res, err := r.b.Credentials(context.Background(), profile(), Options{LoginHint: hint}); err != nil || res.Cached {
		t.Fatalf("with a terminal: %v", err)
	}
	if _, ok := cache.ReadBackoff(r.b.Dir, identity(profile())); ok {
		t.Error("backoff kept after the login")
	}
	// The rejected-password record holds no password.
	r.b.Prompt = prompt.None{}
	r.clock.Add(2 * time.Hour)
	r.store.Delete(cache.SessionKey("p"))
	wrong := func(context.Context) (string, error) { return "wrong-pw-value", nil }
	r.b.Credentials(context.Background(), profile(), Options{Password: wrong, PasswordCommand: true, LoginHint: hint})
	raw, err := r.store.Get(cache.RejectedKey(identity(profile())))
	if err != nil || strings.Contains(string(raw), "wrong-pw-value") {
		t.Errorf("rejected record %q, %v: want a salted hash, no password", raw, err)
	}
}

// TestForgetClearsRenewalState: logout drops the backoff and the rejected
// password of the profile's identity with its credentials.
func TestForgetClearsRenewalState(t *testing.T) {
	r := newRig(t)
	r.mustLogin(t, profile())
	r.clock.Add(50 * time.Minute)
	r.store.Delete(cache.SessionKey("p"))
	wrong := func(context.Context) (string, error) { return "wrong", nil }
	if res, err := r.b.Credentials(context.Background(), profile(), Options{Password: wrong, PasswordCommand: true, LoginHint: hint}); err != nil || res.Renewal == nil {
		t.Fatalf("want the still-valid credentials and a failed renewal: %v", err)
	}
	id := identity(profile())
	if _, ok := cache.ReadBackoff(r.b.Dir, id); !ok {
		t.Fatal("no backoff")
	}
	if _, err := r.store.Get(cache.RejectedKey(id)); err != nil {
		t.Fatalf("no rejected mark: %v", err)
	}
	if err := r.b.Forget("p"); err != nil {
		t.Fatal(err)
	}
	if _, ok := cache.ReadBackoff(r.b.Dir, id); ok {
		t.Error("backoff kept after logout")
	}
	if _, err := r.store.Get(cache.RejectedKey(id)); !errors.Is(err, cache.ErrNotFound) {
		t.Errorf("rejected mark kept after logout: %v", err)
	}
}

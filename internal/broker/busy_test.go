package broker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/cache"
)

// TestLockWaitBounded: a caller with a bounded wait gives up on a login
// held elsewhere (say, at a password prompt) with a BusyError naming the
// way out, and asks the IdP for nothing.
func TestLockWaitBounded(t *testing.T) {
	r := newRig(t)
	p := profile()
	unlock, err := cache.Lock(context.Background(), r.b.Dir, "profile-"+p.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	start := time.Now()
	_, err = r.b.Credentials(context.Background(), p, Options{Password: pw, LoginHint: hint, LockWait: 100 * time.Millisecond})
	var busy *BusyError
	if !errors.As(err, &busy) || !strings.Contains(err.Error(), hint) {
		t.Fatalf("got %v, want a BusyError naming %q", err, hint)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("gave up after %s, want about 100ms", d)
	}
	if r.idp.count() != 0 {
		t.Fatal("logged in although another process held the lock")
	}
	// A cancelled caller is not "busy": the cancellation comes through.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.b.Credentials(ctx, p, Options{Password: pw, LockWait: time.Minute}); errors.As(err, &busy) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v, want context.Canceled", err)
	}
}

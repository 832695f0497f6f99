package broker

import (
	"context"
	"errors"
	"testing"
	"time"
)

// BenchmarkCredentials compares what a credential_process call costs in
// the broker: fresh credentials (the warm path), and still-valid ones
// during a paused renewal (the IdP down: lock, index and store, no
// network). The ratio is the figure in docs/performance.md.
func BenchmarkCredentials(b *testing.B) {
	for _, bc := range []struct {
		name  string
		stale bool
	}{{"fresh", false}, {"paused renewal", true}} {
		b.Run(bc.name, func(b *testing.B) {
			r := newRig(b)
			r.mustLogin(b, profile())
			if bc.stale {
				r.clock.Add(50 * time.Minute)
				r.idp.err = errors.New("IdP down")
				r.b.Credentials(context.Background(), profile(), Options{Password: pw, LoginHint: hint})
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := r.b.Credentials(context.Background(), profile(), Options{Password: pw, LoginHint: hint}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if bc.stale && r.idp.count() != 2 {
				b.Fatalf("IdP logins = %d, want 2 (the paused calls made none)", r.idp.count())
			}
		})
	}
}

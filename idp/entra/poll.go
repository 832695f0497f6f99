package entra

import (
	"context"
	"time"
)

// Clock is the time source of the MFA polls; tests inject a fake one so
// no test sleeps. (The shape of idp.Clock; this package switches to
// idp.Poller once that lands.)
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// errPollLimit is returned by poll when every attempt said "not yet".
type errPollLimit struct{ attempts int }

func (e errPollLimit) Error() string { return "no answer yet" }

// poll calls try up to attempts times, every interval (the first call at
// once), until it reports done or fails.
func poll(ctx context.Context, c Clock, interval time.Duration, attempts int, try func(ctx context.Context, attempt int) (bool, error)) error {
	for n := 1; n <= attempts; n++ {
		if n > 1 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-c.After(interval):
			}
		}
		done, err := try(ctx, n)
		if err != nil || done {
			return err
		}
	}
	return errPollLimit{attempts}
}

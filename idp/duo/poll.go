package duo

import (
	"context"
	"fmt"
	"time"
)

// Clock, Poller and TimeoutError stand in for idp.Clock, idp.Poller and
// idp.TimeoutError (TEAM.md contract 2) until those land on main; they
// have the same shape so the switch is a rename.

// Clock is the time source of the push wait; tests pass a fake.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Poller repeats a check every Interval until done, an error, or Timeout.
type Poller struct {
	Interval, Timeout time.Duration
	Clock             Clock
}

// Poll calls check at once (attempt 0), then after every Interval.
func (p Poller) Poll(ctx context.Context, check func(ctx context.Context, attempt int) (bool, error)) error {
	c := p.Clock
	if c == nil {
		c = systemClock{}
	}
	deadline := c.Now().Add(p.Timeout)
	for attempt := 0; ; attempt++ {
		done, err := check(ctx, attempt)
		if err != nil || done {
			return err
		}
		if c.Now().After(deadline) {
			return &TimeoutError{Waited: p.Timeout, Attempts: attempt + 1}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.After(p.Interval):
		}
	}
}

// TimeoutError is a Poller that ran out of time.
type TimeoutError struct {
	Waited   time.Duration
	Attempts int
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("no answer after %s (%d checks)", e.Waited, e.Attempts)
}

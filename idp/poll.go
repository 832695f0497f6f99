package idp

import (
	"context"
	"fmt"
	"time"

	"github.com/saml2sts/saml2sts/internal/clock"
	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// Clock is the time source of waits and deadlines (Now, After). Adapters
// take one so their tests can run a three-minute push wait in
// microseconds: pass a fake (idptest.Clock) instead of [SystemClock].
type Clock = clock.Clock

// SystemClock is the real [Clock].
var SystemClock Clock = clock.System

// Sleep waits d on c (nil: [SystemClock]), or until ctx ends; then it
// returns ctx's error. It is the one sleep of the module (internal/clock).
func Sleep(ctx context.Context, c Clock, d time.Duration) error { return clock.Sleep(ctx, c, d) }

// Poller repeats a check every Interval until it is done, fails, or
// Timeout has passed: the wait for a push answer or a number match.
//
//	err := idp.Poller{Interval: time.Second, Timeout: 3 * time.Minute, Clock: clk}.
//		Poll(ctx, func(ctx context.Context, attempt int) (bool, error) {
//			st, err := checkPush(ctx)
//			return st == "SUCCESS", err
//		})
//	var te *idp.TimeoutError
//	if errors.As(err, &te) { /* say what was not answered */ }
type Poller struct {
	Interval time.Duration // wait between checks
	Timeout  time.Duration // overall deadline, counted from the call to Poll
	Clock    Clock         // nil: SystemClock
}

// Poll calls check at once (attempt 0), then after every Interval
// (attempts 1, 2, ...), until check reports done or returns an error,
// which Poll returns unchanged. Once Timeout has passed after an
// unfinished check it returns a [*TimeoutError]; when ctx ends while
// waiting, ctx's error.
func (p Poller) Poll(ctx context.Context, check func(ctx context.Context, attempt int) (done bool, err error)) error {
	c := p.Clock
	if c == nil {
		c = SystemClock
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
		if err := Sleep(ctx, c, p.Interval); err != nil {
			return err
		}
	}
}

// TimeoutError is a [Poller] that ran out of time: nobody answered (a
// push not approved). It exits 3, as an MFA answer that never came is a
// failed MFA; adapters usually replace it with an [AuthError] that names
// what was not answered.
type TimeoutError struct {
	Waited   time.Duration // the Poller's Timeout
	Attempts int           // checks made
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("no answer after %s (%d checks)", e.Waited, e.Attempts)
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *TimeoutError) ExitCode() int { return exitcode.Auth }

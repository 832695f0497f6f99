package idptest

import (
	"sync"
	"time"
)

// Clock is a fake idp.Clock for tests of polls and waits: time stands
// still until a wait moves it. After(d) moves the clock forward by d at
// once and returns a channel that has already fired, so a poll loop runs
// through its waits without sleeping, and its deadline comes after exactly
// as many waits as in real time. The zero Clock starts at 2026-01-01 UTC.
type Clock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

// NewClock returns a Clock that starts at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

var clockStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	if c.now.IsZero() {
		c.now = clockStart
	}
	return c.now
}

// After records the wait d, moves the clock by d and returns a fired channel.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.nowLocked().Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// Advance moves the clock by d without a wait.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.nowLocked().Add(d)
	c.mu.Unlock()
}

// Waits returns every wait asked of After so far, in order.
func (c *Clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// Waited is the sum of Waits.
func (c *Clock) Waited() time.Duration {
	var sum time.Duration
	for _, d := range c.Waits() {
		sum += d
	}
	return sum
}

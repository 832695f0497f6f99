package ststest

import (
	"sync"
	"time"
)

// Clock is real time plus an offset that tests move, for the Now option of
// this and the other emulators: jump past an expiry without sleeping.
type Clock struct {
	mu     sync.Mutex
	off    time.Duration
	frozen time.Time // non-zero: the wall clock stands still here
}

// Now is the wall clock shifted by every Advance so far.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.frozen.IsZero() {
		return c.frozen.Add(c.off)
	}
	return time.Now().Add(c.off)
}

// Freeze stops the clock where it is: from now on only Advance moves it,
// so a test's outcome cannot depend on how long its steps took.
func (c *Clock) Freeze() {
	c.mu.Lock()
	if c.frozen.IsZero() {
		c.frozen = time.Now()
	}
	c.mu.Unlock()
}

// Advance moves the clock by d (negative goes back).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// After moves the clock by d and returns a channel that has already fired:
// a wait on it (an IdP adapter's push poll, a rate-limit wait) takes no
// real time, yet its deadline comes after as many waits as in real time.
// With After the Clock is an idp.Clock; give it to the code under test,
// and to the emulators it talks to as their Now.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.Advance(d)
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

package ststest

import (
	"sync"
	"time"
)

// Clock is real time plus an offset that tests move, for the Now option of
// this and the other emulators: jump past an expiry without sleeping.
type Clock struct {
	mu  sync.Mutex
	off time.Duration
}

// Now is the wall clock shifted by every Advance so far.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Advance moves the clock by d (negative goes back).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

package ststest

import (
	"testing"
	"time"
)

// TestClockFreeze: a frozen clock moves only by Advance, whatever the
// wall clock does in between.
func TestClockFreeze(t *testing.T) {
	c := &Clock{}
	c.Advance(-time.Hour)
	c.Freeze()
	t0 := c.Now()
	if d := time.Since(t0); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("frozen at %v, want an hour behind the wall clock", t0)
	}
	// Wait until the wall clock has visibly moved, on a condition.
	for wall := time.Now(); !time.Now().After(wall); {
	}
	if got := c.Now(); !got.Equal(t0) {
		t.Errorf("frozen clock moved by %v on its own", got.Sub(t0))
	}
	c.Advance(time.Minute)
	if got := c.Now().Sub(t0); got != time.Minute {
		t.Errorf("Advance(1m) moved a frozen clock by %v", got)
	}
	c.Freeze() // a second Freeze keeps the first instant
	if got := c.Now().Sub(t0); got != time.Minute {
		t.Errorf("second Freeze moved the clock by %v", got)
	}
}

// TestClockAfter: a wait fires at once and moves the clock by its length,
// so an adapter's poll deadline comes after the same number of waits as
// in real time.
func TestClockAfter(t *testing.T) {
	c := &Clock{}
	c.Freeze()
	t0 := c.Now()
	select {
	case got := <-c.After(90 * time.Second):
		if want := t0.Add(90 * time.Second); !got.Equal(want) || !c.Now().Equal(want) {
			t.Errorf("fired at %v, clock at %v; want both %v", got, c.Now(), want)
		}
	default:
		t.Fatal("After(90s) has not fired at once")
	}
}

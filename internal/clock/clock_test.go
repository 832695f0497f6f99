package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

// countClock fires at once and counts the waits asked of it.
type countClock struct{ waits []time.Duration }

func (c *countClock) Now() time.Time { return time.Time{} }
func (c *countClock) After(d time.Duration) <-chan time.Time {
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	ch <- time.Time{}
	return ch
}

func TestSleep(t *testing.T) {
	t.Parallel()
	c := &countClock{}
	if err := Sleep(context.Background(), c, time.Hour); err != nil || len(c.waits) != 1 || c.waits[0] != time.Hour {
		t.Fatalf("Sleep = %v, waits %v", err, c.waits)
	}
	if err := Sleep(context.Background(), c, 0); err != nil || len(c.waits) != 1 {
		t.Errorf("a zero wait asked the clock: %v, %v", err, c.waits)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, c, time.Hour); !errors.Is(err, context.Canceled) || len(c.waits) != 1 {
		t.Errorf("Sleep on a cancelled context = %v, waits %v", err, c.waits)
	}
	// nil is the system clock; a cancel ends its wait.
	ctx, cancel = context.WithCancel(context.Background())
	go cancel()
	if err := Sleep(ctx, nil, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("system Sleep after cancel = %v", err)
	}
	if d := time.Since(System.Now()); d < 0 || d > time.Minute {
		t.Errorf("System.Now is %s off", d)
	}
}

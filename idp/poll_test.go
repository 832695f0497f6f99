package idp_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/internal/exitcode"
)

func TestPoller(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	tests := []struct {
		name      string
		doneAt    int   // attempt that reports done; -1 never
		failAt    int   // attempt that fails; -1 never
		wantErr   error // nil, boom, or a *TimeoutError (matched by type)
		timeout   bool
		wantCalls int
		wantWaits int
	}{
		{name: "done at once", doneAt: 0, failAt: -1, wantCalls: 1, wantWaits: 0},
		{name: "done on the third check", doneAt: 2, failAt: -1, wantCalls: 3, wantWaits: 2},
		{name: "error ends the poll", doneAt: -1, failAt: 1, wantErr: boom, wantCalls: 2, wantWaits: 1},
		// 10s timeout, 2s interval: checks at 0,2,...,10 are in time, the
		// one at 12s is past the deadline.
		{name: "deadline", doneAt: -1, failAt: -1, timeout: true, wantCalls: 7, wantWaits: 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &idptest.Clock{}
			start := clk.Now()
			var attempts []int
			err := idp.Poller{Interval: 2 * time.Second, Timeout: 10 * time.Second, Clock: clk}.Poll(context.Background(),
				func(ctx context.Context, attempt int) (bool, error) {
					attempts = append(attempts, attempt)
					if attempt == tc.failAt {
						return false, boom
					}
					return attempt == tc.doneAt, nil
				})
			var te *idp.TimeoutError
			switch {
			case tc.timeout:
				if !errors.As(err, &te) || te.Waited != 10*time.Second || te.Attempts != tc.wantCalls {
					t.Fatalf("err = %#v, want a TimeoutError after 10s and %d checks", err, tc.wantCalls)
				}
				if exitcode.Of(fmt.Errorf("okta: %w", err)) != exitcode.Auth {
					t.Errorf("a poll timeout does not exit %d", exitcode.Auth)
				}
			case !errors.Is(err, tc.wantErr):
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if want := seq(tc.wantCalls); !slices.Equal(attempts, want) {
				t.Errorf("attempts = %v, want %v", attempts, want)
			}
			if n := len(clk.Waits()); n != tc.wantWaits {
				t.Errorf("waited %d times, want %d", n, tc.wantWaits)
			}
			if got, want := clk.Now().Sub(start), time.Duration(tc.wantWaits)*2*time.Second; got != want {
				t.Errorf("fake time moved %s, want %s", got, want)
			}
		})
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// blockingClock never fires: only the context can end a wait.
type blockingClock struct{ idptest.Clock }

func (*blockingClock) After(time.Duration) <-chan time.Time { return nil }

func TestPollerCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := idp.Poller{Interval: time.Hour, Timeout: 24 * time.Hour, Clock: &blockingClock{}}.Poll(ctx,
		func(context.Context, int) (bool, error) {
			calls++
			cancel() // the user pressed ^C during the first wait
			return false, nil
		})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("Poll = %v after %d checks, want context.Canceled after 1", err, calls)
	}
}

func TestSleep(t *testing.T) {
	t.Parallel()
	clk := &idptest.Clock{}
	if err := idp.Sleep(context.Background(), clk, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if w := clk.Waits(); !slices.Equal(w, []time.Duration{30 * time.Second}) {
		t.Errorf("waits = %v", w)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := idp.Sleep(ctx, clk, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on a cancelled context = %v", err)
	}
	if len(clk.Waits()) != 1 {
		t.Error("a cancelled Sleep still waited")
	}
	// The real clock, briefly: nil means SystemClock.
	if err := idp.Sleep(context.Background(), nil, time.Microsecond); err != nil {
		t.Fatal(err)
	}
}

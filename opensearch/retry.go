package opensearch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/saml2sts/saml2sts/internal/clock"
)

// Retry bounds the retries of throttled and failed attempts.
type Retry struct {
	Attempts  int           // total attempts, default 6
	Base, Cap time.Duration // backoff base (default 250ms) and cap per wait (default 20s)
	// Total bounds the time spent waiting over all retries of one call
	// (default 2m); a Retry-After beyond it ends the retries.
	Total time.Duration
	Sleep func(ctx context.Context, d time.Duration) error // tests; default waits on a timer
	// Rand returns a float in [0,1) for the jitter; default math/rand.
	Rand func() float64
	// Now is the clock a Retry-After date is read against; default time.Now.
	Now func() time.Time
}

// Retry defaults.
const (
	DefaultAttempts = 6
	defaultBase     = 250 * time.Millisecond
	defaultCap      = 20 * time.Second
	defaultTotal    = 2 * time.Minute
)

type retrier struct {
	Retry
	debug io.Writer
}

func newRetrier(r Retry, debug io.Writer) retrier {
	if r.Attempts <= 0 {
		r.Attempts = DefaultAttempts
	}
	if r.Base <= 0 {
		r.Base = defaultBase
	}
	if r.Cap <= 0 {
		r.Cap = defaultCap
	}
	if r.Total <= 0 {
		r.Total = defaultTotal
	}
	if r.Sleep == nil {
		r.Sleep = func(ctx context.Context, d time.Duration) error { return clock.Sleep(ctx, nil, d) }
	}
	if r.Rand == nil {
		r.Rand = rand.Float64
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	return retrier{Retry: r, debug: debug}
}

// retryable reports the statuses that mean "not processed, try again".
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// transient reports connection failures worth another attempt: the peer
// reset or closed the connection before a response arrived.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// backoff is the full-jitter wait before retry n (n >= 1).
func (r retrier) backoff(n int) time.Duration { return backoff(r.Base, r.Cap, n, r.Rand) }

// backoff is the package's one retry wait policy, "full jitter": a random
// wait below base*2^(n-1), capped at ceiling, before retry n (n >= 1), so
// that parallel slices and processes do not retry in step.
func backoff(base, ceiling time.Duration, n int, rnd func() float64) time.Duration {
	if n < 31 {
		if d := base << (n - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	return time.Duration(rnd() * float64(ceiling))
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// do runs send until it returns a response that is not retryable, the
// attempts or the wait budget run out, or ctx ends. The last retryable
// response is returned as is (the caller reports its status).
func (r retrier) do(ctx context.Context, what string, send func() (*http.Response, error)) (*http.Response, error) {
	var waited time.Duration
	for n := 1; ; n++ {
		resp, err := send()
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var (
			wait   time.Duration
			reason string
		)
		switch {
		case err != nil && !transient(err):
			return nil, err
		case err != nil:
			reason = err.Error()
		case !retryable(resp.StatusCode):
			return resp, nil
		default:
			reason = resp.Status
			if d, ok := retryAfter(resp.Header, r.Now()); ok {
				wait = d
			}
		}
		if wait == 0 {
			wait = r.backoff(n)
		}
		if n >= r.Attempts || waited+wait > r.Total {
			if err != nil {
				return nil, fmt.Errorf("%s: %w (gave up after %d attempts)", what, err, n)
			}
			return resp, nil
		}
		if resp != nil {
			// Drain a little so the connection can be reused.
			_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
			resp.Body.Close()
		}
		if r.debug != nil {
			fmt.Fprintf(r.debug, "debug: opensearch: %s: %s (attempt %d/%d), retrying in %s\n", what, reason, n, r.Attempts, wait.Round(time.Millisecond))
		}
		if err := r.Sleep(ctx, wait); err != nil {
			return nil, err
		}
		waited += wait
	}
}

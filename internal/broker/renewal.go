package broker

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// Automatic renewals back off after a failure: 30s, doubling to at most
// 10 minutes, each step stretched by up to a fifth at random so that
// machines that failed together do not retry together.
const (
	backoffMin = 30 * time.Second
	backoffMax = 10 * time.Minute
	// maxCodes bounds how many rejected one-time codes are remembered.
	maxCodes = 8
)

// backoffDelay is the wait after the n-th consecutive failure (n >= 1);
// jitter is in [0, 1).
func backoffDelay(n int, jitter float64) time.Duration {
	d := backoffMin
	for i := 1; i < n && d < backoffMax; i++ {
		d *= 2
	}
	d += time.Duration(float64(d) * jitter / 5)
	return min(d, backoffMax)
}

// RejectedPasswordError is a password_command whose output the IdP
// rejected before: it is not sent again until the output changes or an
// interactive login succeeds, so a changed password cannot lock the
// account through background renewals.
type RejectedPasswordError struct{ Hint string }

func (e *RejectedPasswordError) Error() string {
	return "the IdP rejected the password from password_command; fix it or run " + e.Hint
}

// ExitCode is 3: the IdP rejected the credentials.
func (e *RejectedPasswordError) ExitCode() int { return exitcode.Auth }

// RejectedCodeError is a one-time code given to a login that the IdP
// rejected: codes are never sent twice.
type RejectedCodeError struct{}

func (e *RejectedCodeError) Error() string {
	return "a login with this one-time code was rejected, and codes are never sent twice: wait for the next code and pass that one"
}

// ExitCode is 3: the IdP rejected the MFA answer.
func (e *RejectedCodeError) ExitCode() int { return exitcode.Auth }

// BackoffError is an automatic renewal not attempted because a recent one
// failed, with no valid credentials left to serve: it carries that
// failure's message and exit status.
type BackoffError struct {
	Cause string
	Code  int
	Next  time.Time
	Hint  string
}

func (e *BackoffError) Error() string {
	return fmt.Sprintf("%s (automatic renewal paused until %s; %s renews now)",
		e.Cause, e.Next.UTC().Format(time.RFC3339), e.Hint)
}

// ExitCode is the one of the failure that started the backoff.
func (e *BackoffError) ExitCode() int { return e.Code }

// Unwrap makes a paused "login needed" read as one (exit 4).
func (e *BackoffError) Unwrap() error {
	if e.Code == exitcode.NoTerminal {
		return idp.ErrNoTerminal
	}
	return nil
}

// backsOff reports whether a failed login should pause automatic renewals:
// anything that reached (or needed) the IdP or STS, not a cancelled
// caller or a profile setting that fails before any request.
func backsOff(ctx context.Context, err error) bool {
	var (
		ce  *idp.ConfigError
		pe  *ProviderError
		re  *RoleError
		cfg *config.Error
	)
	return ctx.Err() == nil && !errors.As(err, &ce) && !errors.As(err, &pe) && !errors.As(err, &re) && !errors.As(err, &cfg)
}

// oneLine is err's message on one line of bounded length, for the index
// and notices.
func oneLine(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "..."
	}
	return s
}

// backoff returns the identity's backoff when it is in force.
func (b *Broker) backoff(p *config.Profile) (cache.Backoff, bool) {
	bo, ok := cache.ReadBackoff(b.Dir, identity(p))
	return bo, ok && b.Now().Before(bo.Next)
}

// RetryAt is when automatic renewals for p may try again: the end of
// the backoff step, or zero when there is none.
func (b *Broker) RetryAt(p *config.Profile) time.Time {
	bo, ok := b.backoff(p)
	if !ok {
		return time.Time{}
	}
	return bo.Next
}

// failed records a failed renewal: one more backoff step.
func (b *Broker) failed(p *config.Profile, err error) time.Time {
	var next time.Time
	now := b.Now().UTC()
	uerr := cache.UpdateBackoff(b.Dir, identity(p), func(bo *cache.Backoff) bool {
		if bo.Failures == 0 {
			bo.Since = now
		}
		bo.Failures++
		bo.Next = now.Add(backoffDelay(bo.Failures, b.jitter()))
		bo.Cause, bo.Code = oneLine(err), exitcode.Of(err)
		next = bo.Next
		return true
	})
	if uerr != nil {
		fmt.Fprintf(b.Notice, "saml2sts: could not record the renewal backoff (%v)\n", uerr)
	}
	return next
}

// succeeded clears the identity's backoff, if any.
func (b *Broker) succeeded(p *config.Profile) {
	id := identity(p)
	if _, ok := cache.ReadBackoff(b.Dir, id); ok {
		cache.UpdateBackoff(b.Dir, id, func(*cache.Backoff) bool { return false })
	}
}

func (b *Broker) jitter() float64 {
	if b.Jitter != nil {
		return b.Jitter()
	}
	var x [2]byte
	rand.Read(x[:])
	return float64(uint16(x[0])<<8|uint16(x[1])) / 65536
}

// rejected is what the IdP refused for one identity, as salted hashes.
type rejected struct {
	Identity string   `json:"identity"`
	Salt     []byte   `json:"salt"`
	Password []byte   `json:"password,omitempty"` // a password_command output
	Codes    [][]byte `json:"codes,omitempty"`    // one-time codes, newest last
}

func (r *rejected) sum(v string) []byte {
	h := sha256.New()
	h.Write(r.Salt)
	h.Write([]byte(r.Identity + "\x00" + v))
	return h.Sum(nil)
}

func (r *rejected) password(pw string) bool {
	return r.Password != nil && subtle.ConstantTimeCompare(r.Password, r.sum(pw)) == 1
}

func (r *rejected) code(c string) bool {
	s := r.sum(strings.Join(strings.Fields(c), ""))
	for _, x := range r.Codes {
		if subtle.ConstantTimeCompare(x, s) == 1 {
			return true
		}
	}
	return false
}

// loadRejected returns the identity's record; a fresh, empty one (with a
// new salt) when there is none.
func (b *Broker) loadRejected(p *config.Profile) *rejected {
	id := identity(p)
	var r rejected
	if raw, err := b.Store.Get(cache.RejectedKey(id)); err == nil && json.Unmarshal(raw, &r) == nil && r.Identity == id && len(r.Salt) >= 16 {
		return &r
	}
	r = rejected{Identity: id, Salt: make([]byte, 16)}
	rand.Read(r.Salt)
	return &r
}

func (b *Broker) saveRejected(r *rejected) {
	key := cache.RejectedKey(r.Identity)
	var err error
	if r.Password == nil && len(r.Codes) == 0 {
		err = b.Store.Delete(key)
	} else {
		raw, _ := json.Marshal(r)
		err = b.Store.Set(key, raw)
	}
	if err != nil {
		fmt.Fprintf(b.Notice, "saml2sts: could not update the record of rejected passwords (%v)\n", err)
	}
}

// attempt follows one login: which password went to the adapter and
// whether a second factor was asked after it, so that a rejection can be
// pinned on the password or on the code.
type attempt struct {
	mu          sync.Mutex
	password    string
	asked       bool // the adapter took the password
	fromCommand bool // ... and it was password_command's output
	factor      bool // a code or a choice was asked after that
}

// watched is the Prompter of one login, telling its attempt about second
// factors.
type watched struct {
	idp.Prompter
	a *attempt
}

func (w watched) Interactive() bool { return idp.Interactive(w.Prompter) }

func (w watched) Code(ctx context.Context, label string) (string, error) {
	w.a.second()
	return w.Prompter.Code(ctx, label)
}

func (w watched) Choose(ctx context.Context, label string, options []string) (int, error) {
	w.a.second()
	return w.Prompter.Choose(ctx, label, options)
}

func (a *attempt) second() {
	a.mu.Lock()
	a.factor = a.factor || a.asked
	a.mu.Unlock()
}

// passwordRejected reports whether err is the IdP refusing the password
// the adapter took from password_command: an *idp.AuthError with no
// second factor asked or given after the password (Keycloak, AD FS, Okta
// and form logins all check the password before showing one).
func (a *attempt) passwordRejected(err error, o Options) bool {
	var ae *idp.AuthError
	a.mu.Lock()
	defer a.mu.Unlock()
	return errors.As(err, &ae) && a.asked && a.fromCommand && !a.factor && o.MFACode == ""
}

// guardedPassword is the password source of one login: password_command's
// output is refused when the IdP rejected it before (a person at a
// terminal is asked instead during login), and a changed output clears
// the mark.
func (b *Broker) guardedPassword(p *config.Profile, o Options, rej *rejected, a *attempt) func(context.Context) (string, error) {
	src := b.password(p, o)
	return func(ctx context.Context) (string, error) {
		pw, err := src(ctx)
		if err != nil {
			return "", err
		}
		fromCommand := o.PasswordCommand
		if fromCommand && rej.password(pw) {
			if !o.Interactive || !idp.Interactive(b.Prompt) {
				return "", &RejectedPasswordError{Hint: o.LoginHint}
			}
			fmt.Fprintln(b.Notice, "saml2sts: the IdP rejected the password from password_command before; type it instead (and fix password_command)")
			if pw, err = b.promptPassword(ctx, p); err != nil {
				return "", err
			}
			fromCommand = false
		} else if fromCommand && rej.Password != nil {
			rej.Password = nil // the output changed: try it
			b.saveRejected(rej)
		}
		a.mu.Lock()
		a.password, a.asked, a.fromCommand = pw, true, fromCommand
		a.mu.Unlock()
		return pw, nil
	}
}

// remember records what the IdP rejected in a failed login, or clears
// the record after an interactive login succeeded.
func (b *Broker) remember(rej *rejected, a *attempt, o Options, err error) {
	switch {
	case err == nil && o.Interactive && (rej.Password != nil || len(rej.Codes) > 0):
		rej.Password, rej.Codes = nil, nil
	case err == nil:
		return
	case a.passwordRejected(err, o):
		rej.Password = rej.sum(a.password)
	case o.MFACode != "" && errors.As(err, new(*idp.AuthError)):
		rej.Codes = append(rej.Codes, rej.sum(strings.Join(strings.Fields(o.MFACode), "")))
		if len(rej.Codes) > maxCodes {
			rej.Codes = rej.Codes[len(rej.Codes)-maxCodes:]
		}
	default:
		return
	}
	b.saveRejected(rej)
}

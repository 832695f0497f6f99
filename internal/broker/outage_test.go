package broker

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/idp/keycloak"
	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/internal/exitcode"
	"github.com/saml2sts/saml2sts/internal/prompt"
	"github.com/saml2sts/saml2sts/sts"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

// outage is a real Keycloak emulator, the keycloak adapter and the STS
// emulator on one movable clock, with a password_command stand-in whose
// output the test changes. Each call builds a new Broker on the shared
// cache directory, as each credential_process run does.
type outage struct {
	t     *testing.T
	clk   *ststest.Clock
	kc    *idptest.Keycloak
	st    *ststest.Server
	dir   string
	store cache.Store
	p     *config.Profile

	mu     sync.Mutex
	output string // what password_command prints
	runs   int    // how often it ran
}

const outagePassword = "Correct-Horse-1"

func newOutage(t *testing.T) *outage {
	t.Helper()
	clk := &ststest.Clock{}
	kc, err := idptest.NewKeycloak(idptest.KeycloakOptions{
		Users:       []idptest.User{{Username: "ana", Password: outagePassword, Roles: []string{reader + "," + provCorp}}},
		SAMLOptions: idptest.SAMLOptions{Now: clk.Now},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	st := ststest.New(ststest.Options{Providers: map[string]*x509.Certificate{provCorp: kc.Certificate()}, Now: clk.Now})
	t.Cleanup(st.Close)
	dir := t.TempDir()
	store, err := cache.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &outage{t: t, clk: clk, kc: kc, st: st, dir: dir, store: store, output: outagePassword,
		p: profile(func(p *config.Profile) { p.URL = kc.URL(); p.PasswordCommand = "pass show corp/sso" })}
}

func (o *outage) broker(notice *syncBuffer, pr idp.Prompter) *Broker {
	return &Broker{
		Store:     o.store,
		Dir:       o.dir,
		Providers: map[string]idp.Provider{"keycloak": keycloak.New()},
		NewSTS: func(ctx context.Context, region string) (STS, error) {
			return sts.NewClient(ctx, sts.ClientOptions{Region: region, Endpoint: o.st.URL(), HTTPClient: &http.Client{Timeout: 10 * time.Second}})
		},
		Prompt: pr,
		Notice: notice,
		Now:    o.clk.Now,
		Jitter: func() float64 { return 0 },
	}
}

func (o *outage) passwordCommand(context.Context) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.runs++
	return o.output, nil
}

func (o *outage) setOutput(s string) { o.mu.Lock(); o.output = s; o.mu.Unlock() }

// call is one credential_process run: no terminal, password_command.
func (o *outage) call() (*Result, string, error) {
	var notice syncBuffer
	res, err := o.broker(&notice, prompt.None{}).Credentials(context.Background(), o.p,
		Options{Password: o.passwordCommand, PasswordCommand: true, LoginHint: hint})
	return res, notice.String(), err
}

// posts runs fn and returns how many times it posted the password.
func (o *outage) posts(fn func()) int {
	before := o.kc.Stats().PasswordPosts
	fn()
	return o.kc.Stats().PasswordPosts - before
}

// served checks a call got the still-valid key with a one-line notice
// naming what failed (want) and the expiry.
func (o *outage) served(key string, want string) {
	o.t.Helper()
	res, notice, err := o.call()
	if err != nil {
		o.t.Fatalf("still-valid credentials refused: %v", err)
	}
	exp := res.Credentials.Expiration.UTC().Format(time.RFC3339)
	if res.Credentials.AccessKeyID != key || res.Renewal == nil || strings.Count(notice, "\n") != 1 ||
		!strings.Contains(notice, "valid until "+exp) || !strings.Contains(notice, want) {
		o.t.Fatalf("got %s (renewal %v), notice %q; want %s with one line naming %q and %s", res.Credentials.AccessKeyID, res.Renewal, notice, key, want, exp)
	}
}

// TestOutage walks an IdP through going down, answering 503, coming back,
// forgetting its sessions and rejecting the password, with
// credential_process calls in a loop, and counts the password posts.
func TestOutage(t *testing.T) {
	o := newOutage(t)
	var first *Result
	if n := o.posts(func() {
		var err error
		if first, _, err = o.call(); err != nil {
			t.Fatal(err)
		}
	}); n != 1 {
		t.Fatalf("first login posted the password %d times", n)
	}
	key := first.Credentials.AccessKeyID

	// Inside the refresh window, the IdP unreachable: one attempt, then the
	// backoff holds every other caller; all get the still-valid key.
	o.clk.Advance(50 * time.Minute)
	o.kc.SetFault(idptest.Unreachable)
	o.served(key, "could not renew them")
	down := o.kc.Faulted() // the HTTP client may retry a GET once
	for range 9 {
		o.served(key, "renewal paused after a failure")
	}
	if n := o.kc.Faulted(); n != down || n == 0 {
		t.Errorf("IdP requests while down = %d, want %d (one attempt, then backoff)", n, down)
	}
	bo, ok := cache.ReadBackoff(o.dir, identity(o.p))
	if !ok || bo.Failures != 1 || bo.Next.Sub(o.clk.Now()) > backoffMin || bo.Code != 1 {
		t.Errorf("backoff %+v, %v; want one failure, 30s", bo, ok)
	}

	// 503 after the first step: one more attempt, a 60s step.
	o.kc.SetFault(idptest.Unavailable)
	o.clk.Advance(backoffMin)
	o.served(key, "could not renew them")
	o.served(key, "renewal paused")
	if n := o.kc.Faulted(); n != down+1 {
		t.Errorf("IdP requests = %d, want %d", n, down+1)
	}
	if bo, _ := cache.ReadBackoff(o.dir, identity(o.p)); bo.Failures != 2 || bo.Next.Sub(o.clk.Now()) > 2*backoffMin || bo.Next.Sub(o.clk.Now()) < 2*backoffMin-5*time.Second {
		t.Errorf("backoff %+v; want a 60s second step", bo)
	}

	// Back up: after the step the stored session renews, no password.
	o.kc.SetFault(idptest.Healthy)
	o.clk.Advance(2 * backoffMin)
	var renewed *Result
	if n := o.posts(func() {
		var notice string
		var err error
		renewed, notice, err = o.call()
		if err != nil || renewed.Renewal != nil || notice != "" {
			t.Fatalf("renewal after the outage: %v, %v, %q", err, renewed, notice)
		}
	}); n != 0 {
		t.Errorf("renewal through the session posted the password %d times", n)
	}
	if renewed.Credentials.AccessKeyID == key {
		t.Fatal("the IdP is back but the old key was served")
	}
	if _, ok := cache.ReadBackoff(o.dir, identity(o.p)); ok {
		t.Error("backoff not cleared by a successful renewal")
	}
	key = renewed.Credentials.AccessKeyID

	// The IdP forgets sessions and the password changes: one post of the
	// old password, never another, however many calls follow, until the
	// credentials run out; then exit 3 with the fix.
	o.kc.ExpireSessions()
	o.kc.SetPassword("ana", "Changed-Pass-2")
	o.clk.Advance(50 * time.Minute)
	runsBefore := o.runs
	posted := o.posts(func() {
		o.served(key, "Invalid username or password")
		for range 8 { // to 2 minutes before expiry
			o.clk.Advance(time.Minute)
			res, notice, err := o.call()
			if err != nil {
				t.Fatalf("still-valid credentials refused: %v", err)
			}
			if res.Credentials.AccessKeyID != key || !strings.Contains(notice, "valid until") {
				t.Fatalf("got %s, notice %q", res.Credentials.AccessKeyID, notice)
			}
		}
	})
	if posted != 1 {
		t.Errorf("password posts while the old password is rejected = %d, want exactly 1", posted)
	}
	// Attempts at 0, 1, 2, 4 and 8 minutes (backoff 30s, 1m, 2m, 4m, 8m).
	if o.runs-runsBefore != 5 {
		t.Errorf("password_command ran %d times in 8 minutes, want once per backoff step (5)", o.runs-runsBefore)
	}
	// Expired: nothing valid is left, the real cause, exit 3.
	posted = o.posts(func() {
		for range 5 {
			o.clk.Advance(5 * time.Minute)
			_, _, err := o.call()
			if err == nil || exitcode.Of(err) != 3 || !strings.Contains(err.Error(), "the IdP rejected the password from password_command; fix it or run "+hint) {
				t.Fatalf("after expiry: %v (exit %d)", err, exitcode.Of(err))
			}
		}
	})
	if posted != 0 {
		t.Errorf("password posts after expiry = %d, want 0", posted)
	}

	// password_command prints the new password: the mark clears, one post,
	// new credentials (after the backoff step).
	o.setOutput("Changed-Pass-2")
	o.clk.Advance(backoffMax)
	if n := o.posts(func() {
		res, _, err := o.call()
		if err != nil || res.Cached {
			t.Fatalf("with the fixed password: %v, %+v", err, res)
		}
	}); n != 1 {
		t.Errorf("posts with the fixed password = %d, want 1", n)
	}
	if raw, err := o.store.Get(cache.RejectedKey(identity(o.p))); err == nil {
		t.Errorf("the rejected mark is still stored: %s", raw)
	}
}

// TestInteractiveLoginClearsRejection: a login at the terminal ignores the
// backoff, does not send the rejected password_command output again (it
// asks instead), and its success clears the mark.
func TestInteractiveLoginClearsRejection(t *testing.T) {
	o := newOutage(t)
	o.setOutput("stale-password")
	if _, _, err := o.call(); exitcode.Of(err) != 3 {
		t.Fatalf("first call: %v", err)
	}
	// Non-interactive: at once, no post (and, in backoff, no IdP at all).
	for range 3 {
		if n := o.posts(func() {
			if _, _, err := o.call(); exitcode.Of(err) != 3 || !strings.Contains(err.Error(), "rejected") {
				t.Fatalf("repeat: %v", err)
			}
		}); n != 0 {
			t.Fatalf("posted the rejected password again")
		}
	}
	o.clk.Advance(backoffMax)
	if n := o.posts(func() {
		_, _, err := o.call()
		var rp *RejectedPasswordError
		if !errors.As(err, &rp) {
			t.Fatalf("after the backoff: %v, want a RejectedPasswordError", err)
		}
	}); n != 0 {
		t.Fatal("posted the rejected password after the backoff")
	}
	// saml2sts login at a terminal: typed password, despite the backoff.
	typed := &fakePrompt{secret: ptr(outagePassword)}
	var notice syncBuffer
	b := o.broker(&notice, typed)
	res, err := b.Credentials(context.Background(), o.p, Options{Password: o.passwordCommand, PasswordCommand: true, Interactive: true, LoginHint: hint})
	if err != nil || res.Cached {
		t.Fatalf("interactive login: %v", err)
	}
	if len(typed.asked) != 1 || !strings.Contains(notice.String(), "type it instead") {
		t.Errorf("asked %q, notice %q", typed.asked, notice.String())
	}
	if _, err := o.store.Get(cache.RejectedKey(identity(o.p))); !errors.Is(err, cache.ErrNotFound) {
		t.Errorf("mark not cleared by the interactive login: %v", err)
	}
	if _, ok := cache.ReadBackoff(o.dir, identity(o.p)); ok {
		t.Error("backoff not cleared by the interactive login")
	}
	if s := o.kc.Stats(); s.PasswordPosts != 2 {
		t.Errorf("password posts = %d, want 2 (the rejected one, the typed one)", s.PasswordPosts)
	}
}

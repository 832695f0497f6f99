package broker

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/sts"
)

// TestRefresh: after a first login, what a second call does depends on the
// age of the cached credentials, the profile's role and --force.
func TestRefresh(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration // after the first login (credentials live 1h)
		second  *config.Profile
		force   bool
		login   bool // a second IdP login happens
		session bool // ... riding on the stored IdP session
	}{
		{name: "fresh", advance: 10 * time.Minute, second: profile()},
		{name: "just outside the window", advance: 44 * time.Minute, second: profile()},
		{name: "inside refresh window", advance: 50 * time.Minute, second: profile(), login: true, session: true},
		{name: "expired", advance: 2 * time.Hour, second: profile(), login: true, session: true},
		{name: "force while fresh", second: profile(), force: true, login: true},
		{name: "other role than cached", second: profile(func(p *config.Profile) { p.RoleARN = admin }), login: true, session: true},
		{name: "no role_arn takes the cached role", second: profile(func(p *config.Profile) { p.RoleARN = "" })},
		{name: "wider window", advance: 10 * time.Minute, second: profile(func(p *config.Profile) { p.RefreshWindow = 55 * time.Minute }), login: true, session: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, reader+","+provCorp, admin+","+provCorp)
			first := r.mustLogin(t, profile())
			if first.Cached || first.RoleARN != reader {
				t.Fatalf("first login: %+v", first)
			}
			r.clock.Add(tt.advance)
			got, err := r.b.Credentials(context.Background(), tt.second, Options{Force: tt.force, Password: pw, LoginHint: hint})
			if err != nil {
				t.Fatal(err)
			}
			wantLogins := 1
			if tt.login {
				wantLogins = 2
			}
			if n := r.idp.count(); n != wantLogins {
				t.Fatalf("IdP logins = %d, want %d", n, wantLogins)
			}
			if n := r.sts.count(); n != wantLogins {
				t.Errorf("STS calls = %d, want %d", n, wantLogins)
			}
			if got.Cached == tt.login {
				t.Errorf("Cached = %v, want %v", got.Cached, !tt.login)
			}
			if !tt.login {
				if got.Credentials != first.Credentials {
					t.Errorf("cached call returned other credentials")
				}
				return
			}
			if got.Credentials.AccessKeyID == first.Credentials.AccessKeyID {
				t.Errorf("a login returned the old key")
			}
			if r.idp.withSession[1] != tt.session {
				t.Errorf("stored IdP session given to the provider = %v, want %v", r.idp.withSession[1], tt.session)
			}
			// The new record replaces the old one.
			rec, err := r.b.Cached(tt.second)
			if err != nil || rec.Credentials != got.Credentials {
				t.Errorf("cache holds %+v (%v), want the new credentials", rec, err)
			}
		})
	}
}

func TestRoleChoice(t *testing.T) {
	both := []string{reader + "," + provCorp, provCorp + "," + admin}
	split := []string{reader + "," + provCorp, admin + "," + provOther}
	tests := []struct {
		name    string
		roles   []string
		role    string // profile role_arn
		princ   string // profile principal_arn
		choice  *int   // nil: no terminal
		want    sts.Role
		wantErr string   // substring of a *RoleError
		granted []string // RoleError.Granted role ARNs
		asked   bool     // the role picker was shown
	}{
		{name: "role_arn granted", roles: both, role: admin, want: sts.Role{RoleARN: admin, PrincipalARN: provCorp}},
		{name: "role_arn not granted", roles: both, role: "arn:aws:iam::" + account + ":role/Nope",
			wantErr: "role arn:aws:iam::" + account + ":role/Nope is not granted", granted: []string{reader, admin}},
		{name: "role_arn through another provider", roles: split, role: admin, princ: provCorp,
			wantErr: "role " + admin + " is not granted through SAML provider " + provCorp, granted: []string{reader, admin}},
		{name: "role_arn and principal_arn", roles: split, role: admin, princ: provOther, want: sts.Role{RoleARN: admin, PrincipalARN: provOther}},
		{name: "principal_arn filter", roles: split, princ: provOther, want: sts.Role{RoleARN: admin, PrincipalARN: provOther}},
		{name: "principal_arn matches nothing", roles: split, princ: "arn:aws:iam::" + account + ":saml-provider/none",
			wantErr: "no role is granted through SAML provider arn:aws:iam::" + account + ":saml-provider/none", granted: []string{reader, admin}},
		{name: "single role", roles: both[:1], want: sts.Role{RoleARN: reader, PrincipalARN: provCorp}},
		{name: "picker", roles: both, choice: ptr(1), want: sts.Role{RoleARN: admin, PrincipalARN: provCorp}, asked: true},
		{name: "picker first", roles: both, choice: ptr(0), want: sts.Role{RoleARN: reader, PrincipalARN: provCorp}, asked: true},
		{name: "several roles, no terminal", roles: both, wantErr: "--role-arn", granted: []string{reader, admin}, asked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.roles...)
			r.prompt.choice = tt.choice
			p := profile(func(p *config.Profile) { p.RoleARN, p.PrincipalARN = tt.role, tt.princ })
			res, err := r.b.Credentials(context.Background(), p, Options{Password: pw, LoginHint: hint})
			if asked := len(r.prompt.asked) > 0; asked != tt.asked {
				t.Errorf("picker shown = %v, want %v (asked %q)", asked, tt.asked, r.prompt.asked)
			}
			if tt.wantErr != "" {
				re, ok := errorsAs[*RoleError](err)
				if !ok {
					t.Fatalf("want *RoleError, got %v", err)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q lacks %q", err, tt.wantErr)
				}
				for _, g := range tt.granted {
					if !strings.Contains(err.Error(), g) {
						t.Errorf("error %q does not list granted %s", err, g)
					}
				}
				if len(re.Granted) != len(tt.granted) {
					t.Errorf("Granted = %v, want %v", re.Granted, tt.granted)
				}
				if errors.Is(err, idp.ErrNoTerminal) {
					t.Errorf("a role error must not read as a missing terminal")
				}
				if r.sts.count() != 0 {
					t.Errorf("STS called despite the role error")
				}
				if _, err := r.b.Cached(p); !errors.Is(err, cache.ErrNotFound) {
					t.Errorf("something was cached: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.RoleARN != tt.want.RoleARN || res.PrincipalARN != tt.want.PrincipalARN {
				t.Errorf("got %s via %s, want %+v", res.RoleARN, res.PrincipalARN, tt.want)
			}
			if got := r.sts.roles; len(got) != 1 || got[0] != tt.want {
				t.Errorf("STS asked for %+v, want %+v", got, tt.want)
			}
			if tt.asked {
				if len(r.prompt.options) != len(tt.roles) || !strings.Contains(r.prompt.options[1], "SearchAdmin") ||
					!strings.Contains(r.prompt.options[1], account) {
					t.Errorf("picker options %q", r.prompt.options)
				}
			}
		})
	}
}

func TestNoTerminal(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(r *rig) // after a good login (credentials live 1h)
		force  bool
		code   bool // the IdP wants an MFA code (after the password)
		served bool // the stale record is served with a notice
		left   string
	}{
		{name: "no record", setup: func(r *rig) { r.b.Forget("p") }},
		{name: "stale and usable", setup: func(r *rig) {
			r.store.Delete(cache.SessionKey("p"))
			r.clock.Add(50 * time.Minute)
		}, served: true, left: "10m"},
		{name: "stale, usable, code prompt", setup: func(r *rig) {
			r.store.Delete(cache.SessionKey("p"))
			r.clock.Add(50 * time.Minute)
		}, code: true, served: true, left: "10m"},
		{name: "inside the margin", setup: func(r *rig) {
			r.store.Delete(cache.SessionKey("p"))
			r.clock.Add(59*time.Minute + 30*time.Second)
		}},
		{name: "force", setup: func(r *rig) { r.clock.Add(50 * time.Minute) }, force: true},
		{name: "stale record of another role", setup: func(r *rig) {
			r.store.Delete(cache.SessionKey("p"))
			r.clock.Add(50 * time.Minute)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			first := r.mustLogin(t, profile())
			tt.setup(r)
			p := profile()
			if tt.name == "stale record of another role" {
				p.RoleARN = admin
			}
			r.idp.codeNeeded = tt.code
			if tt.code {
				r.prompt.secret = ptr(password) // the password comes, the code cannot
			}
			res, err := r.b.Credentials(context.Background(), p, Options{Force: tt.force, LoginHint: hint})
			if tt.served {
				if err != nil {
					t.Fatal(err)
				}
				if !res.Cached || res.Credentials != first.Credentials {
					t.Errorf("want the stale record served, got %+v", res)
				}
				n := r.notice.String()
				if strings.Count(n, "\n") != 1 || !strings.Contains(n, hint) || !strings.Contains(n, "expire in "+tt.left) {
					t.Errorf("notice %q: want one line naming %q and %s left", n, hint, tt.left)
				}
				return
			}
			if !errors.Is(err, idp.ErrNoTerminal) {
				t.Fatalf("want ErrNoTerminal, got %v", err)
			}
			ne, ok := errorsAs[*NeedLoginError](err)
			if !ok || ne.Hint != hint || !strings.Contains(err.Error(), hint) {
				t.Errorf("want *NeedLoginError naming %q, got %v", hint, err)
			}
			if res != nil {
				t.Errorf("result with an error: %+v", res)
			}
		})
	}
}

func TestPasswordPrompt(t *testing.T) {
	r := newRig(t)
	r.prompt.secret = ptr(password)
	if _, err := r.b.Credentials(context.Background(), profile(), Options{}); err != nil {
		t.Fatal(err)
	}
	if len(r.prompt.asked) != 1 || r.prompt.asked[0] != "Password for ana" {
		t.Errorf("asked %q, want the password for ana", r.prompt.asked)
	}
	// Options.Password wins over the prompt.
	r = newRig(t)
	r.prompt.secret = ptr("wrong")
	if _, err := r.b.Credentials(context.Background(), profile(), Options{Password: pw}); err != nil {
		t.Fatal(err)
	}
	if len(r.prompt.asked) != 0 {
		t.Errorf("prompted %q although a password source was given", r.prompt.asked)
	}
}

func TestSTS(t *testing.T) {
	t.Run("notice", func(t *testing.T) {
		r := newRig(t)
		r.sts.notice = "session is 1h, not the 12h asked: the role allows at most 1h"
		r.mustLogin(t, profile())
		if got := r.notice.String(); got != "saml2sts: "+r.sts.notice+"\n" {
			t.Errorf("notice %q", got)
		}
	})
	t.Run("error keeps the IdP session", func(t *testing.T) {
		r := newRig(t)
		stsErr := &sts.Error{Op: "AssumeRoleWithSAML", Code: "AccessDenied", Message: "Not authorized", Status: 403}
		r.sts.err = stsErr
		_, err := r.b.Credentials(context.Background(), profile(), Options{Password: pw, LoginHint: hint})
		if e, ok := errorsAs[*sts.Error](err); !ok || e != stsErr || err != error(stsErr) {
			t.Fatalf("want the *sts.Error unchanged, got %#v", err)
		}
		if _, err := r.store.Get(cache.CredsKey("p")); !errors.Is(err, cache.ErrNotFound) {
			t.Errorf("credentials cached after an STS failure: %v", err)
		}
		if _, err := r.store.Get(cache.SessionKey("p")); err != nil {
			t.Fatalf("IdP session not kept: %v", err)
		}
		// The retry, after the backoff step, rides on the session: no
		// password source needed.
		r.sts.err = nil
		r.clock.Add(time.Minute)
		if _, err := r.b.Credentials(context.Background(), profile(), Options{LoginHint: hint}); err != nil {
			t.Fatal(err)
		}
		if !r.idp.withSession[1] || len(r.idp.passwords) != 1 {
			t.Errorf("retry did not reuse the session: %v, %d passwords", r.idp.withSession, len(r.idp.passwords))
		}
	})
	t.Run("region", func(t *testing.T) {
		r := newRig(t)
		var got []string
		r.b.NewSTS = func(_ context.Context, region string) (STS, error) {
			got = append(got, region)
			return r.sts, nil
		}
		res := r.mustLogin(t, profile(func(p *config.Profile) { p.Region = "" }))
		// The global sign-in endpoint means the partition default.
		if len(got) != 1 || got[0] != "us-east-1" || res.Region != "us-east-1" {
			t.Errorf("STS regions %q, record region %q", got, res.Region)
		}
	})
}

func TestLoginErrors(t *testing.T) {
	t.Run("auth error", func(t *testing.T) {
		r := newRig(t)
		_, err := r.b.Credentials(context.Background(), profile(), Options{
			Password: func(context.Context) (string, error) { return "nope", nil },
		})
		if _, ok := errorsAs[*idp.AuthError](err); !ok {
			t.Fatalf("want *idp.AuthError, got %v", err)
		}
		if _, err := r.store.Get(cache.SessionKey("p")); !errors.Is(err, cache.ErrNotFound) {
			t.Errorf("a failed login stored a session: %v", err)
		}
	})
	t.Run("unknown provider", func(t *testing.T) {
		r := newRig(t)
		_, err := r.b.Credentials(context.Background(), profile(func(p *config.Profile) { p.Provider = "okta" }), Options{Password: pw})
		if pe, ok := errorsAs[*ProviderError](err); !ok || pe.Name != "okta" {
			t.Fatalf("want *ProviderError for okta, got %v", err)
		}
	})
	t.Run("no url", func(t *testing.T) {
		r := newRig(t)
		_, err := r.b.Credentials(context.Background(), profile(func(p *config.Profile) { p.URL = "" }), Options{Password: pw})
		if err == nil || !strings.Contains(err.Error(), "url") || r.idp.count() != 0 {
			t.Fatalf("want a missing url error before any login, got %v", err)
		}
	})
	t.Run("bad SAMLResponse", func(t *testing.T) {
		r := newRig(t)
		r.idp.saml = "not a response"
		_, err := r.b.Credentials(context.Background(), profile(), Options{Password: pw})
		if _, ok := errorsAs[*sts.AssertionError](err); !ok {
			t.Fatalf("want *sts.AssertionError, got %v", err)
		}
	})
	t.Run("provider error after the session cookie", func(t *testing.T) {
		r := newRig(t)
		r.idp.err = &idp.PageError{Title: "Oops", URL: idpURL}
		_, err := r.b.Credentials(context.Background(), profile(), Options{Password: pw})
		if _, ok := errorsAs[*idp.PageError](err); !ok {
			t.Fatalf("want *idp.PageError, got %v", err)
		}
	})
}

// TestSingleFlight: concurrent calls on an empty cache share one login,
// within one process too (the profile lock is a file lock; flock(2) locks
// belong to the open file, so two opens in one process exclude each other).
func TestSingleFlight(t *testing.T) {
	r := newRig(t)
	r.idp.delay = 50 * time.Millisecond
	// A second broker on the same store and directory, as another command
	// in the same process would build.
	other := *r.b
	const n = 16
	var wg sync.WaitGroup
	keys := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := r.b
			if i%2 == 1 {
				b = &other
			}
			res, err := b.Credentials(context.Background(), profile(), Options{Password: pw, LoginHint: hint})
			errs[i] = err
			if err == nil {
				keys[i] = res.Credentials.AccessKeyID
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if keys[i] != keys[0] {
			t.Errorf("call %d got key %s, call 0 got %s", i, keys[i], keys[0])
		}
	}
	if got := r.idp.count(); got != 1 {
		t.Errorf("IdP logins = %d, want 1", got)
	}
	if got := r.sts.count(); got != 1 {
		t.Errorf("STS calls = %d, want 1", got)
	}
}

func TestLockHonoursContext(t *testing.T) {
	r := newRig(t)
	unlock, err := cache.Lock(context.Background(), r.b.Dir, "profile-p")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := r.b.Credentials(ctx, profile(), Options{Password: pw}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want the lock wait to end with the context, got %v", err)
	}
	if r.idp.count() != 0 {
		t.Errorf("logged in without the lock")
	}
}

func TestIndexAndForget(t *testing.T) {
	r := newRig(t)
	res := r.mustLogin(t, profile())
	idx, err := cache.ReadIndex(r.b.Dir)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := idx["p"]
	if !ok || m.RoleARN != reader || m.Backend != "file" || !m.Expiration.Equal(res.Credentials.Expiration) || !m.HasSession || m.Region != "eu-west-1" {
		t.Fatalf("index entry %+v", m)
	}
	// Another profile is left alone.
	r.mustLogin(t, profile(func(p *config.Profile) { p.Name = "q" }))

	if err := r.b.Forget("p"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{cache.CredsKey("p"), cache.SessionKey("p")} {
		if _, err := r.store.Get(k); !errors.Is(err, cache.ErrNotFound) {
			t.Errorf("%s still stored: %v", k, err)
		}
	}
	idx, _ = cache.ReadIndex(r.b.Dir)
	if _, ok := idx["p"]; ok {
		t.Errorf("index still lists p")
	}
	if _, ok := idx["q"]; !ok {
		t.Errorf("Forget(p) dropped q from the index")
	}
	if _, err := r.b.Cached(profile(func(p *config.Profile) { p.Name = "q" })); err != nil {
		t.Errorf("Forget(p) dropped q's credentials: %v", err)
	}
	// Forgetting twice is fine.
	if err := r.b.Forget("p"); err != nil {
		t.Errorf("second Forget: %v", err)
	}
}

func TestCorruptRecordIsAMiss(t *testing.T) {
	tests := []struct{ name, raw string }{
		{"not json", "{garbage"},
		{"no access key", `{"profile":"p","role_arn":"` + reader + `","credentials":{"Expiration":"2099-01-01T00:00:00Z"}}`},
		{"wrong type", `{"profile":"p","credentials":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			if err := r.store.Set(cache.CredsKey("p"), []byte(tt.raw)); err != nil {
				t.Fatal(err)
			}
			if _, err := r.b.Cached(profile()); !errors.Is(err, cache.ErrNotFound) {
				t.Errorf("Cached = %v, want ErrNotFound", err)
			}
			res := r.mustLogin(t, profile())
			if res.Cached || r.idp.count() != 1 {
				t.Errorf("corrupt record served: %+v", res)
			}
		})
	}
}

// TestCorruptSessionIsNoSession: an unreadable stored IdP session means a
// login with the password, not a failure.
func TestCorruptSessionIsNoSession(t *testing.T) {
	r := newRig(t)
	r.store.Set(cache.SessionKey("p"), []byte("{not a jar"))
	r.mustLogin(t, profile())
	if r.idp.withSession[0] || len(r.idp.passwords) != 1 {
		t.Errorf("corrupt session: with session %v, passwords %d", r.idp.withSession, len(r.idp.passwords))
	}
}

// TestRefreshKeepsPickedRole: with no role_arn and several roles, the role
// picked at login is kept by later refreshes, which may have no terminal
// to show the picker on; --force shows the picker again.
func TestRefreshKeepsPickedRole(t *testing.T) {
	r := newRig(t, reader+","+provCorp, admin+","+provCorp)
	r.prompt.choice = ptr(1)
	p := profile(func(p *config.Profile) { p.RoleARN = "" })
	if res := r.mustLogin(t, p); res.RoleARN != admin {
		t.Fatalf("picked %s, want %s", res.RoleARN, admin)
	}
	r.prompt.choice = nil // no terminal from now on
	r.prompt.asked = nil
	r.clock.Add(50 * time.Minute)
	res, err := r.b.Credentials(context.Background(), p, Options{LoginHint: hint})
	if err != nil {
		t.Fatalf("silent refresh: %v", err)
	}
	if res.Cached || res.RoleARN != admin || len(r.prompt.asked) != 0 {
		t.Errorf("refresh: role %s, cached %v, asked %q; want a silent re-mint of %s", res.RoleARN, res.Cached, r.prompt.asked, admin)
	}
	if got := r.sts.roles[1].RoleARN; got != admin {
		t.Errorf("STS asked for %s", got)
	}

	r.prompt.choice = ptr(0)
	res, err = r.b.Credentials(context.Background(), p, Options{Force: true, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if res.RoleARN != reader || len(r.prompt.asked) != 1 {
		t.Errorf("--force: role %s, asked %q; want the picker and %s", res.RoleARN, r.prompt.asked, reader)
	}
}

// TestRejected: credentials a server refused as expired are renewed
// through the stored IdP session even though the local clock calls them
// fresh; a second caller with the same rejected key gets the renewed ones
// without another login; without a session and a terminal the rejected
// ones are not handed out again.
func TestRejected(t *testing.T) {
	r := newRig(t)
	p := profile()
	first := r.mustLogin(t, p)
	ctx := context.Background()

	got, err := r.b.Credentials(ctx, p, Options{Rejected: first.Credentials.AccessKeyID, LoginHint: hint})
	if err != nil {
		t.Fatal(err)
	}
	if got.Cached || got.Credentials.AccessKeyID == first.Credentials.AccessKeyID {
		t.Fatalf("rejected credentials served again: %+v", got)
	}
	if n := r.sts.count(); n != 2 || !r.idp.withSession[1] {
		t.Errorf("STS calls = %d, session reused = %v; want 2 and a silent login", n, r.idp.withSession[1])
	}
	// Another process with the same stale key: the renewed record is served.
	again, err := r.b.Credentials(ctx, p, Options{Rejected: first.Credentials.AccessKeyID, LoginHint: hint})
	if err != nil || !again.Cached || again.Credentials != got.Credentials {
		t.Errorf("second caller: %+v, %v; want the renewed credentials from the cache", again, err)
	}
	if n := r.sts.count(); n != 2 {
		t.Errorf("STS calls = %d after the second caller; want 2", n)
	}
	// No IdP session, no terminal: a login is needed, not the refused key.
	if err := r.store.Delete(cache.SessionKey(p.Name)); err != nil {
		t.Fatal(err)
	}
	_, err = r.b.Credentials(ctx, p, Options{Rejected: got.Credentials.AccessKeyID, LoginHint: hint})
	if _, ok := errorsAs[*NeedLoginError](err); !ok {
		t.Errorf("err = %v; want a *NeedLoginError", err)
	}
}

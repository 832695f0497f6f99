package broker

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/internal/credrec"
)

// TestWarmPathAgrees feeds the broker (the full binary's path) and the
// warm-path helper's decision (credrec.ReadSettings + credrec.Serve) the
// same profiles file and the same stored records: both serve exactly the
// same records, with byte-identical credential_process output, and leave
// the rest (stale, expired, another identity or role, corrupt) to a login.
func TestWarmPathAgrees(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cfg := filepath.Join(t.TempDir(), "config")
	body := "[profile p]\nprovider = keycloak\nurl = " + idpURL + "\nusername = ana\nrole_arn = " + reader + "\nregion = eu-west-1\nrefresh_window = 20m\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := config.Resolve(f, "p", func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := credrec.ReadSettings(cfg, "p", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	rec := func(exp time.Duration, mod ...func(*Record)) []byte {
		r := &Record{Profile: "p", RoleARN: reader, PrincipalARN: provCorp, Region: "eu-west-1", Identity: identity(p), Issued: now,
			Credentials: credrec.Credentials{AccessKeyID: "ASIACACHED", SecretAccessKey: "cached-secret", SessionToken: "cached-token", Expiration: now.Add(exp)}}
		for _, m := range mod {
			m(r)
		}
		b, err := credrec.Encode(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name  string
		raw   []byte // nil: no record
		serve bool
	}{
		{"fresh", rec(time.Hour), true},
		{"fresh with an offset expiry", rec(time.Hour, func(r *Record) { r.Credentials.Expiration = r.Credentials.Expiration.In(time.FixedZone("x", 3600)) }), true},
		{"just past the window", rec(20*time.Minute + time.Second), true},
		{"at the window", rec(20 * time.Minute), false},
		{"stale", rec(10 * time.Minute), false},
		{"expired", rec(-time.Minute), false},
		{"another identity", rec(time.Hour, func(r *Record) { r.Identity = credrec.Identity("keycloak", idpURL, "bob", "") }), false},
		{"another role", rec(time.Hour, func(r *Record) { r.RoleARN = admin }), false},
		{"no access key", rec(time.Hour, func(r *Record) { r.Credentials.AccessKeyID = "" }), false},
		{"corrupt", []byte(`{"credentials":{"AccessKeyId":`), false},
		{"not a record", []byte(`[1,2]`), false},
		{"missing", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			r.clock.t = now
			if c.raw != nil {
				if err := r.store.Set(cache.CredsKey("p"), c.raw); err != nil {
					t.Fatal(err)
				}
			}
			res, err := r.b.Credentials(context.Background(), p, Options{Password: pw, LoginHint: hint})
			if err != nil {
				t.Fatal(err)
			}
			brokerServed := res.Cached && res.Renewal == nil && r.idp.count() == 0
			var brokerLine []byte
			if brokerServed {
				b, err := credrec.ProcessJSON(res.Credentials)
				if err != nil {
					t.Fatal(err)
				}
				brokerLine = append(b, '\n')
			}
			line, helperServed := credrec.Serve(c.raw, s.Want(), now) // what the store held
			if brokerServed != c.serve || helperServed != c.serve {
				t.Fatalf("served: broker %v, helper %v, want %v", brokerServed, helperServed, c.serve)
			}
			if !bytes.Equal(line, brokerLine) {
				t.Errorf("output differs:\nhelper %s\nbroker %s", line, brokerLine)
			}
			if c.serve && !bytes.Contains(line, []byte(`"Expiration":"2026-03-01T`)) {
				t.Errorf("output %s", line)
			}
		})
	}
}

// askedPrompt counts how often the broker asks whether a terminal is
// there (for the real prompter that opens /dev/tty).
type askedPrompt struct {
	*fakePrompt
	asked int
}

func (a *askedPrompt) Interactive() bool { a.asked++; return false }

// TestWarmCallLeavesTerminal: a cached answer never asks for the terminal;
// a login with no terminal does, to bound its wait for the lock.
func TestWarmCallLeavesTerminal(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ap := &askedPrompt{fakePrompt: r.prompt}
	r.b.Prompt = ap
	p := profile()
	o := Options{Password: pw, LoginHint: hint, NoTerminalWait: time.Minute}
	if _, err := r.b.Credentials(context.Background(), p, o); err != nil {
		t.Fatal(err)
	}
	if ap.asked == 0 {
		t.Error("a login without a terminal did not ask whether one is there")
	}
	ap.asked = 0
	res, err := r.b.Credentials(context.Background(), p, o)
	if err != nil || !res.Cached {
		t.Fatalf("warm call: %v, %+v", err, res)
	}
	if ap.asked != 0 {
		t.Errorf("a warm call asked for the terminal %d times", ap.asked)
	}
}

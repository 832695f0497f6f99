package adfs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/idptest"
)

// krbSPN is the service principal of the AD FS emulator, which listens
// on 127.0.0.1.
const krbSPN = "HTTP/127.0.0.1"

// kerberosRealm starts a KDC for CORP.EXAMPLE with ana and the
// emulator's SPN, and a ticket cache with ana's TGT; KRB5CCNAME and
// KRB5_CONFIG point at them for the test.
func kerberosRealm(t *testing.T) (*idptest.KDC, string) {
	t.Helper()
	k := idptest.StartKDC(t, idptest.KDCOptions{Users: map[string]string{"ana": password}, Services: []string{krbSPN}})
	cc := filepath.Join(t.TempDir(), "krb5cc_ana")
	k.Kinit(t, "ana", password, cc, "")
	t.Setenv("KRB5CCNAME", "FILE:"+cc)
	t.Setenv("KRB5_CONFIG", k.Config)
	return k, cc
}

// kerberosRun is a login with adfs_auth = kerberos whose password
// function records any call.
func kerberosRun(t *testing.T, rawURL string) *run {
	return newRun(t, rawURL, func(q *idp.Request) {
		q.Options = map[string]string{OptionAuth: AuthKerberos}
		q.MFACode = code
		q.Clock = idptest.NewClock(time.Now()) // tickets are judged by it
	})
}

// TestKerberos: with a TGT in the cache, AD FS's Negotiate challenge is
// answered with a real service ticket, verified by the emulator with the
// keytab; no password is asked, no form posted.
func TestKerberos(t *testing.T) {
	k, _ := kerberosRealm(t)
	for _, tt := range []struct {
		name string
		mfa  idptest.ADFSMFA
	}{
		{name: "no mfa"},
		{name: "then vip", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSVIP, Code: code}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newADFS(t, idptest.ADFSOptions{WIA: true, KerberosKeytab: k.Keytab, Users: []idptest.ADFSUser{user(tt.mfa)}})
			r := kerberosRun(t, a.BaseURL())
			saml, err := New().Login(context.Background(), r.req)
			if err != nil {
				t.Fatal(err)
			}
			decoded(t, saml)
			s := a.Stats()
			if s.KerberosLogins != 1 || s.KerberosFailures != 0 || s.PasswordPosts != 0 || s.NTLMLogins != 0 || r.pwCalls != 0 {
				t.Errorf("stats %+v, password asked %d times: want one Kerberos login and no password", s, r.pwCalls)
			}
			if tt.mfa.Adapter != "" && s.MFAPasses != 1 {
				t.Errorf("stats %+v: want the MFA passed after Kerberos", s)
			}
			if r.notice.Len() != 0 || len(r.prompt.asked) != 0 {
				t.Errorf("notice %q, asked %q; want neither", r.notice, r.prompt.asked)
			}
		})
	}
}

// TestKerberosFallback: every reason Kerberos cannot be used ends in the
// forms login, with one notice naming the reason.
func TestKerberosFallback(t *testing.T) {
	k, cc := kerberosRealm(t)
	dir := t.TempDir()
	// A second realm of the same name: its HTTP/127.0.0.1 key is not the
	// one the emulator's keytab holds.
	other := idptest.StartKDC(t, idptest.KDCOptions{Services: []string{krbSPN}})
	// A realm whose KDC has never heard of the AD FS service.
	bare := idptest.StartKDC(t, idptest.KDCOptions{Users: map[string]string{"ana": password}})
	bareCC := filepath.Join(dir, "bare")
	bare.Kinit(t, "ana", password, bareCC, "")
	// A TGT that lives one second, judged an hour later (the login's
	// clock).
	expired := filepath.Join(dir, "expired")
	k.Kinit(t, "ana", password, expired, "1s")
	later := idptest.NewClock(time.Now().Add(time.Hour))
	// krb5.conf that knows no KDC for CORP.EXAMPLE.
	unknown := filepath.Join(dir, "unknown.conf")
	os.WriteFile(unknown, []byte("[libdefaults]\n default_realm = OTHER.EXAMPLE\n dns_lookup_kdc = false\n dns_lookup_realm = false\n"+
		"[realms]\n OTHER.EXAMPLE = {\n  kdc = 127.0.0.1:1\n }\n"), 0o600)

	tests := []struct {
		name     string
		env      map[string]string
		clock    idp.Clock // nil: the run's (now)
		noWIA    bool
		keytab   bool // the emulator has a keytab, but another realm's
		notice   string
		failures int
	}{
		{name: "no ticket cache", env: map[string]string{"KRB5CCNAME": "FILE:" + filepath.Join(dir, "missing")}, notice: "no Kerberos ticket cache at " + filepath.Join(dir, "missing")},
		{name: "plain path cache missing", env: map[string]string{"KRB5CCNAME": filepath.Join(dir, "missing")}, notice: "(run kinit, or set KRB5CCNAME)"},
		{name: "kcm cache", env: map[string]string{"KRB5CCNAME": "KCM:"}, notice: "is a KCM cache; saml2sts reads only FILE: caches"},
		{name: "expired", env: map[string]string{"KRB5CCNAME": "FILE:" + expired}, clock: later, notice: "the Kerberos ticket of ana@CORP.EXAMPLE in " + expired + " expired at"},
		{name: "no config", env: map[string]string{"KRB5_CONFIG": filepath.Join(dir, "none.conf")}, notice: "no Kerberos configuration: KRB5_CONFIG="},
		{name: "unknown realm", env: map[string]string{"KRB5_CONFIG": unknown}, notice: "no Kerberos service ticket for HTTP/127.0.0.1"},
		{name: "service unknown to the KDC", env: map[string]string{"KRB5CCNAME": "FILE:" + bareCC, "KRB5_CONFIG": bare.Config},
			notice: "no Kerberos service ticket for HTTP/127.0.0.1"},
		{name: "ticket refused", keytab: true, notice: "AD FS did not accept the Kerberos ticket for HTTP/127.0.0.1", failures: 1},
		{name: "no wia", noWIA: true, notice: "AD FS answered with its sign-in form, not Windows integrated authentication"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KRB5CCNAME", "FILE:"+cc)
			t.Setenv("KRB5_CONFIG", k.Config)
			for n, v := range tt.env {
				t.Setenv(n, v)
			}
			o := idptest.ADFSOptions{WIA: !tt.noWIA, KerberosKeytab: k.Keytab, Users: []idptest.ADFSUser{user(idptest.ADFSMFA{})}}
			if tt.keytab {
				o.KerberosKeytab = other.Keytab
			}
			a := newADFS(t, o)
			r := kerberosRun(t, a.URL())
			if tt.clock != nil {
				r.req.Clock = tt.clock
			}
			saml, err := New().Login(context.Background(), r.req)
			if err != nil {
				t.Fatalf("login failed instead of falling back to the form: %v", err)
			}
			decoded(t, saml)
			if got := r.notice.String(); !strings.Contains(got, tt.notice) || strings.Count(got, "\n") != 1 {
				t.Errorf("notice %q; want one line with %q", got, tt.notice)
			}
			if s := a.Stats(); s.PasswordPosts != 1 || s.KerberosLogins != 0 || s.KerberosFailures != tt.failures || r.pwCalls != 1 {
				t.Errorf("stats %+v, password asked %d times: want the form once", s, r.pwCalls)
			}
			if strings.Contains(r.notice.String(), password) {
				t.Error("notice leaks the password")
			}
		})
	}
}

func TestTicketCachePath(t *testing.T) {
	tests := []struct{ env, want, err string }{
		{env: "FILE:/tmp/cc", want: "/tmp/cc"},
		{env: "/tmp/cc", want: "/tmp/cc"},
		{env: "", want: "/tmp/krb5cc_"},
		{env: "KEYRING:persistent:1000", err: "is a KEYRING cache"},
		{env: "DIR:/run/user/1000/krb5cc", err: "is a DIR cache"},
	}
	for _, tt := range tests {
		got, err := ticketCache(func(k string) string {
			if k == "KRB5CCNAME" {
				return tt.env
			}
			return ""
		})
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("KRB5CCNAME=%q: %q, %v; want error %q", tt.env, got, err, tt.err)
			}
			continue
		}
		if err != nil || !strings.HasPrefix(got, tt.want) {
			t.Errorf("KRB5CCNAME=%q: %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
	if s := servicePrincipal("https://ADFS.corp.example.:443/adfs/ls/wia?x=1"); s != "HTTP/adfs.corp.example" {
		t.Errorf("servicePrincipal = %q", s)
	}
}

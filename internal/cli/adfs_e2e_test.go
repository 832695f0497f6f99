package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

const (
	adfsUPN  = "ana@corp.example"
	adfsCode = "271828"
)

// adfsWorld is a bare world with an AD FS emulator and a profile "a" whose
// url is just the emulator's host.
func adfsWorld(t *testing.T, o idptest.ADFSOptions, configure ...string) (*world, *idptest.ADFS) {
	t.Helper()
	if o.Users == nil {
		o.Users = []idptest.ADFSUser{{Username: adfsUPN, Password: password, Roles: []string{reader + "," + provider}}}
	}
	a, err := idptest.NewADFS(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	w := newBareWorld(t, a.Certificate(), ststest.Options{})
	args := append([]string{"configure", "--profile", "a", "--provider", "adfs", "--url", a.BaseURL(),
		"--username", adfsUPN, "--region", "eu-west-1"}, configure...)
	w.mustRun("", args...)
	return w, a
}

func adfsMFA(m idptest.ADFSMFA) idptest.ADFSOptions {
	return idptest.ADFSOptions{Users: []idptest.ADFSUser{{Username: adfsUPN, Password: password, MFA: m,
		Roles: []string{reader + "," + provider}}}}
}

// checkNoSecrets fails when out holds the password, a code, an assertion,
// an AD FS session cookie (MSISAuth ...) or a Windows integrated
// authentication token (NTLM message, SPNEGO token). Each value is its own
// entry: a name shared by several values would check only the last one.
func checkNoSecrets(t *testing.T, a *idptest.ADFS, out string, codes ...string) {
	t.Helper()
	secrets := map[string]string{password: "password"}
	for _, c := range codes {
		secrets[c] = "code " + c
	}
	for _, r := range a.IssuedResponses() {
		secrets[r] = "SAMLResponse"
	}
	for _, c := range a.SessionCookies() {
		if len(c) > 8 {
			secrets[c] = "session cookie or Authorization token " + c[:8] + "…"
		}
	}
	for s, what := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("output leaks the %s", what)
		}
	}
}

// TestADFSLoginAndSilentRefresh: forms login from a bare-host url, then a
// refresh that rides on the MSISAuth session with no password at all.
func TestADFSLoginAndSilentRefresh(t *testing.T) {
	w, a := adfsWorld(t, idptest.ADFSOptions{Version: "2019"}, "--role-arn", reader, "--duration", "1h", "--refresh-window", "59m59s")
	r := w.mustRun(password, "--debug", "login", "--profile", "a", "--password-stdin")
	if !strings.Contains(r.stderr, "Logged in: profile a, role "+reader) {
		t.Errorf("login: %s", r)
	}
	time.Sleep(1100 * time.Millisecond)
	c := w.mustRun("", "credential-process", "--profile", "a")
	parseCreds(t, c.stdout)
	if s := a.Stats(); s.PasswordPosts != 1 || s.SessionReuses != 1 || s.DuplicateFields != 0 {
		t.Errorf("AD FS stats %+v: want one password post and one session reuse", s)
	}
	if got := w.st.Calls("AssumeRoleWithSAML"); got != 2 {
		t.Errorf("AssumeRoleWithSAML calls = %d, want 2", got)
	}
	iss := w.st.Issued()[0]
	out := r.stdout + r.stderr + c.stderr
	checkNoSecrets(t, a, out)
	if strings.Contains(out, iss.SecretAccessKey) || strings.Contains(out, iss.SessionToken) {
		t.Error("output leaks AWS credentials")
	}
}

func TestADFSVersions(t *testing.T) {
	for _, v := range []string{"2.0", "2012R2", "2016"} {
		t.Run(v, func(t *testing.T) {
			w, a := adfsWorld(t, idptest.ADFSOptions{Version: v}, "--role-arn", reader)
			r := w.mustRun(password, "login", "--profile", "a", "--password-stdin")
			if s := a.Stats(); s.Logins != 1 || s.SAMLIssued != 1 {
				t.Errorf("stats %+v", s)
			}
			checkNoSecrets(t, a, r.stdout+r.stderr)
		})
	}
}

// TestADFSPaths: each MFA adapter and each Windows integrated auth mode,
// and each way they fail, through the binary: exit code and message.
func TestADFSPaths(t *testing.T) {
	tests := []struct {
		name      string
		o         idptest.ADFSOptions
		configure []string
		stdin     string
		args      []string
		code      int
		msg       string // in stderr
		debug     bool   // run with --debug (the trace must not leak either)
		check     func(t *testing.T, s idptest.ADFSStats)
	}{
		{name: "wrong password", o: idptest.ADFSOptions{Users: []idptest.ADFSUser{{Username: adfsUPN, Password: "other"}}},
			stdin: password, code: 3, msg: "saml2sts: identity provider rejected the login: " + idptest.ADFSMsgBadPassword},
		{name: "idp-initiated sign-on disabled", o: idptest.ADFSOptions{IdPInitiatedDisabled: true}, stdin: password, code: 1,
			msg: "Set-AdfsProperties -EnableIdpInitiatedSignonPage $true"},
		{name: "azure mfa number match", o: adfsMFA(idptest.ADFSMFA{Adapter: idptest.ADFSAzureMFA, Number: "73"}), stdin: password,
			msg: "Azure MFA: enter the number 73 in the Microsoft Authenticator app"},
		{name: "azure mfa denied", o: adfsMFA(idptest.ADFSMFA{Adapter: idptest.ADFSAzureMFA, Deny: true}), stdin: password,
			code: 3, msg: idptest.ADFSMsgDenied},
		{name: "azure mfa code", o: adfsMFA(idptest.ADFSMFA{Adapter: idptest.ADFSAzureMFA, Code: adfsCode}), stdin: password,
			args: []string{"--mfa-code", adfsCode}},
		{name: "azure mfa server", o: adfsMFA(idptest.ADFSMFA{Adapter: idptest.ADFSAzureMFAServer}), stdin: password,
			msg: "Azure MFA Server: answer the phone call"},
		{name: "azure mfa server denied", o: adfsMFA(idptest.ADFSMFA{Adapter: idptest.ADFSAzureMFAServer, Deny: true}), stdin: password,
			code: 3, msg: "The phone call was not answered or the sign-in was denied."},
		{name: "securid", o: adfsMFA(idptest.ADFSMFA{Adapter: idptest.ADFSSecurID, Code: adfsCode}), stdin: password,
			args: []string{"--mfa-code", adfsCode}, debug: true},
		{name: "securid wrong passcode", o: adfsMFA(idptest.ADFSMFA{Adapter: idptest.ADFSSecurID, Code: adfsCode}), stdin: password,
			args: []string{"--mfa-code", "000000"}, code: 3, msg: "Access denied. The passcode you entered is incorrect."},
		{name: "securid next tokencode needs a terminal", o: adfsMFA(idptest.ADFSMFA{Adapter: idptest.ADFSSecurID, Code: adfsCode, NextCode: "314159"}),
			stdin: password, args: []string{"--mfa-code", adfsCode}, code: 4, msg: "saml2sts login --profile a"},
		{name: "symantec vip", o: adfsMFA(idptest.ADFSMFA{Adapter: idptest.ADFSVIP, Code: adfsCode}), stdin: password,
			args: []string{"--mfa-code", adfsCode}},
		{name: "symantec vip adapter wrong code", o: adfsMFA(idptest.ADFSMFA{Adapter: idptest.ADFSSymantecVIP, Code: adfsCode}), stdin: password,
			args: []string{"--mfa-code", "1"}, code: 3, msg: "The security code is not valid."},
		{name: "mfa code missing", o: adfsMFA(idptest.ADFSMFA{Adapter: idptest.ADFSVIPUPN, Code: adfsCode}), stdin: password,
			code: 4, msg: "--mfa-code"},
		{name: "method choice by mfa", o: adfsMFA(idptest.ADFSMFA{Adapter: idptest.ADFSAzureMFA, Also: []string{idptest.ADFSSecurID}, Code: adfsCode}),
			stdin: password, args: []string{"--mfa", "securid", "--mfa-code", adfsCode}},
		{name: "unsupported adapter is named", o: adfsMFA(idptest.ADFSMFA{Adapter: "SafeNet-MFA"}), stdin: password, code: 1,
			msg: "the AD FS MFA adapter Thales SafeNet (AuthMethod SafeNet-MFA) is not supported"},
		{name: "ntlm", o: idptest.ADFSOptions{WIA: true}, configure: []string{"--adfs-auth", "ntlm"}, stdin: password, debug: true,
			check: func(t *testing.T, s idptest.ADFSStats) {
				if s.NTLMLogins != 1 || s.PasswordPosts != 0 {
					t.Errorf("stats %+v: want an NTLM login and no form post", s)
				}
			}},
		{name: "ntlm wrong password", o: idptest.ADFSOptions{WIA: true, Users: []idptest.ADFSUser{{Username: adfsUPN, Password: "other"}}},
			configure: []string{"--adfs-auth", "ntlm"}, stdin: password, code: 3, msg: "AD FS refused Windows integrated authentication (NTLM)"},
		{name: "ntlm then mfa", o: func() idptest.ADFSOptions {
			o := adfsMFA(idptest.ADFSMFA{Adapter: idptest.ADFSSecurID, Code: adfsCode})
			o.WIA = true
			return o
		}(), configure: []string{"--adfs-auth", "ntlm"}, stdin: password, args: []string{"--mfa-code", adfsCode},
			check: func(t *testing.T, s idptest.ADFSStats) {
				if s.NTLMLogins != 1 || s.MFAPasses != 1 {
					t.Errorf("stats %+v", s)
				}
			}},
		{name: "ntlm falls back to forms", configure: []string{"--adfs-auth", "ntlm"}, stdin: password,
			msg: "not Windows integrated authentication", check: func(t *testing.T, s idptest.ADFSStats) {
				if s.PasswordPosts != 1 {
					t.Errorf("stats %+v", s)
				}
			}},
		{name: "bad adfs_auth", configure: nil, stdin: password, args: []string{}, code: 2, msg: `"basic" is not one of forms, ntlm, kerberos`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, a := adfsWorld(t, tt.o, append([]string{"--role-arn", reader}, tt.configure...)...)
			if tt.name == "bad adfs_auth" {
				w.env["SAML2STS_ADFS_AUTH"] = "basic"
			}
			args := append([]string{"login", "--profile", "a", "--password-stdin"}, tt.args...)
			if tt.debug {
				args = append([]string{"--debug"}, args...)
			}
			r := w.run(tt.stdin, args...)
			if tt.debug {
				if !strings.Contains(r.stderr, "debug: http") {
					t.Fatalf("no debug trace: %s", r)
				}
				if strings.Contains(r.stderr, "NTLM TlRMTVNT") || strings.Contains(r.stderr, "Basic ") {
					t.Errorf("debug trace shows an Authorization value: %s", r.stderr)
				}
				// The trace is many lines; judge the rest without it.
				var kept []string
				for _, ln := range strings.Split(r.stderr, "\n") {
					if !strings.HasPrefix(ln, "debug:") {
						kept = append(kept, ln)
					}
				}
				checkNoSecrets(t, a, r.stderr, adfsCode)
				r.stderr = strings.Join(kept, "\n")
			}
			if r.code != tt.code || !strings.Contains(r.stderr, tt.msg) {
				t.Fatalf("want exit %d with %q, got %s", tt.code, tt.msg, r)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty: %q", r.stdout)
			}
			if tt.code != 0 {
				if lines := strings.Count(strings.TrimSpace(r.stderr), "\n"); lines > 1 {
					t.Errorf("want a one-line error, got:\n%s", r.stderr)
				}
				if n := len(w.st.Issued()); n != 0 {
					t.Errorf("%d credentials minted on a failed login", n)
				}
			} else if n := len(w.st.Issued()); n != 1 {
				t.Errorf("%d credentials minted, want 1", n)
			}
			if tt.check != nil {
				tt.check(t, a.Stats())
			}
			checkNoSecrets(t, a, r.stdout+r.stderr, adfsCode)
		})
	}
}

// TestADFSPaginated: AD FS 2019's paginated sign-in (user name page, then
// password page) through the binary, a silent refresh on its session, and
// a wrong password refused in AD FS's words.
func TestADFSPaginated(t *testing.T) {
	w, a := adfsWorld(t, idptest.ADFSOptions{Paginated: true}, "--role-arn", reader, "--duration", "1h", "--refresh-window", "59m59s")
	r := w.mustRun(password, "login", "--profile", "a", "--password-stdin")
	time.Sleep(1100 * time.Millisecond)
	c := w.mustRun("", "credential-process", "--profile", "a")
	parseCreds(t, c.stdout)
	if s := a.Stats(); s.UsernamePosts != 1 || s.PasswordPosts != 1 || s.SessionReuses != 1 || s.DuplicateFields != 0 || s.Errors != 0 {
		t.Errorf("AD FS stats %+v: want one user name post, one password post, one session reuse", s)
	}
	checkNoSecrets(t, a, r.stdout+r.stderr+c.stderr)

	w2, a2 := adfsWorld(t, idptest.ADFSOptions{Paginated: true, Users: []idptest.ADFSUser{{Username: adfsUPN, Password: "other"}}}, "--role-arn", reader)
	bad := w2.run(password, "login", "--profile", "a", "--password-stdin")
	if bad.code != 3 || !strings.Contains(bad.stderr, "identity provider rejected the login: "+idptest.ADFSMsgBadPassword) {
		t.Errorf("wrong password: want exit 3 with AD FS's message, got %s", bad)
	}
	if s := a2.Stats(); s.PasswordPosts != 1 {
		t.Errorf("wrong password posted %d times, want once", s.PasswordPosts)
	}
}

// TestADFSKerberos: adfs_auth = kerberos against a real MIT KDC on
// loopback. With a TGT in $KRB5CCNAME the login asks for nothing (no
// terminal, no --password-stdin) and AD FS verifies the ticket with its
// keytab; without a usable cache it signs in with the form after a
// one-line notice.
func TestADFSKerberos(t *testing.T) {
	k := idptest.StartKDC(t, idptest.KDCOptions{Users: map[string]string{"ana": password}, Services: []string{"HTTP/127.0.0.1"}})
	cc := filepath.Join(t.TempDir(), "krb5cc")
	k.Kinit(t, "ana", password, cc, "")
	tests := []struct {
		name     string
		ccache   string
		stdin    string
		args     []string
		notice   string
		kerberos int // Kerberos logins
		forms    int // password posts
	}{
		{name: "ticket cache", ccache: "FILE:" + cc, kerberos: 1},
		{name: "no ticket cache", ccache: "FILE:" + cc + ".missing", stdin: password, args: []string{"--password-stdin"},
			notice: "saml2sts: adfs_auth = kerberos: no Kerberos ticket cache at " + cc + ".missing (run kinit, or set KRB5CCNAME); signing in with the AD FS form instead",
			forms:  1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, a := adfsWorld(t, idptest.ADFSOptions{WIA: true, KerberosKeytab: k.Keytab}, "--role-arn", reader, "--adfs-auth", "kerberos")
			w.env["KRB5CCNAME"] = tt.ccache
			w.env["KRB5_CONFIG"] = k.Config
			r := w.run(tt.stdin, append([]string{"--debug", "login", "--profile", "a"}, tt.args...)...)
			if r.code != 0 || !strings.Contains(r.stderr, "Logged in: profile a, role "+reader) {
				t.Fatalf("login: %s", r)
			}
			if tt.notice != "" && !strings.Contains(r.stderr, tt.notice) {
				t.Errorf("want notice %q, got %s", tt.notice, r.stderr)
			}
			if tt.notice == "" && strings.Contains(r.stderr, "adfs_auth = kerberos") {
				t.Errorf("unexpected fallback: %s", r.stderr)
			}
			if s := a.Stats(); s.KerberosLogins != tt.kerberos || s.PasswordPosts != tt.forms || s.NTLMLogins != 0 {
				t.Errorf("AD FS stats %+v: want %d Kerberos logins, %d password posts", s, tt.kerberos, tt.forms)
			}
			if strings.Contains(r.stderr, "Negotiate YI") || strings.Contains(r.stderr, "Negotiate oY") {
				t.Error("debug trace shows the Negotiate token")
			}
			checkNoSecrets(t, a, r.stdout+r.stderr)
			if n := len(w.st.Issued()); n != 1 {
				t.Errorf("%d credentials minted, want 1", n)
			}
		})
	}
}

// TestADFSPassiveEndpointURL: the url users copy most, https://host/adfs/ls/,
// is an AD FS error page on its own; it signs in through the sign-on page.
func TestADFSPassiveEndpointURL(t *testing.T) {
	w, a := adfsWorld(t, idptest.ADFSOptions{}, "--role-arn", reader)
	w.mustRun("", "configure", "--profile", "a", "--url", a.BaseURL()+"/adfs/ls/")
	r := w.mustRun(password, "login", "--profile", "a", "--password-stdin")
	if st := a.Stats(); st.PasswordPosts != 1 || st.SAMLIssued != 1 {
		t.Errorf("stats %+v", st)
	}
	checkNoSecrets(t, a, r.stdout+r.stderr)
}

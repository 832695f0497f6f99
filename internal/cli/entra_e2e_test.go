package cli_test

import (
	"crypto/x509"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

// Microsoft Entra ID end to end: the built binary against idptest's Entra
// emulator (and, for a federated domain, its AD FS emulator) and the STS
// emulator, with no terminal.

const (
	entraUser = "ana@corp.example"
	entraOTP  = "624913"
	entraSMS  = "380517"
)

type entraWorld struct {
	*world
	e *idptest.Entra
	a *idptest.ADFS
}

// newEntraWorld starts a tenant whose user ana is u (Username, Password
// and Roles filled in) and configures profile "o" for it.
func newEntraWorld(t *testing.T, o idptest.EntraOptions, u idptest.EntraUser, extra ...string) *entraWorld {
	t.Helper()
	u.Username, u.Roles = entraUser, []string{reader + "," + provider, provider + "," + admin}
	if !u.Federated && !u.Passwordless {
		u.Password = password
	}
	w := &entraWorld{}
	if u.Federated {
		a, err := idptest.NewADFS(idptest.ADFSOptions{Users: []idptest.ADFSUser{{Username: entraUser, Password: password}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		o.ADFS, w.a = a, a
	}
	o.Users = []idptest.EntraUser{u}
	if o.PollInterval == 0 {
		o.PollInterval = 1e-9 // the binary polls at once; the pacing is unit-tested with a fake clock
	}
	e, err := idptest.NewEntra(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	w.e = e
	w.world = newBareWorld(t, e.Certificate(), ststest.Options{})
	w.mustRun("", append([]string{"configure", "--profile", "o", "--provider", "entra", "--url", e.URL(), "--username", entraUser,
		"--region", "eu-west-1", "--role-arn", reader}, extra...)...)
	return w
}

// scan fails the test when output shows a secret: the password, a code,
// a flowToken, ctx, canary, SAS session, ESTSAUTH* cookie, AD FS cookie or
// wresult token, or a SAMLResponse.
func (w *entraWorld) scan(rs ...result) {
	w.t.Helper()
	secrets := map[string]string{password: "password", entraOTP: "otp code", entraSMS: "sms code"}
	for _, s := range w.e.Secrets() {
		secrets[s] = "entra token " + s[:min(8, len(s))] + "…"
	}
	for _, s := range w.e.IssuedResponses() {
		secrets[s] = "SAMLResponse"
	}
	if w.a != nil {
		for _, s := range w.a.SessionCookies() {
			secrets[s] = "AD FS secret"
		}
	}
	for _, r := range rs {
		for s, what := range secrets {
			if s != "" && (strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s)) {
				w.t.Errorf("output leaks the %s:\n%s", what, r)
			}
		}
		// The password and codes in any encoding (URL, HTML, JSON, base64).
		noEncodedSecret(w.t, "output", r.stdout+r.stderr, password, entraOTP, entraSMS)
	}
}

func TestEntraLogin(t *testing.T) {
	t.Parallel()
	push := idptest.EntraMethod{ID: idptest.EntraPush, Default: true, Number: 42, After: 2}
	otp := idptest.EntraMethod{ID: idptest.EntraOTP, Code: entraOTP}
	tests := []struct {
		name   string
		o      idptest.EntraOptions
		u      idptest.EntraUser
		conf   []string // more configure flags
		args   []string
		url    func(*idptest.Entra) string
		stderr string // a line the user must see (regexp)
		check  func(t *testing.T, s idptest.EntraStats)
	}{
		{name: "password", check: func(t *testing.T, s idptest.EntraStats) {
			if s.PasswordPosts != 1 || s.KMSIYes != 1 || s.MissingHeaders != 0 || s.StaleTokens != 0 {
				t.Errorf("stats %+v", s)
			}
		}},
		{name: "push number matching", u: idptest.EntraUser{Methods: []idptest.EntraMethod{push, otp}},
			stderr: `(?m)^saml2sts: Microsoft Authenticator: enter 42 in the app$`, check: func(t *testing.T, s idptest.EntraStats) {
				if s.EndAuths != 3 || s.ProcessAuths != 1 {
					t.Errorf("stats %+v", s)
				}
			}},
		{name: "totp", u: idptest.EntraUser{Methods: []idptest.EntraMethod{push, otp}}, args: []string{"--mfa", "totp", "--mfa-code", entraOTP}},
		{name: "auto with a code", u: idptest.EntraUser{Methods: []idptest.EntraMethod{push, otp}}, args: []string{"--mfa-code", entraOTP}},
		{name: "sms", u: idptest.EntraUser{Methods: []idptest.EntraMethod{push, {ID: idptest.EntraSMS, Code: entraSMS}}},
			args: []string{"--mfa", "sms", "--mfa-code", entraSMS}, stderr: `Entra sent a text message to \+XX`},
		{name: "call", u: idptest.EntraUser{Methods: []idptest.EntraMethod{push, {ID: idptest.EntraCall}}}, conf: []string{"--mfa", "call"},
			stderr: `calling \+XX XXXXXXX89: answer and press #`},
		{name: "system-preferred", o: idptest.EntraOptions{SystemPreferred: idptest.EntraPush},
			u:      idptest.EntraUser{Methods: []idptest.EntraMethod{{ID: idptest.EntraSMS, Code: entraSMS, Default: true}, push}},
			stderr: `Entra uses push instead of sms \(system-preferred MFA\)`},
		{name: "federated", u: idptest.EntraUser{Federated: true, Methods: []idptest.EntraMethod{otp}}, args: []string{"--mfa-code", entraOTP},
			stderr: `signs in at its own identity provider`, check: func(t *testing.T, s idptest.EntraStats) {
				if s.Federated != 1 || s.PasswordPosts != 0 {
					t.Errorf("stats %+v", s)
				}
			}},
		{name: "my apps url", url: (*idptest.Entra).UserAccessURL},
		{name: "kmsi skipped", o: idptest.EntraOptions{SkipKMSI: true}, check: func(t *testing.T, s idptest.EntraStats) {
			if s.KMSIShown != 0 {
				t.Errorf("stats %+v", s)
			}
		}},
		{name: "device auth tls", o: idptest.EntraOptions{DeviceAuthTls: true}, check: func(t *testing.T, s idptest.EntraStats) {
			if s.DeviceAuthTls != 1 {
				t.Errorf("stats %+v", s)
			}
		}},
		{name: "proof-up nag", u: idptest.EntraUser{ProofUp: "skip"}, stderr: `register more security info; skipped`},
		{name: "second aws app", o: idptest.EntraOptions{EntityID: "https://signin.aws.amazon.com/saml#2"},
			conf: []string{"--entra-entity-id", "https://signin.aws.amazon.com/saml#2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newEntraWorld(t, tc.o, tc.u, tc.conf...)
			if tc.url != nil {
				w.mustRun("", "configure", "--profile", "o", "--url", tc.url(w.e))
			}
			r := w.mustRun(password, append([]string{"login", "--profile", "o", "--password-stdin"}, tc.args...)...)
			if !strings.Contains(r.stderr, "Logged in") || !regexp.MustCompile(tc.stderr).MatchString(r.stderr) {
				t.Errorf("stderr lacks %q: %s", tc.stderr, r)
			}
			c := parseCreds(t, w.mustRun("", "credential-process", "--profile", "o").stdout)
			if c.AccessKeyID != w.st.Issued()[0].AccessKeyID {
				t.Errorf("credential-process did not serve the cached login")
			}
			s := w.e.Stats()
			if s.SAMLIssued != 1 || s.SessionReuses != 0 {
				t.Errorf("entra stats %+v: want one SAML response", s)
			}
			for _, ua := range w.e.UserAgents() {
				if !strings.HasPrefix(ua, "Mozilla/5.0 (Windows NT 10.0; Win64; x64)") {
					t.Errorf("request with User-Agent %q, want a desktop browser's", ua)
				}
			}
			if tc.check != nil {
				tc.check(t, s)
			}
			w.scan(r)
		})
	}
}

func TestEntraFailures(t *testing.T) {
	t.Parallel()
	push := idptest.EntraMethod{ID: idptest.EntraPush, Default: true}
	otp := idptest.EntraMethod{ID: idptest.EntraOTP, Code: entraOTP}
	tests := []struct {
		name    string
		o       idptest.EntraOptions
		u       idptest.EntraUser
		stdin   string
		args    []string
		code    int
		want    []string
		pwPosts int
	}{
		{name: "wrong password", stdin: "wrong-password", code: 3, pwPosts: 1,
			want: []string{`saml2sts: entra: AADSTS50126 on ConvergedSignIn: "` + idptest.EntraMsgBadPassword + `"; check the password; run again with --browser`}},
		{name: "unknown user", args: []string{"--username", "bob@corp.example"}, code: 3,
			want: []string{"no such account bob@corp.example in this tenant", "run again with --browser"}},
		{name: "locked", u: idptest.EntraUser{Locked: true}, code: 3, pwPosts: 1, want: []string{"AADSTS50053 on ConvergedSignIn", idptest.EntraMsgLocked}},
		{name: "password expired", u: idptest.EntraUser{PasswordExpired: true}, code: 1, pwPosts: 1,
			want: []string{"AADSTS50055 on ConvergedChangePassword", "change it in the browser"}},
		{name: "conditional access", u: idptest.EntraUser{Blocked: true}, code: 1, pwPosts: 1,
			want: []string{`AADSTS53003 on ConvergedConditionalAccess: "` + idptest.EntraMsgBlocked + `"`, "run again with --browser"}},
		{name: "proof-up required", u: idptest.EntraUser{ProofUp: "required"}, code: 1, pwPosts: 1,
			want: []string{"AADSTS50072 on ConvergedProofUpRedirect", "aka.ms/mysecurityinfo"}},
		{name: "passwordless", u: idptest.EntraUser{Passwordless: true}, code: 1, want: []string{"signs in without a password", "--browser"}},
		{name: "push denied", u: idptest.EntraUser{Methods: []idptest.EntraMethod{{ID: idptest.EntraPush, Answer: "deny"}}}, code: 3, pwPosts: 1,
			want: []string{"AADSTS500121", idptest.EntraMsgDenied, "PhoneAppDenied"}},
		{name: "push not answered", u: idptest.EntraUser{Methods: []idptest.EntraMethod{{ID: idptest.EntraPush, Answer: "timeout"}}}, code: 3, pwPosts: 1,
			want: []string{"PhoneAppNoResponse", idptest.EntraMsgNoResponse}},
		{name: "push poll limit", o: idptest.EntraOptions{MaxPollAttempts: 3}, u: idptest.EntraUser{Methods: []idptest.EntraMethod{{ID: idptest.EntraPush, After: 99}}},
			code: 3, pwPosts: 1, want: []string{"no answer from push after 3 checks"}},
		{name: "wrong code", u: idptest.EntraUser{Methods: []idptest.EntraMethod{otp}}, args: []string{"--mfa-code", "000000"}, code: 3, pwPosts: 1,
			want: []string{idptest.EntraMsgWrongCode, "OathCodeIncorrect"}},
		{name: "code without terminal", u: idptest.EntraUser{Methods: []idptest.EntraMethod{otp}}, code: 4, pwPosts: 1},
		{name: "method not registered", u: idptest.EntraUser{Methods: []idptest.EntraMethod{push}}, args: []string{"--mfa", "sms"}, code: 2, pwPosts: 1,
			want: []string{`mfa "sms" is not one of your Entra methods (push)`}},
		{name: "wrong entity id", o: idptest.EntraOptions{EntityID: "https://signin.aws.amazon.com/saml#3"}, code: 1,
			want: []string{"AADSTS700016 on ConvergedError", "entra_entity_id must be the app's Identifier"}},
		{name: "reply url of another partition", o: idptest.EntraOptions{ReplyURLs: []string{"https://signin.amazonaws-us-gov.com/saml"}}, code: 1,
			want: []string{"AADSTS50011 on ConvergedError", "Reply URL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newEntraWorld(t, tc.o, tc.u)
			r := w.failedLogin(tc.stdin, tc.args, tc.code, tc.want...)
			if got := w.e.Stats().PasswordPosts; got != tc.pwPosts {
				t.Errorf("password posts = %d, want %d", got, tc.pwPosts)
			}
			w.scan(r)
		})
	}
}

// TestEntraConfigChecks: mistakes caught before any request, exit 2,
// nothing written.
func TestEntraConfigChecks(t *testing.T) {
	t.Parallel()
	w := newEntraWorld(t, idptest.EntraOptions{}, idptest.EntraUser{})
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--provider", "azuread"}, `"azuread" is not one of keycloak, okta, adfs, entra, form (did you mean "entra"?`},
		{[]string{"--provider", "aad"}, `did you mean "entra"`},
		{[]string{"--provider", "azure"}, `did you mean "entra"`},
		{[]string{"--url", "https://portal.azure.com/#view/Microsoft_AAD_IAM/StartboardApplicationsMenuBlade"}, "Azure portal or My Apps"},
		{[]string{"--url", "https://myapplications.microsoft.com/?tenantid=" + w.e.Tenant()}, "https://login.microsoftonline.com/<tenant-id>/saml2"},
		{[]string{"--url", "https://login.microsoftonline.com/common/saml2"}, `tenant "common", which is neither a tenant id (GUID) nor a domain`},
		{[]string{"--mfa", "yubikey"}, `mfa "yubikey" is not an Entra method`},
		{[]string{"--provider", "okta", "--url", "https://corp.okta.com/home/amazon_aws/0oa1/272", "--entra-entity-id", "https://signin.aws.amazon.com/saml#2"},
			"--entra-entity-id: applies only to provider entra"},
	}
	before := snapshot(t, w.dir)
	for _, tc := range tests {
		r := w.run("", append([]string{"configure", "--profile", "o"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("configure %v: want exit 2 with %q: %s", tc.args, tc.want, r)
		}
	}
	if after := snapshot(t, w.dir); len(after) != len(before) {
		t.Errorf("a refused configure wrote files")
	}
	for k, v := range before {
		if snapshot(t, w.dir)[k] != v {
			t.Errorf("a refused configure changed %s", k)
		}
	}
	// login refuses a bad url from the environment before any request.
	w.env["SAML2STS_URL"] = "https://login.microsoftonline.com/organizations/saml2"
	r := w.run(password, "login", "--profile", "o", "--password-stdin")
	if r.code != 2 || !strings.Contains(r.stderr, `tenant "organizations"`) || len(w.e.UserAgents()) != 0 {
		t.Errorf("login with a bad url: %s", r)
	}
}

// TestEntraSilentRefresh: after a login that said "stay signed in", stale
// credentials are re-minted from ESTSAUTHPERSISTENT in the stored jar with
// no password and no MFA; once the Entra session ends, still-valid
// credentials are served with a notice, never a hang.
func TestEntraSilentRefresh(t *testing.T) {
	t.Parallel()
	w := newEntraWorld(t, idptest.EntraOptions{}, idptest.EntraUser{Methods: []idptest.EntraMethod{{ID: idptest.EntraPush, Number: 17}}})
	first := w.mustRun(password, "login", "--profile", "o", "--password-stdin")
	ow := &oktaWorld{world: w.world}
	ow.expireIn(5 * time.Minute)
	results := w.parallelCreds("o", 6)
	if got := w.st.Calls("AssumeRoleWithSAML"); got != 2 {
		t.Errorf("AssumeRoleWithSAML calls = %d, want 2 (login + one silent re-mint)", got)
	}
	if s := w.e.Stats(); s.PasswordPosts != 1 || s.SessionReuses != 1 || s.SAMLIssued != 2 || s.BeginAuths != 1 || s.KMSIYes != 1 {
		t.Errorf("entra stats %+v: want 1 password, 1 push, 1 session reuse, 2 SAML", s)
	}
	w.scan(append(results, first)...)

	w.e.ExpireSessions()
	ow.expireIn(5 * time.Minute)
	r := w.mustRun("", "credential-process", "--profile", "o")
	if !strings.Contains(r.stderr, "saml2sts login --profile o") {
		t.Errorf("want a notice naming the login command: %s", r)
	}
	r.stdout = ""
	w.scan(r)
}

// TestEntraCodeNeverTwice: a code Entra accepted is refused when given
// again in a later run (AADSTS500121), exit 3.
func TestEntraCodeNeverTwice(t *testing.T) {
	t.Parallel()
	w := newEntraWorld(t, idptest.EntraOptions{}, idptest.EntraUser{Methods: []idptest.EntraMethod{{ID: idptest.EntraOTP, Code: entraOTP}}})
	first := w.mustRun(password, "login", "--profile", "o", "--password-stdin", "--mfa-code", entraOTP)
	r := w.run(password, "login", "--profile", "o", "--password-stdin", "--mfa-code", entraOTP, "--force")
	if r.code != 3 || !strings.Contains(r.stderr, "AADSTS500121") || !strings.Contains(r.stderr, idptest.EntraMsgDuplicateCode) {
		t.Errorf("reused code: %s", r)
	}
	if s := w.e.Stats(); s.DuplicateCodes != 1 {
		t.Errorf("stats %+v", s)
	}
	w.scan(first, r)
}

// TestEntraDebugRedaction: --debug traces the requests and saves the dead
// end page, and neither shows a token, cookie, code or the password.
func TestEntraDebugRedaction(t *testing.T) {
	t.Parallel()
	w := newEntraWorld(t, idptest.EntraOptions{}, idptest.EntraUser{Methods: []idptest.EntraMethod{{ID: idptest.EntraOTP, Code: entraOTP}}})
	w.env["TMPDIR"] = w.dir // debug folders stay in the test's directory
	r := w.run(password, "--debug", "login", "--profile", "o", "--password-stdin", "--mfa-code", entraOTP)
	if r.code != 0 || !strings.Contains(r.stderr, "debug: http") || !strings.Contains(r.stderr, "/common/SAS/EndAuth") {
		t.Fatalf("no debug trace: %s", r)
	}
	// The session then ends in a Conditional Access block on refresh.
	w2 := newEntraWorld(t, idptest.EntraOptions{}, idptest.EntraUser{Blocked: true})
	w2.env["TMPDIR"] = w2.dir
	r2 := w2.run(password, "--debug", "login", "--profile", "o", "--password-stdin")
	m := regexp.MustCompile(`redacted copy of page \S+ to (\S+)`).FindStringSubmatch(r2.stderr)
	if r2.code != 1 || m == nil {
		t.Fatalf("no saved page: %s", r2)
	}
	page, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "ConvergedConditionalAccess") {
		t.Errorf("saved page is not the dead end")
	}
	w.scan(r)
	w2.scan(r2, result{stdout: string(page)})
	for _, c := range w.st.Issued() {
		if strings.Contains(r.stderr, c.SecretAccessKey) || strings.Contains(r.stderr, c.SessionToken) {
			t.Errorf("debug output leaks AWS credentials")
		}
	}
}

// TestEntraGovCloud: a GovCloud profile asks Entra for the GovCloud ACS,
// which the app's Reply URL names; STS takes the assertion.
func TestEntraGovCloud(t *testing.T) {
	t.Parallel()
	const (
		govProvider = "arn:aws-us-gov:iam::" + account + ":saml-provider/entra"
		govRole     = "arn:aws-us-gov:iam::" + account + ":role/Analyst"
		govACS      = "https://signin.amazonaws-us-gov.com/saml"
	)
	o := idptest.EntraOptions{ReplyURLs: []string{govACS}, Users: []idptest.EntraUser{{Username: entraUser, Password: password,
		Roles: []string{govRole + "," + govProvider}}}}
	o.Destination = govACS
	e, err := idptest.NewEntra(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	w := &entraWorld{e: e, world: newBareWorld(t, e.Certificate(), ststest.Options{Providers: map[string]*x509.Certificate{govProvider: e.Certificate()}})}
	w.mustRun("", "configure", "--profile", "o", "--provider", "entra", "--url", e.URL(), "--username", entraUser,
		"--region", "us-gov-west-1", "--role-arn", govRole)
	r := w.mustRun(password, "login", "--profile", "o", "--password-stdin")
	if len(w.st.Issued()) != 1 {
		t.Errorf("no credentials: %s", r)
	}
	w.scan(r)
}

package cli_test

import (
	"crypto/x509"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/idp/idptest"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

// Duo end to end: the built binary against each IdP emulator that hands
// off to the Duo emulator (Okta Classic and Identity Engine, AD FS,
// SimpleSAMLphp, Shibboleth), for each factor and each failure, with no
// terminal.

const duoPIN = "246810"

// duoIdP is one IdP emulator with Duo attached and profile "d" configured.
type duoIdP struct {
	*world
	d       *idptest.Duo
	secrets func() []string // the IdP's tokens, cookies and assertions
	expire  func()          // ends the IdP sessions (not Duo's trust)
}

// duoIdPs start each IdP, with user ana known to Duo as du.
var duoIdPs = []struct {
	name  string
	start func(t *testing.T, d *idptest.Duo) *duoIdP
}{
	{"okta-classic", func(t *testing.T, d *idptest.Duo) *duoIdP { return duoOkta(t, d, "v1") }},
	{"okta-idx", func(t *testing.T, d *idptest.Duo) *duoIdP { return duoOkta(t, d, "idx") }},
	{"adfs", duoADFS},
	{"simplesamlphp", func(t *testing.T, d *idptest.Duo) *duoIdP { return duoForm(t, d, false) }},
	{"shibboleth", func(t *testing.T, d *idptest.Duo) *duoIdP { return duoForm(t, d, true) }},
}

func duoOkta(t *testing.T, d *idptest.Duo, pipeline string) *duoIdP {
	k, err := idptest.NewOkta(idptest.OktaOptions{Pipeline: pipeline, Duo: d, Users: []idptest.OktaUser{{
		Username: oktaUser, Password: password, Factors: []idptest.OktaFactor{{Type: "claims_provider"}},
		Roles: []string{reader + "," + provider, admin + "," + provider}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return &duoIdP{world: duoWorld(t, k.Certificate(), "okta", k.URL(), oktaUser), d: d, expire: k.ExpireSessions,
		secrets: func() []string { return append(k.Secrets(), k.IssuedResponses()...) }}
}

func duoADFS(t *testing.T, d *idptest.Duo) *duoIdP {
	a, err := idptest.NewADFS(idptest.ADFSOptions{Duo: d, Users: []idptest.ADFSUser{{Username: adfsUPN, Password: password,
		MFA: idptest.ADFSMFA{Adapter: idptest.ADFSDuo}, Roles: []string{reader + "," + provider, admin + "," + provider}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return &duoIdP{world: duoWorld(t, a.Certificate(), "adfs", a.BaseURL(), adfsUPN), d: d, expire: nil,
		secrets: func() []string { return append(a.SessionCookies(), a.IssuedResponses()...) }}
}

func duoForm(t *testing.T, d *idptest.Duo, shib bool) *duoIdP {
	start := idptest.NewSimpleSAML
	if shib {
		start = idptest.NewShibboleth
	}
	s, err := start(idptest.SimpleSAMLOptions{Duo: d, Users: []idptest.User{{Username: "ana", Password: password,
		Roles: []string{reader + "," + provider, admin + "," + provider}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return &duoIdP{world: duoWorld(t, s.Certificate(), "form", s.URL(), "ana"), d: d, expire: s.ExpireSessions,
		secrets: func() []string { return append(append(s.SessionCookies(), s.AuthStates()...), s.IssuedResponses()...) }}
}

// duoWorld is a bare world trusting cert with profile "d" for the IdP.
func duoWorld(t *testing.T, cert *x509.Certificate, prov, url, user string) *world {
	w := newBareWorld(t, cert, ststest.Options{})
	w.mustRun("", "configure", "--profile", "d", "--provider", prov, "--url", url, "--username", user,
		"--region", "eu-west-1", "--role-arn", reader, "--duration", "1h", "--refresh-window", "59m59s")
	return w
}

// newDuo starts a Duo whose users are the three IdPs' names for ana.
func newDuo(t *testing.T, o idptest.DuoOptions, u idptest.DuoUser) *idptest.Duo {
	t.Helper()
	for _, name := range []string{oktaUser, adfsUPN, "ana"} {
		u.Username = name
		o.Users = append(o.Users, u)
	}
	d, err := idptest.NewDuo(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// scan fails when any output shows the password, a passcode, Duo's sid,
// _xsrf, txid, authkey, duo_code, state or trust cookie, or a secret of
// the IdP.
func (w *duoIdP) scan(rs ...result) {
	w.t.Helper()
	secrets := map[string]string{password: "password", duoPIN: "passcode", "999999": "wrong passcode"}
	for _, s := range w.d.Secrets() {
		secrets[s] = "Duo value " + s[:min(4, len(s))] + "…"
	}
	for _, s := range w.secrets() {
		secrets[s] = "IdP secret " + s[:min(4, len(s))] + "…"
	}
	for _, iss := range w.st.Issued() {
		secrets[iss.SecretAccessKey], secrets[iss.SessionToken] = "secret key", "session token"
	}
	for _, r := range rs {
		for s, what := range secrets {
			if len(s) > 3 && (strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s)) {
				w.t.Errorf("output leaks the %s:\n%s", what, r)
			}
		}
	}
}

func phone(push, call string) idptest.DuoDevice {
	return idptest.DuoDevice{Name: "iPhone", Number: "1234", Push: push, Call: call}
}

// duoCase is one factor or failure, run against each IdP.
type duoCase struct {
	name   string
	o      idptest.DuoOptions
	user   idptest.DuoUser
	args   []string
	device string // duo_device, from the environment
	only   string // run against this IdP only: the variant is Duo's side
	stderr string // what the user is told
	check  func(t *testing.T, s idptest.DuoStats)
	code   int    // failures: the exit code
	msg    string // failures: in the error
}

// runDuoCases runs each case against each IdP (or its only one), in
// parallel, with a fresh Duo and IdP.
func runDuoCases(t *testing.T, cases []duoCase, run func(t *testing.T, c duoCase, w *duoIdP)) {
	for _, idp := range duoIdPs {
		for _, c := range cases {
			if c.only != "" && c.only != idp.name {
				continue
			}
			t.Run(idp.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				w := idp.start(t, newDuo(t, c.o, c.user))
				if c.device != "" {
					w.env["SAML2STS_DUO_DEVICE"] = c.device
				}
				run(t, c, w)
			})
		}
	}
}

// TestDuoFactorsE2E: every IdP x every factor logs in and gets credentials.
func TestDuoFactorsE2E(t *testing.T) {
	t.Parallel()
	verified := phone("approve", "")
	verified.Verified = true
	factors := []duoCase{
		{name: "push", user: idptest.DuoUser{Devices: []idptest.DuoDevice{phone("approve", "")}},
			stderr: "Duo Push sent to iPhone (XXX-XXX-1234): approve it in Duo Mobile",
			check: func(t *testing.T, s idptest.DuoStats) {
				if s.Pushes != 1 || s.Exchanges != 1 {
					t.Errorf("Duo stats %+v: want one push and one duo_code redeemed", s)
				}
			}},
		{name: "passcode", user: idptest.DuoUser{Devices: []idptest.DuoDevice{phone("approve", "")}, Passcode: duoPIN},
			args: []string{"--mfa", "passcode", "--mfa-code", duoPIN},
			check: func(t *testing.T, s idptest.DuoStats) {
				if s.Pushes != 0 || s.Passcodes != 1 {
					t.Errorf("Duo stats %+v: want one passcode, no push", s)
				}
			}},
		{name: "totp is passcode", o: idptest.DuoOptions{Prompt: "new"}, only: "okta-idx",
			user: idptest.DuoUser{Devices: []idptest.DuoDevice{phone("approve", "")}, Passcode: duoPIN}, args: []string{"--mfa", "totp", "--mfa-code", duoPIN}},
		{name: "call", user: idptest.DuoUser{Devices: []idptest.DuoDevice{phone("", "approve")}}, args: []string{"--mfa", "call"},
			stderr: "Duo is calling iPhone"},
		{name: "new prompt push", o: idptest.DuoOptions{Prompt: "new"}, only: "adfs", user: idptest.DuoUser{Devices: []idptest.DuoDevice{phone("approve", "")}},
			stderr: "Duo Push sent to iPhone (...1234)"},
		{name: "verified push", o: idptest.DuoOptions{Prompt: "new"}, user: idptest.DuoUser{Devices: []idptest.DuoDevice{verified}},
			args: []string{"--mfa", "push"}, stderr: "Duo Verified Push: enter "},
		{name: "device picked by duo_device", user: idptest.DuoUser{Devices: []idptest.DuoDevice{phone("deny", ""),
			{Name: "Pixel", Number: "5678", Push: "approve"}}}, device: "5678", only: "shibboleth", stderr: "Duo Push sent to Pixel"},
	}
	runDuoCases(t, factors, func(t *testing.T, f duoCase, w *duoIdP) {
		// --debug: the HTTP trace must not show Duo's values either.
		r := w.run(password, append([]string{"--debug", "login", "--profile", "d", "--password-stdin"}, f.args...)...)
		if r.code != 0 || !strings.Contains(r.stderr, "Logged in") || !strings.Contains(r.stderr, f.stderr) {
			t.Fatalf("login: want exit 0, %q:\n%s", f.stderr, r)
		}
		if f.name == "verified push" && !regexp.MustCompile(`enter \d{6} in Duo Mobile`).MatchString(r.stderr) {
			t.Errorf("the Verified Push code is not shown:\n%s", r)
		}
		if f.check != nil {
			f.check(t, w.d.Stats())
		}
		w.scan(r)
	})
}

// TestDuoFailuresE2E: Duo's refusals exit 3 with Duo's own words, a
// security key needs --browser, a passcode without a terminal exits 4.
func TestDuoFailuresE2E(t *testing.T) {
	t.Parallel()
	failures := []duoCase{
		{name: "denied push", user: idptest.DuoUser{Devices: []idptest.DuoDevice{phone("deny", "")}}, code: 3, msg: `Duo says "Login request denied."`},
		{name: "push timeout", user: idptest.DuoUser{Devices: []idptest.DuoDevice{phone("timeout", "")}}, o: idptest.DuoOptions{PushTimeout: -1},
			code: 3, msg: `Duo says "Login timed out."`},
		{name: "wrong passcode", user: idptest.DuoUser{Devices: []idptest.DuoDevice{phone("approve", "")}, Passcode: duoPIN},
			args: []string{"--mfa", "passcode", "--mfa-code", "999999"}, code: 3, msg: `Duo says "Incorrect passcode. Please try again."`},
		{name: "wrong passcode new prompt", o: idptest.DuoOptions{Prompt: "new"}, only: "simplesamlphp", user: idptest.DuoUser{Devices: []idptest.DuoDevice{phone("approve", "")}, Passcode: duoPIN},
			args: []string{"--mfa-code", "999999"}, code: 3, msg: `Incorrect passcode`},
		{name: "security key only", user: idptest.DuoUser{Devices: []idptest.DuoDevice{{Name: "YubiKey", SecurityKey: true}}}, code: 1,
			msg: "run again with --browser"},
		{name: "passcode without terminal", user: idptest.DuoUser{Devices: []idptest.DuoDevice{phone("approve", "")}, Passcode: duoPIN},
			args: []string{"--mfa", "passcode"}, code: 4},
		{name: "unknown duo_device", user: idptest.DuoUser{Devices: []idptest.DuoDevice{phone("approve", "")}},
			args: []string{"--duo-device", "Galaxy"}, only: "okta-classic", code: 2, msg: `duo_device "Galaxy" is none of your Duo devices that can push`},
	}
	runDuoCases(t, failures, func(t *testing.T, f duoCase, w *duoIdP) {
		r := w.run(password, append([]string{"login", "--profile", "d", "--password-stdin"}, f.args...)...)
		if r.code != f.code || !strings.Contains(r.stderr, f.msg) {
			t.Fatalf("want exit %d with %q:\n%s", f.code, f.msg, r)
		}
		if f.msg == "run again with --browser" && !strings.HasSuffix(strings.TrimSpace(r.stderr), "run again with --browser") {
			t.Errorf("the error does not end with the --browser hint:\n%s", r)
		}
		if s := w.d.Stats(); s.Exits != 0 || w.st.Calls("AssumeRoleWithSAML") != 0 {
			t.Errorf("a refused Duo login reached AWS (Duo stats %+v)", s)
		}
		w.scan(r)
	})
}

// TestDuoRememberMeE2E: with remembered browsers allowed, the silent
// refresh after the IdP session ended passes Duo without a push, on the
// trust cookie kept in the stored jar.
func TestDuoRememberMeE2E(t *testing.T) {
	for _, idp := range duoIdPs {
		if idp.name == "adfs" {
			continue // the AD FS emulator's sessions cannot be ended from outside
		}
		t.Run(idp.name, func(t *testing.T) {
			t.Parallel()
			d := newDuo(t, idptest.DuoOptions{RememberDays: 30}, idptest.DuoUser{Devices: []idptest.DuoDevice{phone("approve", "")}})
			w := idp.start(t, d)
			r := w.mustRun(password, "login", "--profile", "d", "--password-stdin")
			// Another role is a new login: the stored jar is used, the
			// IdP session is gone, Duo's trust cookie is not.
			w.expire()
			r2 := w.mustRun(password, "login", "--profile", "d", "--password-stdin", "--role-arn", admin)
			if s := d.Stats(); s.Pushes != 1 || s.Trusted != 1 || s.Remembered != 1 {
				t.Errorf("Duo stats %+v: want one push, the browser trusted, the second login remembered", s)
			}
			if strings.Contains(r2.stderr, "Duo Push sent") {
				t.Errorf("the second login pushed:\n%s", r2)
			}
			w.scan(r, r2)
		})
	}
}

// TestDuoDebugPageE2E: a Duo page saml2sts cannot pass (a user Duo does
// not know) ends with Duo's words, exit 1, and a redacted copy under
// --debug that holds no secret.
func TestDuoDebugPageE2E(t *testing.T) {
	for _, idp := range duoIdPs {
		t.Run(idp.name, func(t *testing.T) {
			t.Parallel()
			d, err := idptest.NewDuo(idptest.DuoOptions{Users: []idptest.DuoUser{{Username: "someone-else"}}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(d.Close)
			w := idp.start(t, d)
			r := w.run(password, "--debug", "login", "--profile", "d", "--password-stdin")
			if r.code != 1 || !strings.Contains(r.stderr, `the page says "Your account is not enrolled in Duo. Contact your help desk."`) {
				t.Fatalf("want exit 1 quoting Duo's page:\n%s", r)
			}
			m := regexp.MustCompile(`redacted copy: ([^)]+)\)`).FindStringSubmatch(r.stderr)
			if m == nil {
				t.Fatalf("no saved page named:\n%s", r)
			}
			b, err := os.ReadFile(m[1])
			if err != nil || len(b) == 0 {
				t.Fatalf("saved page: %v", err)
			}
			w.scan(r, result{stdout: string(b)})
		})
	}
}

// TestDuoOktaStepUpE2E: an app whose sign-on policy steps up asks the Duo
// factor again on a live Okta session, and Duo's way back completes it.
func TestDuoOktaStepUpE2E(t *testing.T) {
	for _, pipeline := range []string{"v1", "idx"} {
		t.Run(pipeline, func(t *testing.T) {
			t.Parallel()
			d := newDuo(t, idptest.DuoOptions{}, idptest.DuoUser{Devices: []idptest.DuoDevice{phone("approve", "")}})
			k, err := idptest.NewOkta(idptest.OktaOptions{Pipeline: pipeline, Duo: d, StepUp: true, Users: []idptest.OktaUser{{
				Username: oktaUser, Password: password, Factors: []idptest.OktaFactor{{Type: "claims_provider"}},
				Roles: []string{reader + "," + provider}}}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(k.Close)
			w := &duoIdP{world: duoWorld(t, k.Certificate(), "okta", k.URL(), oktaUser), d: d,
				secrets: func() []string { return append(k.Secrets(), k.IssuedResponses()...) }}
			r := w.run(password, "login", "--profile", "d", "--password-stdin")
			if r.code != 0 || !strings.Contains(r.stderr, "Duo Push sent to iPhone") {
				t.Fatalf("login:\n%s", r)
			}
			// Classic: Duo at sign-in, then again for the app's step-up.
			// Identity Engine evaluates the app's policy in the one login.
			pushes := map[string]int{"v1": 2, "idx": 1}[pipeline]
			if s := d.Stats(); s.Pushes != pushes || s.Exchanges != pushes || k.Stats().SAMLIssued != 1 {
				t.Errorf("Duo stats %+v, Okta stats %+v: want %d pushes", s, k.Stats(), pushes)
			}
			if pipeline == "v1" && k.Stats().StepUps != 1 {
				t.Errorf("Okta served %d step-ups, want 1", k.Stats().StepUps)
			}
			w.scan(r)
		})
	}
}

// TestDuoADFSMethodChoiceE2E: AD FS offers Duo and Azure MFA; mfa = push
// (a Duo factor) picks Duo's adapter on the selection page, and without a
// terminal or mfa Duo is the one saml2sts can drive unattended too.
func TestDuoADFSMethodChoiceE2E(t *testing.T) {
	for _, mfa := range []string{"push", "auto"} {
		t.Run(mfa, func(t *testing.T) {
			t.Parallel()
			d := newDuo(t, idptest.DuoOptions{}, idptest.DuoUser{Devices: []idptest.DuoDevice{phone("approve", "")}})
			a, err := idptest.NewADFS(idptest.ADFSOptions{Duo: d, Users: []idptest.ADFSUser{{Username: adfsUPN, Password: password,
				MFA: idptest.ADFSMFA{Adapter: idptest.ADFSDuo, Also: []string{idptest.ADFSSecurID}}, Roles: []string{reader + "," + provider}}}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(a.Close)
			w := &duoIdP{world: duoWorld(t, a.Certificate(), "adfs", a.BaseURL(), adfsUPN), d: d,
				secrets: func() []string { return append(a.SessionCookies(), a.IssuedResponses()...) }}
			r := w.run(password, "login", "--profile", "d", "--password-stdin", "--mfa", mfa)
			if r.code != 0 || !strings.Contains(r.stderr, "Duo Push sent to iPhone") {
				t.Fatalf("login:\n%s", r)
			}
			if s := a.Stats(); s.MFAPasses != 1 {
				t.Errorf("AD FS stats %+v", s)
			}
			w.scan(r)
		})
	}
}

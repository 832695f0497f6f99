package entra

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/idptest"
)

const tenant = "8f4b2e1c-5a6d-4e3f-9b7a-0c1d2e3f4a5b"

func TestCheck(t *testing.T) {
	tests := []struct {
		url, mfa string
		opts     map[string]string
		want     string // "" = accepted
	}{
		{url: "https://login.microsoftonline.com/" + tenant + "/saml2"},
		{url: "https://login.microsoftonline.us/corp.example/saml2"},
		{url: "https://login.chinacloudapi.cn/" + tenant + "/SAML2/"},
		{url: "http://127.0.0.1:8080/" + tenant + "/saml2", mfa: "push"},
		{url: "https://launcher.myapps.microsoft.com/api/signin/1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5?tenantId=" + tenant, mfa: "PhoneAppOTP"},
		{url: "https://portal.azure.com/#view/Microsoft_AAD_IAM/ManagedAppMenuBlade/~/Overview/appId/x", want: "Azure portal or My Apps"},
		{url: "https://myapplications.microsoft.com/?tenantid=" + tenant, want: "Azure portal or My Apps"},
		{url: "https://login.microsoftonline.com/common/saml2", want: `names tenant "common", which is neither a tenant id (GUID) nor a domain`},
		{url: "https://login.microsoftonline.com/" + tenant + "/oauth2/authorize", want: "is not an Entra SAML sign-in URL"},
		{url: "https://launcher.myapps.microsoft.com/api/signin/abc", want: "has no tenantId="},
		{url: "https://login.microsoftonline.com/" + tenant + "/saml2", mfa: "yubikey", want: `mfa "yubikey" is not an Entra method`},
		{url: "https://login.microsoftonline.com/" + tenant + "/saml2", opts: map[string]string{OptionEntityID: " "}, want: "entra_entity_id is empty"},
	}
	for _, tc := range tests {
		err := New().Check(&idp.Request{URL: tc.url, MFA: tc.mfa, Options: tc.opts})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.url, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.url, err, tc.want)
		case tc.want != "" && !errors.As(err, new(*idp.ConfigError)):
			t.Errorf("%s: %T is not a ConfigError (exit 2)", tc.url, err)
		}
	}
}

func inflate(t *testing.T, q string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(q)
	if err != nil {
		t.Fatal(err)
	}
	x, err := io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return string(x)
}

func TestStartURL(t *testing.T) {
	now := time.Date(2026, 12, 3, 15, 4, 5, 0, time.UTC)
	p := New()
	tests := []struct {
		partition, issuer, acs string
	}{
		{"", "", "https://signin.aws.amazon.com/saml"},
		{"aws", "https://signin.aws.amazon.com/saml#2", "https://signin.aws.amazon.com/saml"},
		{"aws-us-gov", "", "https://signin.amazonaws-us-gov.com/saml"},
		{"aws-cn", "urn:amazon:webservices:cn-north-1", "https://signin.amazonaws.cn/saml"},
	}
	for _, tc := range tests {
		req := &idp.Request{URL: "https://login.microsoftonline.com/" + tenant + "/saml2?x=1#frag", Partition: tc.partition,
			Options: map[string]string{}, Clock: idptest.NewClock(now)}
		if tc.issuer != "" {
			req.Options[OptionEntityID] = tc.issuer
		}
		raw, err := p.StartURL(req)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(raw)
		if u.Path != "/"+tenant+"/saml2" || len(u.Query()) != 1 {
			t.Errorf("start url %s: want only SAMLRequest", raw)
		}
		x := inflate(t, u.Query().Get("SAMLRequest"))
		issuer := tc.issuer
		if issuer == "" {
			issuer = DefaultEntityID
		}
		for _, want := range []string{`AssertionConsumerServiceURL="` + tc.acs + `"`, `<saml:Issuer>` + issuer + `</saml:Issuer>`,
			`IssueInstant="2026-12-03T15:04:05.000Z"`, `IsPassive="false"`, `nameid-format:emailAddress`} {
			if !strings.Contains(x, want) {
				t.Errorf("AuthnRequest lacks %q: %s", want, x)
			}
		}
		if strings.Contains(x, "RequestedAuthnContext") {
			t.Errorf("AuthnRequest asks for an authn context (AADSTS75011 after MFA): %s", x)
		}
	}
	// The My Apps user access URL is followed as given.
	myapps := "https://launcher.myapps.microsoft.com/api/signin/app?tenantId=" + tenant
	if got, err := p.StartURL(&idp.Request{URL: myapps}); err != nil || got != myapps {
		t.Errorf("myapps url: %q, %v", got, err)
	}
}

// TestFederated: GetCredentialType's FederationRedirectUrl sends the
// user to AD FS; its forms are filled by the AD FS adapter and the
// wa/wresult/wctx form is posted back to Entra, which goes on to MFA.
func TestFederated(t *testing.T) {
	a, err := idptest.NewADFS(idptest.ADFSOptions{Users: []idptest.ADFSUser{{Username: emuUser, Password: emuPass}}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	e := newEmu(t, idptest.EntraOptions{ADFS: a, Users: []idptest.EntraUser{{Username: emuUser, Federated: true,
		Methods: []idptest.EntraMethod{{ID: idptest.EntraOTP, Code: emuOTP}}}}})
	r := newRun(e.URL(), nil)
	r.req.MFACode = emuOTP
	if _, err := r.login(t, e); err != nil {
		t.Fatalf("login: %v", err)
	}
	if s := e.Stats(); s.Federated != 1 || s.PasswordPosts != 0 || s.SAMLIssued != 1 {
		t.Errorf("entra stats %+v", s)
	}
	if s := a.Stats(); s.Logins != 1 || s.WSFedIssued != 1 {
		t.Errorf("adfs stats %+v", s)
	}
	if !strings.Contains(r.notice.String(), "signs in at its own identity provider") {
		t.Errorf("notices: %s", r.notice)
	}
	// A wrong password is AD FS's refusal, in its words.
	r = newRun(e.URL(), nil)
	r.req.Password = func(context.Context) (string, error) { return "nope", nil }
	_, err = r.login(t, e)
	if !errors.As(err, new(*idp.AuthError)) || !strings.Contains(err.Error(), idptest.ADFSMsgBadPassword) {
		t.Errorf("wrong AD FS password: %v", err)
	}
}

// TestSilentRefresh: KMSI yes leaves ESTSAUTHPERSISTENT in the jar; a later
// login with the exported jar gets a SAML response with no password.
func TestSilentRefresh(t *testing.T) {
	for _, skip := range []bool{false, true} {
		e := newEmu(t, idptest.EntraOptions{SkipKMSI: skip, Users: []idptest.EntraUser{{Username: emuUser, Password: emuPass,
			Methods: []idptest.EntraMethod{{ID: idptest.EntraPush}}}}})
		r := newRun(e.URL(), nil)
		if _, err := r.login(t, e); err != nil {
			t.Fatal(err)
		}
		saved := string(r.jar.Export())
		if strings.Contains(saved, "ESTSAUTHPERSISTENT") == skip {
			t.Errorf("skip KMSI %v: persistent cookie in jar = %v", skip, !skip)
		}
		jar, err := idp.NewJar([]byte(saved))
		if err != nil {
			t.Fatal(err)
		}
		r2 := newRun(e.URL(), jar)
		r2.req.Password = func(context.Context) (string, error) {
			t.Error("password asked on refresh")
			return "", idp.ErrNoTerminal
		}
		r2.prompt.noTTY = true
		if _, err := r2.login(t, e); err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if s := e.Stats(); s.SessionReuses != 1 || s.PasswordPosts != 1 || s.BeginAuths != 1 {
			t.Errorf("stats %+v: want one session reuse and no second sign-in", s)
		}
	}
}

// TestNoCodeTwice: a code Entra accepted once is never sent again: in the
// same run the adapter asks for the next one; across runs Entra refuses it
// (500121) and the login ends with exit 3.
func TestNoCodeTwice(t *testing.T) {
	e := newEmu(t, idptest.EntraOptions{Users: []idptest.EntraUser{{Username: emuUser, Password: emuPass,
		Methods: []idptest.EntraMethod{{ID: idptest.EntraOTP, Code: emuOTP}}}}})
	r := newRun(e.URL(), nil)
	r.req.MFACode = emuOTP
	if _, err := r.login(t, e); err != nil {
		t.Fatal(err)
	}
	r = newRun(e.URL(), nil)
	r.req.MFACode = emuOTP
	_, err := r.login(t, e)
	var ee *Error
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(err.Error(), "AADSTS500121") ||
		!strings.Contains(err.Error(), idptest.EntraMsgDuplicateCode) {
		t.Errorf("reused code: %v", err)
	}
	if s := e.Stats(); s.DuplicateCodes != 1 {
		t.Errorf("stats %+v", s)
	}
	// Within one run: the same code typed again is not sent.
	l := &login{req: &idp.Request{MFACode: "111111", Prompt: &prompter{codes: []string{"111111", "222222"}}}, used: map[string]bool{"111111": true}}
	l.in = idp.NewInputs(l.req)
	if c, err := l.code(context.Background(), Proof{AuthMethodID: totp}); err != nil || c != "222222" {
		t.Errorf("code = %q, %v; want the next code", c, err)
	}
}

// TestPickerForMissingMethod: on a terminal, an mfa the user lacks brings
// up the picker among the methods they have.
func TestPickerForMissingMethod(t *testing.T) {
	e := newEmu(t, idptest.EntraOptions{Users: []idptest.EntraUser{{Username: emuUser, Password: emuPass,
		Methods: []idptest.EntraMethod{{ID: idptest.EntraPush, Default: true}, {ID: idptest.EntraOTP, Code: emuOTP}}}}})
	r := newRun(e.URL(), nil)
	r.req.MFA = "sms"
	r.prompt.choose, r.prompt.codes = 1, []string{emuOTP}
	if _, err := r.login(t, e); err != nil {
		t.Fatal(err)
	}
	if len(r.prompt.asked) != 2 || !strings.Contains(r.prompt.asked[0], `no "sms" method`) {
		t.Errorf("prompts: %q", r.prompt.asked)
	}
}

// TestPollPacing: EndAuth is polled every oPerAuthPollingInterval, through
// the injected clock.
func TestPollPacing(t *testing.T) {
	e := newEmu(t, idptest.EntraOptions{PollInterval: 2.5, Users: []idptest.EntraUser{{Username: emuUser, Password: emuPass,
		Methods: []idptest.EntraMethod{{ID: idptest.EntraPush, After: 3}}}}})
	r := newRun(e.URL(), nil)
	if _, err := r.login(t, e); err != nil {
		t.Fatal(err)
	}
	if w := r.clock.Waits(); len(w) != 3 || w[0] != 2500*time.Millisecond {
		t.Errorf("waits %v: want 3 of 2.5s", w)
	}
}

// TestDebugPageRedacted: the saved copy of a dead-end page holds none of
// the login's tokens.
func TestDebugPageRedacted(t *testing.T) {
	e := newEmu(t, idptest.EntraOptions{Users: []idptest.EntraUser{{Username: emuUser, Password: emuPass, Blocked: true}}})
	dir := t.TempDir()
	r := newRun(e.URL(), nil)
	r.req.Debug = &idp.DirDebugger{Dir: dir}
	_, err := r.login(t, e)
	var ee *Error
	if !errors.As(err, &ee) || ee.Saved == "" {
		t.Fatalf("no saved page: %v", err)
	}
	b, err := os.ReadFile(ee.Saved)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "ConvergedConditionalAccess") {
		t.Errorf("saved page is not the dead end")
	}
	for _, s := range append(e.Secrets(), emuPass) {
		if strings.Contains(string(b), s) {
			t.Errorf("saved page leaks %q", s)
		}
	}
}

// TestMyAppsURL: the user access URL starts the same sign-in.
func TestMyAppsURL(t *testing.T) {
	e := newEmu(t, idptest.EntraOptions{Users: []idptest.EntraUser{{Username: emuUser, Password: emuPass}}})
	r := newRun(e.UserAccessURL(), nil)
	if _, err := r.login(t, e); err != nil {
		t.Fatal(err)
	}
}

// TestEntityIDMismatch: an Issuer the tenant has no app for is AADSTS700016.
func TestEntityIDMismatch(t *testing.T) {
	e := newEmu(t, idptest.EntraOptions{EntityID: DefaultEntityID + "#2", Users: []idptest.EntraUser{{Username: emuUser, Password: emuPass}}})
	r := newRun(e.URL(), nil)
	_, err := r.login(t, e)
	if err == nil || !strings.Contains(err.Error(), "AADSTS700016 on ConvergedError") || !strings.Contains(err.Error(), "entra_entity_id must be") {
		t.Errorf("err = %v", err)
	}
	r = newRun(e.URL(), nil)
	r.req.Options = map[string]string{OptionEntityID: DefaultEntityID + "#2"}
	if _, err := r.login(t, e); err != nil {
		t.Errorf("with entra_entity_id: %v", err)
	}
}

// TestPollTimeout: a push nobody answers ends at iPollingTimeout, counted
// on the injected clock.
func TestPollTimeout(t *testing.T) {
	e := newEmu(t, idptest.EntraOptions{PollInterval: 10, MaxPollAttempts: 100, Users: []idptest.EntraUser{{Username: emuUser, Password: emuPass,
		Methods: []idptest.EntraMethod{{ID: idptest.EntraPush, After: 1000}}}}})
	r := newRun(e.URL(), nil)
	_, err := r.login(t, e)
	var ee *Error
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(err.Error(), "no answer from push within 2m0s") {
		t.Errorf("err = %v", err)
	}
	if got := r.clock.Waited(); got < 2*time.Minute || got > 2*time.Minute+10*time.Second {
		t.Errorf("waited %v on the fake clock, want about 2m", got)
	}
}

package adfs

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/idptest"
)

const (
	upn      = "ana@corp.example"
	password = "s3cret-Pa55!"
	code     = "246810"
)

func TestEntryURL(t *testing.T) {
	const path = "/adfs/ls/IdpInitiatedSignOn.aspx"
	tests := []struct{ in, want, err string }{
		{in: "https://adfs.corp.example", want: "https://adfs.corp.example" + path + "?loginToRp=urn%3Aamazon%3Awebservices"},
		{in: "https://adfs.corp.example/", want: "https://adfs.corp.example" + path + "?loginToRp=urn%3Aamazon%3Awebservices"},
		{in: "https://adfs.corp.example?loginToRp=urn:amazon:webservices:govcloud",
			want: "https://adfs.corp.example" + path + "?loginToRp=urn:amazon:webservices:govcloud"},
		{in: "https://adfs.corp.example/?loginToRp=urn%3Aamazon%3Awebservices%3Acn-north-1",
			want: "https://adfs.corp.example" + path + "?loginToRp=urn%3Aamazon%3Awebservices%3Acn-north-1"},
		{in: "https://adfs.corp.example" + path + "?loginToRp=urn:amazon:webservices",
			want: "https://adfs.corp.example" + path + "?loginToRp=urn:amazon:webservices"},
		{in: "https://adfs.corp.example/adfs/ls/idpinitiatedsignon",
			want: "https://adfs.corp.example/adfs/ls/idpinitiatedsignon?loginToRp=urn%3Aamazon%3Awebservices"},
		{in: "https://adfs.corp.example" + path, want: "https://adfs.corp.example" + path + "?loginToRp=urn%3Aamazon%3Awebservices"},
		{in: "https://adfs.corp.example/custom/path?x=1", want: "https://adfs.corp.example/custom/path?x=1"},
		{in: "http://127.0.0.1:8443#frag", want: "http://127.0.0.1:8443" + path + "?loginToRp=urn%3Aamazon%3Awebservices"},
		// The passive endpoint alone (an AD FS error page) means the sign-on page.
		{in: "https://adfs.corp.example/adfs/ls/", want: "https://adfs.corp.example" + path + "?loginToRp=urn%3Aamazon%3Awebservices"},
		{in: "https://adfs.corp.example/adfs/ls?loginToRp=urn:amazon:webservices:govcloud",
			want: "https://adfs.corp.example" + path + "?loginToRp=urn:amazon:webservices:govcloud"},
		{in: "https://adfs.corp.example/adfs/ls/?wa=wsignin1.0&wtrealm=urn:x", want: "https://adfs.corp.example/adfs/ls/?wa=wsignin1.0&wtrealm=urn:x"},
		{in: "https://adfs.corp.example/FederationMetadata/2007-06/FederationMetadata.xml",
			err: "is AD FS metadata or a web service, not a sign-in page: set the profile's url to https://adfs.corp.example"},
		{in: "https://adfs.corp.example/adfs/services/trust/mex?secret=1", err: "not a sign-in page"},
		{in: "adfs.corp.example", err: "not an absolute https url"},
		{in: "ftp://adfs.corp.example/?secret=1", err: `"ftp://adfs.corp.example/"`},
	}
	for _, tt := range tests {
		u, err := EntryURL(tt.in)
		switch {
		case tt.err != "":
			var ce *idp.ConfigError // a profile mistake: exit 2
			if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "secret") || !errors.As(err, &ce) {
				t.Errorf("EntryURL(%q) = %v, %v; want a ConfigError with %q and no query", tt.in, u, err, tt.err)
			}
		case err != nil || u.String() != tt.want:
			t.Errorf("EntryURL(%q) = %v, %v; want %s", tt.in, u, err, tt.want)
		}
	}
}

// prompter answers from a script and records what was asked.
type prompter struct {
	codes   []string
	secrets []string
	choice  int
	asked   []string
}

func (p *prompter) Secret(_ context.Context, label string) (string, error) {
	p.asked = append(p.asked, "secret:"+label)
	if len(p.secrets) == 0 {
		return "", idp.ErrNoTerminal
	}
	s := p.secrets[0]
	p.secrets = p.secrets[1:]
	return s, nil
}

func (p *prompter) Code(_ context.Context, label string) (string, error) {
	p.asked = append(p.asked, "code:"+label)
	if len(p.codes) == 0 {
		return "", idp.ErrNoTerminal
	}
	s := p.codes[0]
	p.codes = p.codes[1:]
	return s, nil
}

func (p *prompter) Choose(_ context.Context, label string, opts []string) (int, error) {
	p.asked = append(p.asked, "choose:"+label+":"+strings.Join(opts, "|"))
	if p.choice < 0 {
		return 0, idp.ErrNoTerminal
	}
	return p.choice, nil
}

// run is one login against an emulator.
type run struct {
	req     *idp.Request
	prompt  *prompter
	notice  *bytes.Buffer
	pwCalls int
}

func newRun(t *testing.T, rawURL string, mods ...func(*idp.Request)) *run {
	t.Helper()
	jar, _ := idp.NewJar(nil)
	r := &run{prompt: &prompter{choice: -1}, notice: &bytes.Buffer{}}
	r.req = &idp.Request{
		URL:      rawURL,
		Username: upn,
		Password: func(context.Context) (string, error) { r.pwCalls++; return password, nil },
		MFA:      "auto",
		Prompt:   r.prompt,
		Client:   idp.NewClient(nil, jar),
		Notice:   r.notice,
		Options:  map[string]string{OptionAuth: AuthForms},
		Clock:    &idptest.Clock{}, // Azure MFA polls take no time
	}
	for _, m := range mods {
		m(r.req)
	}
	return r
}

func newADFS(t *testing.T, o idptest.ADFSOptions) *idptest.ADFS {
	t.Helper()
	a, err := idptest.NewADFS(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

func user(mfa idptest.ADFSMFA) idptest.ADFSUser {
	return idptest.ADFSUser{Username: upn, Password: password, MFA: mfa,
		Roles: []string{"arn:aws:iam::123456789012:role/R,arn:aws:iam::123456789012:saml-provider/adfs"}}
}

// decoded checks that saml is a base64 assertion for ana.
func decoded(t *testing.T, saml string) {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(saml)
	if err != nil || !bytes.Contains(b, []byte(upn)) || !bytes.Contains(b, []byte("role/R")) {
		t.Fatalf("SAMLResponse is not ana's assertion (err %v): %.200s", err, b)
	}
}

func TestFormsLogin(t *testing.T) {
	for _, v := range []string{"2.0", "2012R2", "2016", "2019"} {
		t.Run(v, func(t *testing.T) {
			a := newADFS(t, idptest.ADFSOptions{Version: v, Users: []idptest.ADFSUser{user(idptest.ADFSMFA{})}})
			for _, u := range []string{a.URL(), a.BaseURL()} {
				r := newRun(t, u)
				saml, err := New().Login(context.Background(), r.req)
				if err != nil {
					t.Fatalf("login at %s: %v", u, err)
				}
				decoded(t, saml)
				if r.pwCalls != 1 {
					t.Errorf("password asked %d times, want 1", r.pwCalls)
				}
			}
			if s := a.Stats(); s.PasswordPosts != 2 || s.Logins != 2 || s.DuplicateFields != 0 || s.SAMLIssued != 2 {
				t.Errorf("stats %+v: want 2 password posts and logins, no duplicate field", s)
			}
		})
	}
}

func TestDomainUserName(t *testing.T) {
	a := newADFS(t, idptest.ADFSOptions{Version: "2019", Users: []idptest.ADFSUser{user(idptest.ADFSMFA{})}})
	r := newRun(t, a.URL(), func(q *idp.Request) { q.Username = `CORP\ana` })
	saml, err := New().Login(context.Background(), r.req)
	if err != nil {
		t.Fatal(err)
	}
	decoded(t, saml)
}

func TestWrongPassword(t *testing.T) {
	for _, v := range []string{"2.0", "2012R2", "2016", "2019"} {
		t.Run(v, func(t *testing.T) {
			a := newADFS(t, idptest.ADFSOptions{Version: v, Users: []idptest.ADFSUser{{Username: upn, Password: "other"}}})
			r := newRun(t, a.URL())
			_, err := New().Login(context.Background(), r.req)
			want := idptest.ADFSMsgBadPassword
			if v == "2.0" {
				want = idptest.ADFSMsg20Bad
			}
			var ae *idp.AuthError
			if !errors.As(err, &ae) || ae.Message != want {
				t.Fatalf("err = %v; want AuthError %q", err, want)
			}
			if s := a.Stats(); s.PasswordPosts != 1 {
				t.Errorf("password posted %d times, want once", s.PasswordPosts)
			}
		})
	}
}

func TestNoUserName(t *testing.T) {
	a := newADFS(t, idptest.ADFSOptions{Users: []idptest.ADFSUser{user(idptest.ADFSMFA{})}})
	r := newRun(t, a.URL(), func(q *idp.Request) { q.Username = "" })
	_, err := New().Login(context.Background(), r.req)
	if err == nil || !strings.Contains(err.Error(), "set username in the profile") || r.pwCalls != 0 {
		t.Fatalf("err = %v (password asked %d times)", err, r.pwCalls)
	}
}

func TestIdPInitiatedDisabled(t *testing.T) {
	a := newADFS(t, idptest.ADFSOptions{IdPInitiatedDisabled: true, Users: []idptest.ADFSUser{user(idptest.ADFSMFA{})}})
	r := newRun(t, a.BaseURL())
	_, err := New().Login(context.Background(), r.req)
	var pe *idp.PageError
	if !errors.As(err, &pe) || !strings.Contains(pe.Why, "Set-AdfsProperties -EnableIdpInitiatedSignonPage $true") ||
		!strings.Contains(pe.Why, idptest.ADFSMsgNotAvail) {
		t.Fatalf("err = %v; want the disabled-page explanation", err)
	}
	if r.pwCalls != 0 {
		t.Error("password asked for an error page")
	}
}

func TestUnknownRelyingParty(t *testing.T) {
	a := newADFS(t, idptest.ADFSOptions{Users: []idptest.ADFSUser{user(idptest.ADFSMFA{})}})
	r := newRun(t, a.BaseURL()+"/?loginToRp=urn:nope")
	_, err := New().Login(context.Background(), r.req)
	if err == nil || !strings.Contains(err.Error(), "loginToRp=urn:nope") {
		t.Fatalf("err = %v; want a hint naming loginToRp", err)
	}
}

func TestRelyingParties(t *testing.T) {
	a := newADFS(t, idptest.ADFSOptions{Users: []idptest.ADFSUser{user(idptest.ADFSMFA{})}})
	for _, rp := range []string{"urn:amazon:webservices:govcloud", "urn:amazon:webservices:cn-north-1"} {
		r := newRun(t, a.BaseURL()+"?loginToRp="+url.QueryEscape(rp))
		if _, err := New().Login(context.Background(), r.req); err != nil {
			t.Errorf("%s: %v", rp, err)
		}
	}
}

func TestMFA(t *testing.T) {
	tests := []struct {
		name    string
		mfa     idptest.ADFSMFA
		mod     func(*idp.Request)
		prompt  prompter
		err     string // AuthError message; "" for success
		notice  string
		asked   []string
		posts   int // MFA posts
		unsupp  string
		noTerm  bool
		version string
	}{
		{name: "azure push with number", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSAzureMFA, Number: "42", Polls: 2},
			notice: "enter the number 42 in the Microsoft Authenticator app", posts: 3},
		{name: "azure push", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSAzureMFA}, notice: "open the Microsoft Authenticator app", posts: 1},
		{name: "azure push denied", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSAzureMFA, Deny: true}, err: idptest.ADFSMsgDenied, posts: 1},
		{name: "azure code up front", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSAzureMFA, Code: code},
			mod: func(q *idp.Request) { q.MFACode = "246 810" }, posts: 1},
		{name: "azure code prompted", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSAzureMFA, Code: code},
			prompt: prompter{codes: []string{code}}, asked: []string{"code:Azure MFA verification code"}, posts: 1},
		{name: "azure wrong code", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSAzureMFA, Code: code},
			mod: func(q *idp.Request) { q.MFACode = "000000" }, err: idptest.ADFSMsgBadCode, posts: 1},
		{name: "mfa server", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSAzureMFAServer}, notice: "Azure MFA Server", posts: 1},
		{name: "mfa server denied", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSAzureMFAServer, Deny: true},
			err: "Authentication failed. The phone call was not answered or the sign-in was denied.", posts: 1},
		{name: "securid", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSSecurID, Code: code},
			prompt: prompter{secrets: []string{code}}, asked: []string{"secret:RSA SecurID passcode"}, posts: 1, version: "2012R2"},
		{name: "securid next code", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSSecurID, Code: code, NextCode: "135791"},
			mod: func(q *idp.Request) { q.MFACode = code }, prompt: prompter{codes: []string{"135791"}},
			asked: []string{"code:RSA SecurID next tokencode (wait for the tokencode to change)"}, posts: 2},
		{name: "securid next code without terminal", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSSecurID, Code: code, NextCode: "135791"},
			mod: func(q *idp.Request) { q.MFACode = code }, noTerm: true, posts: 1},
		{name: "securid wrong", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSSecurID, Code: code},
			mod: func(q *idp.Request) { q.MFACode = "1" }, err: "Access denied. The passcode you entered is incorrect.", posts: 1},
		{name: "vip", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSVIP, Code: code}, prompt: prompter{codes: []string{code}},
			asked: []string{"code:Symantec VIP security code"}, posts: 1},
		{name: "vip upn", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSVIPUPN, Code: code}, mod: func(q *idp.Request) { q.MFACode = code }, posts: 1},
		{name: "symantec vip", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSSymantecVIP, Code: code}, mod: func(q *idp.Request) { q.MFACode = code }, posts: 1},
		{name: "vip wrong", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSSymantecVIP, Code: code}, mod: func(q *idp.Request) { q.MFACode = "9" },
			err: "The security code is not valid. Enter the current security code from your VIP credential.", posts: 1},
		{name: "no code, no terminal", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSVIP, Code: code}, noTerm: true},
		{name: "safenet", mfa: idptest.ADFSMFA{Adapter: "SafeNet-MFA"}, unsupp: "the AD FS MFA adapter Thales SafeNet (AuthMethod SafeNet-MFA)"},
		{name: "choice by mfa", mfa: idptest.ADFSMFA{Adapter: idptest.ADFSAzureMFA, Also: []string{idptest.ADFSSecurID}, Code: code},
			mod: func(q *idp.Request) { q.MFA = "rsa"; q.MFACode = code }, posts: 2},
		{name: "choice prompted", mfa: idptest.ADFSMFA{Adapter: "SafeNet-MFA", Also: []string{idptest.ADFSVIP}, Code: code},
			prompt: prompter{choice: 1, codes: []string{code}}, posts: 2,
			asked: []string{"choose:AD FS additional authentication method:SafeNet-MFA|Symantec VIP", "code:Symantec VIP security code"}},
		{name: "choice without terminal", mfa: idptest.ADFSMFA{Adapter: "SafeNet-MFA", Also: []string{idptest.ADFSAzureMFA}},
			prompt: prompter{choice: -1}, posts: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newADFS(t, idptest.ADFSOptions{Version: tt.version, Users: []idptest.ADFSUser{user(tt.mfa)}})
			r := newRun(t, a.URL())
			if tt.mod != nil {
				tt.mod(r.req)
			}
			p := tt.prompt
			r.req.Prompt = &p
			saml, err := New().Login(context.Background(), r.req)
			var ae *idp.AuthError
			var ue *idp.UnsupportedError
			switch {
			case tt.noTerm:
				if !errors.Is(err, idp.ErrNoTerminal) {
					t.Fatalf("err = %v; want ErrNoTerminal", err)
				}
			case tt.unsupp != "":
				if !errors.As(err, &ue) || !strings.Contains(ue.Error(), tt.unsupp) {
					t.Fatalf("err = %v; want unsupported %q", err, tt.unsupp)
				}
			case tt.err != "":
				if !errors.As(err, &ae) || ae.Message != tt.err {
					t.Fatalf("err = %v; want AuthError %q", err, tt.err)
				}
			case err != nil:
				t.Fatal(err)
			default:
				decoded(t, saml)
			}
			if tt.notice != "" && !strings.Contains(r.notice.String(), tt.notice) {
				t.Errorf("notice %q; want %q", r.notice, tt.notice)
			}
			if tt.asked != nil && strings.Join(p.asked, "\n") != strings.Join(tt.asked, "\n") {
				t.Errorf("asked %q; want %q", p.asked, tt.asked)
			}
			if s := a.Stats(); s.MFAPosts != tt.posts || s.PasswordPosts != 1 {
				t.Errorf("stats %+v: want %d MFA posts and 1 password post", s, tt.posts)
			}
			if err != nil && (strings.Contains(err.Error(), password) || strings.Contains(err.Error(), code)) {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestAzurePushTimesOut(t *testing.T) {
	a := newADFS(t, idptest.ADFSOptions{Users: []idptest.ADFSUser{user(idptest.ADFSMFA{Adapter: idptest.ADFSAzureMFA, Polls: 1 << 30})}})
	clk := &idptest.Clock{}
	p := New()
	r := newRun(t, a.URL())
	r.req.Clock = clk
	_, err := p.Login(context.Background(), r.req)
	var ae *idp.AuthError
	if !errors.As(err, &ae) || ae.Message != "the Azure MFA notification was not answered within 1m30s; run again and approve it" {
		t.Fatalf("err = %v", err)
	}
	// Every 2s for 90s, as the browser page does: 46 waits, the last one
	// past the deadline.
	if w := clk.Waits(); len(w) != 46 || w[0] != pollEvery || clk.Waited() != 92*time.Second {
		t.Errorf("waits %v (%s in all), want 46 of %s", w, clk.Waited(), pollEvery)
	}
	// ^C during a wait ends it: the clock never fires, the context does.
	ctx, cancel := context.WithCancel(context.Background())
	r = newRun(t, a.URL())
	r.req.Clock = &stoppedClock{}
	r.req.Notice = cancelOnWrite{cancel}
	if _, err := p.Login(ctx, r.req); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: err = %v", err)
	}
}

// stoppedClock is a clock whose waits never end.
type stoppedClock struct{ idptest.Clock }

func (*stoppedClock) After(time.Duration) <-chan time.Time { return nil }

// cancelOnWrite cancels a login at its first notice (the push prompt).
type cancelOnWrite struct{ cancel context.CancelFunc }

func (c cancelOnWrite) Write(p []byte) (int, error) { c.cancel(); return len(p), nil }

func TestSessionReuse(t *testing.T) {
	a := newADFS(t, idptest.ADFSOptions{Users: []idptest.ADFSUser{user(idptest.ADFSMFA{Adapter: idptest.ADFSVIP, Code: code})}})
	r := newRun(t, a.URL(), func(q *idp.Request) { q.MFACode = code })
	if _, err := New().Login(context.Background(), r.req); err != nil {
		t.Fatal(err)
	}
	// A later run restores the cookies, as the broker does.
	jar, err := idp.NewJar(r.req.Client.Jar.(*idp.Jar).Export())
	if err != nil {
		t.Fatal(err)
	}
	r2 := newRun(t, a.URL(), func(q *idp.Request) { q.Client = idp.NewClient(nil, jar) })
	r2.req.Prompt = &prompter{choice: -1}
	saml, err := New().Login(context.Background(), r2.req)
	if err != nil {
		t.Fatal(err)
	}
	decoded(t, saml)
	if s := a.Stats(); s.SessionReuses != 1 || s.PasswordPosts != 1 || r2.pwCalls != 0 {
		t.Errorf("stats %+v, password asked %d times: want one reuse and no second password", s, r2.pwCalls)
	}
}

func TestNTLM(t *testing.T) {
	tests := []struct {
		name, user, pass string
		wia              bool
		mfa              idptest.ADFSMFA
		err, notice      string
		logins, failures int
	}{
		{name: "upn", user: upn, pass: password, wia: true, logins: 1},
		{name: "domain user", user: `CORP\ana`, pass: password, wia: true, logins: 1},
		{name: "then mfa", user: upn, pass: password, wia: true, mfa: idptest.ADFSMFA{Adapter: idptest.ADFSVIP, Code: code}, logins: 1},
		{name: "then securid", user: upn, pass: password, wia: true, mfa: idptest.ADFSMFA{Adapter: idptest.ADFSSecurID, Code: code}, logins: 1},
		{name: "then method choice", user: upn, pass: password, wia: true,
			mfa: idptest.ADFSMFA{Adapter: idptest.ADFSSecurID, Also: []string{idptest.ADFSVIP}, Code: code}, logins: 1},
		{name: "wrong password", user: upn, pass: "nope", wia: true, err: "AD FS refused Windows integrated authentication (NTLM)", failures: 1},
		{name: "no wia falls back to forms", user: upn, pass: password, notice: "signing in with the form"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newADFS(t, idptest.ADFSOptions{WIA: tt.wia, Users: []idptest.ADFSUser{user(tt.mfa)}})
			r := newRun(t, a.URL(), func(q *idp.Request) {
				q.Username = tt.user
				q.Options = map[string]string{OptionAuth: AuthNTLM}
				q.Password = func(context.Context) (string, error) { return tt.pass, nil }
				q.MFACode = code
			})
			saml, err := New().Login(context.Background(), r.req)
			if tt.err != "" {
				var ae *idp.AuthError
				if !errors.As(err, &ae) || !strings.Contains(ae.Message, tt.err) {
					t.Fatalf("err = %v; want AuthError %q", err, tt.err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else {
				decoded(t, saml)
			}
			s := a.Stats()
			if s.NTLMLogins != tt.logins || s.NTLMFailures != tt.failures {
				t.Errorf("stats %+v: want %d NTLM logins, %d failures", s, tt.logins, tt.failures)
			}
			if tt.wia && s.PasswordPosts != 0 {
				t.Errorf("the password form was posted in NTLM mode: %+v", s)
			}
			if !strings.Contains(r.notice.String(), tt.notice) {
				t.Errorf("notice %q; want %q", r.notice, tt.notice)
			}
			for _, ua := range a.UserAgents() {
				if !strings.Contains(ua, "Trident/7.0") {
					t.Errorf("request with User-Agent %q; WIA needs IE's", ua)
				}
			}
		})
	}
}

func TestBadAuthOption(t *testing.T) {
	r := newRun(t, "https://adfs.corp.example", func(q *idp.Request) { q.Options = map[string]string{OptionAuth: "basic"} })
	if _, err := New().Login(context.Background(), r.req); err == nil || !strings.Contains(err.Error(), "forms, ntlm, kerberos") {
		t.Fatalf("err = %v", err)
	}
}

// fakeADFS serves the captured pages (testdata/adfs) in order and records
// the posts.
type fakeADFS struct {
	pages []string // file names, or inline HTML starting with '<'
	mu    sync.Mutex
	posts []url.Values
	n     int
}

func (f *fakeADFS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method == http.MethodPost {
		f.posts = append(f.posts, r.PostForm)
	}
	if f.n >= len(f.pages) {
		http.Error(w, "no more pages", http.StatusGone)
		return
	}
	p := f.pages[f.n]
	f.n++
	body := []byte(p)
	if !strings.HasPrefix(p, "<") {
		var err error
		if body, err = os.ReadFile(filepath.Join("..", "testdata", "adfs", p)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	// Point the captured forms at this server.
	body = bytes.ReplaceAll(body, []byte("https://id.example.com:443"), []byte("http://"+r.Host))
	body = bytes.ReplaceAll(body, []byte("https://id.example.com"), []byte("http://"+r.Host))
	body = bytes.ReplaceAll(body, []byte("{{.UrlPost}}"), []byte("/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices&amp;client-request-id=1"))
	body = bytes.ReplaceAll(body, []byte("{{.UserName}}"), nil)
	w.Header().Set("Content-Type", "text/html")
	w.Write(body)
}

const hiddenform = `<html><head><title>Working...</title></head><body><form method="POST" name="hiddenform" action="https://signin.aws.amazon.com/saml"><input type="hidden" name="SAMLResponse" value="UE9TVEVE" /></form></body></html>`

func TestCapturedPages(t *testing.T) {
	tests := []struct {
		name  string
		pages []string
		check func(t *testing.T, posts []url.Values)
	}{
		{name: "2012R2 login and SecurID", pages: []string{"adfs2-loginpage.html", "adfs2-securid-passcode.html", hiddenform},
			check: func(t *testing.T, posts []url.Values) {
				want := url.Values{"UserName": {upn}, "Password": {password}, "AuthMethod": {"FormsAuthentication"}, "Kmsi": {"true"}}
				if posts[0].Encode() != want.Encode() {
					t.Errorf("login post %v; want %v", posts[0], want)
				}
				if posts[1].Get("AuthMethod") != "SecurIDAuthentication" || posts[1].Get("Passcode") != code ||
					!strings.HasPrefix(posts[1].Get("Context"), "<EncryptedData") || len(posts[1]["Passcode"]) != 1 {
					t.Errorf("passcode post %v", posts[1])
				}
			}},
		{name: "2016 login posts UserName once", pages: []string{"adfs-login-via-aad.html", hiddenform},
			check: func(t *testing.T, posts []url.Values) {
				if len(posts[0]["UserName"]) != 1 || len(posts[0]["AuthMethod"]) != 1 || posts[0].Get("AuthMethod") != "FormsAuthentication" {
					t.Errorf("login post %v: each field once, FormsAuthentication", posts[0])
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeADFS{pages: tt.pages}
			srv := httptest.NewServer(f)
			defer srv.Close()
			r := newRun(t, srv.URL, func(q *idp.Request) { q.MFACode = code })
			saml, err := New().Login(context.Background(), r.req)
			if err != nil || saml != "UE9TVEVE" {
				t.Fatalf("login = %q, %v", saml, err)
			}
			if len(f.posts) != len(tt.pages)-1 {
				t.Fatalf("%d posts, want %d", len(f.posts), len(tt.pages)-1)
			}
			tt.check(t, f.posts)
		})
	}
}

// TestLoginFormShownAgain: a login page with no error text after the
// password is still a refusal, and the password is never posted twice.
func TestLoginFormShownAgain(t *testing.T) {
	f := &fakeADFS{pages: []string{"adfs2-loginpage.html", "adfs2-loginpage.html", hiddenform}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	_, err := New().Login(context.Background(), newRun(t, srv.URL).req)
	var ae *idp.AuthError
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, "shown again") || len(f.posts) != 1 {
		t.Fatalf("err = %v after %d posts", err, len(f.posts))
	}
}

// TestUnknownPageSaved: an unknown page is a PageError whose saved copy
// has no password.
func TestUnknownPageSaved(t *testing.T) {
	echo := `<html><head><title>Odd</title></head><body><p>typed: ` + password + `</p></body></html>`
	f := &fakeADFS{pages: []string{"adfs2-loginpage.html", echo}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	r := newRun(t, srv.URL)
	d := &debugger{}
	r.req.Debug = d
	_, err := New().Login(context.Background(), r.req)
	var pe *idp.PageError
	if !errors.As(err, &pe) || pe.Title != "Odd" || pe.Saved == "" {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(d.saved, password) || !strings.Contains(d.saved, "typed: REDACTED") {
		t.Errorf("saved page: %s", d.saved)
	}
}

type debugger struct{ saved string }

func (d *debugger) SavePage(name string, body []byte) string {
	d.saved = string(body)
	return "/tmp/" + name
}

func TestMaxPages(t *testing.T) {
	loop := `<html><body><form name="hiddenform" method="post" action="/again"><input type="hidden" name="wa" value="x"/></form></body></html>`
	pages := make([]string, 30)
	for i := range pages {
		pages[i] = loop
	}
	f := &fakeADFS{pages: pages}
	srv := httptest.NewServer(f)
	defer srv.Close()
	_, err := New().Login(context.Background(), newRun(t, srv.URL).req)
	if err == nil || !strings.Contains(err.Error(), "after 10 pages") || f.n != 10 {
		t.Fatalf("err = %v after %d pages", err, f.n)
	}
}

// TestPaginated: AD FS 2019's paginated sign-in asks for the user name,
// then the password; each is posted once, and the session still refreshes
// without a password.
func TestPaginated(t *testing.T) {
	for _, name := range []string{upn, `CORP\ana`} {
		t.Run(name, func(t *testing.T) {
			a := newADFS(t, idptest.ADFSOptions{Paginated: true, Users: []idptest.ADFSUser{user(idptest.ADFSMFA{})}})
			r := newRun(t, a.BaseURL(), func(q *idp.Request) { q.Username = name })
			saml, err := New().Login(context.Background(), r.req)
			if err != nil {
				t.Fatal(err)
			}
			decoded(t, saml)
			if s := a.Stats(); s.UsernamePosts != 1 || s.PasswordPosts != 1 || s.Logins != 1 || s.DuplicateFields != 0 || s.Errors != 0 || r.pwCalls != 1 {
				t.Errorf("stats %+v, password asked %d times: want one user name post, one password post", s, r.pwCalls)
			}
			jar, err := idp.NewJar(r.req.Client.Jar.(*idp.Jar).Export())
			if err != nil {
				t.Fatal(err)
			}
			r2 := newRun(t, a.BaseURL(), func(q *idp.Request) { q.Client = idp.NewClient(nil, jar) })
			if _, err := New().Login(context.Background(), r2.req); err != nil {
				t.Fatal(err)
			}
			if s := a.Stats(); s.SessionReuses != 1 || s.UsernamePosts != 1 || r2.pwCalls != 0 {
				t.Errorf("refresh: stats %+v, password asked %d times; want a silent session reuse", s, r2.pwCalls)
			}
		})
	}
}

func TestPaginatedRefusals(t *testing.T) {
	tests := []struct {
		name      string
		users     []idptest.ADFSUser
		want      string
		userPosts int
		pwPosts   int
	}{
		{name: "wrong password", users: []idptest.ADFSUser{{Username: upn, Password: "other"}}, want: idptest.ADFSMsgBadPassword, userPosts: 1, pwPosts: 1},
		{name: "unknown user", users: []idptest.ADFSUser{{Username: "bo@corp.example", Password: password}}, want: idptest.ADFSMsgBadPassword, userPosts: 1, pwPosts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newADFS(t, idptest.ADFSOptions{Paginated: true, Users: tt.users})
			r := newRun(t, a.URL())
			_, err := New().Login(context.Background(), r.req)
			var ae *idp.AuthError
			if !errors.As(err, &ae) || ae.Message != tt.want {
				t.Fatalf("err = %v; want AuthError %q", err, tt.want)
			}
			if s := a.Stats(); s.UsernamePosts != tt.userPosts || s.PasswordPosts != tt.pwPosts || r.pwCalls != 1 {
				t.Errorf("stats %+v, password asked %d times", s, r.pwCalls)
			}
		})
	}
}

// TestPaginatedUserNamePageAgain: a user name page shown after the user
// name was posted is a refusal in AD FS's words, and nothing is posted
// twice.
func TestPaginatedUserNamePageAgain(t *testing.T) {
	page := `<html><body><form method="post" id="loginForm" action="/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices">` +
		`<span id="errorText">%s</span><input id="userNameInput" name="UserName" type="email" value=""/>` +
		`<input type="hidden" name="AuthMethod" value="FormsAuthentication"/></form></body></html>`
	f := &fakeADFS{pages: []string{strings.Replace(page, "%s", "", 1), strings.Replace(page, "%s", idptest.ADFSMsgUserFormat, 1)}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	r := newRun(t, srv.URL)
	_, err := New().Login(context.Background(), r.req)
	var ae *idp.AuthError
	if !errors.As(err, &ae) || ae.Message != idptest.ADFSMsgUserFormat || len(f.posts) != 1 || r.pwCalls != 0 {
		t.Fatalf("err = %v after %d posts, password asked %d times", err, len(f.posts), r.pwCalls)
	}
	want := url.Values{"UserName": {upn}, "AuthMethod": {"FormsAuthentication"}}
	if f.posts[0].Encode() != want.Encode() {
		t.Errorf("user name post %v; want %v", f.posts[0], want)
	}
}

package idptest_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ntlmssp "github.com/Azure/go-ntlmssp"
	"github.com/PuerkitoBio/goquery"
	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/spnego"

	"github.com/saml2sts/saml2sts/idp/idptest"
)

const (
	adfsUser = "ana@corp.example"
	adfsPass = "Winter2026!"
	adfsRole = "arn:aws:iam::123456789012:role/R,arn:aws:iam::123456789012:saml-provider/adfs"
)

func newADFS(t *testing.T, o idptest.ADFSOptions) *idptest.ADFS {
	t.Helper()
	if o.Users == nil {
		o.Users = []idptest.ADFSUser{{Username: adfsUser, Password: adfsPass, Roles: []string{adfsRole}}}
	}
	a, err := idptest.NewADFS(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

func TestADFSFormsLoginIssuesSignedAssertion(t *testing.T) {
	for _, v := range []string{"2.0", "2012R2", "2016", "2019"} {
		t.Run(v, func(t *testing.T) {
			a := newADFS(t, idptest.ADFSOptions{Version: v})
			b := newBrowser()
			p := b.mustGet(t, a.URL())
			sel, set := "form#loginForm", map[string]string{"UserName": adfsUser, "Password": adfsPass}
			if v == "2.0" {
				sel = "form#aspnetForm"
				set = map[string]string{"ctl00$ContentPlaceHolder1$UsernameTextBox": adfsUser,
					"ctl00$ContentPlaceHolder1$PasswordTextBox": adfsPass, "ctl00$ContentPlaceHolder1$SubmitButton": "Sign In"}
			}
			p = b.mustSubmit(t, p, sel, set)
			if p.doc.Find("form[name=hiddenform][action='https://signin.aws.amazon.com/saml']").Length() != 1 {
				t.Fatalf("no hiddenform on %q: %.300s", title(p), p.body)
			}
			checkAssertion(t, samlResponse(p), a.Certificate(), want{
				dest: "https://signin.aws.amazon.com/saml", issuer: a.BaseURL() + "/adfs/services/trust",
				nameID: adfsUser, sessionName: adfsUser, roles: []string{adfsRole}, notOnOrAfter: within(5 * time.Minute),
			})
			if c := cookie(p, "MSISAuth"); c == nil || c.Path != "/adfs" {
				t.Errorf("no MSISAuth session cookie: %v", p.cookies)
			}
			if s := a.Stats(); s.Logins != 1 || s.SAMLIssued != 1 || len(a.IssuedResponses()) != 1 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// TestADFS2019RejectsDuplicateUserName: posting form#options' hidden
// UserName too (what every-input scrapers do) is an error on 2019 and a
// wrong user name before.
func TestADFS2019RejectsDuplicateUserName(t *testing.T) {
	for v, want := range map[string]string{"2019": idptest.ADFSMsgError, "2016": idptest.ADFSMsgBadPassword} {
		a := newADFS(t, idptest.ADFSOptions{Version: v})
		b := newBrowser()
		p := b.mustGet(t, a.URL())
		action, _ := p.doc.Find("form#loginForm").Attr("action")
		target, _ := p.url.Parse(action)
		form := url.Values{"UserName": {adfsUser, adfsUser}, "Password": {adfsPass}, "AuthMethod": {"FormsAuthentication"}}
		resp, err := b.c.PostForm(target.String(), form)
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := goquery.NewDocumentFromReader(resp.Body)
		resp.Body.Close()
		got := strings.TrimSpace(doc.Find("#errorMessage").Text() + doc.Find("#errorText").Text())
		if got != want || a.Stats().DuplicateFields != 1 {
			t.Errorf("%s: page says %q (stats %+v); want %q", v, got, a.Stats(), want)
		}
	}
}

func TestADFSErrorPages(t *testing.T) {
	a := newADFS(t, idptest.ADFSOptions{IdPInitiatedDisabled: true})
	p := newBrowser().mustGet(t, a.URL())
	if got := text(p, "#errorArea #errorMessage"); got != idptest.ADFSMsgNotAvail {
		t.Errorf("disabled page says %q", got)
	}
	a = newADFS(t, idptest.ADFSOptions{})
	p = newBrowser().mustGet(t, a.BaseURL()+"/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:other")
	if got := text(p, "#errorMessage"); got != idptest.ADFSMsgError || a.Stats().Errors != 1 {
		t.Errorf("unknown relying party page says %q", got)
	}
}

// TestADFSNTLM drives /adfs/ls/wia with go-ntlmssp, an independent NTLM
// client: the emulator must verify a real NTLMv2 response and refuse a
// wrong password.
func TestADFSNTLM(t *testing.T) {
	a := newADFS(t, idptest.ADFSOptions{WIA: true})
	c := &http.Client{Transport: ntlmssp.Negotiator{RoundTripper: &http.Transport{}}, Timeout: 10 * time.Second}
	get := func(user, pass, ua string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, a.URL(), nil)
		req.Header.Set("User-Agent", ua)
		req.SetBasicAuth(user, pass)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	const ie = "Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko"
	for _, u := range []string{adfsUser, `CORP\ana`, `corp\ANA`} {
		resp := get(u, adfsPass, ie)
		doc, _ := goquery.NewDocumentFromReader(resp.Body)
		if resp.StatusCode != http.StatusOK || doc.Find("form[name=hiddenform] input[name=SAMLResponse]").Length() != 1 {
			t.Errorf("%s: status %d, no hiddenform", u, resp.StatusCode)
		}
	}
	if resp := get(adfsUser, "wrong", ie); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d, want 401", resp.StatusCode)
	}
	if resp := get("bob@corp.example", adfsPass, ie); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unknown user: status %d, want 401", resp.StatusCode)
	}
	// Other browsers get the forms page, as WIASupportedUserAgents says.
	resp := get(adfsUser, adfsPass, "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	if doc.Find("form#loginForm").Length() != 1 {
		t.Errorf("a non-IE browser did not get the forms page")
	}
	if s := a.Stats(); s.NTLMLogins != 3 || s.NTLMFailures != 2 || s.NTLMChallenges != 5 {
		t.Errorf("stats %+v: want 3 NTLM logins, 2 failures, 5 challenges", s)
	}
}

// TestADFSPagesMatchCaptured: what clients key on in the captured AD FS
// pages (../testdata/adfs) is also on the emulator's pages.
func TestADFSPagesMatchCaptured(t *testing.T) {
	mfa := idptest.ADFSMFA{Adapter: idptest.ADFSSecurID, Code: "1234"}
	tests := []struct {
		fixture   string
		version   string
		mfa       bool
		selectors []string
	}{
		{fixture: "adfs2-loginpage.html", version: "2012R2", selectors: []string{
			"form#loginForm[method=post][action]", "label#errorText", "input#userNameInput[name=UserName][type=email]",
			"input#passwordInput[name=Password][type=password]", "input#kmsiInput[name=Kmsi][type=checkbox][value=true]",
			"input#optionForms[type=hidden][name=AuthMethod][value=FormsAuthentication]",
			"form#options input#optionSelection[name=AuthMethod]:not([value])",
		}},
		{fixture: "adfs-login-via-aad.html", version: "2019", selectors: []string{
			"form#loginForm[method=post][action]", "span#errorText[role=alert]", "input#userNameInput[name=UserName]",
			"input#passwordInput[name=Password][type=password]", "input#optionForms[name=AuthMethod][value=FormsAuthentication]",
			"form#options input#userNameInputOptionsHolder[name=UserName][type=hidden]",
			"form#options input#optionSelection[name=AuthMethod]:not([value])",
		}},
		{fixture: "adfs2-securid-passcode.html", version: "2012R2", mfa: true, selectors: []string{
			"form#passcodeForm[method=post]:not([action])", "input#authMethod[type=hidden][name=AuthMethod][value=SecurIDAuthentication]",
			"input#context[type=hidden][name=Context]", "input#passcodeInput[name=Passcode][type=password]",
			"label#errorText", "input#submitButton[type=submit]", "form#options",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "testdata", "adfs", tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			fixture, _ := goquery.NewDocumentFromReader(strings.NewReader(string(raw)))
			o := idptest.ADFSOptions{Version: tt.version}
			if tt.mfa {
				o.Users = []idptest.ADFSUser{{Username: adfsUser, Password: adfsPass, MFA: mfa}}
			}
			a := newADFS(t, o)
			b := newBrowser()
			p := b.mustGet(t, a.URL())
			if tt.mfa {
				p = b.mustSubmit(t, p, "form#loginForm", map[string]string{"UserName": adfsUser, "Password": adfsPass})
			}
			for _, s := range tt.selectors {
				if fixture.Find(s).Length() == 0 {
					t.Errorf("captured page lacks %s (fix the test)", s)
				}
				if p.doc.Find(s).Length() == 0 {
					t.Errorf("emulator page lacks %s", s)
				}
			}
		})
	}
}

func TestADFSOptionsErrors(t *testing.T) {
	for _, o := range []idptest.ADFSOptions{
		{Version: "2022"},
		{Users: []idptest.ADFSUser{{Password: "x"}}},
		{Users: []idptest.ADFSUser{{Username: "a@b"}, {Username: "A@B"}}},
	} {
		if a, err := idptest.NewADFS(o); err == nil {
			a.Close()
			t.Errorf("NewADFS(%+v) accepted", o)
		}
	}
}

// TestADFSPaginated: the first page asks only for the user name; the
// second carries it hidden and asks for the password.
func TestADFSPaginated(t *testing.T) {
	if _, err := idptest.NewADFS(idptest.ADFSOptions{Paginated: true, Version: "2016"}); err == nil {
		t.Error("paginated 2016 accepted; it is a 2019 feature")
	}
	a := newADFS(t, idptest.ADFSOptions{Paginated: true})
	b := newBrowser()
	p := b.mustGet(t, a.URL())
	f := p.doc.Find("form#loginForm")
	if f.Find("input[name=UserName][type=email]").Length() != 1 || f.Find("input[type=password]").Length() != 0 {
		t.Fatalf("first page is not the user name page: %.400s", p.body)
	}
	p = b.mustSubmit(t, p, "form#loginForm", map[string]string{"UserName": adfsUser})
	f = p.doc.Find("form#loginForm")
	if f.Find("input[name=UserName][type=hidden]").AttrOr("value", "") != adfsUser || f.Find("input[name=Password][type=password]").Length() != 1 {
		t.Fatalf("second page is not the password page: %.400s", p.body)
	}
	wrong := b.mustSubmit(t, p, "form#loginForm", map[string]string{"Password": "nope"})
	if got := strings.TrimSpace(wrong.doc.Find("#errorText").Text()); got != idptest.ADFSMsgBadPassword {
		t.Fatalf("wrong password: errorText %q", got)
	}
	p = b.mustSubmit(t, wrong, "form#loginForm", map[string]string{"Password": adfsPass})
	if samlResponse(p) == "" {
		t.Fatalf("no SAMLResponse after the password page: %.300s", p.body)
	}
	if s := a.Stats(); s.UsernamePosts != 1 || s.PasswordPosts != 2 || s.Logins != 1 || s.DuplicateFields != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestADFSKerberosVerify: /adfs/ls/wia accepts a real SPNEGO token from
// the KDC's ticket once; a replay of it and a token the keytab cannot
// decrypt are refused with 401.
func TestADFSKerberosVerify(t *testing.T) {
	k := idptest.StartKDC(t, idptest.KDCOptions{Users: map[string]string{"ana": adfsPass}, Services: []string{"HTTP/127.0.0.1"}})
	cc := filepath.Join(t.TempDir(), "cc")
	k.Kinit(t, "ana", adfsPass, cc, "")
	a := newADFS(t, idptest.ADFSOptions{WIA: true, KerberosKeytab: k.Keytab})
	ccache, err := credentials.LoadCCache(cc)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := config.Load(k.Config)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.NewFromCCache(ccache, conf, client.DisablePAFXFAST(true))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := spnego.SPNEGOClient(cl, "HTTP/127.0.0.1").InitSecContext()
	if err != nil {
		t.Fatal(err)
	}
	b, err := tok.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	wia := a.BaseURL() + "/adfs/ls/wia?loginToRp=urn:amazon:webservices"
	get := func(auth string) int {
		req, _ := http.NewRequest(http.MethodGet, wia, nil)
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := "Negotiate " + base64.StdEncoding.EncodeToString(b)
	if got := get(good); got != http.StatusOK {
		t.Fatalf("valid ticket: HTTP %d", got)
	}
	if got := get(good); got != http.StatusUnauthorized {
		t.Errorf("replayed ticket: HTTP %d, want 401", got)
	}
	if got := get("Negotiate " + base64.StdEncoding.EncodeToString(b[:len(b)-8])); got != http.StatusUnauthorized {
		t.Errorf("truncated token: HTTP %d, want 401", got)
	}
	if s := a.Stats(); s.KerberosLogins != 1 || s.KerberosFailures != 2 || s.SAMLIssued != 1 {
		t.Errorf("stats %+v: want one Kerberos login, two refusals", s)
	}
}

package idptest_test

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/saml2sts/saml2sts/idp/idptest"
)

// entraBrowser walks the Entra emulator's pages by hand, the way a browser
// without Entra's JavaScript bundle would: plain forms and the page's
// $Config for the JSON calls. Nothing of the real adapter.
type entraBrowser struct {
	t    *testing.T
	e    *idptest.Entra
	http *http.Client
	cfg  map[string]any
	doc  *goquery.Document
	base *url.URL
}

func newEntraBrowser(t *testing.T, e *idptest.Entra) *entraBrowser {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(e.BaseURL())
	return &entraBrowser{t: t, e: e, http: &http.Client{Jar: jar}, base: u}
}

func entraEmu(t *testing.T, o idptest.EntraOptions) *idptest.Entra {
	t.Helper()
	e, err := idptest.NewEntra(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// samlRequest is an HTTP-Redirect AuthnRequest; extra goes inside it.
func samlRequest(issuer, acs, extra string) string {
	x := `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="id1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z" AssertionConsumerServiceURL="` +
		acs + `"><saml:Issuer>` + issuer + `</saml:Issuer>` + extra + `</samlp:AuthnRequest>`
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.DefaultCompression)
	w.Write([]byte(x))
	w.Close()
	return base64.StdEncoding.EncodeToString(z.Bytes())
}

func (b *entraBrowser) page(resp *http.Response, err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	b.doc, err = goquery.NewDocumentFromReader(bytes.NewReader(raw))
	if err != nil {
		b.t.Fatal(err)
	}
	b.cfg = nil
	if i := bytes.Index(raw, []byte("$Config=")); i >= 0 {
		if err := json.NewDecoder(bytes.NewReader(raw[i+8:])).Decode(&b.cfg); err != nil {
			b.t.Fatalf("$Config: %v", err)
		}
	}
}

func (b *entraBrowser) open(rawURL string) {
	b.t.Helper()
	b.page(b.http.Get(rawURL))
}

func (b *entraBrowser) pgid() string { return b.doc.Find(`meta[name="PageID"]`).AttrOr("content", "") }

// submit posts the page's first form with its inputs, then set.
func (b *entraBrowser) submit(set map[string]string) {
	b.t.Helper()
	f := b.doc.Find("form").First()
	v := url.Values{}
	f.Find("input").Each(func(_ int, s *goquery.Selection) {
		if n, ok := s.Attr("name"); ok && s.AttrOr("type", "") != "submit" && (s.AttrOr("type", "") != "radio" || s.Is("[checked]")) {
			v.Set(n, s.AttrOr("value", ""))
		}
	})
	for k, x := range set {
		v.Set(k, x)
	}
	action, _ := b.base.Parse(f.AttrOr("action", ""))
	b.page(b.http.PostForm(action.String(), v))
}

// api calls a $Config JSON endpoint with the page's headers.
func (b *entraBrowser) api(rawURL string, body map[string]any, headers bool) (int, map[string]any) {
	b.t.Helper()
	j, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, rawURL, bytes.NewReader(j))
	req.Header.Set("Content-Type", "application/json")
	if headers {
		req.Header.Set("canary", b.cfg["apiCanary"].(string))
		req.Header.Set("client-request-id", b.cfg["correlationId"].(string))
		req.Header.Set("hpgrequestid", b.cfg["sessionId"].(string))
		req.Header.Set("hpgact", "1800")
		req.Header.Set("hpgid", "1104")
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (b *entraBrowser) saml() string {
	return b.doc.Find(`form[name=hiddenform] input[name=SAMLResponse]`).AttrOr("value", "")
}

const entraAWS = "https://signin.aws.amazon.com/saml"

// TestEntraPlainForms: the pages work as plain HTML forms (what a real
// browser falls back to): password, "Stay signed in?" yes, the SAML page;
// then the ESTSAUTHPERSISTENT session answers at once.
func TestEntraPlainForms(t *testing.T) {
	e := entraEmu(t, idptest.EntraOptions{Users: []idptest.EntraUser{{Username: "ana@corp.example", Password: "pw", Roles: []string{"r,p"},
		Methods: []idptest.EntraMethod{{ID: idptest.EntraOTP, Code: "111222"}}}}})
	b := newEntraBrowser(t, e)
	start := e.URL() + "?SAMLRequest=" + url.QueryEscape(samlRequest(entraAWS, entraAWS, ""))
	b.open(start)
	if b.pgid() != "ConvergedSignIn" || b.cfg["sErrorCode"] != "50058" {
		t.Fatalf("first page %q %v", b.pgid(), b.cfg["sErrorCode"])
	}
	b.submit(map[string]string{"loginfmt": "ana@corp.example", "login": "ana@corp.example", "passwd": "pw"})
	if b.pgid() != "ConvergedTFA" {
		t.Fatalf("after the password: %q", b.pgid())
	}
	b.submit(map[string]string{"mfaAuthMethod": idptest.EntraOTP, "otc": "111222"})
	if b.pgid() != "KmsiInterrupt" {
		t.Fatalf("after the code: %q", b.pgid())
	}
	b.submit(map[string]string{"LoginOptions": "1"})
	if b.saml() == "" || b.doc.Find("form").AttrOr("action", "") != entraAWS {
		t.Fatalf("no SAML page: %s", b.doc.Text())
	}
	var persistent bool
	for _, c := range b.http.Jar.Cookies(b.base) {
		persistent = persistent || c.Name == "ESTSAUTHPERSISTENT"
	}
	if !persistent {
		t.Errorf("no ESTSAUTHPERSISTENT cookie after KMSI yes")
	}
	b.open(start)
	if b.saml() == "" {
		t.Errorf("the session did not answer with the SAML page")
	}
	if s := e.Stats(); s.SessionReuses != 1 || s.SAMLIssued != 2 || s.KMSIYes != 1 {
		t.Errorf("stats %+v", s)
	}
}

// TestEntraJSONFlow: GetCredentialType, BeginAuth (the number to match),
// EndAuth polled while Retry, ProcessAuth; stale tokens and missing headers
// are refused.
func TestEntraJSONFlow(t *testing.T) {
	e := entraEmu(t, idptest.EntraOptions{SkipKMSI: true, Users: []idptest.EntraUser{{Username: "ana@corp.example", Password: "pw",
		Methods: []idptest.EntraMethod{{ID: idptest.EntraPush, Number: 73, After: 2}}}}})
	b := newEntraBrowser(t, e)
	b.open(e.UserAccessURL())
	ft := b.cfg["sFT"].(string)
	body := map[string]any{"username": "ana@corp.example", "originalRequest": b.cfg["sCtx"], "flowToken": ft}
	if code, _ := b.api(b.cfg["urlGetCredentialType"].(string), body, false); code != http.StatusBadRequest {
		t.Errorf("GetCredentialType without headers: HTTP %d", code)
	}
	_, ct := b.api(b.cfg["urlGetCredentialType"].(string), body, true)
	if ct["IfExistsResult"] != 0.0 || ct["FlowToken"] == ft {
		t.Fatalf("GetCredentialType: %v", ct)
	}
	// The old flowToken is spent.
	b.submit(map[string]string{"login": "ana@corp.example", "passwd": "pw", "flowToken": ft})
	if b.pgid() != "ConvergedError" || b.cfg["sErrorCode"] != "9002313" {
		t.Fatalf("stale flowToken: %q %v", b.pgid(), b.cfg["sErrorCode"])
	}
	b.open(e.UserAccessURL())
	b.submit(map[string]string{"login": "ana@corp.example", "passwd": "pw"})
	if b.pgid() != "ConvergedTFA" {
		t.Fatalf("after the password: %q", b.pgid())
	}
	_, begin := b.api(b.cfg["urlBeginAuth"].(string), map[string]any{"AuthMethodId": idptest.EntraPush, "Method": "BeginAuth",
		"Ctx": b.cfg["sCtx"], "FlowToken": b.cfg["sFT"]}, true)
	if begin["Success"] != true || begin["Entropy"] != 73.0 {
		t.Fatalf("BeginAuth: %v", begin)
	}
	last := begin
	for n := 1; ; n++ {
		_, end := b.api(b.cfg["urlEndAuth"].(string), map[string]any{"AuthMethodId": idptest.EntraPush, "Method": "EndAuth",
			"Ctx": last["Ctx"], "FlowToken": last["FlowToken"], "SessionId": begin["SessionId"], "PollCount": n}, true)
		last = end
		if end["Retry"] != true {
			if end["Success"] != true || n != 3 {
				t.Fatalf("EndAuth %d: %v", n, end)
			}
			break
		}
	}
	b.submit(map[string]string{"flowToken": last["FlowToken"].(string), "mfaAuthMethod": idptest.EntraPush, "type": "22"})
	if b.saml() == "" {
		t.Fatalf("no SAML page after ProcessAuth: %q", b.pgid())
	}
	if s := e.Stats(); s.MissingHeaders != 1 || s.StaleTokens != 1 || s.EndAuths != 3 {
		t.Errorf("stats %+v", s)
	}
}

func TestEntraRequestChecks(t *testing.T) {
	e := entraEmu(t, idptest.EntraOptions{Users: []idptest.EntraUser{{Username: "ana@corp.example", Password: "pw"}}})
	tests := []struct{ req, code string }{
		{samlRequest("https://signin.aws.amazon.com/saml#9", entraAWS, ""), "700016"},
		{samlRequest(entraAWS, "https://evil.example.com/saml", ""), "50011"},
		{"not-a-request", "750054"},
	}
	for _, tc := range tests {
		b := newEntraBrowser(t, e)
		b.open(e.URL() + "?SAMLRequest=" + url.QueryEscape(tc.req))
		if b.pgid() != "ConvergedError" || b.cfg["sErrorCode"] != tc.code {
			t.Errorf("want AADSTS%s, got %q %v", tc.code, b.pgid(), b.cfg["sErrorCode"])
		}
	}
}

// TestEntraRequestedAuthnContext: a request that names an authentication
// context is refused after MFA (AADSTS75011), as Entra does.
func TestEntraRequestedAuthnContext(t *testing.T) {
	e := entraEmu(t, idptest.EntraOptions{SkipKMSI: true, Users: []idptest.EntraUser{{Username: "ana@corp.example", Password: "pw",
		Methods: []idptest.EntraMethod{{ID: idptest.EntraOTP, Code: "555666"}}}}})
	rac := `<samlp:RequestedAuthnContext Comparison="exact"><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>`
	b := newEntraBrowser(t, e)
	b.open(e.URL() + "?SAMLRequest=" + url.QueryEscape(samlRequest(entraAWS, entraAWS, rac)))
	b.submit(map[string]string{"login": "ana@corp.example", "passwd": "pw"})
	b.submit(map[string]string{"mfaAuthMethod": idptest.EntraOTP, "otc": "555666"})
	if b.pgid() != "ConvergedError" || b.cfg["sErrorCode"] != "75011" || !strings.Contains(b.cfg["sErrTxt"].(string), "doesn't match requested authentication method") {
		t.Errorf("got %q %v", b.pgid(), b.cfg["sErrorCode"])
	}
}

func TestEntraOptionErrors(t *testing.T) {
	for _, o := range []idptest.EntraOptions{
		{Users: []idptest.EntraUser{{Username: "a", Federated: true}}},
		{Users: []idptest.EntraUser{{Username: "a", Methods: []idptest.EntraMethod{{ID: "Fido"}}}}},
		{Users: []idptest.EntraUser{{Username: "a", Methods: []idptest.EntraMethod{{ID: idptest.EntraPush, Answer: "maybe"}}}}},
		{Users: []idptest.EntraUser{{Username: "a"}, {Username: "A"}}},
		{Users: []idptest.EntraUser{{Username: "a", ProofUp: "later"}}},
	} {
		if e, err := idptest.NewEntra(o); err == nil {
			e.Close()
			t.Errorf("NewEntra(%+v) accepted", o)
		}
	}
}

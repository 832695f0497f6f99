package entra

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"text/template"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/idptest"
)

// TestCapturedPages drives the adapter through the pages saml2aws
// captured from Entra (testdata, templates filled in), not the emulator:
// ConvergedSignIn, GetCredentialType, ConvergedTFA with a call,
// BeginAuth/EndAuth, KmsiInterrupt, then the SAML page. The server checks
// what a browser sends back: tokens of the page, the API headers, KMSI yes.
func TestCapturedPages(t *testing.T) {
	vals := map[string]any{
		"ApiCanary": "api-canary-1", "Canary": "form-canary-1", "ClientRequestId": "c1d2e3f4-0000-4000-8000-000000000001",
		"Ctx": "ctx-blob-1", "SFT": "flow-token-1", "SessionId": "5e55e55e-0000-4000-8000-000000000002",
		"InstrumentationKey": "ik", "Nonce": "n", "OpenIdConnectAuthenticationProperties": "p", "State": "s", "UaId": "u",
		"SosId": "1", "TenantId": tenant, "UserName": emuUser, "UserNameUrlEncoded": url.QueryEscape(emuUser),
		"AuthMethodId": "TwoWayVoiceMobile", "Entropy": 0, "ProofUpToken": "x", "SErrorCode": "", "UrlProcessAuth": "/process",
		"UrlSkipMfaRegistration": "/skip", "UrlGetCredentialType": "/common/GetCredentialType?mkt=en-US",
	}
	var (
		mu   sync.Mutex
		seen []string
		fail []string
	)
	render := func(w http.ResponseWriter, name string, extra map[string]any) {
		tpl := template.Must(template.New(name).Parse(string(fixture(t, name))))
		v := map[string]any{}
		for k, x := range vals {
			v[k] = x
		}
		for k, x := range extra {
			v[k] = x
		}
		var b bytes.Buffer
		if err := tpl.Execute(&b, v); err != nil {
			t.Error(err)
		}
		if strings.HasSuffix(name, ".json") {
			w.Header().Set("Content-Type", "application/json")
		}
		w.Write(b.Bytes())
	}
	want := func(what string, ok bool) {
		if !ok {
			mu.Lock()
			fail = append(fail, what)
			mu.Unlock()
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		var body map[string]any
		if r.Header.Get("Content-Type") == "application/json; charset=UTF-8" {
			raw, _ := io.ReadAll(r.Body)
			json.Unmarshal(raw, &body)
			want("api canary header", r.Header.Get("canary") == "api-canary-1")
			want("client-request-id", r.Header.Get("client-request-id") == vals["ClientRequestId"])
			want("hpgrequestid", r.Header.Get("hpgrequestid") == vals["SessionId"])
		} else if r.Method == http.MethodPost {
			r.ParseForm()
		}
		switch r.URL.Path {
		case "/" + tenant + "/saml2":
			render(w, "ConvergedSignIn.html", map[string]any{"UrlPost": "/" + tenant + "/login"})
		case "/common/GetCredentialType":
			want("GetCredentialType body", body["username"] == emuUser && body["flowToken"] == "flow-token-1" && body["originalRequest"] == "ctx-blob-1")
			render(w, "GetCredentialType_default.json", map[string]any{"SFT": "flow-token-2"})
		case "/" + tenant + "/login":
			f := r.PostForm
			want("password post", f.Get("passwd") == emuPass && f.Get("flowToken") == "flow-token-2" && f.Get("ctx") == "ctx-blob-1" &&
				f.Get("canary") == "form-canary-1=0:1" && f.Get("loginfmt") == emuUser)
			render(w, "ConvergedTFA.html", map[string]any{"UrlBeginAuth": "/common/SAS/BeginAuth", "UrlEndAuth": "/common/SAS/EndAuth",
				"UrlPost": "/common/SAS/ProcessAuth", "SFT": "flow-token-3"})
		case "/common/SAS/BeginAuth":
			want("BeginAuth body", body["AuthMethodId"] == "TwoWayVoiceMobile" && body["FlowToken"] == "flow-token-3" && body["Method"] == "BeginAuth")
			render(w, "BeginAuth.json", map[string]any{"SFT": "flow-token-4"})
		case "/common/SAS/EndAuth":
			want("EndAuth body", body["SessionId"] == vals["SessionId"] && body["FlowToken"] == "flow-token-4")
			render(w, "EndAuth.json", map[string]any{"SFT": "flow-token-5"})
		case "/common/SAS/ProcessAuth":
			want("ProcessAuth form", r.PostForm.Get("flowToken") == "flow-token-5" && r.PostForm.Get("request") == "ctx-blob-1" &&
				r.PostForm.Get("mfaAuthMethod") == "TwoWayVoiceMobile")
			render(w, "KmsiInterrupt.html", map[string]any{"UrlPost": "/kmsi", "SFT": "flow-token-6"})
		case "/kmsi":
			want("KMSI yes", r.PostForm.Get("LoginOptions") == "1" && r.PostForm.Get("flowToken") == "flow-token-6")
			w.Write([]byte(`<html><head><title>Working...</title></head><body><form method="POST" name="hiddenform" action="https://signin.aws.amazon.com/saml"><input type="hidden" name="SAMLResponse" value="PHNhbWxwOlJlc3BvbnNlLz4=" /></form></body></html>`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	jar, _ := idp.NewJar(nil)
	notice := &bytes.Buffer{}
	req := &idp.Request{URL: srv.URL + "/" + tenant + "/saml2", Username: emuUser, MFA: "call", Client: idp.NewClient(nil, jar),
		Password: func(context.Context) (string, error) { return emuPass, nil }, Prompt: &prompter{noTTY: true}, Notice: notice,
		Clock: &idptest.Clock{}}
	p := New()
	saml, err := p.Login(context.Background(), req)
	if err != nil || saml != "PHNhbWxwOlJlc3BvbnNlLz4=" {
		t.Fatalf("login: %q, %v\nrequests: %v", saml, err, seen)
	}
	if len(fail) > 0 {
		t.Errorf("the adapter sent the wrong %v\nrequests: %v", fail, seen)
	}
	if !strings.Contains(notice.String(), "calling +XX XXX XXXX X89") {
		t.Errorf("notices: %s", notice)
	}
}

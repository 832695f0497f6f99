package duo

import (
	"bytes"
	"encoding/json"
	"net/url"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/saml2sts/saml2sts/idp"
)

// FuzzPages feeds arbitrary HTML to every reader of Duo's pages: none may
// panic, whatever a hostile or broken page holds.
func FuzzPages(f *testing.F) {
	for _, s := range []string{
		`<form id="plugin_form" action="/frame/frameless/v4/auth?sid=x"><input name="tx" value="TX|a"></form>`,
		`<form id="login-form"><input name="sid" value="s"><input name="_xsrf" value="x"><select name="device"><option value="phone1" data-factors="Duo Push|Passcode">iOS</option><option name="webauthn" value="k">key</option></select></form>`,
		`<div data-akey="DIX" data-authkey="ak"></div>`,
		`<form class="adfs_form" action="/x"><input name="duo_code" value="c"><input name="state" value="s"></form>`,
		`<form id="adfs_form" action="https://api-1.duosecurity.com/oauth/v1/authorize?client_id=x"></form>`,
		`<div id="error-view"><p class="error-message">Access denied</p></div>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		u, _ := url.Parse("https://api-1234.duosecurity.com/frame/v4/auth/prompt?sid=x")
		p := &idp.Page{URL: u, Status: 200, Body: b, Doc: doc}
		IsHandoff(p)
		returnForm(p)
		duoError(p)
		if pr := open(nil, p, func(string) {}); pr != nil {
			pr.devices()
			pr.preferred()
		}
	})
}

// FuzzStatus feeds arbitrary JSON to both prompts' status readers: a
// state is either pending or done, and approval is always done.
func FuzzStatus(f *testing.F) {
	for _, s := range []string{
		`{"stat":"OK","response":{"status_code":"pushed","risk_based_factor_selection_data":{"step_up_code":"123456"}}}`,
		`{"stat":"OK","response":{"status_code":"allow","result":"SUCCESS"}}`,
		`{"stat":"OK","response":{"status_code":"deny","status":"Login request denied."}}`,
		`{"result":{"result":"WAITING","status_code":"pushed"}}`,
		`{"result":"FAILURE","status":"The call was not answered."}`,
		`{"result":{"result":"SUCCESS"},"step_up_code":"1"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var a frameAnswer
		if json.Unmarshal(b, &a) == nil {
			if st := frameState(a); st.ok && !st.done {
				t.Fatalf("approved but not done: %+v", st)
			}
		}
		var s newStatus
		if json.Unmarshal(b, &s) == nil {
			if st := newState(s); st.ok && !st.done {
				t.Fatalf("approved but not done: %+v", st)
			}
		}
	})
}

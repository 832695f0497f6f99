package ststest

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Chooser is a generation of the AWS sign-in role chooser page.
type Chooser int

const (
	// ChooserLegacy is the HTML page with div.saml-account-name.
	ChooserLegacy Chooser = iota
	// ChooserNextJS is the Next.js page (account_name_div, __NEXT_DATA__).
	ChooserNextJS
	// ChooserBroken answers 500, as an outage of the sign-in page does.
	ChooserBroken
)

// chooserPath is the AWS SAML sign-in endpoint (https://signin.aws.amazon.com/saml).
const chooserPath = "/saml"

// chooser emulates the AWS SAML sign-in endpoint: a browser posts the
// SAMLResponse there after an IdP login and gets the role chooser, listing
// the granted roles by account with the account aliases
// (Options.AccountNames). The assertion is verified as AssumeRoleWithSAML
// verifies it; Calls counts posts under "saml".
func (s *Server) chooser(w http.ResponseWriter, form url.Values) {
	s.mu.Lock()
	s.calls["saml"]++
	s.mu.Unlock()
	if s.o.ChooserPage == ChooserBroken {
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	raw := form.Get("SAMLResponse")
	var c *claims
	for _, cert := range s.o.Providers {
		if got, err := s.verifyAssertion(raw, cert, s.o.Now()); err == nil {
			c = got
			break
		}
	}
	if c == nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte("<html><body><h1>Your request included an invalid SAML response.</h1></body></html>"))
		return
	}
	accounts := map[string][]string{}
	for _, r := range c.roles {
		_, acct, _ := splitRoleARN(r[0])
		accounts[acct] = append(accounts[acct], r[0])
	}
	ids := make([]string, 0, len(accounts))
	for id := range accounts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html><head><title>Amazon Web Services Sign-In</title></head><body>\n")
	if s.o.ChooserPage == ChooserNextJS {
		b.WriteString(`<div id="__next"><ul class="saml-form_custom_list__LuP_V">`)
		for _, id := range ids {
			name := id
			if n := s.o.AccountNames[id]; n != "" {
				name = n
			}
			dashed := id[:4] + "-" + id[4:8] + "-" + id[8:]
			fmt.Fprintf(&b, `<li><div class="saml-form_account_name_div__dDGkX">%s </div><div class="saml-form_account_id_div__Q1PBA">%s</div><div class="saml-form_account_role_div__FhQmy">`, html.EscapeString(name), dashed)
			for _, arn := range accounts[id] {
				fmt.Fprintf(&b, `<div class="saml-form_role_div__BeMu2"><a id="%s" role="button">%s</a></div>`, html.EscapeString(arn), html.EscapeString(arn[strings.LastIndex(arn, "/")+1:]))
			}
			b.WriteString("</div></li>")
		}
		b.WriteString(`</ul></div><script id="__NEXT_DATA__" type="application/json">{"props":{"pageProps":{}},"page":"/saml","query":{},"nextExport":true}</script>`)
	} else {
		b.WriteString(`<form id="saml_form" name="saml_form" action="/saml" method="post"><fieldset>`)
		for _, id := range ids {
			label := id
			if n := s.o.AccountNames[id]; n != "" {
				label = n + " (" + id + ")"
			}
			fmt.Fprintf(&b, `<div class="saml-account"><div class="saml-account-name">Account: %s</div><div class="saml-account">`, html.EscapeString(label))
			for _, arn := range accounts[id] {
				fmt.Fprintf(&b, `<div class="saml-role"><input type="radio" name="roleIndex" value="%s" class="saml-radio"/><label class="saml-role-description">%s</label></div>`, html.EscapeString(arn), html.EscapeString(arn[strings.LastIndex(arn, "/")+1:]))
			}
			b.WriteString("</div></div>")
		}
		b.WriteString("</fieldset></form>")
	}
	b.WriteString("</body></html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(b.String()))
}

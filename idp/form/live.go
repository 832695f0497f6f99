package form

import (
	"strings"

	"github.com/PuerkitoBio/goquery"

	"github.com/saml2sts/saml2sts/idp"
)

// Fields are the inputs on a page that the form adapter would fill in,
// found with the same heuristics as [Provider.Login]. The browser login
// runs them on a snapshot of the live DOM (after the page's scripts ran)
// and types into the inputs they point at.
type Fields struct {
	// Form is the form (or, on a script-built page with no <form>, the
	// body) that holds the inputs; nil when there is nothing to fill.
	Form *goquery.Selection
	// Kind is "login" (username and password), "username" (an
	// identifier-first page), "otp" (a one-time code) or "".
	Kind string
	// Username, Password and Code are the inputs to type into; nil when
	// the form has none of that kind.
	Username, Password, Code *goquery.Selection
	// Error is the page's own error text ("" when it shows none): what
	// the IdP says after a refused password or code.
	Error string
}

// Find classifies doc's forms. options are the profile's form_* keys;
// sentPassword says whether the password was already typed in this login
// (after it, a lone unknown input is a one-time code, and a login form is
// the IdP refusing it). Inputs hidden by the page are expected to carry
// the hidden attribute or type=hidden in doc.
func Find(doc *goquery.Document, options map[string]string, sentPassword bool) Fields {
	l := &login{
		userField:    strings.TrimSpace(options[KeyUsernameField]),
		passField:    strings.TrimSpace(options[KeyPasswordField]),
		errSel:       strings.TrimSpace(options[KeyErrorSelector]),
		sentPassword: sentPassword,
	}
	forms := doc.Find("form")
	if forms.Length() == 0 {
		// Script-built pages may have inputs and no form element.
		forms = doc.Find("body")
	}
	pf := l.classifyForms(forms)
	f := Fields{Error: l.errorText(doc)}
	switch {
	case pf.login != nil && !sentPassword, pf.login != nil && pf.otp == nil:
		pw := l.passwordInputs(pf.login).First()
		f.Form, f.Kind, f.Password = pf.login, "login", pw
		f.Username = l.userInput(pf.login, pw)
	case pf.otp != nil:
		f.Form, f.Kind, f.Code = pf.otp, "otp", fillable(pf.otp).First()
	case pf.user != nil:
		f.Form, f.Kind, f.Username = pf.user, "username", l.userInput(pf.user, nil)
	}
	return f
}

// NeedsBrowser reports a page the form adapter stops at because only a
// browser can get past it (a WebAuthn step).
func NeedsBrowser(p *idp.Page) bool { return p != nil && p.Doc != nil && isWebAuthn(p.Doc) }

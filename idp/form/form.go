package form

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/duo"
)

// Profile keys this adapter reads from [idp.Request.Options].
const (
	KeyUsernameField = "form_username_field"
	KeyPasswordField = "form_password_field"
	KeyErrorSelector = "form_error_selector"
)

// maxPages bounds the pages (fetches; redirects are followed within one)
// a login may take. Shibboleth with a code needs five: entry, storage
// read, password, code, storage write. The cap is what stops an
// unrecognised flow from looping into an account lockout.
const maxPages = 12

// Provider is the generic form [idp.Provider].
type Provider struct {
	maxPages int
}

// New returns a generic form provider.
func New() *Provider { return &Provider{maxPages: maxPages} }

// Registration registers the adapter as provider "form", with its
// form_* keys.
var Registration = idp.Registration{
	Name: "form",
	New:  func() idp.Provider { return New() },
	Keys: []idp.Key{
		{Name: KeyUsernameField, Help: "form provider: name of the username input, when the guess is wrong", Check: checkFieldName},
		{Name: KeyPasswordField, Help: "form provider: name of the password input, when the guess is wrong", Check: checkFieldName},
		{Name: KeyErrorSelector, Help: "form provider: CSS selector of the IdP's login error message", Check: checkSelector},
	},
}

// checkFieldName wants an HTML input name as written in the page's source.
func checkFieldName(v string) error {
	if strings.ContainsAny(v, " \t\"'<>") {
		return fmt.Errorf("%q is not an input name: give the name attribute of the input, e.g. j_username", v)
	}
	return nil
}

// checkSelector wants a CSS selector goquery can use; an invalid one would
// silently match nothing.
func checkSelector(v string) error {
	if _, err := cascadia.ParseGroup(v); err != nil {
		return fmt.Errorf("%q is not a CSS selector (%v): e.g. div.error or #errorText", v, err)
	}
	return nil
}

// Check implements [idp.Checker]: an absolute url, a valid
// form_error_selector, and no mfa: this adapter answers whatever code form
// the IdP shows, it has no factor to choose.
func (p *Provider) Check(req *idp.Request) error {
	if u, err := url.Parse(req.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return idp.Configf("form: url %q is not an absolute https url: set the profile's url to the IdP-initiated sign-on URL", idp.ShortURL(req.URL))
	}
	if s := strings.TrimSpace(req.Options[KeyErrorSelector]); s != "" {
		if _, err := cascadia.ParseGroup(s); err != nil {
			return idp.Configf("form: %s %q is not a CSS selector: %v", KeyErrorSelector, s, err)
		}
	}
	if m := strings.TrimSpace(req.MFA); m != "" && !strings.EqualFold(m, "auto") && !duo.IsMethod(m) {
		return idp.Configf("form: mfa %q has no effect with provider form, which answers the one-time code form the IdP shows "+
			"(pass the code with --mfa-code): set mfa to auto (or, behind Duo, to push, passcode or call)", req.MFA)
	}
	return nil
}

// Login implements [idp.Provider]. req.URL is any IdP-initiated sign-on URL
// that ends in an HTML POST of a SAMLResponse.
func (p *Provider) Login(ctx context.Context, req *idp.Request) (string, error) {
	if req == nil || req.Client == nil {
		return "", errors.New("form: login request has no http client")
	}
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", idp.Configf("form: url %q is not an absolute https url: set the profile's url to the IdP-initiated sign-on URL", idp.ShortURL(req.URL))
	}
	max := p.maxPages
	if max <= 0 {
		max = maxPages
	}
	l := &login{req: req, in: idp.NewInputs(req)}
	l.w = idp.Walker{Name: "form", Max: max, Client: req.Client, In: &l.in}
	l.userField = strings.TrimSpace(req.Options[KeyUsernameField])
	l.passField = strings.TrimSpace(req.Options[KeyPasswordField])
	if s := strings.TrimSpace(req.Options[KeyErrorSelector]); s != "" {
		if _, err := cascadia.ParseGroup(s); err != nil {
			return "", idp.Configf("form: %s %q is not a CSS selector: %v", KeyErrorSelector, s, err)
		}
		l.errSel = s
	}

	page, err := l.w.Fetch(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	return l.w.Walk(ctx, page, func(ctx context.Context, page *idp.Page) (*idp.Page, error) {
		if duo.IsHandoff(page) { // Shibboleth's and SimpleSAMLphp's Duo modules
			return (&duo.Flow{Walker: &l.w}).Login(ctx, req, &l.in, page)
		}
		next, err := l.next(ctx, page)
		if err != nil {
			return nil, err
		}
		return l.w.Submit(ctx, next)
	})
}

// login is the state of one Login call.
type login struct {
	req *idp.Request
	w   idp.Walker // fetches and counts the pages

	userField, passField, errSel string // profile overrides

	in           idp.Inputs // password, --mfa-code, secrets to scrub
	sentUser     bool
	sentPassword bool
	sentOTP      bool
}

// next decides what to submit on page, which holds no SAMLResponse. The
// order matters: pages that need a browser are recognised before their
// forms are filled in; before the password a login form beats a
// code-looking one (a voucher field), after it a code form is the expected
// next step; forms to fill beat self-submitting pages, whose scripts may
// just be a login page's submit-on-Enter.
func (l *login) next(ctx context.Context, page *idp.Page) (*idp.Form, error) {
	doc := page.Doc
	if isWebAuthn(doc) {
		return nil, &idp.UnsupportedError{What: "WebAuthn (security key) authentication",
			Hint: "ask your IdP administrator for a one-time code (OTP) second factor for command-line sign-in"}
	}
	if why := knownStop(doc); why != "" {
		return nil, l.w.PageError(page, why)
	}
	forms := l.classify(doc)
	switch {
	case forms.login != nil && !l.sentPassword:
		return l.credentials(ctx, page, forms.login)
	case forms.otp != nil:
		return l.otp(ctx, page, forms.otp)
	case forms.login != nil:
		return l.credentials(ctx, page, forms.login) // the refusal
	case forms.user != nil:
		return l.username(page, forms.user)
	}
	if f := continueForm(page); f != nil {
		return values(page, f), nil // a script's submit() sends no button
	}
	if forms.newPassword {
		return nil, l.w.PageError(page, "the IdP wants a new password (the page has a form with several password fields): change it in a browser, then run again")
	}
	// A login page (it has a password input) without the input the
	// profile names: the profile is wrong, not the page.
	loginPage := doc.Find(`input[type="password" i]`).Length() > 0
	if l.userField != "" && forms.missingUser {
		return nil, l.fieldError(page, loginPage, l.userField, KeyUsernameField)
	}
	if l.passField != "" && !l.sentPassword && doc.Find("form").Length() > 0 {
		return nil, l.fieldError(page, loginPage, l.passField, KeyPasswordField)
	}
	why := idp.DeadEnd(page, "expected a login form, a one-time code form, a self-submitting form or a SAML POST page", l.errorText(doc))
	if doc.Find("form").Length() == 0 && doc.Find("script").Length() > 0 {
		why += "; the page is built by JavaScript: " + idp.BrowserHint
	}
	return nil, l.w.PageError(page, why)
}

// pageForms is what classify found on a page.
type pageForms struct {
	login, otp, user *goquery.Selection
	newPassword      bool // a form with several password inputs
	missingUser      bool // a password form without the overriding username input
}

// classify finds the forms a login can use on doc.
func (l *login) classify(doc *goquery.Document) pageForms {
	return l.classifyForms(doc.Find("form"))
}

// classifyForms is classify over the given forms (or form-like containers).
func (l *login) classifyForms(forms *goquery.Selection) pageForms {
	var pf pageForms
	forms.Each(func(_ int, f *goquery.Selection) {
		pw := l.passwordInputs(f)
		fill := fillable(f)
		switch {
		case pw.Length() > 1:
			pf.newPassword = true
		case pf.otp == nil && l.isOTP(fill, pw):
			pf.otp = f
		case pw.Length() == 1 && pf.login == nil:
			if l.userField != "" && f.Find(byName(l.userField)).Length() == 0 && !l.sentUser {
				// An identifier-first IdP may ask for the password alone;
				// only after the name was sent is a missing input expected.
				pf.missingUser = true
				return
			}
			pf.login = f
		case pw.Length() == 0 && !hasPasswordType(f) && pf.user == nil && l.userInput(f, nil) != nil && !l.sentPassword:
			pf.user = f
		}
	})
	return pf
}

func hasPasswordType(f *goquery.Selection) bool {
	return f.Find("input").FilterFunction(func(_ int, s *goquery.Selection) bool { return inputType(s) == "password" }).Length() > 0
}

// fillable are the inputs a user types into: not hidden, not buttons,
// checkboxes or radios, and not disabled (browsers do not send those).
func fillable(f *goquery.Selection) *goquery.Selection {
	return f.Find("input, textarea").FilterFunction(func(_ int, s *goquery.Selection) bool {
		if _, off := s.Attr("disabled"); off {
			return false
		}
		switch inputType(s) {
		case "hidden", "submit", "button", "image", "reset", "file", "checkbox", "radio":
			return false
		}
		return true
	})
}

func inputType(s *goquery.Selection) string {
	if goquery.NodeName(s) == "textarea" {
		return "textarea"
	}
	t := strings.ToLower(strings.TrimSpace(s.AttrOr("type", "text")))
	if t == "" {
		t = "text"
	}
	return t
}

// byName selects inputs whose name attribute is exactly name.
func byName(name string) string {
	return `input[name="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"]`
}

// passwordInputs are f's password inputs, or the override's input.
func (l *login) passwordInputs(f *goquery.Selection) *goquery.Selection {
	if l.passField != "" {
		return f.Find(byName(l.passField)).First()
	}
	return f.Find("input").FilterFunction(func(_ int, s *goquery.Selection) bool {
		_, off := s.Attr("disabled")
		return !off && inputType(s) == "password"
	})
}

// hints is what identifies an input: name, id, autocomplete, placeholder
// and aria-label, lower-cased.
func hints(s *goquery.Selection) string {
	var b strings.Builder
	for _, a := range []string{"name", "id", "autocomplete", "placeholder", "aria-label"} {
		b.WriteString(strings.ToLower(s.AttrOr(a, "")))
		b.WriteByte(' ')
	}
	return b.String()
}

// otpWords mark an input as a one-time code; userWords as a login name.
var (
	otpWords  = []string{"one-time-code", "otp", "totp", "passcode", "token", "code", "pin", "mfa", "2fa", "verification", "securid", "factor"}
	userWords = []string{"user", "login", "mail", "uid", "account", "principal", "ident", "logon", "subject", "name"}
)

func hasAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// isOTP reports a form asking for a one-time code: one fillable input that
// looks like a code, or, once the password is in, one fillable input that
// looks like nothing else. A password-type input counts only when its name
// says it is a code (RSA SecurID's "Passcode").
func (l *login) isOTP(fill, pw *goquery.Selection) bool {
	if fill.Length() != 1 {
		return false
	}
	in := fill.First()
	h := hints(in)
	if name := in.AttrOr("name", ""); name != "" && (name == l.passField || name == l.userField) {
		return false
	}
	if strings.Contains(h, "username") || strings.Contains(h, "email") || inputType(in) == "email" {
		return false // an identifier-first page, not a code
	}
	code := hasAny(h, otpWords) || in.AttrOr("inputmode", "") == "numeric"
	if pw.Length() == 1 {
		return code && !strings.Contains(h, "password")
	}
	if code {
		return true
	}
	return l.sentPassword && !hasAny(h, userWords)
}

// userInput picks the username input of f: the override, else the
// best-scoring text input (autocomplete=username, type=email, a name or id
// like user/login/email, else the text input just before the password).
func (l *login) userInput(f, pw *goquery.Selection) *goquery.Selection {
	if l.userField != "" {
		if s := f.Find(byName(l.userField)).First(); s.Length() > 0 {
			return s
		}
		return nil
	}
	var best *goquery.Selection
	bestScore := 0
	beforePW := true
	fillable(f).Each(func(_ int, s *goquery.Selection) {
		if pw != nil && pw.Length() > 0 && s.IsSelection(pw) {
			beforePW = false
			return
		}
		t := inputType(s)
		if t != "text" && t != "email" && t != "tel" {
			return
		}
		h := hints(s)
		score := 0
		switch {
		case strings.Contains(h, "username") || strings.Contains(h, "email"):
			score = 100
		case t == "email":
			score = 80
		case hasAny(h, userWords):
			score = 60
		case beforePW && pw != nil && pw.Length() > 0:
			score = 10
		}
		if hasAny(h, []string{"otp", "code", "search", "captcha", "query"}) && !strings.Contains(h, "username") {
			score = 0
		}
		if score > bestScore {
			best, bestScore = s, score
		}
	})
	return best
}

// values is the form as a browser submits it: ParseForm's values, plus
// empty strings for hidden and text inputs without a value attribute,
// which ParseForm leaves out (Shibboleth's _eventId_proceed, Keycloak's
// credentialId).
func values(page *idp.Page, sel *goquery.Selection) *idp.Form {
	f := idp.ParseForm(page, sel)
	sel.Find("input").Each(func(_ int, s *goquery.Selection) {
		name, ok := s.Attr("name")
		if _, hasValue := s.Attr("value"); !ok || name == "" || hasValue || f.Values.Has(name) {
			return
		}
		if _, off := s.Attr("disabled"); off {
			return
		}
		switch inputType(s) {
		case "hidden", "text", "email", "tel", "number", "password", "search":
			f.Values.Set(name, "")
		}
	})
	return f
}

// build is the form submitted by pressing Enter: its values and the
// default (first) submit button when it has a name, which Shibboleth's
// flow needs (_eventId_proceed).
func build(page *idp.Page, sel *goquery.Selection) *idp.Form {
	f := values(page, sel)
	btn := sel.Find("button, input").FilterFunction(func(_ int, s *goquery.Selection) bool {
		if goquery.NodeName(s) == "button" {
			t := strings.ToLower(s.AttrOr("type", "submit"))
			return t == "submit" || t == ""
		}
		return inputType(s) == "submit"
	}).First()
	if name := btn.AttrOr("name", ""); btn.Length() > 0 && name != "" {
		if _, off := btn.Attr("disabled"); !off {
			f.Values.Set(name, btn.AttrOr("value", ""))
		}
	}
	return f
}

// credentials fills in and submits the login form, once: the form coming
// back means the IdP refused, with or without a message we recognise.
func (l *login) credentials(ctx context.Context, page *idp.Page, sel *goquery.Selection) (*idp.Form, error) {
	if l.sentPassword {
		return nil, l.authError(page, "the login form was shown again after the password was sent: the IdP did not accept the username or password")
	}
	pw := l.passwordInputs(sel).First()
	user := l.userInput(sel, pw)
	f := build(page, sel)
	if user != nil {
		if err := l.fillUser(f, user); err != nil {
			return nil, err
		}
	}
	if f.Method != http.MethodPost {
		// A browser would put the password in the URL, where proxies and
		// server logs keep it.
		return nil, l.w.PageError(page, "the login form sends the password with GET, in the URL; refusing to send it")
	}
	secret, err := l.in.Password(ctx, "Password")
	if err != nil {
		return nil, err // unchanged: the CLI tests errors.Is(err, idp.ErrNoTerminal)
	}
	l.in.Fill(f.Values, pw.AttrOr("name", "password"), secret)
	l.sentPassword = true
	return f, nil
}

// username submits an identifier-first form (name now, password on the
// next page).
func (l *login) username(page *idp.Page, sel *goquery.Selection) (*idp.Form, error) {
	if l.sentUser {
		return nil, l.authError(page, "the username form was shown again: the IdP did not accept the username")
	}
	f := build(page, sel)
	if err := l.fillUser(f, l.userInput(sel, nil)); err != nil {
		return nil, err
	}
	return f, nil
}

func (l *login) fillUser(f *idp.Form, in *goquery.Selection) error {
	field := in.AttrOr("name", "")
	if field == "" {
		return nil // an unnamed input is never sent
	}
	name := l.req.Username
	if name == "" {
		name = strings.TrimSpace(f.Values.Get(field)) // prefilled by the IdP
	}
	if name == "" {
		return idp.Configf("form: the login form needs a username: set username in the profile")
	}
	f.Values.Set(field, name)
	l.sentUser = true
	return nil
}

// otp fills the code into the form's one fillable input; other fields
// (the checked authenticator radio, hidden state) go as they are.
func (l *login) otp(ctx context.Context, page *idp.Page, sel *goquery.Selection) (*idp.Form, error) {
	if l.sentOTP {
		return nil, l.authError(page, "the one-time code form was shown again: the code was not accepted")
	}
	in := fillable(sel).First()
	name := in.AttrOr("name", "")
	if name == "" {
		return nil, l.w.PageError(page, "the one-time code input has no name, so it cannot be submitted without JavaScript")
	}
	f := build(page, sel)
	code, err := l.otpCode(ctx, page, in)
	if err != nil {
		return nil, err
	}
	l.in.Fill(f.Values, name, code)
	l.sentOTP = true
	return f, nil
}

func (l *login) otpCode(ctx context.Context, page *idp.Page, in *goquery.Selection) (string, error) {
	return l.in.Code(ctx, func(ctx context.Context) (string, error) {
		label := "One-time code"
		if id := in.AttrOr("id", ""); id != "" {
			if t := idp.Text(page.Doc.Find(`label[for="` + id + `"]`).First()); t != "" && len(t) < 60 {
				label = t
			}
		}
		return l.in.Prompt().Code(ctx, fmt.Sprintf("%s (%s)", label, page.URL.Hostname()))
	})
}

// continueForm returns the form of a page a browser without JavaScript
// would still get past: [idp.AutoSubmitForm]'s onload pages, and pages
// whose only form has nothing to type in and is submitted by a script
// (Shibboleth's local-storage pages call document.form1.submit() from a
// function) or by a <noscript> button.
func continueForm(page *idp.Page) *goquery.Selection {
	if f := idp.AutoSubmitForm(page); f != nil {
		return f
	}
	forms := page.Doc.Find("form")
	hiddenInputs := forms.Find("input").FilterFunction(func(_ int, s *goquery.Selection) bool { return inputType(s) == "hidden" })
	if forms.Length() != 1 || fillable(forms).Length() > 0 || hiddenInputs.Length() == 0 {
		return nil
	}
	js := strings.ToLower(page.Doc.Find("body").AttrOr("onload", ""))
	page.Doc.Find("script").Each(func(_ int, s *goquery.Selection) { js += strings.ToLower(s.Text()) })
	if strings.Contains(js, "submit()") || strings.Contains(js, ".click()") || page.Doc.Find("noscript").Length() > 0 {
		return forms
	}
	return nil
}

// stops are pages that need a person in a browser, once, with what to do.
var stops = []struct{ sel, why string }{
	{"input[name=_shib_idp_consentOptions], button[name=_eventId_AttributeReleaseRejected]",
		"the IdP asks you to consent to releasing your attributes to AWS: sign in once in a browser and accept (choose not to be asked again), then run again"},
	{"#kc-terms-text, input[name=accept], #kc-accept",
		"the IdP wants you to accept its terms and conditions first: accept them in a browser, then run again"},
	{"#kc-totp-settings-form, input[name=totpSecret]",
		"the IdP wants you to set up an authenticator app first: do it in a browser, then run again"},
}

// knownStop explains a page from stops, or "".
func knownStop(doc *goquery.Document) string {
	for _, s := range stops {
		if doc.Find(s.sel).Length() > 0 {
			return s.why
		}
	}
	return ""
}

// isWebAuthn spots a security-key step, which needs a browser.
func isWebAuthn(doc *goquery.Document) bool {
	if doc.Find("form#webauth").Length() > 0 {
		return true
	}
	found := false
	doc.Find("script").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		found = strings.Contains(s.Text(), "navigator.credentials.get")
		return !found
	})
	return found
}

// errorSelectors are where IdPs put the reason a form came back, most
// specific first: Keycloak's field errors, SimpleSAMLphp's message box,
// AD FS, Shibboleth, then generic alert markup.
var errorSelectors = []string{
	"#input-error-otp-code", "#input-error-username", "#input-error-password", "#input-error",
	".message-box.error",
	"#errorText",
	".form-error", ".output--error",
	"[role=alert]", ".alert-danger", ".alert-error", ".kc-feedback-text",
	".error-message", ".errorMessage", ".error", "#error",
}

// errorText is the IdP's own error message on doc, or "": the override
// selector first, then the known places, then any short visible element
// whose id or class mentions an error.
func (l *login) errorText(doc *goquery.Document) string {
	sels := errorSelectors
	if l.errSel != "" {
		sels = append([]string{l.errSel}, sels...)
	}
	for _, s := range sels {
		var t string
		doc.Find(s).EachWithBreak(func(_ int, e *goquery.Selection) bool {
			if !hidden(e) {
				t = idp.Text(e)
			}
			return t == ""
		})
		if t != "" {
			return l.in.Scrub(t)
		}
	}
	var t string
	doc.Find("body [class], body [id]").EachWithBreak(func(_ int, e *goquery.Selection) bool {
		switch goquery.NodeName(e) {
		case "script", "style", "input", "form", "body":
			return true
		}
		if !strings.Contains(strings.ToLower(e.AttrOr("class", "")+" "+e.AttrOr("id", "")), "error") || hidden(e) {
			return true
		}
		s := idp.Text(e)
		if s == "" && iconTags[goquery.NodeName(e)] {
			// An error icon (SimpleSAMLphp 1.x): the message is its box.
			if p := e.Parent(); goquery.NodeName(p) != "body" && goquery.NodeName(p) != "form" {
				s = idp.Text(p)
			}
		}
		if s != "" && len(s) <= 300 {
			t = s
		}
		return t == ""
	})
	return l.in.Scrub(t)
}

// iconTags hold icons rather than text.
var iconTags = map[string]bool{"img": true, "i": true, "svg": true, "span": true}

// hidden reports markup that a browser would not show.
func hidden(e *goquery.Selection) bool {
	if _, ok := e.Attr("hidden"); ok {
		return true
	}
	style := strings.ReplaceAll(strings.ToLower(e.AttrOr("style", "")), " ", "")
	return strings.Contains(style, "display:none") || e.AttrOr("aria-hidden", "") == "true"
}

// inputNames lists the named inputs of doc's forms, for messages about
// overrides that match nothing. Names only: values may be secret.
func inputNames(doc *goquery.Document) string {
	var names []string
	doc.Find("form input[name]").Each(func(_ int, s *goquery.Selection) {
		if t := inputType(s); t != "hidden" && t != "submit" {
			names = append(names, fmt.Sprintf("%s (%s)", s.AttrOr("name", ""), t))
		}
	})
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// authError is the IdP's refusal in its own words, or fallback.
func (l *login) authError(page *idp.Page, fallback string) error {
	if l.errSel == "" {
		fallback += " (set " + KeyErrorSelector + " to show the IdP's message)"
	}
	return l.in.AuthError(l.errorText(page.Doc), fallback)
}

// fieldError is a form_*_field naming an input the page does not have: a
// configuration error (exit 2) on a login page, else an unexpected page.
func (l *login) fieldError(page *idp.Page, loginPage bool, name, key string) error {
	if !loginPage {
		return l.w.PageError(page, fmt.Sprintf("no input named %q (%s) in the page's forms; inputs seen: %s",
			name, key, inputNames(page.Doc)))
	}
	return idp.Configf("form: the login form at %s has no input named %q (%s); its inputs: %s: set %s to one of them, "+
		"or remove it to let saml2sts find the field", idp.StripQuery(page.URL), name, key, inputNames(page.Doc), key)
}

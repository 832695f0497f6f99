package keycloak

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"

	"github.com/saml2sts/saml2sts/idp"
)

// maxPages bounds the pages one login may fetch. A full login with the
// Kerberos fallback and OTP takes five; the cap is what keeps an
// unrecognised page from turning into a lockout (saml2aws issue #1536).
const maxPages = 8

// Provider is the Keycloak [idp.Provider].
type Provider struct {
	maxPages int
}

// New returns a Keycloak provider.
func New() *Provider { return &Provider{maxPages: maxPages} }

// Registration registers the adapter as provider "keycloak".
var Registration = idp.Registration{Name: "keycloak", New: func() idp.Provider { return New() }}

// Login implements [idp.Provider]. req.URL is the IdP-initiated SSO URL,
// https://<host>[/auth]/realms/<realm>/protocol/saml/clients/<url-name>.
func (p *Provider) Login(ctx context.Context, req *idp.Request) (string, error) {
	if req == nil || req.Client == nil {
		return "", errors.New("keycloak: login request has no http client")
	}
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", idp.Configf("keycloak: url %q is not an absolute https url: set the profile's url to the IdP-initiated SSO URL "+
			"(https://<host>/realms/<realm>/protocol/saml/clients/<url-name>)", idp.ShortURL(req.URL))
	}
	max := p.maxPages
	if max <= 0 {
		max = maxPages
	}
	l := &login{req: req, in: idp.NewInputs(req)}
	l.w = idp.Walker{Name: "keycloak", Max: max, Client: req.Client, In: &l.in}
	page, err := l.start(ctx, u)
	if err != nil {
		return "", err
	}
	return l.w.Walk(ctx, page, func(ctx context.Context, page *idp.Page) (*idp.Page, error) {
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

	in           idp.Inputs // password, --mfa-code, secrets to scrub
	sentUser     bool
	sentPassword bool
	sentOTP      bool
}

// start fetches the entry URL. Keycloak up to 16 (and later ones run with
// --http-relative-path=/auth) serve under /auth, newer ones do not, and
// users copy whichever URL they find; on a 404 the other form is tried once.
func (l *login) start(ctx context.Context, u *url.URL) (*idp.Page, error) {
	page, err := l.w.Fetch(ctx, http.MethodGet, u.String(), nil)
	if err != nil || page.Status != http.StatusNotFound {
		return page, err
	}
	alt, ok := toggleAuth(u)
	if !ok {
		return nil, l.w.PageError(page, "not found (HTTP 404): check the realm and the IdP-initiated SSO URL name in the profile's url")
	}
	altPage, err := l.w.Fetch(ctx, http.MethodGet, alt.String(), nil)
	if err != nil {
		return nil, err
	}
	if altPage.Status == http.StatusNotFound {
		return nil, l.w.PageError(page, fmt.Sprintf("not found (HTTP 404), nor at %s: check the realm and the IdP-initiated SSO URL name in the profile's url",
			idp.StripQuery(alt)))
	}
	l.in.Notice("%s answered 404 but %s works: update url in the profile", idp.StripQuery(u), idp.StripQuery(alt))
	return altPage, nil
}

// toggleAuth adds or removes the legacy /auth path prefix.
func toggleAuth(u *url.URL) (*url.URL, bool) {
	alt := *u
	alt.RawPath = ""
	switch {
	case strings.HasPrefix(u.Path, "/auth/realms/"):
		alt.Path = strings.TrimPrefix(u.Path, "/auth")
	case strings.HasPrefix(u.Path, "/realms/"):
		alt.Path = "/auth" + u.Path
	default:
		return nil, false
	}
	return &alt, true
}

// next decides what to submit on page, which holds no SAMLResponse.
func (l *login) next(ctx context.Context, page *idp.Page) (*idp.Form, error) {
	doc := page.Doc
	if doc.Find("form#webauth, form#authn_select").Length() > 0 {
		return nil, webAuthnError(doc)
	}
	if why := requiredAction(doc); why != "" {
		return nil, l.w.PageError(page, why)
	}
	if f := otpForm(doc); f != nil {
		return l.otp(ctx, page, f)
	}
	if f := loginForm(doc); f != nil {
		return l.credentials(ctx, page, f)
	}
	// The Kerberos (SPNEGO) fallback answers 401 with a page that submits
	// itself; a browser without a ticket just goes on to the login form.
	if f := idp.AutoSubmitForm(page); f != nil {
		return idp.ParseForm(page, f), nil
	}
	return nil, l.w.PageError(page, idp.DeadEnd(page, "expected a Keycloak login, one-time code or SAML post page", errorText(doc)))
}

// loginForm finds the username/password form: #kc-form-login in every
// Keycloak theme (also the split username-only and password-only forms),
// or, for custom themes, any form with a username and a password field.
func loginForm(doc *goquery.Document) *goquery.Selection {
	if f := doc.Find("form#kc-form-login").First(); f.Length() > 0 && (hasUsername(f) || passwordInput(f).Length() > 0) {
		return f
	}
	var found *goquery.Selection
	doc.Find("form").EachWithBreak(func(_ int, f *goquery.Selection) bool {
		if hasUsername(f) && passwordInput(f).Length() > 0 {
			found = f
		}
		return found == nil
	})
	return found
}

func hasUsername(f *goquery.Selection) bool { return f.Find("input[name=username]").Length() > 0 }

func passwordInput(f *goquery.Selection) *goquery.Selection {
	return f.Find("input").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.EqualFold(s.AttrOr("type", ""), "password")
	}).First()
}

// credentials fills in and submits the login form, once: the form coming
// back means Keycloak refused, with or without a message we recognise.
func (l *login) credentials(ctx context.Context, page *idp.Page, sel *goquery.Selection) (*idp.Form, error) {
	pw := passwordInput(sel)
	user := hasUsername(sel)
	if (pw.Length() > 0 && l.sentPassword) || (pw.Length() == 0 && l.sentUser) {
		return nil, l.authError(page, "the login form was shown again; the password or username was not accepted")
	}
	f := idp.ParseForm(page, sel)
	// A browser posts hidden inputs without a value as empty (credentialId
	// in the base theme); ParseForm leaves them out.
	sel.Find("input").Each(func(_ int, s *goquery.Selection) {
		name, ok := s.Attr("name")
		if _, hasValue := s.Attr("value"); ok && !hasValue && strings.EqualFold(s.AttrOr("type", ""), "hidden") && !f.Values.Has(name) {
			f.Values.Set(name, "")
		}
	})
	// "Try another way" switches the flow away from the password.
	f.Values.Del("tryAnotherWay")
	// Old themes have a submit input named login; keycloak.v2 has a button
	// that sends nothing. Post what the theme would.
	sel.Find("input[name=login]").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if v, ok := s.Attr("value"); ok && strings.EqualFold(s.AttrOr("type", ""), "submit") {
			f.Values.Set("login", v)
			return false
		}
		return true
	})
	if user {
		name := l.req.Username
		if name == "" {
			name = strings.TrimSpace(f.Values.Get("username")) // prefilled by a login hint
		}
		if name == "" {
			return nil, idp.Configf("keycloak: the login form needs a username: set username in the profile")
		}
		f.Values.Set("username", name)
		l.sentUser = true
	}
	if pw.Length() > 0 {
		secret, err := l.in.Password(ctx, "Keycloak password")
		if err != nil {
			return nil, err // unchanged: the CLI tests errors.Is(err, idp.ErrNoTerminal)
		}
		l.in.Fill(f.Values, pw.AttrOr("name", "password"), secret)
		l.sentPassword = true
	}
	return f, nil
}

// otpForm finds the OTP form: #kc-otp-login-form (Keycloak 8+, field otp)
// or #kc-totp-login-form (older, field totp), or any form with such a field.
func otpForm(doc *goquery.Document) *goquery.Selection {
	if f := doc.Find("form#kc-otp-login-form, form#kc-totp-login-form").First(); f.Length() > 0 {
		return f
	}
	if f := doc.Find("input[name=otp], input[name=totp]").First().Closest("form"); f.Length() > 0 {
		return f
	}
	return nil
}

// credential is one OTP authenticator offered by the page.
type credential struct {
	id, label string
	checked   bool
}

func (l *login) otp(ctx context.Context, page *idp.Page, sel *goquery.Selection) (*idp.Form, error) {
	if l.sentOTP {
		return nil, l.authError(page, "the one-time code form was shown again; the code was not accepted")
	}
	f := idp.ParseForm(page, sel)
	field := "otp"
	if sel.Find("input[name=otp]").Length() == 0 && sel.Find("input[name=totp]").Length() > 0 {
		field = "totp"
	}
	var creds []credential
	sel.Find("input[name=selectedCredentialId]").Each(func(i int, s *goquery.Selection) {
		c := credential{id: s.AttrOr("value", "")}
		_, c.checked = s.Attr("checked")
		if id := s.AttrOr("id", ""); id != "" {
			c.label = idp.Text(page.Doc.Find("label").FilterFunction(func(_ int, lb *goquery.Selection) bool {
				return lb.AttrOr("for", "") == id
			}).First())
		}
		if c.label == "" {
			c.label = fmt.Sprintf("authenticator %d", i+1)
		}
		creds = append(creds, c)
	})
	label := ""
	if len(creds) > 0 {
		i, err := l.choose(ctx, creds)
		if err != nil {
			return nil, err
		}
		f.Values.Set("selectedCredentialId", creds[i].id)
		label = creds[i].label
	}
	code, err := l.otpCode(ctx, label)
	if err != nil {
		return nil, err
	}
	l.in.Fill(f.Values, field, code)
	l.sentOTP = true
	return f, nil
}

// genericMFA are factor names that mean "a one-time code" rather than one
// authenticator; with them the user is asked as with auto.
var genericMFA = map[string]bool{"otp": true, "totp": true, "code": true}

// choose picks the authenticator: the one req.MFA names, else the user's
// choice, else (no terminal) the one Keycloak preselected.
func (l *login) choose(ctx context.Context, creds []credential) (int, error) {
	if len(creds) == 1 {
		return 0, nil
	}
	def := 0
	labels := make([]string, len(creds))
	for i, c := range creds {
		labels[i] = c.label
		if c.checked {
			def = i
		}
	}
	mfa := strings.TrimSpace(l.req.MFA)
	if mfa != "" && !strings.EqualFold(mfa, "auto") {
		found := match(labels, mfa)
		switch {
		case len(found) == 1:
			return found[0], nil
		case len(found) > 1 && !genericMFA[strings.ToLower(mfa)]:
			names := make([]string, len(found))
			for i, f := range found {
				names[i] = strconv.Quote(labels[f])
			}
			return 0, idp.Configf("keycloak: mfa %q matches several one-time code authenticators (%s): set mfa to the full label of one (or rename one in the Keycloak account console)",
				mfa, strings.Join(names, ", "))
		case len(found) == 0 && !genericMFA[strings.ToLower(mfa)]:
			return 0, idp.Configf("keycloak: mfa %q matches none of your one-time code authenticators (%s): set mfa to one of them or to auto",
				mfa, strings.Join(labels, ", "))
		}
	}
	return l.in.Choose(ctx, "Keycloak one-time code authenticator", labels, def)
}

// match finds name among labels as the IdP shows them (spaces included,
// case and runs of blanks ignored): every exact match, else every label
// containing it. More than one is ambiguous; the caller says so.
func match(labels []string, name string) []int {
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	n := norm(name)
	var exact, part []int
	for i, lb := range labels {
		switch l := norm(lb); {
		case l == n:
			exact = append(exact, i)
		case strings.Contains(l, n):
			part = append(part, i)
		}
	}
	if len(exact) > 0 {
		return exact
	}
	return part
}

func (l *login) otpCode(ctx context.Context, label string) (string, error) {
	q := "Keycloak one-time code"
	if label != "" {
		q += " (" + label + ")"
	}
	return l.in.Code(ctx, func(ctx context.Context) (string, error) { return l.in.Prompt().Code(ctx, q) })
}

// errorSelectors are where Keycloak themes put the reason a form came back,
// most specific first: keycloak.v2 per-field ids, the base theme's
// #input-error, the feedback text every theme uses, old alert boxes.
var errorSelectors = []string{
	"#input-error-otp-code",
	"#input-error-username",
	"#input-error-password",
	"#input-error",
	".kc-feedback-text",
	".alert-error",
}

// errorText is Keycloak's own error message on the page, or "".
func errorText(doc *goquery.Document) string {
	for _, s := range errorSelectors {
		if t := idp.Text(doc.Find(s).First()); t != "" {
			return t
		}
	}
	return ""
}

// requiredAction explains the Keycloak pages that need a browser: required
// actions, expired pages, error and info pages. "" for any other page.
func requiredAction(doc *goquery.Document) string {
	has := func(sel string) bool { return doc.Find(sel).Length() > 0 }
	switch {
	case has("form#kc-passwd-update-form, input[name=password-new]"):
		return `Keycloak wants a new password first (required action "Update Password"): change it in a browser, then run again`
	case has("#kc-terms-text, input[name=accept], #kc-accept"):
		return "Keycloak wants you to accept its terms and conditions first: accept them in a browser, then run again"
	case has("form#kc-totp-settings-form, input[name=totpSecret]"):
		return `Keycloak wants you to set up an authenticator app first (required action "Configure OTP"): do it in a browser, then run again`
	case has("form#kc-update-profile-form, form#kc-update-email-form"):
		return `Keycloak wants you to complete your profile first (required action "Update Profile"): do it in a browser, then run again`
	case has("#loginRestartLink, #loginContinueLink"):
		return "Keycloak says the login page has expired (the login took too long or was restarted elsewhere): run the command again"
	case has("#kc-error-message"):
		return "Keycloak reported an error: " + message(doc.Find("#kc-error-message"))
	case has("#kc-info-message"):
		return "Keycloak says: " + message(doc.Find("#kc-info-message"))
	}
	return ""
}

// message is the instruction text of an error or info page.
func message(s *goquery.Selection) string {
	if t := idp.Text(s.Find(".instruction").First()); t != "" {
		return t
	}
	return idp.Text(s.First())
}

// webAuthnError explains that the WebAuthn step needs a browser.
func webAuthnError(doc *goquery.Document) error {
	hint := "use an OTP authenticator: ask your Keycloak administrator to allow OTP for this sign-in instead of WebAuthn"
	if doc.Find("#kc-select-try-another-way-form, #try-another-way").Length() > 0 {
		hint = `use an OTP authenticator: this realm offers "Try another way", so ask your Keycloak administrator ` +
			"to put your OTP credential before the security key, or set up OTP in the account console if you have none"
	}
	return &idp.UnsupportedError{What: "WebAuthn (security key) authentication", Hint: hint}
}

// authError is Keycloak's refusal in its own words, or fallback.
func (l *login) authError(page *idp.Page, fallback string) error {
	return l.in.AuthError(errorText(page.Doc), fallback)
}

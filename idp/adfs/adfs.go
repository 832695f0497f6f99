package adfs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jcmturner/gokrb5/v8/client"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/duo"
)

const (
	// maxPages bounds the pages one login may fetch (Azure MFA polls are
	// counted apart). The longest flow, WIA fallback + password + method
	// choice + SecurID passcode + next tokencode, takes seven.
	maxPages = 10
	// defaultRP is the relying party identifier AWS documents for AD FS.
	defaultRP = "urn:amazon:webservices"
	// signOnPath is AD FS's IdP-initiated sign-on page.
	signOnPath = "/adfs/ls/IdpInitiatedSignOn.aspx"
	// pollEvery and pollFor pace the Azure MFA waiting page: the user has
	// about a minute to answer the push, as in the browser.
	pollEvery = 2 * time.Second
	pollFor   = 90 * time.Second
)

// Auth modes, the values of the profile key adfs_auth.
const (
	AuthForms    = "forms"
	AuthNTLM     = "ntlm"
	AuthKerberos = "kerberos"
)

// OptionAuth is the profile key (and idp.Request.Options key) that picks
// the auth mode.
const OptionAuth = "adfs_auth"

// Provider is the AD FS [idp.Provider].
type Provider struct {
	maxPages  int
	pollEvery time.Duration
	pollFor   time.Duration
}

// New returns an AD FS provider.
func New() *Provider {
	return &Provider{maxPages: maxPages, pollEvery: pollEvery, pollFor: pollFor}
}

// Registration registers the adapter as provider "adfs", with its key
// adfs_auth.
var Registration = idp.Registration{
	Name: "adfs",
	New:  func() idp.Provider { return New() },
	Keys: []idp.Key{{Name: OptionAuth, Default: AuthForms, Help: "AD FS sign-in: forms, ntlm (Windows integrated) or kerberos",
		Values: []string{AuthForms, AuthNTLM, AuthKerberos}}},
}

// EntryURL turns a profile url into the IdP-initiated sign-on URL: a bare
// https://host (with or without a loginToRp query) gets the AD FS path,
// and a sign-on URL without loginToRp gets the AWS relying party.
func EntryURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, idp.Configf("adfs: url %q is not an absolute https url: set the profile's url to https://<adfs-host> "+
			"or to https://<adfs-host>%s?loginToRp=%s", idp.ShortURL(raw), signOnPath, defaultRP)
	}
	u.Fragment = ""
	q := u.Query()
	lp := strings.ToLower(strings.TrimSuffix(u.Path, "/"))
	switch {
	case lp == "":
		u.Path, u.RawPath = signOnPath, ""
	case lp == "/adfs/ls" && q.Get("wa") == "" && q.Get("SAMLRequest") == "":
		// The passive endpoint alone is an error page on AD FS; users
		// copy it for the sign-on page, which lives below it.
		u.Path, u.RawPath = signOnPath, ""
	case strings.HasPrefix(lp, "/federationmetadata/") || strings.HasPrefix(lp, "/adfs/services/"):
		return nil, idp.Configf("adfs: url %s is AD FS metadata or a web service, not a sign-in page: set the profile's url to https://%s",
			idp.ShortURL(raw), u.Host)
	}
	if isSignOn(u.Path) && q.Get("loginToRp") == "" && q.Get("LoginToRp") == "" {
		q.Set("loginToRp", defaultRP)
		u.RawQuery = q.Encode()
	}
	return u, nil
}

func isSignOn(path string) bool {
	p := strings.ToLower(strings.TrimSuffix(path, "/"))
	return p == "/adfs/ls/idpinitiatedsignon.aspx" || p == "/adfs/ls/idpinitiatedsignon"
}

// Check implements [idp.Checker]: the url must give a sign-on page.
func (p *Provider) Check(req *idp.Request) error {
	_, err := EntryURL(req.URL)
	return err
}

// StartURL implements [idp.Starter]: the sign-on page [EntryURL] makes.
func (p *Provider) StartURL(req *idp.Request) (string, error) {
	u, err := EntryURL(req.URL)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// Login implements [idp.Provider].
func (p *Provider) Login(ctx context.Context, req *idp.Request) (string, error) {
	if req == nil || req.Client == nil {
		return "", errors.New("adfs: login request has no http client")
	}
	entry, err := EntryURL(req.URL)
	if err != nil {
		return "", err
	}
	l := &login{req: req, p: p, entry: entry, in: idp.NewInputs(req)}
	if l.p.maxPages <= 0 {
		l.p = New()
	}
	l.w = idp.Walker{Name: "adfs", Max: l.p.maxPages, Client: req.Client, In: &l.in}
	mode := strings.ToLower(strings.TrimSpace(req.Options[OptionAuth]))
	switch mode {
	case "", AuthForms:
	case AuthNTLM:
		l.wia = true
		l.w.Client = l.probeClient()
	case AuthKerberos:
		if cl, err := kerberosClient(req.Env, req.Time().Now()); err != nil {
			l.kerberosNotice(err.Error())
		} else {
			l.krb, l.wia = cl, true
			l.w.Client = l.probeClient()
		}
	default:
		return "", idp.Configf("adfs: adfs_auth %q is not one of forms, ntlm, kerberos", mode)
	}
	page, err := l.w.Fetch(ctx, http.MethodGet, entry.String(), nil)
	if err != nil {
		return "", err
	}
	return l.w.Walk(ctx, page, l.next)
}

// Federated signs in at AD FS for another IdP that federates to it (a
// federated Entra ID domain): it opens start, the WS-Federation passive
// URL that IdP handed over, runs the same forms and MFA adapters as Login
// (forms authentication only), and returns the first page done accepts:
// the "Working..." form that posts wa, wresult and wctx back. The caller
// posts that form itself.
func (p *Provider) Federated(ctx context.Context, req *idp.Request, start string, done func(*idp.Page) bool) (*idp.Page, error) {
	if req == nil || req.Client == nil {
		return nil, errors.New("adfs: login request has no http client")
	}
	u, err := url.Parse(start)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("adfs: federation url %s is not an absolute https url", idp.ShortURL(start))
	}
	l := &login{req: req, p: p, entry: u, in: idp.NewInputs(req)}
	if l.p == nil || l.p.maxPages <= 0 {
		l.p = New()
	}
	l.w = idp.Walker{Name: "adfs", Max: l.p.maxPages, Client: req.Client, In: &l.in}
	page, err := l.w.Fetch(ctx, http.MethodGet, start, nil)
	if err != nil {
		return nil, err
	}
	var found *idp.Page
	_, err = l.w.Walk(ctx, page, func(ctx context.Context, p *idp.Page) (*idp.Page, error) {
		if done(p) {
			found = p
			return nil, errFederatedDone
		}
		return l.next(ctx, p)
	})
	if found != nil {
		return found, nil
	}
	if err == nil {
		err = l.w.PageError(page, "AD FS answered with a SAMLResponse instead of the WS-Federation form for the federating IdP")
	}
	return nil, err
}

// errFederatedDone stops the walk of Federated at the page it wants.
var errFederatedDone = errors.New("adfs: federated sign-in done")

// login is the state of one Login call.
type login struct {
	req   *idp.Request
	p     *Provider
	w     idp.Walker // fetches and counts the pages; its Client may be the WIA one
	entry *url.URL

	wia      bool           // adfs_auth = ntlm
	wiaT     *wiaTransport  // its transport
	ntlmDone bool           // NTLM credentials were given to it
	krb      *client.Client // adfs_auth = kerberos with a usable ticket cache
	krbSent  bool           // a Kerberos ticket was sent

	in           idp.Inputs // password, --mfa-code, secrets to scrub
	sentUser     bool       // the paginated user name page was posted
	sentPassword bool
	sentMFA      map[string]bool // by AuthMethod and code field
	chose        bool            // an MFA method was picked
}

// next acts on page, which holds no SAMLResponse, and returns the page
// that follows.
func (l *login) next(ctx context.Context, page *idp.Page) (*idp.Page, error) {
	doc := page.Doc
	if page.Status == http.StatusUnauthorized && l.wia {
		if l.krb != nil {
			return l.kerberos(ctx, page)
		}
		return l.negotiate(ctx, page)
	}
	if msg := errorPage(doc); msg != "" {
		return nil, l.errorPageError(page, msg)
	}
	if duo.IsHandoff(page) { // Duo's AD FS adapter (Universal Prompt)
		r := *l.req
		r.Client = l.w.Client
		return (&duo.Flow{Walker: &l.w}).Login(ctx, &r, &l.in, page)
	}
	if f := mfaForm(doc); f != nil {
		return l.mfa(ctx, page, f)
	}
	if f := userNameForm(doc); f != nil {
		return l.userName(ctx, page, f)
	}
	if opts := methodChoices(doc); len(opts) > 0 && loginForm(doc) == nil {
		return l.chooseMethod(ctx, page, opts)
	}
	if f := loginForm(doc); f != nil {
		if l.wia && !l.ntlmDone && !l.sentPassword {
			l.notice("AD FS answered with its sign-in form, not Windows integrated authentication (outside the intranet, " +
				"or WIA is off for this browser); signing in with the form")
		}
		return l.credentials(ctx, page, f)
	}
	if f := hiddenForm(doc); f != nil {
		// WS-Federation or a relay page that submits itself.
		return l.w.Submit(ctx, idp.ParseForm(page, f))
	}
	return nil, l.w.PageError(page, idp.DeadEnd(page, "expected an AD FS sign-in form, an MFA page or the SAML post page", errorText(doc)))
}

// loginForm finds the forms-authentication form: #loginForm with a
// password input (2012 R2 to 2022), AD FS 2.0's FormsSignIn form
// (ctl00$ContentPlaceHolder1$...), or any form with a password input.
func loginForm(doc *goquery.Document) *goquery.Selection {
	if f := doc.Find("form#loginForm").First(); f.Length() > 0 && passwordInput(f).Length() > 0 {
		return f
	}
	var found *goquery.Selection
	doc.Find("form").EachWithBreak(func(_ int, f *goquery.Selection) bool {
		if passwordInput(f).Length() > 0 && f.Find("input[name=Context]").Length() == 0 {
			found = f
		}
		return found == nil
	})
	return found
}

func passwordInput(f *goquery.Selection) *goquery.Selection {
	return f.Find("input").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.EqualFold(s.AttrOr("type", ""), "password")
	}).First()
}

// userInput is the visible user name input: UserName, the 2.0
// UsernameTextBox, or a non-hidden input whose name says user or email.
// Hidden ones are skipped: 2016+ repeat UserName in form#options, and AD
// FS 2019 refuses a post that carries it twice (saml2aws issue #283).
func userInput(f *goquery.Selection) *goquery.Selection {
	return f.Find("input").FilterFunction(func(_ int, s *goquery.Selection) bool {
		t := strings.ToLower(s.AttrOr("type", "text"))
		if t == "hidden" || t == "password" || t == "checkbox" || t == "submit" {
			return false
		}
		n := strings.ToLower(s.AttrOr("name", ""))
		return strings.Contains(n, "user") || strings.Contains(n, "email")
	}).First()
}

// userNameForm is the first page of AD FS 2019's paginated sign-in
// (EnablePaginatedAuthenticationPages): form#loginForm with a user name
// input and no password input.
func userNameForm(doc *goquery.Document) *goquery.Selection {
	f := doc.Find("form#loginForm, form#loginFormPaginated").First()
	if f.Length() == 0 || passwordInput(f).Length() > 0 || userInput(f).Length() == 0 ||
		f.Find("input[name=Context]").Length() > 0 {
		return nil
	}
	return f
}

// userName posts the user name page, once: shown again, AD FS did not
// take the name. The password waits for the page that asks for it.
func (l *login) userName(ctx context.Context, page *idp.Page, sel *goquery.Selection) (*idp.Page, error) {
	if l.sentUser || l.sentPassword {
		return nil, l.authError(page, "AD FS asked for the user name again; it did not accept "+fmt.Sprintf("%q", l.req.Username))
	}
	user := userInput(sel)
	name, err := l.userNameValue(user.AttrOr("value", ""))
	if err != nil {
		return nil, err
	}
	f := idp.ParseForm(page, sel)
	f.Values.Set(user.AttrOr("name", ""), name)
	l.formExtras(sel, f)
	l.sentUser = true
	return l.w.Submit(ctx, f)
}

// userNameValue is the profile's user name, else the one the page already
// holds (pre-filled by AD FS).
func (l *login) userNameValue(onPage string) (string, error) {
	name := l.req.Username
	if name == "" {
		name = strings.TrimSpace(onPage)
	}
	if name == "" {
		return "", idp.Configf("adfs: the sign-in form needs a user name: set username in the profile (user@domain or DOMAIN\\user)")
	}
	return name, nil
}

// formExtras sets what a browser adds to AD FS's sign-in form: Kmsi (keep
// me signed in: a persistent AD FS session where the farm allows it, so
// later runs refresh without the password) and AuthMethod.
func (l *login) formExtras(sel *goquery.Selection, f *idp.Form) {
	if sel.Find("input[name=Kmsi]").Length() > 0 {
		f.Values.Set("Kmsi", "true")
	}
	if sel.Find("input[name=AuthMethod]").Length() > 0 && f.Values.Get("AuthMethod") == "" {
		f.Values.Set("AuthMethod", "FormsAuthentication")
	}
}

// credentials fills in the login form, once: the form shown again means AD
// FS refused the password.
func (l *login) credentials(ctx context.Context, page *idp.Page, sel *goquery.Selection) (*idp.Page, error) {
	if l.sentPassword {
		return nil, l.authError(page, "the sign-in form was shown again; the user name or password was not accepted")
	}
	f := idp.ParseForm(page, sel)
	user, pw := userInput(sel), passwordInput(sel)
	if user.Length() == 0 {
		// The paginated password page carries the name posted on the
		// first page in a hidden UserName.
		user = sel.Find("input[name=UserName]").First()
	}
	userField, pwField := user.AttrOr("name", ""), pw.AttrOr("name", "")
	if userField == "" || pwField == "" {
		return nil, l.w.PageError(page, "the sign-in form has no user name or password field")
	}
	name, err := l.userNameValue(f.Values.Get(userField))
	if err != nil {
		return nil, err
	}
	secret, err := l.in.Password(ctx, "AD FS password")
	if err != nil {
		return nil, err
	}
	// Set, not Add: each field is posted exactly once.
	f.Values.Set(userField, name)
	l.in.Fill(f.Values, pwField, secret)
	l.formExtras(sel, f)
	// AD FS 2.0 is an ASP.NET postback: the button that was clicked must
	// be in the post, or the page just renders again.
	if b := sel.Find("input[type=submit]").First(); b.Length() > 0 {
		if n, ok := b.Attr("name"); ok && n != "" {
			f.Values.Set(n, b.AttrOr("value", ""))
		}
	}
	l.sentPassword = true
	return l.w.Submit(ctx, f)
}

func (l *login) notice(msg string) { l.in.Notice("%s", msg) }

// errorText is AD FS's message on a form page: #errorText is a label on
// 2012 R2 and a span on 2016+; 2.0 has its own label.
func errorText(doc *goquery.Document) string {
	for _, s := range []string{"#errorText", "#ctl00_ContentPlaceHolder1_ErrorTextLabel"} {
		if t := idp.Text(doc.Find(s).First()); t != "" {
			return t
		}
	}
	return ""
}

// errorPage is the message of AD FS's "An error occurred" page (2012 R2+)
// or 2.0's "There was a problem accessing the site", or "".
func errorPage(doc *goquery.Document) string {
	if a := doc.Find("#errorArea").First(); a.Length() > 0 {
		if t := idp.Text(a.Find("#errorMessage").First()); t != "" {
			return t
		}
		return idp.Text(a)
	}
	if a := doc.Find("#ctl00_ContentPlaceHolder1_PanelError").First(); a.Length() > 0 {
		return idp.Text(a.Find("p").First())
	}
	return ""
}

// errorPageError explains an AD FS error page. One at the sign-on page
// before any credential was sent is, on AD FS 2016 and later, almost
// always the IdP-initiated sign-on page being disabled.
func (l *login) errorPageError(page *idp.Page, msg string) error {
	if !l.sentPassword && len(l.sentMFA) == 0 && !l.ntlmDone && !l.krbSent && l.entry.Query().Get("wa") == "" {
		return l.w.PageError(page, fmt.Sprintf("AD FS says %q. AD FS 2016 and later ship with the IdP-initiated sign-on page disabled: "+
			"an AD FS administrator enables it with Set-AdfsProperties -EnableIdpInitiatedSignonPage $true; "+
			"also check that loginToRp=%s in the url names the AWS relying party trust", msg, l.entry.Query().Get("loginToRp")))
	}
	if l.sentPassword && len(l.sentMFA) == 0 {
		return l.w.PageError(page, fmt.Sprintf("AD FS says %q after the sign-in form was posted; "+
			"the AD FS event log (AD FS/Admin) has the details under the activity ID on the page", msg))
	}
	return l.w.PageError(page, fmt.Sprintf("AD FS says %q; the AD FS event log (AD FS/Admin) has the details under the activity ID on the page", msg))
}

// hiddenForm is a page that only posts itself on: AD FS's
// form[name=hiddenform] (here without a SAMLResponse, e.g. WS-Federation)
// or any auto-submitting single form.
func hiddenForm(doc *goquery.Document) *goquery.Selection {
	if f := doc.Find("form[name=hiddenform]").First(); f.Length() > 0 {
		return f
	}
	return idp.AutoSubmitForm(&idp.Page{Doc: doc})
}

// authError is AD FS's refusal in its own words, or fallback.
func (l *login) authError(page *idp.Page, fallback string) error {
	return l.in.AuthError(errorText(page.Doc), fallback)
}

package okta

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/duo"
)

const (
	// maxPages bounds the HTML pages of one login (app link, session
	// redirect, step-up, IDX success): a login takes at most five.
	maxPages = 10
	// maxSteps bounds API calls that are not push polls: an unknown loop
	// ends instead of hammering Okta (saml2aws #714, #1536).
	maxSteps = 30
	// pollEvery is how often a push is polled; Okta's own widget and
	// gimme-aws-creds poll about every second.
	pollEvery = time.Second
	// pushWait is how long a push (or IDX poll) may stay unanswered; Okta
	// times pushes out sooner, this is the backstop.
	pushWait = 3 * time.Minute
	// maxRateWait is the longest rate-limit wait saml2sts sits through.
	maxRateWait = 30 * time.Second
	// maxCodeTries is how many wrong passcodes are re-prompted.
	maxCodeTries = 3
)

// Provider is the Okta [idp.Provider].
type Provider struct {
	pollEvery   time.Duration
	pushWait    time.Duration
	maxRateWait time.Duration
	// interactive reports whether a terminal is there to show a wait.
	interactive func(idp.Prompter) bool
}

// New returns an Okta provider.
func New() *Provider {
	return &Provider{pollEvery: pollEvery, pushWait: pushWait, maxRateWait: maxRateWait, interactive: idp.Interactive}
}

// Registration registers the adapter as provider "okta".
var Registration = idp.Registration{Name: "okta", New: func() idp.Provider { return New() }}

// Login implements [idp.Provider]. req.URL is the AWS app's embed link,
// https://<org>/home/amazon_aws/<appId>/<n>, or its SSO URL
// https://<org>/app/amazon_aws/<appId>/sso/saml.
func (p *Provider) Login(ctx context.Context, req *idp.Request) (string, error) {
	if req == nil || req.Client == nil {
		return "", errors.New("okta: login request has no http client")
	}
	app, err := appLink(req.URL)
	if err != nil {
		return "", err
	}
	l := &login{p: p, req: req, app: app, base: &url.URL{Scheme: app.Scheme, Host: app.Host}, in: idp.NewInputs(req)}
	l.w = idp.Walker{Name: "okta", Max: maxPages, Client: req.Client, In: &l.in}
	// With a live Okta session (the sid cookie in the stored jar) the app
	// link answers with the SAML form at once: a silent refresh.
	page, err := l.fetch(ctx, http.MethodGet, app.String(), nil)
	if err != nil {
		return "", err
	}
	saml, err := l.w.Walk(ctx, page, l.next)
	if err != nil {
		return "", l.clean(err)
	}
	return saml, nil
}

// login is the state of one Login call.
type login struct {
	p    *Provider
	req  *idp.Request
	app  *url.URL // the app link, redirectUrl after sign-in
	base *url.URL // https://<org>

	w             idp.Walker // fetches and counts the HTML pages
	pipeline      string     // "v1" or "idx", once detected
	steps         int        // API calls but push polls, bounded by maxSteps
	authenticated bool       // an Okta session was made in this login
	stepUps       int

	in           idp.Inputs // password, --mfa-code, secrets to scrub
	sentPassword bool
	duoSelected  bool      // IDX: the Duo authenticator was picked
	afterDuo     *idp.Page // Classic: the page Duo's way back led to
}

// duo answers Duo's Universal Prompt behind href (Okta's link to it) and
// returns the page Okta's callback leads to: the app, signed in.
func (l *login) duo(ctx context.Context, href string) (*idp.Page, error) {
	return (&duo.Flow{Walker: &l.w}).LoginURL(ctx, l.req, &l.in, href)
}

// Check implements [idp.Checker]: the url must be an app link and mfa a
// factor name docs/okta.md lists (or an Okta factorType, provider or
// "provider:factorType").
func (p *Provider) Check(req *idp.Request) error {
	if _, err := appLink(req.URL); err != nil {
		return err
	}
	m := strings.ToLower(strings.TrimSpace(req.MFA))
	if m == "" || m == "auto" || strings.Contains(m, ":") || factorNames[m] {
		return nil
	}
	return idp.Configf("okta: mfa %q is not an Okta factor name: set mfa to auto, push, totp, sms, call, email, yubikey or duo (docs/okta.md)", req.MFA)
}

// factorNames are the mfa values [choice.matches] can match without a
// colon: short names, Okta factorTypes and providers.
var factorNames = map[string]bool{
	"push": true, "totp": true, "hotp": true, "yubikey": true, "rsa": true, "symantec": true, "sms": true,
	"call": true, "voice": true, "email": true, "question": true, "webauthn": true, "duo": true, "otp": true, "code": true,
	"token": true, "u2f": true, "web": true, "claims_provider": true, "signed_nonce": true,
	"passcode": true, "phone": true, "external_idp": true, "okta": true, "google": true, "yubico": true, "fido": true, "custom": true,
}

// appLink checks the profile's url and returns the app link to sign in to.
func appLink(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, idp.Configf("okta: url %q is not an absolute https url: set the profile's url to the AWS app's embed link "+
			"(https://<org>.okta.com/home/amazon_aws/<appId>/272)", safeURL(raw))
	}
	seg := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(seg) >= 2 && (seg[0] == "home" || seg[0] == "app") && seg[1] == "amazon_aws_sso" {
		// A configuration mistake, not a missing feature: no adapter
		// could get an AssumeRoleWithSAML assertion from this app.
		return nil, idp.Configf("okta: url %s is the Okta \"AWS IAM Identity Center\" app (amazon_aws_sso), which signs in to "+
			"IAM Identity Center, not to IAM SAML federation, so it yields no SAML assertion for AssumeRoleWithSAML: "+
			"use `aws configure sso` / `aws sso login` for Identity Center, or set url to the embed link of the \"AWS Account Federation\" "+
			"app (https://<org>/home/amazon_aws/<appId>/272)", safeURL(raw))
	}
	switch {
	case len(seg) >= 3 && seg[0] == "home":
	case len(seg) >= 3 && seg[0] == "app":
	case len(seg) >= 5 && seg[0] == "admin" && seg[1] == "app" && seg[2] == "amazon_aws" && seg[3] == "instance":
		// The admin console page of the app: its id gives the embed link.
		host := strings.Replace(u.Host, "-admin.", ".", 1)
		return nil, idp.Configf("okta: url %s is the app's page in the Okta admin console, not its sign-in link: "+
			"set url to the app's embed link, https://%s/home/amazon_aws/%s/272", safeURL(raw), host, seg[4])
	default:
		return nil, idp.Configf("okta: url %s is not an Okta app link: set the profile's url to the AWS app's embed link "+
			"(Okta admin console > Applications > AWS Account Federation > General > App Embed Link, "+
			"https://<org>.okta.com/home/amazon_aws/<appId>/272)", safeURL(raw))
	}
	u.Fragment = ""
	return u, nil
}

// fetch fetches one HTML page through the walker; the page's state token
// is a secret from then on (it must not reach a PageError or a saved page).
func (l *login) fetch(ctx context.Context, method, rawURL string, form url.Values) (*idp.Page, error) {
	p, err := l.w.Fetch(ctx, method, rawURL, form)
	if err != nil {
		return nil, err
	}
	l.in.Secret(stateToken(p.Body))
	return p, nil
}

// next decides what to do with a page that holds no SAMLResponse.
func (l *login) next(ctx context.Context, page *idp.Page) (*idp.Page, error) {
	if why := errorPage(page); why != "" {
		return nil, l.w.PageError(page, why)
	}
	if l.pipeline == "" {
		l.pipeline = l.detect(ctx)
	}
	tok := stateToken(page.Body) // a secret since fetch
	if l.pipeline == "idx" {
		if tok == "" {
			if l.authenticated {
				return nil, l.w.PageError(page, "signed in to Okta, but the app link did not answer with the SAML form")
			}
			return nil, l.w.PageError(page, "expected the Okta sign-in page with a stateToken (Identity Engine)")
		}
		return l.idx(ctx, tok)
	}
	if tok != "" && (l.authenticated || l.hasSession()) {
		// Classic step-up (the app's sign-on policy wants MFA again) or
		// the sign-in page of an unauthenticated request.
		l.stepUps++
		if l.stepUps > 3 {
			return nil, l.w.PageError(page, "Okta asked for step-up verification again after 3 rounds")
		}
		t, err := l.call(ctx, l.api("/api/v1/authn"), map[string]any{"stateToken": tok})
		switch {
		case err == nil && (t.Status != "UNAUTHENTICATED" || l.authenticated):
			return l.classic(ctx, t)
		case err != nil && l.authenticated:
			return nil, err
		}
		// No session behind the token (the sign-in page's UNAUTHENTICATED
		// transaction, or one Okta no longer knows): sign in with primary
		// authentication, the flow every Classic org supports.
	} else if l.authenticated {
		return nil, l.w.PageError(page, "signed in to Okta, but the app link answered with neither the SAML form nor a step-up page")
	}
	t, err := l.primary(ctx)
	if err != nil {
		return nil, err
	}
	return l.classic(ctx, t)
}

// hasSession reports whether the jar holds an Okta session cookie: only
// then is a page's stateToken a step-up worth resuming; without one it is
// the sign-in page, and resuming it would cost an authn call (and rate
// limit budget) for nothing.
func (l *login) hasSession() bool {
	if l.req.Client.Jar == nil {
		return false
	}
	for _, c := range l.req.Client.Jar.Cookies(l.base) {
		if c.Name == "sid" && c.Value != "" {
			return true
		}
	}
	return false
}

// detect asks the org which pipeline it runs: "idx" (Identity Engine) or
// "v1" (Classic). Orgs that do not answer are treated as Classic.
func (l *login) detect(ctx context.Context) string {
	var org struct {
		Pipeline string `json:"pipeline"`
	}
	if err := getJSON(ctx, l.req.Client, l.api("/.well-known/okta-organization"), &org); err != nil {
		return "v1"
	}
	if strings.EqualFold(org.Pipeline, "idx") {
		return "idx"
	}
	return "v1"
}

func (l *login) api(path string) string { return l.base.JoinPath(path).String() }

var (
	// stateTokenRes find the state token in Okta pages: the Classic
	// sign-in and step-up pages (var stateToken = '...'), the "extra
	// verification" page and the Identity Engine widget ("stateToken":"...").
	stateTokenRes = []*regexp.Regexp{
		regexp.MustCompile(`var\s+stateToken\s*=\s*["']([^"']*)["']`),
		regexp.MustCompile(`["']?stateToken["']?\s*:\s*["']([^"']*)["']`),
		regexp.MustCompile(`name=["']stateToken["'][^>]*value=["']([^"']*)["']`),
	}
	jsEscape = regexp.MustCompile(`\\x([0-9A-Fa-f]{2})|\\u([0-9A-Fa-f]{4})`)
)

// stateToken is the page's non-empty state token, JavaScript escapes
// (\x2D) undone, or "".
func stateToken(body []byte) string {
	for _, re := range stateTokenRes {
		for _, m := range re.FindAllSubmatch(body, -1) {
			if t := unescapeJS(html.UnescapeString(string(m[1]))); strings.TrimSpace(t) != "" {
				return t
			}
		}
	}
	return ""
}

func unescapeJS(s string) string {
	return jsEscape.ReplaceAllStringFunc(s, func(m string) string {
		n, err := strconv.ParseUint(m[2:], 16, 32)
		if err != nil {
			return m
		}
		return string(rune(n))
	})
}

// errorPage explains the Okta pages that end a login, or "".
func errorPage(page *idp.Page) string {
	doc := page.Doc
	text := idp.Text(doc.Find(".error-content, #error-content, .okta-form-infobox-error, .o-form-error-container").First())
	title := page.Title()
	switch {
	case strings.Contains(strings.ToLower(title+" "+text), "app access locked"):
		return "Okta says App Access Locked: this app is locked for your account; ask your Okta administrator"
	case text != "" && page.Status >= 400:
		return fmt.Sprintf("HTTP %d; Okta says %q", page.Status, text)
	case text != "":
		return fmt.Sprintf("Okta says %q", text)
	case page.Status == http.StatusNotFound:
		return "not found (HTTP 404): check the app link in the profile's url (the AWS app's embed link)"
	}
	return ""
}

// clean scrubs the messages of the errors Login returns; typed errors keep
// their type so the CLI maps them to exit codes.
func (l *login) clean(err error) error {
	var (
		ae *idp.AuthError
		pe *idp.PageError
		ue *idp.UnsupportedError
	)
	switch {
	case errors.As(err, &ae):
		ae.Message = l.in.Scrub(ae.Message)
	case errors.As(err, &pe):
		pe.Title, pe.Why = l.in.Scrub(pe.Title), l.in.Scrub(pe.Why)
	case errors.As(err, &ue):
		ue.What, ue.Hint = l.in.Scrub(ue.What), l.in.Scrub(ue.Hint)
	default:
		if s := err.Error(); l.in.Scrub(s) != s {
			return errors.New(l.in.Scrub(s))
		}
	}
	return err
}

func (l *login) username(ctx context.Context) (string, error) {
	if u := strings.TrimSpace(l.req.Username); u != "" {
		return u, nil
	}
	u, err := l.in.Prompt().Code(ctx, "Okta username")
	if errors.Is(err, idp.ErrNoTerminal) {
		return "", idp.Configf("okta: no username: set username in the profile")
	}
	return strings.TrimSpace(u), err
}

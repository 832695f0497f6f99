package entra

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/exitcode"
)

const (
	// OptionEntityID is the profile key naming the AWS app's Identifier
	// (Entity ID), the Issuer of the AuthnRequest.
	OptionEntityID = "entra_entity_id"
	// DefaultEntityID is the Identifier of the first AWS Single-Account
	// Access app of a tenant; later ones add #2, #3 ...
	DefaultEntityID = "https://signin.aws.amazon.com/saml"
	// UserAgent is a current desktop Edge: Conditional Access platform
	// rules refuse unknown agents ("platform Unknown", saml2aws #1178).
	UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
	// maxPages bounds the pages of one login. The longest flow, federated
	// sign-in + MFA + proof-up + DeviceAuthTls + KMSI, takes ten.
	maxPages = 16
)

// Registration registers the adapter as provider "entra" with its
// entra_entity_id key; Azure AD's old names get "did you mean entra".
var Registration = idp.Registration{
	Name:      "entra",
	New:       func() idp.Provider { return New() },
	Aliases:   []string{"azuread", "aad", "azure", "azure-ad", "azure_ad", "entraid", "entra-id", "microsoft", "o365", "office365", "m365"},
	AliasNote: "Azure AD is now Microsoft Entra ID",
	Keys: []idp.Key{{Name: OptionEntityID, Check: checkEntityID,
		Help: "entra provider: the AWS app's Identifier (Entity ID) when not https://signin.aws.amazon.com/saml, e.g. ...saml#2"}},
}

// checkEntityID wants an app Identifier: an absolute URI (URL or URN).
func checkEntityID(v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || strings.ContainsAny(v, " \t") {
		return fmt.Errorf("%q is not an Identifier (Entity ID): copy it from the app's Basic SAML Configuration, e.g. https://signin.aws.amazon.com/saml#2", v)
	}
	return nil
}

// Provider is the Microsoft Entra ID [idp.Provider]. Its MFA polls and
// the AuthnRequest's IssueInstant run on the request's clock
// (idp.Request.Clock).
type Provider struct{}

// New returns an Entra provider.
func New() *Provider { return &Provider{} }

// acs is the AWS sign-in SAML endpoint of each partition.
var acs = map[string]string{
	"aws":        "https://signin.aws.amazon.com/saml",
	"aws-us-gov": "https://signin.amazonaws-us-gov.com/saml",
	"aws-cn":     "https://signin.amazonaws.cn/saml",
}

var (
	guidRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$`)
	})
	domainRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?i)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	})
)

const copyHint = "set url to the app's Login URL, https://login.microsoftonline.com/<tenant-id>/saml2 " +
	"(Entra admin center > Enterprise applications > your AWS app > Single sign-on > Set up), " +
	"or its User access URL, https://launcher.myapps.microsoft.com/api/signin/<app-id>?tenantId=<tenant-id> (Properties); docs/entra.md"

// entry checks the profile's url: "saml2" when it is a tenant's SAML
// endpoint (saml2sts sends the AuthnRequest), "myapps" for a user access URL.
func entry(raw string) (*url.URL, string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, "", idp.Configf("entra: url %q is not an absolute https url: %s", idp.ShortURL(raw), copyHint)
	}
	host := strings.ToLower(u.Hostname())
	switch host {
	case "portal.azure.com", "entra.microsoft.com", "myapplications.microsoft.com", "myapps.microsoft.com",
		"account.activedirectory.windowsazure.com", "aad.portal.azure.com":
		return nil, "", idp.Configf("entra: url %s is a page of the Azure portal or My Apps, not the app's sign-in URL: %s", idp.ShortURL(raw), copyHint)
	}
	seg := strings.Split(strings.Trim(u.Path, "/"), "/")
	u.Fragment = ""
	switch {
	case len(seg) == 2 && strings.EqualFold(seg[1], "saml2"):
		if t := seg[0]; !guidRe().MatchString(t) && !domainRe().MatchString(t) {
			return nil, "", idp.Configf("entra: url %s names tenant %q, which is neither a tenant id (GUID) nor a domain (corp.example): %s",
				idp.ShortURL(raw), t, copyHint)
		}
		u.RawQuery = ""
		return u, "saml2", nil
	case len(seg) == 3 && strings.EqualFold(seg[0], "api") && strings.EqualFold(seg[1], "signin") && seg[2] != "":
		t := u.Query().Get("tenantId")
		if !guidRe().MatchString(t) && !domainRe().MatchString(t) {
			return nil, "", idp.Configf("entra: url %s has no tenantId=<tenant-id> (a GUID or a domain): copy the whole User access URL from the app's Properties", idp.ShortURL(raw))
		}
		return u, "myapps", nil
	}
	return nil, "", idp.Configf("entra: url %s is not an Entra SAML sign-in URL: %s", idp.ShortURL(raw), copyHint)
}

// Check implements [idp.Checker]: the url, the mfa name and the entity id.
func (p *Provider) Check(req *idp.Request) error {
	if _, _, err := entry(req.URL); err != nil {
		return err
	}
	if id, ok := req.Options[OptionEntityID]; ok && strings.TrimSpace(id) == "" {
		return idp.Configf("entra: entra_entity_id is empty: set it to the app's Identifier (Entity ID), e.g. %s#2, or remove it", DefaultEntityID)
	}
	if m := strings.TrimSpace(req.MFA); m != "" && !strings.EqualFold(m, "auto") && methodID(m) == "" {
		return idp.Configf("entra: mfa %q is not an Entra method: set mfa to auto, push, totp, sms or call (docs/entra.md)", req.MFA)
	}
	return nil
}

// AuthnRequest returns the HTTP-Redirect binding of a SAML AuthnRequest
// from issuer to Entra, for the ACS of partition: the SAMLRequest query
// value (raw DEFLATE, then base64; the caller URL-encodes it). It has no
// RequestedAuthnContext: Entra refuses one after MFA (AADSTS75011).
func AuthnRequest(issuer, partition string, now time.Time) (string, error) {
	dest, ok := acs[partition]
	if partition == "" {
		dest, ok = acs["aws"], true
	}
	if !ok {
		return "", idp.Configf("entra: AWS partition %q has no known SAML sign-in endpoint", partition)
	}
	id := make([]byte, 16)
	rand.Read(id)
	var x bytes.Buffer
	x.WriteString(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="id`)
	x.WriteString(hex.EncodeToString(id))
	x.WriteString(`" Version="2.0" IssueInstant="` + now.UTC().Format("2006-01-02T15:04:05.000Z") + `" IsPassive="false" AssertionConsumerServiceURL="`)
	xml.EscapeText(&x, []byte(dest))
	x.WriteString(`"><saml:Issuer>`)
	xml.EscapeText(&x, []byte(issuer))
	x.WriteString(`</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"/></samlp:AuthnRequest>`)
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression) // level is valid
	w.Write(x.Bytes())
	w.Close()
	return base64.StdEncoding.EncodeToString(z.Bytes()), nil
}

// StartURL is where a login begins: the tenant's SAML endpoint with a new
// AuthnRequest, or the user access URL as given. The browser login opens
// it too.
func (p *Provider) StartURL(req *idp.Request) (string, error) {
	u, kind, err := entry(req.URL)
	if err != nil {
		return "", err
	}
	if kind == "myapps" {
		return u.String(), nil // the app's own link: Entra knows the app
	}
	issuer := strings.TrimSpace(req.Options[OptionEntityID])
	if issuer == "" {
		issuer = DefaultEntityID
	}
	r, err := AuthnRequest(issuer, req.Partition, req.Time().Now())
	if err != nil {
		return "", err
	}
	u.RawQuery = url.Values{"SAMLRequest": {r}}.Encode()
	return u.String(), nil
}

// Login implements [idp.Provider].
func (p *Provider) Login(ctx context.Context, req *idp.Request) (string, error) {
	if req == nil || req.Client == nil {
		return "", errors.New("entra: login request has no http client")
	}
	start, err := p.StartURL(req)
	if err != nil {
		return "", err
	}
	c := *req.Client
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = browserAgent{next}
	l := &login{p: p, req: req, client: &c, in: idp.NewInputs(req), used: map[string]bool{}}
	l.walk = &idp.Walker{Name: "entra", Max: maxPages, Client: l.client, In: &l.in}
	page, err := l.fetch(ctx, http.MethodGet, start, nil)
	if err != nil {
		return "", l.clean(err)
	}
	saml, err := l.walk.Walk(ctx, page, l.next)
	return saml, l.clean(err)
}

// browserAgent sends a desktop browser's User-Agent on every request.
type browserAgent struct{ next http.RoundTripper }

func (b browserAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", UserAgent)
	return b.next.RoundTrip(r)
}

// login is the state of one Login call.
type login struct {
	p      *Provider
	req    *idp.Request
	client *http.Client
	in     idp.Inputs
	walk   *idp.Walker // counts pages, bounds the loop

	st           state
	sentPassword bool
	federated    bool
	mfaRounds    int
	used         map[string]bool // codes sent in this run
}

// state is what Entra rotates with every page and JSON answer.
type state struct {
	ft, ctx, canary, apiCanary string
	correlation, session       string
	hpgact, hpgid              string
}

// keep refreshes the state from a page's $Config and remembers its
// secrets.
func (l *login) keep(c *Config) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
			l.in.Secret(v)
		}
	}
	set(&l.st.ft, c.FlowToken)
	set(&l.st.ctx, c.Ctx)
	set(&l.st.canary, c.Canary)
	set(&l.st.apiCanary, c.APICanary)
	if c.CorrelationID != "" {
		l.st.correlation = c.CorrelationID
	}
	if c.SessionID != "" {
		l.st.session = c.SessionID
	}
	if c.HPGAct != "" {
		l.st.hpgact = string(c.HPGAct)
	}
	if c.HPGID != "" {
		l.st.hpgid = string(c.HPGID)
	}
}

func (l *login) fetch(ctx context.Context, method, rawURL string, form url.Values) (*idp.Page, error) {
	p, err := l.walk.Fetch(ctx, method, rawURL, form)
	if err != nil {
		return nil, err
	}
	l.keepCookies(p.URL)
	return p, nil
}

// keepCookies remembers the session cookies of u's host as secrets.
func (l *login) keepCookies(u *url.URL) {
	if l.client.Jar == nil || u == nil {
		return
	}
	for _, c := range l.client.Jar.Cookies(u) {
		l.in.Secret(c.Value)
	}
}

// resolve makes a $Config URL absolute against the page.
func resolve(page *idp.Page, ref string) string {
	if page == nil || page.URL == nil {
		return ref
	}
	u, err := page.URL.Parse(ref)
	if err != nil {
		return ref
	}
	return u.String()
}

// next acts on a page without a SAMLResponse.
func (l *login) next(ctx context.Context, page *idp.Page) (*idp.Page, error) {
	cfg, err := ParseConfig(page.Body)
	switch {
	case errors.Is(err, errNoConfig):
		// DeviceAuthTls, AD FS's wresult relay and portal hand-offs are
		// hidden forms that a browser submits at once.
		if f := hiddenForm(page); f != nil {
			return l.fetch(ctx, f.Method, f.Action, f.Values)
		}
		return nil, l.pageError(page, "", idp.DeadEnd(page, "expected an Entra sign-in page (with $Config) or the SAML post page", ""))
	case err != nil:
		return nil, l.pageError(page, "", err.Error())
	}
	l.keep(cfg)
	code := string(cfg.ErrorCode)
	switch cfg.PGID {
	case "ConvergedSignIn":
		if code != "" && code != "50058" {
			return nil, l.deadEnd(page, cfg)
		}
		if l.sentPassword || l.federated {
			return nil, l.pageError(page, cfg.PGID, "Entra asked for the sign-in again after the password was accepted; stopped so the account is not locked")
		}
		return l.signIn(ctx, page, cfg)
	case "ConvergedTFA":
		if code != "" {
			return nil, l.deadEnd(page, cfg)
		}
		return l.tfa(ctx, page, cfg)
	case "KmsiInterrupt":
		// "Stay signed in?" yes: Entra sets ESTSAUTHPERSISTENT, which a
		// later run refreshes from without the password.
		return l.fetch(ctx, http.MethodPost, resolve(page, cfg.URLPost), url.Values{
			"LoginOptions": {"1"}, "type": {"28"}, "ctx": {l.st.ctx}, "flowToken": {l.st.ft}, "canary": {l.st.canary},
			"hpgrequestid": {l.st.session}, "i19": {"1000"},
		})
	case "ConvergedProofUpRedirect":
		if cfg.URLSkipMFA != "" {
			l.in.Notice("Entra asks you to register more security info; skipped for now (do it at https://aka.ms/mysecurityinfo)")
			return l.fetch(ctx, http.MethodGet, resolve(page, cfg.URLSkipMFA), nil)
		}
		return nil, &Error{Code: orCode(code, "50072"), Text: orText(cfg.ErrorText, "Entra requires you to register security info (MFA) before signing in, and offers no skip"),
			Page: cfg.PGID, Hint: "register it at https://aka.ms/mysecurityinfo, then run again; or run again with --browser", exit: exitcode.Failure, secrets: &l.in}
	case "ConvergedChangePassword":
		return nil, &Error{Code: orCode(code, "50055"), Text: orText(cfg.ErrorText, "your password has expired"), Page: cfg.PGID,
			Hint: "change it in the browser (https://mysignins.microsoft.com/security-info/password/change or run again with --browser), then run again", exit: exitcode.Failure, secrets: &l.in}
	}
	if f := hiddenForm(page); f != nil && code == "" {
		return l.fetch(ctx, f.Method, f.Action, f.Values)
	}
	return nil, l.deadEnd(page, cfg)
}

func orCode(code, def string) string {
	if code == "" {
		return def
	}
	return code
}

func orText(t, def string) string {
	if strings.TrimSpace(t) == "" {
		return def
	}
	return t
}

// hiddenForm is a page's hiddenform, or its only form when the page
// submits it by itself.
func hiddenForm(page *idp.Page) *idp.Form {
	if f := page.Doc.Find("form[name=hiddenform]").First(); f.Length() > 0 {
		return idp.ParseForm(page, f)
	}
	if s := idp.AutoSubmitForm(page); s != nil {
		return idp.ParseForm(page, s)
	}
	return nil
}

// pageError describes a page the login cannot get past.
func (l *login) pageError(page *idp.Page, pgid, why string) error {
	l.keepCookies(page.URL)
	if pgid != "" {
		why = "page " + pgid + ": " + why
	}
	return l.walk.PageError(page, why)
}

// deadEnd is a page the adapter does not pass: its AADSTS code and text.
func (l *login) deadEnd(page *idp.Page, cfg *Config) error {
	l.keepCookies(page.URL)
	code := string(cfg.ErrorCode)
	e := &Error{Code: code, Text: cfg.ErrorText, Page: cfg.PGID, exit: exitcode.Failure, secrets: &l.in}
	if e.Page == "" {
		e.Page = "(no pgid)"
	}
	switch code {
	case "50126", "50034", "50053":
		e.exit = exitcode.Auth
	}
	e.Hint = hints[code]
	switch {
	case cfg.PGID == "ConvergedConditionalAccess" && e.Hint == "":
		e.Hint = "a Conditional Access policy blocks this sign-in (device compliance, location, app or platform)"
	case code == "" && cfg.ErrorText == "":
		e.Text = "Entra showed a page saml2sts does not know"
	}
	if l.req.Debug != nil {
		e.Saved = l.req.Debug.SavePage(fmt.Sprintf("entra-page%d-%s", l.walk.Pages(), e.Page), idp.RedactPage([]byte(l.in.Scrub(string(page.Body)))))
	}
	return e
}

// hints say what to do about the AADSTS codes users meet.
var hints = map[string]string{
	"50126":  "check the password",
	"50034":  "check the username (user@domain as in Entra)",
	"50053":  "the account is locked after too many attempts: wait, or ask your administrator",
	"50055":  "change the password in a browser",
	"50057":  "the account is disabled: ask your administrator",
	"53003":  "a Conditional Access policy blocks this sign-in",
	"53000":  "Conditional Access wants a compliant or managed device",
	"50011":  "the app's Reply URL (Basic SAML Configuration) must be the AWS sign-in endpoint of your partition",
	"700016": "entra_entity_id must be the app's Identifier (Entity ID) exactly, e.g. https://signin.aws.amazon.com/saml#2",
	"75011":  "the app or a proxy asked for a specific authentication method",
	"50076":  "MFA is required",
	"50079":  "Entra wants you to register MFA: do it at https://aka.ms/mysecurityinfo",
	"50072":  "Entra wants you to register MFA: do it at https://aka.ms/mysecurityinfo",
	"500121": "the MFA answer was refused",
	"50105":  "you are not assigned to the AWS app: ask your administrator to assign you",
	"90072":  "the account is not in this tenant (a guest?): use your home tenant's app",
}

// clean scrubs the error's text of this login's secrets.
func (l *login) clean(err error) error {
	if err == nil {
		return nil
	}
	var (
		ee *Error
		pe *idp.PageError
		ae *idp.AuthError
		ce *idp.ConfigError
	)
	switch {
	case errors.As(err, &ee):
		ee.secrets = &l.in
	case errors.As(err, &pe):
		pe.Title, pe.Why = l.in.Scrub(pe.Title), l.in.Scrub(pe.Why)
	case errors.As(err, &ae):
		ae.Message = l.in.Scrub(ae.Message)
	case errors.As(err, &ce), errors.Is(err, idp.ErrNoTerminal), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
	default:
		if s := err.Error(); l.in.Scrub(s) != s {
			return errors.New(l.in.Scrub(s))
		}
	}
	return err
}

package idptest_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/saml2sts/saml2sts/idp/idptest"
)

// browser walks Keycloak pages by hand: one cookie jar, no redirects (the
// emulator never redirects), forms submitted the way a browser would.
type browser struct {
	c *http.Client
}

type page struct {
	status  int
	url     *url.URL
	header  http.Header
	cookies []*http.Cookie // Set-Cookie of this response
	body    string
	doc     *goquery.Document
}

func newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

func (b *browser) do(req *http.Request) (*page, error) {
	resp, err := b.c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	return &page{status: resp.StatusCode, url: req.URL, header: resp.Header,
		cookies: resp.Cookies(), body: string(body), doc: doc}, nil
}

func (b *browser) get(u string) (*page, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return b.do(req)
}

// submit posts the form matched by sel with its inputs as a browser would
// send them (no buttons, only checked radios), overridden by set.
func (b *browser) submit(p *page, sel string, set map[string]string) (*page, error) {
	form := p.doc.Find(sel)
	if form.Length() != 1 {
		return nil, fmt.Errorf("%d forms match %q on %q", form.Length(), sel, title(p))
	}
	action, ok := form.Attr("action")
	if !ok {
		return nil, errors.New("form has no action")
	}
	target, err := p.url.Parse(action)
	if err != nil {
		return nil, err
	}
	vals := url.Values{}
	form.Find("input").Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		value, _ := in.Attr("value")
		typ := strings.ToLower(in.AttrOr("type", "text"))
		switch {
		case name == "", typ == "submit", typ == "button":
		case typ == "radio" || typ == "checkbox":
			if _, on := in.Attr("checked"); on {
				vals.Set(name, value)
			}
		default:
			vals.Set(name, value)
		}
	})
	for k, v := range set {
		vals.Set(k, v)
	}
	method := strings.ToUpper(form.AttrOr("method", "GET"))
	if method != http.MethodPost {
		return nil, fmt.Errorf("form method %s", method)
	}
	req, err := http.NewRequest(method, target.String(), strings.NewReader(vals.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// mustGet and mustSubmit are the test-goroutine forms of get and submit.
func (b *browser) mustGet(t *testing.T, u string) *page {
	t.Helper()
	p, err := b.get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return p
}

func (b *browser) mustSubmit(t *testing.T, p *page, sel string, set map[string]string) *page {
	t.Helper()
	np, err := b.submit(p, sel, set)
	if err != nil {
		t.Fatalf("submit %s: %v", sel, err)
	}
	return np
}

// login walks the password (and, when codes are given, OTP) forms of a
// v1/v2 realm and returns the SAML POST page.
func (b *browser) login(k *idptest.Keycloak, user, pass string, codes ...string) (*page, error) {
	p, err := b.get(k.URL())
	if err != nil {
		return nil, err
	}
	p, err = b.submit(p, "form#kc-form-login", map[string]string{"username": user, "password": pass})
	if err != nil {
		return nil, err
	}
	for _, c := range codes {
		if p, err = b.submit(p, "form#kc-otp-login-form", map[string]string{"otp": c}); err != nil {
			return nil, err
		}
	}
	if samlResponse(p) == "" {
		return nil, fmt.Errorf("no SAMLResponse on %q (status %d)", title(p), p.status)
	}
	return p, nil
}

func samlResponse(p *page) string {
	return p.doc.Find(`input[name="SAMLResponse"]`).AttrOr("value", "")
}

func title(p *page) string { return strings.TrimSpace(p.doc.Find("title").Text()) }

func text(p *page, sel string) string { return strings.TrimSpace(p.doc.Find(sel).Text()) }

func cookie(p *page, name string) *http.Cookie {
	for _, c := range p.cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func newKeycloak(t *testing.T, o idptest.KeycloakOptions) *idptest.Keycloak {
	t.Helper()
	k, err := idptest.NewKeycloak(o)
	if err != nil {
		t.Fatalf("NewKeycloak: %v", err)
	}
	t.Cleanup(k.Close)
	return k
}

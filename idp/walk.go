package idp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Walker is the page loop of one HTML login: it fetches pages, counts
// them, and stops the login after Max pages, so that a page no step
// recognises cannot turn into a loop of password posts and an account
// lockout (saml2aws #1536). One Walker serves one login.
//
//	w := &idp.Walker{Name: "keycloak", Max: 8, Client: req.Client, In: &in}
//	first, err := w.Fetch(ctx, http.MethodGet, req.URL, nil)
//	if err != nil {
//		return "", err
//	}
//	return w.Walk(ctx, first, func(ctx context.Context, p *idp.Page) (*idp.Page, error) {
//		f, err := nextForm(ctx, p) // the adapter's step; w.PageError(p, why) for a dead end
//		if err != nil {
//			return nil, err
//		}
//		return w.Submit(ctx, f)
//	})
type Walker struct {
	// Name prefixes fetch errors ("keycloak: ...") and names saved debug
	// pages ("keycloak-page3").
	Name string
	// Max is the page budget; Walk gives up on the page fetched last.
	Max int
	// Client fetches the pages; it may be changed between fetches (AD FS
	// switches to a Windows-auth client).
	Client *http.Client
	// In scrubs secrets from PageError and saved pages; nil scrubs nothing.
	In *Inputs

	pages int
}

// Pages is how many pages Fetch has fetched so far.
func (w *Walker) Pages() int { return w.pages }

// Fetch fetches one page with [Fetch] and counts it. Errors are prefixed
// with the adapter's name.
func (w *Walker) Fetch(ctx context.Context, method, rawURL string, form url.Values) (*Page, error) {
	w.pages++
	p, err := Fetch(ctx, w.Client, method, rawURL, form)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.Name, err)
	}
	return p, nil
}

// Submit sends a form through Fetch.
func (w *Walker) Submit(ctx context.Context, f *Form) (*Page, error) {
	return w.Fetch(ctx, f.Method, f.Action, f.Values)
}

// Walk returns the SAMLResponse of page, or of the pages step leads to.
// step acts on a page holding none and returns the page that follows
// (fetched through w). After Max pages without one Walk returns a
// [PageError] on the last page.
func (w *Walker) Walk(ctx context.Context, page *Page, step func(context.Context, *Page) (*Page, error)) (string, error) {
	for {
		if saml, ok := SAMLResponse(page); ok {
			return saml, nil
		}
		if w.pages >= w.Max {
			return "", w.PageError(page, fmt.Sprintf("still no SAML response after %d pages; stopped so the account is not locked", w.Max))
		}
		next, err := step(ctx, page)
		if err != nil {
			return "", err
		}
		page = next
	}
}

// PageError describes a page the login cannot get past (why: what was
// expected; see [DeadEnd]), secrets scrubbed, and with --debug saves a
// redacted copy named after the adapter and the page number.
func (w *Walker) PageError(page *Page, why string) *PageError {
	in := w.In
	if in == nil {
		in = &Inputs{}
	}
	return in.PageError(page, fmt.Sprintf("%s-page%d", w.Name, w.pages), why)
}

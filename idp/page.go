package idp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"

	"github.com/saml2sts/saml2sts/internal/httpx"
)

// maxPage bounds what is read of one response: login pages are a few
// kilobytes, and an endless body must not exhaust memory.
const maxPage = 4 << 20

// Page is one fetched HTML page. Status is kept because IdPs answer with
// meaningful non-200 pages (Keycloak's Kerberos page is a 401).
type Page struct {
	URL    *url.URL // final URL, after redirects
	Status int
	Body   []byte
	Doc    *goquery.Document
}

// Fetch requests rawURL and parses the answer as HTML, whatever its status.
// A non-nil form is sent form-encoded for POST and, as a browser does,
// replaces the query for GET. Errors never carry secret query values.
func Fetch(ctx context.Context, c *http.Client, method, rawURL string, form url.Values) (*Page, error) {
	if method == "" {
		method = http.MethodGet
	}
	method = strings.ToUpper(method)
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("invalid url: %w", err)
	}
	var body io.Reader
	if form != nil {
		if method == http.MethodGet {
			u.RawQuery = form.Encode()
		} else {
			body = strings.NewReader(form.Encode())
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("build request for %s: %w", httpx.RedactURL(u), err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
	resp, err := c.Do(req)
	if err != nil {
		return nil, redactErr(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPage+1))
	final := resp.Request.URL
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", httpx.RedactURL(final), err)
	}
	if len(b) > maxPage {
		return nil, fmt.Errorf("page at %s is larger than %d MiB: not a login page", httpx.RedactURL(final), maxPage>>20)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(b))
	if err != nil {
		// The parser's only error is nesting deeper than it allows.
		return nil, fmt.Errorf("page at %s nests elements deeper than an HTML parser allows (%w): not a login page", httpx.RedactURL(final), err)
	}
	doc.Url = final
	return &Page{URL: final, Status: resp.StatusCode, Body: b, Doc: doc}, nil
}

// redactErr hides secret query values in the URL that net/http puts in
// its errors, keeping the error's type (timeouts stay recognisable).
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			ue.URL = httpx.RedactURL(u)
		} else {
			ue.URL = "(unparsable url)"
		}
	}
	return err
}

// Title is the page's <title>, whitespace folded.
func (p *Page) Title() string {
	if p.Doc == nil {
		return ""
	}
	return Text(p.Doc.Find("title").First())
}

// Text is the selection's text with whitespace trimmed and folded, the way
// a user would read it.
func Text(s *goquery.Selection) string {
	return strings.Join(strings.Fields(s.Text()), " ")
}

// StripQuery returns u without userinfo, query and fragment: safe to show.
func StripQuery(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return c.String()
}

// RedactURL is u with secret-looking query values hidden, as the --debug
// HTTP trace shows it.
func RedactURL(u *url.URL) string { return httpx.RedactURL(u) }

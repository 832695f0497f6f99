package sts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"

	"github.com/saml2sts/saml2sts/internal/exitcode"
	"github.com/saml2sts/saml2sts/internal/httpx"
)

// AccountNamesTimeout bounds the one try at the sign-in page: names are a
// nicety and never worth a wait.
const AccountNamesTimeout = 5 * time.Second

const maxChooserPage = 2 << 20

// AccountNames posts the SAMLResponse to the AWS SAML sign-in endpoint,
// as a browser does after an IdP login, and reads the account aliases off
// the role chooser page it answers: account ID -> alias, only for accounts
// that have one. signinURL replaces the assertion's Destination (tests,
// emulators: its host serves /saml); it must be https or loopback http.
// Errors never hold the assertion.
func AccountNames(ctx context.Context, c *http.Client, a *Assertion, signinURL string) (map[string]string, error) {
	if a == nil || a.Raw == "" {
		return nil, errors.New("account names: no SAML assertion")
	}
	endpoint, err := samlEndpoint(a, signinURL)
	if err != nil {
		return nil, err
	}
	if c == nil {
		if c, err = httpx.NewClient(httpx.Options{}, AccountNamesTimeout); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, AccountNamesTimeout)
	defer cancel()
	body := url.Values{"SAMLResponse": {a.Raw}, "RelayState": {""}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("account names: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is known to the caller; keep the cause only
		}
		return nil, fmt.Errorf("account names: POST %s: %v", endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("account names: POST %s: HTTP %d", endpoint, resp.StatusCode)
	}
	page, err := io.ReadAll(io.LimitReader(resp.Body, maxChooserPage))
	if err != nil {
		return nil, fmt.Errorf("account names: read page: %v", err)
	}
	names, err := ParseAccountNames(page)
	if err != nil {
		return nil, err
	}
	return names, nil
}

// samlEndpoint is where the assertion is posted: the override's host with
// path /saml, else the Destination when it is an AWS sign-in /saml URL.
func samlEndpoint(a *Assertion, override string) (string, error) {
	if override != "" {
		if err := CheckSigninURL(override); err != nil {
			return "", err
		}
		u, _ := url.Parse(override)
		return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/saml"}).String(), nil
	}
	u, err := url.Parse(a.Destination)
	if err != nil || u.Scheme != "https" || !IsSigninHost(u.Hostname()) || u.Path != "/saml" {
		return "", fmt.Errorf("account names: destination %q is not an AWS SAML sign-in endpoint", a.Destination)
	}
	return u.String(), nil
}

// IsSigninHost reports an AWS sign-in host of any partition, regional
// ones (eu-west-1.signin.aws.amazon.com) included.
func IsSigninHost(h string) bool {
	h = strings.ToLower(h)
	for _, ph := range partitionHosts {
		if h == ph.signin || strings.HasSuffix(h, "."+ph.signin) {
			return true
		}
	}
	return false
}

// ChooserError is a page that is not a role chooser of either known
// generation (a login page, an error page, a redesign).
type ChooserError struct{ Reason string }

func (e *ChooserError) Error() string { return "account names: " + e.Reason }

// ExitCode implements the exit-status contract; callers fall back to ARNs
// and never let this reach the user, but the contract holds.
func (e *ChooserError) ExitCode() int { return exitcode.Failure }

var (
	legacyNameRe = regexp.MustCompile(`^Account:\s*(.*?)\s*\((\d{12})\)\s*$`)
	accountIDRe  = regexp.MustCompile(`^\d{12}$`)
)

// ParseAccountNames reads account ID -> alias from an AWS sign-in role
// chooser page: the legacy HTML ("Account: alias (123456789012)" in
// div.saml-account-name), the Next.js page (account_name_div and
// account_id_div siblings) or JSON embedded in its __NEXT_DATA__ script.
// Accounts without an alias are left out. A page with none of these is a
// *ChooserError; a chooser without aliases is an empty map.
func ParseAccountNames(page []byte) (map[string]string, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page))
	if err != nil {
		return nil, &ChooserError{Reason: "page is not HTML"}
	}
	names := map[string]string{}
	found := false
	doc.Find("div.saml-account-name").Each(func(_ int, s *goquery.Selection) {
		found = true
		if m := legacyNameRe.FindStringSubmatch(strings.TrimSpace(s.Text())); m != nil {
			addName(names, m[2], m[1])
		}
	})
	doc.Find(`div[class*="account_name_div"]`).Each(func(_ int, s *goquery.Selection) {
		found = true
		id := digits(s.NextFiltered(`div[class*="account_id_div"]`).Text())
		addName(names, id, s.Text())
	})
	if js := doc.Find(`script#__NEXT_DATA__`).First(); js.Length() > 0 {
		found = true
		var v any
		if json.Unmarshal([]byte(js.Text()), &v) == nil {
			walkJSON(v, names, 0)
		}
	}
	if !found {
		return nil, &ChooserError{Reason: "the page is not an AWS role chooser"}
	}
	return names, nil
}

// walkJSON collects objects that carry an account ID and a name, whatever
// the nesting (the Next.js props shape is not documented).
func walkJSON(v any, names map[string]string, depth int) {
	if depth > 32 {
		return
	}
	switch t := v.(type) {
	case map[string]any:
		var id, name string
		for k, x := range t {
			s, ok := x.(string)
			if !ok {
				continue
			}
			switch strings.ToLower(k) {
			case "accountid", "account_id":
				id = digits(s)
			case "accountname", "account_name", "accountalias", "alias":
				name = s
			}
		}
		addName(names, id, name)
		for _, x := range t {
			walkJSON(x, names, depth+1)
		}
	case []any:
		for _, x := range t {
			walkJSON(x, names, depth+1)
		}
	}
}

// addName keeps a printable alias that is not just the account number.
func addName(names map[string]string, id, name string) {
	name = strings.TrimSpace(name)
	if !accountIDRe.MatchString(id) || name == "" || digits(name) == id || len(name) > 64 {
		return
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == utf8.RuneError || unicode.Is(unicode.Bidi_Control, r) {
			return // no terminal escapes or reordering from a web page
		}
	}
	names[id] = name
}

// digits drops the dashes the Next.js page puts in account numbers.
func digits(s string) string {
	return strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(s))
}

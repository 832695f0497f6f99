package browser

import (
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"

	"github.com/saml2sts/saml2sts/idp"
)

// toBrowser turns the jar's cookies into DevTools cookie parameters.
func toBrowser(all []idp.StoredCookie) []*network.CookieParam {
	var out []*network.CookieParam
	for _, sc := range all {
		c := sc.Cookie
		u := url.URL{Scheme: sc.URL.Scheme, Host: sc.URL.Host, Path: "/"}
		p := &network.CookieParam{Name: c.Name, Value: c.Value, URL: u.String(), Path: c.Path,
			Secure: c.Secure, HTTPOnly: c.HttpOnly, SameSite: sameSiteTo(c.SameSite)}
		if p.Path == "" {
			p.Path = defaultPath(sc.URL.Path)
		}
		if c.Domain != "" {
			p.Domain = "." + strings.TrimPrefix(c.Domain, ".")
		}
		if !c.Expires.IsZero() {
			p.Expires = cdp.TimeSinceEpoch(float64(c.Expires.Unix()))
		}
		out = append(out, p)
	}
	return out
}

// fromBrowser puts the browser's cookies into jar, with the URL each one
// would have been set from: a cookie with a leading-dot domain is a
// domain cookie, one without is host-only.
func fromBrowser(jar http.CookieJar, cs []*network.Cookie, now time.Time) {
	for _, bc := range cs {
		if bc == nil || bc.Name == "" || bc.Domain == "" {
			continue
		}
		host := strings.TrimPrefix(bc.Domain, ".")
		scheme := "http"
		if bc.Secure || bc.SourceScheme == network.CookieSourceSchemeSecure {
			scheme = "https"
		}
		path := bc.Path
		if path == "" {
			path = "/"
		}
		c := &http.Cookie{Name: bc.Name, Value: bc.Value, Path: path, Secure: bc.Secure, HttpOnly: bc.HTTPOnly, SameSite: sameSiteFrom(bc.SameSite)}
		if strings.HasPrefix(bc.Domain, ".") {
			c.Domain = host
		}
		if !bc.Session && bc.Expires > 0 && !math.IsInf(bc.Expires, 0) {
			c.Expires = time.Unix(int64(bc.Expires), 0)
			if !c.Expires.After(now) {
				continue
			}
		}
		jar.SetCookies(&url.URL{Scheme: scheme, Host: host, Path: path}, []*http.Cookie{c})
	}
}

// sameSites pairs net/http's SameSite modes with DevTools' names.
var sameSites = []struct {
	h http.SameSite
	c network.CookieSameSite
}{{http.SameSiteStrictMode, network.CookieSameSiteStrict}, {http.SameSiteLaxMode, network.CookieSameSiteLax}, {http.SameSiteNoneMode, network.CookieSameSiteNone}}

func sameSiteTo(h http.SameSite) network.CookieSameSite {
	for _, p := range sameSites {
		if p.h == h {
			return p.c
		}
	}
	return ""
}

func sameSiteFrom(c network.CookieSameSite) http.SameSite {
	for _, p := range sameSites {
		if p.c == c {
			return p.h
		}
	}
	return http.SameSiteDefaultMode
}

// defaultPath is RFC 6265's default cookie path of a request path.
func defaultPath(p string) string {
	i := strings.LastIndex(p, "/")
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

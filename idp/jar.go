package idp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"time"
)

// jarVersion is the format of [Jar.Export]; bump it when the format changes
// so older saves are dropped instead of misread.
const jarVersion = 1

// Jar is an [http.CookieJar] whose cookies can be exported and restored in a
// later process, so a stored IdP session can spare the user a login.
//
// net/http/cookiejar cannot list its cookies, so Jar remembers every
// SetCookies call (latest per domain, path and name) and a restore replays
// them. It uses no public suffix list: the jar only ever talks to the one
// IdP a profile names.
type Jar struct {
	mu   sync.Mutex
	jar  *cookiejar.Jar
	keys []string           // first-seen order, for a stable export
	recs map[string]*record // by cookieKey
	now  func() time.Time
}

// record is one cookie as set, with the URL it was set for (which decides
// its default domain and path on replay).
type record struct {
	URL      string     `json:"url"`
	Name     string     `json:"name"`
	Value    string     `json:"value"`
	Quoted   bool       `json:"quoted,omitzero"`
	Domain   string     `json:"domain,omitzero"`
	Path     string     `json:"path,omitzero"`
	Expires  *time.Time `json:"expires,omitzero"` // nil for a session cookie
	Secure   bool       `json:"secure,omitzero"`
	HTTPOnly bool       `json:"http_only,omitzero"`
	SameSite int        `json:"same_site,omitzero"`
}

type savedJar struct {
	Version int       `json:"version"`
	Cookies []*record `json:"cookies"`
}

// NewJar returns a jar holding the cookies of a previous [Jar.Export]. Nil or
// empty saved gives an empty jar. Saved data that cannot be read also gives
// an empty, usable jar, together with an error the caller may ignore (the
// user then simply logs in again).
func NewJar(saved []byte) (*Jar, error) {
	j := newJar()
	if len(saved) == 0 {
		return j, nil
	}
	var s savedJar
	if err := json.Unmarshal(saved, &s); err != nil {
		return j, fmt.Errorf("read saved idp session: %w", err)
	}
	if s.Version != jarVersion {
		return j, fmt.Errorf("read saved idp session: format version %d, want %d", s.Version, jarVersion)
	}
	var bad int
	for _, r := range s.Cookies {
		if r == nil {
			bad++
			continue
		}
		u, err := url.Parse(r.URL)
		if err != nil || r.Name == "" || (u.Scheme != "http" && u.Scheme != "https") {
			bad++
			continue
		}
		j.SetCookies(u, []*http.Cookie{r.cookie()})
	}
	if bad > 0 {
		return j, fmt.Errorf("read saved idp session: skipped %d malformed cookies", bad)
	}
	return j, nil
}

func newJar() *Jar {
	cj, _ := cookiejar.New(nil) // never fails with nil options
	return &Jar{jar: cj, recs: map[string]*record{}, now: time.Now}
}

// SetCookies implements [http.CookieJar] and remembers the cookies for
// [Jar.Export].
func (j *Jar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	j.jar.SetCookies(u, cookies)
	if u.Scheme != "http" && u.Scheme != "https" {
		return // cookiejar ignores these too
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	at := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	for _, c := range cookies {
		if c == nil || c.Name == "" {
			continue
		}
		k := cookieKey(u, c)
		if c.MaxAge < 0 || (!c.Expires.IsZero() && c.MaxAge == 0 && !c.Expires.After(now)) {
			j.forget(k)
			continue
		}
		r := &record{
			URL:      at.String(),
			Name:     c.Name,
			Value:    c.Value,
			Quoted:   c.Quoted,
			Domain:   c.Domain,
			Path:     c.Path,
			Secure:   c.Secure,
			HTTPOnly: c.HttpOnly,
			SameSite: int(c.SameSite),
		}
		// Max-Age is relative to now; store it as an absolute time so a
		// later replay does not extend the cookie's life.
		switch {
		case c.MaxAge > 0:
			t := now.Add(time.Duration(c.MaxAge) * time.Second).UTC()
			r.Expires = &t
		case !c.Expires.IsZero():
			t := c.Expires.UTC()
			r.Expires = &t
		}
		if _, ok := j.recs[k]; !ok {
			j.keys = append(j.keys, k)
		}
		j.recs[k] = r
	}
}

// Cookies implements [http.CookieJar].
func (j *Jar) Cookies(u *url.URL) []*http.Cookie { return j.jar.Cookies(u) }

// Export returns the live cookies as JSON for [NewJar]: the latest cookie
// per domain, path and name, without expired or deleted ones. Session
// cookies (no expiry) are kept: the IdP decides whether they still count.
func (j *Jar) Export() []byte {
	b, _ := json.Marshal(savedJar{Version: jarVersion, Cookies: j.live()})
	return b
}

// Empty reports whether the jar holds no live cookie.
func (j *Jar) Empty() bool { return len(j.live()) == 0 }

func (j *Jar) live() []*record {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	out := []*record{}
	for _, k := range j.keys {
		r, ok := j.recs[k]
		if !ok || (r.Expires != nil && !r.Expires.After(now)) {
			continue
		}
		out = append(out, r)
	}
	return out
}

func (j *Jar) forget(k string) {
	if _, ok := j.recs[k]; !ok {
		return
	}
	delete(j.recs, k)
	for i, x := range j.keys {
		if x == k {
			j.keys = append(j.keys[:i], j.keys[i+1:]...)
			break
		}
	}
}

func (r *record) cookie() *http.Cookie {
	c := &http.Cookie{
		Name:     r.Name,
		Value:    r.Value,
		Quoted:   r.Quoted,
		Domain:   r.Domain,
		Path:     r.Path,
		Secure:   r.Secure,
		HttpOnly: r.HTTPOnly,
		SameSite: http.SameSite(r.SameSite),
	}
	if r.Expires != nil {
		c.Expires = *r.Expires
	}
	return c
}

// cookieKey mirrors cookiejar's identity of a cookie: domain, path, name.
func cookieKey(u *url.URL, c *http.Cookie) string {
	domain := strings.ToLower(strings.TrimPrefix(c.Domain, "."))
	if domain == "" {
		domain = strings.ToLower(u.Hostname())
	}
	path := c.Path
	if path == "" || path[0] != '/' {
		path = defaultPath(u.Path)
	}
	return domain + ";" + path + ";" + c.Name
}

// defaultPath is RFC 6265 section 5.1.4, as cookiejar applies it.
func defaultPath(p string) string {
	if p == "" || p[0] != '/' {
		return "/"
	}
	i := strings.LastIndex(p, "/")
	if i == 0 {
		return "/"
	}
	return p[:i]
}

// StoredCookie is one live cookie of a [Jar] and the URL it was set for,
// so that another cookie store (a browser) can take the session over.
type StoredCookie struct {
	URL    *url.URL
	Cookie *http.Cookie
}

// All returns the jar's live cookies, as [Jar.Export] would save them.
func (j *Jar) All() []StoredCookie {
	var out []StoredCookie
	for _, r := range j.live() {
		u, err := url.Parse(r.URL)
		if err != nil {
			continue
		}
		out = append(out, StoredCookie{URL: u, Cookie: r.cookie()})
	}
	return out
}

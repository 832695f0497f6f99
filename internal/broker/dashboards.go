package broker

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/internal/credrec"
)

// DashboardsCookies keeps a profile's OpenSearch Dashboards session
// cookies in the credential store (keyring or 0600 file), like the
// credentials, bound to whose session they are: a session of another
// user, IdP app or Dashboards is never sent. It implements
// opensearch.CookieStore.
type DashboardsCookies struct {
	s          cache.Store
	key, owner string
	now        func() time.Time
}

// DashboardsCookies returns the cookie store of p for the Dashboards at
// base (the --dashboards-url).
func (b *Broker) DashboardsCookies(p *config.Profile, base string) *DashboardsCookies {
	now := b.Now
	if now == nil {
		now = time.Now
	}
	return &DashboardsCookies{s: b.Store, key: cache.DashboardsKey(p.Name), owner: credrec.Fingerprint(identity(p), p.DashboardsIdPURL, base), now: now}
}

type storedCookie struct {
	Name    string    `json:"name"`
	Value   string    `json:"value"`
	Expires time.Time `json:"expires,omitzero"`
}

type storedCookies struct {
	Owner   string         `json:"owner"`
	Cookies []storedCookie `json:"cookies"`
}

// Load returns the stored cookies, or cache.ErrNotFound when there are
// none for this owner.
func (d *DashboardsCookies) Load() ([]*http.Cookie, error) {
	raw, err := d.s.Get(d.key)
	if err != nil {
		return nil, err
	}
	var sc storedCookies
	if err := json.Unmarshal(raw, &sc); err != nil || sc.Owner != d.owner {
		return nil, cache.ErrNotFound
	}
	out := make([]*http.Cookie, 0, len(sc.Cookies))
	for _, c := range sc.Cookies {
		out = append(out, &http.Cookie{Name: c.Name, Value: c.Value, Expires: c.Expires})
	}
	return out, nil
}

// Save replaces the stored cookies; Max-Age becomes an absolute expiry.
func (d *DashboardsCookies) Save(cs []*http.Cookie) error {
	sc := storedCookies{Owner: d.owner}
	for _, c := range cs {
		exp := c.Expires
		if c.MaxAge > 0 {
			exp = d.now().Add(time.Duration(c.MaxAge) * time.Second)
		}
		sc.Cookies = append(sc.Cookies, storedCookie{Name: c.Name, Value: c.Value, Expires: exp})
	}
	raw, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	return d.s.Set(d.key, raw)
}

package broker

import (
	"context"
	"sync"
	"time"

	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/internal/credrec"
	"github.com/saml2sts/saml2sts/sts"
)

// sharedMargin keeps a shared SAMLResponse from being sent to STS so close
// to its NotOnOrAfter that clock skew or a slow STS call refuses it.
const sharedMargin = 30 * time.Second

// SharedLogin lets one command log several profiles of one IdP identity
// (provider, url, username) in with one IdP login: the first login's
// SAMLResponse is reused, in memory only and within its NotOnOrAfter, and
// its IdP session is copied to the other profiles so that their silent
// refreshes need no password either. The zero value is ready; it is safe
// for concurrent use. An assertion is never written anywhere.
type SharedLogin struct {
	mu sync.Mutex
	m  map[string]sharedResp
}

type sharedResp struct {
	resp  string    // base64 SAMLResponse
	until time.Time // NotOnOrAfter less sharedMargin
	from  string    // the profile whose login it was
}

// loginKey names whose IdP login a profile runs: unlike identity, not the
// SAML provider, which picks among the roles one assertion grants.
func loginKey(p *config.Profile) string { return credrec.Identity(p.Provider, p.URL, p.Username, "") }

// idpResponse returns a SAMLResponse for p: a shared one while it is
// fresh, else a login (which it then shares). The caller holds p's lock.
func (b *Broker) idpResponse(ctx context.Context, p *config.Profile, o Options) (string, error) {
	s, key := o.Shared, loginKey(p)
	if s != nil {
		s.mu.Lock()
		e, ok := s.m[key]
		s.mu.Unlock()
		if ok && b.Now().Before(e.until) {
			if e.from != p.Name {
				if ss, ok := b.storedSession(e.from); ok {
					_ = b.saveSession(p, ss.Jar) // best effort: only saves a later password
				}
			}
			return e.resp, nil
		}
	}
	resp, err := b.idpLogin(ctx, p, o, p.URL)
	if err != nil || s == nil {
		return resp, err
	}
	if a, perr := sts.ParseResponse(resp); perr == nil && !a.NotOnOrAfter.IsZero() {
		s.mu.Lock()
		if s.m == nil {
			s.m = map[string]sharedResp{}
		}
		s.m[key] = sharedResp{resp: resp, until: a.NotOnOrAfter.Add(-sharedMargin), from: p.Name}
		s.mu.Unlock()
	}
	return resp, nil
}

// Roles logs p in, or reuses the SAMLResponse shared through o.Shared, and
// returns the roles its assertion grants with the account names known for
// them (by account id). With o.Shared set, the logins of profiles of the
// same identity that follow reuse that response: login --all-roles.
func (b *Broker) Roles(ctx context.Context, p *config.Profile, o Options) ([]sts.Role, map[string]string, error) {
	if err := p.CheckLogin(); err != nil {
		return nil, nil, err
	}
	unlock, err := b.lock(ctx, p, o)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	resp, err := b.idpResponse(ctx, p, o)
	if err != nil {
		return nil, nil, needLogin(err, o.LoginHint)
	}
	a, err := sts.ParseResponse(resp)
	if err == nil {
		err = a.CheckAWS()
	}
	if err != nil {
		return nil, nil, err
	}
	return a.Roles, b.accountNames(ctx, p, a), nil
}

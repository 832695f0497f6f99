package broker

import (
	"context"
	"errors"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/config"
)

// Assertion runs the profile's IdP login against url (another SAML app of
// the same IdP, e.g. OpenSearch Dashboards; "" = the profile's url) and
// returns a fresh base64 SAMLResponse for it. No STS call is made. The
// stored IdP session is reused and saved exactly as for credentials, so
// after one login this is silent.
func (b *Broker) Assertion(ctx context.Context, p *config.Profile, o Options, url string) (string, error) {
	if err := p.CheckLogin(); err != nil {
		return "", err
	}
	if url == "" {
		url = p.URL
	}
	lctx := ctx
	if o.LockWait > 0 {
		var cancel context.CancelFunc
		lctx, cancel = context.WithTimeout(ctx, o.LockWait)
		defer cancel()
	}
	// The same lock as a credentials login: both write the IdP session.
	unlock, err := cache.Lock(lctx, b.Dir, "profile-"+p.Name)
	if err != nil {
		if ctx.Err() == nil && lctx.Err() != nil {
			return "", &BusyError{Profile: p.Name, Waited: o.LockWait, Hint: o.LoginHint}
		}
		return "", err
	}
	defer unlock()
	s, err := b.idpLogin(ctx, p, o, url)
	if errors.Is(err, idp.ErrNoTerminal) {
		var ne *NeedLoginError
		if !errors.As(err, &ne) {
			return "", &NeedLoginError{Hint: o.LoginHint}
		}
	}
	return s, err
}

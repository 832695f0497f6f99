package broker

import (
	"context"

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
	unlock, err := b.lock(ctx, p, o)
	if err != nil {
		return "", err
	}
	defer unlock()
	s, err := b.idpLogin(ctx, p, o, url)
	if err != nil {
		return "", needLogin(err, o.LoginHint)
	}
	return s, nil
}

package broker

import (
	"context"
	"errors"

	"github.com/saml2sts/saml2sts/internal/config"
)

// Assertion runs the profile's IdP login against url (another SAML app of
// the same IdP, e.g. OpenSearch Dashboards) and returns a fresh base64
// SAMLResponse for it. There is no default: the profile's url is the AWS
// app, whose assertion must go nowhere but AWS. No STS call is made. The
// stored IdP session is reused and saved exactly as for credentials, so
// after one login this is silent.
func (b *Broker) Assertion(ctx context.Context, p *config.Profile, o Options, url string) (string, error) {
	if err := p.CheckLogin(); err != nil {
		return "", err
	}
	if url == "" {
		return "", errors.New("no IdP app URL to get an assertion from (dashboards_idp_url)")
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

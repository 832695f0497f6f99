package broker

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/sts"
)

// Chainer is the STS call role chaining needs; the sts client has it.
type Chainer interface {
	AssumeRole(ctx context.Context, creds sts.Credentials, source string, c sts.Chain, d time.Duration) (*sts.Result, error)
}

// chain assumes p.ChainRoleARN with the SAML role's credentials, when the
// profile asks for it; res is returned as is otherwise.
func (b *Broker) chain(ctx context.Context, client STS, p *config.Profile, res *sts.Result) (*sts.Result, error) {
	if p.ChainRoleARN == "" {
		return res, nil
	}
	ch, ok := client.(Chainer)
	if !ok {
		return nil, fmt.Errorf("role chaining to %s: this STS client cannot call AssumeRole", p.ChainRoleARN)
	}
	return ch.AssumeRole(ctx, res.Credentials, res.AssumedRoleARN, sts.Chain{
		RoleARN:        p.ChainRoleARN,
		ExternalID:     p.ChainExternalID,
		SourceIdentity: p.ChainSourceIdentity,
		SessionName:    p.ChainSessionName,
	}, p.Duration)
}

// accountNames returns the aliases of the accounts a grants, from the
// index, reading the AWS sign-in page once (bounded, see sts.AccountNames)
// when some account was not looked up in the last 30 days. Only called
// where names are shown (picker, role list, login summary), never on a
// cached path. Any failure leaves the names out; --debug says why.
func (b *Broker) accountNames(ctx context.Context, p *config.Profile, a *sts.Assertion) map[string]string {
	if p.AccountNames == "off" || a == nil {
		return nil
	}
	var ids []string
	for _, r := range a.Roles {
		if id := r.AccountID(); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	now := b.Now()
	if len(ids) == 0 || cache.KnownAccounts(b.Dir, ids, now) {
		return cache.AccountNames(b.Dir, now)
	}
	if b.triedNames {
		return cache.AccountNames(b.Dir, now)
	}
	b.triedNames = true
	names, err := sts.AccountNames(ctx, &http.Client{Transport: b.Transport}, a, b.SigninURL)
	if err != nil {
		if b.Debug != nil {
			fmt.Fprintf(b.Notice, "saml2sts: debug: account names not shown: %v\n", err)
		}
		return cache.AccountNames(b.Dir, now)
	}
	if err := cache.SaveAccountNames(b.Dir, ids, names, now); err != nil && b.Debug != nil {
		fmt.Fprintf(b.Notice, "saml2sts: debug: account names not cached: %v\n", err)
	}
	return cache.AccountNames(b.Dir, now)
}

// AccountLabel is "alias (123456789012)" when the alias is known, else
// the account ID.
func AccountLabel(names map[string]string, id string) string {
	if n := names[id]; n != "" {
		return n + " (" + id + ")"
	}
	return id
}

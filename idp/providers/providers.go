// Package providers is the list of the identity-provider adapters
// saml2sts ships. Adding a provider is its package (with an exported
// idp.Registration) and one line in [All]; the profile keys, the provider
// check, the CLI and the docs test all read this list.
package providers

import (
	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/adfs"
	"github.com/saml2sts/saml2sts/idp/entra"
	"github.com/saml2sts/saml2sts/idp/form"
	"github.com/saml2sts/saml2sts/idp/keycloak"
	"github.com/saml2sts/saml2sts/idp/okta"
)

// All are the adapters, in the order help and error messages list them.
var All = []idp.Registration{
	keycloak.Registration,
	okta.Registration,
	adfs.Registration,
	entra.Registration,
	form.Registration,
}

// Lookup returns the registration of the provider called name.
func Lookup(name string) (idp.Registration, bool) {
	for _, r := range All {
		if r.Name == name {
			return r, true
		}
	}
	return idp.Registration{}, false
}

// Names are the provider names, in the order of All.
func Names() []string {
	names := make([]string, len(All))
	for i, r := range All {
		names[i] = r.Name
	}
	return names
}

// New returns one fresh adapter of each provider, by name.
func New() map[string]idp.Provider {
	m := make(map[string]idp.Provider, len(All))
	for _, r := range All {
		m[r.Name] = r.New()
	}
	return m
}

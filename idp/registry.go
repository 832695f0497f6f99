package idp

// Registration is what an adapter tells the rest of saml2sts about itself:
// the profile's provider value, how to make one, and the profile keys only
// it reads. Each adapter package exports one (keycloak.Registration, ...);
// the list in package idp/providers is what the program ships, so adding a
// provider is its package plus one line there. The profile loader then
// knows the name and the keys (with their checks, help and defaults), the
// CLI builds the adapter, and docs/configuration.md is checked against it.
//
// Offline checks of a whole profile (url, mfa, options) are the adapter
// implementing [Checker]; configure and login run them before anything is
// written or sent.
type Registration struct {
	// Name is the profile's provider value: "okta".
	Name string
	// New returns a ready adapter with production settings.
	New func() Provider
	// Aliases are names users know the provider by ("azuread" for entra):
	// the provider key refuses them with "did you mean" Name, followed by
	// AliasNote when set.
	Aliases   []string
	AliasNote string
	// Keys are the profile keys only this provider reads; their values
	// reach the adapter as Request.Options. A profile of another provider
	// that sets one is refused, as it would be ignored.
	Keys []Key
}

// Key is a provider-only profile key. The profile loader adds the file,
// environment (SAML2STS_<NAME>) and flag (--<name>) spellings.
type Key struct {
	Name    string // in the file: "adfs_auth"
	Default string // "" when the key has none
	Help    string // one line, for --help and docs
	// Values, when set, are the only values allowed (the loader says
	// which one a typo was meant to be).
	Values []string
	// Check reports what is wrong with a value (non-empty, one line); nil
	// accepts any. The error does not name the key.
	Check func(v string) error
}

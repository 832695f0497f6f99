package config

import "time"

// Profile is one resolved profile: file values overridden by environment
// variables, overridden by flags. Zero values have been replaced by defaults.
type Profile struct {
	Name               string
	Provider           string // a name in idp/providers
	URL                string // IdP-initiated sign-on URL
	Username           string
	RoleARN            string
	PrincipalARN       string
	Region             string
	Duration           time.Duration // default 1h
	MFA                string        // "auto" or a factor name
	Cache              string        // auto | keyring | file
	PasswordCommand    string
	RefreshWindow      time.Duration // default 15m
	OpenSearchEndpoint string
	OpenSearchService  string        // auto | es | aoss
	DashboardsIdPURL   string        // IdP-initiated URL of the Dashboards SAML app; required by --via dashboards
	Browser            string        // never | always | fallback
	BrowserHeadless    bool          // browser_headless = true
	BrowserPath        string        // browser executable; "" = discover
	BrowserTimeout     time.Duration // default 5m
	// Options are the provider-specific keys (adfs_auth, form_*) by key
	// name, passed to the adapter as idp.Request.Options.
	Options map[string]string
	// Source names where the profile came from (file path), for messages.
	Source string
	// File is the profiles file holding the profile's section, "" when
	// environment and flags alone give it.
	File string
}

package cache

import "github.com/saml2sts/saml2sts/cache/warm"

// CredsKey is the Store key of a profile's STS credentials.
func CredsKey(profile string) string { return warm.CredsKey(profile) }

// SessionKey is the Store key of a profile's IdP session (cookies).
func SessionKey(profile string) string { return "session/" + profile }

// DashboardsKey is the Store key of a profile's OpenSearch Dashboards
// session cookies.
func DashboardsKey(profile string) string { return "dashboards/" + profile }

// RejectedKey is the Store key of what the IdP rejected for an identity
// (salted hashes of a password_command output and of one-time codes), so
// that none of it is sent again automatically.
func RejectedKey(identity string) string { return "rejected/" + identity }

package cache

// CredsKey is the Store key of a profile's STS credentials.
func CredsKey(profile string) string { return "creds/" + profile }

// SessionKey is the Store key of a profile's IdP session (cookies).
func SessionKey(profile string) string { return "session/" + profile }

// DashboardsKey is the Store key of a profile's OpenSearch Dashboards
// session cookies.
func DashboardsKey(profile string) string { return "dashboards/" + profile }

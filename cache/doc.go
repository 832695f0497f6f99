// Package cache stores credentials and IdP sessions: a [Store] interface
// with keyring and file backends, the freshness policy, and a cross-process
// per-profile lock so that concurrent callers share one login. It imports no
// IdP adapter.
package cache

// Package broker is the credential pipeline: cached credentials when fresh,
// else — under one per-profile cross-process lock — IdP login (reusing a
// stored IdP session when there is one), role choice, AssumeRoleWithSAML,
// and storing both the credentials and the IdP session for next time.
package broker

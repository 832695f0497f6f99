// Package credrec is the one definition of what the warm credential_process
// path decides on: the cached [Record] and its encoding, the [Identity]
// fingerprint that binds a record to the profile settings it was minted
// for, the freshness rule ([Fresh], [Serves]), the credential_process
// JSON ([ProcessJSON]), and a minimal reader of the settings of one
// profile ([ReadSettings]).
//
// It is a leaf: the standard library only, no AWS SDK, no net/http, so
// that both the broker (the full binary) and the small
// saml2sts-credential-process helper link it, and cannot drift apart.
package credrec

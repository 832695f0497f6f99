// Package warm is the read side of the cache stores, without go-keyring,
// godbus or flock: what a warm `credential_process` call needs to find a
// record. The cache package reads through it too (its Store
// implementations call these functions), so item names, chunking, file
// format and the keyring's errors and messages cannot drift between the
// saml2sts binary and the saml2sts-credential-process helper.
//
// Writes, deletes, locked keyring items and anything the one-connection
// Secret Service reader does not handle are the cache package's: Get
// answers ErrSlow for them.
package warm

// Package cache stores credentials and IdP sessions: a [Store] interface
// with keyring and file backends, the freshness policy, and a cross-process
// per-profile lock so that concurrent callers share one login. It imports no
// IdP adapter.
//
// [Keyring] bounds every OS keyring call with a timeout, never lets godbus
// autolaunch a session bus, and splits values into chunks that fit the
// Windows and macOS item limits. [File] keeps 0600 files in a 0700
// directory. [Open] picks one of them, falling back from the keyring to
// files in "auto" mode. The status index ([ReadIndex], [UpdateIndex]) holds
// non-secret metadata, so status and logout need no keyring access.
package cache

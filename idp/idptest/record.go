package idptest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// record is what every emulator keeps under its one lock (and its outage
// switch): its counters
// (S is the emulator's Stats type) and the values tests scan output for,
// each SAMLResponse issued and each cookie or token handed out.
type record[S any] struct {
	mu     sync.Mutex
	stats  S
	issued []string // every SAMLResponse served
	kept   []string // every cookie value or token handed out
	faults          // SetFault: outages
}

// Stats returns a snapshot of the counters.
func (r *record[S]) Stats() S {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// IssuedResponses returns every base64 SAMLResponse served so far, oldest
// first, so tests can check that none leaks into output or logs.
func (r *record[S]) IssuedResponses() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.issued)
}

// issue records a SAMLResponse about to be served and counts it with
// count (which bumps the emulator's SAMLIssued). Called without mu.
func (r *record[S]) issue(b64 string, count func(*S)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if count != nil {
		count(&r.stats)
	}
	r.issued = append(r.issued, b64)
}

// keep records a cookie value or token handed out; "" (an expiring
// cookie) is not one. Called with mu held.
func (r *record[S]) keep(v string) {
	if v != "" {
		r.kept = append(r.kept, v)
	}
}

// secret makes a new random token with the given prefix and keeps it.
// Called with mu held.
func (r *record[S]) secret(prefix string) string {
	s := prefix + newToken()
	r.keep(s)
	return s
}

// keptValues returns every value kept so far, oldest first.
func (r *record[S]) keptValues() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.kept)
}

// checkUsers validates the users an emulator is built with: each has a
// Username and none repeats (ignoring case when fold, as Keycloak, AD FS
// and Okta match names). who names them in errors ("okta user").
func checkUsers(who string, names []string, fold bool) error {
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		if n == "" {
			return fmt.Errorf("idptest: %s %d has no Username", who, i)
		}
		k := n
		if fold {
			k = strings.ToLower(n)
		}
		if seen[k] {
			return fmt.Errorf("idptest: duplicate %s %q", who, n)
		}
		seen[k] = true
	}
	return nil
}

// usernames lists the Username of each of users.
func usernames[U any](users []U, name func(*U) string) []string {
	out := make([]string, len(users))
	for i := range users {
		out[i] = name(&users[i])
	}
	return out
}

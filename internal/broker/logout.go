package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/saml2sts/saml2sts/cache"
)

// profileLock names the lock every login, refresh and logout of a profile
// takes.
func profileLock(profile string) string { return "profile-" + profile }

// LogoutWait bounds how long Logout waits for a login in flight.
const LogoutWait = 3 * time.Minute

// Logout forgets profile's credentials, IdP session and Dashboards cookies
// in every store (the keyring may have been down when a login fell back to
// the file), and removes its index entry, holding the profile lock: a
// login or refresh in flight in another process finishes first, so it
// cannot write them back after "Logged out". waiting (may be nil) is
// called once if that means waiting.
func Logout(ctx context.Context, dir string, stores []cache.Store, profile string, waiting func()) error {
	unlock, ok, err := cache.TryLock(dir, profileLock(profile))
	if err != nil {
		return err
	}
	if !ok {
		if waiting != nil {
			waiting()
		}
		wctx, cancel := context.WithTimeout(ctx, LogoutWait)
		defer cancel()
		if unlock, err = cache.Lock(wctx, dir, profileLock(profile)); err != nil {
			if ctx.Err() == nil && wctx.Err() != nil {
				return fmt.Errorf("logout %s: another saml2sts process has been logging in for over %s (waiting for input?); finish or stop it, then run logout again", profile, LogoutWait)
			}
			return err
		}
	}
	defer unlock()
	var errs []error
	for _, s := range stores {
		b := &Broker{Store: s, Dir: dir}
		if err := b.Forget(profile); err != nil {
			errs = append(errs, fmt.Errorf("logout %s from %s: %w", profile, s.Name(), err))
		}
	}
	return errors.Join(errs...)
}

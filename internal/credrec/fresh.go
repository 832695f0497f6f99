package credrec

import "time"

// Margin is the least validity Usable accepts: credentials that expire in
// transit, or on a host with a slightly fast clock, are of no use.
const Margin = time.Minute

// DefaultWindow is the refresh window for credential_process: botocore
// re-runs the process on every call once fewer than 15 minutes remain.
const DefaultWindow = 15 * time.Minute

// Fresh reports whether more than window remains before exp: no refresh
// is needed yet.
func Fresh(exp, now time.Time, window time.Duration) bool {
	return exp.Sub(now) > window
}

// Usable reports whether more than Margin remains before exp: the
// credentials may still be handed out, even if a refresh is due.
func Usable(exp, now time.Time) bool {
	return exp.Sub(now) > Margin
}

package cache

import (
	"time"

	"github.com/saml2sts/saml2sts/internal/credrec"
)

// Margin is the least validity Usable accepts (see credrec.Margin).
const Margin = credrec.Margin

// DefaultWindow is the refresh window for credential_process (see
// credrec.DefaultWindow).
const DefaultWindow = credrec.DefaultWindow

// Fresh reports whether more than window remains before exp: no refresh
// is needed yet. The rule is credrec's, shared with the warm-path helper.
func Fresh(exp, now time.Time, window time.Duration) bool { return credrec.Fresh(exp, now, window) }

// Usable reports whether more than Margin remains before exp: the
// credentials may still be handed out, even if a refresh is due.
func Usable(exp, now time.Time) bool { return credrec.Usable(exp, now) }

package idptest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// oktaTx is one Classic authentication transaction.
type oktaTx struct {
	token   string // stateToken
	user    *oktaUser
	status  string
	kind    string // "" or "SESSION_STEP_UP"
	sid     string // the session a step-up belongs to
	expires time.Time

	factor *oktaFactor // the factor being challenged
	sent   bool        // push sent / code sent
	polls  int         // polls since the push was sent
	shown  bool        // a WAITING poll showed the correctAnswer
	result string      // push factorResult of the last answer
	warn   bool        // options.warnBeforePasswordExpired
	duo    string      // the state sent to Duo (claims_provider)
}

// authnReq is the body of every /api/v1/authn call.
type authnReq struct {
	Username   string `json:"username"`
	Password   string `json:"password"`
	StateToken string `json:"stateToken"`
	PassCode   string `json:"passCode"`
	Answer     string `json:"answer"`
	// OldPassword and NewPassword are change_password's.
	OldPassword string `json:"oldPassword"`
	NewPassword string `json:"newPassword"`
	Options     struct {
		WarnBeforePasswordExpired bool `json:"warnBeforePasswordExpired"`
		MultiOptionalFactorEnroll bool `json:"multiOptionalFactorEnroll"`
	} `json:"options"`
	// WebAuthn / U2F assertion fields; never accepted.
	SignatureData string `json:"signatureData"`
}

// newTx starts a transaction. Called with k.mu held.
func (k *Okta) newTx(u *oktaUser, status string) *oktaTx {
	now := time.Now()
	for t, tx := range k.txs {
		if now.After(tx.expires) {
			delete(k.txs, t)
		}
	}
	for t, st := range k.tokens {
		if now.After(st.expires) {
			delete(k.tokens, t)
		}
	}
	tx := &oktaTx{token: k.stateToken("00"), user: u, status: status, expires: now.Add(oktaTxTTL)}
	k.txs[tx.token] = tx
	return tx
}

// stateToken makes a token shaped like Okta's, with the '-' at the tenth
// place that its pages escape as \x2D. Called with k.mu held.
func (k *Okta) stateToken(prefix string) string {
	t := newToken()
	s := prefix + t[:7] + "-" + t[7:]
	k.keep(s)
	return s
}

// liveTx returns the transaction named by token, or nil when it is
// unknown or expired. Called with k.mu held.
func (k *Okta) liveTx(token string) *oktaTx {
	tx := k.txs[token]
	if tx == nil {
		return nil
	}
	now := time.Now()
	if now.After(tx.expires) {
		delete(k.txs, token)
		return nil
	}
	tx.expires = now.Add(oktaTxTTL) // Okta's sliding expiry: every call extends it
	return tx
}

func decodeAuthn(r *http.Request) (authnReq, error) {
	var b authnReq
	if r.Method != http.MethodPost {
		return b, errMethodNotAllowed
	}
	if r.Body == nil {
		return b, nil
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16))
	if err := dec.Decode(&b); err != nil && !errors.Is(err, io.EOF) {
		return b, err
	}
	return b, nil
}

var errMethodNotAllowed = errors.New("method not allowed")

func (k *Okta) badRequest(w http.ResponseWriter, err error) {
	if err == errMethodNotAllowed {
		k.apiError(w, http.StatusMethodNotAllowed, errMethod)
		return
	}
	k.apiError(w, http.StatusBadRequest, errBadRequest)
}

// limited answers 429 when the rate limit is spent. Called without k.mu.
func (k *Okta) limited(w http.ResponseWriter) bool {
	if k.o.RateLimit <= 0 {
		return false
	}
	k.mu.Lock()
	now := k.o.Now() // SAMLOptions.Now: a test's fake clock moves the window
	keep := k.rate[:0]
	for _, t := range k.rate {
		if now.Sub(t) < k.o.RateWindow {
			keep = append(keep, t)
		}
	}
	k.rate = keep
	over := len(k.rate) >= k.o.RateLimit
	if over {
		k.stats.RateLimited++
	} else {
		k.rate = append(k.rate, now)
	}
	remaining := max(k.o.RateLimit-len(k.rate), 0)
	reset := now.Add(k.o.RateWindow)
	if len(k.rate) > 0 {
		reset = k.rate[0].Add(k.o.RateWindow)
	}
	k.mu.Unlock()
	h := w.Header()
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(k.o.RateLimit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	// Okta's reset is a UTC epoch second; round up so a client waiting
	// until then is never early.
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Add(time.Second-1).Unix(), 10))
	h.Set("Date", now.UTC().Format(http.TimeFormat)) // the same clock as the reset
	if over {
		k.apiError(w, http.StatusTooManyRequests, errRateLimit)
	}
	return over
}

// authn is POST /api/v1/authn: primary authentication, or the state of a
// transaction named by stateToken (step-up, UNAUTHENTICATED).
func (k *Okta) authn(w http.ResponseWriter, r *http.Request) {
	b, err := decodeAuthn(r)
	if err != nil {
		k.badRequest(w, err)
		return
	}
	if k.limited(w) {
		return
	}
	k.setDT(w, r)
	k.mu.Lock()
	defer k.mu.Unlock()
	var tx *oktaTx
	if b.StateToken != "" {
		if tx = k.liveTx(b.StateToken); tx == nil {
			k.apiError(w, http.StatusUnauthorized, errInvalidToken)
			return
		}
		if b.Username == "" && b.Password == "" {
			k.writeTx(w, tx)
			return
		}
		if tx.status != "UNAUTHENTICATED" {
			k.apiError(w, http.StatusForbidden, errState)
			return
		}
	}
	if b.Username == "" || b.Password == "" {
		k.apiError(w, http.StatusBadRequest, oktaErr{"E0000001", "Api validation failed: authRequest"},
			"username: The field cannot be left blank", "password: The field cannot be left blank")
		return
	}
	k.stats.PasswordPosts++
	u := k.users[strings.ToLower(b.Username)]
	if u != nil && u.Status == "LOCKED_OUT" {
		// The "show lockout failures" password policy.
		writeJSON(w, http.StatusOK, map[string]any{
			"status": "LOCKED_OUT",
			"_links": map[string]any{"next": k.link("unlock", "/api/v1/authn/recovery/unlock", "POST")},
		})
		return
	}
	if u == nil || u.Password == "" || b.Password != u.Password {
		k.apiError(w, http.StatusUnauthorized, errAuthFailed)
		return
	}
	if tx == nil {
		tx = k.newTx(u, "")
	}
	tx.user = u
	k.afterPassword(tx, b.Options.WarnBeforePasswordExpired)
	k.writeTx(w, tx)
}

// afterPassword moves tx to its first state after a good password.
// Called with k.mu held.
func (k *Okta) afterPassword(tx *oktaTx, warn bool) {
	u := tx.user
	switch {
	case u.Status == "MFA_ENROLL":
		tx.status = "MFA_ENROLL"
	case len(u.factors) > 0:
		tx.status = "MFA_REQUIRED"
	default:
		k.afterMFA(tx, warn)
	}
	tx.warn = warn
}

// afterMFA moves tx past the factor. Called with k.mu held.
func (k *Okta) afterMFA(tx *oktaTx, warn bool) {
	switch {
	case tx.sid != "": // a step-up of a live session only re-checks the factor
		tx.status = "SUCCESS"
	case tx.user.Status == "PASSWORD_EXPIRED":
		tx.status = "PASSWORD_EXPIRED"
	case tx.user.Status == "PASSWORD_WARN" && warn:
		tx.status = "PASSWORD_WARN"
	default:
		tx.status = "SUCCESS"
	}
	tx.factor, tx.sent = nil, false
}

// authnSub routes /api/v1/authn/*.
func (k *Okta) authnSub(w http.ResponseWriter, r *http.Request, rest string) {
	b, err := decodeAuthn(r)
	if err != nil {
		k.badRequest(w, err)
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	tx := k.liveTx(b.StateToken)
	if tx == nil {
		k.apiError(w, http.StatusUnauthorized, errInvalidToken)
		return
	}
	if tx.user == nil { // UNAUTHENTICATED: only /api/v1/authn moves it on
		k.apiError(w, http.StatusForbidden, errState)
		return
	}
	switch {
	case strings.HasPrefix(rest, "factors/"):
		id, action, _ := strings.Cut(strings.TrimPrefix(rest, "factors/"), "/")
		var f *oktaFactor
		for _, c := range tx.user.factors {
			if c.id == id {
				f = c
			}
		}
		if f == nil {
			k.apiError(w, http.StatusNotFound, oktaErr{"E0000007", "Not found: Resource not found: " + id + " (UserFactor)"})
			return
		}
		if tx.status != "MFA_REQUIRED" && tx.status != "MFA_CHALLENGE" {
			k.apiError(w, http.StatusForbidden, errState)
			return
		}
		switch action {
		case "verify":
			k.verify(w, tx, f, b)
		case "verify/resend":
			k.resend(w, tx, f)
		default:
			k.notFoundAPI(w, r)
		}
	case rest == "skip":
		if tx.status != "PASSWORD_WARN" {
			k.apiError(w, http.StatusForbidden, errState)
			return
		}
		tx.status = "SUCCESS"
		k.writeTx(w, tx)
	case rest == "cancel":
		delete(k.txs, tx.token)
		writeJSON(w, http.StatusOK, map[string]any{})
	case rest == "previous":
		if tx.status != "MFA_CHALLENGE" {
			k.apiError(w, http.StatusForbidden, errState)
			return
		}
		tx.status, tx.factor, tx.sent = "MFA_REQUIRED", nil, false
		k.writeTx(w, tx)
	case rest == "credentials/change_password":
		if tx.status != "PASSWORD_EXPIRED" && tx.status != "PASSWORD_WARN" {
			k.apiError(w, http.StatusForbidden, errState)
			return
		}
		if b.OldPassword != tx.user.Password || b.NewPassword == "" || b.NewPassword == b.OldPassword {
			k.apiError(w, http.StatusForbidden, oktaErr{"E0000014", "Update of credentials failed"},
				"Old Password is not correct")
			return
		}
		// The emulator keeps the configured password, so tests can log
		// in again; only the transaction moves on.
		tx.status = "SUCCESS"
		k.writeTx(w, tx)
	default:
		k.notFoundAPI(w, r)
	}
}

func (k *Okta) notFoundAPI(w http.ResponseWriter, r *http.Request) {
	k.apiError(w, http.StatusNotFound, oktaErr{"E0000007", "Not found: Resource not found: " + r.URL.Path + " (GenericUnqualifiedResource)"})
}

// verify is POST /api/v1/authn/factors/{id}/verify. Called with k.mu held.
func (k *Okta) verify(w http.ResponseWriter, tx *oktaTx, f *oktaFactor, b authnReq) {
	if tx.factor != f {
		tx.factor, tx.sent, tx.polls, tx.shown, tx.result = f, false, 0, false, ""
	}
	switch f.Type {
	case "push":
		k.verifyPush(w, tx, f)
		return
	case "sms", "call", "email":
		if b.PassCode == "" {
			k.sendCode(tx, f)
			tx.status = "MFA_CHALLENGE"
			k.writeTx(w, tx)
			return
		}
		k.checkPasscode(w, tx, f, b.PassCode, tx.sent)
	case "token:software:totp", "token:hardware":
		if b.PassCode == "" {
			// Harmless, as saml2aws's first POST shows: the state says
			// what to post next.
			tx.status = "MFA_CHALLENGE"
			k.writeTx(w, tx)
			return
		}
		k.checkPasscode(w, tx, f, b.PassCode, true)
	case "question":
		if b.Answer == "" {
			k.apiError(w, http.StatusForbidden, errPasscode, "Your answer doesn't match our records. Please try again.")
			return
		}
		k.stats.FactorVerifies++
		if b.Answer != f.Code {
			k.stats.BadPasscodes++
			k.apiError(w, http.StatusForbidden, errPasscode, "Your answer doesn't match our records. Please try again.")
			return
		}
		k.afterMFA(tx, tx.warn)
		k.writeTx(w, tx)
	case "webauthn":
		if b.SignatureData != "" {
			k.stats.FactorVerifies++
			k.apiError(w, http.StatusForbidden, oktaErr{"E0000068", "Invalid Passcode/Answer"}, "Verification failed.")
			return
		}
		tx.status, tx.sent = "MFA_CHALLENGE", true
		k.writeTx(w, tx)
	case "web", "claims_provider":
		// Duo: the traditional challenge needs Duo's iframe and polls
		// wait forever; the Universal Prompt's next link leads to Duo.
		tx.status, tx.sent = "MFA_CHALLENGE", true
		k.writeTx(w, tx)
	}
}

// checkPasscode verifies a one-time code. Called with k.mu held.
func (k *Okta) checkPasscode(w http.ResponseWriter, tx *oktaTx, f *oktaFactor, code string, ready bool) {
	k.stats.FactorVerifies++
	want := f.Code
	if !ready || want == "" || code != want {
		k.stats.BadPasscodes++
		k.apiError(w, http.StatusForbidden, errPasscode, "Your passcode doesn't match our records. Please try again.")
		return
	}
	k.afterMFA(tx, tx.warn)
	k.writeTx(w, tx)
}

// sendCode "sends" an sms/call/email code. Called with k.mu held.
func (k *Okta) sendCode(tx *oktaTx, f *oktaFactor) {
	k.stats.CodesSent++
	tx.sent = true
}

// verifyPush sends a push on the first POST and answers polls after.
// Called with k.mu held.
func (k *Okta) verifyPush(w http.ResponseWriter, tx *oktaTx, f *oktaFactor) {
	tx.status = "MFA_CHALLENGE"
	if !tx.sent {
		tx.sent, tx.polls, tx.shown = true, 0, false
		tx.result = "WAITING"
		k.writeTx(w, tx)
		return
	}
	k.stats.Polls++
	tx.polls++
	tx.result = pushOutcome(f, tx.polls, &tx.shown, k.o.PushTimeout)
	switch tx.result {
	case "SUCCESS":
		k.afterMFA(tx, tx.warn)
		tx.result = ""
	case "REJECTED", "TIMEOUT":
		tx.sent = false // the next verify sends a new push
	}
	k.writeTx(w, tx)
}

// pushOutcome is the factorResult of poll number n (1-based) for f. shown
// records that a WAITING answer carried the number challenge.
func pushOutcome(f *oktaFactor, n int, shown *bool, timeout int) string {
	switch f.Push {
	case "timeout":
		if n > timeout {
			return "TIMEOUT"
		}
		*shown = *shown || f.CorrectAnswer > 0
		return "WAITING"
	case "reject":
		if n > f.PushAfter {
			return "REJECTED"
		}
	default:
		if n > f.PushAfter && (f.CorrectAnswer == 0 || *shown) {
			return "SUCCESS"
		}
	}
	*shown = *shown || f.CorrectAnswer > 0
	return "WAITING"
}

// resend is POST .../verify/resend. Called with k.mu held.
func (k *Okta) resend(w http.ResponseWriter, tx *oktaTx, f *oktaFactor) {
	if tx.status != "MFA_CHALLENGE" || tx.factor != f {
		k.apiError(w, http.StatusForbidden, errState)
		return
	}
	switch f.Type {
	case "sms", "call", "email":
		k.sendCode(tx, f)
	case "push":
		tx.sent, tx.polls, tx.shown, tx.result = true, 0, false, "WAITING"
	default:
		k.apiError(w, http.StatusForbidden, errState)
		return
	}
	k.writeTx(w, tx)
}

// setDT sets Okta's device token cookie once per client.
func (k *Okta) setDT(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie("DT"); err == nil {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "DT", Value: "DI" + newToken(), Path: "/", HttpOnly: true,
		Expires: time.Now().AddDate(5, 0, 0)})
}

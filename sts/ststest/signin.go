package ststest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Sign-in token lifetime: AWS documents that a sign-in token must be used
// within 15 minutes.
const signinTokenLifetime = 15 * time.Minute

// signinPath is where the emulated AWS sign-in federation endpoint lives on
// the same server as STS.
const signinPath = "/federation"

// SigninURL is the emulated federation endpoint (https://signin.aws.amazon.com/federation
// in AWS), for SAML2STS_SIGNIN_URL.
func (s *Server) SigninURL() string { return s.ts.URL + signinPath }

// federation emulates the custom identity broker flow of the AWS sign-in
// service: Action=getSigninToken exchanges issued credentials for a sign-in
// token; Action=login redeems the token with a 302 to Destination. Calls
// counts them under their Action names. Failures are 400 with a short text
// body, as AWS answers them (its body is an HTML page).
func (s *Server) federation(w http.ResponseWriter, r *http.Request, form url.Values) {
	action := form.Get("Action")
	s.mu.Lock()
	s.calls[action]++
	s.mu.Unlock()
	switch action {
	case "getSigninToken":
		s.getSigninToken(w, form)
	case "login":
		s.login(w, r, form)
	default:
		signinError(w, "Invalid Action parameter")
	}
}

func (s *Server) getSigninToken(w http.ResponseWriter, form url.Values) {
	now := s.o.Now()
	if v := form.Get("SessionDuration"); v != "" {
		// AWS accepts 900..43200 for AssumeRole* credentials.
		n, err := strconv.Atoi(v)
		if err != nil || n < int(minSession/time.Second) || n > int(maxSession/time.Second) {
			signinError(w, "Invalid SessionDuration parameter")
			return
		}
	}
	var sess struct {
		ID    string `json:"sessionId"`
		Key   string `json:"sessionKey"`
		Token string `json:"sessionToken"`
	}
	if err := json.Unmarshal([]byte(form.Get("Session")), &sess); err != nil || sess.ID == "" {
		signinError(w, "Invalid credentials parameter")
		return
	}
	c, ok := s.Lookup(sess.ID)
	if !ok || c.SecretAccessKey != sess.Key || c.SessionToken != sess.Token || !now.Before(c.Expiration) {
		// AWS does not say which: unknown, mismatched and expired all look alike.
		signinError(w, "Invalid credentials parameter")
		return
	}
	tok := randSecret(64)
	s.mu.Lock()
	if s.tokens == nil {
		s.tokens = map[string]signinToken{}
	}
	s.tokens[tok] = signinToken{akid: c.AccessKeyID, exp: now.Add(signinTokenLifetime)}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"SigninToken": tok})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, form url.Values) {
	s.mu.Lock()
	t, ok := s.tokens[form.Get("SigninToken")]
	s.mu.Unlock()
	if !ok || !s.o.Now().Before(t.exp) {
		signinError(w, "Invalid SigninToken parameter")
		return
	}
	dest, err := url.Parse(form.Get("Destination"))
	if err != nil || !dest.IsAbs() || (dest.Scheme != "https" && dest.Scheme != "http") || dest.Host == "" {
		signinError(w, "Invalid Destination parameter")
		return
	}
	http.Redirect(w, r, dest.String(), http.StatusFound)
}

// SigninCredentials says which issued credentials a sign-in token was made
// from; false for unknown tokens.
func (s *Server) SigninCredentials(token string) (IssuedCredentials, bool) {
	s.mu.Lock()
	t, ok := s.tokens[token]
	s.mu.Unlock()
	if !ok {
		return IssuedCredentials{}, false
	}
	return s.Lookup(t.akid)
}

type signinToken struct {
	akid string
	exp  time.Time
}

func signinError(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	w.Write([]byte(msg + ": the request sent by the client was syntactically incorrect.\n"))
}

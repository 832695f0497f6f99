package ststest

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	apiVersion = "2011-06-15"
	xmlns      = "https://sts.amazonaws.com/doc/2011-06-15/"

	// DefaultAudience is the global AWS sign-in SAML endpoint.
	DefaultAudience = "https://signin.aws.amazon.com/saml"

	defaultMaxSession = time.Hour // IAM's default MaxSessionDuration
	defaultSession    = time.Hour // STS's default DurationSeconds
	minSession        = 15 * time.Minute
	maxSession        = 12 * time.Hour
	maxBody           = 1 << 20
)

// Options configures the emulated account(s).
type Options struct {
	// Providers maps saml-provider ARNs to the IdP signing certificate
	// uploaded to IAM with the provider's metadata.
	Providers map[string]*x509.Certificate
	// MaxSessionDuration per role ARN; roles not listed allow 1h.
	MaxSessionDuration map[string]time.Duration
	// DenyRoles are roles whose trust policy does not allow the caller.
	DenyRoles []string
	// Now is the emulator's clock; default time.Now.
	Now func() time.Time
	// Audience is accepted as SAML Recipient/Destination/Audience in
	// addition to the AWS sign-in endpoints; default DefaultAudience.
	Audience string
	// ChainTrust maps a role ARN to the role ARNs whose sessions may
	// sts:AssumeRole into it (role chaining); a role not listed trusts no
	// one.
	ChainTrust map[string][]string
	// ExternalIDs maps a chain target role to the sts:ExternalId its trust
	// policy requires.
	ExternalIDs map[string]string
	// AccountNames are the aliases the sign-in role chooser (/saml) shows,
	// by account ID.
	AccountNames map[string]string
	// ChooserPage picks the role chooser generation /saml serves:
	// ChooserLegacy (default) or ChooserNextJS.
	ChooserPage Chooser
}

// IssuedCredentials are credentials the emulator handed out.
type IssuedCredentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
	RoleARN         string
	PrincipalARN    string
	SessionName     string
	Account         string
	AssumedRoleARN  string // arn:<partition>:sts::<account>:assumed-role/<role>/<session>
	AssumedRoleID   string // AROA...:<session>
	// SourceRoleARN is the role whose session assumed this one by role
	// chaining (AssumeRole); "" for AssumeRoleWithSAML.
	SourceRoleARN  string
	SourceIdentity string
	ExternalID     string
}

// Server is an STS Query API emulator on a loopback httptest server. It
// implements AssumeRoleWithSAML (verifying the assertion's XML signature) and
// GetCallerIdentity (verifying SigV4), with AWS's response and error shapes,
// and, at [Server.SigninURL], the AWS sign-in federation endpoint that turns
// issued credentials into a console login URL.
// Error messages are AWS's where they are documented or widely reported
// (AccessDenied, ExpiredTokenException, InvalidIdentityToken for signatures,
// providers and RoleSessionName, ValidationError for durations, the SigV4
// errors); the rest are close paraphrases.
type Server struct {
	o  Options
	ts *httptest.Server

	mu      sync.Mutex
	calls   map[string]int
	issued  []IssuedCredentials
	regions []string
	tokens  map[string]signinToken // sign-in tokens from getSigninToken
}

// New starts a server; Close it when done.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Audience == "" {
		o.Audience = DefaultAudience
	}
	s := &Server{o: o, calls: map[string]int{}}
	s.ts = httptest.NewServer(s)
	return s
}

// URL is the endpoint to use as AWS_ENDPOINT_URL_STS.
func (s *Server) URL() string { return s.ts.URL }

// Close shuts the server down.
func (s *Server) Close() { s.ts.Close() }

// Calls counts requests for an action, failed ones included.
func (s *Server) Calls(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[action]
}

// Issued lists the credentials handed out, oldest first.
func (s *Server) Issued() []IssuedCredentials {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.issued)
}

// Regions lists the SigV4 scope region of each signed request that passed
// verification, in order.
func (s *Server) Regions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.regions)
}

// Lookup finds issued credentials by access key ID.
func (s *Server) Lookup(accessKeyID string) (IssuedCredentials, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.issued {
		if c.AccessKeyID == accessKeyID {
			return c, true
		}
	}
	return IssuedCredentials{}, false
}

// Verify checks a request another emulator received (e.g. an OpenSearch
// fake) against the credentials issued here, at the emulator's clock; any
// well-formed region is accepted. Errors are *SigError.
func (s *Server) Verify(r *http.Request, body []byte, service string) (IssuedCredentials, error) {
	sc, err := verifySigV4(r, body, s.lookup, service, "", s.o.Now())
	if err != nil {
		return IssuedCredentials{}, err
	}
	c, _ := s.Lookup(sc.akid)
	return c, nil
}

func (s *Server) lookup(akid string) (secret, token string, exp time.Time, ok bool) {
	c, ok := s.Lookup(akid)
	return c.SecretAccessKey, c.SessionToken, c.Expiration, ok
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeError(w, &apiErr{413, "RequestEntityTooLarge", "Request body too large"})
		return
	}
	form := r.URL.Query()
	if r.Method == http.MethodPost {
		if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			writeError(w, &apiErr{400, "InvalidAction", "Only the AWS Query protocol (application/x-www-form-urlencoded) is supported"})
			return
		}
		bf, err := url.ParseQuery(string(body))
		if err != nil {
			writeError(w, &apiErr{400, "MalformedQueryString", "Request body is not form-encoded"})
			return
		}
		for k, v := range bf {
			form[k] = append(form[k], v...)
		}
	}
	if r.URL.Path == chooserPath {
		s.chooser(w, form)
		return
	}
	if r.URL.Path == signinPath {
		s.federation(w, r, form)
		return
	}
	action := form.Get("Action")
	s.mu.Lock()
	s.calls[action]++
	s.mu.Unlock()
	if v := form.Get("Version"); v != "" && v != apiVersion {
		writeError(w, &apiErr{400, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", action, v)})
		return
	}
	switch action {
	case "AssumeRoleWithSAML":
		s.assumeRoleWithSAML(w, form)
	case "GetCallerIdentity":
		s.getCallerIdentity(w, r, body)
	case "AssumeRole":
		s.assumeRole(w, r, body, form)
	case "":
		writeError(w, &apiErr{400, "MissingAction", "Missing Action"})
	default:
		writeError(w, &apiErr{400, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", action, apiVersion)})
	}
}

func (s *Server) assumeRoleWithSAML(w http.ResponseWriter, form url.Values) {
	now := s.o.Now()
	roleARN, principal, assertion := form.Get("RoleArn"), form.Get("PrincipalArn"), form.Get("SAMLAssertion")
	for _, p := range []struct{ name, v string }{{"roleArn", roleARN}, {"principalArn", principal}, {"sAMLAssertion", assertion}} {
		if p.v == "" {
			writeError(w, &apiErr{400, "ValidationError", fmt.Sprintf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", p.name)})
			return
		}
	}
	dur := time.Duration(0)
	if v := form.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			writeError(w, &apiErr{400, "ValidationError", fmt.Sprintf("Value '%s' for parameter DurationSeconds is invalid.", v)})
			return
		case time.Duration(n)*time.Second < minSession:
			writeError(w, &apiErr{400, "ValidationError", fmt.Sprintf("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", n)})
			return
		case time.Duration(n)*time.Second > maxSession:
			writeError(w, &apiErr{400, "ValidationError", fmt.Sprintf("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200", n)})
			return
		}
		dur = time.Duration(n) * time.Second
	}
	cert, ok := s.o.Providers[principal]
	if !ok || cert == nil {
		writeError(w, invalidToken("Specified provider doesn't exist"))
		return
	}
	c, aerr := s.verifyAssertion(assertion, cert, now)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	granted := slices.Contains(c.roles, [2]string{roleARN, principal})
	if !granted || slices.Contains(s.o.DenyRoles, roleARN) {
		writeError(w, &apiErr{403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML"})
		return
	}
	max := defaultMaxSession
	if m, ok := s.o.MaxSessionDuration[roleARN]; ok {
		max = m
	}
	if dur > max {
		writeError(w, &apiErr{400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."})
		return
	}
	if dur == 0 {
		dur = min(defaultSession, max)
	}
	exp := now.Add(dur).UTC().Truncate(time.Second)
	if !c.sessionEnd.IsZero() && c.sessionEnd.Before(exp) {
		exp = c.sessionEnd.UTC().Truncate(time.Second) // SessionNotOnOrAfter can only shorten
	}

	ic := newSession(roleARN, c.sessionName, exp)
	ic.PrincipalARN, ic.SourceIdentity = principal, c.sourceIdentity
	account := ic.Account
	s.mu.Lock()
	s.issued = append(s.issued, ic)
	s.mu.Unlock()

	providerName := principal[strings.LastIndex(principal, "/")+1:]
	nq := sha1.Sum([]byte(c.issuer + account + "/" + providerName))
	res := assumeResult{
		Credentials: credentialsXML{
			AccessKeyID:     ic.AccessKeyID,
			SecretAccessKey: ic.SecretAccessKey,
			SessionToken:    ic.SessionToken,
			Expiration:      ic.Expiration.Format(time.RFC3339),
		},
		AssumedRoleUser: assumedRoleUser{Arn: ic.AssumedRoleARN, AssumedRoleID: ic.AssumedRoleID},
		Audience:        c.recipient,
		Issuer:          c.issuer,
		Subject:         c.nameID,
		SubjectType:     strings.TrimPrefix(c.nameIDFormat, "urn:oasis:names:tc:SAML:2.0:nameid-format:"),
		NameQualifier:   base64.StdEncoding.EncodeToString(nq[:]),
		SourceIdentity:  c.sourceIdentity,
	}
	writeXML(w, http.StatusOK, assumeResponse{Result: res, Meta: meta{RequestID: requestID()}})
}

// caller verifies the SigV4 signature of a signed STS call, answering
// AWS's error when it fails.
func (s *Server) caller(w http.ResponseWriter, r *http.Request, body []byte) (scope, bool) {
	sc, err := verifySigV4(r, body, s.lookup, "sts", "", s.o.Now())
	if err != nil {
		var se *SigError
		if errors.As(err, &se) {
			writeError(w, &apiErr{se.Status, se.Code, se.Message})
		} else {
			writeError(w, &apiErr{500, "InternalFailure", "internal error"})
		}
		return scope{}, false
	}
	return sc, true
}

func (s *Server) getCallerIdentity(w http.ResponseWriter, r *http.Request, body []byte) {
	sc, ok := s.caller(w, r, body)
	if !ok {
		return
	}
	c, _ := s.Lookup(sc.akid)
	s.mu.Lock()
	s.regions = append(s.regions, sc.region)
	s.mu.Unlock()
	writeXML(w, http.StatusOK, identityResponse{
		Result: identityResult{Arn: c.AssumedRoleARN, UserID: c.AssumedRoleID, Account: c.Account},
		Meta:   meta{RequestID: requestID()},
	})
}

// AWS Query response shapes.
type (
	meta struct {
		RequestID string `xml:"RequestId"`
	}
	credentialsXML struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	}
	assumedRoleUser struct {
		Arn           string `xml:"Arn"`
		AssumedRoleID string `xml:"AssumedRoleId"`
	}
	assumeResult struct {
		Issuer          string          `xml:"Issuer"`
		AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
		Credentials     credentialsXML  `xml:"Credentials"`
		Audience        string          `xml:"Audience"`
		SubjectType     string          `xml:"SubjectType,omitempty"`
		NameQualifier   string          `xml:"NameQualifier"`
		SourceIdentity  string          `xml:"SourceIdentity,omitempty"`
		Subject         string          `xml:"Subject"`
	}
	chainResult struct {
		AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
		Credentials     credentialsXML  `xml:"Credentials"`
		SourceIdentity  string          `xml:"SourceIdentity,omitempty"`
	}
	chainResponse struct {
		XMLName xml.Name    `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleResponse"`
		Result  chainResult `xml:"AssumeRoleResult"`
		Meta    meta        `xml:"ResponseMetadata"`
	}
	assumeResponse struct {
		XMLName xml.Name     `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleWithSAMLResponse"`
		Result  assumeResult `xml:"AssumeRoleWithSAMLResult"`
		Meta    meta         `xml:"ResponseMetadata"`
	}
	identityResult struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	}
	identityResponse struct {
		XMLName xml.Name       `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetCallerIdentityResponse"`
		Result  identityResult `xml:"GetCallerIdentityResult"`
		Meta    meta           `xml:"ResponseMetadata"`
	}
	errorResponse struct {
		XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
		Error   struct {
			Type    string `xml:"Type"`
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
		RequestID string `xml:"RequestId"`
	}
)

func writeError(w http.ResponseWriter, e *apiErr) {
	var er errorResponse
	er.Error.Type = "Sender"
	if e.status >= 500 {
		er.Error.Type = "Receiver"
	}
	er.Error.Code, er.Error.Message = e.code, e.message
	er.RequestID = requestID()
	writeXML(w, e.status, er)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, "marshal: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	if rid := requestIDOf(v); rid != "" {
		w.Header().Set("x-amzn-RequestId", rid)
	}
	w.WriteHeader(status)
	w.Write(b)
}

func requestIDOf(v any) string {
	switch r := v.(type) {
	case assumeResponse:
		return r.Meta.RequestID
	case identityResponse:
		return r.Meta.RequestID
	case chainResponse:
		return r.Meta.RequestID
	case errorResponse:
		return r.RequestID
	}
	return ""
}

// splitRoleARN returns partition, account and role name (path dropped).
func splitRoleARN(arn string) (partition, account, name string) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 {
		return "aws", "", arn
	}
	res := p[5]
	return p[1], p[4], res[strings.LastIndex(res, "/")+1:]
}

// roleID is a stable fake unique ID for a role, like IAM's AROA... IDs.
func roleID(roleARN string) string {
	h := sha1.Sum([]byte(roleARN))
	return "AROA" + base32.StdEncoding.EncodeToString(h[:])[:17]
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func randBase32(n int) string {
	return base32.StdEncoding.EncodeToString(randBytes(n))[:n]
}

func randSecret(n int) string {
	return base64.StdEncoding.EncodeToString(randBytes(n))[:n]
}

func requestID() string {
	b := hex.EncodeToString(randBytes(16))
	return b[:8] + "-" + b[8:12] + "-" + b[12:16] + "-" + b[16:20] + "-" + b[20:]
}

package ststest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/textproto"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// SigError is a failed SigV4 check, as AWS reports it.
type SigError struct {
	Code    string // e.g. "SignatureDoesNotMatch"
	Message string // AWS's text
	Status  int    // HTTP status
}

func (e *SigError) Error() string { return e.Code + ": " + e.Message }

// ExitCode implements the exit-status contract (internal/exitcode): AWS refused.
func (e *SigError) ExitCode() int { return exitcode.Refused }

const (
	amzDateFormat = "20060102T150405Z"
	maxSkew       = 15 * time.Minute
	unsigned      = "UNSIGNED-PAYLOAD"
)

// AWS's messages for the common failures.
const (
	msgInvalidToken = "The security token included in the request is invalid."
	msgExpiredToken = "The security token included in the request is expired"
	msgBadSignature = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

var scopeRegionRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`) })

// VerifySigV4 checks a request signed with AWS Signature Version 4 in the
// Authorization header, the way AWS does, and returns the access key ID.
// body is the request body already read. lookup returns the secret, session
// token ("" for long-term keys) and expiry (zero: none) of a key. service
// must match the credential scope when not empty; region likewise, and when
// empty any well-formed region is accepted (clients sign with whatever region
// they were configured with). The signature is recomputed with
// aws-sdk-go-v2's signer at the request's X-Amz-Date. Errors are *SigError.
// Presigned (query string) requests are not supported.
func VerifySigV4(r *http.Request, body []byte, lookup func(akid string) (secret, token string, exp time.Time, ok bool), service, region string, now time.Time) (akid string, err error) {
	sc, err := verifySigV4(r, body, lookup, service, region, now)
	return sc.akid, err
}

// scope is the parsed Credential of an Authorization header.
type scope struct {
	akid, date, region, service string
}

func verifySigV4(r *http.Request, body []byte, lookup func(string) (string, string, time.Time, bool), service, region string, now time.Time) (scope, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return scope{}, &SigError{"MissingAuthenticationToken", "Request is missing Authentication Token", http.StatusForbidden}
	}
	algo, rest, _ := strings.Cut(auth, " ")
	if algo != "AWS4-HMAC-SHA256" {
		return scope{}, &SigError{"IncompleteSignature", fmt.Sprintf("Unsupported AWS 'algorithm': '%s'", algo), http.StatusBadRequest}
	}
	params := map[string]string{}
	for _, kv := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		params[k] = v
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if params[k] == "" {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", k))
		}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return scope{}, &SigError{"IncompleteSignature", strings.Join(missing, " ") + " Authorization=" + algo, http.StatusBadRequest}
	}
	parts := strings.Split(params["Credential"], "/")
	if len(parts) != 5 {
		return scope{}, &SigError{"IncompleteSignature", fmt.Sprintf("Credential should have exactly 5 parts, not %d.", len(parts)), http.StatusBadRequest}
	}
	sc := scope{akid: parts[0], date: parts[1], region: parts[2], service: parts[3]}
	signedAt, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return sc, &SigError{"IncompleteSignature", fmt.Sprintf("Date must be in ISO-8601 'basic format'. Got '%s'.", amzDate), http.StatusBadRequest}
	}
	deny := func(msg string) error { return &SigError{"SignatureDoesNotMatch", msg, http.StatusForbidden} }
	switch {
	case sc.date != amzDate[:8]:
		return sc, deny(fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", sc.date, amzDate[:8], amzDate))
	case !scopeRegionRe().MatchString(sc.region) || (region != "" && sc.region != region):
		return sc, deny("Credential should be scoped to a valid region. ")
	case service != "" && sc.service != service:
		return sc, deny(fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", service))
	case parts[4] != "aws4_request":
		return sc, deny(fmt.Sprintf("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'. ", parts[4]))
	}
	signed := strings.Split(params["SignedHeaders"], ";")
	if !slices.Contains(signed, "host") {
		return sc, deny("'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}

	secret, token, exp, ok := lookup(sc.akid)
	if !ok {
		return sc, &SigError{"InvalidClientTokenId", msgInvalidToken, http.StatusForbidden}
	}
	if !exp.IsZero() && !now.Before(exp) {
		return sc, &SigError{"ExpiredToken", msgExpiredToken, http.StatusForbidden}
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Amz-Security-Token")), []byte(token)) != 1 {
		return sc, &SigError{"InvalidClientTokenId", msgInvalidToken, http.StatusForbidden}
	}
	if d := now.Sub(signedAt); d > maxSkew {
		return sc, deny(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			amzDate, now.Add(-maxSkew).UTC().Format(amzDateFormat), now.UTC().Format(amzDateFormat)))
	} else if d < -maxSkew {
		return sc, deny(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			amzDate, now.Add(maxSkew).UTC().Format(amzDateFormat), now.UTC().Format(amzDateFormat)))
	}

	want, err := resign(r, body, signed, secret, token, sc, signedAt)
	if err != nil {
		return sc, deny(msgBadSignature)
	}
	if !hmac.Equal([]byte(want), []byte(params["Signature"])) {
		return sc, deny(msgBadSignature)
	}
	return sc, nil
}

// resign rebuilds the request from exactly the headers the client signed and
// signs it again; the SDK signer adds host, x-amz-date, the session token and
// a non-zero content-length itself.
func resign(r *http.Request, body []byte, signed []string, secret, token string, sc scope, at time.Time) (string, error) {
	u := *r.URL
	u.Scheme = "http"
	if r.TLS != nil {
		u.Scheme = "https"
	}
	u.Host = r.Host
	req, err := http.NewRequest(r.Method, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Host = r.Host
	req.ContentLength = 0
	signsToken := false
	for _, h := range signed {
		switch h {
		case "host":
		case "content-length":
			if _, err := fmt.Sscan(r.Header.Get("Content-Length"), &req.ContentLength); err != nil {
				req.ContentLength = int64(len(body))
			}
		case "x-amz-security-token":
			signsToken = true
			fallthrough
		default:
			req.Header[textproto.CanonicalMIMEHeaderKey(h)] = r.Header.Values(h)
		}
	}
	hash := r.Header.Get("X-Amz-Content-Sha256")
	if hash != unsigned {
		sum := sha256.Sum256(body)
		hash = hex.EncodeToString(sum[:])
	}
	creds := aws.Credentials{AccessKeyID: sc.akid, SecretAccessKey: secret, SessionToken: token}
	err = v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, sc.service, sc.region, at,
		func(o *v4.SignerOptions) { o.DisableSessionToken = !signsToken })
	if err != nil {
		return "", err
	}
	_, sig, ok := strings.Cut(req.Header.Get("Authorization"), "Signature=")
	if !ok {
		return "", fmt.Errorf("signer produced no signature")
	}
	if got := authParam(req.Header.Get("Authorization"), "SignedHeaders"); got != strings.Join(signed, ";") {
		// The SDK would sign a different header set (e.g. an empty
		// content-length or User-Agent was signed): cannot match.
		return "", fmt.Errorf("signed headers %q cannot be reproduced (%q)", strings.Join(signed, ";"), got)
	}
	return sig, nil
}

func authParam(auth, name string) string {
	_, rest, _ := strings.Cut(auth, " ")
	for _, kv := range strings.Split(rest, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == name {
			return v
		}
	}
	return ""
}

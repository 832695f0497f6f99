package opensearchtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"

	"github.com/saml2sts/saml2sts/sts/ststest"
)

// AWS's texts (see the anchors doc §6).
const (
	msgInvalidToken = "The security token included in the request is invalid."
	msgExpiredToken = "The security token included in the request is expired"
	msgBadSignature = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	hintDeny        = "X01:gw-helper-deny"
)

// rejection is an answer to a request the front end or the security
// plugin refuses.
type rejection struct {
	reason string
	status int
	header map[string]string
	body   []byte
}

// authenticate checks the signature the way the AWS front end does and
// returns the caller ARN, or the rejection to send. With no Verify every
// caller is "" and accepted.
func (s *Server) authenticate(r *http.Request, body []byte) (string, *rejection) {
	if s.o.Verify == nil {
		return "", nil
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		if s.aoss() {
			return "", s.aossDeny(ReasonUnsigned, http.StatusForbidden, "403 Forbidden", "Forbidden")
		}
		return "", esMessage(ReasonUnsigned, http.StatusForbidden, "Message",
			fmt.Sprintf("User: anonymous is not authorized to perform: es:%s", esAction(r.Method)))
	}
	if s.aoss() && r.Header.Get("X-Amz-Content-Sha256") == "" {
		return "", s.aossDeny(ReasonMissingSHA256, http.StatusForbidden, "403 Forbidden", "Forbidden")
	}
	// The region is ours to check: ststest accepts any well-formed one.
	if region, service, ok := credentialScope(auth); ok {
		var msg []string
		reason := ""
		if region != s.o.Region {
			msg = append(msg, fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. ", region))
			reason = ReasonRegion
		}
		if service != s.o.Service {
			msg = append(msg, fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", s.o.Service))
			if reason == "" {
				reason = ReasonService
			}
		}
		if reason != "" {
			return "", s.sigReject(reason, http.StatusForbidden, "InvalidSignatureException", strings.Join(msg, ""))
		}
	}
	caller, err := s.o.Verify(r, body, s.o.Service)
	if err == nil {
		return caller, nil
	}
	var se *ststest.SigError
	if !errors.As(err, &se) {
		return "", s.sigReject(ReasonSignature, http.StatusForbidden, "InvalidSignature", msgBadSignature)
	}
	switch {
	case se.Code == "InvalidClientTokenId":
		return "", s.sigReject(ReasonInvalidToken, http.StatusForbidden, "UnrecognizedClientException", msgInvalidToken)
	case se.Code == "ExpiredToken":
		return "", s.sigReject(ReasonExpiredToken, http.StatusForbidden, "ExpiredToken", msgExpiredToken)
	case se.Code == "SignatureDoesNotMatch" && se.Message == msgBadSignature:
		if s.aoss() {
			return "", s.sigReject(ReasonSignature, http.StatusForbidden, "InvalidSignature", msgBadSignature)
		}
		msg := msgBadSignature
		if creq, sts, ok := canonical(r, body, auth); ok {
			msg += "\n\nThe Canonical String for this request should have been\n'" + creq +
				"'\n\nThe String-to-Sign should have been\n'" + sts + "'\n"
		}
		return "", esMessage(ReasonSignature, http.StatusForbidden, "message", msg)
	case se.Code == "IncompleteSignature":
		// STS answers 400; the es front end answers 403 (anchors §6.1).
		return "", s.sigReject(ReasonIncomplete, http.StatusForbidden, se.Code, se.Message)
	default: // clock skew, scope date, terminator, unsigned host
		return "", s.sigReject(ReasonSignature, se.Status, se.Code, se.Message)
	}
}

// sigReject is a signature-level refusal: es's {"message":...} from the
// front end, or aoss's "Customer authentication failed" envelope.
func (s *Server) sigReject(reason string, status int, code, msg string) *rejection {
	if s.aoss() {
		short := msg
		if code == "InvalidSignature" {
			short = "Invalid signature, does not match"
		}
		return s.aossDeny(reason, status,
			fmt.Sprintf("Customer authentication failed: ResultDetail: { Code=%s, Message=%s, }", code, short), "AccessDenied")
	}
	return esMessage(reason, status, "message", msg)
}

// authorize applies Options.Allow for a verified caller.
func (s *Server) authorize(caller string, rq *apiReq) *rejection {
	if s.o.Allow == nil || s.o.Allow(caller, rq.method, rq.path) {
		return nil
	}
	switch {
	case s.aoss():
		return s.aossDeny(ReasonDenied, http.StatusForbidden, "403 Forbidden", "Forbidden")
	case s.o.FGAC:
		user := principal(caller)
		reason := fmt.Sprintf("no permissions for [%s] and User [name=%s, backend_roles=[], requestedTenant=null]", permission(rq), user)
		b := fmt.Appendf(nil, `{"error":{"root_cause":[{"type":"security_exception","reason":%s}],"type":"security_exception","reason":%s},"status":403}`,
			jsonString(reason), jsonString(reason))
		return &rejection{reason: ReasonDenied, status: http.StatusForbidden, body: b}
	default:
		acct := accountOf(caller)
		return esMessage(ReasonDenied, http.StatusForbidden, "Message",
			fmt.Sprintf("User: %s is not authorized to perform: es:%s on resource: arn:aws:es:%s:%s:domain/emulator%s",
				caller, esAction(rq.method), s.o.Region, acct, rq.path))
	}
}

func (s *Server) aoss() bool { return s.o.Service == "aoss" }

func (s *Server) aossDeny(reason string, status int, msg, typ string) *rejection {
	b := fmt.Appendf(nil, `{"status":%d,"request-id":%q,"error":{"reason":%s,"type":%q}}`, status, newRequestID(), jsonString(msg), typ)
	return &rejection{reason: reason, status: status, header: map[string]string{"x-aoss-response-hint": hintDeny}, body: b}
}

func esMessage(reason string, status int, key, msg string) *rejection {
	return &rejection{reason: reason, status: status, body: fmt.Appendf(nil, `{%q:%s}`, key, jsonString(msg))}
}

// esAction is the IAM action the es front end names for a method.
func esAction(method string) string {
	if method == "" {
		return "ESHttpGet"
	}
	return "ESHttp" + method[:1] + strings.ToLower(method[1:])
}

// principal turns an assumed-role session ARN into the role ARN, the name
// FGAC shows for IAM callers.
func principal(arn string) string {
	p := strings.SplitN(arn, ":", 6)
	if len(p) == 6 && p[2] == "sts" && strings.HasPrefix(p[5], "assumed-role/") {
		role := strings.Split(strings.TrimPrefix(p[5], "assumed-role/"), "/")[0]
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", p[1], p[4], role)
	}
	return arn
}

func accountOf(arn string) string {
	if p := strings.SplitN(arn, ":", 6); len(p) == 6 && p[4] != "" {
		return p[4]
	}
	return "123456789012"
}

// permission is the security plugin's action name for a route.
func permission(rq *apiReq) string {
	switch rq.kind {
	case kindSearch:
		return "indices:data/read/search"
	case kindScroll:
		return "indices:data/read/scroll"
	case kindPITCreate:
		return "indices:data/read/point_in_time/create"
	case kindPITDelete:
		return "indices:data/read/point_in_time/delete"
	case kindBulk:
		return "indices:data/write/bulk"
	case kindCount:
		return "indices:data/read/search"
	case kindCat:
		return "indices:monitor/settings/get"
	case kindDoc:
		if rq.method == http.MethodGet {
			return "indices:data/read/get"
		}
		return "indices:data/write/index"
	}
	return "cluster:monitor/main"
}

// credentialScope reads region and service from an Authorization header.
func credentialScope(auth string) (region, service string, ok bool) {
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return "", "", false
	}
	cred := auth[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	p := strings.Split(cred, "/")
	if len(p) != 5 {
		return "", "", false
	}
	return p[2], p[3], true
}

// canonical recomputes the canonical request and string to sign for the
// headers the client signed, as the es front end prints them in its
// mismatch message. Neither depends on the secret key.
func canonical(r *http.Request, body []byte, auth string) (creq, sts string, ok bool) {
	var signed []string
	var scope []string
	for _, kv := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch k {
		case "SignedHeaders":
			signed = strings.Split(v, ";")
		case "Credential":
			scope = strings.Split(v, "/")
		}
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if len(scope) != 5 || err != nil {
		return "", "", false
	}
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	req, err := http.NewRequest(r.Method, u.String(), nil)
	if err != nil {
		return "", "", false
	}
	req.Host = r.Host
	token := ""
	for _, h := range signed {
		switch h {
		case "host":
		case "content-length":
			req.ContentLength = int64(len(body))
		default:
			if h == "x-amz-security-token" {
				token = r.Header.Get(h)
			}
			req.Header[textproto.CanonicalMIMEHeaderKey(h)] = r.Header.Values(h)
		}
	}
	hash := r.Header.Get("X-Amz-Content-Sha256")
	if hash != "UNSIGNED-PAYLOAD" {
		sum := sha256.Sum256(body)
		hash = hex.EncodeToString(sum[:])
	}
	creds := aws.Credentials{AccessKeyID: scope[0], SecretAccessKey: "x", SessionToken: token}
	var got []any
	log := logging.LoggerFunc(func(_ logging.Classification, _ string, v ...any) { got = v })
	err = v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, scope[3], scope[2], at, func(o *v4.SignerOptions) {
		o.DisableSessionToken = token == ""
		o.Logger, o.LogSigning = log, true
	})
	if err != nil || len(got) < 2 {
		return "", "", false
	}
	creq, _ = got[0].(string)
	sts, _ = got[1].(string)
	return creq, sts, creq != ""
}

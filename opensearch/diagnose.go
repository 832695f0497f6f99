package opensearch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// maxErrBody bounds what Err reads of an error body.
const maxErrBody = 1 << 20

// diagContext is what a 401/403 diagnosis needs besides the answer.
type diagContext struct {
	service, region string
	method, path    string
	signed          bool
	via             string // "" (SigV4) or "dashboards"
	caller          func(ctx context.Context) (string, error)
	debug           io.Writer

	mu        sync.Mutex
	canonical string // our last canonical request, token redacted
	token     string // to redact from server messages
	key       string // access key ID of the last signature
}

func (d *diagContext) setCanonical(c, token, key string) {
	d.mu.Lock()
	d.canonical, d.token, d.key = c, token, key
	d.mu.Unlock()
}

func (d *diagContext) signedWith() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.key
}

// Err returns nil for Status < 400. Otherwise it reads at most 1 MiB of
// the body, closes it and returns *AccessError for 401/403 (the server's
// message with a diagnosis and fix) or *HTTPError.
func (r *Response) Err() error {
	if r.Status < 400 {
		return nil
	}
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(r.Body, maxErrBody))
		r.Body.Close()
	}
	d := r.diag
	if d == nil {
		d = &diagContext{}
	}
	if r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden {
		return d.diagnose(r.Status, r.Header, body)
	}
	typ, reason := errorFields(body)
	return &HTTPError{Status: r.Status, Type: typ, Reason: d.redact(reason), Body: body}
}

// errorFields reads the error type and reason from the body shapes
// OpenSearch and AWS use: {"error":{"type","reason"}}, {"error":"text"},
// {"message":…}, {"Message":…}; else the first line of a text body.
func errorFields(body []byte) (typ, reason string) {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message *string         `json:"message"`
		Upper   *string         `json:"Message"`
	}
	if json.Unmarshal(body, &v) == nil {
		var e struct {
			Type      string `json:"type"`
			Reason    string `json:"reason"`
			RootCause []struct {
				Type   string `json:"type"`
				Reason string `json:"reason"`
			} `json:"root_cause"`
		}
		var s string
		switch {
		case len(v.Error) > 0 && json.Unmarshal(v.Error, &e) == nil && (e.Type != "" || e.Reason != ""):
			if e.Reason == "" && len(e.RootCause) > 0 {
				e.Reason = e.RootCause[0].Reason
			}
			return e.Type, e.Reason
		case len(v.Error) > 0 && json.Unmarshal(v.Error, &s) == nil:
			return "", s
		case v.Message != nil:
			return "", *v.Message
		case v.Upper != nil:
			return "", *v.Upper
		}
		return "", ""
	}
	text := strings.TrimSpace(string(body))
	if m := titleRe.FindStringSubmatch(text); m != nil {
		// A proxy's or load balancer's HTML page: its title says it
		// ("502 Bad Gateway"), its first line would be "<html>".
		return "", strings.Join(strings.Fields(m[1]), " ")
	}
	if strings.HasPrefix(text, "<") {
		return "", ""
	}
	line, _, _ := strings.Cut(text, "\n")
	if len(line) > 300 {
		line = line[:300] + "…"
	}
	return "", line
}

var titleRe = regexp.MustCompile(`(?is)<title>([^<]*)</title>`)

// redact hides the session token in a server message (an es signature
// mismatch quotes its canonical request, token included).
func (d *diagContext) redact(s string) string {
	d.mu.Lock()
	tok := d.token
	d.mu.Unlock()
	if tok != "" {
		s = strings.ReplaceAll(s, tok, "<redacted>")
	}
	return redactCanonical(s)
}

var (
	userRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`User: (\S+) is not authorized to perform: (\S+?)(?: on resource: (\S+?))?(?: because|\.?$| with|"|$)`)
	})
	fgacUserRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`User \[name=([^,\]]+), backend_roles=\[([^\]]*)\]`) })
	fgacPermRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`no permissions for \[([^\]]*)\]`) })
	scopeRe    = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`Credential should be scoped to (?:a valid region|correct service: '([^']*)')`)
	})
	domainRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(arn:[^:]+:es:[^:]*:[0-9]*:domain/[^/]+)`) })
	assumedRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^arn:(aws[a-z-]*):sts::([0-9]{12}):assumed-role/([^/]+)/.+$`)
	})
)

// RoleARN turns an assumed-role ARN (what GetCallerIdentity and the
// servers name) into the IAM role ARN that policies and role mappings
// take; other ARNs are returned unchanged. A role with a path needs the
// path added back by hand: the assumed-role ARN does not carry it.
func RoleARN(arn string) string {
	m := assumedRe().FindStringSubmatch(arn)
	if m == nil {
		return arn
	}
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", m[1], m[2], m[3])
}

// diagnose classifies a 401/403.
func (d *diagContext) diagnose(status int, h http.Header, body []byte) *AccessError {
	typ, reason := errorFields(body)
	msg := d.redact(reason)
	first, rest, _ := strings.Cut(msg, "\n")
	e := &AccessError{Status: status, Message: strings.TrimSpace(first), Body: body, Service: d.service}
	if e.Message == "" && typ != "" {
		e.Message = typ
	}
	lower := strings.ToLower(string(body))
	hint := h.Get("X-Aoss-Response-Hint")
	switch {
	case d.via == "dashboards":
		d.dashboards(e, status, typ, reason, string(body), hint)
	case !d.signed:
		e.Kind = KindUnsigned
		e.Diagnosis = "the request was sent unsigned (--no-sign), and the " + d.what() + " wants SigV4-signed requests"
		e.Fix = "drop --no-sign so saml2sts signs with the profile's credentials"
	case strings.Contains(lower, "security token included in the request is expired"):
		e.Kind = KindExpired
		e.Diagnosis = "the credentials' session token expired and renewing them did not help"
		e.Fix = "run saml2sts login --force, and check the machine's clock"
	case strings.Contains(lower, "security token included in the request is invalid"),
		strings.Contains(lower, "invalidclienttokenid"), strings.Contains(lower, "unrecognizedclient"):
		e.Kind = KindToken
		e.Diagnosis = "AWS does not accept the session token: it was revoked, belongs to other credentials, or to another partition than the endpoint"
		e.Fix = "run saml2sts login --force; if it persists, check that the profile's role is in the same partition (aws, aws-cn, aws-us-gov) as the endpoint"
	case strings.Contains(lower, "signature expired") || strings.Contains(lower, "signature not yet current"):
		e.Kind = KindClock
		e.Diagnosis = "the request's signing time is outside AWS's window: this machine's clock is off"
		e.Fix = "synchronise the clock (NTP), then retry"
	case scopeRe().MatchString(reason):
		e.Kind = KindScope
		m := scopeRe().FindStringSubmatch(reason)
		if m[1] != "" {
			e.Diagnosis = fmt.Sprintf("the request was signed for service %q but the endpoint wants %q", d.service, m[1])
			e.Fix = "pass --service " + m[1] + " (or set opensearch_service = " + m[1] + " in the profile)"
		} else {
			e.Diagnosis = fmt.Sprintf("the request was signed for region %q, which is not the endpoint's region", d.region)
			e.Fix = "pass --region with the endpoint's region (or set region in the profile)"
		}
	case strings.Contains(lower, "signature we calculated does not match") || strings.Contains(lower, "invalidsignature"):
		e.Kind = KindSignature
		e.Diagnosis = "the server computed a different signature: a proxy changed the request (path, query, headers or body), or the secret key does not belong to the access key"
		e.Fix = "rerun with --debug to compare our canonical request with the server's; if a proxy sits in between, let it pass the request unchanged"
		d.mu.Lock()
		e.Canonical = d.canonical
		d.mu.Unlock()
		e.ServerCanonical = strings.TrimSpace(rest)
		if sc, ok := quotedCanonical(e.ServerCanonical); ok && sc == e.Canonical {
			// Same request on both ends: only the key can differ.
			e.Diagnosis = "the server saw exactly the request saml2sts signed, so the secret key does not belong to the access key (a damaged credentials cache?)"
			e.Fix = "run saml2sts login --force"
		}
	case strings.Contains(lower, "user: anonymous is not authorized"):
		e.Kind = KindUnsigned
		e.Diagnosis = "the domain saw an anonymous request although saml2sts signed it: a proxy dropped the Authorization header, or the domain access policy only admits IP addresses"
		e.Fix = "reach the endpoint without a header-stripping proxy, or add the role to the domain access policy (see docs/opensearch.md)"
	case typ == "security_exception" || strings.Contains(lower, "security_exception"):
		d.fgac(e, reason)
	case d.service == ServiceAOSS || hint != "" || strings.Contains(lower, `"type":"forbidden"`):
		d.aoss(e, hint)
	case userRe().MatchString(reason):
		d.iam(e, reason)
	default:
		e.Kind = KindUnknown
		who := d.callerARN()
		e.Diagnosis = "AWS refused the request for a reason saml2sts does not recognise"
		if who != "" {
			e.Diagnosis += "; the caller is " + who
		}
		e.Fix = "check the domain access policy and the role's IAM policy (see docs/opensearch.md)"
	}
	if e.Canonical != "" && d.debug != nil {
		fmt.Fprintf(d.debug, "debug: opensearch: our canonical request (token redacted):\n%s\n", e.Canonical)
		if e.ServerCanonical != "" {
			fmt.Fprintf(d.debug, "debug: opensearch: the server's view:\n%s\n", e.ServerCanonical)
		}
	}
	return e
}

// quotedCanonical extracts the canonical request an es signature
// mismatch quotes: "…should have been\n'<canonical>'\n\nThe String-to-Sign…".
func quotedCanonical(msg string) (string, bool) {
	_, after, ok := strings.Cut(msg, "should have been\n'")
	if !ok {
		return "", false
	}
	c, _, ok := strings.Cut(after, "'\n\nThe String-to-Sign")
	return c, ok
}

func (d *diagContext) what() string {
	if d.service == ServiceAOSS {
		return "Serverless collection"
	}
	return "domain"
}

// callerARN asks who we are, once, bounded: a diagnosis must not hang.
func (d *diagContext) callerARN() string {
	if d.caller == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	arn, err := d.caller(ctx)
	if err != nil {
		return ""
	}
	return arn
}

// principal is "ROLE (from ARN)" text for fixes.
func principal(arn string) (role, text string) {
	role = RoleARN(arn)
	if role != arn {
		return role, fmt.Sprintf("%s (the role of %s)", role, arn)
	}
	return role, arn
}

func (d *diagContext) fgac(e *AccessError, reason string) {
	e.Kind = KindFGAC
	arn, backend := "", ""
	if m := fgacUserRe().FindStringSubmatch(reason); m != nil {
		arn, backend = m[1], m[2]
	}
	if !strings.HasPrefix(arn, "arn:") {
		if c := d.callerARN(); c != "" {
			arn = c
		}
	}
	action := "the request"
	if m := fgacPermRe().FindStringSubmatch(reason); m != nil {
		action = m[1]
	}
	e.Caller = arn
	e.Diagnosis = fmt.Sprintf("fine-grained access control: no OpenSearch role that allows %s is mapped to the caller", action)
	if backend == "" {
		e.Diagnosis += " (backend_roles=[] : the IAM role is not mapped)"
	}
	role, _ := principal(arn)
	if role == "" {
		role = "your IAM role ARN"
	}
	e.Fix = fmt.Sprintf("in OpenSearch Dashboards → Security → Roles, map %s as a backend role of a role that allows %s (or PUT _plugins/_security/api/rolesmapping/<role> with \"backend_roles\": [\"%s\"])", role, action, role)
}

func (d *diagContext) aoss(e *AccessError, hint string) {
	e.Kind = KindDataPolicy
	arn := d.callerARN()
	e.Caller = arn
	e.Diagnosis = "OpenSearch Serverless refused the caller: the collection's data access policy does not grant it this index or operation, or its IAM policy lacks aoss:APIAccessAll"
	if hint != "" {
		e.Diagnosis += " (x-aoss-response-hint: " + hint + ")"
	}
	if arn == "" {
		e.Fix = "add your role ARN (saml2sts whoami) as a principal of the collection's data access policy with aoss:ReadDocument/aoss:DescribeIndex (aoss:WriteDocument to write), and allow aoss:APIAccessAll in the role's IAM policy"
		return
	}
	_, who := principal(arn)
	e.Fix = fmt.Sprintf("add %s as a principal of the collection's data access policy with aoss:ReadDocument/aoss:DescribeIndex (aoss:WriteDocument to write), and allow aoss:APIAccessAll in that role's IAM policy", who)
}

func (d *diagContext) iam(e *AccessError, reason string) {
	e.Kind = KindIAM
	m := userRe().FindStringSubmatch(reason)
	arn, action, resource := m[1], m[2], m[3]
	e.Caller = arn
	if resource == "" {
		resource = "the domain"
	}
	e.Diagnosis = fmt.Sprintf("IAM denies %s to %s on %s: neither the role's identity policy nor the domain access policy allows it", action, arn, resource)
	role, _ := principal(arn)
	res := "arn:aws:es:REGION:ACCOUNT:domain/NAME/*"
	if m := domainRe().FindStringSubmatch(resource); m != nil {
		res = m[1] + "/*"
	}
	e.Fix = fmt.Sprintf("allow es:ESHttp* on %s (the trailing /* matters) in the IAM policy of %s, or name that role in the domain access policy", res, role)
}

func (d *diagContext) dashboards(e *AccessError, status int, typ, reason, body, hint string) {
	switch {
	case typ == "security_exception" || strings.Contains(reason, "no permissions for"):
		e.Kind = KindFGAC
		action := "the request"
		if m := fgacPermRe().FindStringSubmatch(reason); m != nil {
			action = m[1]
		}
		backend := ""
		if m := fgacUserRe().FindStringSubmatch(reason); m != nil {
			e.Caller, backend = m[1], m[2]
		}
		e.Diagnosis = fmt.Sprintf("fine-grained access control: none of your SAML roles (backend_roles=[%s]) is mapped to an OpenSearch role that allows %s", backend, action)
		e.Fix = "map one of your IdP roles/groups as a backend role of an OpenSearch role allowing it (Dashboards → Security → Roles → Mapped users)"
	case status == http.StatusUnauthorized:
		e.Kind = KindDashboards
		e.Diagnosis = "Dashboards did not accept the SAML session even right after a fresh login"
		e.Fix = "check that the Dashboards URL is right and that the domain's SAML settings trust the IdP app dashboards_idp_url points to"
	case strings.Contains(body, "Unable to send requests to that path"):
		e.Kind = KindDashboards
		e.Diagnosis = "the Dashboards console proxy filter (console.proxyFilter) does not allow this path"
		e.Fix = "use --via iam for this path, or ask the domain admin to allow it"
	default:
		e.Kind = KindDashboards
		e.Diagnosis = "Dashboards refused the request"
		if hint != "" {
			e.Diagnosis += " (x-aoss-response-hint: " + hint + ")"
		}
		e.Fix = "check your role mapping in Dashboards → Security (Serverless: the data access policy and aoss:DashboardsAccessAll)"
	}
}

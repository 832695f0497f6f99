package opensearch

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

const callerARN = "arn:aws:sts::123456789012:assumed-role/SearchReader/ana@example.com"

// TestDiagnose403 feeds the exact bodies AWS and OpenSearch send (see
// docs/opensearch.md and the anchors in the issue) and checks the kind,
// the message shown and that the fix names what to change.
func TestDiagnose403(t *testing.T) {
	token := testToken
	sigBody := `{"message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'GET\n/logs-%252A/_search\n\nhost:search-x.eu-west-1.es.amazonaws.com\nx-amz-date:20260101T000000Z\nx-amz-security-token:` + token + `\n\nhost;x-amz-date;x-amz-security-token\ne3b0'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20260101T000000Z\n20260101/eu-west-1/es/aws4_request\nabc'\n"}`
	tests := []struct {
		name     string
		service  string
		signed   bool
		via      string
		status   int
		hdr      http.Header
		body     string
		kind     Kind
		msg      string   // Error() contains
		diag     []string // Diagnosis contains
		fix      []string // Fix contains
		noCaller bool     // the diagnosis must not need GetCallerIdentity
	}{
		{name: "unsigned es", service: "es", status: 403, body: `{"Message":"User: anonymous is not authorized to perform: es:ESHttpGet"}`,
			kind: KindUnsigned, msg: "User: anonymous is not authorized to perform: es:ESHttpGet", diag: []string{"unsigned"}, fix: []string{"--no-sign"}, noCaller: true},
		{name: "anonymous although signed", service: "es", signed: true, status: 403, body: `{"Message":"User: anonymous is not authorized to perform: es:ESHttpPost because no resource-based policy allows the es:ESHttpPost action"}`,
			kind: KindUnsigned, diag: []string{"Authorization header", "IP addresses"}, noCaller: true},
		{name: "unsigned aoss", service: "aoss", status: 403, hdr: http.Header{"X-Aoss-Response-Hint": {"X01:gw-helper-deny"}}, body: `{"status":403,"request-id":"9a1c","error":{"reason":"403 Forbidden","type":"Forbidden"}}`,
			kind: KindUnsigned, msg: "HTTP 403: Forbidden", diag: []string{"unsigned", "Serverless"}, noCaller: true},
		{name: "unsigned fgac basic", service: "es", status: 401, hdr: http.Header{"Www-Authenticate": {`Basic realm="Authorization Required"`}}, body: `Unauthorized`,
			kind: KindUnsigned, noCaller: true},
		{name: "invalid token", service: "es", signed: true, status: 403, body: `{"message":"The security token included in the request is invalid."}`,
			kind: KindToken, msg: "The security token included in the request is invalid.", fix: []string{"saml2sts login --force", "partition"}, noCaller: true},
		{name: "expired token", service: "es", signed: true, status: 403, body: `{"message":"The security token included in the request is expired"}`,
			kind: KindExpired, fix: []string{"saml2sts login --force"}, noCaller: true},
		{name: "signature mismatch es", service: "es", signed: true, status: 403, body: sigBody,
			kind: KindSignature, msg: "The request signature we calculated does not match", fix: []string{"--debug"}, noCaller: true},
		{name: "signature mismatch, same canonical request", service: "es", signed: true, status: 403,
			body: `{"message":"The request signature we calculated does not match the signature you provided.\n\nThe Canonical String for this request should have been\n'GET\n/x\n\nhost:h\nx-amz-security-token:` + token + `\n'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n'\n"}`,
			kind: KindSignature, diag: []string{"secret key does not belong"}, fix: []string{"login --force"}, noCaller: true},
		{name: "signature mismatch aoss", service: "aoss", signed: true, status: 403, body: `{"status":403,"request-id":"223ed502-8b3e-4a7a","error":{"reason":"Customer authentication failed: ResultDetail: { Code=InvalidSignature, Message=Invalid signature, does not match, }","type":"AccessDenied"}}`,
			kind: KindSignature, msg: "Customer authentication failed", noCaller: true},
		{name: "wrong region", service: "es", signed: true, status: 403, body: `{"message":"Credential should be scoped to a valid region, not 'us-east-1'. "}`,
			kind: KindScope, diag: []string{`region "eu-west-1"`}, fix: []string{"--region"}, noCaller: true},
		{name: "wrong service", service: "aoss", signed: true, status: 403, body: `{"message":"Credential should be scoped to correct service: 'es'. "}`,
			kind: KindScope, diag: []string{`service "aoss"`, `wants "es"`}, fix: []string{"--service es"}, noCaller: true},
		{name: "clock skew", service: "es", signed: true, status: 403, body: `{"message":"Signature expired: 20260101T000000Z is now earlier than 20260101T001000Z (20260101T001500Z - 5 min.)"}`,
			kind: KindClock, fix: []string{"clock"}, noCaller: true},
		{name: "aoss data access policy", service: "aoss", signed: true, status: 403, hdr: http.Header{"X-Aoss-Response-Hint": {"X01:gw-helper-deny"}}, body: `{"status":403,"request-id":"9a1c","error":{"reason":"403 Forbidden","type":"Forbidden"}}`,
			kind: KindDataPolicy, msg: "HTTP 403: Forbidden", diag: []string{"data access policy", "aoss:APIAccessAll", "X01:gw-helper-deny"},
			fix: []string{"arn:aws:iam::123456789012:role/SearchReader", callerARN, "aoss:APIAccessAll", "aoss:ReadDocument"}},
		{name: "aoss without request-id", service: "aoss", signed: true, status: 403, body: `{"status":403,"error":{"reason":"403 Forbidden","type":"Forbidden"}}`,
			kind: KindDataPolicy, fix: []string{"arn:aws:iam::123456789012:role/SearchReader"}},
		{name: "fgac not mapped", service: "es", signed: true, status: 403, body: `{"error":{"root_cause":[{"type":"security_exception","reason":"no permissions for [indices:data/read/search] and User [name=arn:aws:iam::123456789012:role/SearchReader, backend_roles=[], requestedTenant=null]"}],"type":"security_exception","reason":"no permissions for [indices:data/read/search] and User [name=arn:aws:iam::123456789012:role/SearchReader, backend_roles=[], requestedTenant=null]"},"status":403}`,
			kind: KindFGAC, msg: "no permissions for [indices:data/read/search]", diag: []string{"indices:data/read/search", "backend_roles=[]"},
			fix: []string{"arn:aws:iam::123456789012:role/SearchReader", "backend role", "rolesmapping"}, noCaller: true},
		{name: "fgac assumed role name", service: "es", signed: true, status: 403, body: `{"error":{"root_cause":[{"type":"security_exception","reason":"no permissions for [indices:data/write/bulk] and User [name=` + callerARN + `, backend_roles=[arn:aws:iam::123456789012:role/SearchReader], requestedTenant=null]"}],"type":"security_exception","reason":"no permissions for [indices:data/write/bulk] and User [name=` + callerARN + `, backend_roles=[arn:aws:iam::123456789012:role/SearchReader], requestedTenant=null]"},"status":403}`,
			kind: KindFGAC, diag: []string{"indices:data/write/bulk"}, fix: []string{"arn:aws:iam::123456789012:role/SearchReader"}, noCaller: true},
		{name: "iam identity policy", service: "es", signed: true, status: 403, body: `{"Message":"User: ` + callerARN + ` is not authorized to perform: es:ESHttpGet on resource: arn:aws:es:eu-west-1:123456789012:domain/logs"}`,
			kind: KindIAM, msg: "is not authorized to perform: es:ESHttpGet", diag: []string{"es:ESHttpGet", callerARN, "arn:aws:es:eu-west-1:123456789012:domain/logs"},
			fix: []string{"es:ESHttp*", "arn:aws:es:eu-west-1:123456789012:domain/logs/*", "arn:aws:iam::123456789012:role/SearchReader"}, noCaller: true},
		{name: "iam explicit deny, no resource", service: "es", signed: true, status: 403, body: `{"Message":"User: ` + callerARN + ` is not authorized to perform: es:ESHttpPost with an explicit deny"}`,
			kind: KindIAM, diag: []string{"es:ESHttpPost"}, noCaller: true},
		{name: "unknown", service: "es", signed: true, status: 403, body: `<html>Forbidden</html>`,
			kind: KindUnknown, diag: []string{callerARN}},
		{name: "dashboards fgac", service: "es", signed: false, via: "dashboards", status: 403, body: `{"error":{"root_cause":[{"type":"security_exception","reason":"no permissions for [indices:data/read/search] and User [name=ana, backend_roles=[analysts], requestedTenant=null]"}],"type":"security_exception","reason":"no permissions for [indices:data/read/search] and User [name=ana, backend_roles=[analysts], requestedTenant=null]"},"status":403}`,
			kind: KindFGAC, diag: []string{"backend_roles=[analysts]", "indices:data/read/search"}, fix: []string{"backend role"}, noCaller: true},
		{name: "dashboards proxy filter", via: "dashboards", status: 403, body: "Error connecting to '/_nodes':\n\nUnable to send requests to that path.",
			kind: KindDashboards, diag: []string{"proxyFilter"}, noCaller: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			d := &diagContext{service: tt.service, region: "eu-west-1", signed: tt.signed, via: tt.via,
				caller: func(context.Context) (string, error) { calls++; return callerARN, nil }}
			d.setCanonical("GET\n/x\n\nhost:h\nx-amz-security-token:<redacted>\n", token, "")
			hdr := tt.hdr
			if hdr == nil {
				hdr = http.Header{}
			}
			r := &Response{Status: tt.status, Header: hdr, Body: io.NopCloser(strings.NewReader(tt.body)), diag: d}
			err := r.Err()
			var ae *AccessError
			if !errors.As(err, &ae) {
				t.Fatalf("Err() = %T %v; want *AccessError", err, err)
			}
			if ae.Kind != tt.kind {
				t.Errorf("kind %s; want %s (diagnosis %q)", ae.Kind, tt.kind, ae.Diagnosis)
			}
			if tt.msg != "" && !strings.Contains(ae.Error(), tt.msg) {
				t.Errorf("Error() = %q; want it to contain %q", ae.Error(), tt.msg)
			}
			if strings.HasPrefix(ae.Error(), "HTTP 403: 403 ") {
				t.Errorf("Error() = %q: the status twice", ae.Error())
			}
			for _, s := range tt.diag {
				if !strings.Contains(ae.Diagnosis, s) {
					t.Errorf("Diagnosis %q lacks %q", ae.Diagnosis, s)
				}
			}
			for _, s := range tt.fix {
				if !strings.Contains(ae.Fix, s) {
					t.Errorf("Fix %q lacks %q", ae.Fix, s)
				}
			}
			if tt.noCaller && calls > 0 {
				t.Errorf("GetCallerIdentity called %d times; this diagnosis needs no call", calls)
			}
			if ae.Diagnosis == "" || ae.Fix == "" {
				t.Errorf("empty diagnosis or fix: %+v", ae)
			}
			for _, s := range []string{ae.Error(), ae.Diagnosis, ae.Fix, ae.Canonical, ae.ServerCanonical} {
				if strings.Contains(s, token) {
					t.Errorf("session token leaked: %q", s)
				}
			}
			if strings.Contains(ae.Error(), "\n") {
				t.Errorf("Error() spans lines: %q", ae.Error())
			}
		})
	}
}

// TestSignatureMismatchDebug: under Debug the canonical request (ours and
// the server's) is printed, redacted.
func TestSignatureMismatchDebug(t *testing.T) {
	var dbg strings.Builder
	d := &diagContext{service: "es", signed: true, debug: &dbg}
	d.setCanonical(redactCanonical("GET\n/logs-%252A/_search\n\nhost:h\nx-amz-security-token:"+testToken+"\n"), testToken, "")
	body := `{"message":"The request signature we calculated does not match the signature you provided.\n\nThe Canonical String for this request should have been\n'GET\n/logs-%2A/_search\n\nx-amz-security-token:` + testToken + `'\n"}`
	err := (&Response{Status: 403, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), diag: d}).Err()
	out := dbg.String()
	if !strings.Contains(out, "/logs-%252A/_search") || !strings.Contains(out, "/logs-%2A/_search") || !strings.Contains(out, "x-amz-security-token:<redacted>") {
		t.Errorf("debug output lacks both canonical requests:\n%s", out)
	}
	if strings.Contains(out, testToken) || strings.Contains(err.Error(), testToken) {
		t.Errorf("token leaked:\n%s\n%v", out, err)
	}
}

func TestHTTPError(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   string
	}{
		{404, `{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [x]"}],"type":"index_not_found_exception","reason":"no such index [x]","index":"x"},"status":404}`, "HTTP 404: index_not_found_exception: no such index [x]"},
		{400, `{"error":"Incorrect HTTP method for uri [/x/_search] and method [PUT], allowed: [POST, GET]","status":405}`, "HTTP 400: Incorrect HTTP method for uri [/x/_search] and method [PUT], allowed: [POST, GET]"},
		{500, `{"message":null}`, "HTTP 500 Internal Server Error"},
		// A proxy's HTML page: its title, never "<html>"; a retryable
		// status here has exhausted the retries, and says so.
		{502, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
			"HTTP 502: Bad Gateway (still failing after retries: the cluster is overloaded or unavailable; try again later)"},
		{504, "<html><body>Gateway timeout</body></html>", "HTTP 504 Gateway Timeout (still failing after retries: the cluster is overloaded or unavailable; try again later)"},
		// No body (HEAD, a document not found): the status text.
		{404, ``, "HTTP 404 Not Found"},
		{404, `{"_index":"cats","_id":"nope","found":false}`, "HTTP 404 Not Found"},
		// aoss writes the same word as type and reason.
		{404, `{"status":404,"request-id":"x","error":{"reason":"Not Found","type":"Not Found"}}`, "HTTP 404: Not Found"},
		{429, `{"error":{"type":"rejected_execution_exception","reason":"rejected"},"status":429}`, "HTTP 429: rejected_execution_exception: rejected (still failing after retries: the cluster is overloaded or unavailable; try again later)"},
		{200, `{}`, ""},
	}
	for _, tt := range tests {
		err := (&Response{Status: tt.status, Body: io.NopCloser(strings.NewReader(tt.body))}).Err()
		if tt.want == "" {
			if err != nil {
				t.Errorf("%d: %v", tt.status, err)
			}
			continue
		}
		var he *HTTPError
		if !errors.As(err, &he) || err.Error() != tt.want {
			t.Errorf("%d: %v; want %s", tt.status, err, tt.want)
		}
	}
}

func TestRoleARN(t *testing.T) {
	for in, want := range map[string]string{
		callerARN: "arn:aws:iam::123456789012:role/SearchReader",
		"arn:aws-cn:sts::123456789012:assumed-role/R/s":     "arn:aws-cn:iam::123456789012:role/R",
		"arn:aws-us-gov:sts::123456789012:assumed-role/R/s": "arn:aws-us-gov:iam::123456789012:role/R",
		"arn:aws:iam::123456789012:user/bob":                "arn:aws:iam::123456789012:user/bob",
	} {
		if got := RoleARN(in); got != want {
			t.Errorf("RoleARN(%s) = %s; want %s", in, got, want)
		}
	}
}

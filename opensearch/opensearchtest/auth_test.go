package opensearchtest

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestSigV4(t *testing.T) {
	w := newWorld(t)
	bad := w.creds
	bad.SecretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	unknown := aws.Credentials{AccessKeyID: "ASIAUNKNOWN000000000", SecretAccessKey: "x", SessionToken: "y"}
	garbled := w.creds
	garbled.SessionToken = "garbled"
	aossBody := func(reason, typ string) *regexp.Regexp {
		return regexp.MustCompile(`^\{"status":403,"request-id":"[0-9a-f-]{36}","error":\{"reason":` + regexp.QuoteMeta(`"`+reason+`","type":"`+typ+`"}}`) + `$`)
	}
	exact := func(s string) *regexp.Regexp { return regexp.MustCompile("^" + regexp.QuoteMeta(s) + "$") }
	tests := []struct {
		name    string
		service string
		c       call
		status  int
		body    *regexp.Regexp
		reason  string
		hint    string
	}{
		{"es signed", "es", call{creds: &w.creds}, 200, regexp.MustCompile(`"hits"`), "", ""},
		{"es unsigned GET", "es", call{}, 403, exact(`{"Message":"User: anonymous is not authorized to perform: es:ESHttpGet"}`), ReasonUnsigned, ""},
		{"es unsigned POST", "es", call{method: "POST"}, 403, exact(`{"Message":"User: anonymous is not authorized to perform: es:ESHttpPost"}`), ReasonUnsigned, ""},
		{"es wrong secret", "es", call{creds: &bad}, 403,
			regexp.MustCompile(`^\{"message":"The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key and signing method\. Consult the service documentation for details\.\\n\\nThe Canonical String for this request should have been\\n'GET\\n/logs/_search\\n\\nhost:127\.0\.0\.1:\d+\\nx-amz-content-sha256:e3b0c442.*\\n\\nThe String-to-Sign should have been\\n'AWS4-HMAC-SHA256\\n\d{8}T\d{6}Z\\n\d{8}/eu-west-1/es/aws4_request\\n[0-9a-f]{64}'\\n"\}$`),
			ReasonSignature, ""},
		{"es unknown key", "es", call{creds: &unknown}, 403, exact(`{"message":"The security token included in the request is invalid."}`), ReasonInvalidToken, ""},
		{"es garbled token", "es", call{creds: &garbled}, 403, exact(`{"message":"The security token included in the request is invalid."}`), ReasonInvalidToken, ""},
		{"es wrong region", "es", call{creds: &w.creds, region: "us-east-1"}, 403, exact(`{"message":"Credential should be scoped to a valid region, not 'us-east-1'. "}`), ReasonRegion, ""},
		{"es wrong service", "es", call{creds: &w.creds, service: "aoss"}, 403, exact(`{"message":"Credential should be scoped to correct service: 'es'. "}`), ReasonService, ""},
		{"es wrong region and service", "es", call{creds: &w.creds, service: "aoss", region: "us-east-1"}, 403,
			exact(`{"message":"Credential should be scoped to a valid region, not 'us-east-1'. Credential should be scoped to correct service: 'es'. "}`), ReasonRegion, ""},
		{"es clock skew", "es", call{creds: &w.creds, at: time.Now().Add(-20 * time.Minute)}, 403, regexp.MustCompile(`^\{"message":"Signature expired: \d{8}T\d{6}Z is now earlier than`), ReasonSignature, ""},
		{"es malformed authorization", "es", call{header: http.Header{"Authorization": {"AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/es/aws4_request"}}}, 403,
			exact(`{"message":"Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256"}`), ReasonIncomplete, ""},
		{"aoss signed", "aoss", call{creds: &w.creds}, 200, regexp.MustCompile(`"hits"`), "", ""},
		{"aoss unsigned", "aoss", call{}, 403, aossBody("403 Forbidden", "Forbidden"), ReasonUnsigned, hintDeny},
		{"aoss no content sha256", "aoss", call{creds: &w.creds, noSHA: true, method: "POST", body: `{"query":{"match_all":{}}}`}, 403, aossBody("403 Forbidden", "Forbidden"), ReasonMissingSHA256, hintDeny},
		{"aoss wrong secret", "aoss", call{creds: &bad}, 403,
			aossBody("Customer authentication failed: ResultDetail: { Code=InvalidSignature, Message=Invalid signature, does not match, }", "AccessDenied"), ReasonSignature, hintDeny},
		{"aoss signed as es", "aoss", call{creds: &w.creds, service: "es"}, 403,
			aossBody("Customer authentication failed: ResultDetail: { Code=InvalidSignatureException, Message=Credential should be scoped to correct service: 'aoss'. , }", "AccessDenied"), ReasonService, hintDeny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := w.server(t, Options{Service: tc.service})
			s.Synthetic("logs", 10)
			c := tc.c
			if c.method == "" {
				c.method = "GET"
			}
			c.path = "/logs/_search"
			r := do(t, s, c)
			if r.status != tc.status || !tc.body.Match(r.body) {
				t.Fatalf("got %d %s\nwant %d %s", r.status, r.body, tc.status, tc.body)
			}
			if got := r.header.Get("x-aoss-response-hint"); got != tc.hint {
				t.Errorf("x-aoss-response-hint = %q, want %q", got, tc.hint)
			}
			st := s.Stats()
			if tc.reason != "" && st.Rejected[tc.reason] != 1 {
				t.Errorf("Rejected = %v, want %s counted", st.Rejected, tc.reason)
			}
			if wantSigned := map[bool]int{true: 1, false: 0}[tc.status == 200]; st.Signed != wantSigned {
				t.Errorf("Signed = %d, want %d", st.Signed, wantSigned)
			}
		})
	}
}

func TestExpiredToken(t *testing.T) {
	w := newWorld(t)
	for _, svc := range []string{"es", "aoss"} {
		t.Run(svc, func(t *testing.T) {
			s := w.server(t, Options{Service: svc, Now: time.Now})
			s.Synthetic("logs", 1)
			w.clk.Advance(2 * time.Hour) // STS credentials last 1h
			defer w.clk.Advance(-2 * time.Hour)
			// Sign "now" for the STS clock so only the expiry is wrong.
			r := do(t, s, call{method: "GET", path: "/logs/_search", creds: &w.creds, at: w.clk.Now()})
			want := `{"message":"The security token included in the request is expired"}`
			if svc == "aoss" {
				want = `"reason":"Customer authentication failed: ResultDetail: { Code=ExpiredToken, Message=The security token included in the request is expired, }","type":"AccessDenied"}}`
			}
			if r.status != 403 || !strings.HasSuffix(string(r.body), want) {
				t.Fatalf("got %d %s, want 403 ending %s", r.status, r.body, want)
			}
			if s.Stats().Rejected[ReasonExpiredToken] != 1 {
				t.Errorf("Rejected = %v", s.Stats().Rejected)
			}
		})
	}
}

func TestAllow(t *testing.T) {
	w := newWorld(t)
	deny := func(caller, method, path string) bool { return !strings.HasPrefix(path, "/secret") }
	tests := []struct {
		name string
		o    Options
		want string
		hint string
	}{
		{"aoss data access policy", Options{Service: "aoss"}, `"error":{"reason":"403 Forbidden","type":"Forbidden"}}`, hintDeny},
		{"es fgac", Options{FGAC: true},
			`{"error":{"root_cause":[{"type":"security_exception","reason":"no permissions for [indices:data/read/search] and User [name=arn:aws:iam::123456789012:role/SearchReader, backend_roles=[], requestedTenant=null]"}],"type":"security_exception","reason":"no permissions for [indices:data/read/search] and User [name=arn:aws:iam::123456789012:role/SearchReader, backend_roles=[], requestedTenant=null]"},"status":403}`, ""},
		{"es iam", Options{},
			`{"Message":"User: arn:aws:sts::123456789012:assumed-role/SearchReader/alice@example.com is not authorized to perform: es:ESHttpPost on resource: arn:aws:es:eu-west-1:123456789012:domain/emulator/secret/_search"}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Allow = deny
			s := w.server(t, o)
			s.Synthetic("secret", 3)
			s.Synthetic("public", 3)
			if r := do(t, s, call{method: "POST", path: "/public/_search", creds: &w.creds}); r.status != 200 {
				t.Fatalf("allowed path: %d %s", r.status, r.body)
			}
			r := do(t, s, call{method: "POST", path: "/secret/_search", creds: &w.creds})
			if r.status != 403 || !strings.HasSuffix(string(r.body), tc.want) {
				t.Fatalf("got %d %s\nwant suffix %s", r.status, r.body, tc.want)
			}
			if r.header.Get("x-aoss-response-hint") != tc.hint {
				t.Errorf("hint %q", r.header.Get("x-aoss-response-hint"))
			}
			if s.Stats().Rejected[ReasonDenied] != 1 {
				t.Errorf("Rejected = %v", s.Stats().Rejected)
			}
		})
	}
}

// Index names a client must percent-encode still verify (double-encoded
// canonical path) and resolve.
func TestSignedSpecialPaths(t *testing.T) {
	w := newWorld(t)
	s := w.server(t, Options{})
	names := []string{"ü x", "a:b", "logs-2024.01"}
	for _, n := range names {
		s.AddDocs(n, docs(t, `{"n":"`+n+`"}`)...)
	}
	tests := []struct{ path, want string }{
		{"/%C3%BC%20x/_search", `"_index":"ü x"`},
		{"/a:b/_search", `"_index":"a:b"`},
		{"/a%3Ab/_search", `"_index":"a:b"`},
		{"/logs-*/_search", `"_index":"logs-2024.01"`},
		{"/logs-%2A/_search", `"_index":"logs-2024.01"`},
		{"/a:b,logs-*/_search", `"_index":"logs-2024.01"`},
		{"/a:b%2Clogs-*/_search", `"_index":"a:b"`},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			r := do(t, s, call{method: "POST", path: tc.path, creds: &w.creds})
			if r.status != http.StatusOK || !strings.Contains(string(r.body), tc.want) {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	r := do(t, s, call{method: "GET", path: "/%C3%BC%20x/_doc/nope", creds: &w.creds})
	if r.status != 404 || !strings.Contains(string(r.body), `"found":false`) {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

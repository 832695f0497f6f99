package cli

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/opensearch"
)

func TestParseHeaders(t *testing.T) {
	t.Parallel()
	h, err := parseHeaders([]string{"Content-Type: text/plain", "X-Opaque-Id:job-7", "X-Opaque-Id: again"})
	if err != nil || h.Get("Content-Type") != "text/plain" || len(h.Values("X-Opaque-Id")) != 2 || h.Get("X-Opaque-Id") != "job-7" {
		t.Errorf("got %v, %v", h, err)
	}
	for _, bad := range []string{"NoColon", ": empty", "Bad Name: x", "Host: evil", "authorization: AWS4", "X-Amz-Security-Token: t"} {
		if _, err := parseHeaders([]string{bad}); !isFlagError(err) {
			t.Errorf("-H %q: %v; want a usage error", bad, err)
		}
	}
}

func TestReadData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "b.ndjson")
	os.WriteFile(file, []byte("{}\r\n{}\n"), 0o600)
	for _, tt := range []struct{ arg, stdin, want string }{
		{`{"a":1}`, "", `{"a":1}`},
		{"@" + file, "", "{}\r\n{}\n"}, // unchanged: no newline stripping
		{"@-", "line1\nline2\n", "line1\nline2\n"},
	} {
		got, err := readData(strings.NewReader(tt.stdin), "-d", tt.arg)
		if err != nil || string(got) != tt.want {
			t.Errorf("readData(%q) = %q, %v; want %q", tt.arg, got, err, tt.want)
		}
	}
	// The error names the flag the user typed.
	if _, err := readData(nil, "--data-binary", "@"+filepath.Join(dir, "missing")); !isFlagError(err) || !strings.HasPrefix(err.Error(), "--data-binary @") {
		t.Errorf("missing file: %v; want a usage error naming --data-binary", err)
	}
}

// TestBadJSON: a 400 to a JSON body that is not JSON says so; other
// answers and bodies are left alone.
func TestBadJSON(t *testing.T) {
	t.Parallel()
	e400 := &opensearch.HTTPError{Status: 400, Type: "json_e_o_f_exception", Reason: "Unexpected end-of-input: expected close marker for Object"}
	for _, tt := range []struct {
		err  error
		path string
		ct   string
		body string
		want string // suffix added; "" = unchanged
	}{
		{e400, "/cats/_search", "", `{"query":`, " (the request body is not valid JSON: unexpected end of JSON input)"},
		{e400, "/cats/_search", "", `{"query":{}}}`, " (the request body is not valid JSON: invalid character '}' after top-level value)"},
		{e400, "/cats/_search", "application/json; charset=utf-8", `{'a':1}`, " (the request body is not valid JSON: invalid character '\\'' looking for beginning of object key string)"},
		{e400, "/cats/_search", "", `{"query":{"match_al":{}}}`, ""}, // valid JSON: the server's words suffice
		{e400, "/_bulk", "", "{\"index\":{}}\n{\"a\":1}\n", ""},      // NDJSON
		{e400, "/x/_doc/1", "text/plain", `hello`, ""},               // not sent as JSON
		{e400, "/x/_search", "", ``, ""},                                // no body
		{&opensearch.HTTPError{Status: 404}, "/x/_search", "", `{`, ""}, // another status
		{errors.New("boom"), "/x/_search", "", `{`, ""},
	} {
		h := http.Header{}
		if tt.ct != "" {
			h.Set("Content-Type", tt.ct)
		}
		got := badJSON(tt.err, tt.path, h, []byte(tt.body))
		if got.Error() != tt.err.Error()+tt.want {
			t.Errorf("badJSON(%s, %q) = %q; want %q", tt.path, tt.body, got, tt.err.Error()+tt.want)
		}
		if !errors.Is(got, tt.err) {
			t.Errorf("badJSON(%s, %q) lost the error", tt.path, tt.body)
		}
	}
}

func TestNDJSONPath(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{"/_bulk": true, "/logs/_bulk?refresh=true": true, "/_msearch/": true, "/_search": false, "/bulk": false} {
		if ndjsonPath(p) != want {
			t.Errorf("ndjsonPath(%q) = %v", p, !want)
		}
	}
}

func TestOSEndpointPrecedence(t *testing.T) {
	t.Parallel()
	f := &factory{}
	p := &config.Profile{Region: "us-east-1", OpenSearchEndpoint: "https://search-a-1.eu-west-1.es.amazonaws.com", OpenSearchService: "auto"}
	tests := []struct {
		o           osFlags
		url         string
		svc, region string
		err         string
	}{
		// The profile's endpoint; the host's region beats the profile's STS region.
		{osFlags{}, "https://search-a-1.eu-west-1.es.amazonaws.com", "es", "eu-west-1", ""},
		// Flags beat the profile.
		{osFlags{endpoint: "https://c1.eu-central-1.aoss.amazonaws.com"}, "https://c1.eu-central-1.aoss.amazonaws.com", "aoss", "eu-central-1", ""},
		{osFlags{region: "ap-south-1"}, "", "es", "ap-south-1", ""},
		// A custom domain takes the profile's region, and needs a service.
		{osFlags{endpoint: "https://search.example.com", service: "es"}, "", "es", "us-east-1", ""},
		{osFlags{endpoint: "https://search.example.com"}, "", "", "", "--service es"},
	}
	for _, tt := range tests {
		ep, err := f.osEndpoint(p, &tt.o)
		if tt.err != "" {
			var ee *opensearch.EndpointError
			if !errors.As(err, &ee) || !strings.Contains(err.Error(), tt.err) || exitCode(err) != exitUsage {
				t.Errorf("%+v: %v; want EndpointError (exit 2) containing %q", tt.o, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%+v: %v", tt.o, err)
			continue
		}
		if (tt.url != "" && ep.URL.String() != tt.url) || ep.Service != tt.svc || ep.Region != tt.region {
			t.Errorf("%+v: %s %s/%s; want %s %s/%s", tt.o, ep.URL, ep.Service, ep.Region, tt.url, tt.svc, tt.region)
		}
	}
}

func TestAccessErrorExitCode(t *testing.T) {
	t.Parallel()
	f := &factory{errOut: &strings.Builder{}}
	err := f.osError(&opensearch.AccessError{Status: 403, Message: "denied", Diagnosis: "d", Fix: "x"})
	if exitCode(err) != exitAWS {
		t.Errorf("exit %d; want %d", exitCode(err), exitAWS)
	}
	if got := f.errOut.(*strings.Builder).String(); got != "saml2sts: HTTP 403: denied\n  why: d\n  fix: x\n" {
		t.Errorf("stderr %q", got)
	}
	if exitCode(&opensearch.AccessError{Status: 403}) != exitAWS {
		t.Errorf("a bare AccessError must exit 5 too")
	}
}

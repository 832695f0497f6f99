package cli_test

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/opensearch/opensearchtest"
)

// TestOSMistakesE2E runs the mistakes a first-time user makes through the
// binary: each must exit with the documented code and say on one line
// what was wrong and what to do, with nothing but data on stdout.
func TestOSMistakesE2E(t *testing.T) {
	t.Parallel()
	w := newOSCmdWorld(t, opensearchtest.Options{})
	w.os.AddDocs("cats", json.RawMessage(`{"name":"Rex"}`))
	w.mustRun("", "configure", "--profile", "noep", "--provider", "keycloak", "--url", w.kc.URL(),
		"--username", "ana", "--region", "eu-west-1")
	// A loopback port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	unsigned := []string{"--no-sign", "--service", "es", "--region", "eu-west-1"}

	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		want    string // on stderr
		notWant string // on stderr
		stdout  string // "" = nothing
		noLogin bool   // must fail before any login
	}{
		{name: "missing PATH", args: []string{"os", "--profile", "os", "GET"}, code: 2,
			want: "accepts 2 arg(s), received 1 (give METHOD and PATH, e.g. saml2sts os GET /_cat/indices)", noLogin: true},
		{name: "-d @missing before login", args: []string{"os", "--profile", "os", "POST", "/cats/_search", "-d", "@" + filepath.Join(t.TempDir(), "q.json")},
			code: 2, want: "-d @", noLogin: true},
		{name: "--data-binary @missing", args: []string{"os", "--profile", "os", "POST", "/_bulk", "--data-binary", "@nope.ndjson"},
			code: 2, want: "--data-binary @nope.ndjson: open nope.ndjson: no such file", noLogin: true},
		{name: "no endpoint", args: []string{"os", "--profile", "noep", "GET", "/"}, code: 2,
			want: "saml2sts: no OpenSearch endpoint: pass --endpoint https://HOST, or set it once with saml2sts configure --opensearch-endpoint", notWant: `""`, noLogin: true},
		{name: "search, no endpoint", args: []string{"search", "--profile", "noep", "cats"}, code: 2,
			want: "no OpenSearch endpoint", noLogin: true},
		{name: "Dashboards URL as endpoint", args: []string{"os", "--profile", "os", "GET", "/_cat/indices", "--endpoint", "https://search-logs-abc.eu-west-1.es.amazonaws.com/_dashboards"},
			code: 2, want: "use --endpoint https://search-logs-abc.eu-west-1.es.amazonaws.com (for Dashboards use --via dashboards --dashboards-url)", noLogin: true},
		{name: "JSON as QUERY", args: []string{"search", "--profile", "os", "cats", `{"match":{"name":"Rex"}}`}, code: 2,
			want: "QUERY is query string syntax (level:ERROR), not JSON", noLogin: true},
		{name: "endpoint down", args: append([]string{"os", "--profile", "os", "GET", "/", "--endpoint", closed}, unsigned...), code: 1,
			want: "connection refused (is OpenSearch reachable? a VPC domain needs the VPN; check --endpoint or the profile's opensearch_endpoint and HTTPS_PROXY)", notWant: "profile url"},
		{name: "search, endpoint down", args: append([]string{"search", "--profile", "os", "cats", "--endpoint", closed}, unsigned...), code: 1,
			want: "is OpenSearch reachable?", notWant: "profile url"},
		{name: "endpoint unknown host", args: append([]string{"os", "--profile", "os", "GET", "/", "--endpoint", "https://nosuchhost.invalid"}, unsigned...), code: 1,
			want: "(check the host name in --endpoint or the profile's opensearch_endpoint; a VPC domain resolves only inside its VPC or over the VPN)", notWant: "profile url"},
		{name: "-d invalid JSON", args: []string{"os", "--profile", "os", "POST", "/cats/_search", "-d", `{"query":`}, code: 1,
			want:   "saml2sts: HTTP 400: parse_exception: request body is required to be a JSON object (the request body is not valid JSON: unexpected end of JSON input)\n",
			stdout: `"status":400`},
		{name: "404 without error body", args: []string{"os", "--profile", "os", "GET", "/cats/_doc/nope"}, code: 1,
			want: "saml2sts: HTTP 404 Not Found\n", stdout: `"found":false`},
		{name: "beyond the result window", args: []string{"search", "--profile", "os", "cats", "--size", "20000"}, code: 1,
			want: "See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting. (to get every hit, use --all)"},
		{name: "export pages beyond the result window", args: []string{"search", "--profile", "os", "cats", "--all", "--size", "20000"}, code: 1,
			want: "index level setting. (with --all, --size is the page size: give 10000 or less)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: the cases share one world, and its call counts.
			before := w.st.Calls("AssumeRoleWithSAML")
			r := w.record("", tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || (tc.notWant != "" && strings.Contains(r.stderr, tc.notWant)) {
				t.Fatalf("%s; want exit %d and stderr with %q", r, tc.code, tc.want)
			}
			if (tc.stdout == "" && r.stdout != "") || !strings.Contains(r.stdout, tc.stdout) {
				t.Errorf("stdout %q; want %q", r.stdout, tc.stdout)
			}
			// One line, plus cobra's pointer to --help for usage errors.
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if len(lines) > 2 || (len(lines) == 2 && !strings.HasPrefix(lines[1], "Run 'saml2sts ")) {
				t.Errorf("stderr is not one line:\n%s", r.stderr)
			}
			if tc.noLogin && w.st.Calls("AssumeRoleWithSAML") != before {
				t.Errorf("logged in before failing on a usage error")
			}
		})
	}
	w.scanSecrets()
}

// TestOSDebugLinesE2E: under --debug every stderr line is marked as such
// (HTTP trace, retries, the export summary) and stdout stays the data.
func TestOSDebugLinesE2E(t *testing.T) {
	t.Parallel()
	w := newOSCmdWorld(t, opensearchtest.Options{Faults: opensearchtest.Faults{Rate: 0.4, Seed: 3}})
	for i := range 5 {
		w.os.AddDocs("cats", json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)))
	}
	r := w.record("", "search", "--profile", "os", "cats", "--all", "--size", "2", "--debug")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 5 {
		t.Fatalf("%s", r)
	}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if !json.Valid([]byte(l)) {
			t.Errorf("stdout line is not a document: %q", l)
		}
	}
	if w.os.Stats().Faults == 0 || !strings.Contains(r.stderr, "retrying in") || !strings.Contains(r.stderr, "debug: exported 5 hits") {
		t.Fatalf("no retry or summary under --debug:\n%s", r.stderr)
	}
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if !strings.HasPrefix(l, "debug: ") {
			t.Errorf("unmarked stderr line under --debug: %q", l)
		}
	}
	w.scanSecrets()
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/saml2sts/saml2sts/opensearch"
	"github.com/saml2sts/saml2sts/opensearch/opensearchtest"
)

// TestSearchFlags checks argument handling before any login.
//
// It runs the real command, unsigned, against a recording OpenSearch
// emulator: usage errors must come before any request, accepted flags must
// send the body and produce the format they ask for.
func TestSearchFlags(t *testing.T) {
	rec := newSearchRecorder(t)
	dir := t.TempDir()
	qf := filepath.Join(dir, "q.json")
	os.WriteFile(qf, []byte(`{"match":{"level":"ERROR"}}`), 0o600)
	empty := filepath.Join(dir, "empty.json")
	os.WriteFile(empty, nil, 0o600)
	for _, tc := range []struct {
		args   []string
		stdin  string
		err    string // usage error text; "" = accepted
		format string
		body   string // the search body it builds
		index  string // the index it searches, when not args[0]
	}{
		{args: []string{"logs-*"}, format: "json", body: `{}`},
		{args: []string{"logs-*", "level:ERROR", "--size", "20", "--format", "table"}, format: "table",
			body: `{"query":{"query_string":{"query":"level:ERROR"}},"size":20}`},
		{args: []string{"logs-*", "--all"}, format: "ndjson", body: `{}`},
		{args: []string{"logs-*", "--all", "--format", "json"}, format: "json", body: `{}`},
		{args: []string{"logs-*", "--query-file", qf, "--sort", "@timestamp:desc", "--fields", "a,b.c"}, format: "json",
			body: `{"_source":{"includes":["a","b.c"]},"query":{"match":{"level":"ERROR"}},"sort":[{"@timestamp":{"order":"desc"}}]}`},
		{args: []string{"logs-*", "-"}, stdin: `{"query":{"term":{"id":9007199254740993}}}`, format: "json",
			body: `{"query":{"term":{"id":9007199254740993}}}`},
		{args: []string{"logs-*", "--query-file", "-", "--format", "csv"}, stdin: `{"match_all":{}}`, format: "csv",
			body: `{"query":{"match_all":{}}}`},
		{args: []string{}, err: "accepts between 1 and 2 arg(s)"},
		{args: []string{"logs", "--format", "xml"}, err: `--format "xml"`},
		{args: []string{"logs", "--slices", "4"}, err: "--slices only applies with --all"},
		{args: []string{"logs", "--all", "--slices", "0"}, err: "--slices 0"},
		{args: []string{"logs", "--with-meta"}, err: "--with-meta applies to ndjson"},
		{args: []string{"logs", "--sort", "a:sideways"}, err: "FIELD:asc or FIELD:desc"},
		{args: []string{"logs", "--size", "-1"}, err: "--size -1"},
		{args: []string{"logs", "-", "--query-file", qf}, err: "not both"},
		{args: []string{"logs", "--query-file", filepath.Join(dir, "missing.json")}, err: "--query-file"},
		{args: []string{"logs", "-"}, stdin: `{"query":`, err: "stdin: the query DSL is not valid JSON"},
		{args: []string{""}, err: "INDEX is empty"},
		{args: []string{"/logs"}, format: "json", body: `{}`, index: "logs"},
		{args: []string{"logs/_search"}, err: `INDEX "logs/_search" is a path`},
		{args: []string{"/"}, err: "INDEX is empty"},
		// Empty field names would make empty csv/table columns.
		{args: []string{"logs", "--fields", "", "--format", "csv"}, err: `--fields "": a field name is empty`},
		{args: []string{"logs", "--fields", "a,,b", "--format", "csv"}, err: `--fields "a,,b": a field name is empty`},
		// The DSL given as QUERY would be sent as query_string syntax.
		{args: []string{"logs", `{"match":{"level":"ERROR"}}`}, err: "QUERY is query string syntax (level:ERROR), not JSON: give the query DSL on stdin (QUERY -) or with --query-file FILE"},
		{args: []string{"logs", `{1 TO 5}`}, format: "json", body: `{"query":{"query_string":{"query":"{1 TO 5}"}}}`},
		{args: []string{"logs", "--sort", "name asc"}, err: "write name:asc"},
		// An empty pipe or file must not turn into "every document".
		{args: []string{"logs", "-"}, stdin: " \n", err: "stdin is empty: pipe the query DSL in"},
		{args: []string{"logs", "--query-file", empty}, err: "--query-file " + empty + " is empty"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			rec.reset()
			var out, errOut bytes.Buffer
			f := newFactory(strings.NewReader(tc.stdin), &out, &errOut, func(string) string { return "" })
			args := append([]string{"search"}, tc.args...)
			code := run(context.Background(), f, append(args, "--no-sign", "--endpoint", rec.srv.URL))
			if tc.err != "" {
				if code != exitUsage || !strings.Contains(errOut.String(), tc.err) {
					t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errOut.String(), exitUsage, tc.err)
				}
				if n := len(rec.requests()); n != 0 {
					t.Errorf("%d requests sent for a usage error", n)
				}
				return
			}
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, errOut.String())
			}
			index := tc.index
			if index == "" {
				index = tc.args[0]
			}
			reqs := rec.requests()
			if len(reqs) == 0 {
				t.Fatal("no request reached the server")
			}
			if first := reqs[0]; !strings.HasPrefix(first.path, "/"+index+"/_search") {
				t.Errorf("first request %s, want a search of %s", first.path, index)
			}
			if !slices.Contains(tc.args, "--all") {
				if got := normJSON(t, reqs[0].body); got != tc.body {
					t.Errorf("search body %s, want %s", got, tc.body)
				}
			}
			if ok := formatSeen(tc.format, slices.Contains(tc.args, "--all"), out.String()); !ok {
				t.Errorf("output is not %s: %q", tc.format, out.String())
			}
		})
	}
}

// searchRecorder is an open OpenSearch emulator behind a proxy that keeps
// the requests it passes on.
type searchRecorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct{ path, body string }

func newSearchRecorder(t *testing.T) *searchRecorder {
	emu, err := opensearchtest.New(opensearchtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	for _, ix := range []string{"logs", "logs-1"} {
		emu.AddDocs(ix, json.RawMessage(`{"level":"ERROR","msg":"a,b","id":1,"@timestamp":"2026-01-01T00:00:00Z","a":1,"b":{"c":2}}`),
			json.RawMessage(`{"level":"INFO","msg":"c","id":2,"@timestamp":"2026-01-01T00:00:01Z","a":3,"b":{"c":4}}`))
	}
	target, _ := url.Parse(emu.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	r := &searchRecorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(b))
		r.mu.Lock()
		r.reqs = append(r.reqs, recorded{req.URL.Path, string(b)})
		r.mu.Unlock()
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *searchRecorder) reset() { r.mu.Lock(); r.reqs = nil; r.mu.Unlock() }

func (r *searchRecorder) requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// normJSON re-encodes a JSON body with sorted keys, numbers kept exact.
func normJSON(t *testing.T, body string) string {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("request body %q: %v", body, err)
	}
	return string(mustJSON(t, v))
}

// formatSeen reports whether out looks like format: the server's answer
// (json), a JSON array (json with --all), JSON lines, or text rows.
func formatSeen(format string, all bool, out string) bool {
	first, _, _ := strings.Cut(out, "\n")
	switch {
	case format == "json" && all:
		return strings.HasPrefix(out, "[")
	case format == "json":
		return strings.HasPrefix(out, "{") && strings.Contains(out, `"hits"`)
	case format == "ndjson":
		return out == "" || (strings.HasPrefix(first, "{") && json.Valid([]byte(first)))
	}
	return !strings.HasPrefix(first, "{") && !strings.HasPrefix(first, "[") // csv, table
}

// TestSearchOutput runs the output paths against a fake Doer.
func TestSearchOutput(t *testing.T) {
	answer := `{"took":1,"hits":{"total":{"value":2,"relation":"eq"},"hits":[` +
		`{"_index":"logs","_id":"1","_source":{"level":"ERROR","msg":"a,b"}},` +
		`{"_index":"logs","_id":"2","_source":{"level":"INFO","msg":"c"}}]}}`
	d := doerFunc(func(ctx context.Context, r *opensearch.Request) (*opensearch.Response, error) {
		if r.Method != "POST" || r.Path != "/logs/_search" {
			t.Errorf("request %s %s", r.Method, r.Path)
		}
		return &opensearch.Response{Status: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(answer))}, nil
	})
	for _, tc := range []struct {
		o    searchOptions
		want string
	}{
		{searchOptions{format: "json"}, answer},
		{searchOptions{format: "ndjson"}, `{"level":"ERROR","msg":"a,b"}` + "\n" + `{"level":"INFO","msg":"c"}` + "\n"},
		{searchOptions{format: "ndjson", withMeta: true}, `{"_index":"logs","_id":"1","_source":{"level":"ERROR","msg":"a,b"}}` + "\n" +
			`{"_index":"logs","_id":"2","_source":{"level":"INFO","msg":"c"}}` + "\n"},
		{searchOptions{format: "csv", fields: []string{"msg", "level"}}, "msg,level\n\"a,b\",ERROR\nc,INFO\n"},
		{searchOptions{format: "table"}, "level  msg\nERROR  a,b\nINFO   c\n"},
	} {
		var out bytes.Buffer
		tc.o.f = newFactory(strings.NewReader(""), &out, io.Discard, func(string) string { return "" })
		tc.o.index = "logs"
		q, err := tc.o.buildQuery()
		if err != nil {
			t.Fatal(err)
		}
		if err := tc.o.search(context.Background(), d, q); err != nil {
			t.Fatal(err)
		}
		if out.String() != tc.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.o.format, out.String(), tc.want)
		}
	}
}

func TestTermWidth(t *testing.T) {
	env := func(v string) func(string) string { return func(string) string { return v } }
	for cols, want := range map[string]int{"": 0, "120": 120, " 80 ": 80, "x": 0, "-5": 0} {
		if got := termWidth(&bytes.Buffer{}, env(cols)); got != want {
			t.Errorf("COLUMNS=%q: %d, want %d", cols, got, want)
		}
	}
}

type doerFunc func(ctx context.Context, r *opensearch.Request) (*opensearch.Response, error)

func (f doerFunc) Do(ctx context.Context, r *opensearch.Request) (*opensearch.Response, error) {
	return f(ctx, r)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

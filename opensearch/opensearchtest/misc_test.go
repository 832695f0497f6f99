package opensearchtest

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCatIndices(t *testing.T) {
	s := newServer(t, Options{})
	s.Synthetic("logs-b", 1500)
	s.AddDocs("logs-a", docs(t, `{"a":1}`, `{"a":2}`)...)
	s.AddDocs("other", docs(t, `{"a":1}`)...)
	r := do(t, s, call{method: "GET", path: "/_cat/indices?v&h=index,docs.count"})
	want := "index  docs.count\nlogs-a 2\nlogs-b 1500\nother  1\n"
	if r.status != 200 || string(r.body) != want || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("%d %q\nwant %q", r.status, r.body, want)
	}
	r = do(t, s, call{method: "GET", path: "/_cat/indices/logs-*?format=json"})
	var rows []map[string]string
	if err := json.Unmarshal(r.body, &rows); err != nil || len(rows) != 2 || rows[1]["index"] != "logs-b" || rows[1]["docs.count"] != "1500" || rows[0]["health"] != "green" {
		t.Fatalf("%s %v", r.body, err)
	}
	r = do(t, s, call{method: "GET", path: "/_cat/indices"})
	if lines := strings.Split(strings.TrimSpace(string(r.body)), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "green open logs-a ") {
		t.Fatalf("%q", r.body)
	}
}

func TestBulkAndCount(t *testing.T) {
	s := newServer(t, Options{})
	s.Synthetic("ro", 5)
	body := `{"index":{"_index":"pets","_id":"1"}}
{"name":"Tom","kind":"cat"}
{"create":{"_index":"pets"}}
{"name":"Rex","kind":"dog"}
{"create":{"_index":"pets","_id":"1"}}
{"name":"dup"}
{"index":{"_index":"ro"}}
{"x":1}
{"delete":{"_index":"pets","_id":"nope"}}
`
	r := do(t, s, call{method: "POST", path: "/_bulk", body: body, header: map[string][]string{"Content-Type": {"application/x-ndjson"}}})
	var res struct {
		Errors bool
		Items  []map[string]struct {
			ID     string `json:"_id"`
			Status int
			Result string
			Error  *struct{ Type string }
		}
	}
	if err := json.Unmarshal(r.body, &res); err != nil || r.status != 200 || len(res.Items) != 5 || !res.Errors {
		t.Fatalf("%d %s", r.status, r.body)
	}
	want := []struct {
		op     string
		status int
		err    string
	}{{"index", 201, ""}, {"create", 201, ""}, {"create", 409, "version_conflict_engine_exception"}, {"index", 400, "illegal_argument_exception"}, {"delete", 404, ""}}
	for i, w := range want {
		it := res.Items[i][w.op]
		if it.Status != w.status || (w.err != "") != (it.Error != nil) || (it.Error != nil && it.Error.Type != w.err) {
			t.Errorf("item %d: %+v, want %+v", i, it, w)
		}
	}
	if len(res.Items[1]["create"].ID) != 20 {
		t.Errorf("auto id %q", res.Items[1]["create"].ID)
	}
	for _, tc := range []struct {
		path, body string
		want       string
	}{
		{"/pets/_count", "", `{"count":2,`},
		{"/pets/_count?q=kind:dog", "", `{"count":1,`},
		{"/pets,ro/_count", `{"query":{"match_all":{}}}`, `{"count":7,`},
		{"/_count", "", `{"count":7,`},
	} {
		r := do(t, s, call{method: "POST", path: tc.path, body: tc.body})
		if r.status != 200 || !strings.HasPrefix(string(r.body), tc.want) {
			t.Errorf("%s: %d %s", tc.path, r.status, r.body)
		}
	}
	r = do(t, s, call{method: "POST", path: "/pets/_bulk", body: `{"index":{}}` + "\n" + `{"a":1}`})
	if r.status != 400 || !strings.Contains(string(r.body), "must be terminated by a newline") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	// Re-indexing replaces the document.
	r = do(t, s, call{method: "PUT", path: "/pets/_doc/1", body: `{"name":"Tom II"}`})
	if r.status != 200 || !strings.Contains(string(r.body), `"result":"updated"`) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = do(t, s, call{method: "GET", path: "/pets/_doc/1"})
	if !strings.Contains(string(r.body), `"_source":{"name":"Tom II"}`) {
		t.Fatalf("%s", r.body)
	}
	if r := do(t, s, call{method: "POST", path: "/pets/_count"}); !strings.HasPrefix(string(r.body), `{"count":2,`) {
		t.Fatalf("%s", r.body)
	}
}

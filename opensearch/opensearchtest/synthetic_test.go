package opensearchtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Queries on synthetic fields count what a direct computation over the
// documents says.
func TestSyntheticFields(t *testing.T) {
	const n = 2000
	s := newServer(t, Options{})
	s.Synthetic("logs", n)
	// Decode every document once, the slow way, to compute expectations.
	var all []map[string]any
	for i := 0; i < n; i += 500 {
		r := do(t, s, call{method: "POST", path: "/logs/_search", body: fmt.Sprintf(`{"size":500,"sort":["_doc"],"search_after":[%d]}`, i-1)})
		var res struct {
			Hits struct {
				Hits []struct {
					Source map[string]any `json:"_source"`
				}
			}
		}
		d := json.NewDecoder(strings.NewReader(string(r.body)))
		d.UseNumber()
		if err := d.Decode(&res); err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Hits.Hits {
			all = append(all, h.Source)
		}
	}
	if len(all) != n {
		t.Fatalf("%d docs", len(all))
	}
	count := func(f func(m map[string]any) bool) int {
		c := 0
		for _, m := range all {
			if f(m) {
				c++
			}
		}
		return c
	}
	sub := func(m map[string]any, a, b string) string { return fmt.Sprint(m[a].(map[string]any)[b]) }
	tests := []struct {
		q    string
		want int
	}{
		{`{"term":{"host.name":"host-3"}}`, count(func(m map[string]any) bool { return sub(m, "host", "name") == "host-3" })},
		{`{"term":{"user.id":7}}`, count(func(m map[string]any) bool { return sub(m, "user", "id") == "7" })},
		{`{"match":{"message":"login"}}`, count(func(m map[string]any) bool { return strings.Contains(m["message"].(string), "/login ") })},
		{`{"range":{"@timestamp":{"gte":"2024-01-01T00:10:00Z","lt":"2024-01-01T00:20:00Z"}}}`, 600},
		{`{"range":{"seq":{"gt":1152921504606846976,"lte":1152921504606846986}}}`, 10},
		{`{"range":{"bytes":{"lt":50000}}}`, count(func(m map[string]any) bool { v, _ := m["bytes"].(json.Number).Int64(); return v < 50000 })},
		{`{"query_string":{"query":"host.name:host-1 AND level:ERROR"}}`, count(func(m map[string]any) bool {
			return sub(m, "host", "name") == "host-1" && m["level"] == "ERROR"
		})},
		{`{"query_string":{"query":"user.name:user-1*"}}`, count(func(m map[string]any) bool { return strings.HasPrefix(sub(m, "user", "name"), "user-1") })},
		{`{"exists":{"field":"host"}}`, n},
		{`{"exists":{"field":"nope"}}`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			r := do(t, s, call{method: "POST", path: "/logs/_count", body: `{"query":` + tc.q + `}`})
			var c struct{ Count int }
			if err := json.Unmarshal(r.body, &c); err != nil || r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if c.Count != tc.want || (tc.want == 0 && tc.q != `{"exists":{"field":"nope"}}`) {
				t.Fatalf("count %d, want %d", c.Count, tc.want)
			}
		})
	}
}

// Documents missing the sort field sort last in both directions, as
// OpenSearch's default "missing": "_last".
func TestSortMissing(t *testing.T) {
	s := newServer(t, Options{})
	ids := s.AddDocs("m", docs(t, `{"v":2}`, `{}`, `{"v":1}`, `{"v":[5,0]}`)...)
	for _, tc := range []struct {
		sort string
		want []string
	}{
		{`[{"v":"asc"}]`, []string{ids[3], ids[2], ids[0], ids[1]}},  // array sorts by its min ascending
		{`[{"v":"desc"}]`, []string{ids[3], ids[0], ids[2], ids[1]}}, // and by its max descending
		{`[{"_id":"asc"}]`, []string{ids[0], ids[1], ids[2], ids[3]}},
	} {
		r := do(t, s, call{method: "POST", path: "/m/_search", body: `{"sort":` + tc.sort + `}`})
		got, _ := hitIDs(t, r)
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: got %v want %v\n%s", tc.sort, got, tc.want, r.body)
		}
	}
}

// The FGAC message names the security plugin's action for each route.
func TestFGACPermissions(t *testing.T) {
	w := newWorld(t)
	s := w.server(t, Options{FGAC: true, Allow: func(string, string, string) bool { return false }})
	s.Synthetic("logs", 1)
	for _, tc := range []struct{ method, path, body, perm string }{
		{"POST", "/logs/_search", "", "indices:data/read/search"},
		{"POST", "/logs/_search/point_in_time?keep_alive=1m", "", "indices:data/read/point_in_time/create"},
		{"POST", "/_search/scroll", `{"scroll_id":"x"}`, "indices:data/read/scroll"},
		{"POST", "/_bulk", "{}\n", "indices:data/write/bulk"},
		{"GET", "/logs/_doc/1", "", "indices:data/read/get"},
		{"GET", "/", "", "cluster:monitor/main"},
	} {
		r := do(t, s, call{method: tc.method, path: tc.path, body: tc.body, creds: &w.creds})
		if r.status != 403 || !strings.Contains(string(r.body), "no permissions for ["+tc.perm+"]") {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, r.status, r.body)
		}
	}
}

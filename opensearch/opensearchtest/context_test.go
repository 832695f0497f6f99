package opensearchtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/sts/ststest"
)

// exportPIT pages one slice (or all, max 0) through a PIT with
// search_after and returns the ids.
func exportPIT(t *testing.T, s *Server, pit string, slice, max, size int, sort string) []string {
	t.Helper()
	var ids []string
	var after []any
	for {
		body := fmt.Sprintf(`{"size":%d,"pit":{"id":%q,"keep_alive":"1m"},"sort":%s`, size, pit, sort)
		if max > 0 {
			body += fmt.Sprintf(`,"slice":{"id":%d,"max":%d}`, slice, max)
		}
		if after != nil {
			b, _ := json.Marshal(after)
			body += `,"search_after":` + string(b)
		}
		r := do(t, s, call{method: "POST", path: "/_search", body: body + "}"})
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r.json(t)["pit_id"] != pit {
			t.Fatalf("no pit_id in %s", r.body)
		}
		page, last := hitIDs(t, r)
		if len(page) == 0 {
			return ids
		}
		ids = append(ids, page...)
		after = last
	}
}

func createPIT(t *testing.T, s *Server, expr string) string {
	t.Helper()
	r := do(t, s, call{method: "POST", path: "/" + expr + "/_search/point_in_time?keep_alive=1m"})
	if r.status != 200 {
		t.Fatalf("create pit: %d %s", r.status, r.body)
	}
	return r.json(t)["pit_id"].(string)
}

func checkPartition(t *testing.T, parts [][]string, want int) {
	t.Helper()
	seen := map[string]int{}
	for i, p := range parts {
		for _, id := range p {
			if j, dup := seen[id]; dup {
				t.Fatalf("id %s in slices %d and %d", id, j, i)
			}
			seen[id] = i
		}
	}
	if len(seen) != want {
		t.Fatalf("%d distinct ids, want %d", len(seen), want)
	}
}

func TestPITSlices(t *testing.T) {
	for _, svc := range []string{"es", "aoss"} {
		t.Run(svc, func(t *testing.T) {
			s := newServer(t, Options{Service: svc})
			s.Synthetic("logs-1", 2500)
			var raw []string
			for i := 0; i < 301; i++ {
				raw = append(raw, fmt.Sprintf(`{"n":%d}`, i))
			}
			s.AddDocs("logs-2", docs(t, raw...)...)
			pit := createPIT(t, s, "logs-*")
			// Documents added after the PIT are not in it.
			s.AddDocs("logs-2", docs(t, `{"n":999}`)...)
			for _, sort := range []string{`["_shard_doc"]`, `[{"_doc":"asc"}]`} {
				all := exportPIT(t, s, pit, 0, 0, 1000, sort)
				checkPartition(t, [][]string{all}, 2801)
				var parts [][]string
				for i := 0; i < 4; i++ {
					parts = append(parts, exportPIT(t, s, pit, i, 4, 333, sort))
				}
				checkPartition(t, parts, 2801)
			}
			// Synthetic only, sorted by a monotonic field, sliced.
			pit2 := createPIT(t, s, "logs-1")
			var parts [][]string
			for i := 0; i < 3; i++ {
				parts = append(parts, exportPIT(t, s, pit2, i, 3, 400, `[{"@timestamp":"asc"},{"_shard_doc":"asc"}]`))
			}
			checkPartition(t, parts, 2500)
			if st := s.Stats(); st.PITCreated != 2 || st.OpenContexts() != 2 {
				t.Fatalf("stats %+v", st)
			}
			r := do(t, s, call{method: "DELETE", path: "/_search/point_in_time", body: fmt.Sprintf(`{"pit_id":[%q,"nope"]}`, pit)})
			want := fmt.Sprintf(`{"pits":[{"pit_id":%q,"successful":true},{"pit_id":"nope","successful":false}]}`, pit)
			if r.status != 200 || string(r.body) != want {
				t.Fatalf("%d %s", r.status, r.body)
			}
			r = do(t, s, call{method: "POST", path: "/_search", body: fmt.Sprintf(`{"pit":{"id":%q}}`, pit)})
			if r.status != 404 || !strings.Contains(string(r.body), "search_context_missing_exception") {
				t.Fatalf("deleted pit: %d %s", r.status, r.body)
			}
			do(t, s, call{method: "DELETE", path: "/_search/point_in_time/_all"})
			if st := s.Stats(); st.PITDeleted != 2 || st.OpenContexts() != 0 {
				t.Fatalf("stats %+v", st)
			}
			r = do(t, s, call{method: "POST", path: "/logs-1/_search", body: `{"pit":{"id":"x"}}`})
			if r.status != 400 || !strings.Contains(string(r.body), "[indices] cannot be used with point in time") {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
}

func TestPITExpires(t *testing.T) {
	clk := &ststest.Clock{}
	s := newServer(t, Options{Now: clk.Now})
	s.Synthetic("logs", 10)
	pit := createPIT(t, s, "logs")
	clk.Advance(59 * time.Second)
	exportPIT(t, s, pit, 0, 0, 5, `["_shard_doc"]`) // keep_alive 1m extends it
	clk.Advance(59 * time.Second)
	if s.Stats().OpenPITs != 1 {
		t.Fatal("pit expired despite keep_alive")
	}
	clk.Advance(2 * time.Minute)
	if st := s.Stats(); st.OpenPITs != 0 || st.PITDeleted != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func scrollAll(t *testing.T, s *Server, path, body string, viaQuery bool) (ids []string, scrollID string) {
	t.Helper()
	r := do(t, s, call{method: "POST", path: path + "?scroll=1m", body: body})
	for {
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		page, _ := hitIDs(t, r)
		scrollID = r.json(t)["_scroll_id"].(string)
		if len(page) == 0 {
			return ids, scrollID
		}
		ids = append(ids, page...)
		if viaQuery {
			r = do(t, s, call{method: "GET", path: "/_search/scroll?scroll=1m&scroll_id=" + strings.ReplaceAll(scrollID, "=", "%3D")})
		} else {
			r = do(t, s, call{method: "POST", path: "/_search/scroll", body: fmt.Sprintf(`{"scroll":"1m","scroll_id":%q}`, scrollID)})
		}
	}
}

func TestScroll(t *testing.T) {
	s := newServer(t, Options{})
	s.Synthetic("logs", 1234)
	ids, sid := scrollAll(t, s, "/logs/_search", `{"size":100}`, false)
	checkPartition(t, [][]string{ids}, 1234)
	if !strings.Contains(sid, "=") {
		t.Errorf("scroll id %q has no '=': clients must not be tested on easy ids", sid)
	}
	var parts [][]string
	var sids []string
	for i := 0; i < 3; i++ {
		p, sid := scrollAll(t, s, "/logs/_search", fmt.Sprintf(`{"size":77,"slice":{"id":%d,"max":3},"query":{"query_string":{"query":"level:ERROR OR level:WARN"}}}`, i), i == 1)
		parts = append(parts, p)
		sids = append(sids, sid)
	}
	want := 0
	for i := 0; i < 1234; i++ {
		if l := SyntheticLevel(i); l == "ERROR" || l == "WARN" {
			want++
		}
	}
	checkPartition(t, parts, want)
	// Sorted scroll keeps the order across pages.
	ids, _ = scrollAll(t, s, "/logs/_search", `{"size":50,"sort":[{"seq":"desc"}]}`, false)
	if ids[0] != SyntheticID(1233) || ids[1233] != SyntheticID(0) {
		t.Fatalf("order %s..%s", ids[0], ids[len(ids)-1])
	}
	if st := s.Stats(); st.ScrollCreated != 5 || st.OpenScrolls != 5 {
		t.Fatalf("stats %+v", st)
	}
	r := do(t, s, call{method: "DELETE", path: "/_search/scroll", body: fmt.Sprintf(`{"scroll_id":[%q,%q]}`, sids[0], sids[1])})
	if r.status != 200 || string(r.body) != `{"succeeded":true,"num_freed":2}` {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = do(t, s, call{method: "POST", path: "/_search/scroll", body: fmt.Sprintf(`{"scroll_id":%q}`, sids[0])})
	if r.status != 404 || !strings.Contains(string(r.body), "search_context_missing_exception") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = do(t, s, call{method: "DELETE", path: "/_search/scroll/_all"})
	if r.status != 200 || string(r.body) != `{"succeeded":true,"num_freed":3}` {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = do(t, s, call{method: "DELETE", path: "/_search/scroll", body: `{"scroll_id":"gone"}`})
	if r.status != 404 || string(r.body) != `{"succeeded":true,"num_freed":0}` {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if st := s.Stats(); st.ScrollCleared != 5 || st.OpenContexts() != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestEngines(t *testing.T) {
	tests := []struct {
		name   string
		o      Options
		method string
		path   string
		body   string
		status int
		want   string
	}{
		{"os1 no pit", Options{Engine: EngineOpenSearch1}, "POST", "/logs/_search/point_in_time?keep_alive=1m", "", 400,
			`{"error":"no handler found for uri [/logs/_search/point_in_time?keep_alive=1m] and method [POST]"}`},
		{"es710 no pit", Options{Engine: EngineES710}, "POST", "/logs/_search/point_in_time?keep_alive=1m", "", 400, `no handler found`},
		{"es710 type", Options{Engine: EngineES710}, "POST", "/logs/_search?size=1", "", 200, `"_index":"logs","_type":"_doc","_id":"0000000000"`},
		{"es710 info", Options{Engine: EngineES710}, "GET", "/", "", 200, `"number":"7.10.2"`},
		{"os2 info", Options{}, "GET", "/", "", 200, `"distribution":"opensearch","number":"2.13.0"`},
		{"aoss no scroll", Options{Service: "aoss"}, "POST", "/logs/_search?scroll=1m", "", 404, `"error":{"reason":"Not Found","type":"Not Found"}}`},
		{"aoss no scroll continuation", Options{Service: "aoss"}, "POST", "/_search/scroll", `{"scroll_id":"x"}`, 404, `"Not Found"`},
		{"aoss no root", Options{Service: "aoss"}, "GET", "/", "", 404, `"Not Found"`},
		{"aoss pit", Options{Service: "aoss"}, "POST", "/logs/_search/point_in_time?keep_alive=1m", "", 200, `"pit_id":`},
		{"pit needs keep_alive", Options{}, "POST", "/logs/_search/point_in_time", "", 400, `keep alive not specified`},
		{"aoss refresh", Options{Service: "aoss"}, "POST", "/_bulk?refresh=true", "{}\n", 400, `true refresh policy is not supported.`},
		{"aoss no PUT bulk", Options{Service: "aoss"}, "PUT", "/_bulk", "{}\n", 400, `no handler found`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, tc.o)
			s.Synthetic("logs", 3)
			r := do(t, s, call{method: tc.method, path: tc.path, body: tc.body})
			if r.status != tc.status || !strings.Contains(string(r.body), tc.want) {
				t.Fatalf("got %d %s\nwant %d %s", r.status, r.body, tc.status, tc.want)
			}
			if tc.o.Service == "aoss" && r.header.Get("Server") != "aoss-amazon" {
				t.Errorf("Server header %q", r.header.Get("Server"))
			}
		})
	}
}

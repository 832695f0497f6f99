package opensearchtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// animals are fixtures with known ids (AddDocs returns them).
func animals(t *testing.T, s *Server) map[string]string {
	t.Helper()
	ids := s.AddDocs("cats_and_dogs", docs(t,
		`{"name":"Tom","kind":"cat","description":"a farm cat","age":3,"owner":{"name":"Ann","city":"Lyon"},"tags":["indoor","old"]}`,
		`{"name":"Rex","kind":"dog","description":"farm dog, guards sheep","age":7,"owner":{"name":"Bob","city":"Paris"}}`,
		`{"name":"Felix","kind":"cat","description":"City cat","age":5,"owner":{"name":"Ann","city":"Paris"}}`,
		`{"name":"Fido","kind":"dog","description":"lazy dog","age":1,"born":"2023-05-01T00:00:00Z"}`,
		`{"name":"Élodie","kind":"cat","description":"café cat","age":9}`,
	)...)
	return map[string]string{"Tom": ids[0], "Rex": ids[1], "Felix": ids[2], "Fido": ids[3], "Élodie": ids[4]}
}

func TestQueries(t *testing.T) {
	s := newServer(t, Options{})
	id := animals(t, s)
	tests := []struct {
		name  string
		path  string
		body  string
		names []string // expected, in document order
	}{
		{"match_all", "", `{"query":{"match_all":{}}}`, []string{"Tom", "Rex", "Felix", "Fido", "Élodie"}},
		{"no query", "", ``, []string{"Tom", "Rex", "Felix", "Fido", "Élodie"}},
		{"match", "", `{"query":{"match":{"description":"farm"}}}`, []string{"Tom", "Rex"}},
		{"match or", "", `{"query":{"match":{"description":"farm city"}}}`, []string{"Tom", "Rex", "Felix"}},
		{"match and", "", `{"query":{"match":{"description":{"query":"farm cat","operator":"and"}}}}`, []string{"Tom"}},
		{"match case", "", `{"query":{"match":{"description":"CITY"}}}`, []string{"Felix"}},
		{"match unicode", "", `{"query":{"match":{"description":"café"}}}`, []string{"Élodie"}},
		{"match_phrase", "", `{"query":{"match_phrase":{"description":"guards sheep"}}}`, []string{"Rex"}},
		{"term keyword exact", "", `{"query":{"term":{"name.keyword":"Tom"}}}`, []string{"Tom"}},
		{"term keyword case", "", `{"query":{"term":{"name.keyword":"tom"}}}`, nil},
		{"term text token", "", `{"query":{"term":{"description":"farm"}}}`, []string{"Tom", "Rex"}},
		{"term number", "", `{"query":{"term":{"age":{"value":5}}}}`, []string{"Felix"}},
		{"terms", "", `{"query":{"terms":{"kind":["dog"]}}}`, []string{"Rex", "Fido"}},
		{"nested field", "", `{"query":{"term":{"owner.city":"paris"}}}`, []string{"Rex", "Felix"}},
		{"array field", "", `{"query":{"term":{"tags":"old"}}}`, []string{"Tom"}},
		{"range", "", `{"query":{"range":{"age":{"gte":3,"lt":7}}}}`, []string{"Tom", "Felix"}},
		{"range date", "", `{"query":{"range":{"born":{"gte":"2023-01-01"}}}}`, []string{"Fido"}},
		{"exists", "", `{"query":{"exists":{"field":"owner"}}}`, []string{"Tom", "Rex", "Felix"}},
		{"ids", "", fmt.Sprintf(`{"query":{"ids":{"values":[%q]}}}`, id["Fido"]), []string{"Fido"}},
		{"bool", "", `{"query":{"bool":{"must":[{"match":{"kind":"cat"}}],"filter":{"range":{"age":{"gt":3}}},"must_not":[{"term":{"name.keyword":"Élodie"}}]}}}`, []string{"Felix"}},
		{"bool should", "", `{"query":{"bool":{"should":[{"term":{"name.keyword":"Tom"}},{"term":{"name.keyword":"Rex"}}]}}}`, []string{"Tom", "Rex"}},
		{"bool should optional with must", "", `{"query":{"bool":{"must":{"term":{"kind":"dog"}},"should":[{"term":{"name.keyword":"Tom"}}]}}}`, []string{"Rex", "Fido"}},
		{"wildcard", "", `{"query":{"wildcard":{"name.keyword":{"value":"F*"}}}}`, []string{"Felix", "Fido"}},
		{"qs field", "", `{"query":{"query_string":{"query":"description:farm"}}}`, []string{"Tom", "Rex"}},
		{"qs AND", "", `{"query":{"query_string":{"query":"description:farm AND kind:dog"}}}`, []string{"Rex"}},
		{"qs OR", "", `{"query":{"query_string":{"query":"name:Tom OR name:Fido"}}}`, []string{"Tom", "Fido"}},
		{"qs implicit or", "", `{"query":{"query_string":{"query":"name:Tom name:Fido"}}}`, []string{"Tom", "Fido"}},
		{"qs default and", "", `{"query":{"query_string":{"query":"kind:cat age:5","default_operator":"AND"}}}`, []string{"Felix"}},
		{"qs NOT", "", `{"query":{"query_string":{"query":"kind:cat AND NOT owner.name:Ann"}}}`, []string{"Élodie"}},
		{"qs minus", "", `{"query":{"query_string":{"query":"kind:cat -age:9"}}}`, []string{"Tom", "Felix"}},
		{"qs only negative", "", `{"query":{"query_string":{"query":"-kind:cat"}}}`, []string{"Rex", "Fido"}},
		{"qs group", "", `{"query":{"query_string":{"query":"kind:dog AND (age:1 OR age:3)"}}}`, []string{"Fido"}},
		{"qs field group", "", `{"query":{"query_string":{"query":"name:(Tom OR Rex)"}}}`, []string{"Tom", "Rex"}},
		{"qs phrase", "", `{"query":{"query_string":{"query":"description:\"farm dog\""}}}`, []string{"Rex"}},
		{"qs wildcard", "", `{"query":{"query_string":{"query":"name.keyword:Fe*"}}}`, []string{"Felix"}},
		{"qs any field", "", `{"query":{"query_string":{"query":"lyon"}}}`, []string{"Tom"}},
		{"qs range", "", `{"query":{"query_string":{"query":"age:[3 TO 5]"}}}`, []string{"Tom", "Felix"}},
		{"qs range open", "", `{"query":{"query_string":{"query":"age:>5"}}}`, []string{"Rex", "Élodie"}},
		{"qs exists", "", `{"query":{"query_string":{"query":"_exists_:born"}}}`, []string{"Fido"}},
		{"q param", "?q=description:farm", ``, []string{"Tom", "Rex"}},
		{"q param and body", "?q=kind:dog", `{"query":{"match":{"description":"farm"}}}`, []string{"Rex"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, call{method: "POST", path: "/cats_and_dogs/_search" + tc.path, body: tc.body})
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			got, _ := hitIDs(t, r)
			var want []string
			for _, n := range tc.names {
				want = append(want, id[n])
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("got %v want %v (%v)\n%s", got, want, tc.names, r.body)
			}
			tot := r.json(t)["hits"].(map[string]any)["total"].(map[string]any)
			if tot["value"] != json.Number(fmt.Sprint(len(want))) || tot["relation"] != "eq" {
				t.Errorf("total %v", tot)
			}
		})
	}
}

func TestQueryErrors(t *testing.T) {
	s := newServer(t, Options{})
	animals(t, s)
	tests := []struct{ path, body, want string }{
		{"/cats_and_dogs/_search", `{"query":{"nope":{}}}`, `"type":"parsing_exception","reason":"unknown query [nope]"`},
		{"/cats_and_dogs/_search", `{"query":{"query_string":{"query":"(a"}}}`, `query_shard_exception`},
		{"/cats_and_dogs/_search", `{"from":9995,"size":10}`, `Result window is too large, from + size must be less than or equal to: [10000] but was [10005]`},
		{"/cats_and_dogs/_search", `{"search_after":[1]}`, `search_after cannot be used without a sort`},
		{"/cats_and_dogs/_search", `{"slice":{"id":0,"max":2}}`, `[slice] can only be used with [scroll] or [point-in-time] requests`},
		{"/missing/_search", ``, `"type":"index_not_found_exception","reason":"no such index [missing]"`},
		{"/_search/point_in_time", ``, `no handler found`},
		{"/cats_and_dogs/_nope", ``, `no handler found for uri [/cats_and_dogs/_nope] and method [POST]`},
	}
	for _, tc := range tests {
		r := do(t, s, call{method: "POST", path: tc.path, body: tc.body})
		if r.status < 400 || !strings.Contains(string(r.body), tc.want) {
			t.Errorf("%s %s: %d %s, want %s", tc.path, tc.body, r.status, r.body, tc.want)
		}
	}
	// A wildcard matching nothing is an empty result, not an error.
	r := do(t, s, call{method: "POST", path: "/nothing-*/_search"})
	if ids, _ := hitIDs(t, r); r.status != 200 || len(ids) != 0 {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

func TestSourceAndShape(t *testing.T) {
	s := newServer(t, Options{})
	animals(t, s)
	tests := []struct{ name, path, body, want string }{
		{"includes", "", `{"size":1,"_source":["name","owner.city"]}`, `"_source":{"name":"Tom","owner":{"city":"Lyon"}}`},
		{"object form", "", `{"size":1,"_source":{"includes":["owner.*"],"excludes":["owner.name"]}}`, `"_source":{"owner":{"city":"Lyon"}}`},
		{"whole object", "", `{"size":1,"_source":["owner"]}`, `"_source":{"owner":{"city":"Lyon","name":"Ann"}}`},
		{"false", "", `{"size":1,"_source":false}`, `"_score":1.0}`},
		{"param", "?_source_includes=age&size=1", ``, `"_source":{"age":3}`},
		{"raw source kept", "?size=1", ``, `"_source":{"name":"Tom","kind":"cat","description":"a farm cat","age":3,"owner":{"name":"Ann","city":"Lyon"},"tags":["indoor","old"]}`},
		{"total as int", "?rest_total_hits_as_int=true&size=0", ``, `"hits":{"total":5,"max_score":null,"hits":[]}`},
		{"no total", "?size=0", `{"track_total_hits":false}`, `"hits":{"max_score":null,"hits":[]}`},
		{"sorted has null score", "", `{"size":1,"sort":[{"age":"desc"}]}`, `"_score":null,"_source":{"name":"Élodie","kind":"cat","description":"café cat","age":9},"sort":[9]}`},
		{"size", "?size=2", ``, `"_shards":{"total":1,"successful":1,"skipped":0,"failed":0}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, call{method: "POST", path: "/cats_and_dogs/_search" + tc.path, body: tc.body})
			if r.status != 200 || !strings.Contains(string(r.body), tc.want) {
				t.Fatalf("%d %s\nwant %s", r.status, r.body, tc.want)
			}
		})
	}
}

// Paging with search_after over int64 values that differ below float64
// precision must return each document once, in order.
func TestSearchAfterInt64(t *testing.T) {
	s := newServer(t, Options{})
	const base = int64(1) << 60
	var raw []string
	for i := 9; i >= 0; i-- { // stored out of order
		raw = append(raw, fmt.Sprintf(`{"n":%d,"k":"%c"}`, base+int64(i), 'a'+i%3))
	}
	s.AddDocs("big", docs(t, raw...)...)
	for _, sortBody := range []string{`[{"n":"asc"}]`, `[{"n":{"order":"desc"}}]`, `[{"k":"asc"},{"n":"asc"}]`} {
		t.Run(sortBody, func(t *testing.T) {
			var got []int64
			var after []any
			for page := 0; page < 20; page++ {
				body := `{"size":3,"sort":` + sortBody
				if after != nil {
					b, _ := json.Marshal(after)
					body += `,"search_after":` + string(b)
				}
				r := do(t, s, call{method: "POST", path: "/big/_search", body: body + "}"})
				m := r.json(t)
				hits := m["hits"].(map[string]any)["hits"].([]any)
				if len(hits) == 0 {
					break
				}
				for _, h := range hits {
					n, _ := h.(map[string]any)["_source"].(map[string]any)["n"].(json.Number).Int64()
					got = append(got, n)
					after = h.(map[string]any)["sort"].([]any)
				}
			}
			if len(got) != 10 {
				t.Fatalf("got %d docs: %v", len(got), got)
			}
			seen := map[int64]bool{}
			for _, n := range got {
				if seen[n] {
					t.Fatalf("duplicate %d in %v", n, got)
				}
				seen[n] = true
			}
			if sortBody == `[{"n":"asc"}]` && !slices.IsSorted(got) {
				t.Fatalf("not ascending: %v", got)
			}
		})
	}
	// A client that rounded the sort value through float64 lands on a
	// different document boundary: the emulator does not hide that.
	r := do(t, s, call{method: "POST", path: "/big/_search", body: fmt.Sprintf(`{"size":10,"sort":[{"n":"asc"}],"search_after":[%d]}`, base)})
	exact, _ := hitIDs(t, r)
	r = do(t, s, call{method: "POST", path: "/big/_search", body: fmt.Sprintf(`{"size":10,"sort":[{"n":"asc"}],"search_after":[%.0f]}`, float64(base+1))})
	rounded, _ := hitIDs(t, r)
	if len(exact) != 9 || len(rounded) != 9 {
		// float64(base+1) == base: same answer; the point is that
		// sort values echo exactly, checked below.
		t.Fatalf("exact %d rounded %d", len(exact), len(rounded))
	}
	r = do(t, s, call{method: "POST", path: "/big/_search", body: `{"size":1,"sort":[{"n":"desc"}]}`})
	if !strings.Contains(string(r.body), fmt.Sprintf(`"sort":[%d]`, base+9)) {
		t.Fatalf("sort value not exact: %s", r.body)
	}
}

func TestSyntheticSearch(t *testing.T) {
	s := newServer(t, Options{})
	s.Synthetic("logs-a", 1000)
	r := do(t, s, call{method: "POST", path: "/logs-a/_search", body: `{"size":2,"sort":[{"seq":"asc"}],"search_after":[1152921504606846980]}`})
	ids, last := hitIDs(t, r)
	if !slices.Equal(ids, []string{SyntheticID(5), SyntheticID(6)}) || fmt.Sprint(last) != "[1152921504606846982]" {
		t.Fatalf("%v %v %s", ids, last, r.body)
	}
	r = do(t, s, call{method: "POST", path: "/logs-a/_search", body: `{"size":2,"sort":[{"@timestamp":"desc"}],"search_after":[1704067210000]}`})
	if ids, _ := hitIDs(t, r); !slices.Equal(ids, []string{SyntheticID(9), SyntheticID(8)}) {
		t.Fatalf("%v %s", ids, r.body)
	}
	// Counting the levels must add up to the whole index.
	sum := 0
	for _, lv := range []string{"INFO", "WARN", "ERROR", "DEBUG"} {
		r := do(t, s, call{method: "GET", path: "/logs-a/_count?q=level:" + lv})
		var c struct{ Count int }
		json.Unmarshal(r.body, &c)
		n := 0
		for i := 0; i < 1000; i++ {
			if SyntheticLevel(i) == lv {
				n++
			}
		}
		if c.Count != n || n == 0 {
			t.Fatalf("%s: count %d, want %d", lv, c.Count, n)
		}
		sum += n
	}
	if sum != 1000 {
		t.Fatalf("sum %d", sum)
	}
	// The document is the same whether read by search or by id.
	r = do(t, s, call{method: "GET", path: "/logs-a/_doc/" + SyntheticID(42)})
	var d struct {
		Source map[string]any `json:"_source"`
	}
	json.Unmarshal(r.body, &d)
	if d.Source["message"] == nil || d.Source["host"].(map[string]any)["name"] != "host-10" {
		t.Fatalf("%s", r.body)
	}
	// A general sort on a big synthetic index is refused, not slow.
	s.Synthetic("huge", MaxSortDocs+1)
	r = do(t, s, call{method: "POST", path: "/huge/_search", body: `{"sort":[{"level":"asc"}]}`})
	if r.status != 400 || !strings.Contains(string(r.body), "is not emulated") {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

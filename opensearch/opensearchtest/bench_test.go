package opensearchtest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// A million synthetic documents cost no memory to create, and reading a
// page near the end is as cheap as near the start.
func TestSyntheticMillion(t *testing.T) {
	s := newServer(t, Options{})
	s.Synthetic("big", 1_000_000)
	r := do(t, s, call{method: "POST", path: "/big/_search", body: `{"size":3,"sort":["_shard_doc"],"search_after":[999996],"track_total_hits":true}`})
	ids, last := hitIDs(t, r)
	if strings.Join(ids, ",") != "0000999997,0000999998,0000999999" || fmt.Sprint(last) != "[999999]" ||
		!strings.Contains(string(r.body), `"total":{"value":1000000,"relation":"eq"}`) {
		t.Fatalf("%s", r.body)
	}
	r = do(t, s, call{method: "POST", path: "/big/_search", body: `{"size":1}`})
	if !strings.Contains(string(r.body), `"total":{"value":10000,"relation":"gte"}`) {
		t.Fatalf("%s", r.body)
	}
}

// BenchmarkExport pages an n-document synthetic index through a PIT with
// search_after; B/op must not grow with n per document exported.
func BenchmarkExport(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s, err := New(Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			s.Synthetic("logs", n)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				res, err := http.Post(s.URL()+"/logs/_search/point_in_time?keep_alive=1m", "", nil)
				if err != nil {
					b.Fatal(err)
				}
				var pit struct {
					PitID string `json:"pit_id"`
				}
				decode(b, res, &pit)
				after := -1
				got := 0
				for {
					body := fmt.Sprintf(`{"size":1000,"pit":{"id":%q},"sort":["_shard_doc"],"search_after":[%d]}`, pit.PitID, after)
					res, err := http.Post(s.URL()+"/_search", "application/json", strings.NewReader(body))
					if err != nil {
						b.Fatal(err)
					}
					var page struct {
						Hits struct{ Hits []struct{ Sort []int64 } }
					}
					decode(b, res, &page)
					if len(page.Hits.Hits) == 0 {
						break
					}
					got += len(page.Hits.Hits)
					after = int(page.Hits.Hits[len(page.Hits.Hits)-1].Sort[0])
				}
				if got != n {
					b.Fatalf("exported %d of %d", got, n)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}

func decode(b *testing.B, res *http.Response, v any) {
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.Fatal(err)
	}
	if err := jsonUnmarshal(data, v); err != nil {
		b.Fatalf("%v: %.200s", err, data)
	}
}

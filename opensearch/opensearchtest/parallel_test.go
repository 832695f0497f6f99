package opensearchtest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
)

// Sliced exports run concurrently with writers: each slice sees the PIT's
// snapshot, and together the slices deliver it exactly once.
func TestParallelSlices(t *testing.T) {
	s := newServer(t, Options{})
	s.Synthetic("logs-s", 5000)
	var raw []string
	for i := 0; i < 500; i++ {
		raw = append(raw, fmt.Sprintf(`{"n":%d}`, i))
	}
	ids := s.AddDocs("logs-d", docs(t, raw...)...)
	pit := createPIT(t, s, "logs-*")
	const slices = 4
	parts := make([][]string, slices)
	errs := make(chan error, slices+1)
	var wg sync.WaitGroup
	for i := 0; i < slices; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var after []any
			for {
				body := fmt.Sprintf(`{"size":250,"pit":{"id":%q},"sort":["_shard_doc"],"slice":{"id":%d,"max":%d}`, pit, i, slices)
				if after != nil {
					b, _ := json.Marshal(after)
					body += `,"search_after":` + string(b)
				}
				r, err := send(s.URL(), "es", call{method: "POST", path: "/_search", body: body + "}"})
				if err != nil || r.status != 200 {
					errs <- fmt.Errorf("slice %d: %v %d %s", i, err, r.status, r.body)
					return
				}
				var page struct {
					Hits struct {
						Hits []struct {
							ID   string `json:"_id"`
							Sort []any
						}
					}
				}
				d := json.NewDecoder(bytesReader(r.body))
				d.UseNumber()
				if err := d.Decode(&page); err != nil {
					errs <- err
					return
				}
				if len(page.Hits.Hits) == 0 {
					return
				}
				for _, h := range page.Hits.Hits {
					parts[i] = append(parts[i], h.ID)
				}
				after = page.Hits.Hits[len(page.Hits.Hits)-1].Sort
			}
		}(i)
	}
	wg.Add(1)
	go func() { // a writer replacing and deleting documents meanwhile
		defer wg.Done()
		for i := 0; i < 50; i++ {
			body := fmt.Sprintf("{\"index\":{\"_index\":\"logs-d\",\"_id\":%q}}\n{\"n\":-1}\n{\"delete\":{\"_index\":\"logs-d\",\"_id\":%q}}\n", ids[i], ids[i+100])
			if r, err := send(s.URL(), "es", call{method: "POST", path: "/_bulk", body: body}); err != nil || r.status != 200 {
				errs <- fmt.Errorf("bulk: %v %d", err, r.status)
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkPartition(t, parts, 5500)
	for _, id := range ids[:50] {
		found := false
		for _, p := range parts {
			for _, x := range p {
				found = found || x == id
			}
		}
		if !found {
			t.Fatalf("id %s replaced after the PIT is missing from it", id)
		}
	}
}

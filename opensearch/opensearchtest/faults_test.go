package opensearchtest

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
)

func TestFaultRate(t *testing.T) {
	s := newServer(t, Options{Faults: Faults{Rate: 0.5, Seed: 7}})
	s.Synthetic("logs", 10)
	statuses := map[int]int{}
	for i := 0; i < 200; i++ {
		r := do(t, s, call{method: "POST", path: "/logs/_search"})
		statuses[r.status]++
		switch r.status {
		case 429:
			if r.header.Get("Retry-After") != "1" || !strings.Contains(string(r.body), "rejected_execution_exception") {
				t.Fatalf("429: %v %s", r.header, r.body)
			}
		case 503:
			if r.header.Get("Retry-After") != "1" {
				t.Fatalf("503 without Retry-After")
			}
		case 502, 504, 200:
		default:
			t.Fatalf("status %d", r.status)
		}
	}
	faults := 200 - statuses[200]
	if faults < 60 || faults > 140 || statuses[429] == 0 || statuses[502] == 0 || statuses[503] == 0 || statuses[504] == 0 {
		t.Fatalf("statuses %v", statuses)
	}
	st := s.Stats()
	if st.Faults != faults || st.SearchCalls != 200 {
		t.Fatalf("stats %+v, %d faults", st, faults)
	}
	// Deleting contexts is never failed (clients clean up once).
	for i := 0; i < 20; i++ {
		if r := do(t, s, call{method: "DELETE", path: "/_search/scroll/_all"}); r.status >= 429 && r.status != 404 {
			t.Fatalf("delete faulted: %d", r.status)
		}
	}
	// Same seed, same faults.
	s2 := newServer(t, Options{Faults: Faults{Rate: 0.5, Seed: 7}})
	s2.Synthetic("logs", 10)
	got := map[int]int{}
	for i := 0; i < 200; i++ {
		got[do(t, s2, call{method: "POST", path: "/logs/_search"}).status]++
	}
	for k, v := range statuses {
		if got[k] != v {
			t.Fatalf("seeded run differs: %v vs %v", got, statuses)
		}
	}
}

func TestFaultReset(t *testing.T) {
	s := newServer(t, Options{Faults: Faults{ResetAt: []int{2}}})
	s.Synthetic("logs", 100)
	get := func() (int, error) {
		res, err := http.Post(s.URL()+"/logs/_search?size=50", "application/json", nil)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return len(b), err
	}
	n1, err := get()
	if err != nil {
		t.Fatal(err)
	}
	n2, err := get()
	if err == nil {
		t.Fatalf("second search read %d bytes without error", n2)
	}
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("error %v, want a connection reset", err)
	}
	if n2 == 0 || n2 >= n1 {
		t.Fatalf("reset after %d bytes of %d: want mid-body", n2, n1)
	}
	if _, err := get(); err != nil {
		t.Fatalf("third search: %v", err)
	}
	if st := s.Stats(); st.Resets != 1 || st.SearchCalls != 3 {
		t.Fatalf("stats %+v", st)
	}
}

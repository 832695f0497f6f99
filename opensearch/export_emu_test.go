package opensearch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/opensearch"
	"github.com/saml2sts/saml2sts/opensearch/opensearchtest"
)

func noSleep(context.Context, time.Duration) error { return nil }

// emu starts an emulator with n synthetic docs in "logs" and a client for
// it (unsigned; signing is covered end to end in internal/cli).
func emu(t *testing.T, o opensearchtest.Options, n int) (*opensearchtest.Server, opensearch.Doer) {
	t.Helper()
	srv, err := opensearchtest.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	srv.Synthetic("logs", n)
	svc := o.Service
	if svc == "" {
		svc = "es"
	}
	ep, err := opensearch.ParseEndpoint(srv.URL(), svc, "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := opensearch.New(opensearch.Options{Endpoint: ep, Retry: opensearch.Retry{Sleep: noSleep, Attempts: 10}})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// collect records ids and sort values; it can cancel after a number of
// hits. The exporter serialises Write.
type collect struct {
	ids    []string
	sorts  [][]string
	after  int
	cancel context.CancelFunc
}

func (c *collect) Write(h *opensearch.Hit) error {
	c.ids = append(c.ids, h.ID)
	var s []string
	for _, v := range h.Sort {
		s = append(s, string(v))
	}
	c.sorts = append(c.sorts, s)
	if c.cancel != nil && len(c.ids) == c.after {
		c.cancel()
	}
	return nil
}
func (c *collect) Close() error { return nil }

// onceEach fails unless ids are the n synthetic ids, each exactly once.
func onceEach(t *testing.T, ids []string, n int) {
	t.Helper()
	seen := make(map[string]int, len(ids))
	for _, id := range ids {
		seen[id]++
	}
	dups, missing := 0, 0
	var first []string
	for id, c := range seen {
		if c > 1 {
			dups++
			if len(first) < 5 {
				first = append(first, "dup "+id)
			}
		}
	}
	for i := range n {
		if seen[opensearchtest.SyntheticID(i)] == 0 {
			missing++
			if len(first) < 10 {
				first = append(first, "missing "+opensearchtest.SyntheticID(i))
			}
		}
	}
	if len(ids) != n || dups > 0 || missing > 0 {
		t.Fatalf("%d ids for %d docs: %d duplicated, %d missing (%v)", len(ids), n, dups, missing, first)
	}
}

func TestExportEmulator(t *testing.T) {
	for _, tc := range []struct {
		name   string
		o      opensearchtest.Options
		slices int
		mode   string
	}{
		{"opensearch 2 pit", opensearchtest.Options{}, 1, "pit"},
		{"opensearch 2 pit slices", opensearchtest.Options{}, 4, "pit"},
		{"opensearch 1.3 scroll", opensearchtest.Options{Engine: opensearchtest.EngineOpenSearch1}, 1, "scroll"},
		{"elasticsearch 7.10 scroll slices", opensearchtest.Options{Engine: opensearchtest.EngineES710}, 3, "scroll"},
		{"aoss pit", opensearchtest.Options{Service: "aoss"}, 1, "pit"},
		{"aoss pit slices", opensearchtest.Options{Service: "aoss"}, 2, "pit"},
		{"faults pit", opensearchtest.Options{Faults: opensearchtest.Faults{Rate: 0.1, ResetAt: []int{3, 8, 9}, Seed: 7}}, 1, "pit"},
		{"faults pit slices", opensearchtest.Options{Faults: opensearchtest.Faults{Rate: 0.1, ResetAt: []int{4, 11}, Seed: 3}}, 4, "pit"},
		{"faults scroll", opensearchtest.Options{Engine: opensearchtest.EngineOpenSearch1, Faults: opensearchtest.Faults{Rate: 0.1, ResetAt: []int{2, 6, 7}, Seed: 5}}, 1, "scroll"},
		{"faults scroll slices", opensearchtest.Options{Engine: opensearchtest.EngineES710, Faults: opensearchtest.Faults{Rate: 0.1, ResetAt: []int{5, 12}, Seed: 11}}, 3, "scroll"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 7_777
			srv, c := emu(t, tc.o, n)
			var out collect
			var notes strings.Builder
			e := &opensearch.Export{Query: &opensearch.Query{Index: "logs"}, PageSize: 500, Slices: tc.slices,
				Out: &out, Notice: &notes, Sleep: noSleep}
			st, err := e.Run(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			onceEach(t, out.ids, n)
			s := srv.Stats()
			if st.Mode != tc.mode {
				t.Errorf("mode %s, want %s (notes %q)", st.Mode, tc.mode, notes.String())
			}
			if s.OpenContexts() != 0 {
				t.Errorf("contexts left open: %+v", s)
			}
			switch tc.mode {
			case "pit":
				if s.PITCreated != 1 || s.PITDeleted != 1 || s.ScrollCreated != 0 {
					t.Errorf("PIT created %d deleted %d, scrolls %d", s.PITCreated, s.PITDeleted, s.ScrollCreated)
				}
			case "scroll":
				if s.ScrollCreated < tc.slices || s.ScrollCleared != s.ScrollCreated || !strings.Contains(notes.String(), "scroll instead") {
					t.Errorf("scrolls created %d cleared %d; notes %q", s.ScrollCreated, s.ScrollCleared, notes.String())
				}
			}
			if tc.o.Faults.Rate > 0 {
				// A call picked for a reset may get a 429/5xx instead,
				// depending on how the slices interleave.
				if s.Faults == 0 || s.Resets == 0 || st.Retries < int64(s.Resets) {
					t.Errorf("faults %d resets %d (of %d asked), pages fetched again %d", s.Faults, s.Resets, len(tc.o.Faults.ResetAt), st.Retries)
				}
			}
		})
	}
}

// TestExportInt64Sort sorts on "seq" (2^60 + i, far above 2^53) both ways:
// a client that rounded search_after through float64 would skip or repeat
// documents, and the sort values must come back exactly.
func TestExportInt64Sort(t *testing.T) {
	for _, desc := range []bool{false, true} {
		t.Run(fmt.Sprint("desc=", desc), func(t *testing.T) {
			const n = 3_000
			_, c := emu(t, opensearchtest.Options{}, n)
			var out collect
			e := &opensearch.Export{Query: &opensearch.Query{Index: "logs", Sort: []opensearch.SortField{{Field: "seq", Desc: desc}}},
				PageSize: 128, Out: &out, Sleep: noSleep}
			if _, err := e.Run(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			onceEach(t, out.ids, n)
			for k, id := range out.ids {
				i, _ := strconv.Atoi(id)
				want := strconv.FormatInt(opensearchtest.SeqBase+int64(i), 10)
				if out.sorts[k][0] != want {
					t.Fatalf("hit %s sort %v, want seq %s", id, out.sorts[k], want)
				}
				if k > 0 {
					prev, _ := strconv.Atoi(out.ids[k-1])
					if (prev > i) != desc {
						t.Fatalf("order broken at %d: %d then %d", k, prev, i)
					}
				}
			}
		})
	}
}

// TestExportCancel stops exports half way: the contexts are deleted.
func TestExportCancel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		o      opensearchtest.Options
		slices int
	}{
		{"pit", opensearchtest.Options{}, 1},
		{"pit slices", opensearchtest.Options{}, 3},
		{"scroll slices", opensearchtest.Options{Engine: opensearchtest.EngineOpenSearch1}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := emu(t, tc.o, 20_000)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := &collect{after: 2_000, cancel: cancel}
			e := &opensearch.Export{Query: &opensearch.Query{Index: "logs"}, PageSize: 250, Slices: tc.slices, Out: out, Sleep: noSleep}
			_, err := e.Run(ctx, c)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if len(out.ids) >= 20_000 {
				t.Fatalf("cancel did not stop the export (%d hits)", len(out.ids))
			}
			s := srv.Stats()
			if s.OpenContexts() != 0 || s.PITCreated+s.ScrollCreated == 0 {
				t.Errorf("contexts after cancel: %+v", s)
			}
		})
	}
}

// TestSearchEmulator runs single searches with a query string, sort and
// _source filtering.
func TestSearchEmulator(t *testing.T) {
	_, c := emu(t, opensearchtest.Options{}, 500)
	resp, err := opensearch.Search(context.Background(), c, &opensearch.Query{Index: "logs", String: "level:ERROR",
		Size: 5, Sort: []opensearch.SortField{{Field: "seq", Desc: true}}, Fields: []string{"level", "seq"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	w, _ := opensearch.NewHitWriter(&b, opensearch.FormatOptions{Format: "csv", Fields: []string{"level", "seq"}})
	n, err := opensearch.WriteHits(resp.Body, w)
	if err != nil || w.Close() != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if n != 5 || len(lines) != 6 || lines[0] != "level,seq" {
		t.Fatalf("%d hits:\n%s", n, b.String())
	}
	last := int64(1) << 62
	for _, l := range lines[1:] {
		lvl, seq, _ := strings.Cut(l, ",")
		v, err := strconv.ParseInt(seq, 10, 64)
		if lvl != "ERROR" || err != nil || v >= last || v < opensearchtest.SeqBase {
			t.Fatalf("row %q (after %d)", l, last)
		}
		last = v
	}

	_, err = opensearch.Search(context.Background(), c, &opensearch.Query{Index: "nope"})
	var he *opensearch.HTTPError
	if !errors.As(err, &he) || he.Status != 404 {
		t.Fatalf("missing index: %v", err)
	}
}

// BenchmarkExportNDJSON exports 100k synthetic docs in process (client and
// emulator together) to ndjson on io.Discard.
func BenchmarkExportNDJSON(b *testing.B) {
	srv, err := opensearchtest.New(opensearchtest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	const n = 100_000
	srv.Synthetic("logs", n)
	ep, _ := opensearch.ParseEndpoint(srv.URL(), "es", "eu-west-1")
	c, _ := opensearch.New(opensearch.Options{Endpoint: ep})
	for b.Loop() {
		w, _ := opensearch.NewHitWriter(io.Discard, opensearch.FormatOptions{Format: "ndjson"})
		e := &opensearch.Export{Query: &opensearch.Query{Index: "logs"}, Out: w}
		st, err := e.Run(context.Background(), c)
		if err != nil || st.Hits != n {
			b.Fatalf("%d hits: %v", st.Hits, err)
		}
		w.Close()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "docs/s")
}

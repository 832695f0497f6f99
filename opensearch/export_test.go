package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeES is a small in-memory OpenSearch for the export logic: ordered
// docs with an int64 field n beyond 2^53, PIT + search_after with a
// _shard_doc tie-breaker, scroll cursors that advance before the body is
// sent (like the real thing), slices, and bodies cut mid-stream on chosen
// request numbers.
type fakeES struct {
	mu         sync.Mutex
	docs       []fakeDoc
	noPIT      bool
	noShardDoc bool
	noIDSort   bool
	noScroll   bool
	breakAt    map[int]bool // request numbers (1-based) whose body breaks
	failAll    bool         // every search body breaks
	reqs       int
	pits       map[string]bool
	scrolls    map[string]*cursor
	seq        int
	deleted    []string
	searchLog  []map[string]json.RawMessage
	cancelAt   int // cancel() on this request number
	expireAt   int // every context expires at this request number
	cancel     context.CancelFunc
}

type fakeDoc struct {
	id string
	n  int64
}

type cursor struct {
	hits []int // positions, in order
	at   int
	size int
}

const big = int64(1) << 53 // 9007199254740992: float64 can't tell big+1 from big

func newFakeES(n int) *fakeES {
	f := &fakeES{pits: map[string]bool{}, scrolls: map[string]*cursor{}, breakAt: map[int]bool{}}
	for i := range n {
		// n values collide in pairs (ties are what the tie-breaker is for)
		// and differ only beyond float64 precision.
		f.docs = append(f.docs, fakeDoc{id: fmt.Sprintf("d%04d", i), n: big + int64(i/2)})
	}
	return f
}

func jsonResp(status int, v any) *Response {
	b, _ := json.Marshal(v)
	return &Response{Status: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(b))}
}

type brokenReader struct{}

func (brokenReader) Read([]byte) (int, error) {
	return 0, errors.New("read tcp: connection reset by peer")
}

func (f *fakeES) Do(ctx context.Context, r *Request) (*Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs++
	if f.cancelAt > 0 && f.reqs == f.cancelAt {
		f.cancel()
	}
	if f.expireAt > 0 && f.reqs == f.expireAt {
		clear(f.pits)
		clear(f.scrolls)
	}
	var body map[string]json.RawMessage
	if r.Body != nil {
		dec := json.NewDecoder(bytes.NewReader(r.Body))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			return jsonResp(400, map[string]any{"error": map[string]string{"type": "parse_exception", "reason": err.Error()}}), nil
		}
	}
	switch {
	case r.Method == "POST" && strings.HasSuffix(r.Path, "/_search/point_in_time"):
		if f.noPIT {
			return jsonResp(400, map[string]any{"error": map[string]string{"type": "invalid_type_name_exception",
				"reason": "Document mapping type name can't start with '_', found: [_search]"}}), nil
		}
		if r.Query.Get("keep_alive") == "" {
			return jsonResp(400, map[string]any{"error": map[string]string{"type": "action_request_validation_exception", "reason": "keep_alive missing"}}), nil
		}
		f.seq++
		id := fmt.Sprintf("pit-%d", f.seq)
		f.pits[id] = true
		return jsonResp(200, map[string]any{"pit_id": id}), nil
	case r.Method == "DELETE" && r.Path == "/_search/point_in_time":
		var ids []string
		json.Unmarshal(body["pit_id"], &ids)
		for _, id := range ids {
			delete(f.pits, id)
			f.deleted = append(f.deleted, id)
		}
		return jsonResp(200, map[string]any{}), nil
	case r.Method == "DELETE" && r.Path == "/_search/scroll":
		var ids []string
		json.Unmarshal(body["scroll_id"], &ids)
		for _, id := range ids {
			delete(f.scrolls, id)
			f.deleted = append(f.deleted, id)
		}
		return jsonResp(200, map[string]any{}), nil
	case r.Method == "POST" && r.Path == "/_search/scroll":
		var id string
		json.Unmarshal(body["scroll_id"], &id)
		c := f.scrolls[id]
		if c == nil {
			return jsonResp(404, map[string]any{"error": map[string]string{"type": "search_context_missing_exception", "reason": "No search context found for id [" + id + "]"}}), nil
		}
		return f.page(c, id, nil), nil
	case r.Method == "POST" && r.Path == "/_search" && body["pit"] != nil:
		f.searchLog = append(f.searchLog, body)
		var pit struct{ ID string }
		json.Unmarshal(body["pit"], &pit)
		if !f.pits[pit.ID] {
			return jsonResp(404, map[string]any{"error": map[string]string{"type": "search_context_missing_exception", "reason": "pit gone"}}), nil
		}
		if f.noShardDoc && bytes.Contains(body["sort"], []byte("_shard_doc")) {
			return jsonResp(400, map[string]any{"error": map[string]string{"type": "search_phase_execution_exception", "reason": "No mapping found for [_shard_doc] in order to sort on"}}), nil
		}
		if f.noIDSort && bytes.Contains(body["sort"], []byte(`"_id"`)) {
			return jsonResp(400, map[string]any{"error": map[string]string{"type": "illegal_argument_exception", "reason": "Fielddata access on the _id field is disallowed, you can re-enable it by updating the dynamic cluster setting: indices.id_field_data.enabled"}}), nil
		}
		order := f.order(body)
		var after []json.Number
		if a := body["search_after"]; a != nil {
			var raw []json.RawMessage
			json.Unmarshal(a, &raw)
			for _, v := range raw {
				var s string
				if json.Unmarshal(v, &s) == nil {
					v = json.RawMessage(s) // an _id tie-breaker
				}
				after = append(after, json.Number(v))
			}
		}
		size := num(body["size"], 10)
		var hits []int
		for _, p := range order {
			if after != nil && !f.afterKey(p, after, f.desc(body)) {
				continue
			}
			hits = append(hits, p)
			if len(hits) == size {
				break
			}
		}
		return f.respond(hits, "", pit.ID+"+", f.desc(body), bytes.Contains(body["sort"], []byte(`"_id"`)), len(order)), nil
	case r.Method == "POST" && strings.HasSuffix(r.Path, "/_search") && r.Query.Get("scroll") != "":
		if f.noScroll {
			return jsonResp(400, map[string]any{"error": map[string]string{"type": "illegal_argument_exception", "reason": "scroll is not supported"}}), nil
		}
		f.seq++
		id := fmt.Sprintf("scroll-%d", f.seq)
		c := &cursor{hits: f.order(body), size: num(body["size"], 10)}
		f.scrolls[id] = c
		return f.page(c, id, body), nil
	}
	return jsonResp(400, map[string]any{"error": map[string]string{"type": "no_handler", "reason": r.Method + " " + r.Path}}), nil
}

func num(raw json.RawMessage, def int) int {
	if n, err := strconv.Atoi(string(raw)); err == nil {
		return n
	}
	return def
}

func (f *fakeES) desc(body map[string]json.RawMessage) bool {
	return bytes.Contains(body["sort"], []byte(`{"n":{"order":"desc"}}`))
}

// order lists the positions in sort order for the body's sort and slice.
func (f *fakeES) order(body map[string]json.RawMessage) []int {
	var sl struct{ ID, Max int }
	if body["slice"] != nil {
		json.Unmarshal(body["slice"], &sl)
	}
	var out []int
	for p := range f.docs {
		if sl.Max > 1 && p%sl.Max != sl.ID {
			continue
		}
		out = append(out, p)
	}
	if f.desc(body) {
		slices.SortStableFunc(out, func(a, b int) int {
			if c := -cmpInt(f.docs[a].n, f.docs[b].n); c != 0 {
				return c
			}
			return a - b
		})
	}
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// afterKey says whether position p sorts after the search_after key.
func (f *fakeES) afterKey(p int, after []json.Number, desc bool) bool {
	if desc {
		n, err := strconv.ParseInt(string(after[0]), 10, 64)
		if err != nil {
			panic("search_after lost int64 precision: " + string(after[0]))
		}
		if f.docs[p].n != n {
			return f.docs[p].n < n
		}
		after = after[1:]
	}
	pos, err := strconv.Atoi(strings.TrimPrefix(string(after[0]), "d"))
	if err != nil {
		panic("bad tie-breaker value " + string(after[0]))
	}
	return p > pos
}

func (f *fakeES) page(c *cursor, id string, _ map[string]json.RawMessage) *Response {
	end := min(c.at+c.size, len(c.hits))
	hits := c.hits[c.at:end]
	total := len(c.hits)
	c.at = end // the server moves on before the body is sent
	return f.respond(hits, id, "", false, false, total)
}

func (f *fakeES) respond(pos []int, scrollID, pitID string, desc, byID bool, total int) *Response {
	var b bytes.Buffer
	if scrollID != "" {
		fmt.Fprintf(&b, `{"_scroll_id":%q,`, scrollID)
	} else {
		fmt.Fprintf(&b, `{"pit_id":%q,`, strings.TrimSuffix(pitID, "+"))
	}
	fmt.Fprintf(&b, `"took":1,"timed_out":false,"hits":{"total":{"value":%d,"relation":"eq"},"hits":[`, total)
	for i, p := range pos {
		if i > 0 {
			b.WriteByte(',')
		}
		d := f.docs[p]
		tie := strconv.Itoa(p)
		if byID {
			tie = strconv.Quote(d.id)
		}
		sortv := "[" + tie + "]"
		if desc {
			sortv = fmt.Sprintf("[%d,%s]", d.n, tie)
		}
		fmt.Fprintf(&b, `{"_index":"logs","_id":%q,"_score":null,"_source":{"id":%q,"n":%d},"sort":%s}`, d.id, d.id, d.n, sortv)
	}
	b.WriteString("]}}")
	full := b.Bytes()
	if f.failAll || f.breakAt[f.reqs] {
		return &Response{Status: 200, Header: http.Header{}, Body: io.NopCloser(io.MultiReader(bytes.NewReader(full[:len(full)/2]), brokenReader{}))}
	}
	return &Response{Status: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(full))}
}

// idWriter collects ids.
type idWriter struct{ ids []string }

func (w *idWriter) Write(h *Hit) error { w.ids = append(w.ids, h.ID); return nil }
func (w *idWriter) Close() error       { return nil }

func noSleep(context.Context, time.Duration) error { return nil }

// exactlyOnce fails unless ids holds each of the n docs exactly once.
func exactlyOnce(t *testing.T, ids []string, n int) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	var dup, missing []string
	for id, c := range seen {
		if c > 1 {
			dup = append(dup, id)
		}
	}
	for i := range n {
		if id := fmt.Sprintf("d%04d", i); seen[id] == 0 {
			missing = append(missing, id)
		}
	}
	if len(ids) != n || len(dup) > 0 || len(missing) > 0 {
		slices.Sort(dup)
		t.Fatalf("got %d ids for %d docs; duplicated %v; missing %v", len(ids), n, dup, missing)
	}
}

func TestExport(t *testing.T) {
	for _, tc := range []struct {
		name     string
		setup    func(*fakeES)
		q        Query
		slices   int
		mode     string // wanted mode
		retries  bool   // wanted re-requests
		orderedN bool   // ids come out sorted by n desc
	}{
		{name: "pit", mode: "pit"},
		{name: "pit slices", slices: 4, mode: "pit"},
		{name: "pit sort desc int64", q: Query{Sort: []SortField{{"n", true}}}, mode: "pit", orderedN: true},
		{name: "pit broken bodies", setup: func(f *fakeES) { f.breakAt = map[int]bool{2: true, 5: true, 6: true, 12: true} }, mode: "pit", retries: true},
		{name: "pit broken bodies slices", setup: func(f *fakeES) { f.breakAt = map[int]bool{3: true, 4: true, 9: true} }, slices: 3, mode: "pit", retries: true},
		{name: "scroll fallback", setup: func(f *fakeES) { f.noPIT = true }, mode: "scroll"},
		{name: "scroll fallback slices", setup: func(f *fakeES) { f.noPIT = true }, slices: 4, mode: "scroll"},
		{name: "no _shard_doc uses _id", setup: func(f *fakeES) { f.noShardDoc = true }, mode: "pit"},
		{name: "no _shard_doc uses _id slices sorted", setup: func(f *fakeES) { f.noShardDoc = true }, q: Query{Sort: []SortField{{"n", true}}}, slices: 2, mode: "pit"},
		{name: "no _shard_doc nor _id falls back to scroll", setup: func(f *fakeES) { f.noShardDoc, f.noIDSort = true, true }, mode: "scroll"},
		{name: "scroll broken bodies", setup: func(f *fakeES) { f.noPIT = true; f.breakAt = map[int]bool{3: true, 4: true, 9: true, 15: true} }, mode: "scroll", retries: true},
		{name: "scroll broken bodies slices", setup: func(f *fakeES) { f.noPIT = true; f.breakAt = map[int]bool{2: true, 7: true, 8: true} }, slices: 2, mode: "scroll", retries: true},
		{name: "scroll sort desc int64", setup: func(f *fakeES) { f.noPIT = true }, q: Query{Sort: []SortField{{"n", true}}}, mode: "scroll", orderedN: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 237
			f := newFakeES(n)
			if tc.setup != nil {
				tc.setup(f)
			}
			q := tc.q
			q.Index = "logs"
			var out idWriter
			var notes bytes.Buffer
			e := &Export{Query: &q, PageSize: 20, Slices: tc.slices, Out: &out, Notice: &notes, Sleep: noSleep}
			st, err := e.Run(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			exactlyOnce(t, out.ids, n)
			if st.Mode != tc.mode || st.Hits != n {
				t.Errorf("stats = %+v, want mode %s and %d hits", st, tc.mode, n)
			}
			if (st.Retries > 0) != tc.retries {
				t.Errorf("retries = %d, want some: %v", st.Retries, tc.retries)
			}
			if tc.mode == "scroll" && !strings.Contains(notes.String(), "scroll instead") {
				t.Errorf("no fallback notice: %q", notes.String())
			}
			if len(f.pits)+len(f.scrolls) != 0 {
				t.Errorf("contexts left open: pits %v scrolls %v", f.pits, f.scrolls)
			}
			if tc.orderedN {
				for i := 1; i < len(out.ids); i++ {
					a, _ := strconv.Atoi(out.ids[i-1][1:])
					b, _ := strconv.Atoi(out.ids[i][1:])
					if f.docs[a].n < f.docs[b].n {
						t.Fatalf("not sorted by n desc at %d: %s before %s", i, out.ids[i-1], out.ids[i])
					}
				}
			}
		})
	}
}

// TestExportSearchAfterBytes checks that search_after repeats the previous
// page's last sort values byte for byte.
func TestExportSearchAfterBytes(t *testing.T) {
	f := newFakeES(50)
	var out idWriter
	e := &Export{Query: &Query{Index: "logs", Sort: []SortField{{"n", true}}}, PageSize: 7, Out: &out, Sleep: noSleep}
	if _, err := e.Run(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	if len(f.searchLog) < 2 {
		t.Fatalf("only %d searches", len(f.searchLog))
	}
	// Desc by n, ties by position: 48,49,46,47,44,45,42 is page 1.
	got := string(f.searchLog[1]["search_after"])
	want := fmt.Sprintf("[%d,%d]", big+21, 42)
	if got != want {
		t.Errorf("second search_after = %s, want %s", got, want)
	}
	for i, b := range f.searchLog {
		if !bytes.Contains(b["sort"], []byte(`{"_shard_doc":"asc"}`)) {
			t.Errorf("search %d has no _shard_doc tie-breaker: %s", i, b["sort"])
		}
		if tt := string(b["track_total_hits"]); (i == 0) != (tt == "true") {
			t.Errorf("search %d track_total_hits = %s", i, tt)
		}
	}
}

func TestExportFailures(t *testing.T) {
	t.Run("body keeps breaking", func(t *testing.T) {
		f := newFakeES(30)
		f.failAll = true
		e := &Export{Query: &Query{Index: "logs"}, PageSize: 10, Out: &idWriter{}, Sleep: noSleep}
		_, err := e.Run(context.Background(), f)
		if err == nil || !strings.Contains(err.Error(), "connection broke") {
			t.Fatalf("err = %v", err)
		}
		if len(f.pits) != 0 {
			t.Errorf("PIT left open: %v", f.pits)
		}
	})
	t.Run("no PIT and no scroll", func(t *testing.T) {
		f := newFakeES(30)
		f.noPIT, f.noScroll = true, true
		e := &Export{Query: &Query{Index: "logs"}, PageSize: 10, Out: &idWriter{}, Sleep: noSleep}
		_, err := e.Run(context.Background(), f)
		var he *HTTPError
		if !errors.As(err, &he) || !strings.Contains(he.Reason, "scroll is not supported") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("cancel deletes the PIT", func(t *testing.T) {
		f := newFakeES(500)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f.cancel, f.cancelAt = cancel, 4
		var out idWriter
		e := &Export{Query: &Query{Index: "logs"}, PageSize: 10, Slices: 2, Out: &out, Sleep: noSleep}
		_, err := e.Run(ctx, f)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want cancelled", err)
		}
		if len(f.pits) != 0 || len(f.deleted) == 0 {
			t.Errorf("PIT not deleted on cancel: open %v deleted %v", f.pits, f.deleted)
		}
	})
	t.Run("cancel deletes the scrolls", func(t *testing.T) {
		f := newFakeES(500)
		f.noPIT = true
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f.cancel, f.cancelAt = cancel, 6
		e := &Export{Query: &Query{Index: "logs"}, PageSize: 10, Slices: 3, Out: &idWriter{}, Sleep: noSleep}
		_, err := e.Run(ctx, f)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want cancelled", err)
		}
		if len(f.scrolls) != 0 {
			t.Errorf("scrolls not deleted on cancel: %v", f.scrolls)
		}
	})
	for _, noPIT := range []bool{false, true} {
		t.Run(fmt.Sprint("context expires, noPIT=", noPIT), func(t *testing.T) {
			f := newFakeES(100)
			f.noPIT, f.expireAt = noPIT, 4
			e := &Export{Query: &Query{Index: "logs"}, PageSize: 10, KeepAlive: 90 * time.Second, Out: &idWriter{}, Sleep: noSleep}
			_, err := e.Run(context.Background(), f)
			var ce *ContextExpiredError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), "no page was requested for 1m30s") {
				t.Fatalf("err = %v", err)
			}
		})
	}
	t.Run("forced scroll", func(t *testing.T) {
		f := newFakeES(45)
		var out idWriter
		var notes bytes.Buffer
		e := &Export{Query: &Query{Index: "logs"}, PageSize: 10, Mode: "scroll", Out: &out, Notice: &notes, Sleep: noSleep}
		st, err := e.Run(context.Background(), f)
		if err != nil || st.Mode != "scroll" || notes.Len() > 0 || f.seq != 1 {
			t.Fatalf("stats %+v err %v notes %q contexts opened %d", st, err, notes.String(), f.seq)
		}
		exactlyOnce(t, out.ids, 45)
	})
	t.Run("forced pit does not fall back", func(t *testing.T) {
		f := newFakeES(45)
		f.noPIT = true
		e := &Export{Query: &Query{Index: "logs"}, Mode: "pit", Out: &idWriter{}, Sleep: noSleep}
		if _, err := e.Run(context.Background(), f); err == nil || !strings.Contains(err.Error(), "invalid_type_name_exception") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing index is not a missing PIT", func(t *testing.T) {
		d := doerFunc(func(ctx context.Context, r *Request) (*Response, error) {
			return jsonResp(404, map[string]any{"error": map[string]string{"type": "index_not_found_exception", "reason": "no such index [nope]"}}), nil
		})
		var notes bytes.Buffer
		e := &Export{Query: &Query{Index: "nope"}, Out: &idWriter{}, Notice: &notes}
		_, err := e.Run(context.Background(), d)
		if err == nil || !strings.Contains(err.Error(), "no such index") || notes.Len() > 0 {
			t.Fatalf("err = %v, notes %q", err, notes.String())
		}
	})
}

type doerFunc func(ctx context.Context, r *Request) (*Response, error)

func (f doerFunc) Do(ctx context.Context, r *Request) (*Response, error) { return f(ctx, r) }

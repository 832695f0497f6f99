package opensearchtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const maxWindow = 10_000 // index.max_result_window

// target is one index of a search, with the positions it may see (a PIT
// or scroll snapshot of an append-only index).
type target struct {
	ix *index
	n  int
}

type sortKey struct {
	field string
	desc  bool
}

// spec is a parsed search request.
type spec struct {
	match   matcher
	from    int
	size    int
	sort    []sortKey // internal keys (a _shard_doc tiebreaker may be appended)
	outKeys int       // how many sort values hits show; 0: no "sort"
	after   []any
	src     srcFilter
	track   int // -1: exact, 0: none, n: count up to n
	asInt   bool
	slice   *[2]int // id, max
	key     string  // identifies query+slice for cached totals
}

// searchCtx is a PIT or scroll context.
type searchCtx struct {
	mu        sync.Mutex // serialises pages of one scroll
	id        string
	pit       bool
	targets   []target
	keepAlive time.Duration
	expires   time.Time
	sp        *spec // scroll: the original search
	cursor    []any // scroll: sort values of the last hit sent
	totals    map[string]total
}

type total struct {
	n   int
	gte bool
}

type hit struct {
	t, p int
	sv   []any
}

// resolve expands an index expression (comma list, wildcards, _all) in
// creation order. A missing concrete index is index_not_found.
func (s *Server) resolve(expr string) ([]target, *reply) {
	seen := map[string]bool{}
	var names []string
	for _, part := range strings.Split(expr, ",") {
		switch {
		case part == "" || part == "_all" || part == "*":
			for _, n := range s.order {
				if !seen[n] {
					seen[n] = true
					names = append(names, n)
				}
			}
		case strings.ContainsAny(part, "*?"):
			for _, n := range s.order {
				if !seen[n] && globMatch(part, n) {
					seen[n] = true
					names = append(names, n)
				}
			}
		default:
			if _, ok := s.indices[part]; !ok {
				return nil, indexNotFound(part)
			}
			if !seen[part] {
				seen[part] = true
				names = append(names, part)
			}
		}
	}
	ts := make([]target, len(names))
	for i, n := range names {
		ix := s.indices[n]
		ts[i] = target{ix.snapshot(), ix.count()}
	}
	return ts, nil
}

func indexNotFound(name string) *reply {
	r := fmt.Sprintf("no such index [%s]", name)
	b := fmt.Appendf(nil, `{"error":{"root_cause":[{"type":"index_not_found_exception","reason":%[1]s,"index":%[2]s,"resource.type":"index_or_alias","resource.id":%[2]s,"index_uuid":"_na_"}],"type":"index_not_found_exception","reason":%[1]s,"index":%[2]s,"resource.type":"index_or_alias","resource.id":%[2]s,"index_uuid":"_na_"},"status":404}`,
		jsonString(r), jsonString(name))
	return &reply{status: http.StatusNotFound, body: b}
}

// errReply is OpenSearch's error envelope.
func errReply(status int, typ, reason string) *reply {
	b := fmt.Appendf(nil, `{"error":{"root_cause":[{"type":%[1]q,"reason":%[2]s}],"type":%[1]q,"reason":%[2]s},"status":%[3]d}`, typ, jsonString(reason), status)
	return &reply{status: status, body: b}
}

func badReq(err error) *reply {
	if b, ok := err.(*badRequest); ok {
		return errReply(http.StatusBadRequest, b.typ, b.reason)
	}
	return errReply(http.StatusBadRequest, "illegal_argument_exception", err.Error())
}

func illegal(format string, a ...any) *reply {
	return errReply(http.StatusBadRequest, "illegal_argument_exception", fmt.Sprintf(format, a...))
}

// decodeBody parses a JSON object keeping numbers exact; empty is {}.
func decodeBody(b []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return map[string]any{}, nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, &badRequest{"parse_exception", "request body is required to be a JSON object"}
	}
	return m, nil
}

// parseSpec reads a search request from body and query parameters.
func parseSpec(body map[string]any, q url.Values) (*spec, error) {
	sp := &spec{size: 10, track: maxWindow}
	var err error
	if v, ok := body["query"]; ok {
		if sp.match, err = compile(v); err != nil {
			return nil, err
		}
	}
	if v := q.Get("q"); v != "" {
		m, err := parseQueryString(v, q.Get("df"), strings.EqualFold(q.Get("default_operator"), "and"))
		if err != nil {
			return nil, err
		}
		sp.match = and([]matcher{sp.match, m})
	}
	intParam := func(name string, dst *int) error {
		if v, ok := body[name]; ok {
			n, err := strconv.Atoi(str(v))
			if err != nil {
				return parsingErr("[%s] must be an integer", name)
			}
			*dst = n
		}
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return &badRequest{"illegal_argument_exception", fmt.Sprintf("Failed to parse int parameter [%s] with value [%s]", name, v)}
			}
			*dst = n
		}
		return nil
	}
	if err := intParam("from", &sp.from); err != nil {
		return nil, err
	}
	if err := intParam("size", &sp.size); err != nil {
		return nil, err
	}
	if sp.from < 0 || sp.size < 0 {
		return nil, &badRequest{"illegal_argument_exception", "[from] and [size] must be positive"}
	}
	if v, ok := body["sort"]; ok {
		if sp.sort, err = parseSort(v); err != nil {
			return nil, err
		}
	}
	if v := q.Get("sort"); v != "" {
		for _, f := range strings.Split(v, ",") {
			name, dir, _ := strings.Cut(f, ":")
			sp.sort = append(sp.sort, sortKey{name, dir == "desc"})
		}
	}
	sp.outKeys = len(sp.sort)
	if len(sp.sort) == 1 && sp.sort[0].field == "_score" {
		sp.outKeys = 0
		sp.sort = nil
	}
	if v, ok := body["search_after"]; ok {
		a, ok := v.([]any)
		if !ok {
			return nil, parsingErr("[search_after] must be an array")
		}
		if len(sp.sort) == 0 {
			return nil, &badRequest{"action_request_validation_exception", "Validation Failed: 1: search_after cannot be used without a sort;"}
		}
		if len(a) != len(sp.sort) {
			return nil, &badRequest{"illegal_argument_exception", fmt.Sprintf("search_after has %d value(s) but sort has %d.", len(a), len(sp.sort))}
		}
		if sp.from > 0 {
			return nil, &badRequest{"illegal_argument_exception", "[from] parameter must be set to 0 when [search_after] is used."}
		}
		sp.after = a
	}
	if sp.src, err = parseSource(body, q); err != nil {
		return nil, err
	}
	if v, ok := body["track_total_hits"]; ok {
		switch t := v.(type) {
		case bool:
			sp.track = map[bool]int{true: -1, false: 0}[t]
		case json.Number:
			n, _ := t.Int64()
			sp.track = int(n)
		}
	}
	if v := q.Get("track_total_hits"); v != "" {
		switch v {
		case "true":
			sp.track = -1
		case "false":
			sp.track = 0
		default:
			sp.track, _ = strconv.Atoi(v)
		}
	}
	sp.asInt = q.Get("rest_total_hits_as_int") == "true"
	if sp.asInt && sp.track > 0 {
		sp.track = -1 // hits.total as int is always exact
	}
	if v, ok := body["slice"]; ok {
		m, _ := v.(map[string]any)
		id, err1 := strconv.Atoi(str(m["id"]))
		max, err2 := strconv.Atoi(str(m["max"]))
		switch {
		case m == nil || err1 != nil || err2 != nil:
			return nil, parsingErr("[slice] requires integer [id] and [max]")
		case max <= 1:
			return nil, &badRequest{"illegal_argument_exception", "max must be greater than 1"}
		case id < 0 || id >= max:
			return nil, &badRequest{"illegal_argument_exception", "id must be lower than max"}
		}
		sp.slice = &[2]int{id, max}
	}
	qk, _ := json.Marshal([]any{body["query"], q.Get("q"), q.Get("df"), body["slice"]})
	sp.key = string(qk)
	return sp, nil
}

func parseSort(v any) ([]sortKey, error) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	var out []sortKey
	for _, e := range list {
		switch t := e.(type) {
		case string:
			out = append(out, sortKey{t, t == "_score"})
		case map[string]any:
			for _, f := range sortedKeys(t) {
				k := sortKey{field: f, desc: f == "_score"}
				switch o := t[f].(type) {
				case string:
					k.desc = o == "desc"
				case map[string]any:
					if ord, ok := o["order"].(string); ok {
						k.desc = ord == "desc"
					}
				}
				out = append(out, k)
			}
		default:
			return nil, parsingErr("[sort] malformed")
		}
	}
	return out, nil
}

// runSearch runs sp over targets (immutable snapshots, so without the
// server lock) and renders the response. cached is a total known from the
// context; the total used is returned for the context to keep.
func (s *Server) runSearch(sp *spec, ts []target, ctx *searchCtx, cached *total) (*reply, []hit, *total) {
	if sp.from+sp.size > maxWindow {
		return illegal("Result window is too large, from + size must be less than or equal to: [%d] but was [%d]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.", maxWindow, sp.from+sp.size), nil, nil
	}
	hits, rep := page(sp, ts)
	if rep != nil {
		return rep, nil, nil
	}
	var tot total
	var counted *total
	if sp.track != 0 {
		if cached != nil {
			tot = *cached
		} else {
			tot = countMatches(sp, ts, sp.track)
			counted = &tot
		}
		if sp.track > 0 && tot.n > sp.track {
			tot = total{sp.track, true}
		}
	}
	return &reply{status: http.StatusOK, body: s.render(sp, ts, hits, tot, ctx, s.o.Engine)}, hits, counted
}

func (s *Server) render(sp *spec, ts []target, hits []hit, tot total, ctx *searchCtx, engine string) []byte {
	b := make([]byte, 0, 256+len(hits)*400)
	b = append(b, '{')
	if ctx != nil && !ctx.pit {
		b = append(b, `"_scroll_id":`...)
		b = append(b, jsonString(ctx.id)...)
		b = append(b, ',')
	}
	if ctx != nil && ctx.pit {
		b = append(b, `"pit_id":`...)
		b = append(b, jsonString(ctx.id)...)
		b = append(b, ',')
	}
	b = fmt.Appendf(b, `"took":1,"timed_out":false,"_shards":{"total":%[1]d,"successful":%[1]d,"skipped":0,"failed":0},"hits":{`, max(len(ts), 1))
	switch {
	case sp.track == 0 && sp.asInt:
		b = append(b, `"total":-1,`...)
	case sp.track == 0:
	case sp.asInt:
		b = fmt.Appendf(b, `"total":%d,`, tot.n)
	default:
		b = fmt.Appendf(b, `"total":{"value":%d,"relation":%q},`, tot.n, map[bool]string{false: "eq", true: "gte"}[tot.gte])
	}
	scored := sp.outKeys == 0
	if scored && len(hits) > 0 {
		b = append(b, `"max_score":1.0,"hits":[`...)
	} else {
		b = append(b, `"max_score":null,"hits":[`...)
	}
	for i, h := range hits {
		if i > 0 {
			b = append(b, ',')
		}
		ix := ts[h.t].ix
		b = append(b, `{"_index":`...)
		b = append(b, jsonString(ix.name)...)
		if engine == EngineES710 {
			b = append(b, `,"_type":"_doc"`...)
		}
		b = append(b, `,"_id":`...)
		b = append(b, jsonString(ix.id(h.p))...)
		if scored {
			b = append(b, `,"_score":1.0`...)
		} else {
			b = append(b, `,"_score":null`...)
		}
		if !sp.src.none {
			b = append(b, `,"_source":`...)
			b = sp.src.apply(b, ix, h.p)
		}
		if sp.outKeys > 0 {
			b = append(b, `,"sort":[`...)
			for j, v := range h.sv[:sp.outKeys] {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendValue(b, v)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, "]}}"...)
}

func appendValue(b []byte, v any) []byte {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...)
	case json.Number:
		return append(b, t...)
	case string:
		return append(b, jsonString(t)...)
	}
	j, _ := json.Marshal(v)
	return append(b, j...)
}

// inSlice reports whether position p belongs to the request's slice: the
// positions of every index are dealt round-robin, so slices partition.
func (sp *spec) inSlice(p int) bool { return sp.slice == nil || p%sp.slice[1] == sp.slice[0] }

// docOrder: no sort, or only _doc/_shard_doc ascending: walk positions.
func (sp *spec) docOrder() bool {
	for _, k := range sp.sort {
		if (k.field != "_doc" && k.field != "_shard_doc") || k.desc {
			return false
		}
	}
	return true
}

// monotonic: one synthetic index sorted first by a field that grows with
// the position.
func (sp *spec) monotonic(ts []target) bool {
	return len(ts) == 1 && ts[0].ix.synthetic && len(sp.sort) > 0 &&
		(sp.sort[0].field == "seq" || sp.sort[0].field == "@timestamp")
}

// page returns the hits of one page.
func page(sp *spec, ts []target) ([]hit, *reply) {
	want := sp.from + sp.size
	var out []hit
	skip := sp.from
	take := func(t, p int) bool {
		ix := ts[t].ix
		if !ix.live(p) || !sp.inSlice(p) || (sp.match != nil && !sp.match(ix, p)) {
			return true
		}
		h := hit{t: t, p: p, sv: sortValues(sp.sort, t, ix, p)}
		if sp.after != nil && compareHits(sp.sort, h.sv, sp.after) <= 0 {
			return true
		}
		if skip > 0 {
			skip--
			return true
		}
		out = append(out, h)
		return len(out) < sp.size
	}
	if sp.size == 0 {
		return nil, nil
	}
	switch {
	case sp.docOrder():
		t0, p0 := 0, 0
		if sp.after != nil {
			k, ok := num(sp.after[0])
			if !ok {
				return nil, illegal("Failed to parse search_after value for field [%s].", sp.sort[0].field)
			}
			if g, _ := k.Int64(); g >= 0 {
				t0, p0 = int(g>>32), int(g&0xffffffff)
			}
		}
		for t := t0; t < len(ts); t++ {
			p := 0
			if t == t0 {
				p = p0
			}
			step := 1
			if sp.slice != nil {
				step = sp.slice[1]
				p += ((sp.slice[0]-p)%step + step) % step
			}
			for ; p < ts[t].n; p += step {
				if !take(t, p) {
					return out, nil
				}
			}
		}
		return out, nil
	case sp.monotonic(ts):
		n := ts[0].n
		start := 0
		if sp.desc0() {
			start = n - 1
		}
		if sp.after != nil {
			g, ok := position(sp.sort[0].field, sp.after[0])
			if !ok {
				return nil, illegal("Failed to parse search_after value for field [%s].", sp.sort[0].field)
			}
			start = g
			if sp.desc0() {
				start = g + 1 // the ceiling; take() drops what is not after
			}
			start = max(min(start, n-1), 0)
			if !sp.desc0() && start > 0 {
				start-- // the floor may hold the tie
			}
		}
		if sp.desc0() {
			for p := start; p >= 0; p-- {
				if !take(0, p) {
					break
				}
			}
			return out, nil
		}
		for p := start; p < n; p++ {
			if !take(0, p) {
				break
			}
		}
		return out, nil
	}
	// General sort: materialise matching positions (bounded).
	all := 0
	for _, t := range ts {
		all += t.n
	}
	if all > MaxSortDocs {
		return nil, illegal("opensearchtest: sorting %d documents by [%s] is not emulated (limit %d); sort by _doc, _shard_doc, seq or @timestamp", all, sp.sort[0].field, MaxSortDocs)
	}
	var cand []hit
	for t, tg := range ts {
		for p := 0; p < tg.n; p++ {
			ix := tg.ix
			if !ix.live(p) || !sp.inSlice(p) || (sp.match != nil && !sp.match(ix, p)) {
				continue
			}
			cand = append(cand, hit{t: t, p: p, sv: sortValues(sp.sort, t, ix, p)})
		}
	}
	slices.SortStableFunc(cand, func(a, b hit) int {
		if c := compareHits(sp.sort, a.sv, b.sv); c != 0 {
			return c
		}
		return (a.t<<32 | a.p) - (b.t<<32 | b.p)
	})
	for _, h := range cand {
		if sp.after != nil && compareHits(sp.sort, h.sv, sp.after) <= 0 {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		out = append(out, h)
		if len(out) == want-sp.from {
			break
		}
	}
	return out, nil
}

func (sp *spec) desc0() bool { return sp.sort[0].desc }

// position inverts a monotonic synthetic field: the position whose value
// is the greatest not above v.
func position(field string, v any) (int, bool) {
	f, ok := num(v)
	if !ok {
		if t, ok := date(v); ok {
			f = new(big.Float).SetInt64(t.UnixMilli())
		} else {
			return 0, false
		}
	}
	var base, unit int64 = SeqBase, 1
	if field == "@timestamp" {
		base, unit = SyntheticEpoch.UnixMilli(), 1000
	}
	d := new(big.Float).Sub(f, new(big.Float).SetInt64(base))
	d.Quo(d, new(big.Float).SetInt64(unit))
	if d.Sign() < 0 {
		return -1, true
	}
	i, _ := d.Int64()
	if i > 1<<40 {
		i = 1 << 40
	}
	return int(i), true
}

// countMatches counts matching live positions up to limit+1 (limit < 0:
// all).
func countMatches(sp *spec, ts []target, limit int) total {
	n := 0
	for _, t := range ts {
		if sp.match == nil && t.ix.synthetic {
			c := t.n
			if sp.slice != nil {
				id, m := sp.slice[0], sp.slice[1]
				c = 0
				if id < t.n {
					c = (t.n-id-1)/m + 1
				}
			}
			n += c
			continue
		}
		step, p := 1, 0
		if sp.slice != nil {
			step, p = sp.slice[1], sp.slice[0]
		}
		for ; p < t.n; p += step {
			if t.ix.live(p) && (sp.match == nil || sp.match(t.ix, p)) {
				n++
				if limit >= 0 && n > limit {
					return total{n, true}
				}
			}
		}
	}
	return total{n, false}
}

func sortValues(keys []sortKey, t int, ix *index, p int) []any {
	if len(keys) == 0 {
		return nil
	}
	out := make([]any, len(keys))
	for i, k := range keys {
		switch k.field {
		case "_doc", "_shard_doc":
			out[i] = json.Number(strconv.FormatInt(int64(t)<<32|int64(p), 10))
		case "_score":
			out[i] = json.Number("1.0")
		case "_id":
			out[i] = ix.id(p)
		default:
			if ix.synthetic && k.field == "@timestamp" {
				out[i] = json.Number(strconv.FormatInt(SyntheticEpoch.UnixMilli()+int64(p)*1000, 10))
				continue
			}
			var best any
			for _, v := range ix.values(p, k.field) {
				if _, isObj := v.(map[string]any); isObj || v == nil {
					continue
				}
				if tm, ok := date(v); ok {
					v = json.Number(strconv.FormatInt(tm.UnixMilli(), 10))
				}
				if best == nil || (compareValues(v, best) < 0) != k.desc {
					best = v
				}
			}
			out[i] = best
		}
	}
	return out
}

// compareHits orders sort value tuples under keys; missing values last.
func compareHits(keys []sortKey, a, b []any) int {
	for i, k := range keys {
		if i >= len(a) || i >= len(b) {
			break
		}
		if a[i] == nil || b[i] == nil {
			switch {
			case a[i] == nil && b[i] == nil:
				continue
			case a[i] == nil:
				return 1
			default:
				return -1
			}
		}
		c := compareValues(a[i], b[i])
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// compareValues compares sort values exactly: int64 as integers, other
// numbers as big floats, strings bytewise.
func compareValues(a, b any) int {
	an, aok := a.(json.Number)
	bn, bok := b.(json.Number)
	if aok && bok {
		if x, err := strconv.ParseInt(string(an), 10, 64); err == nil {
			if y, err := strconv.ParseInt(string(bn), 10, 64); err == nil {
				switch {
				case x < y:
					return -1
				case x > y:
					return 1
				}
				return 0
			}
		}
		x, _ := num(an)
		y, _ := num(bn)
		if x != nil && y != nil {
			return x.Cmp(y)
		}
	}
	return strings.Compare(str(a), str(b))
}

// jsonString quotes s as JSON without HTML escaping.
func jsonString(s string) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.Encode(s)
	return bytes.TrimRight(b.Bytes(), "\n")
}

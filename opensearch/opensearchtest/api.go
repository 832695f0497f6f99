package opensearchtest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const maxBody = 100 << 20

// route kinds.
const (
	kindOther = iota
	kindInfo
	kindSearch
	kindScroll      // scroll continuation
	kindScrollClear // DELETE /_search/scroll
	kindPITCreate
	kindPITDelete
	kindCount
	kindBulk
	kindCat
	kindDoc
)

// apiReq is one API call, from a signed request or the console proxy.
type apiReq struct {
	method string
	path   string   // decoded, "/a b/_search"
	raw    string   // as received, for "no handler" messages
	segs   []string // decoded path segments
	query  url.Values
	body   []byte
	kind   int
	expr   string // index expression, "" for none
	caller string
}

// reply is a buffered answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func newAPIReq(method, escapedPath, rawQuery string, body []byte) (*apiReq, error) {
	rq := &apiReq{method: method, body: body, raw: escapedPath}
	if rawQuery != "" {
		rq.raw += "?" + rawQuery
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, err
	}
	rq.query = q
	for _, s := range strings.Split(strings.Trim(escapedPath, "/"), "/") {
		if s == "" {
			continue
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			return nil, err
		}
		rq.segs = append(rq.segs, d)
	}
	rq.path = "/" + strings.Join(rq.segs, "/")
	classify(rq)
	return rq, nil
}

// classify sets kind and expr from the path shape.
func classify(rq *apiReq) {
	sg := rq.segs
	n := len(sg)
	at := func(i int, s string) bool { return i < n && sg[i] == s }
	switch {
	case n == 0:
		rq.kind = kindInfo
	case at(0, "_search") && at(1, "scroll"):
		rq.kind = kindScroll
		if rq.method == http.MethodDelete {
			rq.kind = kindScrollClear
		}
	case at(0, "_search") && at(1, "point_in_time"):
		rq.kind = kindPITDelete
	case at(0, "_search") && n == 1:
		rq.kind = kindSearch
	case at(0, "_count") && n == 1:
		rq.kind = kindCount
	case at(0, "_bulk") && n == 1:
		rq.kind = kindBulk
	case at(0, "_cat") && at(1, "indices") && n <= 3:
		rq.kind = kindCat
		if n == 3 {
			rq.expr = sg[2]
		}
	case n >= 2 && !strings.HasPrefix(sg[0], "_"):
		rq.expr = sg[0]
		switch {
		case sg[1] == "_search" && n == 2:
			rq.kind = kindSearch
		case sg[1] == "_search" && at(2, "point_in_time") && n == 3:
			rq.kind = kindPITCreate
		case sg[1] == "_count" && n == 2:
			rq.kind = kindCount
		case sg[1] == "_bulk" && n == 2:
			rq.kind = kindBulk
		case sg[1] == "_doc" && n <= 3:
			rq.kind = kindDoc
		}
	}
}

// dataCall: calls that fault injection may fail.
func (rq *apiReq) dataCall() bool {
	switch rq.kind {
	case kindSearch, kindScroll, kindCount, kindBulk, kindPITCreate:
		return rq.method != http.MethodDelete
	}
	return false
}

func (rq *apiReq) searchCall() bool {
	return (rq.kind == kindSearch || rq.kind == kindScroll) && rq.method != http.MethodDelete
}

// serve is the HTTP entry point.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil && v != http.ErrAbortHandler {
			s.write(w, r, errReply(500, "opensearchtest_panic", fmt.Sprint(v)), false)
		}
	}()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	s.mu.Lock()
	s.st.Requests++
	s.mu.Unlock()
	if err != nil || len(body) > maxBody {
		s.write(w, r, errReply(http.StatusRequestEntityTooLarge, "content_too_long_exception", "request body too large"), false)
		return
	}
	if d := s.o.Dashboards; d != nil && (r.URL.Path == d.Path || strings.HasPrefix(r.URL.Path, d.Path+"/")) {
		s.dashboards(w, r, body)
		return
	}
	caller, rej := s.authenticate(r, body)
	if rej != nil {
		s.reject(w, r, rej)
		return
	}
	rq, err := newAPIReq(r.Method, r.URL.EscapedPath(), r.URL.RawQuery, body)
	if err != nil {
		s.write(w, r, illegal("invalid request path or query: %v", err), false)
		return
	}
	rq.caller = caller
	s.mu.Lock()
	if s.o.Verify != nil {
		s.st.Signed++
	}
	s.mu.Unlock()
	if rej := s.authorize(caller, rq); rej != nil {
		s.reject(w, r, rej)
		return
	}
	reset := false
	if rq.searchCall() || rq.dataCall() {
		var fault *reply
		fault, reset = s.fault(rq)
		if fault != nil {
			s.write(w, r, fault, false)
			return
		}
	}
	s.write(w, r, s.api(rq), reset)
}

func (s *Server) reject(w http.ResponseWriter, r *http.Request, rej *rejection) {
	s.mu.Lock()
	s.st.Rejected[rej.reason]++
	s.mu.Unlock()
	h := http.Header{}
	for k, v := range rej.header {
		h.Set(k, v)
	}
	s.write(w, r, &reply{status: rej.status, header: h, body: rej.body}, false)
}

// write sends a reply; reset cuts it half-way with a TCP RST.
func (s *Server) write(w http.ResponseWriter, r *http.Request, rp *reply, reset bool) {
	h := w.Header()
	for k, v := range rp.header {
		h[k] = v
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json; charset=UTF-8")
	}
	if s.aoss() {
		h.Set("Server", "aoss-amazon")
		h.Set("X-Request-Id", newRequestID())
	}
	h.Set("Content-Length", strconv.Itoa(len(rp.body)))
	w.WriteHeader(rp.status)
	if r.Method == http.MethodHead {
		return
	}
	if !reset {
		w.Write(rp.body)
		return
	}
	w.Write(rp.body[:len(rp.body)/2])
	rc := http.NewResponseController(w)
	rc.Flush()
	conn, _, err := rc.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(interface{ SetLinger(int) error }); ok {
		tc.SetLinger(0) // RST, not FIN: the client sees a reset
	}
	conn.Close()
}

// api answers one call; callers hold no lock. Searches lock only around
// context bookkeeping, so parallel slices run in parallel; every other
// call runs under the lock.
func (s *Server) api(rq *apiReq) *reply {
	m := rq.method
	switch rq.kind {
	case kindSearch:
		if m == http.MethodGet || m == http.MethodPost {
			return s.search(rq)
		}
	case kindScroll:
		if m == http.MethodGet || m == http.MethodPost {
			return s.scroll(rq)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked()
	switch rq.kind {
	case kindInfo:
		if m == http.MethodGet || m == http.MethodHead {
			return s.info()
		}
	case kindScrollClear:
		return s.clearScroll(rq)
	case kindPITCreate:
		if m == http.MethodPost {
			return s.createPIT(rq)
		}
	case kindPITDelete:
		if m == http.MethodDelete || (m == http.MethodGet && len(rq.segs) == 3 && rq.segs[2] == "_all") {
			return s.deletePIT(rq)
		}
	case kindCount:
		if m == http.MethodGet || m == http.MethodPost {
			return s.count(rq)
		}
	case kindBulk:
		if m == http.MethodPost || (m == http.MethodPut && !s.aoss()) {
			return s.bulk(rq)
		}
	case kindCat:
		if m == http.MethodGet {
			return s.catIndices(rq)
		}
	case kindDoc:
		return s.doc(rq)
	}
	return noHandler(rq)
}

func noHandler(rq *apiReq) *reply {
	return &reply{status: http.StatusBadRequest, body: fmt.Appendf(nil, `{"error":"no handler found for uri [%s] and method [%s]"}`, jsonEsc(rq.raw), rq.method)}
}

func jsonEsc(s string) string {
	b := jsonString(s)
	return string(b[1 : len(b)-1])
}

func (s *Server) info() *reply {
	if s.aoss() {
		return s.aossNotFound()
	}
	num, dist, tag := "2.13.0", `"distribution":"opensearch",`, "The OpenSearch Project: https://opensearch.org/"
	switch s.o.Engine {
	case EngineOpenSearch1:
		num = "1.3.18"
	case EngineES710:
		num, dist, tag = "7.10.2", "", "You Know, for Search"
	}
	b := fmt.Appendf(nil, `{"name":"emulator","cluster_name":"123456789012:emulator","cluster_uuid":"AbCdEfGhIjKlMnOpQrStUv","version":{%s"number":%q,"build_type":"tar","lucene_version":"9.10.0","minimum_wire_compatibility_version":"7.10.0","minimum_index_compatibility_version":"7.0.0"},"tagline":%q}`, dist, num, tag)
	return &reply{status: http.StatusOK, body: b}
}

func (s *Server) aossNotFound() *reply {
	return &reply{status: http.StatusNotFound, body: fmt.Appendf(nil, `{"status":404,"request-id":%q,"error":{"reason":"Not Found","type":"Not Found"}}`, newRequestID())}
}

func (s *Server) search(rq *apiReq) *reply {
	body, err := decodeBody(rq.body)
	if err != nil {
		return badReq(err)
	}
	sp, err := parseSpec(body, rq.query)
	if err != nil {
		return badReq(err)
	}
	s.mu.Lock()
	ctx, ts, rp := s.openSearch(rq, body, sp)
	var cached *total
	if ctx != nil {
		if t, ok := ctx.totals[sp.key]; ok {
			cached = &t
		}
	}
	s.mu.Unlock()
	if rp != nil {
		return rp
	}
	if ctx != nil && !ctx.pit {
		return s.scrollPage(ctx)
	}
	rp, _, counted := s.runSearch(sp, ts, ctx, cached)
	if ctx != nil && counted != nil {
		s.mu.Lock()
		ctx.totals[sp.key] = *counted
		s.mu.Unlock()
	}
	return rp
}

// openSearch does a search's bookkeeping under the lock: counters, PIT
// lookup and keep-alive, index resolution, scroll context creation.
func (s *Server) openSearch(rq *apiReq, body map[string]any, sp *spec) (*searchCtx, []target, *reply) {
	s.expireLocked()
	s.st.SearchCalls++
	scroll := rq.query.Get("scroll")
	var ctx *searchCtx
	var ts []target
	if pit, ok := body["pit"].(map[string]any); ok {
		if scroll != "" {
			return nil, nil, errReply(400, "action_request_validation_exception", "Validation Failed: 1: using [point in time] is not allowed in a scroll context;")
		}
		if rq.expr != "" {
			return nil, nil, errReply(400, "action_request_validation_exception", "Validation Failed: 1: [indices] cannot be used with point in time. Do not specify any index with point in time.;")
		}
		id := str(pit["id"])
		ctx = s.pits[id]
		if ctx == nil {
			return nil, nil, errReply(404, "search_context_missing_exception", fmt.Sprintf("No search context found for id [%s]", id))
		}
		if ka := str(pit["keep_alive"]); ka != "" {
			d, err := parseDuration(ka)
			if err != nil {
				return nil, nil, badReq(err)
			}
			ctx.keepAlive = d
		}
		ctx.expires = s.o.Now().Add(ctx.keepAlive)
		ts = ctx.targets
	} else {
		var rp *reply
		if ts, rp = s.resolve(rq.expr); rp != nil {
			return nil, nil, rp
		}
	}
	if sp.slice != nil && scroll == "" && (ctx == nil || !ctx.pit) {
		return nil, nil, errReply(400, "action_request_validation_exception", "Validation Failed: 1: [slice] can only be used with [scroll] or [point-in-time] requests;")
	}
	if scroll == "" {
		return ctx, ts, nil
	}
	if s.aoss() {
		return nil, nil, s.aossNotFound()
	}
	if sp.from > 0 {
		return nil, nil, errReply(400, "action_request_validation_exception", "Validation Failed: 1: using [from] is not allowed in a scroll context;")
	}
	d, err := parseDuration(scroll)
	if err != nil {
		return nil, nil, badReq(err)
	}
	ctx = &searchCtx{id: s.newContextID(), targets: ts, keepAlive: d, expires: s.o.Now().Add(d), totals: map[string]total{}}
	ctx.sp = withTiebreak(sp)
	s.scrolls[ctx.id] = ctx
	s.st.ScrollCreated++
	return ctx, ts, nil
}

// withTiebreak makes scroll pages resumable: positions break ties.
func withTiebreak(sp *spec) *spec {
	c := *sp
	c.sort = append(append([]sortKey(nil), sp.sort...), sortKey{field: "_shard_doc"})
	c.after = nil
	return &c
}

// scrollPage serves the next page of a scroll context. Concurrent calls on
// one scroll id are serialised by ctx.mu, as a real scroll advances once
// per call.
func (s *Server) scrollPage(ctx *searchCtx) *reply {
	ctx.mu.Lock()
	defer ctx.mu.Unlock()
	s.mu.Lock()
	sp := *ctx.sp
	sp.after = ctx.cursor
	var cached *total
	if t, ok := ctx.totals[sp.key]; ok {
		cached = &t
	}
	s.mu.Unlock()
	rp, hits, counted := s.runSearch(&sp, ctx.targets, ctx, cached)
	s.mu.Lock()
	if len(hits) > 0 {
		ctx.cursor = hits[len(hits)-1].sv
	}
	if counted != nil {
		ctx.totals[sp.key] = *counted
	}
	s.mu.Unlock()
	return rp
}

func (s *Server) scroll(rq *apiReq) *reply {
	if s.aoss() {
		return s.aossNotFound()
	}
	id, keep := rq.query.Get("scroll_id"), rq.query.Get("scroll")
	if len(rq.segs) == 3 {
		id = rq.segs[2]
	}
	if len(bytes.TrimSpace(rq.body)) > 0 {
		b, err := decodeBody(rq.body)
		if err != nil {
			return badReq(err)
		}
		if v, ok := b["scroll_id"]; ok {
			id = str(v)
		}
		if v, ok := b["scroll"]; ok {
			keep = str(v)
		}
	}
	s.mu.Lock()
	s.expireLocked()
	s.st.SearchCalls++
	ctx := s.scrolls[id]
	var rp *reply
	switch {
	case id == "":
		rp = errReply(400, "action_request_validation_exception", "Validation Failed: 1: scrollId is missing;")
	case ctx == nil:
		rp = s.missingContext(id)
	case keep != "":
		d, err := parseDuration(keep)
		if err != nil {
			rp = badReq(err)
			break
		}
		ctx.keepAlive = d
	}
	if rp == nil {
		ctx.expires = s.o.Now().Add(ctx.keepAlive)
	}
	s.mu.Unlock()
	if rp != nil {
		return rp
	}
	return s.scrollPage(ctx)
}

func (s *Server) missingContext(id string) *reply {
	r := fmt.Sprintf("No search context found for id [%s]", id)
	b := fmt.Appendf(nil, `{"error":{"root_cause":[{"type":"search_context_missing_exception","reason":%[1]s}],"type":"search_phase_execution_exception","reason":"all shards failed","phase":"query","grouped":true,"failed_shards":[{"shard":-1,"index":null,"reason":{"type":"search_context_missing_exception","reason":%[1]s}}],"caused_by":{"type":"search_context_missing_exception","reason":%[1]s}},"status":404}`, jsonString(r))
	return &reply{status: http.StatusNotFound, body: b}
}

func (s *Server) clearScroll(rq *apiReq) *reply {
	if s.aoss() {
		return s.aossNotFound()
	}
	ids, err := idList(rq, "scroll_id")
	if err != nil {
		return badReq(err)
	}
	if len(rq.segs) == 3 {
		ids = strings.Split(rq.segs[2], ",")
	}
	freed := 0
	for _, id := range ids {
		if id == "_all" {
			freed += len(s.scrolls)
			s.st.ScrollCleared += len(s.scrolls)
			clear(s.scrolls)
			continue
		}
		if _, ok := s.scrolls[id]; ok {
			delete(s.scrolls, id)
			s.st.ScrollCleared++
			freed++
		}
	}
	status := http.StatusOK
	if freed == 0 && len(ids) > 0 {
		status = http.StatusNotFound
	}
	return &reply{status: status, body: fmt.Appendf(nil, `{"succeeded":true,"num_freed":%d}`, freed)}
}

// idList reads ids from a body member (string or array) or the query.
func idList(rq *apiReq, key string) ([]string, error) {
	var ids []string
	if v := rq.query.Get(key); v != "" {
		ids = strings.Split(v, ",")
	}
	if len(bytes.TrimSpace(rq.body)) == 0 {
		return ids, nil
	}
	b, err := decodeBody(rq.body)
	if err != nil {
		return nil, err
	}
	switch t := b[key].(type) {
	case string:
		ids = append(ids, t)
	case []any:
		for _, e := range t {
			ids = append(ids, str(e))
		}
	}
	return ids, nil
}

func (s *Server) pitSupported() bool { return s.aoss() || s.o.Engine == EngineOpenSearch2 }

func (s *Server) createPIT(rq *apiReq) *reply {
	if !s.pitSupported() {
		return noHandler(rq)
	}
	ka := rq.query.Get("keep_alive")
	if ka == "" {
		return errReply(400, "action_request_validation_exception", "Validation Failed: 1: keep alive not specified;")
	}
	d, err := parseDuration(ka)
	if err != nil {
		return badReq(err)
	}
	ts, rp := s.resolve(rq.expr)
	if rp != nil {
		return rp
	}
	now := s.o.Now()
	ctx := &searchCtx{id: s.newContextID(), pit: true, targets: ts, keepAlive: d, expires: now.Add(d), totals: map[string]total{}}
	s.pits[ctx.id] = ctx
	s.st.PITCreated++
	b := fmt.Appendf(nil, `{"pit_id":%s,"_shards":{"total":%[2]d,"successful":%[2]d,"skipped":0,"failed":0},"creation_time":%d}`, jsonString(ctx.id), max(len(ts), 1), now.UnixMilli())
	return &reply{status: http.StatusOK, body: b}
}

func (s *Server) deletePIT(rq *apiReq) *reply {
	if !s.pitSupported() {
		return noHandler(rq)
	}
	var ids []string
	if len(rq.segs) == 3 && rq.segs[2] == "_all" {
		for id := range s.pits {
			ids = append(ids, id)
		}
		sort.Strings(ids)
	} else {
		var err error
		if ids, err = idList(rq, "pit_id"); err != nil {
			return badReq(err)
		}
		if len(ids) == 0 {
			return errReply(400, "action_request_validation_exception", "Validation Failed: 1: no pit ids specified;")
		}
	}
	var b []byte
	b = append(b, `{"pits":[`...)
	for i, id := range ids {
		_, ok := s.pits[id]
		if ok {
			delete(s.pits, id)
			s.st.PITDeleted++
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"pit_id":%s,"successful":%t}`, jsonString(id), ok)
	}
	b = append(b, "]}"...)
	return &reply{status: http.StatusOK, body: b}
}

func (s *Server) count(rq *apiReq) *reply {
	body, err := decodeBody(rq.body)
	if err != nil {
		return badReq(err)
	}
	sp, err := parseSpec(map[string]any{"query": body["query"]}, rq.query)
	if body["query"] == nil {
		sp, err = parseSpec(map[string]any{}, rq.query)
	}
	if err != nil {
		return badReq(err)
	}
	ts, rp := s.resolve(rq.expr)
	if rp != nil {
		return rp
	}
	t := countMatches(sp, ts, -1)
	return &reply{status: http.StatusOK, body: fmt.Appendf(nil, `{"count":%d,"_shards":{"total":%[2]d,"successful":%[2]d,"skipped":0,"failed":0}}`, t.n, max(len(ts), 1))}
}

func (s *Server) doc(rq *apiReq) *reply {
	name := rq.segs[0]
	id := ""
	if len(rq.segs) == 3 {
		id = rq.segs[2]
	}
	switch rq.method {
	case http.MethodGet, http.MethodHead:
		ix, ok := s.indices[name]
		if !ok {
			return indexNotFound(name)
		}
		p, ok := ix.ids[id]
		if ix.synthetic {
			n, err := strconv.Atoi(id)
			p, ok = n, err == nil && n >= 0 && n < ix.n && SyntheticID(n) == id
		}
		if !ok {
			return &reply{status: 404, body: fmt.Appendf(nil, `{"_index":%s,"_id":%s,"found":false}`, jsonString(name), jsonString(id))}
		}
		b := fmt.Appendf(nil, `{"_index":%s,"_id":%s,"_version":1,"_seq_no":%d,"_primary_term":1,"found":true,"_source":`, jsonString(name), jsonString(id), p)
		b = ix.source(b, p)
		return &reply{status: 200, body: append(b, '}')}
	case http.MethodPut, http.MethodPost:
		if rq.method == http.MethodPut && id == "" {
			return noHandler(rq)
		}
		ix := s.indexLocked(name)
		_, existed := ix.ids[id]
		id, err := ix.add(id, rq.body)
		if err != nil {
			return errReply(400, "mapper_parsing_exception", "failed to parse: "+err.Error())
		}
		status, result := 201, "created"
		if existed {
			status, result = 200, "updated"
		}
		return &reply{status: status, body: fmt.Appendf(nil, `{"_index":%s,"_id":%s,"_version":1,"result":%q,"_shards":{"total":2,"successful":2,"failed":0},"_seq_no":%d,"_primary_term":1}`, jsonString(name), jsonString(id), result, len(ix.docs)-1)}
	case http.MethodDelete:
		ix, ok := s.indices[name]
		if !ok {
			return indexNotFound(name)
		}
		if !ix.remove(id) {
			return &reply{status: 404, body: fmt.Appendf(nil, `{"_index":%s,"_id":%s,"_version":1,"result":"not_found"}`, jsonString(name), jsonString(id))}
		}
		return &reply{status: 200, body: fmt.Appendf(nil, `{"_index":%s,"_id":%s,"_version":2,"result":"deleted"}`, jsonString(name), jsonString(id))}
	}
	return noHandler(rq)
}

// expireLocked drops contexts past their keep-alive.
func (s *Server) expireLocked() {
	now := s.o.Now()
	for id, c := range s.pits {
		if !now.Before(c.expires) {
			delete(s.pits, id)
		}
	}
	for id, c := range s.scrolls {
		if !now.Before(c.expires) {
			delete(s.scrolls, id)
		}
	}
}

// newContextID is a long opaque id with URL-unsafe '=' padding, like the
// base64 ids OpenSearch hands out.
func (s *Server) newContextID() string {
	s.ctxN++
	b := make([]byte, 40)
	rand.Read(b)
	b[0] = byte(s.ctxN)
	return base64.URLEncoding.EncodeToString(b) // 40 bytes: 56 characters ending "=="

}

func newRequestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// parseDuration reads OpenSearch time values: 30s, 1m, 2h, 1d, 500ms.
func parseDuration(v string) (time.Duration, error) {
	if strings.HasSuffix(v, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(v, "d"))
		if err == nil {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	return 0, &badRequest{"illegal_argument_exception", fmt.Sprintf("failed to parse setting [keep_alive] with value [%s] as a time value: unit is missing or unrecognized", v)}
}

// mustJSON marshals without HTML escaping.
func mustJSON(v any) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.Encode(v)
	return bytes.TrimRight(b.Bytes(), "\n")
}

package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Query is what to search: a query string (Lucene syntax, sent as a
// query_string query in the body, never as q= in the URL, so it is signed
// like any body), and/or a DSL document, plus size, sort and _source fields.
type Query struct {
	Index string
	// String is query_string syntax ("level:ERROR AND service:api"); "" =
	// none.
	String string
	// DSL is a search body ({"query":…,"sort":…}) or a bare query clause
	// ({"match":{…}}), from --query-file or stdin.
	DSL    json.RawMessage
	Size   int // 0 = the server's default (10) for one search
	Sort   []SortField
	Fields []string // _source includes; nil = whole documents
}

// SortField is one --sort entry.
type SortField struct {
	Field string
	Desc  bool
}

// ParseSort parses FIELD, FIELD:asc or FIELD:desc (the field itself may
// hold colons, the order is after the last one).
func ParseSort(specs []string) ([]SortField, error) {
	var out []SortField
	for _, s := range specs {
		f, desc, ordered := s, false, false
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			ordered = true
			switch strings.ToLower(s[i+1:]) {
			case "asc":
				f = s[:i]
			case "desc":
				f, desc = s[:i], true
			default:
				return nil, fmt.Errorf("--sort %q: give FIELD:asc or FIELD:desc", s)
			}
		}
		if f == "" {
			return nil, fmt.Errorf("--sort %q: the field name is missing", s)
		}
		if i := strings.LastIndexAny(f, " \t"); i >= 0 && !ordered {
			// "name asc" (SQL habit) would sort on a field named so.
			if o := strings.ToLower(f[i+1:]); o == "asc" || o == "desc" {
				return nil, fmt.Errorf("--sort %q: write %s:%s", s, strings.TrimSpace(f[:i]), o)
			}
		}
		out = append(out, SortField{f, desc})
	}
	return out, nil
}

// bodyKeys are the top-level keys of a search body; a DSL document with
// none of them is taken as a bare query clause.
var bodyKeys = map[string]bool{
	"query": true, "sort": true, "size": true, "from": true, "_source": true, "aggs": true,
	"aggregations": true, "track_total_hits": true, "search_after": true, "highlight": true,
	"post_filter": true, "fields": true, "docvalue_fields": true, "stored_fields": true,
	"min_score": true, "timeout": true, "collapse": true, "script_fields": true,
	"suggest": true, "explain": true, "version": true, "seq_no_primary_term": true,
	"indices_boost": true, "terminate_after": true, "track_scores": true, "ext": true,
}

// Body returns the search body as a map of raw values, so that numbers in
// the user's DSL (and later search_after values) are never re-encoded.
func (q *Query) Body() (map[string]json.RawMessage, error) {
	b := map[string]json.RawMessage{}
	if t := bytes.TrimSpace(q.DSL); len(t) > 0 {
		if t[0] != '{' {
			return nil, fmt.Errorf("the query DSL must be a JSON object, such as {\"query\":{\"match_all\":{}}}")
		}
		if err := json.Unmarshal(t, &b); err != nil {
			return nil, fmt.Errorf("the query DSL is not valid JSON: %v", err)
		}
		body := false
		for k := range b {
			if bodyKeys[k] {
				body = true
				break
			}
		}
		if !body && len(b) > 0 {
			b = map[string]json.RawMessage{"query": json.RawMessage(t)}
		}
	}
	if q.String != "" {
		qs, _ := json.Marshal(map[string]any{"query_string": map[string]string{"query": q.String}})
		if old, ok := b["query"]; ok {
			// Both: the DSL query and the query string must match.
			qs = []byte(`{"bool":{"must":[` + string(old) + `,` + string(qs) + `]}}`)
		}
		b["query"] = qs
	}
	if q.Size > 0 {
		b["size"] = json.RawMessage(fmt.Sprint(q.Size))
	}
	if len(q.Sort) > 0 {
		b["sort"] = sortJSON(q.Sort)
	}
	if q.Fields != nil {
		src, _ := json.Marshal(map[string][]string{"includes": q.Fields})
		b["_source"] = src
	}
	return b, nil
}

func sortJSON(s []SortField) json.RawMessage {
	var parts []string
	for _, f := range s {
		order := "asc"
		if f.Desc {
			order = "desc"
		}
		k, _ := json.Marshal(f.Field)
		parts = append(parts, fmt.Sprintf(`{%s:{"order":%q}}`, k, order))
	}
	return json.RawMessage("[" + strings.Join(parts, ",") + "]")
}

// sortList returns the body's sort as a list (it may be a string, an object
// or a list), so a tie-breaker can be appended.
func sortList(raw json.RawMessage) []json.RawMessage {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return nil
	}
	if t[0] == '[' {
		var l []json.RawMessage
		if json.Unmarshal(t, &l) == nil {
			return l
		}
	}
	return []json.RawMessage{t}
}

// hasSortKey reports whether a sort list already sorts on field.
func hasSortKey(l []json.RawMessage, field string) bool {
	for _, s := range l {
		var name string
		if json.Unmarshal(s, &name) == nil && name == field {
			return true
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(s, &m) == nil {
			if _, ok := m[field]; ok {
				return true
			}
		}
	}
	return false
}

// indexPath is the path of an index API ("/logs-*/_search"); an empty
// index searches every index.
func indexPath(index, api string) string {
	if index == "" {
		return "/" + api
	}
	return "/" + index + "/" + api
}

// Search runs one search and returns the server's answer (status < 400) for
// the caller to stream and close.
func Search(ctx context.Context, d Doer, q *Query) (*Response, error) {
	b, err := q.Body()
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(b)
	resp, err := d.Do(ctx, &Request{Method: http.MethodPost, Path: indexPath(q.Index, "_search"), Body: body})
	if err != nil {
		return nil, err
	}
	if err := resp.Err(); err != nil {
		return nil, err
	}
	return resp, nil
}

// WriteHits decodes a search answer and writes its hits to w; it returns
// the number written.
func WriteHits(r io.Reader, w HitWriter) (int, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return 0, err
	}
	var p page
	if err := p.decode(data); err != nil {
		return 0, err
	}
	for i := range p.Hits.Hits {
		if err := w.Write(&p.Hits.Hits[i]); err != nil {
			return i, err
		}
	}
	return len(p.Hits.Hits), nil
}

// page is the part of a search answer an export reads.
type page struct {
	ScrollID string `json:"_scroll_id"`
	PitID    string `json:"pit_id"`
	Hits     struct {
		Total json.RawMessage `json:"total"`
		Hits  []Hit           `json:"hits"`
	} `json:"hits"`
}

func (p *page) decode(data []byte) error {
	if err := decodePage(data, p); err != nil {
		snippet := bytes.TrimSpace(data)
		if len(snippet) > 80 {
			snippet = snippet[:80]
		}
		return fmt.Errorf("the answer is not a search result (%v): %q", err, snippet)
	}
	return nil
}

// total returns hits.total: an integer (Elasticsearch 6 and
// rest_total_hits_as_int) or {"value":N,"relation":"eq"|"gte"}; ok is
// false when absent or only a lower bound.
func (p *page) total() (n int64, ok bool) {
	t := bytes.TrimSpace(p.Hits.Total)
	if len(t) == 0 {
		return 0, false
	}
	if t[0] != '{' {
		if json.Unmarshal(t, &n) != nil || n < 0 {
			return 0, false
		}
		return n, true
	}
	var o struct {
		Value    int64  `json:"value"`
		Relation string `json:"relation"`
	}
	if json.Unmarshal(t, &o) != nil {
		return 0, false
	}
	return o.Value, o.Relation == "" || o.Relation == "eq"
}

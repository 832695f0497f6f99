package opensearchtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// bulk implements _bulk: index, create and delete actions.
func (s *Server) bulk(rq *apiReq) *reply {
	if s.aoss() && rq.query.Get("refresh") == "true" {
		return errReply(400, "status_exception", "true refresh policy is not supported.")
	}
	if len(rq.body) == 0 {
		return errReply(400, "action_request_validation_exception", "Validation Failed: 1: no requests added;")
	}
	if rq.body[len(rq.body)-1] != '\n' {
		return illegal("The bulk request must be terminated by a newline [\\n]")
	}
	lines := bytes.Split(rq.body[:len(rq.body)-1], []byte("\n"))
	var items [][]byte
	errs := false
	for i := 0; i < len(lines); i++ {
		line := bytes.TrimSpace(lines[i])
		if len(line) == 0 {
			continue
		}
		var action map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(line, &action); err != nil || len(action) != 1 {
			return illegal("Malformed action/metadata line [%d], expected START_OBJECT or END_OBJECT but found [VALUE_STRING]", i+1)
		}
		for op, meta := range action {
			name := meta.Index
			if name == "" {
				name = rq.expr
			}
			if name == "" {
				return errReply(400, "action_request_validation_exception", "Validation Failed: 1: index is missing;")
			}
			var src []byte
			if op != "delete" {
				i++
				if i >= len(lines) {
					return illegal("The bulk request must be terminated by a newline [\\n]")
				}
				src = lines[i]
			}
			item := s.bulkItem(op, name, meta.ID, src)
			if bytes.Contains(item, []byte(`"error":`)) {
				errs = true
			}
			items = append(items, item)
		}
	}
	b := fmt.Appendf(nil, `{"took":1,"errors":%t,"items":[%s]}`, errs, bytes.Join(items, []byte(",")))
	return &reply{status: http.StatusOK, body: b}
}

func (s *Server) bulkItem(op, name, id string, src []byte) []byte {
	fail := func(status int, typ, reason string) []byte {
		return fmt.Appendf(nil, `{%q:{"_index":%s,"_id":%s,"status":%d,"error":{"type":%q,"reason":%s,"index":%s}}}`,
			op, jsonString(name), jsonString(id), status, typ, jsonString(reason), jsonString(name))
	}
	switch op {
	case "index", "create":
		ix := s.indexLocked(name)
		if ix.synthetic {
			return fail(400, "illegal_argument_exception", "opensearchtest: synthetic index ["+name+"] is read-only")
		}
		if _, exists := ix.ids[id]; exists && op == "create" {
			return fail(409, "version_conflict_engine_exception", fmt.Sprintf("[%s]: version conflict, document already exists (current version [1])", id))
		}
		_, existed := ix.ids[id]
		nid, err := ix.add(id, src)
		if err != nil {
			return fail(400, "mapper_parsing_exception", "failed to parse: "+err.Error())
		}
		status, result := 201, "created"
		if existed {
			status, result = 200, "updated"
		}
		return fmt.Appendf(nil, `{%q:{"_index":%s,"_id":%s,"_version":1,"result":%q,"_shards":{"total":2,"successful":2,"failed":0},"_seq_no":%d,"_primary_term":1,"status":%d}}`,
			op, jsonString(name), jsonString(nid), result, len(ix.docs)-1, status)
	case "delete":
		ix, ok := s.indices[name]
		if ok && ix.remove(id) {
			return fmt.Appendf(nil, `{"delete":{"_index":%s,"_id":%s,"_version":2,"result":"deleted","status":200}}`, jsonString(name), jsonString(id))
		}
		return fmt.Appendf(nil, `{"delete":{"_index":%s,"_id":%s,"_version":1,"result":"not_found","status":404}}`, jsonString(name), jsonString(id))
	}
	return fail(400, "illegal_argument_exception", "opensearchtest: bulk action ["+op+"] is not emulated")
}

// catIndices implements _cat/indices (text with ?v and ?h, or
// ?format=json), sorted by name.
func (s *Server) catIndices(rq *apiReq) *reply {
	expr := rq.expr
	if expr == "" {
		expr = "*"
	}
	ts, rp := s.resolve(expr)
	if rp != nil {
		return rp
	}
	cols := []string{"health", "status", "index", "uuid", "pri", "rep", "docs.count", "docs.deleted", "store.size", "pri.store.size"}
	if h := rq.query.Get("h"); h != "" {
		cols = strings.Split(h, ",")
	}
	var rows [][]string
	for _, t := range ts {
		ix := t.ix
		size := fmtSize(int64(ix.docCount()) * 300)
		vals := map[string]string{
			"health": "green", "status": "open", "index": ix.name, "uuid": ix.uuid, "pri": "1", "rep": "1",
			"docs.count": fmt.Sprint(ix.docCount()), "docs.deleted": "0", "store.size": size, "pri.store.size": size,
		}
		row := make([]string, len(cols))
		for i, c := range cols {
			row[i] = vals[c]
		}
		rows = append(rows, row)
	}
	sortRows(rows, cols)
	if rq.query.Get("format") == "json" {
		out := make([]map[string]string, len(rows))
		for i, r := range rows {
			out[i] = map[string]string{}
			for j, c := range cols {
				out[i][c] = r[j]
			}
		}
		return &reply{status: 200, body: mustJSON(out)}
	}
	if _, v := rq.query["v"]; v {
		rows = append([][]string{cols}, rows...)
	}
	width := make([]int, len(cols))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for i, c := range r {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-len([]rune(c))))
			}
		}
		b.WriteByte('\n')
	}
	h := http.Header{"Content-Type": {"text/plain; charset=UTF-8"}}
	return &reply{status: 200, header: h, body: []byte(b.String())}
}

func sortRows(rows [][]string, cols []string) {
	k := 0
	for i, c := range cols {
		if c == "index" {
			k = i
		}
	}
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && rows[j][k] < rows[j-1][k]; j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

func fmtSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fgb", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fmb", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fkb", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%db", n)
}

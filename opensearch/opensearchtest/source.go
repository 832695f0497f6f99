package opensearchtest

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
)

// srcFilter is _source filtering: false, a list of includes, or
// {includes, excludes}; wildcards and dotted paths as OpenSearch.
type srcFilter struct {
	none               bool
	includes, excludes []string
}

func parseSource(body map[string]any, q url.Values) (srcFilter, error) {
	var f srcFilter
	list := func(v any) []string {
		switch t := v.(type) {
		case string:
			return strings.Split(t, ",")
		case []any:
			out := make([]string, 0, len(t))
			for _, e := range t {
				out = append(out, str(e))
			}
			return out
		}
		return nil
	}
	switch t := body["_source"].(type) {
	case nil:
	case bool:
		f.none = !t
	case string, []any:
		f.includes = list(t)
	case map[string]any:
		f.includes = list(t["includes"])
		if f.includes == nil {
			f.includes = list(t["include"])
		}
		f.excludes = list(t["excludes"])
		if f.excludes == nil {
			f.excludes = list(t["exclude"])
		}
	default:
		return f, parsingErr("[_source] malformed")
	}
	switch v := q.Get("_source"); v {
	case "":
	case "false":
		f.none = true
	case "true":
	default:
		f.includes = strings.Split(v, ",")
	}
	if v := q.Get("_source_includes"); v != "" {
		f.includes = strings.Split(v, ",")
	}
	if v := q.Get("_source_excludes"); v != "" {
		f.excludes = strings.Split(v, ",")
	}
	return f, nil
}

// apply appends the filtered _source of position p.
func (f srcFilter) apply(dst []byte, ix *index, p int) []byte {
	if len(f.includes) == 0 && len(f.excludes) == 0 {
		return ix.source(dst, p)
	}
	var m map[string]any
	if ix.synthetic {
		d := json.NewDecoder(bytes.NewReader(ix.source(nil, p)))
		d.UseNumber()
		d.Decode(&m)
	} else {
		m = ix.docs[p].m
	}
	out := f.filter(m, "")
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.Encode(out)
	return append(dst, bytes.TrimRight(b.Bytes(), "\n")...)
}

func (f srcFilter) filter(m map[string]any, prefix string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		path := prefix + k
		if f.excluded(path) {
			continue
		}
		switch t := v.(type) {
		case map[string]any:
			if f.included(path) {
				out[k] = f.filter(t, path+".")
				continue
			}
			if sub := f.filter(t, path+"."); len(sub) > 0 {
				out[k] = sub
			}
		case []any:
			var arr []any
			for _, e := range t {
				if em, ok := e.(map[string]any); ok {
					if f.included(path) {
						arr = append(arr, f.filter(em, path+"."))
					} else if sub := f.filter(em, path+"."); len(sub) > 0 {
						arr = append(arr, sub)
					}
				} else if f.included(path) {
					arr = append(arr, e)
				}
			}
			if arr != nil {
				out[k] = arr
			}
		default:
			if f.included(path) {
				out[k] = v
			}
		}
	}
	return out
}

func (f srcFilter) included(path string) bool {
	if len(f.includes) == 0 {
		return true
	}
	for _, in := range f.includes {
		if globMatch(in, path) || strings.HasPrefix(path, in+".") {
			return true
		}
	}
	return false
}

func (f srcFilter) excluded(path string) bool {
	for _, ex := range f.excludes {
		if globMatch(ex, path) || strings.HasPrefix(path, ex+".") {
			return true
		}
	}
	return false
}

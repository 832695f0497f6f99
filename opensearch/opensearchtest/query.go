package opensearchtest

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"
	"unicode"
)

// matcher reports whether position p of ix matches; nil matches all.
type matcher func(ix *index, p int) bool

// badRequest is a query the emulator (like OpenSearch) refuses with 400.
type badRequest struct{ typ, reason string }

func (e *badRequest) Error() string { return e.reason }

func parsingErr(format string, a ...any) error {
	return &badRequest{"parsing_exception", fmt.Sprintf(format, a...)}
}

// compile turns a query DSL object into a matcher.
func compile(q any) (matcher, error) {
	m, ok := q.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, parsingErr("query malformed, must be an object with exactly one query type")
	}
	for typ, body := range m {
		switch typ {
		case "match_all":
			return nil, nil
		case "match_none":
			return func(*index, int) bool { return false }, nil
		case "bool":
			return compileBool(body)
		case "query_string", "simple_query_string":
			b, _ := body.(map[string]any)
			qs, _ := b["query"].(string)
			if b == nil {
				return nil, parsingErr("[%s] malformed query", typ)
			}
			def, _ := b["default_field"].(string)
			if fs, ok := b["fields"].([]any); ok && len(fs) == 1 {
				def, _ = fs[0].(string)
			}
			and := strings.EqualFold(fmt.Sprint(b["default_operator"]), "and")
			return parseQueryString(qs, def, and)
		case "ids":
			b, _ := body.(map[string]any)
			vals, _ := b["values"].([]any)
			return anyValue("_id", func(v any) bool {
				for _, w := range vals {
					if equalValue(v, w) {
						return true
					}
				}
				return false
			}), nil
		}
		switch typ {
		case "match", "match_phrase", "match_bool_prefix", "term", "terms", "range", "exists", "prefix", "wildcard":
		default:
			return nil, parsingErr("unknown query [%s]", typ)
		}
		field, arg, err := fieldArg(typ, body)
		if err != nil {
			return nil, err
		}
		opts, _ := arg.(map[string]any)
		switch typ {
		case "match", "match_phrase", "match_bool_prefix":
			text := arg
			and := false
			if opts != nil {
				text = opts["query"]
				and = strings.EqualFold(fmt.Sprint(opts["operator"]), "and")
			}
			toks := tokens(str(text))
			if typ == "match_phrase" {
				return phrase(field, toks), nil
			}
			return matchTokens(field, toks, and), nil
		case "term":
			v := arg
			if opts != nil {
				v = opts["value"]
			}
			return termQuery(field, v), nil
		case "terms":
			vals, ok := arg.([]any)
			if !ok {
				return nil, parsingErr("[terms] query requires an array of values for [%s]", field)
			}
			ms := make([]matcher, len(vals))
			for i, v := range vals {
				ms[i] = termQuery(field, v)
			}
			return or(ms), nil
		case "range":
			if opts == nil {
				return nil, parsingErr("[range] query malformed, no start_object after query name")
			}
			return rangeQuery(field, opts), nil
		case "exists":
			return func(ix *index, p int) bool { return len(ix.values(p, field)) > 0 }, nil
		case "prefix", "wildcard":
			v := arg
			if opts != nil {
				v = opts["value"]
				if v == nil {
					v = opts["wildcard"]
				}
			}
			pat := str(v)
			if typ == "prefix" {
				pat = escapeGlob(pat) + "*"
			}
			return anyValue(field, func(v any) bool { return glob(pat, str(v)) }), nil
		}
	}
	for typ := range m {
		return nil, parsingErr("unknown query [%s]", typ)
	}
	return nil, nil
}

// fieldArg unpacks {"field": arg} (exists: {"field":"name"}).
func fieldArg(typ string, body any) (string, any, error) {
	b, ok := body.(map[string]any)
	if !ok {
		return "", nil, parsingErr("[%s] query malformed, no start_object after query name", typ)
	}
	if typ == "exists" {
		f, _ := b["field"].(string)
		if f == "" {
			return "", nil, parsingErr("[exists] must be provided with a [field]")
		}
		return f, nil, nil
	}
	if typ == "range" || typ == "term" || typ == "terms" || typ == "match" {
		delete(b, "boost")
	}
	if len(b) != 1 {
		return "", nil, parsingErr("[%s] query doesn't support multiple fields, found [%d]", typ, len(b))
	}
	for f, a := range b {
		return f, a, nil
	}
	return "", nil, nil
}

func compileBool(body any) (matcher, error) {
	b, ok := body.(map[string]any)
	if !ok {
		return nil, parsingErr("[bool] malformed query")
	}
	clauses := func(k string) ([]matcher, bool, error) {
		v, ok := b[k]
		if !ok {
			return nil, false, nil
		}
		list, isList := v.([]any)
		if !isList {
			list = []any{v}
		}
		var out []matcher
		all := true
		for _, c := range list {
			m, err := compile(c)
			if err != nil {
				return nil, false, err
			}
			if m != nil {
				all = false
			}
			out = append(out, m)
		}
		return out, len(list) > 0 && all, nil
	}
	must, _, err := clauses("must")
	if err != nil {
		return nil, err
	}
	filter, _, err := clauses("filter")
	if err != nil {
		return nil, err
	}
	not, _, err := clauses("must_not")
	if err != nil {
		return nil, err
	}
	should, _, err := clauses("should")
	if err != nil {
		return nil, err
	}
	msm := 0
	if len(should) > 0 && len(must)+len(filter) == 0 {
		msm = 1
	}
	if v, ok := b["minimum_should_match"].(json.Number); ok {
		n, _ := v.Int64()
		msm = int(n)
	}
	req := append(must, filter...)
	return func(ix *index, p int) bool {
		for _, m := range req {
			if m != nil && !m(ix, p) {
				return false
			}
		}
		for _, m := range not {
			if m == nil || m(ix, p) {
				return false
			}
		}
		if msm > 0 {
			n := 0
			for _, m := range should {
				if m == nil || m(ix, p) {
					if n++; n >= msm {
						return true
					}
				}
			}
			return false
		}
		return true
	}, nil
}

func or(ms []matcher) matcher {
	return func(ix *index, p int) bool {
		for _, m := range ms {
			if m == nil || m(ix, p) {
				return true
			}
		}
		return false
	}
}

func and(ms []matcher) matcher {
	return func(ix *index, p int) bool {
		for _, m := range ms {
			if m != nil && !m(ix, p) {
				return false
			}
		}
		return true
	}
}

func not(m matcher) matcher {
	return func(ix *index, p int) bool { return m != nil && !m(ix, p) }
}

// anyValue matches when f accepts a value of field ("*" or "": any field).
func anyValue(field string, f func(any) bool) matcher {
	return func(ix *index, p int) bool {
		var vs []any
		if field == "" || field == "*" {
			vs = ix.allValues(p)
		} else {
			vs = ix.values(p, field)
		}
		for _, v := range vs {
			if f(v) {
				return true
			}
		}
		return false
	}
}

// termQuery: exact value, or (for analysed text) one of its lowercase
// tokens; ".keyword" sub-fields are exact only.
func termQuery(field string, want any) matcher {
	exact := strings.HasSuffix(field, ".keyword") || field == "_id" || field == "_index"
	return anyValue(field, func(v any) bool {
		if equalValue(v, want) {
			return true
		}
		if s, ok := v.(string); ok && !exact {
			w := str(want)
			for _, t := range tokens(s) {
				if t == w {
					return true
				}
			}
		}
		return false
	})
}

func matchTokens(field string, want []string, all bool) matcher {
	if len(want) == 0 {
		return func(*index, int) bool { return false }
	}
	return func(ix *index, p int) bool {
		have := map[string]bool{}
		var vs []any
		if field == "" || field == "*" {
			vs = ix.allValues(p)
		} else {
			vs = ix.values(p, field)
		}
		for _, v := range vs {
			for _, t := range tokens(str(v)) {
				have[t] = true
			}
		}
		n := 0
		for _, w := range want {
			if have[w] {
				n++
			}
		}
		return n == len(want) || (!all && n > 0)
	}
}

func phrase(field string, want []string) matcher {
	if len(want) == 0 {
		return func(*index, int) bool { return false }
	}
	needle := " " + strings.Join(want, " ") + " "
	return anyValue(field, func(v any) bool {
		return strings.Contains(" "+strings.Join(tokens(str(v)), " ")+" ", needle)
	})
}

func rangeQuery(field string, o map[string]any) matcher {
	return anyValue(field, func(v any) bool {
		if v == nil {
			return false
		}
		for op, bound := range o {
			c, ok := compareLoose(v, bound)
			if !ok {
				if op == "gt" || op == "gte" || op == "lt" || op == "lte" {
					return false
				}
				continue
			}
			switch {
			case op == "gt" && c <= 0, op == "gte" && c < 0, op == "lt" && c >= 0, op == "lte" && c > 0:
				return false
			}
		}
		return true
	})
}

// compareLoose compares a document value with a query value: numbers
// numerically, dates as instants, else strings.
func compareLoose(v, q any) (int, bool) {
	if a, ok := num(v); ok {
		if b, ok := num(q); ok {
			return a.Cmp(b), true
		}
	}
	if ta, ok := date(v); ok {
		if tb, ok := date(q); ok {
			return ta.Compare(tb), true
		}
		if b, ok := num(q); ok { // epoch millis against a date
			return new(big.Float).SetInt64(ta.UnixMilli()).Cmp(b), true
		}
	}
	sv, sq := str(v), str(q)
	if q == nil {
		return 0, false
	}
	return strings.Compare(sv, sq), true
}

func equalValue(v, w any) bool {
	if a, ok := num(v); ok {
		if b, ok := num(w); ok {
			return a.Cmp(b) == 0
		}
	}
	if bv, ok := v.(bool); ok {
		return fmt.Sprint(bv) == str(w)
	}
	return v != nil && str(v) == str(w)
}

// num reads a number exactly (int64 beyond 2^53 included).
func num(v any) (*big.Float, bool) {
	var s string
	switch t := v.(type) {
	case json.Number:
		s = string(t)
	case string:
		s = t
	default:
		return nil, false
	}
	f, ok := new(big.Float).SetPrec(128).SetString(s)
	return f, ok
}

var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05", "2006-01-02"}

func date(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok || len(s) < 10 || s[4] != '-' {
		return time.Time{}, false
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func str(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return string(t)
	}
	return fmt.Sprint(v)
}

// tokens is a standard-analyser approximation: lowercase runs of letters
// and digits.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// glob matches * and ? (case-insensitive, as on lowercase keyword/tokens)
// against the whole value or any of its tokens.
func glob(pat, s string) bool {
	pat = strings.ToLower(pat)
	if globMatch(pat, strings.ToLower(s)) {
		return true
	}
	for _, t := range tokens(s) {
		if globMatch(pat, t) {
			return true
		}
	}
	return false
}

func globMatch(pat, s string) bool {
	pr, sr := []rune(pat), []rune(s)
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(sr) {
		switch {
		case pi < len(pr) && pr[pi] == '\\' && pi+1 < len(pr) && pr[pi+1] == sr[si]:
			pi, si = pi+2, si+1
		case pi < len(pr) && (pr[pi] == '?' || pr[pi] == sr[si]) && pr[pi] != '*' && pr[pi] != '\\':
			pi, si = pi+1, si+1
		case pi < len(pr) && pr[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi, mark = star+1, mark+1
			si = mark
		default:
			return false
		}
	}
	for pi < len(pr) && pr[pi] == '*' {
		pi++
	}
	return pi == len(pr)
}

func escapeGlob(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`)
	return r.Replace(s)
}

// sortedKeys returns m's keys in order (stable error messages).
func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

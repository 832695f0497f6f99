package opensearchtest

import (
	"strings"
	"unicode"
)

// parseQueryString supports the query_string subset analysts type:
// field:value, field:"a phrase", bare values (any field), wildcards * and
// ?, AND/OR/NOT (&&, ||, !), +/- prefixes, parentheses, field:(a OR b),
// ranges field:[a TO b] / {a TO b} and field:>=x, and _exists_:field.
// Juxtaposition takes the default operator (OR unless and is set).
func parseQueryString(s, defField string, and bool) (matcher, error) {
	p := &qsParser{s: []rune(s), and: and}
	m, err := p.expr(defField)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.fail("unexpected '" + string(p.s[p.i]) + "'")
	}
	return m, nil
}

type qsParser struct {
	s   []rune
	i   int
	and bool
}

func (p *qsParser) fail(why string) error {
	return &badRequest{"query_shard_exception", "Failed to parse query [" + string(p.s) + "]: " + why}
}

func (p *qsParser) space() {
	for p.i < len(p.s) && unicode.IsSpace(p.s[p.i]) {
		p.i++
	}
}

// word peeks at an operator keyword.
func (p *qsParser) word(w string) bool {
	p.space()
	r := []rune(w)
	if p.i+len(r) > len(p.s) || string(p.s[p.i:p.i+len(r)]) != w {
		return false
	}
	if w == "&&" || w == "||" {
		p.i += len(r)
		return true
	}
	end := p.i + len(r)
	if end < len(p.s) && !unicode.IsSpace(p.s[end]) && p.s[end] != '(' {
		return false
	}
	p.i = end
	return true
}

// expr: or-separated groups of and-separated clauses.
func (p *qsParser) expr(field string) (matcher, error) {
	var ors, ands, nots []matcher
	flush := func() {
		if len(ands) > 0 {
			ors = append(ors, andAll(ands))
			ands = nil
		}
	}
	for {
		p.space()
		if p.i >= len(p.s) || p.s[p.i] == ')' {
			break
		}
		op := ""
		switch {
		case p.word("AND"), p.word("&&"):
			op = "and"
		case p.word("OR"), p.word("||"):
			op = "or"
		}
		if op == "" && len(ands)+len(ors) > 0 {
			op = "or"
			if p.and {
				op = "and"
			}
		}
		if op == "or" {
			flush()
		}
		c, neg, err := p.clause(field)
		if err != nil {
			return nil, err
		}
		switch {
		case neg && op != "and":
			// Lucene: a prohibited clause excludes from the whole group.
			nots = append(nots, c)
		case neg:
			ands = append(ands, not(c))
		default:
			ands = append(ands, c)
		}
	}
	flush()
	if len(ors)+len(nots) == 0 {
		return nil, p.fail("empty query")
	}
	var m matcher
	switch len(ors) {
	case 0: // only prohibited clauses: everything else
	case 1:
		m = ors[0]
	default:
		m = or(ors)
	}
	if len(nots) == 0 {
		return m, nil
	}
	ex := or(nots)
	return func(ix *index, q int) bool { return (m == nil || m(ix, q)) && !ex(ix, q) }, nil
}

func andAll(ms []matcher) matcher {
	if len(ms) == 1 {
		return ms[0]
	}
	return and(ms)
}

func (p *qsParser) clause(field string) (matcher, bool, error) {
	p.space()
	neg := false
	switch {
	case p.word("NOT"):
		neg = true
	case p.i < len(p.s) && (p.s[p.i] == '-' || p.s[p.i] == '!'):
		neg = true
		p.i++
	case p.i < len(p.s) && p.s[p.i] == '+':
		p.i++
	}
	m, err := p.primary(field)
	return m, neg, err
}

func (p *qsParser) primary(field string) (matcher, error) {
	p.space()
	if p.i >= len(p.s) {
		return nil, p.fail("missing term")
	}
	if p.s[p.i] == '(' {
		p.i++
		m, err := p.expr(field)
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return nil, p.fail("missing ')'")
		}
		p.i++
		return m, nil
	}
	if p.s[p.i] == '"' {
		s, err := p.quoted()
		if err != nil {
			return nil, err
		}
		return phrase(field, tokens(s)), nil
	}
	// A bare run; a ':' not escaped ends a field name.
	start := p.i
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '\\' && p.i+1 < len(p.s) {
			b.WriteRune(c)
			b.WriteRune(p.s[p.i+1])
			p.i += 2
			continue
		}
		if unicode.IsSpace(c) || c == '(' || c == ')' {
			break
		}
		if c == ':' {
			f := unescape(b.String())
			p.i++
			return p.fieldValue(f)
		}
		b.WriteRune(c)
		p.i++
	}
	if p.i == start {
		return nil, p.fail("missing term")
	}
	return valueMatcher(field, b.String()), nil
}

func (p *qsParser) fieldValue(field string) (matcher, error) {
	if field == "_exists_" {
		p.space()
		start := p.i
		for p.i < len(p.s) && !unicode.IsSpace(p.s[p.i]) && p.s[p.i] != ')' {
			p.i++
		}
		f := string(p.s[start:p.i])
		return func(ix *index, q int) bool { return len(ix.values(q, f)) > 0 }, nil
	}
	if p.i >= len(p.s) {
		return nil, p.fail("missing value for field [" + field + "]")
	}
	switch c := p.s[p.i]; {
	case c == '(':
		return p.primary(field)
	case c == '"':
		s, err := p.quoted()
		if err != nil {
			return nil, err
		}
		return phrase(field, tokens(s)), nil
	case c == '[' || c == '{':
		return p.rangeValue(field)
	case c == '>' || c == '<':
		op := string(c)
		p.i++
		if p.i < len(p.s) && p.s[p.i] == '=' {
			op += "="
			p.i++
		}
		v := p.bare()
		key := map[string]string{">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}[op]
		return rangeQuery(field, map[string]any{key: v}), nil
	}
	return valueMatcher(field, p.bare()), nil
}

func (p *qsParser) rangeValue(field string) (matcher, error) {
	incLo := p.s[p.i] == '['
	p.i++
	end := p.i
	for end < len(p.s) && p.s[end] != ']' && p.s[end] != '}' {
		end++
	}
	if end >= len(p.s) {
		return nil, p.fail("unterminated range")
	}
	incHi := p.s[end] == ']'
	lo, hi, ok := strings.Cut(string(p.s[p.i:end]), " TO ")
	p.i = end + 1
	if !ok {
		return nil, p.fail("range needs 'TO'")
	}
	o := map[string]any{}
	if lo = strings.TrimSpace(lo); lo != "*" {
		o[map[bool]string{true: "gte", false: "gt"}[incLo]] = lo
	}
	if hi = strings.TrimSpace(hi); hi != "*" {
		o[map[bool]string{true: "lte", false: "lt"}[incHi]] = hi
	}
	return rangeQuery(field, o), nil
}

func (p *qsParser) bare() string {
	var b strings.Builder
	for p.i < len(p.s) && !unicode.IsSpace(p.s[p.i]) && p.s[p.i] != ')' && p.s[p.i] != '(' {
		if p.s[p.i] == '\\' && p.i+1 < len(p.s) {
			b.WriteRune(p.s[p.i])
			p.i++
		}
		b.WriteRune(p.s[p.i])
		p.i++
	}
	return b.String()
}

func (p *qsParser) quoted() (string, error) {
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\' && p.i < len(p.s):
			b.WriteRune(p.s[p.i])
			p.i++
		case c == '"':
			return b.String(), nil
		default:
			b.WriteRune(c)
		}
	}
	return "", p.fail("unterminated quote")
}

// valueMatcher matches a bare (possibly wildcarded, escaped) value.
func valueMatcher(field, raw string) matcher {
	if raw == "*" {
		if field == "" || field == "*" {
			return nil
		}
		return func(ix *index, p int) bool { return len(ix.values(p, field)) > 0 }
	}
	if hasWildcard(raw) {
		return anyValue(field, func(v any) bool { return v != nil && glob(raw, str(v)) })
	}
	v := unescape(raw)
	toks := tokens(v)
	if len(toks) == 0 {
		return anyValue(field, func(x any) bool { return str(x) == v })
	}
	if strings.HasSuffix(field, ".keyword") {
		return termQuery(field, v)
	}
	if len(toks) == 1 {
		return matchTokens(field, toks, true)
	}
	return phrase(field, toks)
}

func hasWildcard(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '*', '?':
			return true
		}
	}
	return false
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

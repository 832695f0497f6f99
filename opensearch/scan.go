package opensearch

import (
	"encoding/json"
	"errors"
	"fmt"
)

// decodePage reads the parts of a search answer an export needs (scroll
// and PIT ids, hits.total, and per hit _index, _id, _source and sort) in
// one pass over the bytes. encoding/json validates the whole body and then
// decodes it, and that was half of the client's CPU per exported document;
// here _source and sort values are only delimited, never decoded, and stay
// slices of data (the caller keeps data alive until the hits are written).
// The structure the export reads is checked (objects, arrays, strings,
// termination, nothing after the answer); the syntax inside _source and
// sort values is the server's business.
func decodePage(data []byte, p *page) error {
	s := scanner{data: data}
	hits := p.Hits.Hits[:0] // reuse the previous page's slice
	clear(hits[:cap(hits)])
	*p = page{}
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "_scroll_id":
			v, err := s.str()
			p.ScrollID = v
			return err
		case "pit_id":
			v, err := s.str()
			p.PitID = v
			return err
		case "hits":
			return s.object(func(key []byte) error {
				switch string(key) {
				case "total":
					v, err := s.value()
					p.Hits.Total = v
					return err
				case "hits":
					return s.array(func() error {
						var h Hit
						err := s.object(func(key []byte) error {
							var err error
							switch string(key) {
							case "_index":
								h.Index, err = s.str()
							case "_id":
								h.ID, err = s.str()
							case "_source":
								h.Source, err = s.value()
							case "sort":
								err = s.array(func() error {
									v, err := s.value()
									h.Sort = append(h.Sort, v)
									return err
								})
							default:
								_, err = s.value()
							}
							return err
						})
						hits = append(hits, h)
						return err
					})
				}
				_, err := s.value()
				return err
			})
		}
		_, err := s.value()
		return err
	})
	if err == nil {
		s.ws()
		if s.i != len(s.data) {
			err = s.fail("data after the answer")
		}
	}
	p.Hits.Hits = hits
	return err
}

type scanner struct {
	data []byte
	i    int
}

var errTruncated = errors.New("the answer ends early")

func (s *scanner) fail(what string) error {
	if s.i >= len(s.data) {
		return errTruncated
	}
	return fmt.Errorf("%s at offset %d", what, s.i)
}

func (s *scanner) ws() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// expect consumes c after blanks.
func (s *scanner) expect(c byte) bool {
	s.ws()
	if s.i < len(s.data) && s.data[s.i] == c {
		s.i++
		return true
	}
	return false
}

// object walks {"key": value, ...}; field must consume the value.
func (s *scanner) object(field func(key []byte) error) error {
	if !s.expect('{') {
		if s.i < len(s.data) && s.data[s.i] == 'n' {
			return s.null()
		}
		return s.fail("expected an object")
	}
	if s.expect('}') {
		return nil
	}
	for {
		s.ws()
		start := s.i
		esc, err := s.skipString()
		if err != nil {
			return err
		}
		key := s.data[start+1 : s.i-1]
		if esc {
			var k string
			if json.Unmarshal(s.data[start:s.i], &k) != nil {
				return s.fail("bad key")
			}
			key = []byte(k)
		}
		if !s.expect(':') {
			return s.fail("expected ':'")
		}
		if err := field(key); err != nil {
			return err
		}
		if s.expect(',') {
			continue
		}
		if s.expect('}') {
			return nil
		}
		return s.fail("expected ',' or '}'")
	}
}

// array walks [value, ...]; elem must consume the value.
func (s *scanner) array(elem func() error) error {
	if !s.expect('[') {
		if s.i < len(s.data) && s.data[s.i] == 'n' {
			return s.null()
		}
		return s.fail("expected an array")
	}
	if s.expect(']') {
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if s.expect(',') {
			continue
		}
		if s.expect(']') {
			return nil
		}
		return s.fail("expected ',' or ']'")
	}
}

func (s *scanner) null() error {
	if len(s.data)-s.i >= 4 && string(s.data[s.i:s.i+4]) == "null" {
		s.i += 4
		return nil
	}
	return s.fail("bad literal")
}

// str reads a string value (null is "").
func (s *scanner) str() (string, error) {
	s.ws()
	if s.i < len(s.data) && s.data[s.i] == 'n' {
		return "", s.null()
	}
	start := s.i
	esc, err := s.skipString()
	if err != nil {
		return "", err
	}
	if !esc {
		return string(s.data[start+1 : s.i-1]), nil
	}
	var v string
	if json.Unmarshal(s.data[start:s.i], &v) != nil {
		return "", s.fail("bad string")
	}
	return v, nil
}

// skipString moves past a string at s.i and says whether it has escapes.
func (s *scanner) skipString() (bool, error) {
	if s.i >= len(s.data) || s.data[s.i] != '"' {
		return false, s.fail("expected a string")
	}
	esc := false
	for i := s.i + 1; i < len(s.data); i++ {
		switch s.data[i] {
		case '\\':
			esc = true
			i++
		case '"':
			s.i = i + 1
			return esc, nil
		}
	}
	s.i = len(s.data)
	return false, errTruncated
}

// value delimits any value and returns its bytes.
func (s *scanner) value() (json.RawMessage, error) {
	s.ws()
	start := s.i
	if s.i >= len(s.data) {
		return nil, errTruncated
	}
	switch c := s.data[s.i]; c {
	case '"':
		if _, err := s.skipString(); err != nil {
			return nil, err
		}
	case '{', '[':
		depth := 0
		for s.i < len(s.data) {
			switch s.data[s.i] {
			case '"':
				if _, err := s.skipString(); err != nil {
					return nil, err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return s.data[start:s.i], nil
				}
			}
			s.i++
		}
		return nil, errTruncated
	case ',', '}', ']', ':':
		return nil, s.fail("expected a value")
	default: // number, true, false, null
		for s.i < len(s.data) {
			switch s.data[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return s.data[start:s.i], nil
			}
			s.i++
		}
		return nil, errTruncated
	}
	return s.data[start:s.i], nil
}

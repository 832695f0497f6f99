package opensearch

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// refDecode is the encoding/json reading decodePage replaces.
func refDecode(data []byte) (page, error) {
	var p page
	err := json.Unmarshal(data, &p)
	return p, err
}

var pageCorpus = []string{
	`{"took":1,"hits":{"total":{"value":2,"relation":"eq"},"hits":[{"_index":"a","_id":"1","_score":null,"_source":{"x":[1,{"y":"}]"}],"s":"q\"uote"},"sort":[9007199254740993,"k",null,1.5e300,true]},{"_index":"a","_id":"2","_source":{}}]}}`,
	`{"_scroll_id":"DXF1ZXJ5QW5kRmV0Y2gBAAAAAAAAAD4WYm9laVYtZndUQlNsdDcwakFMNjU1QQ==","took":3,"timed_out":false,"_shards":{"total":5},"hits":{"total":7,"max_score":1.0,"hits":[]}}`,
	"{\n  \"pit_id\" : \"o463QQEL\\u003d\\u003d\",\n  \"hits\" : {\n    \"total\" : {\n      \"value\" : 1,\n      \"relation\" : \"gte\"\n    },\n    \"hits\" : [\n      {\n        \"_index\" : \"l\\u00f6gs\",\n        \"_id\" : \"a\\/b\",\n        \"_source\" : {\n          \"m\" : \"line\\nnext\"\n        },\n        \"sort\" : [\n          1700000000000,\n          \"x\"\n        ]\n      }\n    ]\n  }\n}\n",
	`{"hits":{"hits":[{"_index":null,"_id":"x","_source":null,"sort":null}]},"aggregations":{"a":{"buckets":[{"key":"]","doc_count":1}]}}}`,
	`{"hits":{"total":{"value":0,"relation":"eq"},"max_score":null,"hits":[]},"\u005fscroll_id":"esc"}`,
	`{}`,
	` {"hits":{}} `,
}

func TestDecodePageMatchesEncodingJSON(t *testing.T) {
	for _, c := range pageCorpus {
		want, err := refDecode([]byte(c))
		if err != nil {
			t.Fatalf("bad corpus entry %s: %v", c, err)
		}
		var got page
		if err := decodePage([]byte(c), &got); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		// encoding/json keeps nil for absent slices; compare the text.
		if !reflect.DeepEqual(norm(got), norm(want)) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", c, norm(got), norm(want))
		}
		// Every truncation is an error, never a silently short page.
		for i := 0; i < len(c); i++ {
			if strings.TrimSpace(c[:i]) == strings.TrimSpace(c) {
				continue
			}
			var p page
			if decodePage([]byte(c[:i]), &p) == nil {
				t.Errorf("truncated at %d accepted: %q", i, c[:i])
			}
		}
	}
}

func norm(p page) string {
	var b bytes.Buffer
	b.WriteString(p.ScrollID + "|" + p.PitID + "|" + string(p.Hits.Total) + "|")
	for _, h := range p.Hits.Hits {
		b.WriteString(h.Index + "," + h.ID + "," + string(h.Source) + ",")
		for _, s := range h.Sort {
			b.WriteString(string(s) + ";")
		}
		b.WriteString("|")
	}
	return b.String()
}

func TestDecodePageRejects(t *testing.T) {
	for _, c := range []string{
		``, `<html><body>Sign in</body></html>`, `[1,2]`, `{"hits":{"hits":[{"_id":1}]}}`,
		`{"hits":{"hits":{}}}`, `{"a":1}{"b":2}`, `{"a" 1}`, `{"a":1,}`, `{"hits":{"hits":[{"_source":{"x":"unterminated}]}}`,
	} {
		var p page
		if err := decodePage([]byte(c), &p); err == nil {
			t.Errorf("%q accepted", c)
		}
	}
}

func BenchmarkDecodePage(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"pit_id":"abc","took":1,"hits":{"total":{"value":1000,"relation":"eq"},"max_score":null,"hits":[`)
	for i := range 1000 {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"_index":"logs","_id":"0000000001","_score":null,"_source":{"@timestamp":"2024-01-01T00:00:00.000Z","seq":1152921504606846976,"level":"INFO","message":"event 0 GET /api/items took 205ms","host":{"name":"host-0","ip":"10.0.0.0"},"user":{"id":0,"name":"user-0"},"bytes":19496},"sort":[4294967296]}`)
	}
	buf.WriteString(`]}}`)
	data := buf.Bytes()
	b.Run("scanner", func(b *testing.B) {
		var p page
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if err := decodePage(data, &p); err != nil || len(p.Hits.Hits) != 1000 {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if p, err := refDecode(data); err != nil || len(p.Hits.Hits) != 1000 {
				b.Fatal(err)
			}
		}
	})
}

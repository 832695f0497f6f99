package opensearch

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func hits(t *testing.T, srcs ...string) []Hit {
	t.Helper()
	var out []Hit
	for i, s := range srcs {
		if !json.Valid([]byte(s)) {
			t.Fatalf("bad fixture %s", s)
		}
		out = append(out, Hit{Index: "logs-1", ID: string(rune('a' + i)), Source: json.RawMessage(s)})
	}
	return out
}

func render(t *testing.T, o FormatOptions, hs []Hit) string {
	t.Helper()
	var b bytes.Buffer
	w, err := NewHitWriter(&b, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range hs {
		if err := w.Write(&hs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestFormats(t *testing.T) {
	docs := []string{
		`{"@timestamp":"2026-01-02T03:04:05Z","level":"ERROR","id":9007199254740993,"msg":"disk \"full\", again","http":{"status":500,"path":"/a"}}`,
		"{\n  \"@timestamp\": \"2026-01-02T03:04:06Z\",\n  \"level\": \"INFO\",\n  \"msg\": \"line1\\nline2\",\n  \"tags\": [\"x\", \"y\"],\n  \"http\": {\"status\": 200},\n  \"new\": 1\n}",
		`{"http.status":404,"level":null}`,
	}
	for _, tc := range []struct {
		name string
		o    FormatOptions
		want string
	}{
		{"ndjson", FormatOptions{Format: "ndjson"},
			docs[0] + "\n" +
				`{"@timestamp":"2026-01-02T03:04:06Z","level":"INFO","msg":"line1\nline2","tags":["x","y"],"http":{"status":200},"new":1}` + "\n" +
				docs[2] + "\n"},
		{"ndjson with meta", FormatOptions{Format: "ndjson", WithMeta: true},
			`{"_index":"logs-1","_id":"a","_source":` + docs[0] + "}\n" +
				`{"_index":"logs-1","_id":"b","_source":{"@timestamp":"2026-01-02T03:04:06Z","level":"INFO","msg":"line1\nline2","tags":["x","y"],"http":{"status":200},"new":1}}` + "\n" +
				`{"_index":"logs-1","_id":"c","_source":` + docs[2] + "}\n"},
		{"csv fields", FormatOptions{Format: "csv", Fields: []string{"@timestamp", "level", "http.status", "id", "msg", "tags"}},
			"@timestamp,level,http.status,id,msg,tags\n" +
				`2026-01-02T03:04:05Z,ERROR,500,9007199254740993,"disk ""full"", again",` + "\n" +
				`2026-01-02T03:04:06Z,INFO,200,,"line1` + "\n" + `line2","[""x"",""y""]"` + "\n" +
				",,404,,,\n"},
		{"csv from first hit", FormatOptions{Format: "csv", WithMeta: true},
			"_index,_id,@timestamp,level,id,msg,http.status,http.path\n" +
				`logs-1,a,2026-01-02T03:04:05Z,ERROR,9007199254740993,"disk ""full"", again",500,/a` + "\n" +
				`logs-1,b,2026-01-02T03:04:06Z,INFO,,"line1` + "\n" + `line2",200,` + "\n" +
				"logs-1,c,,,,,404,\n"},
		{"json array", FormatOptions{Format: "json"},
			"[\n" + `{"_index":"logs-1","_id":"a","_source":` + docs[0] + "},\n" +
				`{"_index":"logs-1","_id":"b","_source":{"@timestamp":"2026-01-02T03:04:06Z","level":"INFO","msg":"line1\nline2","tags":["x","y"],"http":{"status":200},"new":1}},` + "\n" +
				`{"_index":"logs-1","_id":"c","_source":` + docs[2] + "}\n]\n"},
		{"table unlimited", FormatOptions{Format: "table", Fields: []string{"level", "http.status", "msg"}},
			"level  http.status  msg\n" +
				"ERROR  500          disk \"full\", again\n" +
				"INFO   200          line1 line2\n" +
				"       404\n"},
		{"table narrow", FormatOptions{Format: "table", Fields: []string{"@timestamp", "level", "msg"}, Width: 30},
			"@timestamp  level  msg\n" +
				"2026-01-0…  ERROR  disk \"full…\n" +
				"2026-01-0…  INFO   line1 line2\n" +
				"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.o, hits(t, docs...))
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestFormatEmpty(t *testing.T) {
	for _, tc := range []struct {
		o    FormatOptions
		want string
	}{
		{FormatOptions{Format: "ndjson"}, ""},
		{FormatOptions{Format: "json"}, "[\n]\n"},
		{FormatOptions{Format: "csv", Fields: []string{"a", "b.c"}}, "a,b.c\n"},
		{FormatOptions{Format: "csv"}, ""},
		{FormatOptions{Format: "table", Fields: []string{"a"}}, "a\n"},
	} {
		if got := render(t, tc.o, nil); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.o, got, tc.want)
		}
	}
	if _, err := NewHitWriter(&bytes.Buffer{}, FormatOptions{Format: "xml"}); err == nil || !strings.Contains(err.Error(), "ndjson") {
		t.Errorf("unknown format error = %v", err)
	}
}

func TestTableTruncatesWidest(t *testing.T) {
	long := strings.Repeat("é", 200)
	out := render(t, FormatOptions{Format: "table", Fields: []string{"a", "b"}, Width: 40},
		hits(t, `{"a":"short","b":"`+long+`"}`))
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if n := len([]rune(l)); n > 40 {
			t.Errorf("line is %d runes wide: %q", n, l)
		}
	}
	if !strings.Contains(out, "short  éé") || !strings.HasSuffix(out, "…\n") {
		t.Errorf("table = %q", out)
	}
}

func TestLookup(t *testing.T) {
	src := parseObject(json.RawMessage(`{"a":{"b":{"c":1}},"x.y":{"z":2},"p.q":3,"p":{"q":4},"arr":[{"k":1}],` +
		`"items":[{"k":"a","v":{"n":12345678901234567890}},{"k":"b"},{"v":{"n":2}},"scalar",{"k":["c","d"]}],"nested":[[{"k":1}],[{"k":2}]]}`))
	for path, want := range map[string]string{
		"a.b.c": "1", "a.b": `{"c":1}`, "x.y.z": "2", "p.q": "3", "arr": `[{"k":1}]`, "nope": "", "a.nope": "",
		// Through arrays of objects: the values, flattened, numbers exact.
		"arr.k": "[1]", "items.k": `["a","b","c","d"]`, "items.v.n": "[12345678901234567890,2]", "nested.k": "[1,2]", "items.nope": "",
	} {
		if got := cell(lookup(src, path)); got != want {
			t.Errorf("lookup %s = %q, want %q", path, got, want)
		}
	}
}

func TestParseSort(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []SortField
		err  string
	}{
		{in: []string{"@timestamp:desc", "level"}, want: []SortField{{"@timestamp", true}, {"level", false}}},
		{in: []string{"a:ASC"}, want: []SortField{{"a", false}}},
		{in: []string{"ns:field:desc"}, want: []SortField{{"ns:field", true}}},
		{in: []string{"a:up"}, err: "FIELD:asc or FIELD:desc"},
		{in: []string{":desc"}, err: "field name is missing"},
		// SQL habit: a space before the order would sort on "name asc".
		{in: []string{"name asc"}, err: `--sort "name asc": write name:asc`},
		{in: []string{"@timestamp DESC"}, err: "write @timestamp:desc"},
		{in: []string{"first name"}, want: []SortField{{"first name", false}}},
		{in: []string{"name asc:desc"}, want: []SortField{{"name asc", true}}}, // an explicit order: taken as typed
	} {
		got, err := ParseSort(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Fatalf("%v: %v %v", tc.in, got, err)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%v: got %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}

func TestQueryBody(t *testing.T) {
	for _, tc := range []struct {
		name string
		q    Query
		want string
		err  string
	}{
		{"empty", Query{}, `{}`, ""},
		{"query string", Query{String: `level:ERROR AND msg:"a b"`, Size: 20},
			`{"query":{"query_string":{"query":"level:ERROR AND msg:\"a b\""}},"size":20}`, ""},
		{"bare clause", Query{DSL: json.RawMessage(`{"match":{"description":"farm"}}`)},
			`{"query":{"match":{"description":"farm"}}}`, ""},
		{"body keeps big numbers", Query{DSL: json.RawMessage(`{"query":{"term":{"id":9007199254740993}},"size":5}`)},
			`{"query":{"term":{"id":9007199254740993}},"size":5}`, ""},
		{"flags override", Query{DSL: json.RawMessage(`{"query":{"match_all":{}},"sort":["x"],"size":5}`),
			Size: 7, Sort: []SortField{{"@timestamp", true}}, Fields: []string{"a", "b.c"}},
			`{"_source":{"includes":["a","b.c"]},"query":{"match_all":{}},"size":7,"sort":[{"@timestamp":{"order":"desc"}}]}`, ""},
		{"dsl and string", Query{DSL: json.RawMessage(`{"query":{"term":{"x":1}}}`), String: "y:2"},
			`{"query":{"bool":{"must":[{"term":{"x":1}},{"query_string":{"query":"y:2"}}]}}}`, ""},
		{"not an object", Query{DSL: json.RawMessage(`[1]`)}, "", "must be a JSON object"},
		{"bad json", Query{DSL: json.RawMessage(`{"query":`)}, "", "not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.q.Body()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(b)
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestPageTotal(t *testing.T) {
	for raw, want := range map[string]struct {
		n  int64
		ok bool
	}{
		`{"hits":{"total":42,"hits":[]}}`:                               {42, true},
		`{"hits":{"total":{"value":10000,"relation":"gte"},"hits":[]}}`: {10000, false},
		`{"hits":{"total":{"value":7,"relation":"eq"},"hits":[]}}`:      {7, true},
		`{"hits":{"hits":[]}}`:                                          {0, false},
		`{"hits":{"total":-1,"hits":[]}}`:                               {0, false},
	} {
		var p page
		if err := p.decode([]byte(raw)); err != nil {
			t.Fatal(err)
		}
		n, ok := p.total()
		if n != want.n || ok != want.ok {
			t.Errorf("%s: total = %d %v, want %d %v", raw, n, ok, want.n, want.ok)
		}
	}
	var p page
	if err := p.decode([]byte("<html>login</html>")); err == nil || !strings.Contains(err.Error(), "not a search result") {
		t.Errorf("html page: %v", err)
	}
}

func TestProgressLine(t *testing.T) {
	now := time.Unix(1000, 0)
	p := NewProgress(&bytes.Buffer{}, func() time.Time { return now })
	now = now.Add(2 * time.Second)
	p.Add(5000)
	if got := p.Line(); got != "5,000 hits  2,500 hits/s" {
		t.Errorf("no total: %q", got)
	}
	p.AddTotal(20000)
	if got := p.Line(); got != "5,000 / 20,000 hits [#####---------------]  25%  2,500 hits/s" {
		t.Errorf("with total: %q", got)
	}
	var nilp *Progress
	nilp.Add(1)
	nilp.AddTotal(1)
	nilp.Stop()
	if group(1234567) != "1,234,567" || group(999) != "999" || group(-1000) != "-1,000" {
		t.Error("group")
	}
}

// TestHostileDocuments: text from documents reaches a terminal (table) or
// a spreadsheet (csv). ESC/OSC/CSI sequences, C1 controls and bidi
// overrides are shown as \xHH/\uHHHH, never sent; csv text cells a
// spreadsheet would run as formulas get a leading ' (numbers and bare
// @names stay), unless CSVRaw.
func TestHostileDocuments(t *testing.T) {
	src := `{"title":"\u001b]0;pwned\u0007x","clip":"\u001b]52;c;Y3VybCBldmlsfHNo\u001b\\","color":"\u001b[31mred\u001b[0m",` +
		`"c1":"\u009b2J","bidi":"abc\u202etxt.exe","f1":"=HYPERLINK(\"http://evil\",\"x\")","f2":"+cmd|' /C calc'!A0","f3":"-2+3+cmd|' /C calc'!A0",` +
		`"f4":"@SUM(1+1)*cmd|' /C calc'!A0","f5":"\tx","neg":"-5","num":-7,"at":"@timestamp","plain":"hello","multi":"a\nb","\u001b[2Jkey":1}`
	hs := hits(t, src)
	hs[0].ID = "=1+1"
	table := render(t, FormatOptions{Format: "table", WithMeta: true}, hs)
	csvOut := render(t, FormatOptions{Format: "csv", WithMeta: true}, hs)
	raw := render(t, FormatOptions{Format: "csv", WithMeta: true, CSVRaw: true}, hs)
	for name, out := range map[string]string{"table": table, "csv": csvOut, "csv raw": raw} {
		if i := strings.IndexFunc(out, func(r rune) bool {
			return (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r < 0xa0) || (r >= 0x202a && r <= 0x202e)
		}); i >= 0 {
			t.Errorf("%s: control character %q reached the output: %q", name, out[i:i+1], out)
		}
		for _, want := range []string{`\x1b]0;pwned\x07x`, `\x1b]52;c;`, `\x1b[31mred\x1b[0m`, `\x9b2J`, `abc\u202etxt.exe`, `\x1b[2Jkey`} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: %q not shown as text", name, want)
			}
		}
	}
	for _, want := range []string{`'=1+1`, `"'=HYPERLINK(""http://evil"",""x"")"`, `'+cmd|`, `'-2+3+cmd|`, `'@SUM(1+1)`, "'\tx", `,-5,-7,@timestamp,hello,"a` + "\n" + `b",`} {
		if !strings.Contains(csvOut, want) {
			t.Errorf("csv: want %q in %q", want, csvOut)
		}
	}
	for _, bad := range []string{`'-5`, `'-7`, `'@timestamp`, `'hello`} {
		if strings.Contains(csvOut, bad) {
			t.Errorf("csv: %q neutralised although it runs nothing", bad)
		}
	}
	if strings.Contains(raw, "'=") || !strings.Contains(raw, `,=1+1,`) {
		t.Errorf("csv raw: formulas must be kept: %q", raw)
	}
	if strings.Contains(table, "\n"+"b") {
		t.Errorf("table: a line break inside a cell split the row: %q", table)
	}
}

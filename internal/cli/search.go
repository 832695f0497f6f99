package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/saml2sts/saml2sts/opensearch"
)

type searchOptions struct {
	f         *factory
	os        osFlags
	index     string
	query     string
	queryFile string
	size      int
	sort      []string
	fields    []string
	all       bool
	slices    int
	format    string
	withMeta  bool
	csvRaw    bool
	keepAlive time.Duration
}

func newSearchCmd(f *factory) *cobra.Command {
	opts := &searchOptions{f: f}
	cmd := &cobra.Command{
		Use:   "search INDEX [QUERY] [flags]",
		Short: "Search an OpenSearch index, or export every hit (--all)",
		Long: `Search INDEX (a name, a pattern such as 'logs-*' or a comma-separated list)
with the profile's credentials. QUERY is query string syntax
('level:ERROR AND service:api'), sent in the request body; for the query DSL
(JSON) give --query-file FILE, or --query-file - (or QUERY "-") to read it
from stdin. The DSL may be a whole search body ({"query":…,"sort":…,"aggs":…}) or
just a query clause ({"match":{…}}). Given QUERY and a DSL, hits match both.

Output (--format):
  json    the server's answer as received (the default); with --all, one
          JSON array of {"_index","_id","_source"} objects
  ndjson  one _source per line (the default with --all); --with-meta wraps
          each as {"_index":…,"_id":…,"_source":{…}}
  csv     a header from --fields (dotted paths reach into nested objects:
          http.status), then one row per hit; without --fields the columns
          are the fields of the first hit, in its order
  table   the same columns, fitted to the terminal width (cut with …)

Documents are untrusted text: in csv and table, control characters (ESC
sequences that would drive the terminal, C1 and bidi controls) are shown as
\xHH or \uHHHH. A csv text cell that a spreadsheet would run as a formula
(starting with = + - @, a tab or a carriage return; numbers and bare names
such as @timestamp excepted) gets a leading ' unless --csv-raw.

--all pages through every hit with a point in time and search_after
(OpenSearch 2.x domains, Serverless), or a scroll where there is no point in
time (OpenSearch 1.x, Elasticsearch); --size is then the page size (default
1000) and --slices N runs N sliced searches in parallel. Hits are written as
they arrive, so memory stays flat whatever the total, each exactly once even
when pages must be fetched again after a broken connection. The point in
time or scroll is deleted at the end and on Ctrl-C. On a terminal, stderr
shows a progress line.`,
		Example: `  saml2sts search cats_and_dogs 'description:farm'
  saml2sts search 'logs-*' 'level:ERROR' --size 20 --format table
  saml2sts search 'logs-*' --all --format ndjson > all.ndjson
  saml2sts search 'logs-*' --all --slices 4 --fields @timestamp,level,message --format csv
  saml2sts search 'logs-*' --query-file q.json --sort @timestamp:desc --fields @timestamp,message
  echo '{"match":{"level":"ERROR"}}' | saml2sts search 'logs-*' - --format ndjson --with-meta`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.RangeArgs(1, 2)(cmd, args); err != nil {
				return usageErrorf("%v (give INDEX and an optional QUERY; quote patterns: 'logs-*')", err)
			}
			return nil
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return indexNames(cmd.Context(), f, cmd, &opts.os), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.index = args[0]
			if len(args) > 1 {
				opts.query = args[1]
			}
			if err := opts.check(cmd); err != nil {
				return err
			}
			return searchRun(cmd.Context(), cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.queryFile, "query-file", "", "query DSL JSON `file` (- = stdin)")
	fl.IntVar(&opts.size, "size", 0, "hits to return (default: the server's, 10); with --all, hits per page (default 1000)")
	fl.StringSliceVar(&opts.sort, "sort", nil, "sort by `FIELD:asc|desc` (repeat or comma-separate)")
	fl.StringSliceVar(&opts.fields, "fields", nil, "comma-separated field `paths` to keep (_source filtering; the csv/table columns)")
	fl.BoolVar(&opts.all, "all", false, "export every hit (point in time + search_after, else scroll)")
	fl.IntVar(&opts.slices, "slices", 1, "with --all, `N` sliced searches in parallel")
	fl.StringVar(&opts.format, "format", "", "output `format`: json, ndjson, csv or table (default json; ndjson with --all)")
	fl.BoolVar(&opts.withMeta, "with-meta", false, "include _index and _id (ndjson, csv, table)")
	fl.BoolVar(&opts.csvRaw, "csv-raw", false, "csv: keep cells that start with = + - @ as they are (for programs, not spreadsheets)")
	fl.DurationVar(&opts.keepAlive, "keep-alive", 5*time.Minute, "with --all, how long the server keeps the point in time or scroll between pages")
	addOSFlags(fl, &opts.os)
	return cmd
}

// check rejects flag combinations before any login.
func (o *searchOptions) check(cmd *cobra.Command) error {
	if o.format == "" {
		o.format = "json"
		if o.all {
			o.format = "ndjson"
		}
	}
	if !slices.Contains(opensearch.Formats, o.format) {
		return usageErrorf("--format %q: use json, ndjson, csv or table", o.format)
	}
	if o.query == "-" {
		if o.queryFile != "" {
			return usageErrorf("give the query DSL on stdin (QUERY -) or with --query-file, not both")
		}
		o.query, o.queryFile = "", "-"
	}
	if o.size < 0 {
		return usageErrorf("--size %d: give a positive number", o.size)
	}
	if o.slices < 1 {
		return usageErrorf("--slices %d: give 1 or more", o.slices)
	}
	if cmd.Flags().Changed("slices") && !o.all {
		return usageErrorf("--slices only applies with --all")
	}
	if o.withMeta && o.format == "json" && !o.all {
		return usageErrorf("--with-meta applies to ndjson, csv and table (json is the raw answer, which has _index and _id)")
	}
	if o.csvRaw && o.format != "csv" {
		return usageErrorf("--csv-raw applies to --format csv only")
	}
	if o.keepAlive < time.Second {
		return usageErrorf("--keep-alive %s: give at least 1s", o.keepAlive)
	}
	if _, err := opensearch.ParseSort(o.sort); err != nil {
		return usageErrorf("%v", err)
	}
	if cmd.Flags().Changed("fields") && (len(o.fields) == 0 || slices.ContainsFunc(o.fields, func(f string) bool { return strings.TrimSpace(f) == "" })) {
		return usageErrorf("--fields %q: a field name is empty; give comma-separated paths such as @timestamp,http.status", strings.Join(o.fields, ","))
	}
	if t := strings.TrimSpace(o.query); strings.HasPrefix(t, "{") && json.Valid([]byte(t)) {
		// A JSON QUERY would go out as query_string syntax and come back
		// as a puzzling parse error from the server.
		return usageErrorf("QUERY is query string syntax (level:ERROR), not JSON: give the query DSL on stdin (QUERY -) or with --query-file FILE")
	}
	// "/logs" is forgiven; "logs/_search" would become /logs/_search/_search.
	o.index = strings.TrimLeft(o.index, "/")
	if o.index == "" {
		return usageErrorf("INDEX is empty: give an index name or pattern such as 'logs-*'")
	}
	if strings.Contains(o.index, "/") {
		return usageErrorf("INDEX %q is a path: give only the index name or pattern (search adds /_search; for other APIs use saml2sts os)", o.index)
	}
	return nil
}

func (o *searchOptions) buildQuery() (*opensearch.Query, error) {
	q := &opensearch.Query{Index: o.index, String: o.query, Size: o.size, Fields: o.fields}
	q.Sort, _ = opensearch.ParseSort(o.sort)
	switch o.queryFile {
	case "":
	case "-":
		b, err := io.ReadAll(o.f.in)
		if err != nil {
			return nil, fmt.Errorf("read the query from stdin: %w", err)
		}
		q.DSL = b
	default:
		b, err := os.ReadFile(o.queryFile)
		if err != nil {
			return nil, usageErrorf("--query-file: %v", err)
		}
		q.DSL = b
	}
	if o.queryFile != "" && len(bytes.TrimSpace(q.DSL)) == 0 {
		// Without this, an empty pipe or file would search everything.
		if o.queryFile == "-" {
			return nil, usageErrorf("stdin is empty: pipe the query DSL in (echo '{\"match\":{…}}' | saml2sts search INDEX -), or drop \"-\"")
		}
		return nil, usageErrorf("--query-file %s is empty: give the query DSL, such as {\"match\":{\"level\":\"ERROR\"}}", o.queryFile)
	}
	if _, err := q.Body(); err != nil {
		src := "--query-file " + o.queryFile
		if o.queryFile == "-" {
			src = "stdin"
		}
		return nil, usageErrorf("%s: %v", src, err)
	}
	return q, nil
}

func searchRun(ctx context.Context, cmd *cobra.Command, o *searchOptions) error {
	q, err := o.buildQuery()
	if err != nil {
		return err
	}
	d, err := o.f.openSearch(ctx, cmd, &o.os)
	if err != nil {
		return err
	}
	// A closed pipe (| head) must reach us as an error, not kill the
	// process before the point in time is deleted.
	signal.Ignore(syscall.SIGPIPE)
	defer signal.Reset(syscall.SIGPIPE)

	err = o.search(ctx, d, q)
	if errors.Is(err, syscall.EPIPE) {
		return nil
	}
	var he *opensearch.HTTPError
	if errors.As(err, &he) && strings.Contains(he.Reason, "Result window is too large") {
		// One search, or one page, stops at index.max_result_window
		// (10,000 hits by default).
		hint := "to get every hit, use --all"
		if o.all {
			hint = "with --all, --size is the page size: give 10000 or less"
		}
		err = fmt.Errorf("%w (%s)", err, hint)
	}
	return o.f.osError(o.os.netError(err))
}

func (o *searchOptions) search(ctx context.Context, d opensearch.Doer, q *opensearch.Query) error {
	out := o.f.out
	if !o.all && o.format == "json" {
		resp, err := opensearch.Search(ctx, d, q)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.Copy(out, resp.Body)
		return err
	}
	w, err := opensearch.NewHitWriter(out, opensearch.FormatOptions{
		Format: o.format, Fields: o.fields, WithMeta: o.withMeta, Width: termWidth(out, o.f.getenv), CSVRaw: o.csvRaw,
	})
	if err != nil {
		return usageErrorf("%v", err)
	}
	if !o.all {
		resp, err := opensearch.Search(ctx, d, q)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := opensearch.WriteHits(resp.Body, w); err != nil {
			return err
		}
		return w.Close()
	}
	var prog *opensearch.Progress
	if isTerminal(o.f.errOut) {
		prog = opensearch.NewProgress(o.f.errOut, nil)
		prog.Start(250 * time.Millisecond)
	}
	e := &opensearch.Export{Query: q, PageSize: o.size, Slices: o.slices, KeepAlive: o.keepAlive,
		Out: w, Progress: prog, Notice: o.f.errOut, Sleep: o.f.sleep}
	st, err := e.Run(ctx, d)
	prog.Stop()
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil && o.f.g.debug {
		fmt.Fprintf(o.f.errOut, "debug: exported %d hits (%s, %d pages fetched again)\n", st.Hits, st.Mode, st.Retries)
	}
	return err
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// termWidth is the width for --format table: the terminal's, else
// $COLUMNS, else 0 (no limit: a pipe gets whole cells).
func termWidth(w io.Writer, getenv func(string) string) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	if n, err := strconv.Atoi(strings.TrimSpace(getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	return 0
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/saml2sts/saml2sts/opensearch"
)

type osOptions struct {
	f       *factory
	conn    osFlags
	method  string
	path    string
	data    string // -d / --data-binary: DATA, @file or @-
	binary  string
	headers []string
	include bool
}

func newOSCmd(f *factory) *cobra.Command {
	opts := &osOptions{f: f}
	cmd := &cobra.Command{
		Use:   "os METHOD PATH",
		Short: "Send one signed OpenSearch API call (awscurl-like)",
		Long: `Send one OpenSearch API call to a managed domain (es) or a Serverless
collection (aoss), signed with SigV4 with the profile's cached credentials
(renewed through the IdP session when needed), and print the response body
on stdout as it arrives.

The endpoint https://HOST comes from --endpoint or the profile's
opensearch_endpoint (an AWS endpoint takes no path: the /_dashboards URL is
for --via dashboards). The SigV4 service and region are read from the host
name (search-*.REGION.es.amazonaws.com, *.aos.REGION.on.aws,
ID.REGION.aoss.amazonaws.com, ID.aoss.REGION.on.aws, VPC, China and
GovCloud endpoints); a custom domain needs --service and --region.

PATH is typed as-is: index patterns and lists (logs-*, a,b), cross-cluster
names (c:logs) and non-ASCII names are escaped for you; a %XX you type (a "/"
in a document id as %2F) is kept. A query string may follow "?".

-d and --data-binary send DATA, @FILE or @- (stdin) unchanged: unlike curl,
-d keeps newlines, so NDJSON for _bulk works; a missing final newline is
added for _bulk and _msearch. Content-Type is application/json, or
application/x-ndjson for _bulk and _msearch, unless -H sets it.

A 401/403 prints the server's message, what is wrong and what to change,
and exits 5. Any other status >= 400 prints the body on stdout, one line on
stderr, and exits 1.

--via dashboards sends the call through the OpenSearch Dashboards console
proxy with a SAML session (for domains that admit SAML users only); the
profile's IdP app for Dashboards is dashboards_idp_url (required: assertions
go only to the Dashboards ACS they are addressed to).`,
		Example: `  saml2sts os GET '/_cat/indices?v'
  saml2sts os POST /cats_and_dogs/_search -d '{"query":{"match":{"description":"farm"}}}'
  saml2sts os POST /_bulk --data-binary @docs.ndjson
  jq -c '.[]' docs.json | saml2sts os POST /logs/_bulk -d @-
  saml2sts os GET '/logs-*/_count' --endpoint https://abc123.eu-west-1.aoss.amazonaws.com
  saml2sts os GET /_cat/indices --via dashboards \
      --dashboards-url https://search-logs-abc.eu-west-1.es.amazonaws.com/_dashboards`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.ExactArgs(2)(cmd, args); err != nil {
				return usageErrorf("%v (give METHOD and PATH, e.g. saml2sts os GET /_cat/indices)", err)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.method, opts.path = args[0], args[1]
			return osRun(cmd.Context(), cmd, opts)
		},
	}
	fl := cmd.Flags()
	addOSFlags(fl, &opts.conn)
	fl.StringVarP(&opts.data, "data", "d", "", "request body: `DATA`, @FILE, or @- for stdin (sent unchanged)")
	fl.StringVar(&opts.binary, "data-binary", "", "request body: `DATA`, @FILE, or @- for stdin (same as -d)")
	fl.StringArrayVarP(&opts.headers, "header", "H", nil, "extra request header `'Name: value'` (repeatable)")
	fl.BoolVarP(&opts.include, "include", "i", false, "print the response status line and headers on stderr")
	return cmd
}

var osMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "DELETE": true, "HEAD": true, "PATCH": true}

func osRun(ctx context.Context, cmd *cobra.Command, o *osOptions) error {
	f := o.f
	method := strings.ToUpper(o.method)
	if !osMethods[method] {
		return usageErrorf("method %q: use GET, POST, PUT, DELETE, HEAD or PATCH", o.method)
	}
	if method == "PATCH" && o.conn.via == "dashboards" {
		return usageErrorf("--via dashboards: the console proxy does not forward PATCH (only GET, POST, PUT, DELETE, HEAD); use --via iam")
	}
	if cmd.Flags().Changed("data") && cmd.Flags().Changed("data-binary") {
		return usageErrorf("give either -d or --data-binary, not both")
	}
	hdr, err := parseHeaders(o.headers)
	if err != nil {
		return err
	}
	flag, src, hasBody := "-d", o.data, cmd.Flags().Changed("data")
	if cmd.Flags().Changed("data-binary") {
		flag, src, hasBody = "--data-binary", o.binary, true
	}
	// A missing @FILE fails before any login; stdin (@-) is read only
	// after it, so a bad endpoint or a needed login leaves it unread.
	var body []byte
	if hasBody && src != "@-" {
		if body, err = readData(f.in, flag, src); err != nil {
			return err
		}
	}
	doer, err := f.openSearch(ctx, cmd, &o.conn)
	if err != nil {
		return err
	}
	if hasBody && src == "@-" {
		if body, err = readData(f.in, flag, src); err != nil {
			return err
		}
	}
	if body != nil && ndjsonPath(o.path) && len(body) > 0 && body[len(body)-1] != '\n' {
		body = append(body, '\n')
	}
	resp, err := doer.Do(ctx, &opensearch.Request{Method: method, Path: o.path, Body: body, Header: hdr})
	if err != nil {
		return f.osError(o.conn.netError(err))
	}
	defer resp.Body.Close()
	if o.include {
		printStatus(f.errOut, resp)
	}
	switch {
	case resp.Status < 400:
		_, err := io.Copy(f.out, resp.Body)
		return err
	case resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden:
		return f.osError(resp.Err())
	}
	// Show the body as received, then one line on stderr.
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if _, err := f.out.Write(raw); err != nil {
		return err
	}
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		fmt.Fprintln(f.out)
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	return badJSON(resp.Err(), o.path, hdr, body)
}

// badJSON adds to a 400 that the JSON body we sent was not valid JSON,
// and where: the server's words for it (json_e_o_f_exception, "expected
// close marker for Object") rarely say so plainly.
func badJSON(err error, path string, hdr http.Header, body []byte) error {
	var he *opensearch.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusBadRequest || len(bytes.TrimSpace(body)) == 0 || ndjsonPath(path) {
		return err
	}
	if ct := hdr.Get("Content-Type"); ct != "" && !strings.Contains(strings.ToLower(ct), "json") {
		return err
	}
	var v any
	if jerr := json.Unmarshal(body, &v); jerr != nil {
		return fmt.Errorf("%w (the request body is not valid JSON: %v)", err, jerr)
	}
	return err
}

// readData reads -d (or --data-binary, named by flag): DATA, @FILE or
// @- (stdin), unchanged.
func readData(stdin io.Reader, flag, v string) ([]byte, error) {
	switch {
	case v == "@-":
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("read the request body from stdin: %w", err)
		}
		return b, nil
	case strings.HasPrefix(v, "@"):
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return nil, usageErrorf("%s %s: %v", flag, v, err)
		}
		return b, nil
	}
	return []byte(v), nil
}

func ndjsonPath(p string) bool {
	p, _, _ = strings.Cut(p, "?")
	p = strings.TrimRight(p, "/")
	return strings.HasSuffix(p, "_bulk") || strings.HasSuffix(p, "_msearch")
}

// parseHeaders reads -H 'Name: value'. Host and the SigV4 headers are ours.
func parseHeaders(hs []string) (http.Header, error) {
	h := http.Header{}
	for _, s := range hs {
		k, v, ok := strings.Cut(s, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, usageErrorf("-H %q: want 'Name: value'", s)
		}
		switch strings.ToLower(k) {
		case "host", "authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "content-length":
			return nil, usageErrorf("-H %s: saml2sts sets this header itself", k)
		}
		h.Add(k, strings.TrimSpace(v))
	}
	return h, nil
}

// printStatus writes the status line and headers (sorted) for -i.
func printStatus(w io.Writer, r *opensearch.Response) {
	fmt.Fprintf(w, "HTTP %d %s\n", r.Status, http.StatusText(r.Status))
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.EqualFold(k, "Set-Cookie") {
			fmt.Fprintf(w, "%s: <redacted>\n", k)
			continue
		}
		for _, v := range r.Header[k] {
			fmt.Fprintf(w, "%s: %s\n", k, v)
		}
	}
	fmt.Fprintln(w)
}

package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/saml2sts/saml2sts/internal/clock"
	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// Export pages through every hit of a query and writes each one exactly
// once: with a point in time and search_after where the server has PIT
// (OpenSearch 2.x domains, Serverless), else with a scroll (OpenSearch 1.x,
// Elasticsearch). Slices > 1 splits the work into sliced searches run in
// parallel. Memory holds one page per slice, whatever the total.
type Export struct {
	Query     *Query        // Query.Size is ignored: PageSize is the page size
	PageSize  int           // hits per request, default 1000
	Slices    int           // parallel slices, default 1
	KeepAlive time.Duration // PIT/scroll keep-alive between pages, default 5m
	Out       HitWriter     // never called concurrently
	Progress  *Progress     // nil = none
	Notice    io.Writer     // one-line notices (fallback to scroll); nil = none
	// Mode forces "pit" or "scroll"; "" detects (PIT, else scroll).
	Mode string
	// Sleep waits between re-requests of a page whose body broke; nil =
	// time-based.
	Sleep func(ctx context.Context, d time.Duration) error

	mu      sync.Mutex // serialises Out
	hits    atomic.Int64
	retries atomic.Int64
	ctxs    openContexts
}

// ExportStats says what an export did.
type ExportStats struct {
	Hits    int64  // hits written
	Mode    string // "pit" or "scroll"
	Retries int64  // pages re-requested after their body broke mid-stream
}

// pageAttempts bounds the re-requests of one page whose body keeps breaking
// (the Doer already retried throttling and gateway errors).
const pageAttempts = 8

// ErrNoSortValues means the server returned hits without sort values, so
// search_after cannot continue.
var ErrNoSortValues = errors.New("the server returned hits without sort values; search_after cannot continue (try a scroll-capable engine or report this)")

// Run exports and then deletes every PIT and scroll context it opened, also
// when ctx is cancelled (with a fresh short deadline).
func (e *Export) Run(ctx context.Context, d Doer) (ExportStats, error) {
	if e.PageSize <= 0 {
		e.PageSize = 1000
	}
	if e.Slices <= 0 {
		e.Slices = 1
	}
	if e.KeepAlive <= 0 {
		e.KeepAlive = 5 * time.Minute
	}
	base, err := e.Query.Body()
	if err != nil {
		return ExportStats{}, err
	}
	// from/size paging makes no sense here; the page size is ours.
	delete(base, "from")
	delete(base, "size")
	defer e.cleanup(ctx, d)

	mode := e.Mode
	if mode == "" || mode == "pit" {
		err = e.runPIT(ctx, d, base)
		switch {
		case e.Mode == "" && errors.Is(err, errNoPIT):
			e.notice("no point in time API here (%v); paging with a scroll instead", err)
			mode = "scroll"
		case e.Mode == "" && errors.Is(err, errNoShardDoc) && e.hits.Load() == 0:
			e.notice("this cluster sorts on neither _shard_doc nor _id (%v); paging with a scroll instead", err)
			e.cleanup(ctx, d)
			mode = "scroll"
		default:
			mode = "pit"
		}
	}
	if mode == "scroll" {
		err = e.runSlices(ctx, func(ctx context.Context, i int) error { return e.scrollSlice(ctx, d, base, i) })
	} else if mode != "pit" {
		return ExportStats{}, fmt.Errorf("unknown export mode %q", mode)
	}
	var he *HTTPError
	if errors.As(err, &he) && he.Type == "search_context_missing_exception" {
		err = &ContextExpiredError{KeepAlive: e.KeepAlive, Err: err}
	}
	return ExportStats{Hits: e.hits.Load(), Mode: mode, Retries: e.retries.Load()}, err
}

// ContextExpiredError is a point in time or scroll that expired between
// two pages: nothing asked for the next page within the keep-alive.
type ContextExpiredError struct {
	KeepAlive time.Duration
	Err       error
}

func (c *ContextExpiredError) Error() string {
	return fmt.Sprintf("%v (the search context expired: no page was requested for %s, was the output blocked? raise --keep-alive)", c.Err, c.KeepAlive)
}
func (c *ContextExpiredError) Unwrap() error { return c.Err }

// ExitCode is that of the server's answer (internal/exitcode).
func (c *ContextExpiredError) ExitCode() int { return exitcode.Of(c.Err) }

var (
	errNoPIT      = errors.New("no point in time API")
	errNoShardDoc = errors.New("no _shard_doc sort")
)

// fallbackError marks a server answer (err) as meaning why (errNoPIT,
// errNoShardDoc); its text is the server's.
type fallbackError struct{ why, err error }

func (f *fallbackError) Error() string   { return f.err.Error() }
func (f *fallbackError) Unwrap() []error { return []error{f.why, f.err} }

func (e *Export) notice(format string, a ...any) {
	if e.Notice != nil {
		fmt.Fprintf(e.Notice, "saml2sts: "+format+"\n", a...)
	}
}

func (e *Export) keepAlive() string { return fmt.Sprintf("%ds", int(e.KeepAlive/time.Second)) }

// runSlices runs one function per slice; the first failure cancels the
// others.
func (e *Export) runSlices(ctx context.Context, f func(ctx context.Context, slice int) error) error {
	if e.Slices == 1 {
		return f(ctx, 0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for i := range e.Slices {
		wg.Go(func() {
			if err := f(ctx, i); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		})
	}
	wg.Wait()
	return first
}

// runPIT opens a point in time and pages every slice with search_after.
func (e *Export) runPIT(ctx context.Context, d Doer, base map[string]json.RawMessage) error {
	var pit struct {
		ID string `json:"pit_id"`
	}
	err := e.retryBody(ctx, func() error {
		resp, err := d.Do(ctx, &Request{Method: http.MethodPost, Path: indexPath(e.Query.Index, "_search/point_in_time"),
			Query: url.Values{"keep_alive": {e.keepAlive()}}})
		if err != nil {
			return err
		}
		if err := resp.Err(); err != nil {
			if pitAbsent(err) {
				return &fallbackError{errNoPIT, err}
			}
			return err
		}
		data, err := readBody(resp)
		if err != nil {
			e.ctxs.rescue(data)
			return err
		}
		if json.Unmarshal(data, &pit) != nil || pit.ID == "" {
			return &fallbackError{errNoPIT, fmt.Errorf("no pit_id in the answer %.80q", data)}
		}
		return nil
	})
	if err != nil {
		return err
	}
	e.ctxs.add(&e.ctxs.pits, pit.ID)
	// search_after needs a unique tie-breaker, or ties at page boundaries
	// are skipped or repeated. _shard_doc is the cheap one but exists only
	// from OpenSearch 3.3; before that _id works (at a fielddata cost).
	var err2 error
	for _, tie := range []string{"_shard_doc", "_id"} {
		sorts := sortList(base["sort"])
		if !hasSortKey(sorts, tie) {
			sorts = append(sorts, json.RawMessage(`{"`+tie+`":"asc"}`))
		}
		sortRaw, _ := json.Marshal(sorts)
		err2 = e.runSlices(ctx, func(ctx context.Context, i int) error {
			return e.pitSlice(ctx, d, base, sortRaw, tie, pit.ID, i)
		})
		if !errors.Is(err2, errNoShardDoc) || e.hits.Load() > 0 {
			return err2
		}
	}
	return err2
}

// pitAbsent says whether an error answer to the PIT call means the API does
// not exist here (OpenSearch 1.x and Elasticsearch answer 400/404/405 with
// no handler, an invalid type or index name), rather than a missing index
// or a denial.
func pitAbsent(err error) bool {
	var he *HTTPError
	if !errors.As(err, &he) {
		return false
	}
	switch he.Status {
	case 400, 404, 405, 501:
		return he.Type != "index_not_found_exception"
	}
	return false
}

func (e *Export) pitSlice(ctx context.Context, d Doer, base map[string]json.RawMessage, sortRaw json.RawMessage, tie, pitID string, slice int) error {
	var (
		after json.RawMessage
		buf   bytes.Buffer
		p     page
	)
	body := make(map[string]json.RawMessage, len(base)+5)
	for k, v := range base {
		body[k] = v
	}
	body["size"] = json.RawMessage(fmt.Sprint(e.PageSize))
	body["sort"] = sortRaw
	if e.Slices > 1 {
		body["slice"] = json.RawMessage(fmt.Sprintf(`{"id":%d,"max":%d}`, slice, e.Slices))
	}
	userTotal, hasUserTotal := base["track_total_hits"]
	for first := true; ; first = false {
		pit, _ := json.Marshal(map[string]string{"id": pitID, "keep_alive": e.keepAlive()})
		body["pit"] = pit
		if after != nil {
			body["search_after"] = after
		}
		switch {
		case hasUserTotal:
			body["track_total_hits"] = userTotal
		case first:
			body["track_total_hits"] = json.RawMessage("true")
		default:
			body["track_total_hits"] = json.RawMessage("false")
		}
		data, _ := json.Marshal(body)
		err := e.retryBody(ctx, func() error {
			return e.fetch(ctx, d, &Request{Method: http.MethodPost, Path: "/_search", Body: data}, &buf, &p)
		})
		if err != nil {
			var he *HTTPError
			if first && errors.As(err, &he) && he.Status == 400 && (strings.Contains(he.Reason, "["+tie+"]") || strings.Contains(he.Reason, tie+" field")) {
				return &fallbackError{errNoShardDoc, err}
			}
			return err
		}
		if p.PitID != "" && p.PitID != pitID {
			pitID = p.PitID
			e.ctxs.add(&e.ctxs.pits, pitID)
		}
		if first {
			if n, ok := p.total(); ok {
				e.Progress.AddTotal(n)
			}
		}
		hits := p.Hits.Hits
		if err := e.deliver(hits); err != nil {
			return err
		}
		if len(hits) == 0 {
			return nil
		}
		last := hits[len(hits)-1].Sort
		if len(last) == 0 {
			return ErrNoSortValues
		}
		// The raw sort values go back byte for byte: an int64 or a
		// nanosecond date never passes through float64.
		after, _ = json.Marshal(last)
		if len(hits) < e.PageSize {
			return nil
		}
	}
}

// scrollSlice pages one slice with a scroll. A scroll is not idempotent:
// when a page's body breaks, the server has already moved on, so the slice
// restarts with a new scroll and skips the hits it has delivered (the
// _doc tie-breaker keeps the order stable).
func (e *Export) scrollSlice(ctx context.Context, d Doer, base map[string]json.RawMessage, slice int) error {
	body := make(map[string]json.RawMessage, len(base)+3)
	for k, v := range base {
		body[k] = v
	}
	sorts := sortList(base["sort"])
	if !hasSortKey(sorts, "_doc") {
		sorts = append(sorts, json.RawMessage(`"_doc"`))
	}
	body["sort"], _ = json.Marshal(sorts)
	body["size"] = json.RawMessage(fmt.Sprint(e.PageSize))
	if e.Slices > 1 {
		body["slice"] = json.RawMessage(fmt.Sprintf(`{"id":%d,"max":%d}`, slice, e.Slices))
	}
	if _, ok := base["track_total_hits"]; !ok {
		body["track_total_hits"] = json.RawMessage("true")
	}
	open, _ := json.Marshal(body)
	var (
		delivered int64 // hits of this slice already written
		buf       bytes.Buffer
		p         page
		broken    int
		counted   bool
	)
	for {
		skip := delivered
		id := ""
		err := e.fetch(ctx, d, &Request{Method: http.MethodPost, Path: indexPath(e.Query.Index, "_search"),
			Query: url.Values{"scroll": {e.keepAlive()}}, Body: open}, &buf, &p)
		for err == nil {
			if p.ScrollID != "" && p.ScrollID != id {
				id = p.ScrollID
				e.ctxs.add(&e.ctxs.scrolls, id)
			}
			if !counted {
				if n, ok := p.total(); ok {
					e.Progress.AddTotal(n)
				}
				counted = true
			}
			hits := p.Hits.Hits
			if len(hits) == 0 {
				e.ctxs.clear(ctx, d, &e.ctxs.scrolls, id)
				return nil
			}
			k := min(skip, int64(len(hits)))
			skip -= k
			if err := e.deliver(hits[k:]); err != nil {
				return err
			}
			delivered += int64(len(hits)) - k
			broken = 0
			if id == "" {
				return fmt.Errorf("no _scroll_id in the search answer: this endpoint does not support scroll")
			}
			next, _ := json.Marshal(map[string]string{"scroll": e.keepAlive(), "scroll_id": id})
			err = e.fetch(ctx, d, &Request{Method: http.MethodPost, Path: "/_search/scroll", Body: next}, &buf, &p)
		}
		var be *bodyError
		if !errors.As(err, &be) || ctx.Err() != nil {
			return err
		}
		broken++
		if broken >= pageAttempts {
			return err
		}
		e.retries.Add(1)
		if id != "" {
			e.ctxs.clear(ctx, d, &e.ctxs.scrolls, id)
		}
		if err := e.sleep(ctx, backoff(bodyBase, bodyCap, broken, rand.Float64)); err != nil {
			return err
		}
	}
}

// deliver writes one page under the lock.
func (e *Export) deliver(hits []Hit) error {
	if len(hits) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range hits {
		if err := e.Out.Write(&hits[i]); err != nil {
			return err
		}
	}
	e.hits.Add(int64(len(hits)))
	e.Progress.Add(len(hits))
	return nil
}

// bodyError is a response body that broke while being read: the request
// may be sent again.
type bodyError struct{ err error }

func (b *bodyError) Error() string {
	return fmt.Sprintf("the connection broke while reading a search page: %v", b.err)
}
func (b *bodyError) Unwrap() error { return b.err }

// fetch sends one search and decodes the whole page (bounded by the page
// size) before any hit is written, so a broken body delivers nothing.
func (e *Export) fetch(ctx context.Context, d Doer, r *Request, buf *bytes.Buffer, p *page) error {
	resp, err := d.Do(ctx, r)
	if err != nil {
		return err
	}
	if err := resp.Err(); err != nil {
		return err
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		e.ctxs.rescue(buf.Bytes())
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &bodyError{err}
	}
	return p.decode(buf.Bytes())
}

func readBody(resp *Response) ([]byte, error) {
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return data, &bodyError{err}
	}
	return data, nil
}

// retryBody runs f again while it fails with a broken body.
func (e *Export) retryBody(ctx context.Context, f func() error) error {
	for i := 1; ; i++ {
		err := f()
		var be *bodyError
		if err == nil || !errors.As(err, &be) || i >= pageAttempts || ctx.Err() != nil {
			if err != nil && ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		e.retries.Add(1)
		if err := e.sleep(ctx, backoff(bodyBase, bodyCap, i, rand.Float64)); err != nil {
			return err
		}
	}
}

// bodyBase and bodyCap pace re-requests of a page whose body broke: the
// server answered, so shorter waits than for throttling.
const (
	bodyBase = 100 * time.Millisecond
	bodyCap  = 5 * time.Second
)

func (e *Export) sleep(ctx context.Context, d time.Duration) error {
	if e.Sleep != nil {
		return e.Sleep(ctx, d)
	}
	return clock.Sleep(ctx, nil, d)
}

// cleanup deletes every context still open. It runs after cancellation
// too, so it gets its own short deadline.
func (e *Export) cleanup(ctx context.Context, d Doer) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := e.ctxs.clear(ctx, d, &e.ctxs.pits); err != nil {
		e.notice("could not delete the point in time (it expires by itself after %s): %v", e.keepAlive(), err)
	}
	if err := e.ctxs.clear(ctx, d, &e.ctxs.scrolls); err != nil {
		e.notice("could not delete the scroll (it expires by itself after %s): %v", e.keepAlive(), err)
	}
}

// openContexts tracks the PIT and scroll ids to delete.
type openContexts struct {
	mu      sync.Mutex
	pits    []string
	scrolls []string
}

func (o *openContexts) add(list *[]string, id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, x := range *list {
		if x == id {
			return
		}
	}
	*list = append(*list, id)
}

var (
	scrollIDRe = regexp.MustCompile(`"_scroll_id"\s*:\s*"([^"\\]+)"`)
	pitIDRe    = regexp.MustCompile(`"pit_id"\s*:\s*"([^"\\]+)"`)
)

// rescue picks the context ids out of a body that broke after them, so
// that they are deleted too.
func (o *openContexts) rescue(partial []byte) {
	if m := scrollIDRe.FindSubmatch(partial); m != nil {
		o.add(&o.scrolls, string(m[1]))
	}
	if m := pitIDRe.FindSubmatch(partial); m != nil {
		o.add(&o.pits, string(m[1]))
	}
}

// clear deletes ids (all of *list when none are given) and drops them from
// the list.
func (o *openContexts) clear(ctx context.Context, d Doer, list *[]string, ids ...string) error {
	o.mu.Lock()
	if len(ids) == 0 {
		ids = *list
	}
	var keep []string
	for _, x := range *list {
		found := false
		for _, y := range ids {
			found = found || x == y
		}
		if !found {
			keep = append(keep, x)
		}
	}
	ids = append([]string(nil), ids...)
	isPIT := list == &o.pits
	*list = keep
	o.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	path, key := "/_search/scroll", "scroll_id"
	if isPIT {
		path, key = "/_search/point_in_time", "pit_id"
	}
	body, _ := json.Marshal(map[string][]string{key: ids})
	resp, err := d.Do(ctx, &Request{Method: http.MethodDelete, Path: path, Body: body})
	if err != nil {
		return err
	}
	if err := resp.Err(); err != nil {
		var he *HTTPError
		if errors.As(err, &he) && he.Status == 404 {
			return nil // already gone (expired)
		}
		return err
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

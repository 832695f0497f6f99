package okta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// maxJSON bounds one API answer; Okta's are a few kilobytes.
const maxJSON = 1 << 20

// APIError is an Okta API error body (errorCode, errorSummary,
// errorCauses), with the HTTP status. Its text never holds tokens: Okta
// does not echo them and the URL is shown without its query.
type APIError struct {
	Status  int
	Code    string   // e.g. E0000004
	Summary string   // errorSummary, verbatim
	Causes  []string // errorCauses[].errorSummary
	URL     string   // path only
	// reset is when X-Rate-Limit-Reset says a 429 ends, 0 when absent.
	reset time.Duration
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("okta: %s answered HTTP %d", e.URL, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if t := e.text(); t != "" {
		msg += ": " + t
	}
	return msg
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *APIError) ExitCode() int { return exitcode.Failure }

// text is Okta's own wording: the summary and its causes.
func (e *APIError) text() string {
	t := e.Summary
	for _, c := range e.Causes {
		if c != "" && c != t {
			if t != "" {
				t += ": "
			}
			t += c
		}
	}
	return t
}

type errorBody struct {
	ErrorCode    string `json:"errorCode"`
	ErrorSummary string `json:"errorSummary"`
	ErrorCauses  []struct {
		ErrorSummary string `json:"errorSummary"`
	} `json:"errorCauses"`
}

// postJSON posts body as JSON and decodes a 2xx answer into out. Non-2xx
// answers become *APIError. contentType is the media type to send and
// accept (IDX wants application/ion+json).
func postJSON(ctx context.Context, c *http.Client, rawURL, contentType string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("okta: bad api url %s", safeURL(rawURL))
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", contentType)
	return doJSON(c, req, out)
}

// getJSON fetches rawURL as JSON.
func getJSON(ctx context.Context, c *http.Client, rawURL string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fmt.Errorf("okta: bad api url %s", safeURL(rawURL))
	}
	req.Header.Set("Accept", "application/json")
	return doJSON(c, req, out)
}

func doJSON(c *http.Client, req *http.Request, out any) error {
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = safeURL(ue.URL)
		}
		return fmt.Errorf("okta: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJSON+1))
	where := safeURL(req.URL.String())
	if err != nil {
		return fmt.Errorf("okta: read answer of %s: %w", where, err)
	}
	if len(b) > maxJSON {
		return fmt.Errorf("okta: answer of %s is larger than 1 MiB: not the Okta API", where)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &APIError{Status: resp.StatusCode, URL: where}
		var eb errorBody
		if json.Unmarshal(b, &eb) == nil {
			e.Code, e.Summary = eb.ErrorCode, strings.TrimSpace(eb.ErrorSummary)
			for _, c := range eb.ErrorCauses {
				e.Causes = append(e.Causes, strings.TrimSpace(c.ErrorSummary))
			}
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			e.reset = resetAfter(resp.Header)
		}
		if e.Code == "" && e.Summary == "" && out != nil {
			// IDX puts its errors in the usual body with a 4xx status.
			if json.Unmarshal(b, out) == nil {
				return &ionError{api: e}
			}
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("okta: %s did not answer with Okta API JSON (HTTP %d, %s): check the url", where, resp.StatusCode,
			strings.TrimSpace(resp.Header.Get("Content-Type")))
	}
	return nil
}

// ionError is an IDX answer with a 4xx status whose body decoded: the
// caller reads its messages from the decoded value.
type ionError struct{ api *APIError }

func (e *ionError) Error() string { return e.api.Error() }
func (e *ionError) Unwrap() error { return e.api }

// resetAfter is how long until X-Rate-Limit-Reset (epoch seconds),
// measured against the server's Date when present so clock skew does not
// matter.
func resetAfter(h http.Header) time.Duration {
	sec, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-Rate-Limit-Reset")), 10, 64)
	if err != nil || sec <= 0 {
		return 0
	}
	now := time.Now()
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		now = d
	}
	wait := time.Unix(sec, 0).Sub(now.Truncate(time.Second))
	if wait < time.Second {
		wait = time.Second
	}
	return wait
}

// safeURL drops userinfo and query from a URL shown to the user: Okta
// puts tokens in queries.
func safeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			return raw[:i]
		}
		return raw
	}
	return idp.StripQuery(u)
}

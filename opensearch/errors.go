package opensearch

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// HTTPError is an answer with status >= 400 other than 401/403.
type HTTPError struct {
	Status int
	Type   string // error.type, e.g. index_not_found_exception
	Reason string // error.reason
	Body   []byte // at most 1 MiB
}

func (e *HTTPError) Error() string {
	var msg string
	// "502 Bad Gateway" from a proxy page's title: the status once.
	reason := strings.TrimPrefix(e.Reason, strconv.Itoa(e.Status)+" ")
	switch {
	case e.Type != "" && reason != "" && !strings.EqualFold(e.Type, reason):
		msg = fmt.Sprintf("HTTP %d: %s: %s", e.Status, e.Type, reason)
	case reason != "" || e.Type != "":
		msg = fmt.Sprintf("HTTP %d: %s", e.Status, cmp.Or(reason, e.Type))
	default:
		// No body to quote (HEAD, {"found":false}): the status text at least.
		msg = fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	if retryable(e.Status) {
		// Only a status still failing after every retry gets here.
		msg += " (still failing after retries: the cluster is overloaded or unavailable; try again later)"
	}
	return msg
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *HTTPError) ExitCode() int { return exitcode.Failure }

// AccessError is a 401/403 with an explanation.
type AccessError struct {
	Status    int
	Message   string // the server's message
	Kind      Kind
	Service   string // "es", "aoss"; "" when unknown
	Caller    string // the caller's ARN when known
	Diagnosis string // what is wrong
	Fix       string // what to change
	// Canonical is our canonical request (token redacted) for a signature
	// mismatch; ServerCanonical what the server quoted of its own (es).
	Canonical, ServerCanonical string
	Body                       []byte
}

func (e *AccessError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	// aoss says "403 Forbidden": the status once.
	return fmt.Sprintf("HTTP %d: %s", e.Status, strings.TrimPrefix(e.Message, strconv.Itoa(e.Status)+" "))
}

// ExitCode implements the exit-status contract (internal/exitcode).
func (e *AccessError) ExitCode() int { return exitcode.Refused }

// Kind classifies a 401/403.
type Kind string

// Kinds of access errors.
const (
	KindUnknown    Kind = "unknown"
	KindUnsigned   Kind = "unsigned"
	KindToken      Kind = "token"     // security token invalid
	KindExpired    Kind = "expired"   // security token expired
	KindSignature  Kind = "signature" // signature mismatch
	KindClock      Kind = "clock"     // signing time outside the window
	KindScope      Kind = "scope"     // credential scoped to wrong region/service
	KindDataPolicy Kind = "aoss-policy"
	KindFGAC       Kind = "fgac"
	KindIAM        Kind = "iam"
	KindDashboards Kind = "dashboards"
)

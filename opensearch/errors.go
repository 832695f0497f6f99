package opensearch

import "fmt"

// HTTPError is an answer with status >= 400 other than 401/403.
type HTTPError struct {
	Status int
	Type   string // error.type, e.g. index_not_found_exception
	Reason string // error.reason
	Body   []byte // at most 1 MiB
}

func (e *HTTPError) Error() string {
	switch {
	case e.Type != "" && e.Reason != "":
		return fmt.Sprintf("HTTP %d: %s: %s", e.Status, e.Type, e.Reason)
	case e.Reason != "":
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Reason)
	}
	return fmt.Sprintf("HTTP %d", e.Status)
}

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
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
}

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

package opensearchtest

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Engines the emulator can pretend to run.
const (
	EngineOpenSearch2 = "OpenSearch_2.13"    // PIT and scroll
	EngineOpenSearch1 = "OpenSearch_1.3"     // scroll only
	EngineES710       = "Elasticsearch_7.10" // scroll only, _type in hits
)

// MaxSortDocs bounds the documents a sort on a non-monotonic field may
// materialise; above it the search is refused with a 400 that says so.
const MaxSortDocs = 200_000

// Options configure a Server. The zero value is an open es domain running
// OpenSearch 2.13 in eu-west-1.
type Options struct {
	Service string // "es" (default) or "aoss"
	Region  string // default "eu-west-1"
	Engine  string // EngineOpenSearch2 (default), EngineOpenSearch1 or EngineES710; ignored for aoss
	// Verify checks SigV4 and returns the caller's ARN; wire it to
	// (*ststest.Server).Verify. Errors that are *ststest.SigError are
	// answered with AWS's body for their Code. nil: the domain is open and
	// signatures are not looked at.
	Verify func(r *http.Request, body []byte, service string) (callerARN string, err error)
	// Allow says whether a verified caller may use the data; nil allows
	// everyone. A refusal is the aoss data-access-policy 403, the FGAC
	// security_exception when FGAC is set, else the es IAM denial.
	Allow func(callerARN, method, path string) bool
	// FGAC makes the domain use fine-grained access control.
	FGAC bool
	// Faults injects throttling, 5xx and connection resets.
	Faults Faults
	// Dashboards adds OpenSearch Dashboards SAML routes; nil: none.
	Dashboards *DashboardsOptions
	// Now is the clock for contexts and sessions; default time.Now.
	Now func() time.Time
}

// Faults injects failures into data calls (_search, scroll, _count, _bulk,
// PIT creation), never into deletes of PIT/scroll contexts.
type Faults struct {
	// Rate is the fraction of data calls answered 429, 502, 503 or 504
	// (in turn); 429 and 503 carry Retry-After.
	Rate float64
	// ResetAt lists 1-based search call numbers (see Stats.SearchCalls)
	// whose response is cut after half of the body by a TCP reset.
	ResetAt []int
	// Seed seeds the fault choice; same seed, same faults.
	Seed int64
	// RetryAfter is the Retry-After value sent; default 1s (whole seconds).
	RetryAfter time.Duration
}

// DashboardsOptions configure the Dashboards/Kibana routes.
type DashboardsOptions struct {
	// Path is the base path: "/_dashboards" (default) or "/_plugin/kibana"
	// (legacy Elasticsearch domains: kbn-xsrf instead of osd-xsrf).
	Path string
	// IdPCert verifies the SAMLResponse signature. Required.
	IdPCert *x509.Certificate
	// Audience is the SP entity ID the assertion must be addressed to;
	// default URL() (AWS uses https://<domain-endpoint>).
	Audience string
	// SessionTTL is the cookie session lifetime; default 60 minutes.
	SessionTTL time.Duration
	// RolesKey is the SAML attribute holding backend roles; default
	// "roles", falling back to the AWS Role attribute's role ARNs.
	RolesKey string
}

// Stats counts what the server saw.
type Stats struct {
	Requests         int            // every HTTP request, Dashboards included
	Signed           int            // requests whose signature verified
	Rejected         map[string]int // 401/403 answers by reason (see Reason* constants)
	Faults           int            // injected 429/5xx answers and resets
	Resets           int            // injected connection resets
	SearchCalls      int            // _search and scroll continuation calls, faulted ones included
	PITCreated       int
	PITDeleted       int
	ScrollCreated    int
	ScrollCleared    int
	OpenPITs         int // live PIT contexts (expired ones are dropped)
	OpenScrolls      int // live scroll contexts
	DashboardsLogins int // successful ACS posts
	ACSPosts         int // every POST to the ACS, accepted or not
}

// OpenContexts is the number of PIT and scroll contexts still open.
func (s Stats) OpenContexts() int { return s.OpenPITs + s.OpenScrolls }

// Rejection reasons counted in Stats.Rejected.
const (
	ReasonUnsigned      = "unsigned"
	ReasonMissingSHA256 = "missing_content_sha256"
	ReasonRegion        = "wrong_region"
	ReasonService       = "wrong_service"
	ReasonInvalidToken  = "invalid_token"
	ReasonExpiredToken  = "expired_token"
	ReasonSignature     = "signature_mismatch"
	ReasonIncomplete    = "incomplete_signature"
	ReasonDenied        = "denied"
	ReasonXSRF          = "dashboards_xsrf"
	ReasonNoSession     = "dashboards_session"
)

// Server is the emulator; create it with New and Close it when done.
type Server struct {
	o  Options
	ts *httptest.Server

	mu       sync.Mutex
	indices  map[string]*index
	order    []string // index names in creation order
	pits     map[string]*searchCtx
	scrolls  map[string]*searchCtx
	sessions map[string]*session
	cookies  []string // every Dashboards session cookie value set, for leak checks
	st       Stats
	rng      *rand.Rand
	faultN   int // faults injected so far, picks the status
	ctxN     int // context id counter
}

// New starts a server on a loopback port.
func New(o Options) (*Server, error) {
	switch o.Service {
	case "":
		o.Service = "es"
	case "es", "aoss":
	default:
		return nil, fmt.Errorf("opensearchtest: service %q: want es or aoss", o.Service)
	}
	if o.Region == "" {
		o.Region = "eu-west-1"
	}
	switch o.Engine {
	case "":
		o.Engine = EngineOpenSearch2
	case EngineOpenSearch2, EngineOpenSearch1, EngineES710:
	default:
		return nil, fmt.Errorf("opensearchtest: engine %q: want %s, %s or %s", o.Engine, EngineOpenSearch2, EngineOpenSearch1, EngineES710)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Faults.RetryAfter <= 0 {
		o.Faults.RetryAfter = time.Second
	}
	if d := o.Dashboards; d != nil {
		dd := *d
		if dd.IdPCert == nil {
			return nil, errors.New("opensearchtest: Dashboards.IdPCert is required")
		}
		if dd.Path == "" {
			dd.Path = "/_dashboards"
		}
		dd.Path = "/" + strings.Trim(dd.Path, "/")
		if dd.SessionTTL <= 0 {
			dd.SessionTTL = time.Hour
		}
		if dd.RolesKey == "" {
			dd.RolesKey = "roles"
		}
		o.Dashboards = &dd
	}
	s := &Server{
		o:        o,
		indices:  map[string]*index{},
		pits:     map[string]*searchCtx{},
		scrolls:  map[string]*searchCtx{},
		sessions: map[string]*session{},
		st:       Stats{Rejected: map[string]int{}},
		rng:      rand.New(rand.NewPCG(uint64(o.Faults.Seed), 0x5eed)),
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	if d := s.o.Dashboards; d != nil && d.Audience == "" {
		d.Audience = s.ts.URL
	}
	return s, nil
}

// URL is the endpoint, http://127.0.0.1:N.
func (s *Server) URL() string { return s.ts.URL }

// DashboardsURL is URL() plus the Dashboards base path; "" without
// Dashboards.
func (s *Server) DashboardsURL() string {
	if s.o.Dashboards == nil {
		return ""
	}
	return s.ts.URL + s.o.Dashboards.Path
}

// ACSURL is the IdP-initiated SAML ACS: the Destination and Recipient the
// IdP must put in the SAMLResponse; "" without Dashboards.
func (s *Server) ACSURL() string {
	if s.o.Dashboards == nil {
		return ""
	}
	return s.DashboardsURL() + acsPath
}

// Audience is the SP entity ID the Dashboards ACS expects.
func (s *Server) Audience() string {
	if s.o.Dashboards == nil {
		return ""
	}
	return s.o.Dashboards.Audience
}

// Close shuts the server down.
func (s *Server) Close() { s.ts.Close() }

// AddDocs appends documents (JSON objects) to index, creating it. An "_id"
// member is not special: ids are assigned like OpenSearch auto-ids (20
// URL-safe base64 characters), deterministically per index. It returns the
// ids in order.
func (s *Server) AddDocs(index string, docs ...json.RawMessage) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.indexLocked(index)
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		id, err := ix.add("", d)
		if err != nil {
			panic("opensearchtest: AddDocs(" + index + "): " + err.Error())
		}
		ids = append(ids, id)
	}
	return ids
}

// Synthetic creates index name with n documents computed on the fly from their
// number i (0 ≤ i < n): constant memory, deterministic. Document i is
//
//	{"@timestamp":<SyntheticEpoch + i seconds, RFC 3339 millis>,
//	 "seq":<SeqBase+i>, "level":<SyntheticLevel(i)>,
//	 "message":"event <i> GET <path> took <ms>ms",
//	 "host":{"name":"host-<i%16>","ip":"10.0.<i/256%256>.<i%256>"},
//	 "user":{"id":<i%1000>,"name":"user-<i%1000>"},"bytes":<hash of i>}
//
// with _id SyntheticID(i). seq exceeds 2^53 so float64 rounding shows.
// Synthetic indexes are read-only (_bulk into them is an item error); a
// second call replaces the index.
func (s *Server) Synthetic(name string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.indices[name]; !ok {
		s.order = append(s.order, name)
	}
	s.indices[name] = &index{name: name, synthetic: true, n: n, uuid: uuidFor(name)}
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked()
	st := s.st
	st.Rejected = make(map[string]int, len(s.st.Rejected))
	for k, v := range s.st.Rejected {
		st.Rejected[k] = v
	}
	st.OpenPITs, st.OpenScrolls = len(s.pits), len(s.scrolls)
	return st
}

func (s *Server) indexLocked(name string) *index {
	ix, ok := s.indices[name]
	if !ok {
		ix = &index{name: name, ids: map[string]int{}, uuid: uuidFor(name)}
		s.indices[name] = ix
		s.order = append(s.order, name)
	}
	return ix
}

package opensearchtest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// fault decides whether to fail this data call (status reply) or cut its
// body (reset). Search calls are numbered for Faults.ResetAt.
func (s *Server) fault(rq *apiReq) (*reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.o.Faults
	if rq.searchCall() {
		// Counted here so a faulted call has a number too; the handler
		// does not count again.
		n := s.st.SearchCalls + 1
		if slices.Contains(f.ResetAt, n) {
			s.st.Faults++
			s.st.Resets++
			return nil, true
		}
	}
	if f.Rate <= 0 || s.rng.Float64() >= f.Rate {
		return nil, false
	}
	if rq.searchCall() {
		s.st.SearchCalls++ // the handler will not run
	}
	s.st.Faults++
	s.faultN++
	ra := strconv.Itoa(int((f.RetryAfter + 999_999_999) / 1_000_000_000))
	switch s.faultN % 4 {
	case 1:
		h := http.Header{"Retry-After": {ra}}
		r := "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=1024, max_coordinating_and_primary_bytes=53687091]"
		rp := errReply(http.StatusTooManyRequests, "rejected_execution_exception", r)
		rp.header = h
		return rp, false
	case 2:
		return &reply{status: http.StatusBadGateway, header: http.Header{"Content-Type": {"text/html"}},
			body: []byte("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n")}, false
	case 3:
		return &reply{status: http.StatusServiceUnavailable, header: http.Header{"Retry-After": {ra}},
			body: fmt.Appendf(nil, `{"message":"Service Unavailable"}`)}, false
	}
	return &reply{status: http.StatusGatewayTimeout, header: http.Header{"Content-Type": {"text/html"}},
		body: []byte("<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n")}, false
}

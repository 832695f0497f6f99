package idptest

import (
	"net/http"
	"sync"
)

// Fault makes an emulator fail every request as an IdP in an outage does.
type Fault int

const (
	// Healthy serves normally.
	Healthy Fault = iota
	// Unreachable closes every connection without an answer (VPN down,
	// host gone): clients see a transport error.
	Unreachable
	// Unavailable answers every request with HTTP 503.
	Unavailable
)

// faults is the switch an emulator embeds; its methods are the
// emulator's.
type faults struct {
	fmu     sync.Mutex
	fault   Fault
	faulted int
}

// SetFault switches the emulator into (or, with Healthy, out of) an outage.
func (x *faults) SetFault(f Fault) {
	x.fmu.Lock()
	x.fault = f
	x.fmu.Unlock()
}

// Faulted counts the requests a fault refused.
func (x *faults) Faulted() int {
	x.fmu.Lock()
	defer x.fmu.Unlock()
	return x.faulted
}

// refuse fails r as the fault says and reports whether it did.
func (x *faults) refuse(w http.ResponseWriter) bool {
	x.fmu.Lock()
	f := x.fault
	if f != Healthy {
		x.faulted++
	}
	x.fmu.Unlock()
	switch f {
	case Unreachable:
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler) // closes the connection too
	case Unavailable:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>"))
		return true
	}
	return false
}

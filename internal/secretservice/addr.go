package secretservice

import (
	"errors"
	"io"
	"strings"
)

// ErrTimeout is a bus or Secret Service that did not answer in time.
var ErrTimeout = errors.New("secretservice: no answer in time")

var errEOF = io.EOF

// endpoint is one Unix-socket address of a bus.
type endpoint struct {
	path     string // a file system path, or "@name" for an abstract socket
	guid     string
	abstract bool
}

// parseAddress reads the unix:path= and unix:abstract= entries of a
// D-Bus address list ("unix:path=/run/user/1000/bus;..."); other
// transports are left out. Values are %-unescaped.
func parseAddress(s string) ([]endpoint, error) {
	var out []endpoint
	for _, a := range strings.Split(s, ";") {
		transport, params, ok := strings.Cut(a, ":")
		if !ok || transport != "unix" {
			continue
		}
		var e endpoint
		var kinds int
		good := true
		for _, kv := range strings.Split(params, ",") {
			k, v, ok := strings.Cut(kv, "=")
			v, err := unescape(v)
			if !ok || err != nil {
				good = false
				break
			}
			switch k {
			case "path":
				e.path, kinds = v, kinds+1
			case "abstract":
				e.path, e.abstract, kinds = v, true, kinds+1
			case "guid":
				if len(v) != 32 || !isHex(v) {
					good = false
				}
				e.guid = v
			default:
				good = false // runtime=, tmpdir=, dir= are for servers
			}
		}
		if !good || kinds != 1 || e.path == "" || len(e.path) > 107 || strings.IndexByte(e.path, 0) >= 0 {
			continue
		}
		if !e.abstract && e.path[0] != '/' {
			continue
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, unsupported("no unix:path= or unix:abstract= bus address")
	}
	return out, nil
}

func unescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1:i+3]) {
			return "", errors.New("bad escape")
		}
		b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
		i += 2
	}
	return b.String(), nil
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

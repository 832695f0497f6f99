package secretservice

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// Read looks up each query (an attribute set) in collection on the
// Secret Service of the session bus at addr ($DBUS_SESSION_BUS_ADDRESS),
// giving up after timeout with ErrTimeout. Every other failure, a bus it
// cannot reach included, is ErrUnsupported.
func Read(addr string, timeout time.Duration, collection string, queries []map[string]string) ([]Result, error) {
	eps, err := parseAddress(addr)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	for _, ep := range eps {
		c, err := dial(ep, deadline)
		if err != nil {
			continue
		}
		defer c.Close()
		return exchange(c, os.Getuid(), ep.guid, collection, queries)
	}
	return nil, unsupported("cannot connect to the session bus")
}

// conn is a blocking Unix socket whose reads and writes time out.
type conn struct{ fd int }

func dial(ep endpoint, deadline time.Time) (*conn, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	c := &conn{fd}
	tv := syscall.NsecToTimeval(max(time.Until(deadline), time.Millisecond).Nanoseconds())
	for _, opt := range []int{syscall.SO_RCVTIMEO, syscall.SO_SNDTIMEO} {
		if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, opt, &tv); err != nil {
			c.Close()
			return nil, err
		}
	}
	name := ep.path
	if ep.abstract {
		name = "@" + name // syscall's spelling of the abstract namespace
	}
	for {
		err = syscall.Connect(fd, &syscall.SockaddrUnix{Name: name})
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *conn) Read(b []byte) (int, error) {
	for {
		n, err := syscall.Read(c.fd, b)
		switch {
		case err == syscall.EINTR:
			continue
		case errors.Is(err, syscall.EAGAIN):
			return 0, ErrTimeout
		case err != nil:
			return 0, err
		case n == 0:
			return 0, errEOF
		}
		return n, nil
	}
}

func (c *conn) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		n, err := syscall.Write(c.fd, b[done:])
		switch {
		case err == syscall.EINTR:
			continue
		case errors.Is(err, syscall.EAGAIN):
			return done, ErrTimeout
		case err != nil:
			return done, err
		}
		done += n
	}
	return done, nil
}

func (c *conn) Close() error { return syscall.Close(c.fd) }

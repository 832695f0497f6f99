package warm

import (
	"fmt"
	"time"

	"github.com/godbus/dbus/v5"
)

// speculate is how many items are searched for at once: the head and two
// chunks hold 5.4 KB, more than any STS record.
const speculate = 3

const (
	ssName       = "org.freedesktop.secrets"
	ssPath       = "/org/freedesktop/secrets"
	ssService    = "org.freedesktop.Secret.Service"
	ssCollection = "org.freedesktop.Secret.Collection"
	ssLogin      = "/org/freedesktop/secrets/collection/login"
)

type ssSecret struct {
	Session     dbus.ObjectPath
	Parameters  []byte
	Value       []byte
	ContentType string
}

// ReadKeyring reads the value whose head item is name from the Secret
// Service the quick way: one private godbus connection (no probe, no
// Close round trip: the session ends with the connection), OpenSession
// and the searches for the head and its first chunks issued at once,
// every item's secret fetched with one GetSecrets; go-keyring makes ~11
// sequential round trips per item. A missing head is ErrNotFound; no bus,
// or no answer within timeout, an UnavailableError; a locked item, more
// chunks and anything unexpected ErrSlow. (A hand-written client that
// pipelines the handshake was measured faster but crashed gnome-keyring
// 42.1; see docs/performance.md.)
func ReadKeyring(service, name string, timeout time.Duration) ([]byte, error) {
	if _, err := BusAddress(); err != nil {
		return nil, err
	}
	type result struct {
		v   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := secretServiceRead(service, name)
		done <- result{v, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-done:
		return r.v, r.err
	case <-t.C:
		return nil, &UnavailableError{Reason: fmt.Sprintf("get %s did not answer within %s", name, timeout), timedOut: true}
	}
}

func secretServiceRead(service, name string) ([]byte, error) {
	conn, err := dbus.SessionBusPrivate()
	if err != nil {
		return nil, ErrSlow
	}
	defer conn.Close()
	if conn.Auth(nil) != nil || conn.Hello() != nil {
		return nil, ErrSlow
	}
	svc, coll := conn.Object(ssName, ssPath), conn.Object(ssName, ssLogin)
	done := make(chan *dbus.Call, 1+speculate)
	open := svc.Go(ssService+".OpenSession", 0, done, "plain", dbus.MakeVariant(""))
	var search [speculate]*dbus.Call
	for i := range search {
		user := name
		if i > 0 {
			user = ChunkName(name, i)
		}
		// go-keyring's attributes, in its login collection.
		search[i] = coll.Go(ssCollection+".SearchItems", 0, done, map[string]string{"username": user, "service": service})
	}
	for range 1 + speculate {
		<-done
	}
	var out dbus.Variant
	var session dbus.ObjectPath
	if open.Store(&out, &session) != nil {
		return nil, ErrSlow
	}
	found := make([]dbus.ObjectPath, speculate)
	var items []dbus.ObjectPath
	for i, c := range search {
		var res []dbus.ObjectPath
		if c.Store(&res) != nil {
			return nil, ErrSlow // no login collection: go-keyring finds the default one
		}
		if len(res) > 0 {
			found[i] = res[0]
			items = append(items, res[0])
		}
	}
	if found[0] == "" {
		return nil, ErrNotFound
	}
	var secrets map[dbus.ObjectPath]ssSecret
	if svc.Call(ssService+".GetSecrets", 0, items, session).Store(&secrets) != nil {
		return nil, ErrSlow // locked
	}
	head, ok := secrets[found[0]]
	if !ok {
		return nil, ErrSlow
	}
	return Assemble(name, string(head.Value), func(i int) (string, error) {
		if i >= speculate || found[i] == "" {
			return "", ErrSlow
		}
		s, ok := secrets[found[i]]
		if !ok {
			return "", ErrSlow
		}
		return string(s.Value), nil
	})
}

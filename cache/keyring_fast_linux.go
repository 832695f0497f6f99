package cache

import (
	"errors"
	"fmt"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/saml2sts/saml2sts/internal/secretservice"
)

// readFast reads the value whose head item is name from the Secret
// Service the quick way (internal/secretservice): two round trips on one
// socket, the searches for the head and its first chunks pipelined with
// the connection set-up, every secret fetched with one GetSecrets, no
// Close. go-keyring makes ~11 sequential round trips per item. Locked
// items, more chunks and anything unexpected return errSlow, for
// go-keyring's path. Writes stay on go-keyring.
func (k *Keyring) readFast(name string) ([]byte, error) {
	if _, real := k.be.(zalando); !real {
		return nil, errSlow // tests' fake backends
	}
	v, err := call(k, "get", name, func() ([]byte, error) {
		addr, err := busAddress()
		if err != nil {
			return nil, err
		}
		return secretServiceRead(addr, k.timeout, k.service, name)
	})
	if u, ok := errors.AsType[*UnavailableError](err); ok && errors.Is(u.Err, secretservice.ErrTimeout) {
		k.hung.Store(true)
		return nil, &UnavailableError{Reason: fmt.Sprintf("get %s did not answer within %s", name, k.timeout)}
	}
	return v, err
}

// speculate is how many items are searched for at once: the head and two
// chunks hold 5.4 KB, more than any STS record.
const speculate = 3

// secretServiceRead is readFast's read, on the bus at addr.
func secretServiceRead(addr string, timeout time.Duration, service, name string) ([]byte, error) {
	queries := make([]map[string]string, speculate)
	for i := range queries {
		user := name
		if i > 0 {
			user = fmt.Sprintf("%s#%d", name, i)
		}
		// go-keyring's attributes, in its login collection.
		queries[i] = map[string]string{"username": user, "service": service}
	}
	res, err := secretservice.Read(addr, timeout, secretservice.LoginCollection, queries)
	switch {
	case errors.Is(err, secretservice.ErrTimeout):
		return nil, err
	case err != nil:
		return nil, errSlow
	case !res[0].Found:
		return nil, keyring.ErrNotFound
	}
	return assemble(name, string(res[0].Secret), func(i int) (string, error) {
		if i >= speculate || !res[i].Found {
			return "", errSlow
		}
		return string(res[i].Secret), nil
	})
}

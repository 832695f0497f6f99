package warm

import (
	"errors"
	"fmt"
	"time"

	"github.com/saml2sts/saml2sts/internal/secretservice"
)

// speculate is how many items are searched for at once: the head and two
// chunks hold 5.4 KB, more than any STS record.
const speculate = 3

// ReadKeyring reads the value whose head item is name from the Secret
// Service the quick way (internal/secretservice): three round trips on
// one socket, the searches for the head and its first chunks in one
// write, every secret fetched with one GetSecrets, no Close; go-keyring
// makes ~11 sequential round trips per item. A missing
// head is ErrNotFound; no bus, or no answer within timeout, an
// UnavailableError; a locked item, more chunks and anything unexpected
// ErrSlow.
func ReadKeyring(service, name string, timeout time.Duration) ([]byte, error) {
	addr, err := BusAddress()
	if err != nil {
		return nil, err
	}
	queries := make([]map[string]string, speculate)
	for i := range queries {
		user := name
		if i > 0 {
			user = ChunkName(name, i)
		}
		// go-keyring's attributes, where it writes (secretservice picks
		// the same collection).
		queries[i] = map[string]string{"username": user, "service": service}
	}
	res, err := secretservice.Read(addr, timeout, secretservice.LoginCollection, queries)
	switch {
	case errors.Is(err, secretservice.ErrTimeout):
		return nil, &UnavailableError{Reason: fmt.Sprintf("get %s did not answer within %s", name, timeout), timedOut: true}
	case err != nil:
		return nil, ErrSlow
	case !res[0].Found:
		return nil, ErrNotFound
	}
	return Assemble(name, string(res[0].Secret), func(i int) (string, error) {
		if i >= speculate || !res[i].Found {
			return "", ErrSlow
		}
		return string(res[i].Secret), nil
	})
}

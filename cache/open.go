package cache

import (
	"errors"
	"fmt"
	"io"
)

// Service is the keyring service name all saml2sts items are stored under.
const Service = "saml2sts"

// fileHint tells the user how to avoid the keyring.
const fileHint = "set cache = file (or SAML2STS_CACHE=file)"

// Open returns the Store for mode: "keyring", "file", or "auto" (also "").
// Auto uses the keyring when it answers a probe and otherwise falls back
// to a File in dir (DefaultDir when empty), writing one line to notice.
func Open(mode, dir string, notice io.Writer) (Store, error) {
	switch mode {
	case "keyring":
		k := NewKeyring(Service, 0)
		if err := k.Probe(); err != nil {
			return nil, fmt.Errorf("%w; %s", err, fileHint)
		}
		return k, nil
	case "file":
		return openFile(dir)
	case "auto", "":
		k := NewKeyring(Service, 0)
		perr := k.Probe()
		if perr == nil {
			return k, nil
		}
		f, err := openFile(dir)
		if err != nil {
			return nil, fmt.Errorf("%w (and %w)", err, perr)
		}
		if notice != nil {
			fmt.Fprintf(notice, "saml2sts: keyring unavailable (%s); caching in %s (mode 0600)\n", reason(perr), f.Dir())
		}
		return f, nil
	default:
		return nil, fmt.Errorf("unknown cache mode %q: use auto, keyring or file", mode)
	}
}

func openFile(dir string) (*File, error) {
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	return NewFile(dir)
}

func reason(err error) string {
	if u, ok := errors.AsType[*UnavailableError](err); ok {
		return u.detail()
	}
	return err.Error()
}

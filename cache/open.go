package cache

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/saml2sts/saml2sts/cache/warm"
)

// Service is the keyring service name all saml2sts items are stored under.
const Service = warm.Service

// Open returns the Store for mode: "keyring", "file", or "auto" (also "").
// Neither keyring mode probes up front, which would cost a D-Bus round trip
// on every warm credential_process call: auto decides on first use, moving
// to a File in dir (DefaultDir when empty) with one line on notice when the
// keyring does not answer; keyring adds a hint to its errors instead.
func Open(mode, dir string, notice io.Writer) (Store, error) {
	switch mode {
	case "keyring":
		return hinted{NewKeyring(Service, 0)}, nil
	case "file":
		return openFile(dir)
	case "auto", "":
		return &auto{k: NewKeyring(Service, 0), dir: dir, notice: notice}, nil
	default:
		return nil, fmt.Errorf("unknown cache mode %q: use auto, keyring or file", mode)
	}
}

// hinted is the explicitly chosen keyring: its "unavailable" errors say how
// to do without it.
type hinted struct{ *Keyring }

func (h hinted) Get(key string) ([]byte, error) { v, err := h.Keyring.Get(key); return v, h.hint(err) }
func (h hinted) Set(key string, v []byte) error { return h.hint(h.Keyring.Set(key, v)) }
func (h hinted) Delete(key string) error        { return h.hint(h.Keyring.Delete(key)) }

func (h hinted) hint(err error) error { return warm.Hint(err) }

// auto uses the keyring until it fails as unavailable, then the file
// backend for the rest of the process. A miss (ErrNotFound) means the
// keyring answered.
type auto struct {
	k      *Keyring
	dir    string
	notice io.Writer

	mu        sync.Mutex
	file      *File // set once the keyring was found unavailable
	keyringOK sync.Once
}

// forgetNotice re-arms the fallback notice once the keyring works again.
func (a *auto) forgetNotice() {
	dir := a.dir
	if dir == "" {
		dir, _ = DefaultDir()
	}
	if dir != "" {
		warm.ForgetNotice(dir)
	}
}

func (a *auto) Name() string {
	if s := a.current(); s != nil {
		return s.Name()
	}
	return a.k.Name()
}

func (a *auto) current() Store {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.file != nil {
		return a.file
	}
	return nil
}

// do runs op on the keyring, and on the file backend once the keyring is
// known to be unavailable.
func (a *auto) do(op func(Store) error) error {
	if s := a.current(); s != nil {
		return op(s)
	}
	kerr := op(a.k)
	if kerr == nil || !errors.Is(kerr, ErrUnavailable) {
		a.keyringOK.Do(func() { a.forgetNotice() })
		return kerr
	}
	a.mu.Lock()
	if a.file == nil {
		f, err := openFile(a.dir)
		if err != nil {
			a.mu.Unlock()
			return fmt.Errorf("%w (and %w)", err, kerr)
		}
		a.file = f
		warm.Notice(f.Dir(), kerr, a.notice)
	}
	f := a.file
	a.mu.Unlock()
	return op(f)
}

func (a *auto) Get(key string) (v []byte, err error) {
	err = a.do(func(s Store) error { v, err = s.Get(key); return err })
	return v, err
}

func (a *auto) Set(key string, v []byte) error {
	return a.do(func(s Store) error { return s.Set(key, v) })
}

func (a *auto) Delete(key string) error {
	return a.do(func(s Store) error { return s.Delete(key) })
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

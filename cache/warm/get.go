package warm

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/saml2sts/saml2sts/internal/atomicfile"
)

// FileHint tells the user how to avoid the keyring.
const FileHint = "set cache = file (or SAML2STS_CACHE=file)"

// Hint adds FileHint to an "unavailable" error of the explicitly chosen
// keyring.
func Hint(err error) error {
	if err != nil && errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%w; %s", err, FileHint)
	}
	return err
}

// NoticeFile remembers the last keyring fallback notice shown.
const NoticeFile = "keyring-notice"

// Notice says, on notice, that cache = auto moved to the file store in
// dir because the keyring failed with kerr: once per cache directory and
// reason, not on every run (credential_process runs many times a minute).
func Notice(dir string, kerr error, notice io.Writer) {
	line := fmt.Sprintf("saml2sts: keyring unavailable (%s); caching in %s (mode 0600)\n", Reason(kerr), dir)
	marker := filepath.Join(dir, NoticeFile)
	if old, _ := os.ReadFile(marker); notice != nil && string(old) != line {
		fmt.Fprint(notice, line)
		atomicfile.Write(marker, []byte(line), 0o600)
	}
}

// Reason is why the keyring failed, for the notice.
func Reason(err error) string {
	if u, ok := errors.AsType[*UnavailableError](err); ok {
		return u.Detail()
	}
	return err.Error()
}

// Get reads key as the cache package's Open(mode, dir, notice).Get
// would in a fresh process, from dir, a private directory that exists:
// mode file reads the file store; keyring the Secret Service, its
// "unavailable" errors hinted; auto the keyring, else (no bus, no answer
// in time) the file store after a notice. ErrSlow: only the cache
// package can answer.
func Get(mode, dir, key string, notice io.Writer) ([]byte, error) {
	switch mode {
	case "file":
		return ReadFile(dir, key)
	case "keyring":
		v, err := ReadKeyring(Service, ItemName(key), DefaultTimeout)
		return v, Hint(err)
	case "auto", "":
		v, err := ReadKeyring(Service, ItemName(key), DefaultTimeout)
		if err == nil || !errors.Is(err, ErrUnavailable) {
			if !errors.Is(err, ErrSlow) {
				ForgetNotice(dir) // the keyring answered
			}
			return v, err
		}
		Notice(dir, err, notice)
		return ReadFile(dir, key)
	}
	return nil, ErrSlow
}

// ForgetNotice re-arms the fallback notice once the keyring works again.
func ForgetNotice(dir string) { os.Remove(filepath.Join(dir, NoticeFile)) }

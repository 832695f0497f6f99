// Package safefile opens files that hold or lead to secrets (cache
// entries, the profiles file that runs password_command) only when no
// other local user could have planted or changed them.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"

	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// Owner returns the uid owning fi, and false where the platform has no
// such notion (Windows). Tests replace it to plant files "owned" by
// another user without root.
var Owner = owner

// UID is the current user's uid; a variable for the same reason.
var UID = os.Getuid

// UntrustedError is a file saml2sts will not trust, and why.
type UntrustedError struct {
	Path string
	Why  string // e.g. "owned by uid 1001", "writable by others (mode -rw-rw-rw-)"
}

func (e *UntrustedError) Error() string { return e.Path + " is " + e.Why }

// ExitCode is 2: the user fixes the file's owner or mode.
func (e *UntrustedError) ExitCode() int { return exitcode.Usage }

// Private reports why fi cannot be trusted as a private file of ours:
// not a regular file, owned by another user, or with any group/other
// permission bit. "" means it can.
func Private(fi fs.FileInfo) string {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return "a symbolic link"
	case !fi.Mode().IsRegular():
		return "not a regular file"
	}
	if uid, ok := Owner(fi); ok && uid != UID() {
		return fmt.Sprintf("owned by uid %d, not by you (uid %d)", uid, UID())
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return fmt.Sprintf("readable or writable by others (mode %v)", fi.Mode().Perm())
	}
	return ""
}

// ReadPrivate reads the file at path, at most max bytes, without
// following a symbolic link or blocking on a FIFO, when Private trusts it;
// else an *UntrustedError. A missing file is fs.ErrNotExist.
func ReadPrivate(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow, 0)
	if err != nil {
		if isLoop(err) {
			return nil, &UntrustedError{Path: path, Why: "a symbolic link"}
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if why := Private(fi); why != "" {
		return nil, &UntrustedError{Path: path, Why: why}
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return b, nil
}

// Untrusted reports whether err is an *UntrustedError.
func Untrusted(err error) bool {
	var ue *UntrustedError
	return errors.As(err, &ue)
}

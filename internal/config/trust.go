package config

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/saml2sts/saml2sts/internal/safefile"
)

// CheckTrusted reports, as an *Error, a profiles file another local user
// could have written: one owned by someone other than the user (or root),
// writable by group or others, or in a directory they could write to
// (without the sticky bit) and so replace it. Its password_command is a
// shell command we run: such a file must not choose it. A symbolic link
// (dotfile managers) is followed and its target checked.
func CheckTrusted(path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return &Error{Path: path, Msg: fmt.Sprintf("cannot check who may write it: %v", err)}
	}
	fi, err := os.Stat(real)
	if err != nil {
		return &Error{Path: path, Msg: fmt.Sprintf("cannot check who may write it: %v", err)}
	}
	if why := untrustedConfig(fi, false); why != "" {
		return &Error{Path: path, Key: "password_command", Msg: fmt.Sprintf(
			"not running its password_command: the file is %s; fix it with: chmod go-w %s (and chown it to yourself)", why, real)}
	}
	dir := filepath.Dir(real)
	if di, err := os.Stat(dir); err == nil {
		if why := untrustedConfig(di, true); why != "" {
			return &Error{Path: path, Key: "password_command", Msg: fmt.Sprintf(
				"not running its password_command: its directory %s is %s, so others could replace the file; fix it with: chmod go-w %s", dir, why, dir)}
		}
	}
	return nil
}

// untrustedConfig says why fi could have been written by another user.
func untrustedConfig(fi fs.FileInfo, isDir bool) string {
	if !isDir && !fi.Mode().IsRegular() {
		return "not a regular file"
	}
	if uid, ok := safefile.Owner(fi); ok && uid != safefile.UID() && uid != 0 {
		return fmt.Sprintf("owned by uid %d, not by you (uid %d)", uid, safefile.UID())
	}
	if runtime.GOOS == "windows" {
		return ""
	}
	if m := fi.Mode(); m.Perm()&0o022 != 0 && !(isDir && m&fs.ModeSticky != 0) {
		return fmt.Sprintf("writable by other users (mode %v)", m.Perm())
	}
	return ""
}

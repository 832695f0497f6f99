//go:build unix

package safefile

import (
	"errors"
	"io/fs"
	"syscall"
)

// noFollow makes open fail on a symbolic link (ELOOP) and return at once
// on a FIFO instead of waiting for a writer.
const noFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

func owner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

func isLoop(err error) bool { return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK) }

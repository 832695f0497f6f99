//go:build unix

package bench

import (
	"os"
	"syscall"
)

// maxRSS is the peak resident set of an exited process (KiB on Linux).
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok && ru != nil {
		return int64(ru.Maxrss)
	}
	return 0
}

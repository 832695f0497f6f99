//go:build unix

package bench

import (
	"os"
	"syscall"
)

// peakRSS is the finished process's peak resident set, in KiB on Linux.
func peakRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss)
	}
	return 0
}

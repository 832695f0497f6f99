//go:build !unix

package bench

import "os"

// peakRSS is not measured outside Unix.
func peakRSS(*os.ProcessState) int64 { return 0 }

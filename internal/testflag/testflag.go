// Package testflag holds settings the test binaries' TestMain functions
// share. Only tests import it.
package testflag

import (
	"flag"
	"strconv"
)

// Parallel sets -test.parallel to n unless the command line gave it:
// tests that mostly wait (on emulators, browsers, child processes) can run
// more at once than the default of one per CPU. Call it from TestMain
// before m.Run.
func Parallel(n int) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		flag.Set("test.parallel", strconv.Itoa(n))
	}
}

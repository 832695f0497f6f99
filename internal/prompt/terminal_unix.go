//go:build !windows

package prompt

import "os"

// openTerminal opens the controlling terminal, whatever stdin and stdout are.
func openTerminal() (in, out *os.File, err error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	return f, f, err
}

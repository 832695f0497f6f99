//go:build windows

package prompt

import "os"

// openTerminal opens the console, whatever stdin and stdout are: CONIN$
// read-write (ReadPassword switches its echo mode), CONOUT$ for the labels.
func openTerminal() (in, out *os.File, err error) {
	in, err = os.OpenFile("CONIN$", os.O_RDWR, 0)
	if err != nil {
		return nil, nil, err
	}
	out, err = os.OpenFile("CONOUT$", os.O_WRONLY, 0)
	if err != nil {
		in.Close()
		return nil, nil, err
	}
	return in, out, nil
}

//go:build windows

package cli

import "os"

// relayed are the signals exec passes on to the command.
var relayed = []os.Signal{os.Interrupt}

// fromTerminal: the console delivers Ctrl-C (and Ctrl-Break) to every
// process attached to it, the command included, so it is never relayed
// (Windows cannot send os.Interrupt to another process anyway).
func fromTerminal(s os.Signal) bool { return s == os.Interrupt }

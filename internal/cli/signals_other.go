//go:build !unix && !windows

package cli

import "os"

// relayed are the signals exec passes on to the command.
var relayed = []os.Signal{os.Interrupt}

// fromTerminal: only Unix terminals signal a process group.
func fromTerminal(os.Signal) bool { return false }

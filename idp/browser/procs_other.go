//go:build !linux

package browser

import "os/exec"

// prepareCmd leaves the command as chromedp sets it up: on macOS and
// Windows the browser's helpers end with its main process.
func prepareCmd(*exec.Cmd) {}

// killAll has nothing to add to chromedp's kill of the main process.
func killAll(int, string) {}

// Leftovers is not implemented outside Linux.
func Leftovers(string) []int { return nil }

package cli

// windowsShellLine is the raw command line that runs command through
// cmd.exe the way Node's child_process does: /d skips AutoRun macros, /s
// makes cmd strip exactly the outer quotes and run the rest verbatim, so
// quotes inside password_command reach the program as the user wrote them.
func windowsShellLine(command string) string {
	return `cmd.exe /d /s /c "` + command + `"`
}

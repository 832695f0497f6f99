package browser

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// prepareCmd runs the browser in its own process group (so a Ctrl-C on the
// terminal reaches us, and we end the whole group), killed by the kernel
// if we die first.
func prepareCmd(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killAll kills the browser's process group and any process still using
// the user-data dir (Chrome's zygote and utility processes may leave the
// group), until none is left.
func killAll(pid int, dataDir string) {
	if pid > 0 {
		syscall.Kill(-pid, syscall.SIGKILL)
	}
	for range 50 {
		if killUsing(dataDir) == 0 {
			return
		}
	}
}

// Leftovers lists the pids of processes whose command line names dataDir
// as --user-data-dir; tests use it to check nothing outlived a login.
func Leftovers(dataDir string) []int {
	var pids []int
	eachUsing(dataDir, func(pid int) { pids = append(pids, pid) })
	return pids
}

func killUsing(dataDir string) int {
	n := 0
	eachUsing(dataDir, func(pid int) {
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			n++
		}
	})
	return n
}

func eachUsing(dataDir string, fn func(pid int)) {
	want := []byte("--user-data-dir=" + dataDir)
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	self := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !names(cmdline, want) {
			continue
		}
		if stat, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil && bytes.Contains(stat, []byte(") Z ")) {
			continue // a zombie waiting for its parent: already dead
		}
		fn(pid)
	}
}

// names reports whether cmdline has want as a whole argument: Chrome's
// helpers rewrite their command line with spaces between arguments.
func names(cmdline, want []byte) bool {
	for i := bytes.Index(cmdline, want); i >= 0; {
		end := i + len(want)
		if end == len(cmdline) || cmdline[end] == 0 || cmdline[end] == ' ' {
			return true
		}
		j := bytes.Index(cmdline[end:], want)
		if j < 0 {
			return false
		}
		i = end + j
	}
	return false
}

package cache

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The lock tests re-run this test binary as helper processes (the os/exec
// TestHelperProcess pattern); helperEnv selects what the child does.
const helperEnv = "SAML2STS_CACHE_HELPER"

func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		return
	}
	dir := os.Getenv("HELPER_DIR")
	var err error
	switch mode {
	case "hold":
		err = helperHold(dir)
	case "count":
		n, _ := strconv.Atoi(os.Getenv("HELPER_N"))
		err = helperCount(dir, n)
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// helperHold takes the lock, says so, and sleeps until killed.
func helperHold(dir string) error {
	if _, err := Lock(context.Background(), dir, "dev"); err != nil {
		return err
	}
	fmt.Println("locked")
	time.Sleep(time.Minute)
	return errors.New("not killed")
}

// helperCount increments dir/counter n times under the lock, with a pause
// between read and write that loses updates if the lock does not hold.
func helperCount(dir string, n int) error {
	path := filepath.Join(dir, "counter")
	for range n {
		unlock, err := Lock(context.Background(), dir, "counter")
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		c, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		time.Sleep(time.Millisecond)
		if err := os.WriteFile(path, []byte(strconv.Itoa(c+1)), 0o600); err != nil {
			return err
		}
		unlock()
	}
	return nil
}

func helper(t *testing.T, mode, dir string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "HELPER_DIR="+dir)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	return cmd
}

func TestLockSurvivesKilledHolder(t *testing.T) {
	dir := t.TempDir()
	cmd := helper(t, "hold", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}

	// Held by a live process: we wait, then give up with a clear error.
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Lock(ctx, dir, "dev")
	if err == nil {
		t.Fatal("Lock succeeded while another process holds it")
	}
	if d := time.Since(start); d < 140*time.Millisecond {
		t.Fatalf("Lock gave up after %v, before the context ended", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `lock "dev"`) ||
		!strings.Contains(err.Error(), "another saml2sts process is logging in") ||
		!strings.Contains(err.Error(), "remove nothing") {
		t.Fatalf("unhelpful error: %v", err)
	}

	// SIGKILL: no cleanup runs in the child, the kernel drops the lock.
	if err := cmd.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start = time.Now()
	unlock, err := Lock(ctx, dir, "dev")
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	defer unlock()
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Lock after the holder was killed took %v", d)
	}
	if _, err := os.Stat(filepath.Join(dir, "locks", "dev.lock")); err != nil {
		t.Fatalf("lock file: %v", err)
	}
}

func TestLockMutualExclusionAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const procs, each = 6, 20
	dir := t.TempDir()
	var cmds []*exec.Cmd
	for range procs {
		cmd := helper(t, "count", dir, "HELPER_N="+strconv.Itoa(each))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper: %v", err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "counter"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != strconv.Itoa(procs*each) {
		t.Fatalf("counter = %s, want %d: updates were lost", got, procs*each)
	}
}

func TestLockInProcess(t *testing.T) {
	dir := t.TempDir()
	unlock, err := Lock(context.Background(), dir, "dev")
	if err != nil {
		t.Fatal(err)
	}
	// A different name is independent.
	u2, err := Lock(context.Background(), dir, "prod")
	if err != nil {
		t.Fatalf("Lock of another name: %v", err)
	}
	u2()

	got := make(chan error, 1)
	go func() {
		u, err := Lock(context.Background(), dir, "dev")
		if err == nil {
			u()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("second Lock returned while held: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	unlock()
	unlock() // idempotent
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("second Lock not acquired after unlock")
	}
}

func TestLockCancelled(t *testing.T) {
	dir := t.TempDir()
	unlock, err := Lock(context.Background(), dir, "dev")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	})
	_, err = Lock(ctx, dir, "dev")
	wg.Wait()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock with a cancelled context: %v", err)
	}
}

func TestLockName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"dev", "dev"},
		{"Prod-EU_1", "Prod-EU_1"},
		{"a.b", "a.b"},
		{"team/dev", "team_dev"},
		{"../../etc", "_._.._etc"},
		{".index", "_index"},
		{"", "_"},
		{"a b:c\\d", "a_b_c_d"},
		{strings.Repeat("x", 300), strings.Repeat("x", 100)},
	}
	for _, tt := range tests {
		if got := lockName(tt.in); got != tt.want {
			t.Errorf("lockName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLockDirModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	dir := filepath.Join(t.TempDir(), "c")
	unlock, err := Lock(context.Background(), dir, "dev")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	assertMode(t, dir, 0o700)
	assertMode(t, filepath.Join(dir, "locks"), 0o700)
	assertMode(t, filepath.Join(dir, "locks", "dev.lock"), 0o600)
}

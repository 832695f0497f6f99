package bench

import (
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// BenchmarkKeyringChurn runs the keyring credential_process line from
// four loops at once, as parallel AWS SDK clients do, and fails if any
// call fails or the Secret Service daemon is not the same one afterwards
// (gnome-keyring 42.1 aborted under this load with readers that sent
// OpenSession before an answer from the daemon; see
// internal/secretservice's doc). b.N is the number of calls in all.
func BenchmarkKeyringChurn(b *testing.B) {
	r := newRig(b)
	line := r.lines["keyring"]
	if line == nil {
		b.Skip("no D-Bus session bus: run ./bench/run.sh")
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	daemon := func() string {
		var owner string
		if err := conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, "org.freedesktop.secrets").Store(&owner); err != nil {
			return err.Error()
		}
		return owner
	}
	before := daemon()
	const loops = 4
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	calls := make(chan struct{}, b.N)
	for range b.N {
		calls <- struct{}{}
	}
	close(calls)
	b.ResetTimer()
	start := time.Now()
	for range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range calls {
				c := exec.Command(line[0], line[1:]...)
				c.Env = r.env
				out, err := c.CombinedOutput()
				if err != nil || !strings.Contains(string(out), `"SecretAccessKey"`) {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%v: %.200s", err, out))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
	if after := daemon(); after != before {
		b.Fatalf("org.freedesktop.secrets was %s, now %s: gnome-keyring crashed or restarted", before, after)
	}
	if len(failures) > 0 {
		b.Fatalf("%d of %d calls failed; first: %s", len(failures), b.N, failures[0])
	}
	if n := r.st.Calls("AssumeRoleWithSAML"); n != len(r.backends) {
		b.Fatalf("AssumeRoleWithSAML calls = %d: the churn was not warm", n)
	}
}

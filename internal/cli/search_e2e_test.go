package cli_test

import (
	"bufio"
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/saml2sts/saml2sts/internal/cli"
	"github.com/saml2sts/saml2sts/opensearch/opensearchtest"
)

// osWorld is a logged-in world with an OpenSearch emulator that verifies
// every signature against the STS emulator's credentials; profile "os"
// points at it.
func osWorld(t *testing.T, o opensearchtest.Options) (*world, *opensearchtest.Server) {
	t.Helper()
	w := newOSCmdWorld(t, o)
	w.mustRun(password, "login", "--profile", "os", "--password-stdin")
	return w.world, w.os
}

var pets = []string{
	`{"name":"Tom","kind":"cat","description":"farm cat","id":9007199254740993,"owner":{"name":"Ana","city":"Lyon"}}`,
	`{"name":"Rex","kind":"dog","description":"herds sheep on the farm","id":9007199254740995,"owner":{"name":"Bo, Jr.","city":"Oslo"}}`,
	`{"name":"Felix","kind":"cat","description":"city cat","id":1}`,
}

func TestSearchE2E(t *testing.T) {
	t.Parallel()
	w, srv := osWorld(t, opensearchtest.Options{})
	var docs []json.RawMessage
	for _, p := range pets {
		docs = append(docs, json.RawMessage(p))
	}
	srv.AddDocs("cats_and_dogs", docs...)

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"description:farm", "--format", "ndjson", "--sort", "name:asc"}, pets[1] + "\n" + pets[0] + "\n"},
		{[]string{"description:farm", "--format", "csv", "--fields", "name,id,owner.name", "--sort", "id:desc"},
			"name,id,owner.name\nRex,9007199254740995,\"Bo, Jr.\"\nTom,9007199254740993,Ana\n"},
		{[]string{"kind:cat", "--format", "table", "--fields", "name,description", "--sort", "name:asc"},
			"name   description\nFelix  city cat\nTom    farm cat\n"},
	}
	for _, tc := range tests {
		r := w.mustRun("", append([]string{"search", "cats_and_dogs", "--profile", "os"}, tc.args...)...)
		if r.stdout != tc.want {
			t.Errorf("search %v:\ngot  %q\nwant %q", tc.args, r.stdout, tc.want)
		}
	}

	// json is the raw answer; the DSL on stdin keeps the int64 exact.
	r := w.mustRun(`{"query":{"term":{"id":9007199254740995}}}`, "search", "cats_and_dogs", "-", "--profile", "os")
	var ans struct {
		Hits struct {
			Hits []struct {
				ID     string          `json:"_id"`
				Source json.RawMessage `json:"_source"`
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &ans); err != nil || len(ans.Hits.Hits) != 1 || string(ans.Hits.Hits[0].Source) != pets[1] {
		t.Errorf("DSL on stdin: %v\n%s", err, r)
	}

	// Usage errors before any request; a missing index is exit 1 with the
	// server's reason.
	before := srv.Stats().Requests
	if r := w.run("", "search", "cats_and_dogs", "--profile", "os", "--format", "xml"); r.code != 2 || !strings.Contains(r.stderr, "--format") {
		t.Errorf("bad format: %s", r)
	}
	if srv.Stats().Requests != before {
		t.Error("a usage error sent requests")
	}
	if r := w.run("", "search", "nope", "--profile", "os"); r.code != 1 || !strings.Contains(r.stderr, "no such index [nope]") {
		t.Errorf("missing index: %s", r)
	}
	if s := srv.Stats(); len(s.Rejected) > 0 || s.Signed == 0 {
		t.Errorf("signatures: %d verified, rejected %v", s.Signed, s.Rejected)
	}
}

// exportIDs parses --with-meta ndjson and checks each synthetic id is there
// exactly once.
func exportIDs(t *testing.T, out string, n int) {
	t.Helper()
	seen := map[string]int{}
	lines := 0
	for l := range strings.Lines(out) {
		lines++
		var h struct {
			Index  string          `json:"_index"`
			ID     string          `json:"_id"`
			Source json.RawMessage `json:"_source"`
		}
		if err := json.Unmarshal([]byte(l), &h); err != nil || h.Index != "logs" || len(h.Source) == 0 {
			t.Fatalf("bad line %q: %v", l, err)
		}
		seen[h.ID]++
	}
	for i := range n {
		if c := seen[opensearchtest.SyntheticID(i)]; c != 1 {
			t.Fatalf("id %s exported %d times (%d lines for %d docs)", opensearchtest.SyntheticID(i), c, lines, n)
		}
	}
	if lines != n {
		t.Fatalf("%d lines for %d docs", lines, n)
	}
}

func TestSearchExportE2E(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		o      opensearchtest.Options
		args   []string
		notice string
	}{
		{"pit slices", opensearchtest.Options{}, []string{"--slices", "3"}, ""},
		{"scroll fallback", opensearchtest.Options{Engine: opensearchtest.EngineOpenSearch1}, nil, "scroll instead"},
		{"aoss", opensearchtest.Options{Service: "aoss"}, []string{"--slices", "2"}, ""},
		// The fault test: 10% of data calls fail (429/502/503/504,
		// some with Retry-After) and two pages are cut by a connection
		// reset mid-body; every document still arrives exactly once.
		{"faults", opensearchtest.Options{Faults: opensearchtest.Faults{Rate: 0.1, ResetAt: []int{3, 9}, Seed: 42}}, []string{"--slices", "2"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const n = 12_345
			w, srv := osWorld(t, tc.o)
			srv.Synthetic("logs", n)
			r := w.mustRun("", append([]string{"search", "logs", "--all", "--size", "700", "--with-meta", "--profile", "os"}, tc.args...)...)
			exportIDs(t, r.stdout, n)
			if !strings.Contains(r.stderr, tc.notice) || (tc.notice == "" && r.stderr != "") {
				t.Errorf("stderr = %q, want %q", r.stderr, tc.notice)
			}
			s := srv.Stats()
			if s.OpenContexts() != 0 {
				t.Errorf("contexts left open: %+v", s)
			}
			// A call picked for a reset may be answered 429/5xx instead,
			// and which call that is depends on the slices' interleaving.
			if tc.o.Faults.Rate > 0 && (s.Faults == 0 || s.Resets == 0) {
				t.Errorf("faults %d resets %d: the test did not inject what it says", s.Faults, s.Resets)
			}
			if len(s.Rejected) > 0 {
				t.Errorf("rejected: %v", s.Rejected)
			}
		})
	}
}

// TestSearchExportCSVE2E checks the csv header and dotted fields of an
// export.
func TestSearchExportCSVE2E(t *testing.T) {
	t.Parallel()
	w, srv := osWorld(t, opensearchtest.Options{})
	srv.Synthetic("logs", 2_000)
	r := w.mustRun("", "search", "logs", "--all", "--slices", "2", "--fields", "@timestamp,level,seq", "--format", "csv", "--profile", "os")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 2_001 || lines[0] != "@timestamp,level,seq" {
		t.Fatalf("%d lines, header %q", len(lines), lines[0])
	}
	for _, l := range lines[1:] {
		if f := strings.Split(l, ","); len(f) != 3 || !strings.HasPrefix(f[0], "2024-01-") || f[1] == "" || len(f[2]) != 19 {
			t.Fatalf("row %q", l)
		}
	}
}

// startExport runs an export of 1M docs whose stdout the test reads.
func startExport(t *testing.T, w *world, args ...string) (*exec.Cmd, *bufio.Reader, io.Closer, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"search", "logs", "--all", "--profile", "os"}, args...)...)
	for k, v := range w.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	detach(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	r := bufio.NewReader(out)
	for range 3_000 {
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatalf("export output ended early: %v\n%s", err, stderr.String())
		}
	}
	return cmd, r, out, &stderr
}

func waitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(20 * time.Second):
		t.Fatal("the export did not stop")
	}
	return -1
}

// TestSearchExportInterruptE2E: Ctrl-C mid-export deletes the point in time
// and exits 130; a closed pipe (| head) ends quietly, deleting it too.
func TestSearchExportInterruptE2E(t *testing.T) {
	t.Parallel()
	t.Run("ctrl-c", func(t *testing.T) {
		t.Parallel()
		w, srv := osWorld(t, opensearchtest.Options{})
		srv.Synthetic("logs", 1_000_000)
		cmd, r, _, stderr := startExport(t, w, "--slices", "2")
		cmd.Process.Signal(syscall.SIGINT)
		go func() { // keep draining so a blocked write can finish
			for {
				if _, err := r.ReadString('\n'); err != nil {
					return
				}
			}
		}()
		if code := waitCode(t, cmd); code != 130 {
			t.Fatalf("exit %d, want 130\n%s", code, stderr.String())
		}
		s := srv.Stats()
		if s.PITCreated != 1 || s.PITDeleted != 1 || s.OpenContexts() != 0 {
			t.Errorf("after Ctrl-C: %+v", s)
		}
	})
	t.Run("closed pipe", func(t *testing.T) {
		t.Parallel()
		w, srv := osWorld(t, opensearchtest.Options{Engine: opensearchtest.EngineOpenSearch1})
		srv.Synthetic("logs", 1_000_000)
		cmd, _, out, stderr := startExport(t, w)
		out.Close()
		if code := waitCode(t, cmd); code != 0 {
			t.Fatalf("exit %d, want 0\n%s", code, stderr.String())
		}
		if s := srv.Stats(); s.ScrollCreated == 0 || s.OpenContexts() != 0 {
			t.Errorf("after the pipe closed: %+v", s)
		}
	})
}

// TestSearchDeniedE2E: a 403 is explained and exits 5.
func TestSearchDeniedE2E(t *testing.T) {
	t.Parallel()
	w, srv := osWorld(t, opensearchtest.Options{Service: "aoss", Allow: func(string, string, string) bool { return false }})
	srv.Synthetic("logs", 10)
	r := w.run("", "search", "logs", "--all", "--profile", "os")
	if r.code != 5 || !strings.Contains(r.stderr, "403") || r.stdout != "" {
		t.Fatalf("denied export: %s", r)
	}
}

// TestSearchViaDashboardsE2E exports through the Dashboards console proxy
// (pretty-printed answers): with PIT on OpenSearch Dashboards, with a
// scroll on Kibana (legacy Elasticsearch).
func TestSearchViaDashboardsE2E(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/_dashboards", "/_plugin/kibana"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			w, srv, _ := newDashboardsWorld(t, path)
			const n = 3_210
			srv.Synthetic("logs", n)
			r := w.mustRun("", "search", "logs", "--all", "--size", "500", "--slices", "2", "--with-meta", "--profile", "os",
				"--via", "dashboards", "--dashboards-url", srv.DashboardsURL())
			exportIDs(t, r.stdout, n)
			if s := srv.Stats(); s.OpenContexts() != 0 || s.DashboardsLogins != 1 {
				t.Errorf("after the export: %+v", s)
			}
		})
	}
}

// TestSearchSecretsE2E: with --debug, under faults and on a denial, no
// credential, token, assertion or password reaches the output.
func TestSearchSecretsE2E(t *testing.T) {
	t.Parallel()
	w, srv := osWorld(t, opensearchtest.Options{Faults: opensearchtest.Faults{Rate: 0.2, ResetAt: []int{2}, Seed: 9}})
	srv.Synthetic("logs", 1_500)
	var outs []string
	r := w.mustRun("", "search", "logs", "--all", "--size", "300", "--slices", "2", "--debug", "--profile", "os")
	if !strings.Contains(r.stderr, "exported 1500 hits (pit") {
		t.Errorf("no debug summary: %q", r.stderr)
	}
	outs = append(outs, r.stdout, r.stderr)
	r = w.run("", "search", "nope-*,missing", "level:ERROR", "--debug", "--profile", "os")
	outs = append(outs, r.stdout, r.stderr)

	secrets := []string{password}
	for _, c := range w.st.Issued() {
		secrets = append(secrets, c.SecretAccessKey, c.SessionToken)
	}
	secrets = append(secrets, w.kc.IssuedResponses()...)
	secrets = append(secrets, w.kc.SessionCookies()...)
	if len(secrets) < 4 {
		t.Fatalf("only %d secrets to look for", len(secrets))
	}
	for _, out := range outs {
		for _, s := range secrets {
			if len(s) >= 8 && strings.Contains(out, s) {
				t.Errorf("a secret (%.6s…) reached the output", s)
			}
		}
	}
}

// runOnTerminal runs the binary with stdout (toTTY "stdout") or stderr on a
// pseudo-terminal of the given width; it returns what the terminal showed
// and what the other stream got.
func runOnTerminal(t *testing.T, w *world, toTTY string, cols uint16, args ...string) (screen, other string, code int) {
	t.Helper()
	m, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer m.Close()
	if err := pty.Setsize(m, &pty.Winsize{Rows: 40, Cols: cols}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), args...)
	for k, v := range w.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var buf strings.Builder
	if toTTY == "stdout" {
		cmd.Stdout, cmd.Stderr = tty, &buf
	} else {
		cmd.Stdout, cmd.Stderr = &buf, tty
	}
	detach(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var scr strings.Builder
	read := make(chan struct{})
	go func() {
		defer close(read)
		b := make([]byte, 4096)
		for {
			n, err := m.Read(b)
			scr.Write(b[:n])
			if err != nil {
				return
			}
		}
	}()
	code = waitCode(t, cmd)
	<-read // EIO once the child's side is closed
	return strings.ReplaceAll(scr.String(), "\r\n", "\n"), buf.String(), code
}

// TestSearchTerminalE2E: the table fits the terminal width, and an export
// draws its progress line on a terminal stderr only.
func TestSearchTerminalE2E(t *testing.T) {
	t.Parallel()
	w, srv := osWorld(t, opensearchtest.Options{})
	srv.Synthetic("logs", 3_000)
	screen, _, code := runOnTerminal(t, w, "stdout", 50, "search", "logs", "--size", "5", "--sort", "seq:asc",
		"--fields", "@timestamp,level,message,host.name", "--format", "table", "--profile", "os")
	lines := strings.Split(strings.TrimSuffix(screen, "\n"), "\n")
	if code != 0 || len(lines) != 6 || !strings.HasPrefix(lines[0], "@timestamp") {
		t.Fatalf("exit %d, table:\n%s", code, screen)
	}
	for _, l := range lines {
		if n := len([]rune(l)); n > 50 {
			t.Errorf("line of %d columns on a 50-column terminal: %q", n, l)
		}
	}
	if !strings.Contains(screen, "…") {
		t.Errorf("nothing was cut:\n%s", screen)
	}

	screen, out, code := runOnTerminal(t, w, "stderr", 80, "search", "logs", "--all", "--size", "200", "--profile", "os")
	if code != 0 || strings.Count(out, "\n") != 3_000 {
		t.Fatalf("exit %d, %d lines", code, strings.Count(out, "\n"))
	}
	if !strings.Contains(screen, "3,000 / 3,000 hits [####################] 100%") || !strings.Contains(screen, "hits/s") {
		t.Errorf("progress line: %q", screen)
	}
	// Not a terminal: no progress line.
	if r := w.mustRun("", "search", "logs", "--all", "--size", "200", "--profile", "os"); r.stderr != "" {
		t.Errorf("stderr in a pipe: %q", r.stderr)
	}
}

// TestDemoSearchE2E: the demo runs its search steps against its own
// OpenSearch emulator, signed with the credentials it logged in for.
func TestDemoSearchE2E(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out, errb syncBuffer
	if code := cli.Run(t.Context(), cli.Process{
		Args:       []string{"demo"},
		Env:        []string{"PATH=" + dir, "HOME=" + dir}, // no sh, no aws CLI: the demo skips those steps
		Stdout:     &out,
		Stderr:     &errb,
		NoTerminal: true,
	}); code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, errb.String())
	}
	for _, want := range []string{
		"name    kind  description\nTom     cat   farm cat, catches mice in the barn\n",
		`{"_index":"cats_and_dogs","_id":`,
		`"_source":{"name":"Nemo","kind":"fish","description":"lives in a bowl"}}` + "\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo stdout lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errb.String(), "$ saml2sts search cats_and_dogs --all") {
		t.Errorf("demo stderr:\n%s", errb.String())
	}
}

// TestSearchIndexCompletionE2E: search's INDEX completes from _cat/indices,
// signed with cached credentials only; with none cached it completes
// nothing and logs in to nobody.
func TestSearchIndexCompletionE2E(t *testing.T) {
	t.Parallel()
	w := newOSCmdWorld(t, opensearchtest.Options{})
	w.os.AddDocs("cats_and_dogs", json.RawMessage(pets[0]))
	w.os.AddDocs("logs-2026.12.03", json.RawMessage(`{"level":"ERROR"}`))
	complete := func() []string {
		t.Helper()
		r := w.mustRun("", "__complete", "search", "--profile", "os", "")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		return lines[:len(lines)-1] // the directive
	}
	if got := complete(); len(got) != 0 {
		t.Errorf("with nothing cached, completions = %q; want none", got)
	}
	if n := w.kc.Stats().Logins; n != 0 {
		t.Fatalf("completion logged in %d times", n)
	}
	w.mustRun(password, "login", "--profile", "os", "--password-stdin")
	got := complete()
	slices.Sort(got)
	if want := []string{"cats_and_dogs", "logs-2026.12.03"}; !slices.Equal(got, want) {
		t.Errorf("completions = %q, want %q", got, want)
	}
	if n := w.kc.Stats().Logins; n != 1 {
		t.Errorf("%d IdP logins; completion must add none", n)
	}
}

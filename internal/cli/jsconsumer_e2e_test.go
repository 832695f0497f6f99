package cli_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/opensearch/opensearchtest"
)

// jsConsumer returns the path of testdata/jsconsumer/consumer.mjs once node
// and the pinned packages (npm ci there; .ci/run does) are present. Outside
// CI their absence skips; in CI (CI set) it fails.
func jsConsumer(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "jsconsumer"))
	if err != nil {
		t.Fatal(err)
	}
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not on PATH"
	} else if _, err := os.Stat(filepath.Join(dir, "node_modules", "@aws-sdk", "credential-providers")); err != nil {
		missing = "its packages are not installed (run: npm ci --prefix internal/cli/testdata/jsconsumer)"
	}
	if missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("JavaScript SDK consumer tests must run in CI, but %s", missing)
		}
		t.Skipf("JavaScript SDK consumer tests skipped: %s", missing)
	}
	return filepath.Join(dir, "consumer.mjs")
}

// TestJavaScriptConsumers: the AWS SDK for JavaScript v3 and the OpenSearch
// JavaScript client take our credentials, in one node process (started by
// exec --ecs-server): fromIni with credential_process (a miss: saml2sts
// logs in for the SDK), fromContainerMetadata from exec's endpoint (its
// own profile, logged in up front), and AwsSigv4Signer signing a search
// the emulator verifies.
func TestJavaScriptConsumers(t *testing.T) {
	script := jsConsumer(t)
	t.Parallel()
	w := newWorld(t)
	w.useBinary() // node runs credential_process: the real binary, not the in-process one
	srv, err := opensearchtest.New(opensearchtest.Options{Region: "eu-west-1",
		Verify: func(r *http.Request, body []byte, service string) (string, error) {
			c, err := w.st.Verify(r, body, service)
			return c.AssumedRoleARN, err
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	srv.AddDocs("pets", json.RawMessage(`{"name":"Tom","kind":"cat"}`), json.RawMessage(`{"name":"Rex","kind":"dog"}`),
		json.RawMessage(`{"name":"Felix","kind":"cat"}`))
	pw, runs := w.passwordScript()
	w.configure("js", "--role-arn", reader, "--password-command", pw, "--aws-profile", "js")
	w.configure("ecs", "--role-arn", reader, "--password-command", pw)

	r := w.run("", "exec", "--ecs-server", "--profile", "ecs", "--", "node", script, "ini:js", "container", "search:js:"+srv.URL())
	if r.code != 0 {
		t.Fatalf("node under exec --ecs-server: %s", r)
	}
	type step struct {
		Step, Account, Arn string
		Status             int
		Hits               []string
	}
	var steps []step
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var s step
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("node output %q: %v\n%s", l, err, r)
		}
		steps = append(steps, s)
	}
	if len(steps) != 3 {
		t.Fatalf("want 3 steps, got %+v\n%s", steps, r)
	}
	for i, how := range []string{"ini", "container"} {
		if s := steps[i]; s.Step != how || s.Account != account || !strings.Contains(s.Arn, "assumed-role/SearchReader/") {
			t.Errorf("step %d, want %s: %+v", i, how, s)
		}
	}
	if s := steps[2]; s.Step != "search" || s.Status != 200 || strings.Join(s.Hits, ",") != "Felix,Tom" {
		t.Errorf("signed search: %+v", s)
	}

	if got := w.st.Calls("GetCallerIdentity"); got != 2 {
		t.Errorf("GetCallerIdentity calls = %d, want 2 (the SDK must have signed with our credentials)", got)
	}
	// One login per profile: exec's before node started, then the SDK's
	// credential_process; the search used the cache.
	if got := w.st.Calls("AssumeRoleWithSAML"); got != 2 {
		t.Errorf("AssumeRoleWithSAML calls = %d, want 2", got)
	}
	if b, _ := os.ReadFile(runs); strings.Count(string(b), "\n") != 2 {
		t.Errorf("password_command ran %d times, want 2 (one login per profile, then the cache)", strings.Count(string(b), "\n"))
	}
	for _, iss := range w.st.Issued() {
		noEncodedSecret(t, "consumer output", r.stdout+r.stderr, iss.SecretAccessKey, iss.SessionToken, password)
	}
}

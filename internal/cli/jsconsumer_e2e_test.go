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
// JavaScript client take our credentials, one node process each: fromIni
// with credential_process, fromContainerMetadata under exec --ecs-server,
// and AwsSigv4Signer signing a search the emulator verifies.
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

	node := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("node", append([]string{script}, args...)...)
		for k, v := range w.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("node %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	checkID := func(how, out string) {
		t.Helper()
		var id struct{ Account, Arn string }
		if err := json.Unmarshal([]byte(out[strings.LastIndex(out, "{"):]), &id); err != nil || id.Account != account ||
			!strings.Contains(id.Arn, "assumed-role/SearchReader/") {
			t.Errorf("%s: %v\n%s", how, err, out)
		}
	}

	out := node("ini", "js")
	checkID("fromIni with credential_process", out)

	r := w.run("", "exec", "--ecs-server", "--profile", "js", "--", "node", script, "container")
	if r.code != 0 {
		t.Fatalf("exec --ecs-server: %s", r)
	}
	checkID("fromContainerMetadata through exec --ecs-server", r.stdout)

	sout := node("search", "js", srv.URL())
	var res struct {
		Status int
		Hits   []string
	}
	if err := json.Unmarshal([]byte(sout[strings.LastIndex(sout, "{"):]), &res); err != nil || res.Status != 200 ||
		strings.Join(res.Hits, ",") != "Felix,Tom" {
		t.Errorf("signed search: %v\n%s", err, sout)
	}

	if got := w.st.Calls("GetCallerIdentity"); got != 2 {
		t.Errorf("GetCallerIdentity calls = %d, want 2 (the SDK must have signed with our credentials)", got)
	}
	if b, _ := os.ReadFile(runs); strings.Count(string(b), "\n") != 1 {
		t.Errorf("password_command ran %d times, want 1 (one login, then the cache)", strings.Count(string(b), "\n"))
	}
	for _, iss := range w.st.Issued() {
		noEncodedSecret(t, "consumer output", out+r.stdout+r.stderr+sout, iss.SecretAccessKey, iss.SessionToken, password)
	}
}

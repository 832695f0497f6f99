package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/opensearch/opensearchtest"
)

// TestConfigWritableByOthersRunsNoCommand: a profiles file another user
// could have edited does not get its password_command run: exit 2 and one
// line saying why and how to fix it.
func TestConfigWritableByOthersRunsNoCommand(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	script, counter := w.passwordScript()
	w.configure("p", "--role-arn", reader, "--password-command", script)
	cfg := filepath.Join(w.dir, "config", "saml2sts", "config")
	os.Chmod(cfg, 0o666)
	r := w.run("", "credential-process", "--profile", "p")
	if r.code != 2 || !strings.Contains(r.stderr, "not running its password_command: the file is writable by other users (mode -rw-rw-rw-)") ||
		strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
		t.Errorf("%s\nwant exit 2 and one line", r)
	}
	if _, err := os.Stat(counter); err == nil {
		t.Errorf("password_command ran")
	}
	os.Chmod(cfg, 0o644) // readable is fine: the file holds no secret
	parseCreds(t, w.mustRun("", "credential-process", "--profile", "p").stdout)
}

// TestPlantedCacheDirIsDiscarded: a cache dir others could write to, with
// a record planted for the profile (expiry 2099), is made private and
// emptied with a one-line notice; the user gets credentials of their own
// login, never the planted ones.
func TestPlantedCacheDirIsDiscarded(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	script, _ := w.passwordScript()
	w.configure("p", "--role-arn", reader, "--password-command", script)
	first := parseCreds(t, w.mustRun("", "credential-process", "--profile", "p").stdout)
	dir := filepath.Join(w.dir, "cache", "saml2sts")
	store, err := cache.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := store.Get(cache.CredsKey("p"))
	if err != nil {
		t.Fatal(err)
	}
	// Another user's version: the same record with their keys, valid
	// until 2099.
	planted := strings.ReplaceAll(string(raw), first.AccessKeyID, "ASIAPLANTEDPLANTED00")
	planted = strings.ReplaceAll(planted, first.Expiration, "2099-01-01T00:00:00Z")
	if err := store.Set(cache.CredsKey("p"), []byte(planted)); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	r := w.mustRun("", "credential-process", "--profile", "p")
	if got := parseCreds(t, r.stdout).AccessKeyID; got == "ASIAPLANTEDPLANTED00" {
		t.Fatalf("the planted record was served")
	}
	if !strings.Contains(r.stderr, "was writable by other users (mode -rwxrwxrwx): made it private and discarded") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q; want one notice line", r.stderr)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("cache dir mode %v", fi.Mode().Perm())
	}
	// A planted file alone (group-readable, in a private dir) is a miss
	// too: a fresh login, no notice.
	assumes := w.st.Calls("AssumeRoleWithSAML")
	store.Set(cache.CredsKey("p"), []byte(planted))
	ents, _ := filepath.Glob(filepath.Join(dir, "*.cache"))
	for _, e := range ents {
		os.Chmod(e, 0o644)
	}
	r = w.mustRun("", "credential-process", "--profile", "p")
	if parseCreds(t, r.stdout).AccessKeyID == "ASIAPLANTEDPLANTED00" || w.st.Calls("AssumeRoleWithSAML") != assumes+1 || strings.Contains(r.stderr, "discarded") {
		t.Errorf("a group-readable record was trusted: %s", r)
	}
}

// TestLogoutRemovesKilledWritersTemps: a saml2sts killed mid-write
// (kill -9) leaves a .NAME.tmp-* file holding the IdP cookies; logout
// removes it with the rest.
func TestLogoutRemovesKilledWritersTemps(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	script, _ := w.passwordScript()
	w.configure("p", "--role-arn", reader, "--password-command", script)
	w.mustRun("", "credential-process", "--profile", "p")
	store, err := cache.NewFile(filepath.Join(w.dir, "cache", "saml2sts"))
	if err != nil {
		t.Fatal(err)
	}
	jar, err := store.Get(cache.SessionKey("p"))
	if err != nil {
		t.Fatal(err)
	}
	temp := filepath.Join(store.Dir(), "."+filepath.Base(store.Path(cache.SessionKey("p")))+".tmp-31337")
	if err := os.WriteFile(temp, jar, 0o600); err != nil {
		t.Fatal(err)
	}
	w.mustRun("", "logout", "--profile", "p")
	if _, err := os.Stat(temp); !os.IsNotExist(err) {
		t.Errorf("the killed writer's temp file (IdP cookies) survived logout: %v", err)
	}
	ents, _ := os.ReadDir(store.Dir())
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".cache") || strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("left after logout: %s", e.Name())
		}
	}
}

// TestSearchHostileDocuments: a document's ESC sequences never reach the
// terminal through table or csv, and its formulas are neutralised in csv
// unless --csv-raw.
func TestSearchHostileDocuments(t *testing.T) {
	t.Parallel()
	w := newOSCmdWorld(t, opensearchtest.Options{})
	w.os.AddDocs("logs", json.RawMessage(`{"msg":"\u001b]52;c;ZXZpbA==\u0007hi","f":"=HYPERLINK(\"http://evil\")"}`))
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "table"}, `\x1b]52;c;ZXZpbA==\x07hi`},
		{[]string{"--format", "csv"}, `"'=HYPERLINK(""http://evil"")"`},
		{[]string{"--format", "csv", "--csv-raw"}, `"=HYPERLINK(""http://evil"")"`},
	} {
		r := w.osSearch(append([]string{"logs"}, tt.args...)...)
		if r.code != 0 || !strings.Contains(r.stdout, tt.want) || strings.ContainsRune(r.stdout, 0x1b) || strings.ContainsRune(r.stdout, 0x07) {
			t.Errorf("%v: %s\nwant %q and no control character", tt.args, r, tt.want)
		}
	}
	if r := w.osSearch("logs", "--format", "table", "--csv-raw"); r.code != 2 {
		t.Errorf("--csv-raw with table: %s; want exit 2", r)
	}
}

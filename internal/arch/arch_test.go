package arch

import (
	"go/build"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/saml2sts/saml2sts"

// pkg is one package of the module: its production imports and, for each,
// the files that import it.
type pkg struct {
	path    string // import path relative to the module: "idp/okta"
	imports map[string][]string
}

// load reads every package of the module with go/build (no go command):
// production files only, tests and testdata left out.
func load(t *testing.T) map[string]*pkg {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	ctx := build.Default
	ctx.CgoEnabled = false
	pkgs := map[string]*pkg{}
	err = filepath.WalkDir(root, func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if n := d.Name(); dir != root && (n == "testdata" || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_")) {
			return filepath.SkipDir
		}
		bp, err := ctx.ImportDir(dir, 0)
		if _, none := err.(*build.NoGoError); none {
			return nil
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, dir)
		p := &pkg{path: filepath.ToSlash(rel), imports: map[string][]string{}}
		for _, imp := range bp.Imports {
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
			for _, pos := range bp.ImportPos[imp] {
				p.imports[rel] = append(p.imports[rel], filepath.Base(pos.Filename))
			}
		}
		pkgs[p.path] = p
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pkgs["idp"] == nil || pkgs["internal/cli"] == nil || len(pkgs) < 15 {
		t.Fatalf("read %d packages; is the walk at the module root?", len(pkgs))
	}
	return pkgs
}

// deps is the module packages p imports, directly or not.
func deps(pkgs map[string]*pkg, p string) map[string]bool {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		for imp := range pkgs[p].imports {
			if !seen[imp] && pkgs[imp] != nil {
				seen[imp] = true
				walk(imp)
			}
		}
	}
	walk(p)
	return seen
}

func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// isFake is a loopback emulator package (idptest, ststest, ...).
func isFake(p string) bool { return strings.HasSuffix(path.Base(p), "test") }

// handOffs are the shared steps adapters may use (Duo Universal Prompt,
// browser login), adapters' own packages besides idp.
var handOffs = []string{"idp/duo", "idp/browser"}

// isAdapter is an IdP adapter: a package directly below idp that is not
// the emulators or the provider list.
func isAdapter(p string) bool {
	return path.Dir(p) == "idp" && !isFake(p) && p != "idp/providers"
}

// TestImportRules enforces docs/architecture.md ("Import rules").
func TestImportRules(t *testing.T) {
	t.Parallel()
	pkgs := load(t)
	names := make([]string, 0, len(pkgs))
	for n := range pkgs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		p := pkgs[name]
		all := deps(pkgs, name)
		forbid := func(dep, rule string) {
			for d := range all {
				if under(d, dep) {
					t.Errorf("%s imports %s (directly or through another package): %s", name, d, rule)
				}
			}
		}
		if under(name, "cache") {
			forbid("idp", "cache imports no idp: it stores bytes for any adapter")
		}
		if under(name, "idp") {
			forbid("sts", "idp imports no sts: an adapter ends at the SAMLResponse")
		}
		if !under(name, "cmd") {
			forbid("internal/cli", "only cmd/ may import internal/cli")
		}
		if isAdapter(name) {
			for imp, files := range p.imports {
				ok := imp == "idp" || imp == "internal/exitcode" || (slices.Contains(handOffs, imp) && !slices.Contains(handOffs, name)) ||
					// browser login runs the form adapter's heuristics on live pages
					(name == "idp/browser" && imp == "idp/form")
				if !ok {
					t.Errorf("adapter %s imports %s (%v): adapters import only idp, internal/exitcode and the hand-offs %v", name, imp, files, handOffs)
				}
			}
		}
		if !isFake(name) {
			for imp, files := range p.imports {
				for _, f := range files {
					if isFake(imp) && !(name == "internal/cli" && f == "demo.go") {
						t.Errorf("%s/%s imports the emulator package %s: production code imports no *test package but the demo command", name, f, imp)
					}
				}
			}
		}
	}
}

// TestRulesSeeViolations: the loader sees what the rules look for, so a
// passing TestImportRules means something.
func TestRulesSeeViolations(t *testing.T) {
	t.Parallel()
	pkgs := load(t)
	if !deps(pkgs, "cmd/saml2sts")["internal/cli"] || !deps(pkgs, "internal/broker")["idp"] {
		t.Error("the import graph misses known edges (cmd -> cli, broker -> idp)")
	}
	if files := pkgs["internal/cli"].imports["idp/idptest"]; !slices.Equal(files, []string{"demo.go"}) {
		t.Errorf("internal/cli imports idptest from %v, want only demo.go", files)
	}
	for _, a := range []string{"idp/okta", "idp/adfs", "idp/keycloak", "idp/form"} {
		if !isAdapter(a) {
			t.Errorf("%s is not seen as an adapter", a)
		}
	}
	for _, n := range []string{"idp/idptest", "idp/providers", "idp"} {
		if isAdapter(n) {
			t.Errorf("%s is seen as an adapter", n)
		}
	}
}

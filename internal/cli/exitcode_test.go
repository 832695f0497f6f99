package cli

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/okta"
	"github.com/saml2sts/saml2sts/internal/broker"
	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/internal/exitcode"
	"github.com/saml2sts/saml2sts/internal/httpx"
	"github.com/saml2sts/saml2sts/opensearch"
	"github.com/saml2sts/saml2sts/sts"
	"github.com/saml2sts/saml2sts/sts/ststest"
)

// TestEveryErrorTypeHasExitCode reads the module's source and fails for
// any exported type with an Error() string method but no ExitCode() int:
// without one a new error silently exits 1.
func TestEveryErrorTypeHasExitCode(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	type key struct{ dir, typ string }
	errs, codes := map[key]string{}, map[key]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (n == "testdata" || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || len(fn.Recv.List) != 1 || fn.Type.Results == nil || len(fn.Type.Results.List) != 1 {
				continue
			}
			typ := fn.Recv.List[0].Type
			if s, ok := typ.(*ast.StarExpr); ok {
				typ = s.X
			}
			id, ok := typ.(*ast.Ident)
			if !ok || !id.IsExported() || len(fn.Type.Params.List) != 0 {
				continue
			}
			res, _ := fn.Type.Results.List[0].Type.(*ast.Ident)
			k := key{filepath.Dir(path), id.Name}
			switch {
			case fn.Name.Name == "Error" && res != nil && res.Name == "string":
				errs[k] = fset.Position(fn.Pos()).String()
			case fn.Name.Name == "ExitCode" && res != nil && res.Name == "int":
				codes[k] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for k, pos := range errs {
		if !codes[k] {
			missing = append(missing, fmt.Sprintf("%s: %s has no ExitCode() int method", pos, k.typ))
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Error(m)
	}
	if len(errs) < 20 {
		t.Errorf("found only %d exported error types; is the walk reading the module?", len(errs))
	}
}

// TestExitCodes pins the code of each error type as the CLI sees it:
// wrapped, the way commands hand errors on.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{&usageError{errors.New("bad flag")}, exitUsage},
		{&exitError{code: 7}, 7},
		{&exitError{code: exitAWS, err: &idp.AuthError{}}, exitAWS}, // the command's choice wins
		{context.Canceled, exitSignaled},
		{fmt.Errorf("keycloak: %w", context.Canceled), exitSignaled},
		{errors.New("plain"), exitFailure},
		{&idp.AuthError{Message: "no"}, exitAuth},
		{&idp.TimeoutError{Waited: time.Minute}, exitAuth},
		{&idp.ConfigError{Msg: "bad url"}, exitUsage},
		{&idp.UnsupportedError{What: "WebAuthn"}, exitFailure},
		{&idp.PageError{Title: "x"}, exitFailure},
		{idp.ErrNoTerminal, exitNoTTY},
		{&okta.StatusError{Msg: "enroll"}, exitFailure},
		{&okta.APIError{Status: 500}, exitFailure},
		{&broker.NeedLoginError{Hint: "saml2sts login"}, exitNoTTY},
		{&broker.RoleError{}, exitUsage},
		{&broker.ProviderError{Name: "x"}, exitUsage},
		{&broker.BusyError{}, exitFailure},
		{&config.Error{}, exitUsage},
		{&config.NotFoundError{}, exitUsage},
		{&httpx.CABundleError{Path: "/x", Err: os.ErrNotExist}, exitUsage},
		{&httpx.InsecureSchemeError{Host: "x"}, exitFailure},
		{&cache.UnavailableError{Reason: "no bus"}, exitFailure},
		{&sts.Error{}, exitAWS},
		{&sts.AssertionError{}, exitFailure},
		{&sts.ConsoleError{Status: 400}, exitAWS},
		{&ststest.SigError{}, exitAWS},
		{&opensearch.AccessError{Status: 403}, exitAWS},
		{&opensearch.HTTPError{Status: 404}, exitFailure},
		{&opensearch.EndpointError{Why: "x"}, exitUsage},
		{&opensearch.ContextExpiredError{Err: &opensearch.AccessError{Status: 403}}, exitAWS},
		{&opensearch.ContextExpiredError{Err: &opensearch.HTTPError{Status: 404}}, exitFailure},
	}
	for _, tc := range tests {
		if got := exitCode(fmt.Errorf("cmd: %w", tc.err)); got != tc.want {
			t.Errorf("exit code for %T %v = %d, want %d", tc.err, tc.err, got, tc.want)
		}
		if got := exitcode.Of(tc.err); tc.err != context.Canceled && got != tc.want && !errors.Is(tc.err, context.Canceled) {
			t.Errorf("exitcode.Of(%T) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// TestNetworkHint: the DNS and dial hints name the profile's url only for
// the IdP's host; any other host (OpenSearch, STS, a redirect) is named.
func TestNetworkHint(t *testing.T) {
	t.Parallel()
	dns := func(host string) error {
		return fmt.Errorf("keycloak: %w", &url.Error{Op: "Get", URL: "https://" + host + "/realms/x?code=s3cret",
			Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}})
	}
	refused := func(host string) error {
		return &url.Error{Op: "Post", URL: "https://" + host + ":443/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	}
	tests := []struct {
		name          string
		err           error
		idpHost       string
		want, notWant string
	}{
		{"IdP host does not resolve", dns("sso.example.com"), "sso.example.com", "(check the host name in the profile's url, and HTTPS_PROXY if you need a proxy)", ""},
		{"STS host does not resolve", dns("sts.eu-west-1.amazonaws.com"), "sso.example.com",
			"(sts.eu-west-1.amazonaws.com does not resolve from here: check your network, VPN and DNS, and HTTPS_PROXY if you need a proxy)", "profile"},
		{"OpenSearch host without a profile", dns("search-logs.eu-west-1.es.amazonaws.com"), "", "search-logs.eu-west-1.es.amazonaws.com does not resolve", "profile"},
		{"DNS error without a URL", &net.DNSError{Err: "no such host", Name: "vpc-x.es.amazonaws.com"}, "sso.example.com", "vpc-x.es.amazonaws.com does not resolve", "profile"},
		{"IdP host refuses", refused("sso.example.com"), "sso.example.com", "(is the host reachable? check the profile's url, your VPN and HTTPS_PROXY)", ""},
		{"other host refuses", refused("sts.amazonaws.com"), "sso.example.com", "(is sts.amazonaws.com reachable? check your VPN and HTTPS_PROXY)", "profile"},
	}
	for _, tc := range tests {
		got := message(tc.err, tc.idpHost)
		if !strings.Contains(got, tc.want) || (tc.notWant != "" && strings.Contains(got, tc.notWant)) {
			t.Errorf("%s: message = %q; want %q", tc.name, got, tc.want)
		}
	}
}

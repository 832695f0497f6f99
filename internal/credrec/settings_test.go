package credrec_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/internal/credrec"
)

// TestReadSettingsAgrees: on internal/config's own testdata profiles
// files and on hand-written ones, the minimal reader resolves the same
// identity, role, cache and window as internal/config, or is unsure
// wherever internal/config fails.
func TestReadSettingsAgrees(t *testing.T) {
	t.Parallel()
	const url = "https://sso.example.com/realms/corp/protocol/saml/clients/aws"
	dir := t.TempDir()
	files := map[string]string{}
	for _, n := range []string{"set/input", "set/update.golden", "set/new.golden", "set/delete.golden"} {
		b, err := os.ReadFile(filepath.Join("..", "config", "testdata", n))
		if err != nil {
			t.Fatal(err)
		}
		files[n] = string(b)
	}
	for n, body := range map[string]string{
		"plain":           "[profile p]\nprovider = keycloak\nurl = " + url + "\nusername = ana\nrole_arn = arn:aws:iam::123456789012:role/R\ncache = file\nrefresh_window = 20m\nduration = 2h\n",
		"default twice":   "[default]\nprovider = keycloak\nurl = " + url + "\n[profile default]\nprovider = okta\n",
		"crlf bom":        "\ufeff[default]\r\nprovider = keycloak\r\nurl = " + url + "\r\ncache = keyring\r\n",
		"dup key":         "[profile p]\nprovider = keycloak\nprovider = okta\nurl = " + url + "\n",
		"empty value":     "[profile p]\nprovider = keycloak\nurl = " + url + "\nusername =\n",
		"window too long": "[profile p]\nprovider = keycloak\nurl = " + url + "\nrefresh_window = 1h\n",
		"seconds":         "[profile p]\nprovider = keycloak\nurl = " + url + "\nrefresh_window = 600\nduration = 3600\n",
		"bad cache":       "[profile p]\nprovider = keycloak\nurl = " + url + "\ncache = disk\n",
		"outside":         "provider = keycloak\n[profile p]\nurl = " + url + "\n",
		"bad header":      "[profile p] x\nprovider = keycloak\n",
		"bad line":        "[profile p]\nprovider keycloak\n",
		"tab header":      "[profile\tp]\nprovider = keycloak\nurl = " + url + "\n",
		"comments":        "# c\n[profile p] # c\n; c\nprovider = keycloak\n   url = " + url + "\n",
	} {
		files[n] = body
	}
	none := func(string) string { return "" }
	resolved := 0
	for n, body := range files {
		path := filepath.Join(dir, filepath.Base(n)+"-"+n[:1])
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		f, ferr := config.Load(path)
		for _, name := range []string{"default", "p", "prod", "dev", "new", "nope"} {
			var p *config.Profile
			err := ferr
			if err == nil {
				p, err = config.Resolve(f, name, none, nil)
			}
			s, serr := credrec.ReadSettings(path, name, none)
			if serr != nil {
				continue // unsure: the full binary decides
			}
			if err != nil {
				t.Errorf("%s [%s]: config fails (%v), minimal reader resolves %+v", n, name, err, s)
				continue
			}
			want := credrec.Settings{Name: name, Path: path, Provider: p.Provider, URL: p.URL, Username: p.Username, RoleARN: p.RoleARN,
				Principal: p.PrincipalARN, Cache: p.Cache, RefreshWindow: p.RefreshWindow, Duration: p.Duration}
			resolved++
			if *s != want {
				t.Errorf("%s [%s]:\n got %+v\nwant %+v", n, name, *s, want)
			}
		}
	}
	if resolved < 8 {
		t.Errorf("the minimal reader resolved only %d profiles: it is unsure of too much", resolved)
	}
}

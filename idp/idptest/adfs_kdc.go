package idptest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"
)

// KDCOptions configure [StartKDC].
type KDCOptions struct {
	// Realm is the Kerberos realm; default CORP.EXAMPLE (the realm of the
	// emulator's ana@corp.example).
	Realm string
	// Users are principal name (without realm) -> password.
	Users map[string]string
	// Services are the service principals given a random key and written
	// to the keytab, e.g. "HTTP/127.0.0.1" for an AD FS emulator.
	Services []string
}

// KDC is a throwaway MIT Kerberos realm on loopback for tests: its own
// database, kdc.conf and krb5.conf in a temporary directory, and krb5kdc
// running as a child until the test ends.
type KDC struct {
	Realm string
	Dir   string
	// Config is the krb5.conf clients use (KRB5_CONFIG).
	Config string
	// KeytabPath holds the keys of Options.Services; Keytab is it loaded.
	KeytabPath string
	Keytab     *keytab.Keytab
	// Addr is the KDC's host:port (TCP and UDP).
	Addr string

	env   []string
	tools map[string]string // program name -> path
}

// kdcTools are the MIT programs StartKDC runs (Debian: krb5-kdc,
// krb5-admin-server, krb5-user).
var kdcTools = []string{"krb5kdc", "kdb5_util", "kadmin.local", "kinit"}

// StartKDC creates a realm with o's principals and starts its KDC. It
// skips the test when the MIT tools are not installed.
func StartKDC(t testing.TB, o KDCOptions) *KDC {
	t.Helper()
	tools := map[string]string{}
	for _, tool := range kdcTools {
		p, err := lookTool(tool)
		if err != nil {
			t.Skipf("Kerberos test skipped: %s not found on PATH or in /usr/sbin (install MIT Kerberos: apt-get install krb5-kdc krb5-admin-server krb5-user)", tool)
		}
		tools[tool] = p
	}
	if o.Realm == "" {
		o.Realm = "CORP.EXAMPLE"
	}
	k := &KDC{Realm: o.Realm, Dir: t.TempDir(), tools: tools}
	k.Config = filepath.Join(k.Dir, "krb5.conf")
	k.KeytabPath = filepath.Join(k.Dir, "http.keytab")
	port := freePort(t)
	k.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	kdcConf := filepath.Join(k.Dir, "kdc.conf")
	write(t, kdcConf, fmt.Sprintf(`[kdcdefaults]
 kdc_listen = %[2]s
 kdc_tcp_listen = %[2]s

[realms]
 %[1]s = {
  database_name = %[3]s/principal
  key_stash_file = %[3]s/stash
  acl_file = %[3]s/kadm5.acl
  max_life = 10h 0m 0s
  max_renewable_life = 1d 0h 0m 0s
  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
 }

[logging]
 kdc = FILE:%[3]s/kdc.log
`, o.Realm, k.Addr, k.Dir))
	write(t, filepath.Join(k.Dir, "kadm5.acl"), "")
	write(t, k.Config, k.ClientConfig(o.Realm, "127.0.0.1"))
	k.env = append(os.Environ(), "KRB5_CONFIG="+k.Config, "KRB5_KDC_PROFILE="+kdcConf, "KRB5CCNAME=FILE:"+filepath.Join(k.Dir, "admin.ccache"))

	k.run(t, "", "kdb5_util", "-r", o.Realm, "create", "-s", "-P", "kdc-master-"+newToken())
	for name, pw := range o.Users {
		k.run(t, "", "kadmin.local", "-r", o.Realm, "-q", fmt.Sprintf("addprinc -pw %s %s", pw, name))
	}
	for _, s := range o.Services {
		k.run(t, "", "kadmin.local", "-r", o.Realm, "-q", "addprinc -randkey "+s)
		k.run(t, "", "kadmin.local", "-r", o.Realm, "-q", fmt.Sprintf("ktadd -k %s %s", k.KeytabPath, s))
	}
	if len(o.Services) > 0 {
		kt, err := keytab.Load(k.KeytabPath)
		if err != nil {
			t.Fatalf("idptest: keytab: %v", err)
		}
		k.Keytab = kt
	}

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, k.tools["krb5kdc"], "-n", "-r", o.Realm, "-P", filepath.Join(k.Dir, "kdc.pid"))
	cmd.Env = k.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("idptest: krb5kdc: %v", err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	// Ready when it accepts TCP connections.
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", k.Addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(k.Dir, "kdc.log"))
			t.Fatalf("idptest: krb5kdc did not listen on %s: %s %s", k.Addr, out.String(), log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return k
}

// ClientConfig is a krb5.conf whose default realm is realm, with this
// KDC serving o.Realm (TCP only, no DNS) and host mapped to it.
func (k *KDC) ClientConfig(realm, host string) string {
	return fmt.Sprintf(`[libdefaults]
 default_realm = %[1]s
 dns_lookup_kdc = false
 dns_lookup_realm = false
 udp_preference_limit = 1
 rdns = false
 default_tkt_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
 default_tgs_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
 permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96

[realms]
 %[2]s = {
  kdc = %[3]s
 }

[domain_realm]
 %[4]s = %[2]s
`, realm, k.Realm, k.Addr, host)
}

// Kinit gets a TGT for principal with password into a FILE: cache at
// ccache (kinit reads the password from stdin). lifetime "" is the
// default; e.g. "5s" makes a ticket that soon expires.
func (k *KDC) Kinit(t testing.TB, principal, password, ccache, lifetime string) {
	t.Helper()
	args := []string{"-c", "FILE:" + ccache}
	if lifetime != "" {
		args = append(args, "-l", lifetime)
	}
	k.run(t, password+"\n", "kinit", append(args, principal+"@"+k.Realm)...)
}

func (k *KDC) run(t testing.TB, stdin, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(k.tools[name], args...)
	cmd.Env = k.env
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("idptest: %s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// lookTool finds an MIT program on PATH or in the sbin directories
// Debian installs the KDC tools in, which a non-root PATH often lacks.
func lookTool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		if st, serr := os.Stat(filepath.Join(dir, name)); serr == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return filepath.Join(dir, name), nil
		}
	}
	return "", err
}

// freePort is a loopback port free for TCP and UDP at the time of asking.
func freePort(t testing.TB) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("idptest: no free loopback port for the KDC")
	return 0
}

func write(t testing.TB, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

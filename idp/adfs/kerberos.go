package adfs

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/saml2sts/saml2sts/idp"
)

// defaultKrb5Conf is where MIT and Heimdal look without KRB5_CONFIG.
const defaultKrb5Conf = "/etc/krb5.conf"

// kerberosClient is a Kerberos client on the user's ticket cache
// ($KRB5CCNAME, FILE: or a path, else /tmp/krb5cc_<uid>) and krb5.conf
// ($KRB5_CONFIG, else /etc/krb5.conf). The error is one line saying why
// Kerberos cannot be used; the login then falls back to the form.
// Nothing is ever prompted for: a client built from a cache has no
// password, it only spends the TGT that kinit got.
func kerberosClient(now time.Time) (*client.Client, error) {
	ccPath, err := ticketCache()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(ccPath); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no Kerberos ticket cache at %s (run kinit, or set KRB5CCNAME)", ccPath)
	}
	cc, err := credentials.LoadCCache(ccPath)
	if err != nil {
		return nil, fmt.Errorf("the Kerberos ticket cache %s cannot be read: %s", ccPath, oneLine(err))
	}
	realm := cc.DefaultPrincipal.Realm
	who := cc.DefaultPrincipal.PrincipalName.PrincipalNameString() + "@" + realm
	tgt, ok := cc.GetEntry(types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", realm}})
	if !ok {
		return nil, fmt.Errorf("the Kerberos ticket cache %s holds no ticket-granting ticket for %s (run kinit)", ccPath, who)
	}
	if !now.Before(tgt.EndTime) {
		return nil, fmt.Errorf("the Kerberos ticket of %s in %s expired at %s (run kinit)", who, ccPath, tgt.EndTime.Local().Format(time.DateTime+" MST"))
	}
	confPath, err := krb5Conf()
	if err != nil {
		return nil, err
	}
	conf, err := config.Load(confPath)
	if err != nil {
		return nil, fmt.Errorf("the Kerberos configuration %s cannot be read: %s", confPath, oneLine(err))
	}
	// No FAST armour: Active Directory, like most KDCs, does not need it
	// for a TGS request, and gokrb5's FAST is incomplete.
	cl, err := client.NewFromCCache(cc, conf, client.DisablePAFXFAST(true))
	if err != nil {
		return nil, fmt.Errorf("the Kerberos ticket cache %s cannot be used: %s", ccPath, oneLine(err))
	}
	return cl, nil
}

// ticketCache is the path of the user's FILE: ticket cache. Other cache
// types (KCM:, KEYRING:, DIR:, API:, MEMORY:) are not files gokrb5 can
// read.
func ticketCache() (string, error) {
	v := os.Getenv("KRB5CCNAME")
	if v == "" {
		uid := os.Getuid()
		if uid < 0 {
			return "", errors.New("no Kerberos ticket cache: KRB5CCNAME is not set")
		}
		return fmt.Sprintf("/tmp/krb5cc_%d", uid), nil
	}
	typ, rest, ok := strings.Cut(v, ":")
	switch {
	case !ok || filepath.VolumeName(v) != "":
		return v, nil
	case strings.EqualFold(typ, "FILE"):
		return rest, nil
	}
	return "", fmt.Errorf("the Kerberos ticket cache KRB5CCNAME=%s is a %s cache; saml2sts reads only FILE: caches "+
		"(run kinit -c FILE:/tmp/krb5cc_$(id -u) and set KRB5CCNAME to it)", v, strings.ToUpper(typ))
}

// krb5Conf is the first existing file of $KRB5_CONFIG (a colon-separated
// list, as MIT reads it), else /etc/krb5.conf.
func krb5Conf() (string, error) {
	v := os.Getenv("KRB5_CONFIG")
	paths := []string{defaultKrb5Conf}
	if v != "" {
		paths = filepath.SplitList(v)
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if v != "" {
		return "", fmt.Errorf("no Kerberos configuration: KRB5_CONFIG=%s names no file", v)
	}
	return "", fmt.Errorf("no Kerberos configuration: %s not found (set KRB5_CONFIG)", defaultKrb5Conf)
}

// servicePrincipal is the SPN AD FS's HTTP.sys decrypts tickets for:
// HTTP/ and the federation service's host name, without the port.
func servicePrincipal(u string) string {
	h := u
	if p, err := url.Parse(u); err == nil {
		h = p.Hostname()
	}
	return "HTTP/" + strings.ToLower(strings.TrimSuffix(h, "."))
}

// negotiateToken is the "Negotiate <SPNEGO>" Authorization value for spn:
// a service ticket from the KDC (or the cache), wrapped as an AP-REQ.
func negotiateToken(cl *client.Client, spn string) (string, error) {
	tok, err := spnego.SPNEGOClient(cl, spn).InitSecContext()
	if err != nil {
		return "", err
	}
	b, err := tok.Marshal()
	if err != nil {
		return "", err
	}
	return "Negotiate " + base64.StdEncoding.EncodeToString(b), nil
}

// kerberos answers AD FS's 401 at /adfs/ls/wia with a Kerberos ticket for
// HTTP/<adfs-host>. Whatever stops it (no Negotiate offered, a KDC error,
// the ticket refused) ends in the forms login with a notice: Kerberos is
// a convenience, never a reason for the login to fail.
func (l *login) kerberos(ctx context.Context, page *idp.Page) (*idp.Page, error) {
	spn := servicePrincipal(page.URL.String())
	if l.krbSent {
		return l.toForms(ctx, fmt.Sprintf("AD FS did not accept the Kerberos ticket for %s", spn))
	}
	if !offers(l.wiaT.challenges(), "Negotiate") {
		return l.toForms(ctx, "AD FS did not offer Kerberos (no WWW-Authenticate: Negotiate)")
	}
	h, err := negotiateToken(l.krb, spn)
	if err != nil {
		return l.toForms(ctx, fmt.Sprintf("no Kerberos service ticket for %s: %s", spn, oneLine(err)))
	}
	l.wiaT.setNegotiate(h)
	l.krbSent = true
	return l.w.Fetch(ctx, http.MethodGet, page.URL.String(), nil)
}

// toForms gives up on Windows integrated authentication, says why, and
// starts over at the sign-on page with a browser AD FS shows its form.
func (l *login) toForms(ctx context.Context, why string) (*idp.Page, error) {
	l.kerberosNotice(why)
	l.wia, l.krb, l.w.Client = false, nil, l.req.Client
	return l.w.Fetch(ctx, http.MethodGet, l.entry.String(), nil)
}

func (l *login) kerberosNotice(why string) {
	l.notice("adfs_auth = kerberos: " + why + "; signing in with the AD FS form instead")
}

func offers(challenges []string, scheme string) bool {
	for _, c := range challenges {
		if s, _, _ := strings.Cut(c, " "); strings.EqualFold(s, scheme) {
			return true
		}
	}
	return false
}

// oneLine squeezes gokrb5's multi-part errors into one short line.
func oneLine(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if strings.HasPrefix(s, "[Root cause: ") {
		if _, rest, ok := strings.Cut(s, "] "); ok {
			s = rest
		}
	}
	if len(s) > 240 {
		s = s[:240] + "..."
	}
	return s
}

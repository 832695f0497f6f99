package entra

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/adfs"
	"github.com/saml2sts/saml2sts/internal/exitcode"
)

// maxJSON bounds one API answer; Entra's are a few kilobytes.
const maxJSON = 1 << 20

// api posts body as JSON to rawURL with the headers Entra's page script
// sends (canary, client-request-id, hpgact, hpgid, hpgrequestid, Referer)
// and decodes the answer into out.
func (l *login) api(ctx context.Context, page *idp.Page, rawURL string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("entra: bad api url %s", idp.ShortURL(rawURL))
	}
	h := req.Header
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Accept", "application/json")
	h.Set("canary", l.st.apiCanary)
	h.Set("client-request-id", l.st.correlation)
	h.Set("hpgact", l.st.hpgact)
	h.Set("hpgid", l.st.hpgid)
	h.Set("hpgrequestid", l.st.session)
	if page != nil && page.URL != nil {
		h.Set("Referer", idp.StripQuery(page.URL))
	}
	resp, err := l.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = idp.ShortURL(ue.URL)
		}
		return fmt.Errorf("entra: %w", err)
	}
	defer resp.Body.Close()
	where := idp.StripQuery(req.URL)
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxJSON+1))
	switch {
	case err != nil:
		return fmt.Errorf("entra: read answer of %s: %w", where, err)
	case len(raw) > maxJSON:
		return fmt.Errorf("entra: answer of %s is larger than 1 MiB", where)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("entra: %s answered HTTP %d", where, resp.StatusCode)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("entra: %s did not answer with JSON (%s)", where, shortJSONErr(err))
	}
	return nil
}

// credentialType is GetCredentialType's answer.
type credentialType struct {
	IfExistsResult int    `json:"IfExistsResult"`
	FlowToken      string `json:"FlowToken"`
	APICanary      string `json:"apiCanary"`
	Credentials    struct {
		PrefCredential        int             `json:"PrefCredential"`
		HasPassword           bool            `json:"HasPassword"`
		RemoteNgcParams       json.RawMessage `json:"RemoteNgcParams"`
		FidoParams            json.RawMessage `json:"FidoParams"`
		FederationRedirectURL string          `json:"FederationRedirectUrl"`
	} `json:"Credentials"`
}

func present(r json.RawMessage) bool {
	s := strings.TrimSpace(string(r))
	return s != "" && s != "null"
}

// signIn answers ConvergedSignIn: GetCredentialType, then the AD FS leg
// for a federated domain or the password post.
func (l *login) signIn(ctx context.Context, page *idp.Page, cfg *Config) (*idp.Page, error) {
	user, err := l.username(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.URLGetCredentialType != "" {
		var ct credentialType
		err := l.api(ctx, page, resolve(page, cfg.URLGetCredentialType), map[string]any{
			"username": user, "isOtherIdpSupported": true, "checkPhones": false, "isRemoteNGCSupported": false,
			"isCookieBannerShown": false, "isFidoSupported": false, "originalRequest": l.st.ctx, "flowToken": l.st.ft,
		}, &ct)
		if err != nil {
			return nil, err
		}
		l.keep(&Config{FlowToken: ct.FlowToken, APICanary: ct.APICanary})
		c := ct.Credentials
		switch {
		case ct.IfExistsResult == 1:
			return nil, &Error{Text: "no such account " + user + " in this tenant (GetCredentialType IfExistsResult 1)", Page: "ConvergedSignIn",
				Hint: "check the username (user@domain as in Entra)", exit: exitcode.Auth}
		case c.FederationRedirectURL != "":
			return l.federate(ctx, resolve(page, c.FederationRedirectURL))
		case !c.HasPassword && (present(c.RemoteNgcParams) || present(c.FidoParams)):
			return nil, &Error{Text: "this account signs in without a password (Microsoft Authenticator passwordless sign-in or a passkey)",
				Page: "ConvergedSignIn", Hint: "saml2sts cannot answer that from the terminal", exit: exitcode.Failure}
		}
	}
	pw, err := l.in.Password(ctx, "Entra password for "+user)
	if err != nil {
		return nil, err
	}
	l.sentPassword = true
	return l.fetch(ctx, http.MethodPost, resolve(page, cfg.URLPost), url.Values{
		"login": {user}, "loginfmt": {user}, "passwd": {pw}, "ctx": {l.st.ctx}, "flowToken": {l.st.ft},
		"canary": {l.st.canary}, "hpgrequestid": {l.st.session}, "type": {"11"}, "LoginOptions": {"3"}, "i13": {"0"}, "ps": {"2"},
	})
}

// username is the profile's, else the page's, else asked.
func (l *login) username(ctx context.Context, cfg *Config) (string, error) {
	if u := strings.TrimSpace(l.req.Username); u != "" {
		return u, nil
	}
	if u := strings.TrimSpace(cfg.Username); u != "" {
		return u, nil
	}
	u, err := l.in.Prompt().Code(ctx, "Entra username (user@domain)")
	if errors.Is(err, idp.ErrNoTerminal) {
		return "", idp.Configf("entra: no username: set username in the profile (user@domain)")
	}
	return strings.TrimSpace(u), err
}

// federate signs in at the domain's AD FS (through the AD FS adapter's
// forms and MFA logic) and posts its wa/wresult/wctx form back to Entra.
func (l *login) federate(ctx context.Context, start string) (*idp.Page, error) {
	l.federated = true
	l.in.Notice("your domain signs in at its own identity provider (%s); continuing there", hostOf(start))
	req := *l.req
	req.Client = l.client
	req.URL = start
	req.Password = func(ctx context.Context) (string, error) { return l.in.Password(ctx, "password") }
	page, err := adfs.New().Federated(ctx, &req, start, func(p *idp.Page) bool {
		f := hiddenForm(p)
		return f != nil && f.Values.Get("wresult") != ""
	})
	if err != nil {
		return nil, err
	}
	f := hiddenForm(page)
	if _, ok := idp.SAMLResponse(page); ok || f == nil {
		return nil, l.pageError(page, "", "the federated sign-in ended without the WS-Federation form that returns to Entra")
	}
	l.in.Secret(f.Values.Get("wresult"))
	l.in.Secret(f.Values.Get("wctx"))
	return l.fetch(ctx, f.Method, f.Action, f.Values)
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "?"
	}
	return u.Host
}

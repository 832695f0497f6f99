package adfs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/duo"
)

// AuthMethod values of the MFA adapters this package drives.
const (
	azureMFA       = "AzureMfaAuthentication"
	azureMFAServer = "AzureMfaServerAuthentication"
	securID        = "SecurIDAuthentication"
	securIDv2      = "SecurIDv2Authentication"
	vipWindows     = "VIPAuthenticationProviderWindowsAccountName"
	vipUPN         = "VIPAuthenticationProviderUPN"
	symantecVIP    = "SymantecVipAdapter"
)

// mfaServerWait bounds the blocking Azure MFA Server post: a phone call
// rings for about a minute, and the server adds its own timeouts.
const mfaServerWait = 3 * time.Minute

// adapters names the MFA adapters users meet, by AuthMethod: the ones
// this package drives and, for a clear refusal, some it does not.
var adapters = map[string]string{
	azureMFA:                          "Azure MFA",
	azureMFAServer:                    "Azure MFA Server",
	securID:                           "RSA SecurID",
	securIDv2:                         "RSA SecurID",
	vipWindows:                        "Symantec VIP",
	vipUPN:                            "Symantec VIP",
	symantecVIP:                       "Symantec VIP",
	duoAdapter:                        "Duo",
	"SafeNet-MFA":                     "Thales SafeNet",
	"SilverfortAdfs":                  "Silverfort",
	"Defender AD FS Adapter":          "One Identity Defender",
	"CertificateAuthentication":       "certificate (smart card)",
	"MicrosoftPassportAuthentication": "Windows Hello for Business",
	"OktaMfaAdfs":                     "Okta MFA",
}

// codeFields are the input names (lower case) an adapter reads a code from.
var codeFields = []string{
	"passcode", "nextcode", "security_code", "securitycode", "verificationcode",
	"oathcode", "challengequestionanswer", "safenet_password", "otp", "code",
}

// mfaForm finds an MFA adapter's form: one that posts a hidden AuthMethod
// other than FormsAuthentication together with the Context blob. The
// options form, which only switches methods, is not one.
func mfaForm(doc *goquery.Document) *goquery.Selection {
	var found *goquery.Selection
	doc.Find("form").EachWithBreak(func(_ int, f *goquery.Selection) bool {
		if f.AttrOr("id", "") == "options" {
			return true
		}
		if m := authMethod(f); m != "" && m != "FormsAuthentication" && f.Find("input[name=Context]").Length() > 0 {
			found = f
		}
		return found == nil
	})
	return found
}

func authMethod(f *goquery.Selection) string {
	return strings.TrimSpace(f.Find("input[name=AuthMethod]").First().AttrOr("value", ""))
}

// adapterName is the vendor name of method for messages.
func adapterName(method string) string {
	if n := adapters[method]; n != "" {
		return n
	}
	return method
}

// codeInput is the input of f that takes the code, or nil.
func codeInput(f *goquery.Selection) *goquery.Selection {
	inputs := f.Find("input").FilterFunction(func(_ int, s *goquery.Selection) bool {
		switch strings.ToLower(s.AttrOr("type", "text")) {
		case "text", "password", "tel", "number":
			return s.AttrOr("name", "") != ""
		}
		return false
	})
	for _, name := range codeFields {
		if s := inputs.FilterFunction(func(_ int, s *goquery.Selection) bool {
			return strings.ToLower(s.AttrOr("name", "")) == name
		}).First(); s.Length() > 0 {
			return s
		}
	}
	return nil
}

// mfa answers an MFA adapter page.
func (l *login) mfa(ctx context.Context, page *idp.Page, sel *goquery.Selection) (*idp.Page, error) {
	method := authMethod(sel)
	name := adapterName(method)
	in := codeInput(sel)
	field := ""
	if in != nil {
		field = in.AttrOr("name", "")
	}
	key := method + "/" + field
	if l.sentMFA[key] {
		return nil, l.authError(page, fmt.Sprintf("the %s page was shown again; the answer was not accepted", name))
	}
	if l.sentMFA == nil {
		l.sentMFA = map[string]bool{}
	}
	f := idp.ParseForm(page, sel)
	switch {
	case method == azureMFA && in == nil:
		l.sentMFA[key] = true
		return l.azurePush(ctx, page, sel)
	case method == azureMFAServer:
		// The post blocks until the call or the notification is answered,
		// which may take longer than the client's per-request limit.
		l.notice("Azure MFA Server: answer the phone call or approve the notification to continue")
		l.sentMFA[key] = true
		wia := l.w.Client
		c := *wia
		c.Timeout = mfaServerWait
		l.w.Client = &c
		p, err := l.w.Submit(ctx, f)
		l.w.Client = wia
		if err != nil {
			return nil, fmt.Errorf("adfs: waiting for Azure MFA Server: %w", errors.Unwrap(err)) // Unwrap: the Walker's "adfs: " once
		}
		return p, nil
	case in != nil:
		code, err := l.code(ctx, method, field)
		if err != nil {
			return nil, err
		}
		l.in.Fill(f.Values, field, code)
		l.sentMFA[key] = true
		return l.w.Submit(ctx, f)
	}
	return nil, &idp.UnsupportedError{
		What: fmt.Sprintf("the AD FS MFA adapter %s (AuthMethod %s)", name, method),
		Hint: "ask your AD FS administrator to offer Azure MFA, Azure MFA Server, RSA SecurID or Symantec VIP for the AWS relying party",
	}
}

// code gets a one-time code for field: --mfa-code once, then the prompt.
// SecurID's next tokencode is always asked: a code given up front was
// spent on the passcode.
func (l *login) code(ctx context.Context, method, field string) (string, error) {
	ask := func(ctx context.Context) (string, error) {
		return l.in.Prompt().Code(ctx, adapterName(method)+" security code")
	}
	switch {
	case strings.EqualFold(field, "NextCode"):
		return l.in.AskCode(ctx, func(ctx context.Context) (string, error) {
			return l.in.Prompt().Code(ctx, "RSA SecurID next tokencode (wait for the tokencode to change)")
		})
	case method == securID || method == securIDv2:
		// A passcode is PIN + tokencode: no echo.
		ask = func(ctx context.Context) (string, error) { return l.in.Prompt().Secret(ctx, "RSA SecurID passcode") }
	case method == azureMFA:
		ask = func(ctx context.Context) (string, error) {
			return l.in.Prompt().Code(ctx, "Azure MFA verification code")
		}
	}
	return l.in.Code(ctx, ask)
}

// azurePush waits on Azure MFA's push page: it shows the number to tap
// (number matching) and re-posts the page, as its script does, until AD
// FS moves on.
func (l *login) azurePush(ctx context.Context, page *idp.Page, sel *goquery.Selection) (*idp.Page, error) {
	shown := ""
	show := func(p *idp.Page) {
		num := idp.Text(p.Doc.Find("#validEntropyNumber").First())
		msg := "Azure MFA: approve the sign-in in the Microsoft Authenticator app"
		if num != "" {
			msg = fmt.Sprintf("Azure MFA: enter the number %s in the Microsoft Authenticator app to approve the sign-in", num)
		} else if t := idp.Text(p.Doc.Find("#instructions").First()); t != "" {
			msg = "Azure MFA: " + t
		}
		if msg != shown {
			l.notice(msg)
			shown = msg
		}
	}
	show(page)
	f := idp.ParseForm(page, sel)
	var next *idp.Page
	err := idp.Poller{Interval: l.p.pollEvery, Timeout: l.p.pollFor, Clock: l.req.Clock}.Poll(ctx, func(ctx context.Context, attempt int) (bool, error) {
		if attempt == 0 {
			return false, nil // the page shown is the first answer
		}
		p, err := idp.Fetch(ctx, l.w.Client, f.Method, f.Action, f.Values) // polls are not pages of the budget
		if err != nil {
			return false, fmt.Errorf("adfs: %w", err)
		}
		s := mfaForm(p.Doc)
		if s == nil || authMethod(s) != azureMFA || codeInput(s) != nil {
			next = p
			return true, nil
		}
		if msg := errorText(p.Doc); msg != "" {
			return false, &idp.AuthError{Message: l.in.Scrub(msg)}
		}
		show(p)
		f = idp.ParseForm(p, s)
		return false, nil
	})
	var te *idp.TimeoutError
	if errors.As(err, &te) {
		return nil, &idp.AuthError{Message: fmt.Sprintf("the Azure MFA notification was not answered within %s; run again and approve it", l.p.pollFor)}
	}
	return next, err
}

// choice is one additional authentication method offered by form#options.
type choice struct{ id, label string }

var selectOption = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`SelectOption\(\s*['"]([^'"]+)['"]\s*\)`)
})

// methodChoices lists the methods of AD FS's "select an authentication
// method" page (links calling SelectOption('AuthMethod')).
func methodChoices(doc *goquery.Document) []choice {
	var out []choice
	seen := map[string]bool{}
	doc.Find("form#options [onclick]").Each(func(_ int, s *goquery.Selection) {
		m := selectOption().FindStringSubmatch(s.AttrOr("onclick", ""))
		if m == nil || seen[m[1]] || m[1] == "CertificateAuthentication" {
			return
		}
		seen[m[1]] = true
		label := idp.Text(s)
		if label == "" {
			label = adapterName(m[1])
		}
		out = append(out, choice{id: m[1], label: label})
	})
	return out
}

// supported are the adapters a choice defaults to without a terminal.
var supported = map[string]bool{azureMFA: true, azureMFAServer: true, securID: true, vipWindows: true, vipUPN: true, symantecVIP: true,
	duoAdapter: true}

// duoAdapter is Duo's AD FS adapter; its Universal Prompt version hands off
// to package duo, which reads mfa as push, passcode or call.
const duoAdapter = "DuoAdfsAdapter"

// chooseMethod picks one method on the selection page: the one the
// profile's mfa names, else the user's choice, else (no terminal) the
// first this package can drive.
func (l *login) chooseMethod(ctx context.Context, page *idp.Page, opts []choice) (*idp.Page, error) {
	if l.chose {
		return nil, l.w.PageError(page, "AD FS showed the authentication method choice again after one was picked")
	}
	labels := make([]string, len(opts))
	def := -1
	for i, o := range opts {
		labels[i] = o.label
		if def < 0 && supported[o.id] {
			def = i
		}
	}
	pick := -1
	if mfa := strings.TrimSpace(l.req.MFA); mfa != "" && !strings.EqualFold(mfa, "auto") {
		for i, o := range opts {
			if strings.EqualFold(o.id, mfa) || strings.Contains(strings.ToLower(o.label), strings.ToLower(mfa)) {
				pick = i
				break
			}
		}
		for i, o := range opts {
			if pick < 0 && o.id == duoAdapter && duo.IsMethod(mfa) {
				pick = i
			}
		}
		if pick < 0 {
			return nil, idp.Configf("adfs: mfa %q matches none of the methods AD FS offers (%s): set mfa to one of them or to auto",
				mfa, strings.Join(labels, ", "))
		}
	}
	if pick < 0 {
		i, err := l.in.Choose(ctx, "AD FS additional authentication method", labels, def)
		if err != nil {
			return nil, err
		}
		pick = i
	}
	f := idp.ParseForm(page, page.Doc.Find("form#options").First())
	if f == nil {
		return nil, l.w.PageError(page, "the authentication method choice has no form")
	}
	f.Values.Set("AuthMethod", opts[pick].id)
	if f.Method != http.MethodPost {
		f.Method = http.MethodPost
	}
	l.chose = true
	return l.w.Submit(ctx, f)
}

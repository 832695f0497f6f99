package browser

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/idp/form"
)

// tick is how often the page is looked at for a form to fill.
const tick = 150 * time.Millisecond

// flags are the browser's command-line switches beyond the user-data dir:
// a quiet first run, and nothing that phones home (in a closed network
// those calls stall on DNS, and nobody asked for them).
var flags = map[string]any{
	"no-first-run":                           true,
	"no-default-browser-check":               true,
	"disable-background-networking":          true,
	"disable-component-update":               true,
	"disable-sync":                           true,
	"disable-quic":                           true,
	"disable-default-apps":                   true,
	"disable-breakpad":                       true,
	"disable-domain-reliability":             true,
	"disable-client-side-phishing-detection": true,
	"no-pings":                               true,
	"metrics-recording-only":                 true,
	"password-store":                         "basic",
	"use-mock-keychain":                      true,
	"disable-features":                       "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,InterestFeedContentSuggestions",
}

// headlessOff are features a headless browser would start for nobody:
// Chrome preloads its omnibox popup, a WebUI page in a renderer of its
// own, at every start. Without it a headless login uses about a quarter
// less CPU and starts faster (docs/performance.md, "Test suite").
const headlessOff = ",WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup"

// browse runs one login in the browser and returns the SAMLResponse.
func (p *Provider) browse(ctx context.Context, req *idp.Request) (string, error) {
	start, err := p.startURL(req)
	if err != nil {
		return "", err
	}
	if u, err := url.Parse(start); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", idp.Configf("browser: url %q is not an absolute https url", idp.ShortURL(start))
	}
	exe, err := p.sys.find(p.cfg.Path)
	if err != nil {
		return "", err
	}
	data, err := p.prepareDir(req.Fresh)
	if err != nil {
		return "", err
	}
	interactive := idp.Interactive(req.Prompt)
	s := &session{p: p, req: req, in: idp.NewInputs(req), interactive: interactive,
		headless: p.cfg.Headless || !interactive || !p.sys.hasDisplay(), start: start}
	timeout := p.cfg.Timeout
	if !interactive {
		timeout = min(timeout, silentTimeout)
	}
	s.idle = min(timeout, silentTimeout)
	if p.idle > 0 {
		s.idle = min(timeout, p.idle)
	}
	s.trace("starting %s (%s) for %s, timeout %s", exe, map[bool]string{true: "headless", false: "window"}[s.headless], redact(start), timeout)

	tab, stop, err := p.start(ctx, exe, data, s.headless)
	if err != nil {
		return "", err
	}
	defer stop()
	s.tab, s.ctx = tab, ctx
	samlResp, err := s.run(ctx, timeout)
	if err != nil {
		return "", err
	}
	return samlResp, nil
}

// start launches the browser on the user-data directory data and returns
// its tab, and stop, which ends the browser and every process it left.
// With p.open set (tests) the tab opens in a browser shared by the tests.
func (p *Provider) start(ctx context.Context, exe, data string, headless bool) (context.Context, func(), error) {
	if p.open != nil {
		tab, stop := p.open(ctx)
		if err := chromedp.Do(tab); err != nil {
			stop()
			return nil, nil, fmt.Errorf("browser: open a tab: %v", err)
		}
		return tab, stop, nil
	}
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(exe), chromedp.UserDataDir(data), chromedp.ModifyCmdFunc(prepareCmd)}
	for k, v := range flags {
		if k == "disable-features" && headless {
			v = v.(string) + headlessOff
		}
		opts = append(opts, chromedp.Flag(k, v))
	}
	if headless {
		opts = append(opts, chromedp.Headless)
	} else {
		opts = append(opts, chromedp.WindowSize(1000, 800))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tab, cancelTab := chromedp.NewContext(actx)
	var pid int
	stop := func() {
		cancelTab()
		cancelAlloc()
		killAll(pid, data)
	}
	if err := chromedp.Do(tab); err != nil {
		stop()
		if ctx.Err() != nil {
			return nil, nil, ctx.Err() // interrupted while the browser started
		}
		return nil, nil, fmt.Errorf("browser: could not start %s: %v (set browser_path to a working Chrome or Chromium)", exe, err)
	}
	if c := chromedp.FromContext(tab); c != nil && c.Browser != nil && c.Browser.Process() != nil {
		pid = c.Browser.Process().Pid
	}
	return tab, stop, nil
}

// session is the state of one browser login.
type session struct {
	p           *Provider
	req         *idp.Request
	in          idp.Inputs
	tab         context.Context // the browser tab
	ctx         context.Context // the login's: prompts end with it
	start       string
	interactive bool
	headless    bool
	idle        time.Duration

	saml chan string

	doc, url, title string    // the page last looked at
	progress        time.Time // last new page or action
	noted           map[string]bool

	sent      map[string]string // form kind -> document it was submitted from
	errBefore map[string]string // form kind -> the page's error text then
	noUser    bool              // the username is not known: left to the person
}

// run restores the cookies, arms the interception, opens the start page
// and watches it until the SAMLResponse is posted.
func (s *session) run(ctx context.Context, timeout time.Duration) (string, error) {
	s.saml = make(chan string, 1)
	s.sent, s.errBefore, s.noted = map[string]string{}, map[string]string{}, map[string]bool{}
	tab := s.tab
	if err := chromedp.Listen(tab, s.onEvent); err != nil {
		return "", err
	}
	if _, err := chromedp.Call(tab, fetch.Enable, fetch.EnableParams{Patterns: patterns()}); err != nil {
		return "", fmt.Errorf("browser: enable interception: %w", err)
	}
	if s.req.Client != nil {
		if jar, ok := s.req.Client.Jar.(*idp.Jar); ok {
			if cs := toBrowser(jar.All()); len(cs) > 0 {
				if _, err := chromedp.CallBrowser(tab, storage.SetCookies, storage.SetCookiesParams{Cookies: cs, BrowserContextID: browserContext(tab)}); err != nil {
					s.trace("restoring %d cookies failed: %v", len(cs), err)
				}
			}
		}
	}
	if s.p.cfg.Passkey != nil {
		if err := s.p.cfg.Passkey.install(tab); err != nil {
			return "", err
		}
	}
	detached, err := chromedp.Detached(tab)
	if err != nil {
		return "", err
	}
	if _, err := chromedp.Call(tab, page.Navigate, page.NavigateParams{URL: s.start}); err != nil && !errors.Is(err, context.Canceled) {
		s.trace("navigate: %v", err)
	}
	s.progress = time.Now()
	var samlResp string
	poll := idp.Poller{Interval: tick, Timeout: timeout}
	err = poll.Poll(ctx, func(context.Context, int) (bool, error) {
		select {
		case v := <-s.saml:
			samlResp = v
			return true, nil
		case <-detached:
			return false, &ClosedError{URL: s.url}
		case <-tab.Done():
			return false, &ClosedError{URL: s.url}
		default:
		}
		if err := s.step(); err != nil {
			return false, err
		}
		// Headless, a page that stays put needs a person nobody can be.
		if s.headless && s.idle < timeout && time.Since(s.progress) > s.idle {
			return false, &HumanError{Title: s.title, URL: s.url, Interactive: s.interactive}
		}
		return false, nil
	})
	var te *idp.TimeoutError
	switch {
	case err != nil && ctx.Err() != nil:
		// Interrupted: the tab ends with ctx, so a look at it just after
		// the interrupt sees a closed window; the interrupt is the cause.
		return "", ctx.Err()
	case errors.As(err, &te) && !s.interactive:
		return "", &HumanError{Title: s.title, URL: s.url}
	case errors.As(err, &te):
		return "", &TimeoutError{After: timeout, Title: s.title, URL: s.url}
	case err != nil:
		return "", err
	}
	s.saveCookies()
	return samlResp, nil
}

// onEvent runs on chromedp's reader goroutine: hand work off, never block.
func (s *session) onEvent(ev any) {
	e, ok := ev.(*fetch.EventRequestPaused)
	if !ok {
		return
	}
	go s.paused(e)
}

// paused answers an intercepted request: the AWS SAML POST is taken and
// answered locally; anything else the patterns caught goes on.
func (s *session) paused(e *fetch.EventRequestPaused) {
	tab := s.tab
	r := e.Request
	if r != nil && r.Method == "POST" && isSignin(r.URL) {
		var body []byte
		for _, d := range r.PostDataEntries {
			body = append(body, d.Bytes...)
		}
		if v, ok := samlFromBody(body); ok {
			s.trace("intercepted the SAML POST to %s", redact(r.URL))
			chromedp.Call(tab, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: e.RequestID, ResponseCode: 200,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html; charset=utf-8"}, {Name: "Cache-Control", Value: "no-store"}},
				Body:            []byte(donePage)})
			select {
			case s.saml <- v:
			default:
			}
			return
		}
	}
	if r != nil && isSignin(r.URL) {
		// A GET of the sign-in page or a POST without an assertion: it
		// would reach AWS with nothing of ours; stop it here.
		chromedp.Call(tab, fetch.FailRequest, fetch.FailRequestParams{RequestID: e.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
		return
	}
	chromedp.Call(tab, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
}

// saveCookies puts every browser cookie in the login's jar, which the
// broker stores like any IdP session.
func (s *session) saveCookies() {
	if s.req.Client == nil || s.req.Client.Jar == nil {
		return
	}
	res, err := chromedp.CallBrowser(s.tab, storage.GetCookies, storage.GetCookiesParams{BrowserContextID: browserContext(s.tab)})
	if err != nil {
		s.trace("reading cookies failed: %v", err)
		return
	}
	fromBrowser(s.req.Client.Jar, res.Cookies, time.Now())
}

// browserContext is the tab's browser context: "" (the default one) in a
// browser of its own. The cookie calls go to the browser naming it (a tab
// may not name one), so a tab in a shared browser (tests) gets its own
// context's cookies, not the default one's.
func browserContext(tab context.Context) cdp.BrowserContextID {
	if c := chromedp.FromContext(tab); c != nil {
		return c.BrowserContextID
	}
	return ""
}

// snapshot is one look at the live page.
type snapshot struct {
	Doc   string `json:"doc"`
	URL   string `json:"url"`
	Title string `json:"title"`
	HTML  string `json:"html"`
	PgID  string `json:"pgid"` // Entra's $Config.pgid, else ""
	Ready string `json:"ready"`
}

// snapshotJS tags the inputs of the live page (data-s2s) and returns a
// copy of it in which inputs the user cannot see are type=hidden, error
// texts the user cannot see carry the hidden attribute, text inputs carry
// their live value, and no password value appears.
const snapshotJS = `(() => {
  const doc = window.__s2sDoc || (window.__s2sDoc = Math.random().toString(36).slice(2));
  const live = document.querySelectorAll('*');
  let n = 0;
  for (const el of live) { if (/^(INPUT|TEXTAREA|BUTTON|FORM|SELECT)$/.test(el.tagName)) el.setAttribute('data-s2s', String(n++)); }
  const clone = document.documentElement.cloneNode(true);
  const copy = [clone, ...clone.querySelectorAll('*')]; // live[0] is <html> too
  const shown = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) && getComputedStyle(el).visibility !== 'hidden';
  for (let i = 0; i < live.length && i < copy.length; i++) {
    const el = live[i], c = copy[i];
    if (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA') {
      const t = (el.getAttribute('type') || 'text').toLowerCase();
      if (t !== 'hidden' && !shown(el)) c.setAttribute('type', 'hidden');
      if (t === 'password') c.removeAttribute('value');
      else if (t !== 'hidden') c.setAttribute('value', el.value);
      if (el.disabled) c.setAttribute('disabled', '');
    } else if (/error|alert|feedback|message/i.test((el.id || '') + ' ' + (el.getAttribute('class') || '') + ' ' + (el.getAttribute('role') || '')) && !shown(el)) {
      c.setAttribute('hidden', '');
    }
  }
  for (const x of clone.querySelectorAll('script,style,template,noscript')) x.remove();
  const pgid = String((window.$Config && window.$Config.pgid) || '');
  return {doc, url: location.href, title: document.title, html: clone.outerHTML, pgid, ready: document.readyState};
})()`

// step looks at the page once and fills what it recognises.
func (s *session) step() error {
	if s.p.hook != nil {
		s.p.hook(s.tab)
	}
	snap, err := chromedp.Run(s.tab, chromedp.Evaluate[snapshot](snapshotJS))
	if err != nil {
		return nil // mid-navigation; look again
	}
	// A new path or title is progress; the same page again (an IdP
	// answering an automatic post with itself) is not.
	if idp.ShortURL(snap.URL) != idp.ShortURL(s.url) || snap.Title != s.title {
		s.trace("page %q %s", s.in.Scrub(snap.Title), redact(snap.URL))
		s.progress = time.Now()
	}
	s.doc, s.url, s.title = snap.Doc, snap.URL, snap.Title
	if u, err := url.Parse(snap.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil // about:blank, chrome-error://: nothing to fill
	}
	if snap.Ready == "loading" {
		// Still parsing: a login form may show only its first inputs yet
		// (a loaded machine once got the username posted on its own).
		return nil
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(snap.HTML))
	if err != nil {
		return nil
	}
	if sel := s.click(snap.PgID); sel != "" {
		if s.sent[snap.PgID] == "" && s.clicked(sel) {
			s.sent[snap.PgID] = snap.Doc
			s.progress = time.Now()
			s.trace("answered %s", snap.PgID)
		}
		return nil
	}
	f := form.Find(doc, s.req.Options, s.sent["login"] != "")
	if f.Kind == "" {
		return nil
	}
	if err := s.refused(f.Kind, snap.Doc, f.Error); err != nil {
		return err
	}
	if s.sent[f.Kind] != "" {
		return nil // sent; waiting for the next page
	}
	switch f.Kind {
	case "login":
		return s.fillLogin(snap.Doc, f)
	case "otp":
		return s.fillCode(snap.Doc, f)
	case "username":
		if s.noUser {
			return nil
		}
		name := s.username(f)
		if name == "" {
			return s.leave("username", "type your username in the browser window", idp.Configf("browser: the sign-in page needs a username: set username in the profile"))
		}
		if err := s.typeInto(f.Username, name); err != nil {
			return nil
		}
		return s.submit("username", snap.Doc, f, f.Username)
	}
	return nil
}

// click is the button that answers a page of Entra's by its pgid, "" for
// a page left to the form heuristics: "Stay signed in?" yes (so the
// session outlives the browser, as the headless adapter answers), and,
// with no --mfa-code, the MFA page's verify button, which starts the
// default method (a push the person approves on the phone).
func (s *session) click(pgid string) string {
	switch {
	case pgid == "KmsiInterrupt":
		return "#idSIButton9"
	case pgid == "ConvergedTFA" && !s.in.CodeGiven():
		return "#idSubmit_SAOTCC_Continue"
	}
	return ""
}

// clicked clicks the shown, enabled element sel, if the page has it.
func (s *session) clicked(sel string) bool {
	ok, err := chromedp.Run(s.tab, chromedp.Evaluate[bool](`(() => { const b = document.querySelector(`+strconv.Quote(sel)+`);
  if (!b || b.disabled || !(b.offsetWidth || b.offsetHeight || b.getClientRects().length)) return false;
  b.click(); return true; })()`))
	return err == nil && ok
}

// refusals say what a form shown again means when the page says nothing.
var refusals = map[string]string{
	"login":    "the login form was shown again after the password was sent: the IdP did not accept the username or password",
	"otp":      "the one-time code form was shown again: the code was not accepted",
	"username": "the username form was shown again: the IdP did not accept the username",
}

// refused reports the IdP turning down what was sent with form kind: the
// same form back in a new document, or a new error text in the same one
// (pages that post with fetch()).
func (s *session) refused(kind, doc, errText string) error {
	from, ok := s.sent[kind]
	if !ok {
		return nil
	}
	if doc == from && (errText == "" || errText == s.errBefore[kind]) {
		return nil // still the page it was sent from
	}
	return s.in.AuthError(errText, refusals[kind])
}

// fillLogin types the username (when the page does not already hold it)
// and the password, and submits.
func (s *session) fillLogin(doc string, f form.Fields) error {
	if f.Username != nil && !s.noUser {
		name := s.username(f)
		if name == "" {
			return s.leave("login", "type your username and password in the browser window", idp.Configf("browser: the sign-in page needs a username: set username in the profile"))
		}
		if strings.TrimSpace(f.Username.AttrOr("value", "")) != name {
			if err := s.typeInto(f.Username, name); err != nil {
				return nil
			}
		}
	}
	pw, err := s.in.Password(s.ctx, "Password")
	if err != nil {
		if errors.Is(err, idp.ErrNoTerminal) {
			return s.leave("login", "type your password in the browser window", err)
		}
		return err
	}
	if err := s.typeInto(f.Password, pw); err != nil {
		return nil
	}
	return s.submit("login", doc, f, f.Password)
}

// fillCode types --mfa-code, or a code asked on the terminal when nobody
// sees the page; with a window the person types it there.
func (s *session) fillCode(doc string, f form.Fields) error {
	var code string
	switch {
	case s.in.CodeGiven():
		code, _ = s.in.Code(s.ctx, nil)
	case s.headless:
		c, err := s.in.Code(s.ctx, func(ctx context.Context) (string, error) {
			return s.in.Prompt().Code(ctx, "One-time code ("+host(s.url)+")")
		})
		if err != nil {
			return err
		}
		code = c
	default:
		s.note("otp", "enter the one-time code in the browser window")
		return nil
	}
	if err := s.typeInto(f.Code, code); err != nil {
		return nil
	}
	return s.submit("otp", doc, f, f.Code)
}

func (s *session) username(f form.Fields) string {
	if s.req.Username != "" {
		return s.req.Username
	}
	if f.Username != nil {
		return strings.TrimSpace(f.Username.AttrOr("value", ""))
	}
	return ""
}

// leave hands a form to the person at the window; headless, err is the
// answer (nobody can type there).
func (s *session) leave(kind, what string, err error) error {
	if s.headless {
		return err
	}
	s.noUser = s.noUser || kind != "otp"
	s.note(kind, what)
	return nil
}

func (s *session) note(kind, what string) {
	if s.noted[kind] {
		return
	}
	s.noted[kind] = true
	if s.req.Notice != nil {
		fmt.Fprintf(s.req.Notice, "saml2sts: %s\n", what)
	}
}

// typeInto focuses the input, clears it and types v as a person would
// (input events fire, so script-driven forms see it). v never appears in
// any script or log.
func (s *session) typeInto(el *goquery.Selection, v string) error {
	id := el.AttrOr("data-s2s", "")
	if id == "" {
		return errors.New("no such input")
	}
	ok, err := chromedp.Run(s.tab, chromedp.Evaluate[bool](`(() => { const el = document.querySelector('[data-s2s="`+id+`"]');
  if (!el) return false; el.focus(); el.value = ''; el.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`))
	if err != nil || !ok {
		return errors.New("input gone")
	}
	_, err = chromedp.Call(s.tab, input.InsertText, input.InsertTextParams{Text: v})
	return err
}

// submit sends the form the way a person would: its submit button, else
// requestSubmit, else Enter in the input.
func (s *session) submit(kind, doc string, f form.Fields, in *goquery.Selection) error {
	s.sent[kind] = doc
	s.errBefore[kind] = f.Error
	s.progress = time.Now()
	s.trace("submitting the %s form", kind)
	id := in.AttrOr("data-s2s", "")
	how, err := chromedp.Run(s.tab, chromedp.Evaluate[string](`(() => { const el = document.querySelector('[data-s2s="`+id+`"]');
  if (!el) return 'gone';
  const f = el.form || el.closest('form');
  if (!f) return 'enter';
  const shown = b => !!(b.offsetWidth || b.offsetHeight || b.getClientRects().length);
  const b = [...f.querySelectorAll('button, input[type=submit], input[type=image]')].find(b =>
    !b.disabled && shown(b) && (b.tagName !== 'BUTTON' || (b.getAttribute('type') || 'submit').toLowerCase() === 'submit'));
  if (b) { b.click(); return 'click'; }
  if (f.requestSubmit) { f.requestSubmit(); } else { f.submit(); }
  return 'submit'; })()`))
	if err != nil || how != "enter" {
		return nil // a navigation may cut the answer short
	}
	for _, t := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeKeyDown, input.DispatchKeyEventTypeKeyUp} {
		p := input.DispatchKeyEventParams{Type: t, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
		if t == input.DispatchKeyEventTypeKeyDown {
			p.Text = "\r"
		}
		chromedp.Call(s.tab, input.DispatchKeyEvent, p)
	}
	return nil
}

// trace writes one --debug line; URLs go through redact.
func (s *session) trace(format string, a ...any) {
	if w := s.p.cfg.Trace; w != nil {
		fmt.Fprintf(w, "debug: browser "+format+"\n", a...)
	}
}

// redact hides secret-looking query values, as the HTTP trace does.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return idp.ShortURL(raw)
	}
	u.Fragment = ""
	return idp.RedactURL(u)
}

func host(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Hostname()
	}
	return ""
}

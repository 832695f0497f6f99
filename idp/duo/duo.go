package duo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/saml2sts/saml2sts/idp"
)

// KeyDevice is the profile key naming the Duo device to push to or call:
// its name as the prompt shows it ("iPhone"), the last digits of its
// number ("1234") or Duo's key for it ("phone2").
const KeyDevice = "duo_device"

const (
	// pollEvery is how often a push or call is polled; Duo's own prompt
	// polls about every second.
	pollEvery = time.Second
	// pushWait backstops Duo's own push timeout (60 s by default).
	pushWait = 3 * time.Minute
	// maxSteps bounds the pages between the hand-off and the prompt.
	maxSteps = 8
	// maxCodeTries is how many passcodes a person at a terminal may try.
	maxCodeTries = 3
)

// method is a Duo factor as saml2sts names it.
type method string

const (
	push     method = "push"
	call     method = "call"
	passcode method = "passcode"
	webauthn method = "webauthn"
)

// Flow runs Duo prompts. The zero Flow polls every second for up to three
// minutes on the request's clock (idp.Request.Clock); tests may shorten
// the waits.
type Flow struct {
	Interval time.Duration
	Timeout  time.Duration
	// Walker, when set, is the adapter's: Duo's pages are fetched through
	// it and count toward its page budget, so that an IdP that keeps
	// handing off to Duo ends like any other page loop.
	Walker *idp.Walker
}

// Login runs the Duo prompt that page hands off to (see [Flow.Login]).
func Login(ctx context.Context, req *idp.Request, in *idp.Inputs, page *idp.Page) (*idp.Page, error) {
	return (&Flow{}).Login(ctx, req, in, page)
}

// LoginURL follows rawURL, a link an IdP gives to Duo's prompt (Okta's
// Duo factor), and runs the prompt (see [Flow.Login]).
func LoginURL(ctx context.Context, req *idp.Request, in *idp.Inputs, rawURL string) (*idp.Page, error) {
	return (&Flow{}).LoginURL(ctx, req, in, rawURL)
}

// IsHandoff reports whether page hands the login to Duo: a page of Duo's
// prompt, or an IdP page whose form posts to Duo. Adapters ask it of
// every page they do not know.
func IsHandoff(page *idp.Page) bool {
	if page == nil || page.Doc == nil {
		return false
	}
	return handoffForm(page) != nil || pluginForm(page) != nil || open(nil, page, func(string) {}) != nil
}

// LoginURL is [LoginURL] with f's waits.
func (f *Flow) LoginURL(ctx context.Context, req *idp.Request, in *idp.Inputs, rawURL string) (*idp.Page, error) {
	r := newRun(f, req, in)
	page, err := r.w.Fetch(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, r.clean(err)
	}
	return r.login(ctx, page, true)
}

// Login answers the Duo prompt page hands off to and returns the first
// page back at the IdP (the SAML form, or the IdP's next step). The
// factor is req.MFA (push, passcode or totp, call; anything else means
// Duo's preferred one), a --mfa-code means passcode, and the device is the
// profile's duo_device or Duo's default. Duo refusing (a denied push, a
// wrong passcode, a timeout) is an [idp.AuthError] with Duo's own message.
func (f *Flow) Login(ctx context.Context, req *idp.Request, in *idp.Inputs, page *idp.Page) (*idp.Page, error) {
	return newRun(f, req, in).login(ctx, page, false)
}

func newRun(f *Flow, req *idp.Request, in *idp.Inputs) *run {
	w := f.Walker
	if w == nil {
		w = &idp.Walker{Name: "duo", Max: maxSteps, Client: req.Client, In: in}
	}
	return &run{f: f, req: req, in: in, w: w}
}

// run is one Duo login.
type run struct {
	f    *Flow
	req  *idp.Request
	in   *idp.Inputs
	w    *idp.Walker     // fetches and counts the pages (the adapter's, or Duo's own)
	sent map[string]bool // passcodes posted: never twice
	// codeGiven: a passcode came from --mfa-code, so a refusal is final.
	codeGiven bool
}

func (r *run) login(ctx context.Context, page *idp.Page, left bool) (*idp.Page, error) {
	p, back, err := r.enter(ctx, page, left)
	if err != nil || back != nil {
		return back, r.clean(err)
	}
	back, err = r.answer(ctx, p)
	return back, r.clean(err)
}

// enter walks from the hand-off to the prompt. left is true once a
// request toward Duo was made: a page that is not Duo's after that is the
// IdP again (Duo remembered this browser and asked nothing).
func (r *run) enter(ctx context.Context, page *idp.Page, left bool) (prompt, *idp.Page, error) {
	for steps := 0; ; steps++ {
		if p := open(r.req.Client, page, r.in.Secret); p != nil {
			if np, ok := p.(*newPrompt); ok {
				if err := np.load(ctx); err != nil {
					return nil, nil, r.fail(err)
				}
			}
			return p, nil, nil
		}
		var next *idp.Page
		var err error
		switch sel := pluginForm(page); {
		case steps >= maxSteps:
			return nil, nil, r.w.PageError(page, fmt.Sprintf("still no Duo prompt after %d pages", maxSteps))
		case sel != nil:
			next, err = r.w.Submit(ctx, idp.ParseForm(page, sel))
		case handoffForm(page) != nil:
			next, err = r.w.Submit(ctx, idp.ParseForm(page, handoffForm(page)))
		case returnForm(page) != nil:
			back, err := r.back(ctx, page)
			return nil, back, err
		case isDuoURL(page.URL):
			return nil, nil, r.w.PageError(page, idp.DeadEnd(page, "expected Duo's prompt", duoError(page)))
		case left:
			back, err := r.back(ctx, page)
			return nil, back, err
		default:
			return nil, nil, r.w.PageError(page, "expected a page that hands off to Duo")
		}
		if err != nil {
			return nil, nil, err
		}
		r.keepCode(next)
		page, left = next, true
	}
}

// answer picks the factor and device, sends the factor, waits for Duo's
// answer and leaves for the IdP.
func (r *run) answer(ctx context.Context, p prompt) (*idp.Page, error) {
	m, err := r.method(p)
	if err != nil {
		return nil, err
	}
	var d device
	if m != passcode {
		if d, err = r.device(ctx, p, m); err != nil {
			return nil, err
		}
	}
	for try := 1; ; try++ {
		code := ""
		if m == passcode {
			if code, err = r.code(ctx); err != nil {
				return nil, err
			}
		}
		tx, st, err := p.start(ctx, m, d, code)
		if err != nil {
			return nil, r.fail(err)
		}
		r.announce(m, d)
		if !st.done {
			if st, err = r.wait(ctx, p, m, tx, st.verify); err != nil {
				return nil, err
			}
		}
		if st.ok {
			page, err := p.finish(ctx, m, tx)
			if err != nil {
				return nil, r.fail(err)
			}
			r.keepCode(page)
			return r.back(ctx, page)
		}
		if m == passcode && try < maxCodeTries && !r.codeGiven && idp.Interactive(r.in.Prompt()) {
			r.in.Notice("Duo says %q: try another passcode", st.message)
			continue
		}
		return nil, r.in.AuthError("Duo says "+fmt.Sprintf("%q", st.message), "Duo refused the login")
	}
}

// methodNamed reads an mfa setting as a Duo factor ("" for auto and names
// of other factors, which leave the choice to Duo).
func methodNamed(mfa string) (method, bool) {
	switch strings.ToLower(strings.TrimSpace(mfa)) {
	case "push", "duo push":
		return push, true
	case "passcode", "totp", "code", "otp", "token":
		return passcode, true
	case "call", "phone", "voice", "phone call":
		return call, true
	case "webauthn", "security_key", "u2f", "fido":
		return webauthn, true
	}
	return "", false
}

// IsMethod reports whether mfa names a Duo factor: push, passcode (or
// totp), call, or webauthn (which needs --browser). Adapters that meet
// Duo accept these names in the profile's mfa.
func IsMethod(mfa string) bool {
	_, ok := methodNamed(mfa)
	return ok
}

// method is the factor to use: mfa when it names one, passcode with a
// --mfa-code, else Duo's preferred one (never WebAuthn, which needs a
// browser).
func (r *run) method(p prompt) (method, error) {
	can := map[method]bool{}
	for _, d := range p.devices() {
		for _, m := range d.methods {
			can[m] = true
		}
	}
	if len(can) == 0 || (len(can) == 1 && can[webauthn]) {
		return "", &idp.UnsupportedError{What: "Duo with only a security key or WebAuthn",
			Hint: "Duo offers this account no push, call or passcode; run again with --browser"}
	}
	want, _ := methodNamed(r.req.MFA)
	if want == webauthn {
		return "", &idp.UnsupportedError{What: "Duo WebAuthn (security key)", Hint: "a key needs a real browser; run again with --browser"}
	}
	if want == "" && r.in.CodeGiven() {
		want = passcode
	}
	if want != "" {
		if !can[want] {
			return "", idp.Configf("duo: mfa %q: Duo offers this account %s: set mfa to one of them or to auto", r.req.MFA, names(can))
		}
		return want, nil
	}
	if pm, _ := p.preferred(); pm != "" && pm != webauthn && can[pm] {
		return pm, nil
	}
	for _, m := range []method{push, call, passcode} {
		if can[m] {
			return m, nil
		}
	}
	return passcode, nil
}

func names(can map[method]bool) string {
	var out []string
	for _, m := range []method{push, call, passcode} {
		if can[m] {
			out = append(out, string(m))
		}
	}
	return strings.Join(out, ", ")
}

// device is the one to push to or call: duo_device's, else Duo's
// default, else the user's pick (the first without a terminal).
func (r *run) device(ctx context.Context, p prompt, m method) (device, error) {
	var ds []device
	for _, d := range p.devices() {
		if d.can(m) {
			ds = append(ds, d)
		}
	}
	if want := strings.TrimSpace(r.req.Options[KeyDevice]); want != "" {
		for _, d := range ds {
			if matchDevice(d, want) {
				return d, nil
			}
		}
		var list []string
		for _, d := range ds {
			list = append(list, fmt.Sprintf("%q", d.name))
		}
		return device{}, idp.Configf("duo: duo_device %q is none of your Duo devices that can %s (%s): set duo_device to one of them or remove it",
			want, m, strings.Join(list, ", "))
	}
	_, pref := p.preferred()
	for _, d := range ds {
		if d.key == pref {
			return d, nil
		}
	}
	labels := make([]string, len(ds))
	for i, d := range ds {
		labels[i] = d.name
	}
	i, err := r.in.Choose(ctx, "Duo device", labels, 0)
	if err != nil {
		return device{}, err
	}
	return ds[i], nil
}

func matchDevice(d device, want string) bool {
	w := strings.ToLower(want)
	n := strings.ToLower(d.name)
	return strings.EqualFold(d.key, want) || n == w || strings.Contains(n, w) ||
		(len(w) >= 2 && strings.Trim(w, "0123456789") == "" && strings.Contains(strings.TrimRight(n, ")"), w))
}

// code is the passcode: --mfa-code first, else asked; one never posted before.
func (r *run) code(ctx context.Context) (string, error) {
	given := r.in.CodeGiven()
	c, err := r.in.Code(ctx, func(ctx context.Context) (string, error) {
		return r.in.Prompt().Code(ctx, "Duo passcode (from Duo Mobile, a token or an SMS)")
	})
	if err != nil {
		return "", err
	}
	r.codeGiven = r.codeGiven || given
	if c == "" {
		return "", r.in.AuthError("", "no Duo passcode given")
	}
	if r.sent == nil {
		r.sent = map[string]bool{}
	}
	if r.sent[c] {
		return "", r.in.AuthError("", "that Duo passcode was already tried and refused; passcodes are never sent twice")
	}
	r.sent[c] = true
	return c, nil
}

// announce says what Duo is doing, so a wait on a phone is no mystery.
func (r *run) announce(m method, d device) {
	switch m {
	case push:
		r.in.Notice("Duo Push sent to %s: approve it in Duo Mobile", d.name)
	case call:
		r.in.Notice("Duo is calling %s: answer and follow the instructions", d.name)
	}
}

// wait polls a push or call until Duo answers, printing a Verified Push
// code the first time Duo shows one.
func (r *run) wait(ctx context.Context, p prompt, m method, tx, verify string) (state, error) {
	shown := ""
	show := func(code string) {
		if code != "" && code != shown {
			shown = code
			r.in.Notice("Duo Verified Push: enter %s in Duo Mobile to approve", code)
		}
	}
	show(verify)
	var last state
	err := r.poller().Poll(ctx, func(ctx context.Context, _ int) (bool, error) {
		st, err := p.status(ctx, m, tx)
		if err != nil {
			return false, r.fail(err)
		}
		show(st.verify)
		last = st
		return st.done, nil
	})
	var te *idp.TimeoutError
	if errors.As(err, &te) {
		return state{}, r.in.AuthError("", fmt.Sprintf("no answer to the Duo %s within %s", m, te.Waited))
	}
	return last, err
}

func (r *run) poller() idp.Poller {
	p := idp.Poller{Interval: r.f.Interval, Timeout: r.f.Timeout, Clock: r.req.Clock}
	if p.Interval <= 0 {
		p.Interval = pollEvery
	}
	if p.Timeout <= 0 {
		p.Timeout = pushWait
	}
	return p
}

// back submits the form that carries duo_code to the IdP, when Duo's
// redirect landed on one, and returns the IdP's page.
func (r *run) back(ctx context.Context, page *idp.Page) (*idp.Page, error) {
	r.keepCode(page)
	if f := returnForm(page); f != nil {
		return r.w.Submit(ctx, idp.ParseForm(page, f))
	}
	if isDuoURL(page.URL) {
		return nil, r.w.PageError(page, idp.DeadEnd(page, "Duo approved, but did not send the login back to the identity provider", duoError(page)))
	}
	return page, nil
}

// keepCode registers the duo_code and state a page or its URL carries.
func (r *run) keepCode(page *idp.Page) {
	if page == nil {
		return
	}
	q := page.URL.Query()
	r.in.Secret(q.Get(fieldCode))
	if q.Get(fieldCode) != "" {
		r.in.Secret(q.Get("state"))
	}
	if f := returnForm(page); f != nil {
		r.in.Secret(f.Find(`input[name="`+fieldCode+`"]`).AttrOr("value", ""))
		r.in.Secret(f.Find(`input[name="state"]`).AttrOr("value", ""))
	}
}

// fail wraps an error of talking to Duo; Duo's own refusals are AuthErrors.
func (r *run) fail(err error) error {
	var f *failure
	if errors.As(err, &f) {
		return r.in.AuthError(f.Error(), "")
	}
	return fmt.Errorf("duo: %w", err)
}

// clean scrubs Duo's secrets from a plain error; typed errors are built
// scrubbed.
func (r *run) clean(err error) error {
	if err == nil {
		return nil
	}
	var (
		ae *idp.AuthError
		pe *idp.PageError
		ue *idp.UnsupportedError
		ce *idp.ConfigError
	)
	if errors.As(err, &ae) || errors.As(err, &pe) || errors.As(err, &ue) || errors.As(err, &ce) || errors.Is(err, idp.ErrNoTerminal) {
		return err
	}
	if s := err.Error(); r.in.Scrub(s) != s {
		return errors.New(r.in.Scrub(s))
	}
	return err
}

package idp

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
)

// Form is an HTML form as a browser would submit it without the user
// touching it.
type Form struct {
	Action string // absolute URL
	Method string // GET or POST
	Values url.Values
}

// ParseForm reads the first form in sel. The action is resolved against the
// page URL (the page URL itself when the action is missing); the method
// defaults to POST. It copies named, enabled inputs that have a value
// attribute, checked checkboxes and radios (value "on" when they have
// none, as browsers send), textareas and selected options. Buttons and
// submit inputs are skipped: which one was "clicked" is the caller's call.
// sel may be the form or hold it; ParseForm returns nil when there is none.
func ParseForm(p *Page, sel *goquery.Selection) *Form {
	if sel == nil {
		return nil
	}
	if f := sel.Filter("form"); f.Length() > 0 {
		sel = f.First()
	} else {
		sel = sel.Find("form").First()
	}
	if sel.Length() == 0 {
		return nil
	}
	f := &Form{Action: resolve(p.URL, sel.AttrOr("action", "")), Method: http.MethodPost, Values: url.Values{}}
	if m := strings.ToUpper(strings.TrimSpace(sel.AttrOr("method", ""))); m == http.MethodGet {
		f.Method = m
	}
	sel.Find("input, textarea, select").Each(func(_ int, s *goquery.Selection) {
		name, ok := s.Attr("name")
		if !ok || name == "" {
			return
		}
		if _, disabled := s.Attr("disabled"); disabled {
			return
		}
		switch goquery.NodeName(s) {
		case "textarea":
			f.Values.Add(name, s.Text())
		case "select":
			opts := s.Find("option[selected]")
			if opts.Length() == 0 {
				if _, multi := s.Attr("multiple"); !multi {
					opts = s.Find("option").First()
				}
			}
			opts.Each(func(_ int, o *goquery.Selection) {
				v, ok := o.Attr("value")
				if !ok {
					v = Text(o)
				}
				f.Values.Add(name, v)
			})
		default:
			v, hasValue := s.Attr("value")
			switch strings.ToLower(s.AttrOr("type", "text")) {
			case "submit", "button", "image", "reset", "file":
				return
			case "checkbox", "radio":
				if _, checked := s.Attr("checked"); !checked {
					return
				}
				if !hasValue {
					v, hasValue = "on", true
				}
			}
			if hasValue {
				f.Values.Add(name, v)
			}
		}
	})
	return f
}

// resolve makes action absolute against base; the html parser has already
// decoded entities such as &amp;.
func resolve(base *url.URL, action string) string {
	action = strings.TrimSpace(action)
	if base == nil {
		return action
	}
	if action == "" {
		return base.String()
	}
	u, err := base.Parse(action)
	if err != nil {
		return action
	}
	return u.String()
}

// Submit sends the form and returns the page it leads to.
func (f *Form) Submit(ctx context.Context, c *http.Client) (*Page, error) {
	return Fetch(ctx, c, f.Method, f.Action, f.Values)
}

// SAMLResponse returns the value of the page's input named SAMLResponse
// (any letter case), the assertion an IdP posts to AWS.
func SAMLResponse(p *Page) (string, bool) {
	if p == nil || p.Doc == nil {
		return "", false
	}
	var v string
	p.Doc.Find("input").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if name, ok := s.Attr("name"); ok && strings.EqualFold(name, "SAMLResponse") {
			v = strings.TrimSpace(s.AttrOr("value", ""))
			return v == ""
		}
		return true
	})
	return v, v != ""
}

// AutoSubmitForm returns the form of a page that only exists to submit
// itself (body onload or window.onload calling submit) and that has exactly
// one form, so no JavaScript needs to run to know what it would send. It
// returns nil for any other page.
func AutoSubmitForm(p *Page) *goquery.Selection {
	if p == nil || p.Doc == nil {
		return nil
	}
	forms := p.Doc.Find("form")
	if forms.Length() != 1 {
		return nil
	}
	if strings.Contains(strings.ToLower(p.Doc.Find("body").AttrOr("onload", "")), "submit(") {
		return forms
	}
	auto := false
	p.Doc.Find("script").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		js := strings.ToLower(s.Text())
		auto = strings.Contains(js, "onload") && strings.Contains(js, "submit(")
		return !auto
	})
	if auto {
		return forms
	}
	return nil
}

package opensearchtest

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

const (
	acsPath    = "/_opendistro/_security/saml/acs/idpinitiated"
	proxyPath  = "/api/console/proxy"
	cookieName = "security_authentication"
	nsProtocol = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssert   = "urn:oasis:names:tc:SAML:2.0:assertion"
	attrRole   = "https://aws.amazon.com/SAML/Attributes/Role"
)

// session is a Dashboards login.
type session struct {
	subject string
	roles   []string
	expires time.Time
	parts   []string // cookie values: security_authentication, _saml1, _saml2...
}

func (s *Server) kibana() bool { return strings.HasPrefix(s.o.Dashboards.Path, "/_plugin/kibana") }

func (s *Server) dashboards(w http.ResponseWriter, r *http.Request, body []byte) {
	d := s.o.Dashboards
	sub := strings.TrimPrefix(r.URL.Path, d.Path)
	switch {
	case sub == acsPath && r.Method == http.MethodPost:
		s.acs(w, r, body)
	case sub == proxyPath && r.Method == http.MethodPost:
		s.consoleProxy(w, r, body)
	default:
		s.write(w, r, &reply{status: 404, body: []byte(`{"statusCode":404,"error":"Not Found","message":"Not Found"}`)}, false)
	}
}

func internalError() *reply {
	return &reply{status: 500, body: []byte(`{"statusCode":500,"error":"Internal Server Error","message":"An internal server error occurred."}`)}
}

// acs verifies an IdP-initiated SAMLResponse like the security plugin
// (signature, Destination/Recipient, Audience, validity, no InResponseTo)
// and answers 302 with the session cookies; any failure is a bare 500.
func (s *Server) acs(w http.ResponseWriter, r *http.Request, body []byte) {
	s.mu.Lock()
	s.st.ACSPosts++
	s.mu.Unlock()
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.write(w, r, internalError(), false)
		return
	}
	subject, roles, err := s.verifySAML(form.Get("SAMLResponse"))
	if err != nil {
		s.mu.Lock()
		s.st.Rejected["dashboards_saml"]++
		s.mu.Unlock()
		s.write(w, r, internalError(), false)
		return
	}
	d := s.o.Dashboards
	sess := &session{subject: subject, roles: roles, expires: s.o.Now().Add(d.SessionTTL)}
	// Since security-dashboards 2.7 the JWT is split over extra cookies;
	// a client must send them all back.
	n := 1
	if s.o.Engine == EngineOpenSearch2 {
		n = 3
	}
	for i := 0; i < n; i++ {
		sess.parts = append(sess.parts, newRequestID()+newRequestID())
	}
	s.mu.Lock()
	s.sessions[sess.parts[0]] = sess
	s.cookies = append(s.cookies, sess.parts...)
	s.st.DashboardsLogins++
	s.mu.Unlock()
	h := w.Header()
	setSessionCookies(h, sess)
	app := "/app/opensearch-dashboards"
	if s.kibana() {
		app = "/app/kibana"
	}
	h.Set("Location", d.Path+app)
	s.write(w, r, &reply{status: http.StatusFound, header: http.Header{"Content-Type": {"text/plain"}}}, false)
}

// verifySAML returns the subject and backend roles of a valid response.
func (s *Server) verifySAML(b64 string) (string, []string, error) {
	d := s.o.Dashboards
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil {
		return "", nil, fmt.Errorf("base64: %w", err)
	}
	if bytes.Contains(bytes.ToLower(raw), []byte("<!doctype")) {
		return "", nil, fmt.Errorf("DTD")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil || doc.Root() == nil {
		return "", nil, fmt.Errorf("xml")
	}
	root := doc.Root()
	if root.Tag != "Response" || root.NamespaceURI() != nsProtocol {
		return "", nil, fmt.Errorf("not a Response")
	}
	if root.SelectAttrValue("InResponseTo", "") != "" {
		return "", nil, fmt.Errorf("unsolicited response carries InResponseTo")
	}
	if dst := root.SelectAttrValue("Destination", ""); dst != "" && dst != s.ACSURL() {
		return "", nil, fmt.Errorf("destination %q", dst)
	}
	var as *etree.Element
	for _, c := range root.ChildElements() {
		if c.Tag == "Assertion" && c.NamespaceURI() == nsAssert {
			if as != nil {
				return "", nil, fmt.Errorf("several assertions")
			}
			as = c
		}
	}
	if as == nil {
		return "", nil, fmt.Errorf("no assertion")
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{d.IdPCert}})
	vc.Clock = dsig.NewFakeClockAt(d.IdPCert.NotBefore.Add(d.IdPCert.NotAfter.Sub(d.IdPCert.NotBefore) / 2))
	var verified *etree.Element
	if sig := as.FindElement("./Signature"); sig != nil {
		ctx, err := etreeutils.NSBuildParentContext(as)
		if err != nil {
			return "", nil, err
		}
		det, err := etreeutils.NSDetatch(ctx, as)
		if err != nil {
			return "", nil, err
		}
		if verified, err = vc.Validate(det); err != nil {
			return "", nil, fmt.Errorf("assertion signature: %w", err)
		}
	} else if root.FindElement("./Signature") != nil {
		v, err := vc.Validate(root)
		if err != nil {
			return "", nil, fmt.Errorf("response signature: %w", err)
		}
		verified = v.FindElement("./Assertion")
	}
	if verified == nil {
		return "", nil, fmt.Errorf("unsigned assertion")
	}
	now := s.o.Now()
	parse := func(v string) time.Time {
		t, _ := time.Parse(time.RFC3339Nano, v)
		return t
	}
	if c := verified.FindElement("./Conditions"); c != nil {
		if nb := c.SelectAttrValue("NotBefore", ""); nb != "" && now.Add(time.Minute).Before(parse(nb)) {
			return "", nil, fmt.Errorf("not yet valid")
		}
		if na := c.SelectAttrValue("NotOnOrAfter", ""); na != "" && !now.Before(parse(na)) {
			return "", nil, fmt.Errorf("expired")
		}
		ok := false
		for _, a := range c.FindElements("./AudienceRestriction/Audience") {
			ok = ok || strings.TrimSpace(a.Text()) == d.Audience
		}
		if !ok {
			return "", nil, fmt.Errorf("audience")
		}
	} else {
		return "", nil, fmt.Errorf("no conditions")
	}
	// The bearer confirmation must name this ACS (SAML profiles 4.1.4.2).
	scd := verified.FindElement("./Subject/SubjectConfirmation/SubjectConfirmationData")
	if scd == nil {
		return "", nil, fmt.Errorf("no SubjectConfirmationData")
	}
	if rcp := scd.SelectAttrValue("Recipient", ""); rcp != s.ACSURL() {
		return "", nil, fmt.Errorf("recipient %q", rcp)
	}
	if scd.SelectAttrValue("InResponseTo", "") != "" {
		return "", nil, fmt.Errorf("InResponseTo")
	}
	nameID := verified.FindElement("./Subject/NameID")
	if nameID == nil {
		return "", nil, fmt.Errorf("no NameID")
	}
	var roles []string
	for _, a := range verified.FindElements("./AttributeStatement/Attribute") {
		name := a.SelectAttrValue("Name", "")
		for _, v := range a.FindElements("./AttributeValue") {
			switch name {
			case d.RolesKey:
				roles = append(roles, strings.TrimSpace(v.Text()))
			case attrRole:
				for _, part := range strings.Split(v.Text(), ",") {
					if strings.Contains(part, ":role/") {
						roles = append(roles, strings.TrimSpace(part))
					}
				}
			}
		}
	}
	return strings.TrimSpace(nameID.Text()), roles, nil
}

// consoleProxy forwards to the cluster like OSD's /api/console/proxy.
func (s *Server) consoleProxy(w http.ResponseWriter, r *http.Request, body []byte) {
	hdr, alt := "osd-xsrf", "osd-version"
	if s.kibana() {
		hdr, alt = "kbn-xsrf", "kbn-version"
	}
	if r.Header.Get(hdr) == "" && r.Header.Get(alt) == "" {
		s.mu.Lock()
		s.st.Rejected[ReasonXSRF]++
		s.mu.Unlock()
		s.write(w, r, &reply{status: 400, body: fmt.Appendf(nil, `{"statusCode":400,"error":"Bad Request","message":"Request must contain a %s header."}`, hdr)}, false)
		return
	}
	sess := s.sessionOf(r)
	if sess == nil {
		s.mu.Lock()
		s.st.Rejected[ReasonNoSession]++
		s.mu.Unlock()
		s.write(w, r, &reply{status: 401, body: []byte(`{"statusCode":401,"error":"Unauthorized","message":"Authentication required"}`)}, false)
		return
	}
	q := r.URL.Query()
	method, path := strings.ToUpper(q.Get("method")), q.Get("path")
	switch {
	case path == "":
		s.write(w, r, &reply{status: 400, body: []byte(`{"statusCode":400,"error":"Bad Request","message":"[request query.path]: expected value of type [string] but got [undefined]"}`)}, false)
		return
	case method != "GET" && method != "POST" && method != "PUT" && method != "DELETE" && method != "HEAD":
		s.write(w, r, &reply{status: 400, body: fmt.Appendf(nil, `{"statusCode":400,"error":"Bad Request","message":"[request query.method]: expected value to equal [HEAD] but got [%s]"}`, jsonEsc(q.Get("method")))}, false)
		return
	}
	p, rawQuery, _ := strings.Cut(path, "?")
	p = "/" + strings.TrimLeft(p, "/")
	pq, _ := url.ParseQuery(rawQuery)
	pq.Set("pretty", "true")
	rq, err := newAPIReq(method, p, pq.Encode(), body)
	if err != nil {
		s.write(w, r, &reply{status: 400, body: []byte(`{"statusCode":400,"error":"Bad Request","message":"invalid path"}`)}, false)
		return
	}
	rq.caller = sess.subject
	if rej := s.authorize(sess.subject, rq); rej != nil {
		s.mu.Lock()
		s.st.Rejected[rej.reason]++
		s.mu.Unlock()
		s.write(w, r, &reply{status: rej.status, body: rej.body}, false)
		return
	}
	rp := s.api(rq)
	if json.Valid(rp.body) {
		var b bytes.Buffer
		if json.Indent(&b, rp.body, "", "  ") == nil {
			rp.body = append(b.Bytes(), '\n')
		}
	}
	if rp.header == nil {
		rp.header = http.Header{}
	}
	if rp.header.Get("Content-Type") == "" {
		rp.header.Set("Content-Type", "application/json; charset=utf-8")
	}
	// The security plugin's session keepalive (on by default) sets the
	// session cookies again on every answer.
	setSessionCookies(rp.header, sess)
	s.write(w, r, rp, false)
}

// setSessionCookies sets every cookie part of sess on h.
func setSessionCookies(h http.Header, sess *session) {
	for i, v := range sess.parts {
		name := cookieName
		if i > 0 {
			name = fmt.Sprintf("%s_saml%d", cookieName, i)
		}
		h.Add("Set-Cookie", (&http.Cookie{Name: name, Value: v, Path: "/", HttpOnly: true, Secure: false, Expires: sess.expires}).String())
	}
}

// DashboardsCookies returns the value of every Dashboards session cookie
// set so far (security_authentication and its _samlN parts), for leak
// checks.
func (s *Server) DashboardsCookies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cookies)
}

// sessionOf returns the live session whose every cookie part was sent.
func (s *Server) sessionOf(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[c.Value]
	if sess == nil {
		return nil
	}
	if !s.o.Now().Before(sess.expires) {
		delete(s.sessions, c.Value)
		return nil
	}
	for i := 1; i < len(sess.parts); i++ {
		p, err := r.Cookie(fmt.Sprintf("%s_saml%d", cookieName, i))
		if err != nil || p.Value != sess.parts[i] {
			return nil
		}
	}
	return sess
}

// ExpireDashboardsSessions ends every Dashboards session (the next proxy
// call is 401), as a session timeout would.
func (s *Server) ExpireDashboardsSessions() {
	s.mu.Lock()
	clear(s.sessions)
	s.mu.Unlock()
}

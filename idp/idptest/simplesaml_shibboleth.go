package idptest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// serveShib is the Shibboleth IdP: one endpoint, a Spring Web Flow whose
// pages are addressed by ?execution=eNsK. Every POST answers with a
// redirect to the next snapshot (post-redirect-get), as Shibboleth does.
func (s *SimpleSAML) serveShib(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == shibDuoCB {
		s.duoCallback(w, r)
		return
	}
	if r.URL.Path != shibSSO {
		s.shibError(w, http.StatusNotFound, "Web Login Service - Not Found", "The page you requested does not exist.")
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	exec := r.URL.Query().Get("execution")
	if exec == "" {
		s.shibStart(w, r)
		return
	}
	s.mu.Lock()
	st := s.shibState(r, exec)
	if st == nil {
		s.stats.Restarts++
		s.mu.Unlock()
		s.shibError(w, http.StatusOK, "Web Login Service - Stale Request",
			"You may be seeing this page because you used the Back button while browsing a secure web site or application. "+
				"Alternatively, you may have mistakenly bookmarked the web login form instead of the actual web site you wanted to access.")
		return
	}
	if r.Method != http.MethodPost {
		v := s.shibView(st)
		s.mu.Unlock()
		s.renderSSP(w, http.StatusOK, "shib-"+v["Show"].(string), v)
		return
	}
	if !r.PostForm.Has("_eventId_proceed") {
		// No transition event: the flow stays on the same page.
		v := s.shibView(st)
		s.mu.Unlock()
		s.renderSSP(w, http.StatusOK, "shib-"+v["Show"].(string), v)
		return
	}
	st.msg = ""
	switch st.show {
	case "read":
		st.show = "login"
	case "login":
		s.stats.PasswordPosts++
		u := s.users[r.PostForm.Get("j_username")]
		switch {
		case u == nil:
			st.msg = shibMsgUser
		case u.Password == "" || r.PostForm.Get("j_password") != u.Password:
			st.msg = shibMsgPass
		default:
			s.stats.Logins++
			st.user = u
			st.show = "write"
			if len(u.OTP) > 0 {
				st.show = "otp"
			}
		}
	case "otp":
		s.stats.OTPPosts++
		if c := r.PostForm.Get("j_tokenNumber"); c == "" || c != st.user.OTP[0].Code {
			st.msg = shibMsgCode
		} else {
			st.show = "write"
		}
	case "write":
		ss := s.newSession(w, r, st.user)
		st.done = true
		delete(s.states, st.id)
		s.mu.Unlock()
		s.post(w, ss, st.relay)
		return
	}
	st.snap++
	next := s.execURL(st)
	s.mu.Unlock()
	if st.show == "write" && s.toDuo(w, r, st, shibDuoCB) {
		return
	}
	http.Redirect(w, r, next, http.StatusFound)
}

// shibStart answers the unsolicited SSO request.
func (s *SimpleSAML) shibStart(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if sp := q.Get("providerId"); sp != clientID {
		s.shibError(w, http.StatusOK, "Web Login Service - Unsupported Request",
			"The application you have accessed is not registered for use with this service.")
		return
	}
	s.mu.Lock()
	if ss := s.session(r); ss != nil {
		s.stats.SessionReuses++
		s.mu.Unlock()
		s.post(w, ss, q.Get("target"))
		return
	}
	js := ""
	if c, err := r.Cookie("JSESSIONID"); err == nil && c.Value != "" {
		js = c.Value
	} else {
		js = strings.ToUpper(strings.ReplaceAll(newUUID(), "-", ""))
		http.SetCookie(w, s.cookie("JSESSIONID", js))
	}
	st := s.newState(q.Get("target"))
	st.snap, st.show, st.jsession = 1, "read", js
	next := s.execURL(st)
	s.mu.Unlock()
	http.Redirect(w, r, next, http.StatusFound)
}

// shibState finds the flow exec names, which must be its current snapshot
// and belong to r's JSESSIONID. Called with s.mu held.
func (s *SimpleSAML) shibState(r *http.Request, exec string) *authState {
	flow, snap, ok := strings.Cut(exec, "s")
	if !ok {
		return nil
	}
	st := s.states[flow]
	c, err := r.Cookie("JSESSIONID")
	if st == nil || st.done || err != nil || c.Value != st.jsession || snap != strconv.Itoa(st.snap) {
		return nil
	}
	return st
}

func (s *SimpleSAML) execURL(st *authState) string {
	return shibSSO + "?execution=" + url.QueryEscape(fmt.Sprintf("%ss%d", st.id, st.snap))
}

// shibView is what the current snapshot shows. Called with s.mu held.
func (s *SimpleSAML) shibView(st *authState) map[string]any {
	return map[string]any{"Show": st.show, "Action": s.execURL(st), "Error": st.msg}
}

func (s *SimpleSAML) shibError(w http.ResponseWriter, status int, title, msg string) {
	s.renderSSP(w, status, "shib-error", map[string]any{"Title": title, "Message": msg})
}

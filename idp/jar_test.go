package idp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// cookieNames returns the names=values the jar would send to u, sorted.
func cookieNames(j http.CookieJar, u *url.URL) string {
	var out []string
	for _, c := range j.Cookies(u) {
		out = append(out, c.Name+"="+c.Value)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestJarSurvivesRestart(t *testing.T) {
	// The server plays a Keycloak login: cookies are set, replaced and
	// deleted over several responses, as across a real flow.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/realms/x/login":
			http.SetCookie(w, &http.Cookie{Name: "AUTH_SESSION_ID", Value: "a1", Path: "/realms/x/"})
			http.SetCookie(w, &http.Cookie{Name: "KC_RESTART", Value: "r1", Path: "/realms/x/"})
			http.SetCookie(w, &http.Cookie{Name: "OLD", Value: "gone", Path: "/", Expires: time.Now().Add(-time.Hour)})
		case "/realms/x/done":
			http.SetCookie(w, &http.Cookie{Name: "AUTH_SESSION_ID", Value: "a2", Path: "/realms/x/"}) // replaces a1
			http.SetCookie(w, &http.Cookie{Name: "KC_RESTART", Value: "", Path: "/realms/x/", MaxAge: -1})
			http.SetCookie(w, &http.Cookie{Name: "KEYCLOAK_IDENTITY", Value: "id", Path: "/realms/x/", MaxAge: 3600})
			http.SetCookie(w, &http.Cookie{Name: "KEYCLOAK_SESSION", Value: "s", Path: "/realms/x/",
				Expires: time.Now().Add(time.Hour)})
		}
		// Echo what the client sent so the test sees the jar from outside.
		var got []string
		for _, c := range r.Cookies() {
			got = append(got, c.Name+"="+c.Value)
		}
		sort.Strings(got)
		w.Write([]byte(strings.Join(got, " ")))
	}))
	defer srv.Close()

	first, err := NewJar(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Empty() {
		t.Fatal("new jar is not empty")
	}
	c := NewClient(nil, first)
	for _, p := range []string{"/realms/x/login", "/realms/x/done"} {
		if _, err := Fetch(t.Context(), c, "GET", srv.URL+p, nil); err != nil {
			t.Fatal(err)
		}
	}
	saved := first.Export()

	// A later process.
	second, err := NewJar(saved)
	if err != nil {
		t.Fatalf("NewJar(saved): %v", err)
	}
	if second.Empty() {
		t.Fatal("restored jar is empty")
	}
	p, err := Fetch(t.Context(), NewClient(nil, second), "GET", srv.URL+"/realms/x/again", nil)
	if err != nil {
		t.Fatal(err)
	}
	const want = "AUTH_SESSION_ID=a2 KEYCLOAK_IDENTITY=id KEYCLOAK_SESSION=s"
	if got := string(p.Body); got != want {
		t.Errorf("restored jar sent %q, want %q", got, want)
	}

	var s savedJar
	if err := json.Unmarshal(saved, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Cookies) != 3 {
		t.Errorf("export holds %d cookies, want 3 (latest only, no deleted or expired): %s", len(s.Cookies), saved)
	}
	for _, r := range s.Cookies {
		if r.Name == "KEYCLOAK_IDENTITY" && (r.Expires == nil || time.Until(*r.Expires) > time.Hour+time.Minute) {
			t.Errorf("Max-Age cookie saved with expiry %v, want about an hour from now", r.Expires)
		}
		if r.Name == "AUTH_SESSION_ID" && r.Expires != nil {
			t.Errorf("session cookie saved with an expiry %v", r.Expires)
		}
	}
	// Exporting a restored jar gives the same cookies again.
	if again := second.Export(); string(again) != string(saved) {
		t.Errorf("re-export differs:\n got %s\nwant %s", again, saved)
	}
}

func TestJarExpiresWhileSaved(t *testing.T) {
	j, _ := NewJar(nil)
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	j.now = func() time.Time { return now }
	u, _ := url.Parse("https://id.example.com/realms/x/protocol/saml/clients/aws")
	j.SetCookies(u, []*http.Cookie{
		{Name: "short", Value: "1", MaxAge: 60},
		{Name: "session", Value: "2"},
	})
	if got := len(j.live()); got != 2 {
		t.Fatalf("live cookies = %d, want 2", got)
	}
	now = now.Add(2 * time.Minute)
	saved := j.Export()
	if strings.Contains(string(saved), `"short"`) {
		t.Errorf("expired cookie exported: %s", saved)
	}
	if !strings.Contains(string(saved), `"session"`) {
		t.Errorf("session cookie dropped: %s", saved)
	}
}

func TestJarDomainAndPath(t *testing.T) {
	j, _ := NewJar(nil)
	set := func(raw string, c *http.Cookie) {
		u, _ := url.Parse(raw)
		j.SetCookies(u, []*http.Cookie{c})
	}
	set("https://id.example.com/realms/x/one", &http.Cookie{Name: "a", Value: "1"})
	set("https://id.example.com/realms/x/other", &http.Cookie{Name: "a", Value: "2"}) // same default path /realms/x
	set("https://id.example.com/realms/x/login", &http.Cookie{Name: "a", Value: "3", Path: "/"})
	set("https://id.example.com/", &http.Cookie{Name: "d", Value: "4", Domain: ".example.com"})
	set("https://sso.example.com/", &http.Cookie{Name: "d", Value: "5", Domain: "example.com"}) // same domain cookie

	saved := j.Export()
	restored, err := NewJar(saved)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("https://id.example.com/realms/x/anything")
	if got, want := cookieNames(restored, u), "a=2 a=3 d=5"; got != want {
		t.Errorf("cookies for %s = %q, want %q", u, got, want)
	}
	u, _ = url.Parse("https://other.example.com/")
	if got, want := cookieNames(restored, u), "d=5"; got != want {
		t.Errorf("cookies for %s = %q, want %q", u, got, want)
	}
	if n := strings.Count(string(saved), `"name"`); n != 3 {
		t.Errorf("export holds %d cookies, want 3: %s", n, saved)
	}
}

func TestNewJarBadInput(t *testing.T) {
	tests := []struct {
		name    string
		saved   string
		wantErr bool
		empty   bool
	}{
		{"nil", "", false, true},
		{"not json", "{oops", true, true},
		{"other version", `{"version":99,"cookies":[{"url":"https://a.example/","name":"x","value":"1"}]}`, true, true},
		{"bad entries skipped", `{"version":1,"cookies":[null,{"url":"ftp://a/","name":"x"},{"url":"https://a.example/","name":"y","value":"1"}]}`, true, false},
		{"empty list", `{"version":1,"cookies":[]}`, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := NewJar([]byte(tt.saved))
			if j == nil {
				t.Fatal("NewJar returned a nil jar")
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error %v", err, tt.wantErr)
			}
			if j.Empty() != tt.empty {
				t.Errorf("Empty() = %v, want %v", j.Empty(), tt.empty)
			}
			// The jar is usable either way.
			u, _ := url.Parse("https://a.example/")
			j.SetCookies(u, []*http.Cookie{{Name: "z", Value: "9"}})
			if !strings.Contains(cookieNames(j, u), "z=9") {
				t.Error("jar does not work after a bad restore")
			}
		})
	}
}

package secretservice

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// script is one recorded exchange with a real gnome-keyring (see
// TestRealCapture): what the client wrote, in writes, and what the
// server had sent after each write.
type script struct {
	Note    string              `json:"note"`
	Queries []map[string]string `json:"queries"`
	Client  [][]byte            `json:"client"`
	Server  [][]byte            `json:"server"`
	Want    []Result            `json:"want"`
	Err     string              `json:"err,omitempty"`
}

// player is a bus socket that answers write i with server[i].
type player struct {
	server [][]byte
	writes [][]byte
	buf    []byte
}

func (p *player) Write(b []byte) (int, error) {
	p.writes = append(p.writes, append([]byte(nil), b...))
	if i := len(p.writes) - 1; i < len(p.server) {
		p.buf = append(p.buf, p.server[i]...)
	}
	return len(b), nil
}

func (p *player) Read(b []byte) (int, error) {
	if len(p.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(b, p.buf)
	p.buf = p.buf[n:]
	return n, nil
}

func loadScripts(t testing.TB) map[string]script {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	if len(files) == 0 {
		t.Fatal("no testdata/*.json")
	}
	out := map[string]script{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var s script
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = s
	}
	return out
}

// TestReplay: the exchanges recorded against gnome-keyring replay to the
// same results, and the client writes byte for byte what gnome-keyring
// accepted (the marshaller's golden output).
func TestReplay(t *testing.T) {
	t.Parallel()
	for name, s := range loadScripts(t) {
		t.Run(name, func(t *testing.T) {
			p := &player{server: s.Server}
			got, err := exchange(p, 0, "", LoginCollection, s.Queries)
			if s.Err != "" {
				if err == nil || !errors.Is(err, ErrUnsupported) || err.Error() != s.Err {
					t.Fatalf("err = %v, want %q", err, s.Err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !equalResults(got, s.Want) {
				t.Errorf("results %+v, want %+v", got, s.Want)
			}
			if len(p.writes) != len(s.Client) {
				t.Fatalf("%d writes, recorded %d", len(p.writes), len(s.Client))
			}
			for i := range s.Client {
				if string(p.writes[i]) != string(s.Client[i]) {
					t.Errorf("write %d differs from the recording:\n got %q\nwant %q", i, p.writes[i], s.Client[i])
				}
			}
		})
	}
}

func equalResults(a, b []Result) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Found != b[i].Found || string(a[i].Secret) != string(b[i].Secret) {
			return false
		}
	}
	return true
}

package cache

import (
	"testing"
	"time"
)

func TestFresh(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	w := 15 * time.Minute
	tests := []struct {
		name string
		exp  time.Time
		want bool
	}{
		{"well inside", now.Add(time.Hour), true},
		{"window plus 1ns", now.Add(w + 1), true},
		{"exactly window", now.Add(w), false},
		{"window minus 1s", now.Add(w - time.Second), false},
		{"expired", now.Add(-time.Minute), false},
		{"zero expiration", time.Time{}, false},
		{"other zone", now.Add(time.Hour).In(time.FixedZone("X", 5*3600)), true},
	}
	for _, tt := range tests {
		if got := Fresh(tt.exp, now, w); got != tt.want {
			t.Errorf("%s: Fresh = %v, want %v", tt.name, got, tt.want)
		}
	}
	if !Fresh(now.Add(time.Second), now, 0) || Fresh(now, now, 0) {
		t.Error("zero window: fresh must mean not yet expired")
	}
}

func TestUsable(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		exp  time.Time
		want bool
	}{
		{"inside refresh window", now.Add(10 * time.Minute), true},
		{"margin plus 1s", now.Add(Margin + time.Second), true},
		{"margin plus 1ns", now.Add(Margin + 1), true},
		{"exactly margin", now.Add(Margin), false},
		{"30s left", now.Add(30 * time.Second), false},
		{"expired", now.Add(-time.Second), false},
		{"zero expiration", time.Time{}, false},
	}
	for _, tt := range tests {
		if got := Usable(tt.exp, now); got != tt.want {
			t.Errorf("%s: Usable = %v, want %v", tt.name, got, tt.want)
		}
	}
	if Margin != time.Minute {
		t.Errorf("Margin = %v, want 1m", Margin)
	}
}

func TestKeys(t *testing.T) {
	if CredsKey("dev") != "creds/dev" || SessionKey("dev") != "session/dev" {
		t.Fatalf("CredsKey %q SessionKey %q", CredsKey("dev"), SessionKey("dev"))
	}
}

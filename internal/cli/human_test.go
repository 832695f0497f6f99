package cli

import (
	"testing"
	"time"
)

func TestHuman(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "<1m"}, {29 * time.Second, "<1m"}, {59*time.Minute + 50*time.Second, "1h"},
		{time.Hour, "1h"}, {65 * time.Minute, "1h5m"}, {59 * time.Minute, "59m"}, {12 * time.Hour, "12h"},
	}
	for _, tt := range tests {
		if got := human(tt.d); got != tt.want {
			t.Errorf("human(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

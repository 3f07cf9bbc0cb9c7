package room

import (
	"strings"
	"testing"
	"time"
)

// Attack (by mistake as much as on purpose): a duration the room does not
// understand ("1w" before weeks existed, "10", "0m", "-5m") made the ban
// permanent, with the word folded into the reason. Every word that starts
// like a duration must now be one, or be refused.
func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	for _, tt := range []struct {
		in   string
		want time.Duration // 0: refused
	}{
		{"10s", 10 * time.Second},
		{"10m", 10 * time.Minute},
		{"2h", 2 * time.Hour},
		{"3d", 3 * day},
		{"1w", 7 * day},
		{"1h30m", 90 * time.Minute},
		{"2d12h", 60 * time.Hour},
		{"1w2d3h4m5s", 9*day + 3*time.Hour + 4*time.Minute + 5*time.Second},
		{"90m", 90 * time.Minute},
		{"52w", 364 * day},
		{"365d", 365 * day},
		{"8760h", 365 * day},

		{"366d", 0}, {"53w", 0}, {"52w2d", 0}, {"999999999w", 0}, {"9999999999s", 0},
		{"0m", 0}, {"0s", 0}, {"0d0h", 0},
		{"-5m", 0}, {"+5m", 0}, {"10", 0}, {"1x", 0}, {"1.5h", 0}, {"30m1h", 0}, {"1h1h", 0},
		{"1hh", 0}, {"1h ", 0}, {"h", 0}, {"", 0}, {"1H", 0}, {"1ms", 0}, {"1µs", 0}, {"٣d", 0},
	} {
		got, err := parseDuration(tt.in)
		switch {
		case tt.want == 0 && err == nil:
			t.Errorf("parseDuration(%q) = %v, want an error", tt.in, got)
		case tt.want != 0 && (err != nil || got != tt.want):
			t.Errorf("parseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		case err != nil && (strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), durationHelp)):
			t.Errorf("parseDuration(%q)'s error is not the one-line help: %v", tt.in, err)
		}
	}
}

// What is a duration attempt, refused when not valid, and what is the
// first word of a reason.
func TestLooksLikeDuration(t *testing.T) {
	for _, w := range []string{"1", "1w", "10", "0m", "-5m", "+1h", "-1", "9lives"} {
		if !looksLikeDuration(w) {
			t.Errorf("looksLikeDuration(%q) = false, want true", w)
		}
	}
	for _, w := range []string{"", "spam", "-", "--addr", "+", "-x", "w1", "h"} {
		if looksLikeDuration(w) {
			t.Errorf("looksLikeDuration(%q) = true, want false", w)
		}
	}
}

// Until when a sanction holds, as the confirmations say it: the time today,
// the weekday within the week, the date beyond, or the command that lifts
// it; in the location of the room's clock.
func TestUntil(t *testing.T) {
	now := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC) // a Friday
	for _, tt := range []struct {
		end  time.Time
		want string
	}{
		{time.Time{}, "until /unban"},
		{now.Add(90 * time.Minute), "until 16:39"},
		{time.Date(2025, 3, 14, 23, 59, 0, 0, time.UTC), "until 23:59"},
		{now.Add(9 * time.Hour), "until Sat 00:09"},
		{now.Add(3 * 24 * time.Hour), "until Mon 15:09"},
		{time.Date(2025, 3, 20, 23, 0, 0, 0, time.UTC), "until Thu 23:00"},
		{time.Date(2025, 3, 21, 9, 0, 0, 0, time.UTC), "until 2025-03-21 09:00"},
		{now.Add(365 * 24 * time.Hour), "until 2026-03-14 15:09"},
		// Saved in another zone, shown in the clock's.
		{time.Date(2025, 3, 14, 18, 30, 0, 0, time.FixedZone("X", 2*3600)), "until 16:30"},
	} {
		if got := until(now, tt.end, "/unban"); got != tt.want {
			t.Errorf("until(%v) = %q, want %q", tt.end, got, tt.want)
		}
	}
	// The host's zone, whatever the clock's time is given in.
	zone := time.FixedZone("host", -5*3600)
	if got := until(now.In(zone), now.Add(time.Hour), ""); got != "until 11:09" {
		t.Errorf("until in the host's zone = %q, want until 11:09", got)
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"1w", "1h30m", "10", "-5m", "52w1d", "0m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDuration(s)
		if err == nil && (d <= 0 || d > maxBan) {
			t.Fatalf("parseDuration(%q) = %v, out of (0, a year]", s, d)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("parseDuration(%q)'s error has a newline: %q", s, err)
		}
	})
}

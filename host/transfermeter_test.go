package host

import (
	"testing"
	"time"
)

// The meter's rate is what moved over the last window: none before a
// transfer is a window old; a steady pace as it is; a burst followed by
// nothing (a peer that stopped reading once the kernel's buffers were
// full) falls to nothing once the burst is a window behind, not once the
// average since the start falls below the bar.
func TestTransferMeter(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	const window = 10 * time.Second

	steady := newTransferMeter(t0, window)
	for i := 1; i <= 300; i++ {
		steady.add(at(time.Duration(i)*100*time.Millisecond), 1000) // 10 kB/s
		if _, ok := steady.rate(at(time.Duration(i) * 100 * time.Millisecond)); ok != (i >= 100) {
			t.Fatalf("at %v: rate known %v; want it known from a window on", time.Duration(i)*100*time.Millisecond, ok)
		}
	}
	if r, _ := steady.rate(at(30 * time.Second)); r < 9_000 || r > 11_000 {
		t.Errorf("steady 10 kB/s: rate %.0f", r)
	}
	if n := len(steady.samples); n > 13 {
		t.Errorf("%d samples kept; want about a window's worth (11)", n)
	}

	burst := newTransferMeter(t0, window)
	burst.add(at(time.Second), 100<<20) // 100 MiB at once, then nothing
	if r, ok := burst.rate(at(10 * time.Second)); !ok || r < 1<<20 {
		t.Errorf("a window after a burst that is still in it: %.0f, %v; want fast", r, ok)
	}
	if r, ok := burst.rate(at(12 * time.Second)); !ok || r != 0 {
		t.Errorf("a window past the burst, nothing since: %.0f, %v; want 0", r, ok)
	}

	trickle := newTransferMeter(t0, window)
	trickle.add(at(time.Second), 100<<20)
	for i := 2; i <= 60; i++ {
		trickle.add(at(time.Duration(i)*time.Second), 1000) // 1 kB/s after the burst
	}
	if r, _ := trickle.rate(at(60 * time.Second)); r > 2000 {
		t.Errorf("a trickle after a burst a minute ago: %.0f; want about 1 kB/s", r)
	}
}

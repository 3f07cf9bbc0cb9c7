package join

import (
	"testing"
	"time"

	"chatroom/host/wire"
)

// The pacer lets a burst through at once, then spaces lines out a little
// slower than the host's rate, and never lets more through in any stretch
// of time than the host's bucket would accept.
func TestPacer(t *testing.T) {
	limits := &wire.Limits{Burst: 10, PerSecond: 2}
	p := newPacer(limits)
	start := time.Unix(1e9, 0)
	var sendAt []time.Time
	now := start
	for range 30 {
		wait := p.reserve(now)
		sendAt = append(sendAt, now.Add(wait))
	}
	for i := range 9 {
		if !sendAt[i].Equal(start) {
			t.Fatalf("line %d of the burst waits %v", i, sendAt[i].Sub(start))
		}
	}
	for i := 10; i < len(sendAt); i++ {
		gap := sendAt[i].Sub(sendAt[i-1])
		if gap < time.Duration(float64(time.Second)/limits.PerSecond) {
			t.Fatalf("lines %d and %d are %v apart, faster than the host allows", i-1, i, gap)
		}
	}
	// Replay the send times through the host's own bucket: none refused.
	tokens, at := float64(limits.Burst), start
	for i, ts := range sendAt {
		tokens = min(float64(limits.Burst), tokens+ts.Sub(at).Seconds()*limits.PerSecond)
		at = ts
		if tokens < 1 {
			t.Fatalf("the host would refuse line %d", i)
		}
		tokens--
	}
	if newPacer(nil).reserve(start) != 0 {
		t.Fatal("no limits, yet a wait")
	}
}

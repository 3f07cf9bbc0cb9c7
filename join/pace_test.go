package join

import (
	"math"
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

// TestPacerHostileLimits stands for a room that announces limits no room
// means: 1e-9 lines a second left the person's lines, /quit among them,
// queued for years; a huge or negative burst or rate, or one that is not
// a number, must neither stall the client nor break its arithmetic. Each
// line of a long paste waits no longer than the slowest rate the client
// accepts allows, however slow the room says it is.
func TestPacerHostileLimits(t *testing.T) {
	longestWait := time.Duration(math.Ceil(float64(time.Second) / (minPerSecond * paceMargin)))
	for _, l := range []wire.Limits{
		{Burst: 1, PerSecond: 1e-9},
		{Burst: 10, PerSecond: 5e-324},
		{Burst: 1, PerSecond: 0.01},
		{Burst: math.MaxInt, PerSecond: 1e300},
		{Burst: math.MaxInt, PerSecond: math.SmallestNonzeroFloat64},
		{Burst: 10, PerSecond: math.NaN()},
		{Burst: 10, PerSecond: math.Inf(1)},
		{Burst: 10, PerSecond: math.Inf(-1)},
		{Burst: -10, PerSecond: 2},
		{Burst: math.MinInt, PerSecond: -1},
	} {
		p := newPacer(&l)
		now := time.Unix(1e9, 0)
		for i := range 5000 {
			wait := p.reserve(now)
			if wait < 0 || wait > longestWait {
				t.Fatalf("limits %+v: line %d waits %v, want at most %v", l, i, wait, longestWait)
			}
			now = now.Add(wait)
		}
		if p != nil && (p.burst > maxBurst || p.perSecond > maxPerSecond) {
			t.Errorf("limits %+v: paced at a burst of %v and %v a second", l, p.burst, p.perSecond)
		}
	}
}

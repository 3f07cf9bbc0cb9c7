package join

import (
	"math"
	"time"

	"chatroom/host/wire"
)

// pacer keeps a client within the rate its room announced (wire.Limits),
// so that a pasted block of many lines is sent whole, in order, at the
// pace the host accepts, instead of being refused past the burst. It runs
// a token bucket like the host's, a little slower, because lines can
// arrive closer together than they were sent.
//
// It is not a rate.Limiter (as the IRC gateway's pace is) so that it
// cannot get ahead of the host's bucket, whose arithmetic it repeats
// (TestPacer replays its times through it): a clock set back is a debt
// here, paid as the clock goes forward again, where a Limiter refills
// that span once more. It is also part of outgoing, a plain value that
// one goroutine owns and tests drive by the time they pass: nil is no
// limit, and there is no lock.
type pacer struct {
	burst, perSecond float64
	tokens           float64
	at               time.Time
}

// paceMargin is how much slower than the host's limit the client sends.
const paceMargin = 0.9

// The ranges within which the client takes a room's limits. The host's
// default is a burst of 10 and 2 lines a second (room.DefaultLimits). A
// slower rate, down to one line in a thousand years, would leave lines,
// the person's last ones among them, queued for good; a faster one, or a
// larger burst, is no limit to a person, and is taken as the largest that
// still means something.
const (
	minPerSecond = 0.2 // one line every five seconds
	maxPerSecond = 1000
	maxBurst     = 1000
)

// saneLimits returns the limits the client keeps to for what the room
// announced: nil, no limit, when it sets none (a burst or rate of zero or
// less, or not a number), otherwise l within the ranges above.
func saneLimits(l *wire.Limits) *wire.Limits {
	if l == nil || l.Burst <= 0 || !(l.PerSecond > 0) || math.IsInf(l.PerSecond, 1) {
		return nil
	}
	return &wire.Limits{
		Burst:     min(l.Burst, maxBurst),
		PerSecond: min(max(l.PerSecond, minPerSecond), maxPerSecond),
	}
}

func newPacer(announced *wire.Limits) *pacer {
	l := saneLimits(announced)
	if l == nil {
		return nil // the room sets no limit
	}
	burst := max(float64(l.Burst-1), 1)
	return &pacer{burst: burst, perSecond: l.PerSecond * paceMargin, tokens: burst}
}

// same reports whether p and q pace alike (both nil: no limit).
func (p *pacer) same(q *pacer) bool {
	if p == nil || q == nil {
		return p == q
	}
	return p.burst == q.burst && p.perSecond == q.perSecond
}

// reserve takes a token for a line to be sent at now or later, and returns
// how long to wait before sending it.
func (p *pacer) reserve(now time.Time) time.Duration {
	if p == nil {
		return 0
	}
	if !p.at.IsZero() {
		p.tokens = min(p.burst, p.tokens+now.Sub(p.at).Seconds()*p.perSecond)
	}
	p.at = now
	p.tokens--
	if p.tokens >= 0 {
		return 0
	}
	return time.Duration(-p.tokens / p.perSecond * float64(time.Second))
}

package host

import (
	"net/netip"
	"sync"
	"time"
)

// passwordThrottle makes guessing the admin password slow, however many
// addresses the guesser has. Two budgets gate every check of a password:
//
//   - per network prefix (an IPv4 /24, an IPv6 /64, which one machine can
//     fill with addresses of its own): a couple of tries, then each one
//     only after a delay that doubles with every try, up to maxDelay;
//   - room-wide: a bucket of roomTries tries, refilled by one every
//     roomRefill. This is what bounds an attacker with unlimited
//     addresses: in any span of time T at most roomTries + T/roomRefill
//     passwords are checked, 10 + 60 = 70 in an hour.
//
// A try that finds either budget spent is refused before the password is
// looked at, so a guesser learns nothing from it, and nothing waits: the
// refusal says when to try again. The right password gives its try back.
// Admins made with /op join by key and the owner by the in-process
// connection; neither goes through the throttle (see memberConn.join).
//
// It is connection admission, not room state, so it keeps its own lock.
type passwordThrottle struct {
	mu  sync.Mutex
	now func() time.Time

	// prefixes holds the tries of each prefix that tried lately, at most
	// maxTracked of them: past that the one that tried least lately is
	// forgotten, never the others.
	prefixes map[string]*tries

	// The room-wide bucket: tokens left as of filled (zero: never used,
	// so full), refilled one every refill up to burst. It is not a
	// rate.Limiter (as the ping budget is) for two things it does that
	// one does not: right gives a try back, which a Limiter can only do by
	// cancelling a reservation at the time it was made, moving its clock
	// back; and a clock that goes back refills nothing, where a Limiter
	// refills that span again once the clock is forward.
	tokens float64
	filled time.Time
	burst  float64
	refill time.Duration
}

// tries is one prefix's recent password checks.
type tries struct {
	count int
	last  time.Time
}

const (
	freeTries      = 2                // checks from a prefix before delays start
	firstDelay     = time.Second      // the delay after freeTries, doubled for each further check
	maxDelay       = 30 * time.Second // the longest delay between two checks from a prefix
	forgetFailures = 15 * time.Minute // a prefix with no check for this long starts afresh
	maxTracked     = 4096             // prefixes remembered at once, so a flood cannot grow the map without bound

	// roomTries and roomRefill are the room-wide budget: a few typos of
	// the real admins at once, and then one check a minute, so that no
	// number of addresses gets more than 70 guesses an hour.
	roomTries  = 10
	roomRefill = time.Minute
)

func newPasswordThrottle() *passwordThrottle {
	return &passwordThrottle{
		now:      time.Now,
		prefixes: make(map[string]*tries),
		burst:    roomTries,
		refill:   roomRefill,
	}
}

// begin asks to check a password from addr. When both budgets allow it,
// it takes a try from each and returns ok; the caller then calls right if
// the password was right (a wrong one keeps the tries spent). Otherwise
// it returns how long until a check may be allowed.
func (t *passwordThrottle) begin(addr string) (retry time.Duration, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.fill(now)
	key := addrPrefix(addr)
	p := t.prefixes[key]
	if p != nil && now.Sub(p.last) > forgetFailures {
		p.count = 0
	}
	if p != nil && p.count >= freeTries {
		d := min(firstDelay<<min(p.count-freeTries, 5), maxDelay)
		retry = p.last.Add(d).Sub(now)
	}
	if t.tokens < 1 {
		retry = max(retry, time.Duration((1-t.tokens)*float64(t.refill)))
	}
	if retry > 0 {
		return retry, false
	}
	t.tokens--
	if p == nil {
		if len(t.prefixes) >= maxTracked {
			t.forgetOldest()
		}
		p = &tries{}
		t.prefixes[key] = p
	}
	p.count++
	p.last = now
	return 0, true
}

// right gives back the try of a password from addr that was right, and
// forgets its prefix's tries.
func (t *passwordThrottle) right(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.prefixes, addrPrefix(addr))
	t.fill(t.now())
	t.tokens = min(t.tokens+1, t.burst)
}

// fill refills the room-wide bucket for the time since it was last filled.
func (t *passwordThrottle) fill(now time.Time) {
	switch {
	case t.filled.IsZero():
		t.tokens = t.burst
	case now.After(t.filled):
		t.tokens = min(t.burst, t.tokens+float64(now.Sub(t.filled))/float64(t.refill))
	default:
		return // a clock that went back refills nothing
	}
	t.filled = now
}

// forgetOldest drops the prefix that tried least lately. It runs only
// when maxTracked prefixes are remembered, and a new prefix needs a try of
// the room-wide budget (one a minute), so a scan is cheap enough.
func (t *passwordThrottle) forgetOldest() {
	var oldest string
	var at time.Time
	for key, p := range t.prefixes {
		if oldest == "" || p.last.Before(at) {
			oldest, at = key, p.last
		}
	}
	delete(t.prefixes, oldest)
}

// addrPrefix is the network an address is counted in: its /24 for IPv4,
// its /64 for IPv6, the blocks one machine can take many addresses from.
// Anything that does not parse is its own prefix.
func addrPrefix(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.WithZone("").Unmap()
	bits := 64
	if ip.Is4() {
		bits = 24
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return addr
	}
	return p.String()
}

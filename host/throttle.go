package host

import (
	"sync"
	"time"
)

// passwordThrottle slows down guessing of the admin password: after a few
// wrong tries from one address, every further try from it waits longer,
// whether it turns out right or wrong, so a guesser learns nothing early.
// It is connection admission, not room state, so it keeps its own lock.
type passwordThrottle struct {
	mu       sync.Mutex
	failures map[string]*failures
	now      func() time.Time
}

type failures struct {
	count int
	last  time.Time
}

const (
	freeTries      = 2                // wrong tries from an address before delays start
	firstDelay     = time.Second      // the delay after freeTries, doubled for each further failure
	maxDelay       = 30 * time.Second // the longest wait
	forgetFailures = 15 * time.Minute // an address with no failure for this long starts afresh
	maxTracked     = 4096             // addresses remembered at once, so a flood cannot grow the map without bound
)

func newPasswordThrottle() *passwordThrottle {
	return &passwordThrottle{failures: make(map[string]*failures), now: time.Now}
}

// delay returns how long a password try from addr must wait before it is
// checked.
func (t *passwordThrottle) delay(addr string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.failures[addr]
	if f == nil || t.now().Sub(f.last) > forgetFailures || f.count < freeTries {
		return 0
	}
	d := firstDelay << min(f.count-freeTries, 5)
	return min(d, maxDelay)
}

// fail records a wrong password from addr.
func (t *passwordThrottle) fail(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	f := t.failures[addr]
	if f == nil || now.Sub(f.last) > forgetFailures {
		if len(t.failures) >= maxTracked {
			t.forgetOld(now)
		}
		f = &failures{}
		t.failures[addr] = f
	}
	f.count++
	f.last = now
}

// succeed forgets addr's failures.
func (t *passwordThrottle) succeed(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, addr)
}

// forgetOld drops expired entries, and if none were, the whole table: a
// flood from thousands of addresses then costs the attacker their delays,
// not the host its memory.
func (t *passwordThrottle) forgetOld(now time.Time) {
	for addr, f := range t.failures {
		if now.Sub(f.last) > forgetFailures {
			delete(t.failures, addr)
		}
	}
	if len(t.failures) >= maxTracked {
		clear(t.failures)
	}
}

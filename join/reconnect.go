package join

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"chatroom/discovery"
	"chatroom/host/wire"
)

// Reconnect says how Join comes back to the room after losing the
// connection (see Join). A nil *Reconnect in Options means it does not.
type Reconnect struct {
	// Rediscover finds the room with id again, for when its last address
	// no longer answers (the host came back on another address or port),
	// and returns a Dialer for it that checks its key; nil tries the last
	// address only. findByID makes one from a Finder.
	Rediscover func(ctx context.Context, id string) (Dialer, error)
	// Backoff is the wait between attempts; the zero value is
	// DefaultBackoff.
	Backoff Backoff
	// ClosedPatience is how long to keep coming back to a room that said
	// it was closing, counted in waits between attempts: a host that
	// restarts is back well within it, and one closed for the day is not
	// waited for forever (a script whose input stays open would never
	// end). Zero is DefaultClosedPatience; negative, no limit. A connection
	// lost without a word is retried without limit: the fault may be the
	// member's own network.
	ClosedPatience time.Duration

	// For tests: how to wait, where jitter comes from, and the clock that
	// times a session (see healthySession).
	sleep func(ctx context.Context, d time.Duration) error
	rand  func() float64
	now   func() time.Time
}

// healthySession is how long a session must last for the backoff to start
// over after it. A room that welcomes a member and then ends the session
// at once (it closes the connection, or sends an event out of sequence) is
// otherwise joined again at once, in a loop, hundreds of times a second:
// each round of reconnecting succeeds at its first try. A shorter session
// counts as a failed try, and the next round waits where the last left off.
//
// It is the longest wait of DefaultBackoff, so that however long a room
// lets each session last, it is joined at most about once in that time:
// a shorter session waits up to it before the next, and a longer one is
// itself that long. A session that long is a room that worked: losing it
// is a fault of the network or a restart of the host, and the first try
// to come back is at once.
const healthySession = 30 * time.Second

// HealthySession is healthySession, for benchmarks whose clients come
// back as join does: a round of reconnecting after a session that lasted
// this long starts over (see ReconnectWait); after a shorter one it goes
// on from the tries the last round made.
const HealthySession = healthySession

// Backoff is an exponential backoff with jitter: the n-th wait (from 0) is
// Initial doubled n times, at most Max, then varied at random by up to
// ±Jitter of itself, so that many members who lost one host do not all
// come back at the same instant.
type Backoff struct {
	Initial, Max time.Duration
	Jitter       float64 // 0.2 is ±20 %
}

// DefaultBackoff waits 0.5 s, then 1 s, 2 s … up to 30 s, ±20 %.
var DefaultBackoff = Backoff{Initial: 500 * time.Millisecond, Max: 30 * time.Second, Jitter: 0.2}

// A round of reconnecting that starts after a session that lasted (see
// healthySession) makes its first try after a wait drawn uniformly from
// [0, stormSpread(members)), members being how many were in the room when
// the connection was lost. Everyone in a room that lost its host at once
// (it restarted, or the network under it blinked) comes back at about the
// same instant otherwise: thousands of TLS handshakes at once share the
// host's cores among them all, so that none is done until nearly all are,
// and those past the host's handshake timeout, or pushed out of its slots
// for connections in their handshake, start again after a backoff. Spread
// over about the time the host needs to take them back anyway, they
// arrive about as fast as it takes them, and a member waits for the
// host's work rather than for the others'.
//
// A room of atOnceRoom members or fewer (a classroom) comes back at once,
// as a host takes that many in a fraction of a second. A larger room
// spreads its members over spreadPerMember for each of them, at most
// maxSpread: 5,000 members over 2.5 s, so that one waits 1.25 s on
// average for their first try. Later tries, if the host is not back yet,
// wait as Backoff says, from each member's own first try, so the spread
// holds.
const (
	atOnceRoom = 100
	// spreadPerMember is about what a small host (two cores) spends
	// taking one member back: a TLS handshake with the post-quantum key
	// exchange and the client's key checked, the hello and the resume.
	spreadPerMember = 500 * time.Microsecond
	// maxSpread bounds what a room can make its members wait, however
	// many it claims to hold.
	maxSpread = 10 * time.Second
)

// stormSpread is how far apart in time the members of a room of members
// make their first try to come back to it (see atOnceRoom).
func stormSpread(members int) time.Duration {
	if members <= atOnceRoom {
		return 0
	}
	members = min(members, int(maxSpread/spreadPerMember))
	return time.Duration(members) * spreadPerMember
}

// wait is the wait before try n (from 0) of a round of reconnecting to a
// room of members: for the first try, none, or a draw of rand within
// stormSpread(members) when the round is the first after a session that
// lasted; for each later one, the n-1-th wait of b. rand is called only
// for a wait that has jitter.
func (b Backoff) wait(members, n int, rand func() float64) time.Duration {
	if n > 0 {
		return b.delay(n-1, rand())
	}
	spread := stormSpread(members)
	if spread == 0 {
		return 0
	}
	return time.Duration(rand() * float64(spread))
}

// ReconnectWait is what `chatroom join` waits before its try n (from 0)
// to come back to a room of members, rand being drawn uniformly from
// [0, 1): after a session that lasted (HealthySession), the first try is
// spread over stormSpread(members), and the later ones wait as
// DefaultBackoff says; after a shorter one, n goes on from the tries of
// the round before. The benchmarks of a reconnect storm time their
// clients with it.
func ReconnectWait(members, n int, rand func() float64) time.Duration {
	return DefaultBackoff.wait(members, n, rand)
}

// DefaultClosedPatience is how long a member waits for a closed room to
// come back (Reconnect.ClosedPatience).
const DefaultClosedPatience = 10 * time.Minute

// closedPatience is r's ClosedPatience, its default applied; 0 is none.
func (r *Reconnect) closedPatience() time.Duration {
	switch {
	case r.ClosedPatience < 0:
		return 0
	case r.ClosedPatience == 0:
		return DefaultClosedPatience
	}
	return r.ClosedPatience
}

// gaveUpError ends a reconnection that waited as long as it may.
type gaveUpError struct{ waited time.Duration }

func (e *gaveUpError) Error() string {
	return "the room did not come back in " + roundDelay(e.waited) + "; leaving"
}

// Delay is the n-th wait, for r drawn uniformly from [0, 1).
func (b Backoff) delay(n int, r float64) time.Duration {
	if b.Initial <= 0 {
		b = DefaultBackoff
	}
	d := b.Initial
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return time.Duration(float64(d) * (1 + b.Jitter*(2*r-1)))
}

// permanentError is a failure that retrying cannot mend.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// retrier runs attempts until one succeeds, one fails for good, or ctx
// ends, waiting between them as its Backoff says and telling the person
// through status.
type retrier struct {
	backoff Backoff
	sleep   func(ctx context.Context, d time.Duration) error
	rand    func() float64
	status  func(text string)
	// patience bounds the waits in all; past it, retry gives up with a
	// *gaveUpError. 0 is no bound.
	patience time.Duration
	// outage is what the status says happened: "connection lost" unless
	// set.
	outage string
	// start is the number of tries that went before, in earlier rounds
	// (sessions that did not last): the first try waits as the next one
	// after them would. 0 tries at once, or within the spread that
	// members call for.
	start int
	// members is how many were in the room when it was lost (see
	// stormSpread).
	members int
}

func newRetrier(r *Reconnect, status func(string)) retrier {
	rt := retrier{backoff: r.Backoff, sleep: r.sleep, rand: r.rand, status: status}
	if rt.backoff.Initial <= 0 {
		rt.backoff = DefaultBackoff
	}
	if rt.sleep == nil {
		rt.sleep = sleepCtx
	}
	if rt.rand == nil {
		rt.rand = rand.Float64
	}
	return rt
}

// clock is r's clock for timing sessions: time.Now unless a test set one.
func (r *Reconnect) clock() time.Time {
	if r == nil || r.now == nil {
		return time.Now()
	}
	return r.now()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retry tries at once (unless r.start says tries went before, or the
// room is large enough to spread its members: see stormSpread), then after
// each wait. An error wrapped in *permanentError ends it, unwrapped; so
// does a wait that would take it past r.patience, with a *gaveUpError.
func retry[T any](ctx context.Context, r retrier, try func(context.Context) (T, error)) (T, error) {
	var zero T
	var waited time.Duration
	for n := max(r.start, 0); ; n++ {
		if d := r.backoff.wait(r.members, n, r.rand); n > 0 || d > 0 {
			if r.patience > 0 && waited+d > r.patience {
				return zero, &gaveUpError{r.patience}
			}
			waited += d
			r.status(fmt.Sprintf("%s — retrying in %s", cmp.Or(r.outage, "connection lost"), roundDelay(d)))
			if err := r.sleep(ctx, d); err != nil {
				return zero, err
			}
		}
		r.status("reconnecting…")
		v, err := try(ctx)
		if err == nil {
			return v, nil
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			return zero, perm.err
		}
		if ctx.Err() != nil {
			return zero, ctx.Err()
		}
	}
}

// roundDelay shows a wait as a person reads it: "600ms", "2s", "10 min".
func roundDelay(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return d.Round(time.Second).String()
}

// rejoin is how a round of reconnecting reaches the room: at the address
// it was last reached, and else wherever it is found by its id. Each
// round has its own, and hands back where the room was reached.
type rejoin struct {
	dial       Dialer
	rediscover func(ctx context.Context, id string) (Dialer, error) // nil: the last address only
	roomID     string
}

// attempt dials the room once (its last address, then wherever it is
// found by id) and says hello.
func (r *rejoin) attempt(ctx context.Context, hello wire.Frame) (*Session, error) {
	conn, err := r.dial(ctx)
	if err != nil && !keyError(err) && r.rediscover != nil && r.roomID != "" {
		var dial Dialer
		dial, err = r.rediscover(ctx, r.roomID)
		if err == nil {
			if conn, err = dial(ctx); err == nil {
				r.dial = dial // where the room is now
			}
		}
	}
	if err != nil {
		if keyError(err) {
			return nil, &permanentError{err}
		}
		return nil, err
	}
	sess, err := Connect(ctx, conn, hello)
	if err != nil {
		if broken := brokenRoom(err); broken != nil {
			return nil, &permanentError{broken}
		}
		if finalRefusal(err) {
			return nil, &permanentError{err}
		}
		return nil, err
	}
	if w := sess.Welcome(); r.roomID != "" && (w.Room == nil || w.Room.ID != r.roomID) {
		sess.Close()
		id := ""
		if w.Room != nil {
			id = w.Room.ID
		}
		return nil, &permanentError{fmt.Errorf("the room that answered is another room (id %q, not %q)", Sanitize(id), Sanitize(r.roomID))}
	}
	return sess, nil
}

// keyError reports an error about the room's key: never retried, never
// worked around.
func keyError(err error) bool {
	var mismatch *KeyMismatchError
	var changed *KeyChangedError
	return errors.As(err, &mismatch) || errors.As(err, &changed)
}

// finalRefusal reports a refusal that the same hello would meet again.
func finalRefusal(err error) bool {
	var refused *RefusedError
	if !errors.As(err, &refused) {
		return false
	}
	switch refused.Code {
	case wire.CodeRoomClosed, wire.CodeTooMany:
		return false // the room is closing, or busy: it may take us later
	}
	return true
}

// findByID returns a Reconnect.Rediscover that looks for the room with an
// id among those find finds, and dials, with dialRoom, every record with
// that id whose advertised key check accepts (the pinned key), skipping
// the others. Another machine that advertises the room's id with a key of
// its own is not the room, and never ends the member's session: neither
// its record nor its key shown at an address is an error that stops the
// reconnecting, which goes on until the room itself answers.
func findByID(find Finder, check func(discovery.Room) error, local []LocalAddr, opts ...DialOption) func(ctx context.Context, id string) (Dialer, error) {
	return func(ctx context.Context, id string) (Dialer, error) {
		rooms, err := find(ctx)
		if err != nil {
			return nil, err
		}
		var dials []Dialer
		var clones []string
		for _, r := range rooms {
			if r.ID != id {
				continue
			}
			if check != nil {
				if err := check(r); err != nil {
					clones = append(clones, fmt.Sprintf("%s at %s", Sanitize(r.Fingerprint), ShownAddr(r, local)))
					continue
				}
			}
			dials = append(dials, dialRoom(r, local, opts...))
		}
		if len(dials) == 0 {
			if len(clones) > 0 {
				return nil, fmt.Errorf("room %s not found on the network; another machine advertises its id with another key (%s): not the room",
					Sanitize(id), strings.Join(clones, ", "))
			}
			return nil, fmt.Errorf("room %s not found on the network", Sanitize(id))
		}
		return func(ctx context.Context) (net.Conn, error) {
			var errs []error
			for _, dial := range dials {
				conn, err := dial(ctx)
				if err == nil {
					return conn, nil
				}
				if ctx.Err() != nil {
					return nil, err
				}
				errs = append(errs, err)
			}
			if len(errs) == 1 {
				return nil, notTheRoom(errs[0])
			}
			return nil, notTheRoom(dialErrors(errs))
		}, nil
	}
}

// notTheRoomError is a key error met while reconnecting, at an address
// where the room was advertised: a machine that is not the room (a clone,
// or this machine) answered there. It is said, and the reconnecting goes
// on; it does not unwrap to the key error, which would end it.
type notTheRoomError struct{ err error }

func (e *notTheRoomError) Error() string {
	return e.err.Error() + "; not the room, still looking for it"
}

// notTheRoom makes a key error a *notTheRoomError, and leaves others.
func notTheRoom(err error) error {
	if keyError(err) {
		return &notTheRoomError{err}
	}
	return err
}

// brokenRoom returns err as a *BrokenRoomError when it shows the room is
// broken: it is one already, or it is a frame that could not be read (too
// long, or not a frame), which no working room sends. It returns nil for
// any other error.
func brokenRoom(err error) *BrokenRoomError {
	var broken *BrokenRoomError
	if errors.As(err, &broken) {
		return broken
	}
	var unreadable *wire.Error
	if errors.As(err, &unreadable) {
		// The decoder's own words, with numbers of its own.
		return &BrokenRoomError{Why: "it sent a frame that could not be read (" + Sanitize(unreadable.Msg) + ")"}
	}
	return nil
}

package join

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
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
	// address only. FindByID makes one from a Finder.
	Rediscover func(ctx context.Context, id string) (Dialer, error)
	// Backoff is the wait between attempts; the zero value is
	// DefaultBackoff.
	Backoff Backoff

	// For tests: how to wait, and where jitter comes from.
	sleep func(ctx context.Context, d time.Duration) error
	rand  func() float64
}

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

// Delay is the n-th wait, for r drawn uniformly from [0, 1).
func (b Backoff) Delay(n int, r float64) time.Duration {
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

// run tries at once, then after each wait. An error wrapped in
// *permanentError ends it, unwrapped.
func retry[T any](ctx context.Context, r retrier, try func(context.Context) (T, error)) (T, error) {
	var zero T
	for n := 0; ; n++ {
		if n > 0 {
			d := r.backoff.Delay(n-1, r.rand())
			r.status(fmt.Sprintf("connection lost — retrying in %s", roundDelay(d)))
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

// roundDelay shows a wait as a person reads it: "2s", "0.5s".
func roundDelay(d time.Duration) string {
	if d < time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
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

// FindByID returns a Reconnect.Rediscover that looks for the room with an
// id among those find finds, checks what it advertises with check (the
// pinned key: a *KeyChangedError there ends the reconnecting), and dials
// it with DialRoom, which checks the key it shows against the one it
// advertised.
func FindByID(find Finder, check func(discovery.Room) error, local []netip.Prefix, opts ...DialOption) func(ctx context.Context, id string) (Dialer, error) {
	return func(ctx context.Context, id string) (Dialer, error) {
		rooms, err := find(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range rooms {
			if r.ID != id {
				continue
			}
			if check != nil {
				if err := check(r); err != nil {
					return nil, err
				}
			}
			return DialRoom(r, local, opts...), nil
		}
		return nil, fmt.Errorf("room %s not found on the network", Sanitize(id))
	}
}

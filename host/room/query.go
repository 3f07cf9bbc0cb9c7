package room

import "context"

// IsOp reports whether identity (a key's fingerprint) belongs to an admin
// made with /op, asked of the room goroutine, which owns the list. The
// host asks before it checks an admin password, so that an admin known by
// key is never held up by the throttle that others' wrong guesses fill.
// It reports false when the room is gone, and ctx's error when ctx ends
// first.
func (r *Room) IsOp(ctx context.Context, identity string) (bool, error) {
	if identity == "" {
		return false, nil
	}
	return ask(ctx, r, func(s *state) bool { return s.isOp(identity) })
}

// ask runs f on the room goroutine, which owns what f reads, and gives
// its answer: the zero value when the room is gone, and ctx's error when
// ctx ends first.
func ask[T any](ctx context.Context, r *Room, f func(*state) T) (T, error) {
	var none T
	// Buffered, so the room goroutine never waits for a caller that gave
	// up.
	reply := make(chan T, 1)
	select {
	case r.events <- func(s *state) { reply <- f(s) }:
	case <-r.done:
		return none, nil
	case <-ctx.Done():
		return none, ctx.Err()
	}
	select {
	case v := <-reply:
		return v, nil
	case <-r.done:
		return none, nil
	case <-ctx.Done():
		return none, ctx.Err()
	}
}

// BannedFromFiles reports whether a transfer connection with identity (a
// key's fingerprint, "" for none) from addr comes from someone banned:
// by key, or by address unless the key is an admin's made with /op (an
// address ban never shuts out an admin, as at joining). A file's id is
// what lets a member fetch it; a member banned after it was given one
// must not go on using it. It reports false when the room is gone, and
// ctx's error when ctx ends first.
func (r *Room) BannedFromFiles(ctx context.Context, identity, addr string) (bool, error) {
	return ask(ctx, r, func(s *state) bool { return s.bannedFromFiles(identity, addr) })
}

func (s *state) bannedFromFiles(identity, addr string) bool {
	s.pruneBans()
	for _, b := range s.bans {
		if identity != "" && b.Identity == identity {
			return true
		}
		if addr != "" && b.Addr == addr && !s.isOp(identity) {
			return true
		}
	}
	return false
}

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
	// Buffered, so the room goroutine never waits for a caller that gave
	// up.
	reply := make(chan bool, 1)
	select {
	case r.events <- func(s *state) { reply <- s.isOp(identity) }:
	case <-r.done:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
	select {
	case op := <-reply:
		return op, nil
	case <-r.done:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
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
	reply := make(chan bool, 1)
	select {
	case r.events <- func(s *state) { reply <- s.bannedFromFiles(identity, addr) }:
	case <-r.done:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
	select {
	case banned := <-reply:
		return banned, nil
	case <-r.done:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
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

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

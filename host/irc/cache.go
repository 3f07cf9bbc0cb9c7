package irc

import (
	"bytes"
	"sync"

	"chatroom/host/wire"
)

// The room sends every member the very same bytes for an event, so a
// session that reads an event another session has just read can take
// the frame that one decoded rather than decode the JSON again: with a
// hundred IRC members, that is one decode for a hundred deliveries.
// Only events are kept: the frames made for one member (a private
// message, a notice, a welcome) are of no use to another, and each is
// decoded by its own session. Entries are keyed by the frame's whole
// bytes, so a frame can only ever be had for the same bytes, which
// decode to it anyway.
const (
	// eventCacheSize is how many distinct events are kept: as many as
	// the room queues for a member (its outbox), so that a member as far
	// behind the first reader as the room lets it be still finds them.
	eventCacheSize = 1024
	// maxCachedFrame bounds the length of a frame kept, and so the
	// cache's memory (a few MiB at most); a longer event (the presence
	// of a reconnecting crowd) is decoded by each session.
	maxCachedFrame = 2 << 10
)

// eventFrames is the cache every session of the process shares: the
// frame for some bytes is the same whichever room sent them.
var eventFrames = newFrameCache(eventCacheSize)

// eventPrefix is how wire.Encode begins an event (the type comes first).
var eventPrefix = []byte(`{"type":"event",`)

// frameCache holds decoded events, keyed by their bytes. A stored frame
// is never written again: its slices and pointers are shared by every
// session that takes it, which only read them.
type frameCache struct {
	mu     sync.Mutex
	byLine map[string]*wire.Frame
	// ring holds the keys in the order they came, the oldest at next,
	// which goes to make room.
	ring []string
	next int
}

func newFrameCache(size int) *frameCache {
	return &frameCache{byLine: make(map[string]*wire.Frame, size), ring: make([]string, size)}
}

// parse is wire.Parse, from the cache for an event already decoded.
func (fc *frameCache) parse(line []byte) (wire.Frame, error) {
	if len(line) > maxCachedFrame || !bytes.HasPrefix(line, eventPrefix) {
		return wire.Parse(line)
	}
	fc.mu.Lock()
	f, ok := fc.byLine[string(line)]
	fc.mu.Unlock()
	if ok {
		return *f, nil
	}
	parsed, err := wire.Parse(line)
	if err != nil {
		return parsed, err
	}
	stored := parsed
	key := string(line)
	fc.mu.Lock()
	if _, ok := fc.byLine[key]; !ok {
		// Another session may have stored it meanwhile; else the
		// oldest goes.
		if old := fc.ring[fc.next]; old != "" {
			delete(fc.byLine, old)
		}
		fc.ring[fc.next] = key
		fc.next = (fc.next + 1) % len(fc.ring)
		fc.byLine[key] = &stored
	}
	fc.mu.Unlock()
	return parsed, nil
}

// len is how many frames the cache holds.
func (fc *frameCache) len() int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return len(fc.byLine)
}

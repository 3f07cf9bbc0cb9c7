package room

import (
	"sync"
	"sync/atomic"
)

// Outbox is a member's queue of encoded frames, filled by the room goroutine
// and emptied by the host's writer for the member's connection.
//
// What every member gets (the room's events) is not queued member by
// member: the room appends it once to its broadcast log, which every
// outbox reads from its own place (cursor). Only what one member gets
// alone (a notice, an error, a private message) is queued in the outbox
// itself, marked with the place in the log it comes before, so that the
// writer takes both in the room's order. Handing an event to a room of a
// hundred is then one append and a hundred reads of an atomic, not a
// hundred locks of a hundred queues, each on a cache line that the
// members' writers, on other cores, had just taken.
//
// It holds at most its limit of frames (Config.Outbox), counting both;
// the room finds a member whose outbox is full too slow. It holds no
// memory of its own while it is empty: an idle member costs a few words.
// The writer takes everything queued at once ([Outbox.Take]) and so writes
// it in one go.
//
// The mutex guards the queue of the member's own frames, between the room
// goroutine and one writer; the room's state is not behind it.
type Outbox struct {
	log *broadcastLog // nil for an outbox that takes only its own frames
	// cursor is the place in log of the next event the writer takes:
	// written by the writer (Take), read by the room to know how far
	// behind the member is, and whether the writer has taken everything.
	cursor atomic.Uint64
	// ownLen counts the frames in own: set under mu, read by the room
	// without it.
	ownLen atomic.Int64
	// wake, once set (OnReady), is called instead of sending a token.
	wake atomic.Pointer[func()]
	// lost is set by Take when the log moved on past events the member
	// had not taken (see Lost). Owned by the writer.
	lost bool

	mu  sync.Mutex
	own []ownFrame // the member's own frames, oldest first; nil when empty
	// stop, once stopped is set, is the place in log past which the
	// member is given nothing: it was found too slow, or its outbox closed.
	stop    uint64
	stopped bool
	closed  bool
	limit   int
	// taken holds the slice of the frames Take handed out, for framesPool,
	// until Recycle (one writer at a time).
	taken *[][]byte
	// ready holds a token when frames were queued (or the outbox closed)
	// since the writer last took them.
	ready chan struct{}
}

// ownFrame is one of the member's own frames, and the place in the log
// (the event) it comes before.
type ownFrame struct {
	before uint64
	frame  []byte
}

// newOutbox is an outbox of limit frames that takes only its own frames,
// as tests build them.
func newOutbox(limit int) *Outbox {
	return newLoggedOutbox(limit, nil)
}

// newLoggedOutbox is an outbox of limit frames that reads the room's
// events from log, from where readFromHere puts it.
func newLoggedOutbox(limit int, log *broadcastLog) *Outbox {
	o := &Outbox{log: log, limit: limit, ready: make(chan struct{}, 1)}
	o.readFromHere()
	return o
}

// readFromHere has the outbox read the log from its head: the member is
// in the room from now on, and so handed every event from now on, and
// none before (those its welcome has, or not). Room goroutine only, before
// any writer takes from the outbox.
func (o *Outbox) readFromHere() {
	o.cursor.Store(o.head())
}

// framesPool holds empty queues ([][]byte) between bursts, so that a busy
// room does not grow a new one for every batch and an idle member holds none.
var framesPool = sync.Pool{New: func() any {
	q := make([][]byte, 0, 64)
	return &q
}}

// head is the place in the log after the last event published, 0
// without a log.
func (o *Outbox) head() uint64 {
	if o.log == nil {
		return 0
	}
	return o.log.head.Load()
}

// push queues frame, the member's alone, and reports false, queuing
// nothing, when the outbox is full. Called by the room goroutine only,
// with nothing unpublished (the frame comes after every event appended),
// never after close.
func (o *Outbox) push(frame []byte) bool {
	head := o.head()
	o.mu.Lock()
	if int(head-o.cursor.Load())+len(o.own) >= o.limit {
		o.mu.Unlock()
		return false
	}
	// The writer's last Take left nothing of the member's own: whether it
	// took every event too, it may be waiting, so it is told (a token it
	// does not need costs it one look).
	wake := len(o.own) == 0
	o.own = append(o.own, ownFrame{before: head, frame: frame})
	o.ownLen.Store(int64(len(o.own)))
	o.mu.Unlock()
	if wake {
		o.signal()
	}
	return true
}

// offer tells the outbox of the events the room just published to its
// log, at places from to to (not included: the head was at from, and is at
// to now), and reports false when the member was already as far behind as
// its limit: it is then given nothing from the first event that found it
// there on. Called by the room goroutine only, never after close.
func (o *Outbox) offer(from, to uint64) bool {
	cursor := o.cursor.Load() // at most from: the writer takes only what is published
	own := o.ownLen.Load()
	if int64(to-1)-int64(cursor)+own >= int64(o.limit) {
		o.stopAt(uint64(max(int64(from), int64(cursor)+int64(o.limit)-own)))
		return false
	}
	// The writer had taken everything before these events: it may be
	// waiting. If it is taking at this moment, either it sees them (it
	// reads the head after it moves its cursor, see Take) or the room
	// sees its cursor moved here and wakes it: never neither.
	if cursor == from {
		o.signal()
	}
	return true
}

// stopAt has the member given nothing from place at in the log on.
func (o *Outbox) stopAt(at uint64) {
	o.mu.Lock()
	if !o.stopped {
		o.stop, o.stopped = at, true
	}
	o.mu.Unlock()
}

// close ends the outbox: what is queued is still taken, then Take reports
// it closed. Called by the room goroutine only, with nothing unpublished,
// once.
func (o *Outbox) close() {
	head := o.head()
	o.mu.Lock()
	o.closed = true
	if !o.stopped {
		o.stop, o.stopped = head, true
	}
	o.mu.Unlock()
	o.signal()
}

// signal tells the writer there is something to take: by calling wake,
// the hook OnReady set, or else with a token on Ready.
func (o *Outbox) signal() {
	if wake := o.wake.Load(); wake != nil {
		(*wake)()
		return
	}
	select {
	case o.ready <- struct{}{}:
	default: // a token is already waiting: the writer has not looked yet
	}
}

// Ready receives a token when frames have been queued, or the outbox
// closed, since the writer last looked; the writer then calls Take. A
// token may come when there is nothing to take (Take then returns no
// frames and the outbox open); the writer simply waits again.
func (o *Outbox) Ready() <-chan struct{} { return o.ready }

// OnReady has the outbox call wake, from then on, whenever it would put a
// token on Ready: when frames are queued into an outbox the writer has
// emptied, and when it closes. wake runs on the room goroutine, so it must
// not block; it lets a host start a writer only when there is something to
// write, rather than keep one waiting on Ready for every idle member.
// Frames queued before OnReady wait for the writer's first Take.
func (o *Outbox) OnReady(wake func()) {
	o.wake.Store(&wake)
}

// Take returns every frame queued, oldest first, and whether the outbox is
// still open. Once it reports the outbox closed, the frames it returns are
// the last: write them, then [Member.Final], and end. The frames are the writer's to keep (each
// frame's bytes may be shared with other members: never modify them); it
// may hand the slice back with [Outbox.Recycle] when it has written them.
// Take does not wait.
func (o *Outbox) Take() (frames [][]byte, open bool) {
	o.mu.Lock()
	// The head is read under the lock, which push holds as it marks a
	// frame of the member's own with the head: every one taken here comes
	// before it, and every one pushed after comes after it.
	head := o.head()
	if o.stopped && o.stop < head {
		head = o.stop
	}
	own := o.own
	o.own = nil
	o.ownLen.Store(0)
	open = !o.closed
	stopped := o.stopped
	o.mu.Unlock()

	cursor := o.cursor.Load()
	if len(own) == 0 && cursor == head {
		return nil, open
	}
	box := framesPool.Get().(*[][]byte)
	frames = (*box)[:0]
	ok := true
	for _, f := range own {
		if ok {
			frames, ok = o.log.read(frames, cursor, f.before)
		}
		cursor = max(cursor, f.before)
		if ok {
			frames = append(frames, f.frame)
		}
	}
	if ok {
		frames, ok = o.log.read(frames, cursor, head)
	}
	o.lost = o.lost || !ok
	*box = frames
	o.taken = box
	o.cursor.Store(head)
	// Events appended after the head was read above, while the room saw
	// the cursor still short of them and so woke no one: the writer is
	// told now, so that it takes them before it waits.
	if !stopped && o.head() != head {
		o.signal()
	}
	return frames, open
}

// Lost reports whether the room's log moved on past events the member
// had not taken yet, so that the frames Take returned stop short of them.
// It happens only to a member found too slow, or removed, that still had
// more than an outbox's worth to take: its writer should end its
// connection, which the member then resumes from the room's history.
func (o *Outbox) Lost() bool { return o.lost }

// Recycle hands back the slice that the last Take returned, once its
// frames are written, for outboxes to queue into again. Only the writer
// that called Take may call it, before its next Take.
func (o *Outbox) Recycle(frames [][]byte) {
	box := o.taken
	o.taken = nil
	if box == nil || cap(frames) == 0 || cap(frames) > 4*o.limit {
		return
	}
	clear(frames) // the frames' bytes may be collected
	*box = frames[:0]
	framesPool.Put(box)
}

// Len is the number of frames queued now.
func (o *Outbox) Len() int {
	head := o.head()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stopped && o.stop < head {
		head = o.stop
	}
	return int(head-o.cursor.Load()) + len(o.own)
}

// Limit is the number of frames the outbox holds at most.
func (o *Outbox) Limit() int { return o.limit }

// broadcastLog is the room's latest events, as every member's outbox reads
// them: a ring that the room goroutine alone appends to, and that
// writers read from their own places. It holds twice an outbox's limit,
// so that a member the room has just let go (found too slow, kicked) can
// still be given what it was owed while the room goes on; a writer further
// behind than the ring finds its places taken by later events, and
// knows it (an entry says what place it holds).
//
// What the room appends is the writers' only once it is published: the
// room publishes at the end of its turn, once the events are in the
// journal, so that several events handed out in one turn cost one
// journal write and one offer to each member (see state.publish).
type broadcastLog struct {
	head atomic.Uint64 // the place after the last event published
	// next is the place of the next event appended, head or more (room
	// goroutine only).
	next    uint64
	entries []atomic.Pointer[logEntry]
}

type logEntry struct {
	at    uint64
	frame []byte
}

func newBroadcastLog(outboxLimit int) *broadcastLog {
	return &broadcastLog{entries: make([]atomic.Pointer[logEntry], 2*max(outboxLimit, 1))}
}

// append puts frame at the next place, unpublished, and returns how many
// events are unpublished now. Room goroutine only.
func (l *broadcastLog) append(frame []byte) int {
	at := l.next
	l.entries[at%uint64(len(l.entries))].Store(&logEntry{at: at, frame: frame})
	l.next++
	return l.unpublished()
}

// unpublished is how many events were appended since the last publish.
func (l *broadcastLog) unpublished() int { return int(l.next - l.head.Load()) }

// publish hands the writers every event appended, and returns their
// places: from from to to (not included). Room goroutine only.
func (l *broadcastLog) publish() (from, to uint64) {
	from, to = l.head.Load(), l.next
	l.head.Store(to)
	return from, to
}

// read appends to frames the events from place from to place to (not
// included), and reports false, stopping short, where a later event has
// taken a place.
func (l *broadcastLog) read(frames [][]byte, from, to uint64) ([][]byte, bool) {
	for at := from; at < to; at++ {
		e := l.entries[at%uint64(len(l.entries))].Load()
		if e == nil || e.at != at {
			return frames, false
		}
		frames = append(frames, e.frame)
	}
	return frames, true
}

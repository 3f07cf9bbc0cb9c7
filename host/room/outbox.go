package room

import "sync"

// Outbox is a member's queue of encoded frames, filled by the room goroutine
// and emptied by the host's writer for the member's connection.
//
// It holds at most its limit of frames (Config.Outbox); the room finds a
// member whose outbox is full too slow. Unlike a channel of that size, it
// holds no memory while it is empty: an idle member costs a few words, not
// a thousand slots. The writer takes everything queued at once ([Outbox.Take])
// and so writes it in one go.
//
// The mutex guards the queue alone, between the room goroutine and one
// writer; the room's state is not behind it.
type Outbox struct {
	mu     sync.Mutex
	frames [][]byte // queued, oldest first; nil when empty
	// box holds frames' backing array for framesPool; taken is the box of
	// the frames Take handed out, until Recycle (one writer at a time).
	box    *[][]byte
	taken  *[][]byte
	limit  int
	closed bool
	// ready holds a token when frames were queued (or the outbox closed)
	// since the writer last took them.
	ready chan struct{}
	// wake, once set (OnReady), is called instead of sending that token.
	wake func()
}

func newOutbox(limit int) *Outbox {
	return &Outbox{limit: limit, ready: make(chan struct{}, 1)}
}

// framesPool holds empty queues ([][]byte) between bursts, so that a busy
// room does not grow a new one for every batch and an idle member holds none.
var framesPool = sync.Pool{New: func() any {
	q := make([][]byte, 0, 64)
	return &q
}}

// push queues frame, and reports false, queuing nothing, when the outbox is
// full. Called by the room goroutine only, never after close.
func (o *Outbox) push(frame []byte) bool {
	o.mu.Lock()
	if len(o.frames) >= o.limit {
		o.mu.Unlock()
		return false
	}
	wake := len(o.frames) == 0
	if o.frames == nil {
		o.box = framesPool.Get().(*[][]byte)
		o.frames = (*o.box)[:0]
	}
	o.frames = append(o.frames, frame)
	hook := o.wake
	o.mu.Unlock()
	if wake {
		o.signal(hook)
	}
	return true
}

// close ends the outbox: what is queued is still taken, then Take reports
// it closed. Called by the room goroutine only, once.
func (o *Outbox) close() {
	o.mu.Lock()
	o.closed = true
	hook := o.wake
	o.mu.Unlock()
	o.signal(hook)
}

// signal tells the writer there is something to take: by calling wake,
// the hook OnReady set, or else with a token on Ready.
func (o *Outbox) signal(wake func()) {
	if wake != nil {
		wake()
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
	o.mu.Lock()
	o.wake = wake
	o.mu.Unlock()
}

// Take returns every frame queued, oldest first, and whether the outbox is
// still open. Once it reports the outbox closed, the frames it returns are
// the last: write them, then [Member.Final], and end. The frames are the writer's to keep (each
// frame's bytes may be shared with other members: never modify them); it
// may hand the slice back with [Outbox.Recycle] when it has written them.
// Take does not wait.
func (o *Outbox) Take() (frames [][]byte, open bool) {
	o.mu.Lock()
	frames, o.frames = o.frames, nil
	o.taken, o.box = o.box, nil
	open = !o.closed
	o.mu.Unlock()
	return frames, open
}

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
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.frames)
}

// Limit is the number of frames the outbox holds at most.
func (o *Outbox) Limit() int { return o.limit }

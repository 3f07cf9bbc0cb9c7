package join

import (
	"fmt"
	"time"

	"chatroom/host/wire"
)

// maxQueued is how many lines of a script wait, while the client is not
// connected or for the room to take them, before its input waits too
// (the writer upstream then waits, and nothing is lost).
const maxQueued = 100

// maxQueuedBytes bounds the text of the lines that wait, which is what a
// person at a terminal, whose input cannot be made to wait, can queue: a
// paste of thousands of lines is kept whole and goes at the room's pace.
// A line beyond it is refused.
const maxQueuedBytes = 1 << 20

// maxUnanswered bounds the lines sent and not yet answered. A working
// room answers each line as it handles it (its event, a notice, a private
// message), and one answer covers every line before it, so only the lines
// on their way are unanswered: a few at the room's pace, and a run of
// commands that answer no one, until the next line that does. A room that
// leaves this many unanswered answers nothing: it is broken, rather than
// kept (up to wire.MaxText bytes each, 4 MB at most here) without end.
const maxUnanswered = 1000

// outLine is a line the person typed, with its ref once it has one; or
// a file the person offers (offer is set), which goes as an "offer" frame
// with the same pacing, refs and resending as a line: the room counts an
// offer against the member's lines.
type outLine struct {
	text string
	ref  uint64
	// offer, when set, makes this an offer frame of the file (Name,
	// Size, SHA256) to to ("" for the whole room); text is then empty.
	offer *wire.File
	to    string
	// act is the client's file request this line carries out (an offer,
	// or a "/get N"), which the answer to ref takes further; outgoing
	// only carries it.
	act *fileAction
}

// cost is what the line counts for against maxQueuedBytes: its text, or
// for an offer its name and whom it is for.
func (l outLine) cost() int {
	if l.offer != nil {
		return len(l.offer.Name) + len(l.to) + 100
	}
	return len(l.text)
}

// outgoing is the person's lines on their way to the room: those waiting
// to go out, in order, at the pace the room announced, and those sent
// that the room has not answered yet, kept when the room answers refs
// (its welcome names an epoch) so that they can go again after a break.
// The host handles a member's lines in order, so an answer to one means
// every line before it was taken too.
//
// It is a plain value: it does no I/O, keeps no clock (the time is an
// argument), and is touched by the one goroutine that owns the client.
type outgoing struct {
	waiting      []outLine
	waitingBytes int       // the text of the lines waiting
	unanswered   []outLine // in the order sent
	lastRef      uint64
	// confirmed is the last ref the room answered, or said it took: the
	// lines are given refs in the order they were queued, so it is also
	// how many of them the room confirmed.
	confirmed uint64

	// cut: a line of the person's was refused (queueLine), and the lines
	// that come together with it after it are refused too (cutShort).
	cut bool

	// Of the current session: whether its room answers refs, and its
	// pace. held is the first waiting line holding a token of the pacer,
	// to go at due.
	track bool
	pace  *pacer
	held  bool
	due   time.Time
}

// connect takes up a session whose welcome is w: its pace, and whether its
// room answers refs.
func (o *outgoing) connect(w wire.Frame) {
	// The room keeps a member's line budget by its key (and its
	// address) across connections: a client that came back with a fresh
	// burst would send lines beyond what the room has left, and those
	// the room refuses are lost. So a room that announces the same limits
	// is paced on where the last session left off, the line that waited
	// for its token waiting on; the pacer's own pace is a little slower
	// than the room's, so it never gets ahead of the room's budget.
	if p := newPacer(w.Limits); !o.pace.same(p) {
		o.pace, o.held = p, false
	}
	o.track = w.Epoch != ""
}

// queue adds a line typed by the person; it reports false, taking
// nothing, when the line would take the text waiting past maxQueuedBytes.
func (o *outgoing) queue(text string) bool {
	return o.queueLine(outLine{text: text})
}

// queueLine adds l, a line or an offer, as queue does.
func (o *outgoing) queueLine(l outLine) bool {
	if o.waitingBytes+l.cost() > maxQueuedBytes {
		o.cut = true
		return false
	}
	o.waiting = append(o.waiting, l)
	o.waitingBytes += l.cost()
	return true
}

// Once a line of the person's is refused for want of room, every line
// that comes together with it after it (a paste) is refused too, though
// lines go out meanwhile and leave room: a paste past maxQueuedBytes is
// sent up to where it was cut and no further, never with holes after it.
// afterPause tells that the line to come was typed after a pause, which
// ends such a run: it is tried afresh. cutShort reports whether the line
// to come is in the rest of a cut run, and so refused.
func (o *outgoing) afterPause()    { o.cut = false }
func (o *outgoing) cutShort() bool { return o.cut }

// full reports whether maxQueued lines wait: a script's input waits.
func (o *outgoing) full() bool { return len(o.waiting) >= maxQueued }

// empty reports whether no line waits to go out.
func (o *outgoing) empty() bool { return len(o.waiting) == 0 }

// waitingCount is how many lines wait to go out.
func (o *outgoing) waitingCount() int { return len(o.waiting) }

// wait returns how long, from now, the first waiting line must wait for
// the pace; 0 is at once. The line takes its token on the first call and
// holds it, so asking again once the wait is over returns 0.
func (o *outgoing) wait(now time.Time) time.Duration {
	if o.held {
		return max(o.due.Sub(now), 0)
	}
	d := o.pace.reserve(now)
	if d > 0 {
		o.held, o.due = true, now.Add(d)
	}
	return d
}

// take returns the first waiting line to send now, with its ref, and
// counts it unanswered when the room answers refs. Past maxUnanswered it
// takes nothing and returns a *BrokenRoomError: the room answers nothing.
func (o *outgoing) take() (outLine, error) {
	if o.track && len(o.unanswered) >= maxUnanswered {
		return outLine{}, &BrokenRoomError{Why: fmt.Sprintf("it answered none of your last %d lines", maxUnanswered)}
	}
	l := o.waiting[0]
	if l.ref == 0 {
		o.lastRef++
		l.ref = o.lastRef
	}
	o.waiting = o.waiting[1:]
	o.waitingBytes -= l.cost()
	o.held = false
	if o.track {
		o.unanswered = append(o.unanswered, l)
	}
	return l, nil
}

// notSent takes back l, which take gave and which could not be written:
// a line that is not tracked is not known to have arrived, and waits
// again first; a tracked one waits for an answer, or the replay after the
// break, like any other sent.
func (o *outgoing) notSent(l outLine) {
	if !o.track {
		o.waiting = append([]outLine{l}, o.waiting...)
		o.waitingBytes += l.cost()
	}
}

// answered notes that the room answered the line with ref, and so took
// every line before it. A ref beyond the last given answers no line of
// this client's: a room that sends one says nothing by it.
func (o *outgoing) answered(ref uint64) {
	if ref > o.lastRef {
		return
	}
	o.confirmed = max(o.confirmed, ref)
	i := 0
	for i < len(o.unanswered) && o.unanswered[i].ref <= ref {
		i++
	}
	o.unanswered = o.unanswered[i:]
}

// resume takes up sending once a session's replay is over: the lines sent
// before the connection broke that the replay did not show taken (see
// answered) go first, with their refs, then those waiting.
func (o *outgoing) resume() {
	if o.track {
		for _, l := range o.unanswered {
			o.waitingBytes += l.cost()
		}
		o.waiting = append(o.unanswered, o.waiting...)
		o.unanswered = nil
	}
}

// dropWaiting forgets the lines waiting, and returns how many there were:
// the lines that were not sent.
func (o *outgoing) dropWaiting() int {
	n := len(o.waiting)
	o.waiting, o.waitingBytes = nil, 0
	o.held = false
	return n
}

// dropUnanswered forgets the lines sent and not answered, and returns how
// many there were: the lines that may not have reached the room.
func (o *outgoing) dropUnanswered() int {
	n := len(o.unanswered)
	o.unanswered = nil
	return n
}

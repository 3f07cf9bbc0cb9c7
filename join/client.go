package join

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"chatroom/host/wire"
)

// input is one result of UI.ReadLine.
type input struct {
	line string
	err  error
	// waited is how long ReadLine took to give it: the lines of a paste
	// come at once, one typed by hand after a pause (see pasteGap).
	waited time.Duration
}

// pasteGap is the pause that ends a run of lines: a line that comes
// within it of asking for it came together with the one before, as the
// lines of a paste do (the terminal holds them all), and one typed by
// hand takes longer, even "ok" and Enter. It only decides where the rest
// of a refused paste ends (outgoing.afterPause).
const pasteGap = 500 * time.Millisecond

// lostError is a connection that broke: with Reconnect, Join comes back.
type lostError struct{ err error }

func (e *lostError) Error() string { return "connection to the room lost: " + e.err.Error() }
func (e *lostError) Unwrap() error { return e.err }

// client runs a welcomed session and the ones that replace it, as the
// room runs a room: one goroutine (run, the owner) owns every field and
// does all the deciding, and the others only tell it what they learn.
// The reader reads the person's lines (UI.ReadLine blocks and cannot be
// interrupted) and forwards them on typed, and cancels left when one of
// them is the person leaving; each session's receiver reads its frames,
// shows them, and forwards its news (answers, the replay over, the end);
// a round of reconnecting forwards its statuses and its end. None of
// them touches the client, and nothing here is locked. The one thing done
// for the owner elsewhere is closing a session whose write outlasts the
// person's leaving, which the owner, blocked in the write, cannot do
// (watchWrite).
type client struct {
	ctx      context.Context
	opts     Options
	ui       UI
	roomID   string
	quitWait time.Duration
	dial     Dialer // where the room was last reached
	// dialNow is dial as the transfers read it, from their goroutines:
	// a copy of it, stored anew each time the room is reached elsewhere.
	dialNow atomic.Pointer[Dialer]

	typed <-chan input // from the reader, buffered (see readInput)
	// left is done once the person has left, as the reader read it (a
	// /quit or the end of input) or by ctx: even while the owner is busy
	// (see watchWrite), the leaving counts from then.
	left context.Context

	sess       *Session           // nil while disconnected
	news       <-chan sessionNews // from sess's receiver
	replayOver bool               // lines may go out on sess
	since      time.Time          // when sess began
	out        outgoing           // the lines on their way
	paced      *time.Timer        // the pace's wait for the first line; nil when none
	leave      leaving            // once the person has left
	awaiting   *verdictWait       // a session the client is done with, until it ends
	retry      *reconnecting      // nil but while reconnecting
	// tries counts the tries to reconnect since the last session that
	// lasted (healthySession), which the next round's backoff goes on
	// from.
	tries int

	// pacingSaid: the person was told once that the room's pace holds
	// their lines back.
	pacingSaid bool

	// The person's file requests (see files.go), by their Transfer key,
	// and those whose line or offer went with a ref, by the ref.
	actions  map[int]*fileAction
	fileRefs map[uint64]*fileAction
	lastKey  int
	fileNews chan fileNews // from the hashing and transfer goroutines
	// fileFrames are the room's frames about files, from the receivers.
	fileFrames chan wire.Frame
	filesCtx   context.Context // the goroutines' of files: ended with Join
	stopFiles  context.CancelFunc
	pending    *pendingUploads // made at first use (uploads)
	outcomes   []FileOutcome   // how each request ended, in order

	done   bool // Join is over, and returns result
	result error
}

// leaving is the person's leaving: from when they left, quitWait at most,
// whatever is still going on; a script's is patient, and each line that
// goes out gives the room quitWait more (see noteLeft, tookLine).
type leaving struct {
	timer    *time.Timer // fires at deadline; nil before the person left
	deadline time.Time
	at       time.Time // when the person left
	patient  bool
	over     bool   // the deadline has passed
	quitAs   string // the /quit to send once nothing waits; "" until it is taken
}

// verdictWait is the wait, quitWait at most, for the receiver's verdict
// on a session the client is done with: after its /quit, for the room to
// confirm by ending it, or after a write to it failed, for why (a closed
// frame that raced the write). Past it, the session is closed and the
// verdict is fallback. Either way, then goes on with the verdict.
type verdictWait struct {
	timer    *time.Timer
	fallback error
	then     func(verdict error)
}

// sessionNews is what a session's receiver has learnt so far; each news
// says all the one before it said, and more.
type sessionNews struct {
	answered   uint64 // the last of the person's lines the room answered; 0 for none yet
	replayOver bool   // lines may go out: the events missed are all in
	ended      bool   // the session is over; err is what Join should make of it
	err        error
}

// reconnecting is a round of reconnecting, run in the background.
type reconnecting struct {
	news     <-chan reconnectNews
	stop     context.CancelFunc
	finished <-chan struct{} // closed when its goroutine is done
}

// reconnectNews is a status for the person, or, with end, the end of the
// round of reconnecting.
type reconnectNews struct {
	status string
	end    *roundEnd
}

// roundEnd is the end of a round of reconnecting.
type roundEnd struct {
	sess *Session
	err  error
	// tries counts the tries of this round and the earlier ones it went
	// on from (client.tries).
	tries int
	dial  Dialer // where the room was last reached
}

func (c *client) run(sess *Session) error {
	left, personLeft := context.WithCancel(c.ctx)
	defer personLeft()
	c.left = left
	typed := make(chan input, maxQueued)
	c.typed = typed
	stop := make(chan struct{})
	defer close(stop)
	go readInput(c.ui, typed, personLeft, stop)
	defer c.stopTimers()
	c.shareDial()
	c.actions, c.fileRefs = map[int]*fileAction{}, map[uint64]*fileAction{}
	c.fileNews = make(chan fileNews, 2*maxFileActions)
	c.fileFrames = make(chan wire.Frame, maxFileFrames)
	c.filesCtx, c.stopFiles = context.WithCancel(c.ctx)
	defer c.stopFiles()

	c.start(sess)
	if c.opts.firstFile != nil {
		c.opts.firstFile(c)
	}
	for !c.done {
		c.step()
	}
	return c.result
}

// readInput reads the person's lines and forwards them on typed until
// the input ends or stop closes. It is buffered, so that the reader reads
// on while the owner is kept busy (a write the room does not read): a
// /quit typed then is seen, and starts the person's leaving (personLeft),
// though the owner takes it only later.
func readInput(ui UI, typed chan<- input, personLeft context.CancelFunc, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return // read no more lines from the person for nothing
		default:
		}
		asked := time.Now()
		line, err := ui.ReadLine()
		if err != nil || isQuit(line) {
			personLeft()
		}
		select {
		case typed <- input{line, err, time.Since(asked)}:
		case <-stop:
			// Join has returned. A line read now is lost, but the session
			// it was for is over.
			return
		}
		if err != nil {
			return
		}
	}
}

// step waits for the next thing to happen, and handles it. Each source
// has one arm; a nil channel, which no select hears, is a source not to
// be heard now.
func (c *client) step() {
	var interrupted, leftNow <-chan struct{}
	var leavingOver, paceOver, verdictLate <-chan time.Time
	var retryNews <-chan reconnectNews
	if c.awaiting == nil {
		// While a verdict is awaited, an interrupt only starts the
		// leaving (left), and is taken up after.
		interrupted = c.ctx.Done()
	} else {
		verdictLate = c.awaiting.timer.C
	}
	if c.leave.timer == nil {
		leftNow = c.left.Done()
	} else {
		leavingOver = c.leave.timer.C
	}
	if c.paced != nil {
		paceOver = c.paced.C
	}
	if c.retry != nil {
		retryNews = c.retry.news
	}
	select {
	case <-interrupted:
		c.leaveWith("/quit", nil)
	case <-leftNow:
		c.noteLeft(time.Now())
	case <-leavingOver:
		c.leavingRanOutNow()
	case n := <-c.news:
		c.heard(n)
	case <-paceOver:
		c.paced = nil
		c.pump()
	case <-verdictLate:
		c.giveUpWaiting()
	case n := <-retryNews:
		c.heardRetry(n)
	case in := <-c.input():
		c.took(in)
	case n := <-c.fileNews:
		c.heardFile(n)
	case f := <-c.fileFrames:
		c.heardFileFrame(f)
	case <-c.membersWanted():
		c.askMembers()
	}
}

// membersWanted is where a UI's wish for the members a big room's
// welcome left out comes from (Roster.WaitWhole): the session's roster,
// until they were asked for on it.
func (c *client) membersWanted() <-chan struct{} {
	if c.sess == nil || c.sess.askedMembers || c.awaiting != nil || c.done {
		return nil
	}
	return c.sess.Roster().wanted
}

// askMembers asks the room for its members, as sendFirst sends a line.
func (c *client) askMembers() {
	end := c.watchWrite(c.sess)
	err := c.sess.askMembers()
	c.wrote(end())
	if err != nil {
		c.awaitVerdict(&lostError{err}, c.lost)
	}
}

// input is where the person's next line comes from: nowhere once they
// have left, or while a verdict is awaited, and for a script while
// maxQueued lines wait, connected or not (it waits; it is in no hurry,
// and the writer upstream waits with it, so that no line is lost). A
// person's is read whatever pace the room keeps, since at a terminal
// Ctrl-C and Ctrl-D come as input, after the lines pasted.
func (c *client) input() <-chan input {
	if c.leave.quitAs != "" || c.awaiting != nil || (c.opts.Script && c.out.full()) {
		return nil
	}
	return c.typed
}

// took takes a line the person typed.
func (c *client) took(in input) {
	switch {
	case in.err == io.EOF:
		c.leaveWith("/quit", nil)
		return
	case in.err != nil:
		c.leaveWith("/quit", fmt.Errorf("reading input: %w", in.err))
		return
	}
	if strings.TrimSpace(in.line) == "" {
		return // an empty line is no message
	}
	if isQuit(in.line) {
		// Sent as typed: the host decides what a /quit with words after
		// it means; the client only needs to know to wait.
		c.leaveWith(in.line, nil)
		return
	}
	// A script's input waits rather than being refused (input), so its
	// lines never make a run.
	if in.waited >= pasteGap || c.opts.Script {
		c.out.afterPause()
	}
	if c.out.cutShort() {
		return // the rest of a paste cut short: its first refused line said so
	}
	if c.localFileCommand(in.line) {
		return
	}
	if !c.out.queue(in.line) {
		// A paste past the bound is sent up to here, and no further: one
		// line says where it was cut, and none of the rest goes.
		c.ui.Note(Note{Warning, fmt.Sprintf("not sent: %s and every line pasted with it after it, as %d lines (%d KiB) already wait for the room; type them again once those have gone",
			quoteStart(in.line), c.out.waitingCount(), maxQueuedBytes>>10)})
		return
	}
	c.pump()
}

// quoteStart is the start of a line, quoted, for saying which line it is.
func quoteStart(line string) string {
	const shown = 30
	if r := []rune(line); len(r) > shown {
		line = string(r[:shown-1]) + "…"
	}
	return strconv.Quote(Sanitize(line))
}

// isQuit reports whether line is a /quit, with or without words after it.
func isQuit(line string) bool {
	fields := strings.Fields(line)
	return len(fields) > 0 && fields[0] == "/quit"
}

// heard takes the news of the current session's receiver.
func (c *client) heard(n sessionNews) {
	c.out.answered(n.answered)
	switch {
	case n.ended && c.awaiting != nil:
		w := c.stopAwaiting()
		w.then(n.err)
	case n.ended:
		c.lost(n.err)
	case c.awaiting != nil:
		// Done with: only its end matters.
	case n.replayOver && !c.replayOver:
		c.replayOver = true
		c.out.resume()
		c.pump()
	}
}

// noteLeft notes that the person left, at: quitWait from the first call,
// whatever is still going on ends; when patient (a script, not
// interrupted), quitWait from the last line that went out (tookLine). A
// call after ctx ended (an interrupt) ends the patience.
func (c *client) noteLeft(at time.Time) {
	patient := c.opts.Script && c.ctx.Err() == nil
	if c.leave.timer != nil {
		c.leave.patient = c.leave.patient && patient
		return
	}
	c.leave.at = at
	c.leave.deadline = at.Add(c.quitWait)
	c.leave.timer = time.NewTimer(time.Until(c.leave.deadline))
	c.leave.patient = patient
}

// scriptReconnectWait bounds how long a script that has ended waits for a
// lost room to come back with its last lines still to send.
const scriptReconnectWait = DefaultClosedPatience

// waitsForRoom reports whether the person's leaving waits for the room to
// come back: a script's, patient, while reconnecting, for up to
// scriptReconnectWait after its input ended.
func (c *client) waitsForRoom() bool {
	return c.retry != nil && c.scriptMayWait()
}

// scriptMayWait reports whether the person's leaving is a script's, which
// may wait for the room to come back with its last lines.
func (c *client) scriptMayWait() bool {
	return c.leave.patient && c.ctx.Err() == nil && time.Since(c.leave.at) < scriptReconnectWait
}

// tookLine notes that a line went out: a room that takes the lines of a
// script that has ended, at whatever pace, is given the time for the next.
func (c *client) tookLine() {
	if c.leave.timer != nil && c.leave.patient && !c.leavingRanOut() {
		c.extendLeaving()
	}
}

// extendLeaving gives a patient leaving quitWait from now.
func (c *client) extendLeaving() {
	c.leave.deadline = time.Now().Add(c.quitWait)
	c.leave.timer.Reset(c.quitWait)
	c.leave.over = false
}

// leavingRanOut reports whether the person's leaving is over, whether or
// not its timer was heard yet.
func (c *client) leavingRanOut() bool {
	if c.leave.timer != nil && !time.Now().Before(c.leave.deadline) {
		c.leave.over = true
	}
	return c.leave.over
}

// leavingRanOutNow is the leaving's deadline passing, with the room still
// keeping Join.
func (c *client) leavingRanOutNow() {
	if c.waitsForRoom() || c.filesBusy() {
		// Once back, the lines go, each with quitWait for the next
		// (tookLine).
		c.extendLeaving()
		return
	}
	c.leave.over = true
	if c.awaiting != nil {
		c.giveUpWaiting()
		return
	}
	// The person left while the owner was busy (a write the room did not
	// read, a replay it holds open, a pace of nothing), and the room kept
	// it so until now.
	c.abandon(nil)
}

// start makes sess the current session and starts receiving from it.
func (c *client) start(sess *Session) {
	news := make(chan sessionNews, 1)
	c.sess, c.news, c.replayOver = sess, news, false
	c.since = c.opts.Reconnect.clock()
	c.out.connect(sess.Welcome())
	go receive(sess, c.ui, c.opts.Backlog, news, c.fileFrames)
}

// pump sends waiting lines as far as the pace allows, and arms its timer
// for the next; once none waits and the person has left, their /quit goes.
func (c *client) pump() {
	for !c.done && c.sess != nil && c.replayOver && c.paced == nil && c.awaiting == nil {
		if c.out.empty() {
			if c.leave.quitAs != "" && !c.filesBusy() {
				c.quit(c.leave.quitAs, nil)
			}
			return
		}
		if d := c.out.wait(time.Now()); d > 0 {
			c.paced = time.NewTimer(d)
			c.notePacing()
			return
		}
		c.sendFirst()
	}
}

// notePacing tells the person, once, that the room's pace now holds their
// lines back, and what the pace is: a bot can tell why its lines go
// slowly, and by how much.
func (c *client) notePacing() {
	if c.pacingSaid {
		return
	}
	c.pacingSaid = true
	text := "pacing: the room takes lines at its own pace"
	if l := c.sess.Welcome().Limits; l != nil {
		text = fmt.Sprintf("pacing: the room takes %d %s at once, then %s a second", l.Burst, plural(l.Burst, "line", "lines"), perSecond(l.PerSecond))
	}
	// Those the reader has read ahead wait too, but for the end of input
	// or the /quit, once it has read it and the owner has not yet taken
	// it.
	n := c.out.waitingCount() + len(c.typed)
	if c.left.Err() != nil && c.ctx.Err() == nil && c.leave.quitAs == "" && len(c.typed) > 0 {
		n--
	}
	c.ui.Note(Note{Pacing, fmt.Sprintf("%s; %d %s waiting", text, n, plural(n, "line", "lines"))})
}

// perSecond is a rate of lines, in words, to a tenth: "2 lines", "1 line",
// "0.5 lines".
func perSecond(rate float64) string {
	r := math.Round(rate*10) / 10
	if r == 1 {
		return "1 line"
	}
	return strconv.FormatFloat(r, 'f', -1, 64) + " lines"
}

// sendFirst sends the first waiting line.
func (c *client) sendFirst() {
	l, err := c.out.take()
	if err != nil {
		c.lost(err)
		return
	}
	if l.act != nil {
		c.fileRefs[l.ref] = l.act
	}
	end := c.watchWrite(c.sess)
	if l.offer != nil {
		err = c.sess.sendOffer(*l.offer, l.to, l.ref)
	} else {
		err = c.sess.SendRef(l.text, l.ref)
	}
	c.wrote(end())
	if err == nil {
		c.tookLine()
		return
	}
	c.out.notSent(l)
	if errors.Is(err, errClosed) && c.leavingRanOut() {
		// Closed as the person's leaving ran out, with the room still not
		// reading.
		c.abandon(nil)
		return
	}
	// The receiver may know better why (a closed frame that raced the
	// write); give it a moment to say.
	c.awaitVerdict(&lostError{err}, c.lost)
}

// watched is what watchWrite saw while a write lasted.
type watched struct {
	leftAt  time.Time // when the person left meanwhile; zero if not
	expired bool      // their leaving ran out, and the session was closed
}

// watchWrite watches over a write to sess, the one thing the owner waits
// on the room for: a room that reads nothing keeps it waiting up to
// sendTimeout, and meanwhile the owner sees neither the person leave nor
// the leaving run out. So that such a room cannot keep the person from
// leaving, the watch closes the session once the leaving is over: at its
// deadline if the person had left, else quitWait after they leave during
// the write. Closing ends the write at once. A deadline on the write
// would not do: the person may leave after it was set, and a TLS
// connection whose write timed out still says goodbye on Close, to a room
// that reads nothing. The function returned ends the watch, once the
// write has returned, and says what it saw.
func (c *client) watchWrite(sess *Session) func() watched {
	written := make(chan struct{})
	seen := make(chan watched, 1)
	var left <-chan struct{}
	var deadline time.Time
	if c.leave.timer != nil {
		deadline = c.leave.deadline
	} else {
		left = c.left.Done()
	}
	go func(quitWait time.Duration) {
		var w watched
		var expire <-chan time.Time
		if !deadline.IsZero() {
			t := time.NewTimer(time.Until(deadline))
			defer t.Stop()
			expire = t.C
		}
		for {
			select {
			case <-written:
				seen <- w
				return
			case <-left:
				left, w.leftAt = nil, time.Now()
				t := time.NewTimer(quitWait)
				defer t.Stop()
				expire = t.C
			case <-expire:
				sess.Close()
				w.expired = true
				seen <- w
				return
			}
		}
	}(c.quitWait)
	return func() watched {
		close(written)
		return <-seen
	}
}

// wrote takes what the watch over a write saw.
func (c *client) wrote(w watched) {
	if !w.leftAt.IsZero() {
		c.noteLeft(w.leftAt)
	}
	if w.expired {
		c.leave.over = true
	}
}

// awaitVerdict starts waiting for the current session's end (see
// verdictWait); nothing goes out on it meanwhile, and the person's input
// waits.
func (c *client) awaitVerdict(fallback error, then func(verdict error)) {
	c.awaiting = &verdictWait{timer: time.NewTimer(c.quitWait), fallback: fallback, then: then}
}

func (c *client) stopAwaiting() *verdictWait {
	w := c.awaiting
	w.timer.Stop()
	c.awaiting = nil
	return w
}

// giveUpWaiting ends the wait for a verdict that did not come in time:
// the session is closed, and the verdict is the fallback.
func (c *client) giveUpWaiting() {
	w := c.stopAwaiting()
	c.sess.Close()
	for n := range c.news { // the receiver stops once the connection is closed
		c.out.answered(n.answered)
		if n.ended {
			break
		}
	}
	w.then(w.fallback)
}

// lost handles the end of the current session: it starts reconnecting
// when it may, and otherwise ends Join, with what it returns.
func (c *client) lost(err error) {
	scriptWaits := c.leave.timer != nil && c.scriptMayWait() && c.reconnectable(err)
	if c.leave.quitAs == "" && !scriptWaits && c.leavingRanOut() {
		// The person left while the owner was kept busy: no coming back.
		c.abandon(err)
		return
	}
	sess := c.sess
	c.disconnect()
	if scriptWaits {
		// A script has ended, with its last lines still going out: they
		// go once the room is back (see waitsForRoom).
		c.reconnect(sess, err)
		return
	}
	if c.leave.quitAs != "" {
		// The person has left, and only the last lines were still going
		// out: they are reported, not retried.
		c.reportUnsent()
		c.finish(endedWhileLeaving(err, nil))
		return
	}
	if c.reconnectable(err) {
		c.reconnect(sess, err)
		return
	}
	c.reportUnsent()
	var closed *ClosedError
	if errors.As(err, &closed) && closed.Code == wire.CodeRoomClosed {
		c.finish(nil)
		return
	}
	c.finish(err)
}

// finish ends Join, which returns ret.
func (c *client) finish(ret error) {
	if !c.done {
		c.cutFiles()
		c.done, c.result = true, ret
	}
}

func (c *client) disconnect() {
	if c.sess != nil {
		c.sess.Close()
	}
	c.sess, c.news, c.replayOver = nil, nil, false
	if c.paced != nil {
		c.paced.Stop()
		c.paced = nil
		// The line that held a token holds it on: the next session of
		// the same room paces on where this one left off (see
		// outgoing.connect).
	}
}

// stopTimers stops what timers are left once Join is over.
func (c *client) stopTimers() {
	for _, t := range []*time.Timer{c.leave.timer, c.paced} {
		if t != nil {
			t.Stop()
		}
	}
	if c.awaiting != nil {
		c.awaiting.timer.Stop()
	}
}

func (c *client) reconnectable(err error) bool {
	if c.opts.Reconnect == nil || err == nil || brokenRoom(err) != nil {
		return false
	}
	var lost *lostError
	var closed *ClosedError
	switch {
	case errors.As(err, &lost):
		return true
	case errors.As(err, &closed):
		switch closed.Code {
		case wire.CodeTooSlow, wire.CodeLost, wire.CodeRoomClosed:
			return true
		}
	}
	return false
}

// reconnect starts coming back to the room, in the background, after the
// loss of old for why. The round runs on its own goroutine, with its own
// rejoin, and tells the owner its statuses and its end.
func (c *client) reconnect(old *Session, why error) {
	var closed *ClosedError
	roomClosed := errors.As(why, &closed) && closed.Code == wire.CodeRoomClosed
	cause := InWords(why)
	var lost *lostError
	if errors.As(why, &lost) {
		// In words: a reset or a timeout as the system says it ("read tcp
		// 10.0.0.5:51234->10.0.0.1:7465: read: connection reset by peer")
		// tells a person nothing.
		cause = InWords(lost.err)
	}
	if roomClosed {
		c.ui.Note(Note{Progress, "reconnecting…"}) // "-- the room closed" is just above
	} else {
		c.ui.Note(Note{Progress, "connection lost (" + cause + "); reconnecting…"})
	}

	// By the name the person has now, which /nick may have changed: the
	// room keeps its place under that name.
	// The roster is kept across the resume (see Session.keepRoster).
	hello := wire.Frame{Name: old.Roster().Me(), Password: c.opts.Password, Resume: old.ResumePoint(), KeepsRoster: true}
	ctx, cancel := context.WithCancel(c.ctx)
	news := make(chan reconnectNews)
	finished := make(chan struct{})
	c.retry = &reconnecting{news: news, stop: cancel, finished: finished}
	rt := newRetrier(c.opts.Reconnect, func(s string) {
		select {
		case news <- reconnectNews{status: s}:
		case <-ctx.Done(): // no one listens any more
		}
	})
	if c.opts.Reconnect.clock().Sub(c.since) >= healthySession {
		c.tries = 0 // the room worked: come back at once
	}
	rt.start = c.tries
	// Counted as the room was when it was lost, which the welcome alone
	// is not: the first to come into a room that then filled were
	// welcomed into an empty one.
	rt.members = old.Roster().size()
	if roomClosed {
		rt.patience = c.opts.Reconnect.closedPatience()
		rt.outage = "the room closed"
	}
	way := rejoin{dial: c.dial, rediscover: c.opts.Reconnect.Rediscover, roomID: c.roomID}
	go func() {
		defer close(finished)
		defer cancel()
		tries := rt.start
		sess, err := retry(ctx, rt, func(ctx context.Context) (*Session, error) {
			tries++
			sess, err := way.attempt(ctx, hello)
			if err == nil {
				sess.keepRoster(old.Roster())
			}
			return sess, err
		})
		select {
		case news <- reconnectNews{end: &roundEnd{sess, err, tries, way.dial}}:
		case <-ctx.Done():
			if sess != nil {
				sess.Close() // back just too late: the person left
			}
		}
	}()
}

// heardRetry takes the news of the round of reconnecting.
func (c *client) heardRetry(n reconnectNews) {
	if n.end == nil {
		c.ui.Note(Note{Progress, n.status})
		return
	}
	a := n.end
	c.retry = nil
	c.dial = a.dial
	c.shareDial()
	if a.err != nil {
		var gaveUp *gaveUpError
		if errors.As(a.err, &gaveUp) {
			c.ui.Note(Note{Settled, gaveUp.Error()})
		}
		c.reportUnsent()
		if c.ctx.Err() != nil || gaveUp != nil {
			c.finish(nil) // the room closed, as without reconnecting
			return
		}
		c.finish(a.err)
		return
	}
	c.tries = a.tries
	c.back(a.sess)
}

// stopReconnecting ends the reconnecting, if it runs, and waits for it
// no longer than the person's leaving lasts; a session it makes just too
// late it closes itself.
func (c *client) stopReconnecting() {
	if c.retry == nil {
		return
	}
	c.retry.stop()
	wait := time.NewTimer(time.Until(c.leave.deadline))
	defer wait.Stop()
	select {
	case <-c.retry.finished:
	case <-wait.C:
	}
	c.retry = nil
}

// back takes up a new session after reconnecting.
func (c *client) back(sess *Session) {
	w := sess.Welcome()
	c.ui.Enter(w, sess.Roster())
	msg := "back in the room"
	if sess.Resumed() && sess.replayDue() > 0 {
		// Not how many: replayDue counts the numbers up to the welcome's,
		// and the room may hold fewer events than that, having dropped
		// joins and leaves of a flood of them to keep its messages.
		msg += ", the events you missed follow"
	}
	c.ui.Note(Note{Settled, msg})
	if c.leave.timer != nil && c.leave.patient {
		c.extendLeaving() // the script waited for the room: its lines go now
	}
	if sess.Resumed() && w.Taken > 0 {
		// The room says which lines it handled before the break, answered
		// or not: a private message or a command's answer is in no replay.
		c.out.answered(w.Taken)
	}
	switch {
	case sess.Resumed() && w.Missed > 0:
		// Missed counts the events between the resume point and the
		// replay, joins and leaves among them, and the room sends it only
		// when messages are among them: how many of those, no one knows.
		c.ui.Note(Note{Warning, "some messages from while you were away were lost (older than the room keeps)"})
	case sess.AskedResume() && !sess.Resumed():
		c.ui.Note(Note{Warning, "the room's history since you left was lost (the host restarted without its history)"})
	}
	c.start(sess)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// leaveWith is the person leaving: with line (a /quit) once what waits is
// sent, or at once when not connected, when interrupted, or with ret, an
// error reading their input.
func (c *client) leaveWith(line string, ret error) {
	c.noteLeft(time.Now())
	if c.sess == nil && ret == nil && c.waitsForRoom() && (!c.out.empty() || len(c.out.unanswered) > 0) {
		// A script's input ended while the room is away: its last lines
		// wait for the room to come back, then go, then its /quit.
		c.leave.quitAs = line
		return
	}
	if c.sess == nil {
		c.stopReconnecting()
		c.reportUnsent()
		c.finish(ret)
		return
	}
	if ret != nil || c.ctx.Err() != nil {
		c.reportUnsent()
		c.quit(line, ret)
		return
	}
	// What waits (or the replay) goes out first; the loop goes on, and no
	// longer reads the person's input.
	c.leave.quitAs = line
	c.pump()
}

// reportUnsent tells the person how many lines did not reach the room, if
// any: never dropped silently. Queued lines count, and so do those typed
// before the person left that the owner had not taken yet. Those still
// waiting for an answer on a session that is up count as sent: the host
// handles them before a /quit.
func (c *client) reportUnsent() {
	queued := c.out.dropWaiting() + c.typedBeforeLeaving()
	unconfirmed := 0
	if c.sess == nil || !c.replayOver {
		unconfirmed = c.out.dropUnanswered()
	}
	notSent := "not connected to the room"
	if c.sess != nil {
		notSent = "you left before the room took them" // ctx, while connected
	}
	// A line sent but never answered may have reached the room before the
	// break, so it is not counted as not sent.
	c.printUnsent(queued, notSent, unconfirmed, "the connection broke before the room answered")
}

// printUnsent says that queued lines were not sent, and unconfirmed ones
// sent but not confirmed, each for the reason given.
func (c *client) printUnsent(queued int, notSent string, unconfirmed int, notConfirmed string) {
	switch {
	case queued > 0 && unconfirmed > 0:
		c.ui.Note(Note{Warning, fmt.Sprintf("%d %s not sent (%s); %d more sent but not confirmed (%s)",
			queued, plural(queued, "line", "lines"), notSent, unconfirmed, notConfirmed)})
	case queued > 0:
		c.ui.Note(Note{Warning, fmt.Sprintf("%d %s not sent (%s)", queued, plural(queued, "line", "lines"), notSent)})
	case unconfirmed > 0:
		c.ui.Note(Note{Warning, fmt.Sprintf("%d %s sent but not confirmed (%s)", unconfirmed, plural(unconfirmed, "line", "lines"), notConfirmed)})
	}
}

// quit sends line (a /quit) and waits, up to quitWait, for the host to end
// the connection (awaitVerdict). Join then returns ret, unless the host
// closed the connection for another reason (a kick that crossed the
// /quit), which the person should still learn.
func (c *client) quit(line string, ret error) {
	end := c.watchWrite(c.sess)
	_ = c.sess.send(line, 0, c.quitWait) // a failure shows as the connection ending
	c.wrote(end())
	c.awaitVerdict(nil, func(verdict error) {
		sess := c.sess
		c.disconnect()
		if ret == nil && len(c.out.unanswered) > 0 && c.scriptMayWait() && c.reconnectable(verdict) {
			// A script's last lines were on their way with its /quit when
			// the connection broke: once back, the room says which it
			// took, the others go again, then the /quit.
			c.reconnect(sess, verdict)
			return
		}
		c.finish(endedWhileLeaving(verdict, ret))
	})
}

// abandon ends Join once quitWait has passed since the person left, with
// the room still keeping it: it says which lines did not go (those
// queued) and which may not have (sent, not answered), and closes the
// session. The verdict on the session, if it ended, is as in quit.
func (c *client) abandon(verdict error) {
	c.stopReconnecting()
	queued := c.out.dropWaiting() + c.typedBeforeLeaving()
	unconfirmed := c.out.dropUnanswered()
	c.disconnect()
	c.printUnsent(queued, "you left before the room took them", unconfirmed, "the room had not answered when you left")
	c.finish(endedWhileLeaving(verdict, nil))
}

// endedWhileLeaving is what Join returns when the connection ended with err
// after the person left: ret, unless the host closed it for a reason other
// than the room closing (a kick that crossed the /quit), which the person
// should still learn.
func endedWhileLeaving(err, ret error) error {
	var closed *ClosedError
	if errors.As(err, &closed) && closed.Code != wire.CodeRoomClosed {
		return closed
	}
	return ret
}

// typedBeforeLeaving takes the lines the person typed before leaving that
// the owner had not taken yet, and counts them.
func (c *client) typedBeforeLeaving() int {
	n := 0
	for {
		select {
		case in := <-c.typed:
			if in.err != nil || isQuit(in.line) {
				return n
			}
			if strings.TrimSpace(in.line) != "" {
				n++
			}
		default:
			return n
		}
	}
}

// earlierEnd is the line after the backlog.
const earlierEnd = "end of earlier messages"

// receive shows the host's frames until the connection ends, and tells
// the owner, on news, what it learns: the lines the room answered, that
// lines may be sent (at once, unless the session resumed and the events
// it missed are still coming), and at the end what Join should make of
// how it ended.
func receive(sess *Session, ui UI, backlog int, news chan sessionNews, files chan<- wire.Frame) {
	var n sessionNews
	n.err = showFrames(sess, ui, backlog, &n, func() { tell(news, n) }, files)
	n.ended = true
	tell(news, n)
}

// tell gives the owner n, the receiver's news so far, in place of any it
// has not taken yet, which n says too. So the receiver never waits for the
// owner, which may be blocked in a write while the room's frames must
// still be read and shown, and no news is lost.
func tell(news chan sessionNews, n sessionNews) {
	for {
		select {
		case news <- n:
			return
		default:
		}
		select {
		case <-news: // the older news, not taken yet
		default:
		}
	}
}

// showFrames is the receiver's loop: it shows sess's frames (of the
// backlog, as many as backlog says: see Options.Backlog), keeps n current
// and calls changed when it changes, and returns what Join should make of
// how the session ended.
func showFrames(sess *Session, ui UI, backlog int, n *sessionNews, changed func(), files chan<- wire.Frame) error {
	replayOver := func() {
		if !n.replayOver && (!sess.Resumed() || !sess.Replaying()) {
			n.replayOver = true
			changed()
		}
	}
	replayOver()
	earlier := earlierShown{ui: ui, limit: backlog}
	if w := sess.Welcome(); !w.Resumed {
		earlier.count = w.Backlog
	}
	for {
		f, err := sess.Next()
		if err != nil {
			if broken := brokenRoom(err); broken != nil {
				return broken // the same room would send the same again
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return &lostError{errors.New("the host closed it")}
			}
			return &lostError{err}
		}
		phase := sess.Phase(f)
		// Me is asked each time: the person's own /nick changes it.
		if f.Ref > n.answered && answers(f, sess.Roster().Me()) && phase != Backlog {
			// One answer covers every line before it (see outgoing). The
			// backlog's refs are not this client's: a line said under
			// the same name before this client joined (an earlier run of
			// a bot) carries the ref that one gave it.
			n.answered = f.Ref
			changed()
		}
		switch phase {
		case Backlog:
			earlier.show(f)
			if !sess.Replaying() {
				earlier.end() // the last the welcome said would come
			}
			continue
		case Missed:
			ui.Show(withoutCapabilities(f), phase)
			forwardFileFrame(f, sess.Roster().Me(), files)
			replayOver()
			continue
		}
		earlier.end()
		replayOver()
		ui.Show(withoutCapabilities(f), Live)
		forwardFileFrame(f, sess.Roster().Me(), files)
		switch f.Type {
		case wire.TypeClosed:
			if f.Code == wire.CodeLeft {
				return nil
			}
			return &ClosedError{Code: f.Code, By: f.By, Text: f.Text}
		case wire.TypeError:
			return fmt.Errorf("the room ended the connection: %s", Sanitize(f.Text))
		}
	}
}

// earlierShown shows a session's backlog: every event of it, or the
// latest limit of them (Options.Backlog); then the line that ends it, if
// any was shown. When the welcome says how many come, the latest are
// shown as they come; else they are held until the backlog is over, at
// most maxHeldBacklog of them.
type earlierShown struct {
	ui    UI
	limit int // 0: all; below 0: none
	count int // how many come, as the welcome says; 0: not said
	seen  int
	held  []wire.Frame
	shown bool // an event of the backlog was shown
	over  bool
}

// maxHeldBacklog bounds the events held of a backlog whose length the
// room does not say: a hostile room could send one without end.
const maxHeldBacklog = 1000

func (e *earlierShown) show(f wire.Frame) {
	e.seen++
	switch {
	case e.over || e.limit < 0:
	case e.limit == 0 || (e.count > 0 && e.seen > e.count-e.limit):
		e.ui.Show(f, Backlog)
		e.shown = true
	case e.count > 0:
		// Older than the latest limit: not shown.
	default:
		keep := min(e.limit, maxHeldBacklog)
		e.held = append(e.held, f)
		if len(e.held) >= 2*keep {
			// Only the latest can be shown: the room may send more.
			e.held = append(e.held[:0], e.held[len(e.held)-keep:]...)
		}
	}
}

// end shows what was held, and the end of the backlog; once.
func (e *earlierShown) end() {
	if e.over {
		return
	}
	e.over = true
	if keep := min(e.limit, maxHeldBacklog); keep > 0 && len(e.held) > keep {
		e.held = e.held[len(e.held)-keep:] // held only with a limit
	}
	for _, f := range e.held {
		e.ui.Show(f, Backlog)
		e.shown = true
	}
	e.held = nil
	if e.shown {
		e.ui.Note(Note{Info, earlierEnd})
	}
}

// answers reports whether f, which carries a ref, answers one of the
// person's own lines: an event or private message from them, or a notice
// (which is theirs alone). Others' events carry others' refs.
func answers(f wire.Frame, me string) bool {
	switch f.Type {
	case wire.TypeNotice:
		return true
	case wire.TypeEvent, wire.TypePrivate:
		// A /nick's event is the person's under the name it gives, which
		// the roster has followed by the time the event is shown.
		return f.From == me || (f.Kind == wire.KindNick && f.NewName == me)
	}
	return false
}

// forwardFileFrame gives the owner f, if it concerns the person's files:
// an answer (or a refusal) to a line's ref, or the announcement of the
// person's own offer. It never waits: past maxFileFrames waiting (only a
// hostile room sends that many), f is dropped.
func forwardFileFrame(f wire.Frame, me string, files chan<- wire.Frame) {
	switch {
	case f.Type == wire.TypeNotice && f.Ref > 0 && (f.File != nil || f.Error):
	case f.Type == wire.TypeEvent && f.Kind == wire.KindOffer && f.File != nil && (f.From == me || f.File.From == me):
	case f.Type == wire.TypePrivate && f.File != nil && (f.From == me || f.File.From == me):
	default:
		return
	}
	select {
	case files <- f:
	default:
	}
}

// shareDial gives the transfers the Dialer the room was last reached by:
// a transfer that tries again after a break goes where the room is now.
func (c *client) shareDial() {
	d := c.dial
	c.dialNow.Store(&d)
}

// withoutCapabilities is f as the UI is given it: a file's ID and upload
// Token (in the room's answer to an offer or a "/get") are for the
// client's transfers alone, and no UI shows them (JSON mode would write
// them out for any program to read).
func withoutCapabilities(f wire.Frame) wire.Frame {
	if f.File != nil && (f.File.ID != "" || f.File.Token != "") {
		file := *f.File
		file.ID, file.Token = "", ""
		f.File = &file
	}
	return f
}

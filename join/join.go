// Package join is the chatroom client: it connects a person to a room,
// keeps what the client knows of the room (the roster), shows the host's
// frames to the person and carries the person's lines to the host. It
// holds the protocol client (the handshake in [Connect], the [Session],
// the flow in [Join], reconnecting), trust (the client's identity, the
// rooms it knows and the keys it pins, dialing), and finding rooms on the
// network.
//
// The boundary: join knows nothing of terminals; join/tui knows nothing of
// sockets; main is the glue. The network is reached only through a
// [Dialer] (a TLS connection from [DialTLS], or the host's in-process
// pipe), and the person only through a [UI]: line mode or the interactive
// prompt, both in join/tui, which main passes in. Everything between is
// plain logic over those interfaces, so it is tested without a terminal
// or a real host. Nothing in this package prints: it gives the UI frames
// and notes to show, and returns errors as values for the command line to
// print.
//
// What this package says (its errors, its lines about rooms) shows what a
// room sent through [Sanitize], as join/tui shows every frame, so that no
// name or message can move the cursor, clear the screen or reorder text
// on the person's terminal. Sanitize is here, not in join/tui, because
// both need it.
package join

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"chatroom/host/wire"
)

// Dialer opens a new connection to the room each time it is called: the
// host's own person gets an in-process pipe, others a TLS connection. Join
// calls it again when it retries with another name, because the host
// closes a connection after refusing it.
type Dialer func(ctx context.Context) (net.Conn, error)

// UI is the person's side of Join: where their lines come from and where
// the room is shown. Join calls ReadLine from one goroutine and the other
// methods from others, so Enter, Show and Note must be safe to call while
// ReadLine blocks: room events arrive while the person types.
type UI interface {
	// ReadLine returns the next line the person typed, without its line
	// ending; io.EOF when input ends.
	ReadLine() (string, error)
	// AskName shows reason (why the name did not work) and asks for
	// another name. It returns false when it cannot ask or the person gave
	// none; line mode over a pipe never asks.
	AskName(reason string) (string, bool)
	// Enter is called each time the host welcomes the person (at first,
	// and after each reconnect), before any frame of that session is
	// shown, with the welcome and the roster that Join keeps current from
	// then on. The first welcome is the one to greet the person with.
	Enter(welcome wire.Frame, roster *Roster)
	// Show shows one frame from the host; phase says whether it happened
	// before the person joined (Backlog), while they were away (Missed),
	// or now (Live).
	Show(f wire.Frame, phase Phase)
	// Note shows one line of the client's own, such as a status while
	// reconnecting or lines that could not be sent.
	Note(n Note)
}

// Note is a line the client itself has to say to the person.
type Note struct {
	Kind NoteKind
	Text string
}

// NoteKind says what a Note is, which a UI may show each in its way.
type NoteKind int

const (
	// Info is a line about the session ("end of earlier messages").
	Info NoteKind = iota
	// Warning is something the person must know went wrong ("2 lines
	// not sent").
	Warning
	// Progress is the state of an outage ("connection lost; reconnecting…"),
	// which each later status replaces.
	Progress
	// Settled is the status that ends an outage ("back in the room", or
	// the reconnecting given up).
	Settled
)

// Options say who joins.
type Options struct {
	Name     string
	Password string // the admin password; "" joins as a plain member
	// Reconnect, when set, brings the person back into the room after the
	// connection is lost, where it left off; nil ends Join instead.
	Reconnect *Reconnect
	// Script says the lines come from a script (input that is not a
	// terminal): the end of its input means that it has nothing more to
	// say, not that someone wants out now, so leaving is patient while
	// the room takes the lines still waiting, and the input is not read
	// while maxQueued lines wait.
	Script bool
}

// quitWait bounds how long Join goes on after the person leaves (/quit,
// the end of input, or ctx): for the lines still queued to go out, the
// "/quit" after them, and the host's confirmation. A working host takes
// them at once; a room that paces them to nothing, holds its replay open,
// reads nothing or never confirms must not keep the person from leaving.
// A variable so tests can shorten it.
var quitWait = 2 * time.Second

// RefusedError is the host's refusal of a hello ("refused" frame).
type RefusedError struct {
	Code string // a wire.Code* constant
	Text string // the host's words, unsanitized
}

func (e *RefusedError) Error() string {
	if e.Text == "" {
		return "the room refused to let you in (" + Sanitize(e.Code) + ")"
	}
	return Sanitize(e.Text)
}

// ClosedError is the host ending the person's connection against their
// will: kicked, banned, or dropped for being too slow.
type ClosedError struct {
	Code string // a wire.Code* constant
	By   string // the admin who did it, if any
	Text string // the reason, if any, unsanitized
}

func (e *ClosedError) Error() string {
	var msg string
	switch e.Code {
	case wire.CodeKicked:
		msg = "you were kicked" + byWhom(e.By)
	case wire.CodeBanned:
		msg = "you were banned" + byWhom(e.By)
	case wire.CodeTooSlow:
		return "you were dropped (too slow)"
	case wire.CodeProtocol:
		return "you were disconnected (protocol error)"
	case wire.CodeRoomClosed:
		return "the room closed"
	case wire.CodeReplaced:
		return "you joined this room again from elsewhere, with the same name and key; this connection was closed"
	default:
		msg = "the room closed your connection"
		if e.Code != "" && e.Text == "" {
			return msg + " (" + Sanitize(e.Code) + ")"
		}
	}
	if e.Text != "" {
		msg += " (" + Sanitize(e.Text) + ")"
	}
	return msg
}

func byWhom(by string) string {
	if by == "" {
		return ""
	}
	return " by " + Sanitize(by)
}

// Join connects with dial as opts.Name and chats until the person quits or
// the room ends the connection.
//
// When the host refuses the name as taken or invalid, Join asks ui for
// another and dials again; a UI that cannot ask ends it with the
// *RefusedError. Once in, it prints the welcome line, sends each line the
// person types, and prints each frame from the host as Render shows it
// (the backlog a newcomer is sent marked as earlier). "/quit" or the end
// of input sends "/quit", after the lines still waiting to be sent, and
// waits briefly for the host to confirm; cancelling ctx sends it at once.
// All of that ends quitWait after the person left, whatever the room does:
// the lines that did not go out by then are reported, not sent. (The end
// of a script's input is no hurry: while the room takes its lines, at
// whatever pace, each gives it quitWait more.)
//
// With opts.Reconnect, a connection that breaks (or that the host closes
// because the member was too slow, or because the room is closing) is
// made again, with backoff, by the same Dialer, and else by finding the
// room again by its id; the hello asks to resume after the last event
// shown, so that what happened meanwhile is shown once, in order. The
// backoff goes on across sessions that end soon after their welcome, and
// starts over after one that lasted (healthySession). Lines typed
// meanwhile wait (up to maxQueued), and lines the room had not answered
// are sent again unless the events it replays show it took them. Being
// kicked or banned, leaving, refusals of the name or password, and a
// broken room (*BrokenRoomError) are never retried.
//
// It returns nil when the person quit (or ctx was cancelled) or the room
// closed; a *ClosedError when the person was kicked, banned or dropped; a
// *RefusedError when the host would not let them in; a *BrokenRoomError
// when the room sent what no working room sends (a frame the client
// cannot read, or no answer to maxUnanswered lines); and an error saying
// the connection was lost otherwise.
func Join(ctx context.Context, dial Dialer, opts Options, ui UI) error {
	sess, err := connectAsking(ctx, dial, opts, ui)
	if broken := brokenRoom(err); broken != nil && ctx.Err() == nil {
		return broken
	}
	if err != nil {
		var refused *RefusedError
		if ctx.Err() != nil && !errors.As(err, &refused) {
			return nil // the person interrupted; whatever failed, failed because of that
		}
		return err
	}
	ui.Enter(sess.Welcome(), sess.Roster())
	c := &client{ctx: ctx, dial: dial, opts: opts, ui: ui, quitWait: quitWait, scripted: opts.Script}
	if w := sess.Welcome(); w.Room != nil {
		c.roomID = w.Room.ID
	}
	return c.run(sess)
}

// connectAsking dials and says hello until the host welcomes the person,
// asking for another name while the host refuses the name and ui can ask.
func connectAsking(ctx context.Context, dial Dialer, opts Options, ui UI) (*Session, error) {
	name := opts.Name
	for {
		conn, err := dial(ctx)
		if err != nil {
			return nil, err
		}
		hello := wire.Frame{Type: wire.TypeHello, Version: wire.Version, Name: name, Password: opts.Password}
		sess, err := Connect(ctx, conn, hello)
		var refused *RefusedError
		if errors.As(err, &refused) && (refused.Code == wire.CodeNameTaken || refused.Code == wire.CodeNameInvalid) {
			if next, ok := ui.AskName(refused.Error()); ok && next != "" {
				name = next
				continue
			}
		}
		return sess, err
	}
}

// input is one result of UI.ReadLine.
type input struct {
	line string
	err  error
}

// maxQueued bounds the lines that wait while the client is not connected,
// or for the room to take them; a line beyond it is refused at once,
// unless it comes from a script, whose input then waits.
const maxQueued = 100

// maxUnanswered bounds the lines sent and not yet answered. A working
// room answers each line as it handles it (its event, a notice, a private
// message), and one answer covers every line before it, so only the lines
// on their way are unanswered: a few at the room's pace, and a run of
// commands that answer no one, until the next line that does. A room that
// leaves this many unanswered answers nothing: it is broken, rather than
// kept (up to wire.MaxText bytes each, 4 MB at most here) without end.
const maxUnanswered = 1000

// outLine is a line the person typed, with its ref once it has one.
type outLine struct {
	text string
	ref  uint64
}

// lostError is a connection that broke: with Reconnect, Join comes back.
type lostError struct{ err error }

func (e *lostError) Error() string { return "connection to the room lost: " + e.err.Error() }
func (e *lostError) Unwrap() error { return e.err }

// unanswered holds the lines sent and not yet answered (no event, private
// or notice with their ref seen), in the order sent. The host handles a
// member's lines in order, so an answer to one means every line before it
// was taken too.
type unanswered struct {
	mu    sync.Mutex
	lines []outLine
}

func (u *unanswered) add(l outLine) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.lines = append(u.lines, l)
}

func (u *unanswered) answered(ref uint64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	i := 0
	for i < len(u.lines) && u.lines[i].ref <= ref {
		i++
	}
	u.lines = u.lines[i:]
}

func (u *unanswered) take() []outLine {
	u.mu.Lock()
	defer u.mu.Unlock()
	l := u.lines
	u.lines = nil
	return l
}

func (u *unanswered) len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.lines)
}

// attempt is the end of a round of reconnecting.
type attempt struct {
	sess *Session
	err  error
	// tries counts the tries of this round and the earlier ones it went
	// on from (client.tries).
	tries int
}

// client runs a welcomed session and the ones that replace it. One
// goroutine (run) owns its fields, but for those under leaveMu; the
// person's lines are read by another (ReadLine blocks and cannot be
// interrupted), each session's frames by a third (receive), and
// reconnecting runs on a fourth.
type client struct {
	ctx    context.Context
	dial   Dialer // touched by the reconnecting goroutine only while it runs
	opts   Options
	ui     UI
	roomID string

	sess    *Session   // nil while disconnected
	ended   chan error // the receiver's verdict on sess
	ready   chan struct{}
	sendOK  bool // the replay is over: lines may go out on sess
	pace    *pacer
	wait    *time.Timer // the pacer's wait for queue[0], which holds a token
	waitC   <-chan time.Time
	queue   []outLine
	sent    unanswered
	track   bool // sess's host answers refs: lines are tracked until answered
	nextRef uint64
	quitAs  string // a /quit to send once the queue is empty; "" for none

	// leaving ends quitWait after the person leaves; then Join returns,
	// whatever the room does, and the session is closed (unhook stops
	// that for a session that ended before). left starts the clock: the
	// reader calls it as soon as it reads the person leave, though run
	// may be busy then.
	leaving     context.Context
	stopLeaving context.CancelFunc
	unhook      func() bool
	quitWait    time.Duration // quitWait as Join began: tests change it
	typed       <-chan input  // lines read from the person, not yet taken
	// scripted is input from a script (a line UI not at a terminal): its
	// end means that it has nothing more to say, not that someone wants
	// out now, so its leaving is patient: each line that goes out gives
	// the room quitWait more (see left).
	scripted   bool
	leaveMu    sync.Mutex
	leaveTimer *time.Timer // from when the person left; nil before
	patient    bool

	retrying  <-chan attempt
	stopRetry context.CancelFunc
	// tries counts the tries to reconnect since the last session that
	// lasted (healthySession), which the next round's backoff goes on
	// from; since is when the current session began.
	tries int
	since time.Time
}

func (c *client) run(sess *Session) error {
	c.leaving, c.stopLeaving = context.WithCancel(context.Background())
	defer c.stopLeaving()
	defer context.AfterFunc(c.ctx, func() { c.left(false) })()
	c.start(sess)
	// Buffered, so that the reader reads on while run is kept busy (a
	// write the room does not read): a /quit typed then is seen, and
	// starts the person's leaving, though run takes it only later.
	lines := make(chan input, maxQueued)
	c.typed = lines
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return // read no more lines from the person for nothing
			default:
			}
			line, err := c.ui.ReadLine()
			if err != nil || isQuit(line) {
				c.left(c.scripted)
			}
			select {
			case lines <- input{line, err}:
			case <-stop:
				// Join has returned. A line read now is lost, but the
				// session it was for is over.
				return
			}
			if err != nil {
				return
			}
		}
	}()

	for {
		in := lines
		if c.quitAs != "" || (c.scripted && c.sess != nil && len(c.queue) >= maxQueued) {
			// Sending what is queued first; the input waits. Only a
			// script's waits so: a person's is read whatever pace the
			// room keeps, since at a terminal Ctrl-C and Ctrl-D come
			// as input, after the lines pasted.
			in = nil
		}
		select {
		case <-c.ctx.Done():
			return c.leave("/quit", nil)
		case <-c.leaving.Done():
			// The person left while run was busy, and the room kept it
			// busy until now.
			return c.abandon(nil)
		case err := <-c.ended:
			if done, ret := c.lost(err); done {
				return ret
			}
		case <-c.ready:
			c.replayDone()
			if ret, done := c.pump(); done {
				return ret
			}
		case <-c.waitC:
			c.wait, c.waitC = nil, nil
			if ret, done := c.send(); done {
				return ret
			}
			if ret, done := c.pump(); done {
				return ret
			}
		case a := <-c.retrying:
			c.retrying, c.stopRetry = nil, nil
			if a.err != nil {
				var gaveUp *gaveUpError
				if errors.As(a.err, &gaveUp) {
					c.status(gaveUp.Error(), true)
				}
				c.reportUnsent()
				if c.ctx.Err() != nil || gaveUp != nil {
					return nil // the room closed, as without reconnecting
				}
				return a.err
			}
			c.tries = a.tries
			c.back(a.sess)
		case in := <-in:
			switch {
			case in.err == io.EOF:
				return c.leave("/quit", nil)
			case in.err != nil:
				return c.leave("/quit", fmt.Errorf("reading input: %w", in.err))
			}
			if strings.TrimSpace(in.line) == "" {
				continue // an empty line is no message
			}
			if isQuit(in.line) {
				// Sent as typed: the host decides what a /quit with words
				// after it means; the client only needs to know to wait.
				return c.leave(in.line, nil)
			}
			if len(c.queue) >= maxQueued {
				c.ui.Note(Note{Warning, fmt.Sprintf("not sent: %d lines are already waiting for the room", len(c.queue))})
				continue
			}
			c.queue = append(c.queue, outLine{text: in.line})
			if ret, done := c.pump(); done {
				return ret
			}
		}
	}
}

// isQuit reports whether line is a /quit, with or without words after it.
func isQuit(line string) bool {
	fields := strings.Fields(line)
	return len(fields) > 0 && fields[0] == "/quit"
}

// left notes that the person has left: quitWait from the first call,
// whatever is still going on ends; when patient, quitWait from the last
// line that went out (tookLine). A call that is not patient (ctx: an
// interrupt) ends the patience.
func (c *client) left(patient bool) {
	c.leaveMu.Lock()
	defer c.leaveMu.Unlock()
	if c.leaveTimer == nil {
		c.leaveTimer = time.AfterFunc(c.quitWait, c.stopLeaving)
		c.patient = patient
		return
	}
	c.patient = c.patient && patient
}

// tookLine notes that a line went out: a room that takes the lines of a
// script that has ended, at whatever pace, is given the time for the next.
func (c *client) tookLine() {
	c.leaveMu.Lock()
	defer c.leaveMu.Unlock()
	if c.leaveTimer != nil && c.patient && c.leaving.Err() == nil {
		c.leaveTimer.Reset(c.quitWait)
	}
}

// start makes sess the current session and starts receiving from it.
func (c *client) start(sess *Session) {
	c.sess = sess
	// Closing it unblocks a write the room does not read, and the
	// receiver.
	c.unhook = context.AfterFunc(c.leaving, func() { sess.Close() })
	c.since = c.opts.Reconnect.clock()
	c.ended = make(chan error, 1)
	c.ready = make(chan struct{}, 1)
	c.sendOK = false
	c.pace = newPacer(sess.Welcome().Limits)
	c.track = sess.Welcome().Epoch != ""
	go func(ended chan<- error, ready chan<- struct{}) {
		ended <- receive(sess, c.ui, &c.sent, ready)
	}(c.ended, c.ready)
}

// pump sends queued lines as far as the pacer allows, and arms its timer
// for the next. done means Join is over, with ret.
func (c *client) pump() (ret error, done bool) {
	for c.sess != nil && c.sendOK && c.wait == nil {
		if len(c.queue) == 0 {
			if c.quitAs != "" {
				return c.quit(c.quitAs, nil), true
			}
			return nil, false
		}
		if d := c.pace.reserve(time.Now()); d > 0 {
			c.wait = time.NewTimer(d)
			c.waitC = c.wait.C
			return nil, false
		}
		if ret, done := c.send(); done {
			return ret, true
		}
	}
	return nil, false
}

// send sends the first line in the queue.
func (c *client) send() (ret error, done bool) {
	if c.sess == nil || len(c.queue) == 0 {
		return nil, false
	}
	if c.track && c.sent.len() >= maxUnanswered {
		done, ret := c.lost(&BrokenRoomError{Why: fmt.Sprintf("it answered none of your last %d lines", maxUnanswered)})
		return ret, done
	}
	l := c.queue[0]
	if l.ref == 0 {
		c.nextRef++
		l.ref = c.nextRef
	}
	c.queue = c.queue[1:]
	if c.track {
		c.sent.add(l)
	}
	if err := c.sess.SendRef(l.text, l.ref); err != nil {
		if !c.track {
			c.queue = append([]outLine{l}, c.queue...) // not known to have arrived
		}
		if errors.Is(err, ErrClosed) && c.leaving.Err() != nil {
			// Closed as the person's leaving ran out, with the room
			// still not reading.
			return c.abandon(nil), true
		}
		// The receiver may know better why (a closed frame that raced
		// the write); give it a moment to say.
		verdict := c.await(c.sess, c.ended, &lostError{err})
		done, ret := c.lost(verdict)
		return ret, done
	}
	c.tookLine()
	return nil, false
}

// lost handles the end of the current session: it starts reconnecting
// when it may, and otherwise says that Join is done, and with what.
func (c *client) lost(err error) (done bool, ret error) {
	if c.leaving.Err() != nil && c.quitAs == "" {
		// The person left while run was kept busy: no coming back.
		return true, c.abandon(err)
	}
	sess := c.sess
	c.disconnect()
	if c.quitAs != "" {
		// The person has left, and only the last lines were still going
		// out: they are reported, not retried.
		c.reportUnsent()
		return true, endedWhileLeaving(err, nil)
	}
	if c.reconnectable(err) {
		c.reconnect(sess, err)
		return false, nil
	}
	c.reportUnsent()
	var closed *ClosedError
	if errors.As(err, &closed) && closed.Code == wire.CodeRoomClosed {
		return true, nil
	}
	return true, err
}

// replayDone takes up sending once the session's replay is over: the
// lines sent before the connection broke that the replay did not show
// taken go first, then what was typed since.
func (c *client) replayDone() {
	c.ready = nil
	c.sendOK = true
	if c.track {
		c.queue = append(c.sent.take(), c.queue...)
	}
}

func (c *client) disconnect() {
	if c.sess != nil {
		c.sess.Close()
	}
	if c.unhook != nil {
		c.unhook()
		c.unhook = nil
	}
	c.sess, c.ended, c.ready, c.sendOK = nil, nil, nil, false
	if c.wait != nil {
		c.wait.Stop()
		c.wait, c.waitC = nil, nil
		// The token it held is spent; the pacer is made anew on return.
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
// loss of old for why.
func (c *client) reconnect(old *Session, why error) {
	var closed *ClosedError
	roomClosed := errors.As(why, &closed) && closed.Code == wire.CodeRoomClosed
	cause := why.Error()
	var lost *lostError
	if errors.As(why, &lost) {
		cause = lost.err.Error()
	}
	if roomClosed {
		c.status("reconnecting…", false) // "-- the room closed" is just above
	} else {
		c.status("connection lost ("+cause+"); reconnecting…", false)
	}

	w := old.Welcome()
	hello := wire.Frame{Name: w.You.Name, Password: c.opts.Password, Resume: old.ResumePoint()}
	ctx, cancel := context.WithCancel(c.ctx)
	done := make(chan attempt, 1)
	c.retrying, c.stopRetry = done, cancel
	rt := newRetrier(c.opts.Reconnect, func(s string) { c.status(s, false) })
	if c.opts.Reconnect.clock().Sub(c.since) >= healthySession {
		c.tries = 0 // the room worked: come back at once
	}
	rt.start = c.tries
	if roomClosed {
		rt.patience = c.opts.Reconnect.closedPatience()
		rt.outage = "the room closed"
	}
	go func() {
		defer cancel()
		tries := rt.start
		sess, err := retry(ctx, rt, func(ctx context.Context) (*Session, error) {
			tries++
			return c.attempt(ctx, hello)
		})
		done <- attempt{sess, err, tries}
	}()
}

// attempt dials the room once (its last address, then wherever it is
// found by id) and says hello.
func (c *client) attempt(ctx context.Context, hello wire.Frame) (*Session, error) {
	conn, err := c.dial(ctx)
	if err != nil && !keyError(err) && c.opts.Reconnect.Rediscover != nil && c.roomID != "" {
		var dial Dialer
		dial, err = c.opts.Reconnect.Rediscover(ctx, c.roomID)
		if err == nil {
			if conn, err = dial(ctx); err == nil {
				c.dial = dial // where the room is now
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
	if w := sess.Welcome(); c.roomID != "" && (w.Room == nil || w.Room.ID != c.roomID) {
		sess.Close()
		id := ""
		if w.Room != nil {
			id = w.Room.ID
		}
		return nil, &permanentError{fmt.Errorf("the room that answered is another room (id %q, not %q)", Sanitize(id), Sanitize(c.roomID))}
	}
	return sess, nil
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
	c.status(msg, true)
	if sess.Resumed() && w.Taken > 0 {
		// The room says which lines it handled before the break, answered
		// or not: a private message or a command's answer is in no replay.
		c.sent.answered(w.Taken)
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

// status shows the state of an outage: a progress report, or with final
// the status that ends it.
func (c *client) status(text string, final bool) {
	kind := Progress
	if final {
		kind = Settled
	}
	c.ui.Note(Note{kind, text})
}

// leave is the person leaving: with line (a /quit) once what is queued is
// sent, or at once when not connected.
func (c *client) leave(line string, ret error) error {
	c.left(c.scripted && c.ctx.Err() == nil)
	if c.sess == nil {
		c.stopReconnecting()
		c.reportUnsent()
		return ret
	}
	if ret != nil || c.ctx.Err() != nil {
		c.reportUnsent()
		return c.quit(line, ret)
	}
	c.quitAs = line
	if r, done := c.pump(); done {
		return r
	}
	// Waiting for the queue (or the replay) to go out; run goes on.
	return c.runToQuit()
}

// runToQuit goes on sending what is queued until the /quit goes, or the
// session ends; the person's input is no longer read.
func (c *client) runToQuit() error {
	for {
		select {
		case <-c.ctx.Done():
			c.reportUnsent()
			return c.quit("/quit", nil)
		case <-c.leaving.Done():
			return c.abandon(nil)
		case err := <-c.ended:
			_, ret := c.lost(err) // c.quitAs is set: no reconnecting
			return ret
		case <-c.ready:
			c.replayDone()
		case <-c.waitC:
			c.wait, c.waitC = nil, nil
			if ret, done := c.send(); done {
				return ret
			}
		}
		if ret, done := c.pump(); done {
			return ret
		}
	}
}

// reportUnsent tells the person how many lines did not reach the room, if
// any: never dropped silently. Queued lines count, and so do those typed
// before the person left that run had not taken yet. Those still waiting
// for an answer on a session that is up count as sent: the host handles
// them before a /quit.
func (c *client) reportUnsent() {
	queued := len(c.queue) + c.typedBeforeLeaving()
	unconfirmed := 0
	if c.sess == nil || !c.sendOK {
		unconfirmed = c.sent.len()
		c.sent.take()
	}
	c.queue = nil
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
// the connection. It returns ret, unless the host closed the connection
// for another reason (a kick that crossed the /quit), which the person
// should still learn.
func (c *client) quit(line string, ret error) error {
	sess := c.sess
	_ = sess.send(line, 0, c.quitWait) // a failure shows as the connection ending
	err := c.await(sess, c.ended, nil)
	sess.Close()
	return endedWhileLeaving(err, ret)
}

// stopReconnecting ends the reconnecting, if it runs. A session it made
// just too late is closed, now or, when the room keeps it from ending
// until the person's leaving is over, once it ends.
func (c *client) stopReconnecting() {
	if c.stopRetry == nil {
		return
	}
	c.stopRetry()
	closeLate := func(a attempt) {
		if a.sess != nil {
			a.sess.Close() // back just too late
		}
	}
	select {
	case a := <-c.retrying:
		closeLate(a)
	case <-c.leaving.Done():
		go func(retrying <-chan attempt) { closeLate(<-retrying) }(c.retrying)
	}
	c.retrying, c.stopRetry = nil, nil
}

// abandon ends Join once quitWait has passed since the person left, with
// the room still keeping it: it says which lines did not go (those
// queued) and which may not have (sent, not answered), and closes the
// session. The verdict on the session, if it ended, is as in quit.
func (c *client) abandon(verdict error) error {
	c.stopReconnecting()
	queued, unconfirmed := len(c.queue)+c.typedBeforeLeaving(), c.sent.len()
	c.queue = nil
	c.sent.take()
	c.disconnect()
	c.printUnsent(queued, "you left before the room took them", unconfirmed, "the room had not answered when you left")
	return endedWhileLeaving(verdict, nil)
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
// run had not taken yet, and counts them.
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

// await waits up to quitWait, and no longer than the person's leaving
// lasts, for the receiver's verdict, and returns it; after that it closes
// the session and returns fallback.
func (c *client) await(sess *Session, ended <-chan error, fallback error) error {
	timer := time.NewTimer(c.quitWait)
	defer timer.Stop()
	select {
	case err := <-ended:
		return err
	case <-timer.C:
	case <-c.leaving.Done():
	}
	sess.Close()
	<-ended // the receiver stops once the connection is closed
	return fallback
}

// earlierEnd is the line after the backlog.
const earlierEnd = "end of earlier messages"

// receive shows the host's frames until the connection ends, and returns
// what Join should make of how it ended. It marks the lines the room
// answered in sent, and signals ready once lines may be sent: at once,
// unless the session resumed and the events it missed are still coming.
func receive(sess *Session, ui UI, sent *unanswered, ready chan<- struct{}) error {
	me := sess.Roster().Me()
	signalled := false
	signal := func() {
		if !signalled && (!sess.Resumed() || !sess.Replaying()) {
			signalled = true
			ready <- struct{}{}
		}
	}
	signal()
	backlog := false
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
		if f.Ref != 0 && answers(f, me) {
			sent.answered(f.Ref)
		}
		switch phase := sess.Phase(f); phase {
		case Backlog:
			backlog = true
			ui.Show(f, phase)
			continue
		case Missed:
			ui.Show(f, phase)
			signal()
			continue
		}
		if backlog {
			backlog = false
			ui.Note(Note{Info, earlierEnd})
		}
		signal()
		ui.Show(f, Live)
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

// answers reports whether f, which carries a ref, answers one of the
// person's own lines: an event or private message from them, or a notice
// (which is theirs alone). Others' events carry others' refs.
func answers(f wire.Frame, me string) bool {
	switch f.Type {
	case wire.TypeNotice:
		return true
	case wire.TypeEvent, wire.TypePrivate:
		return f.From == me
	}
	return false
}

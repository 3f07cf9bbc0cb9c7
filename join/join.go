// Package join is the chatroom client: it connects a person to a room,
// keeps what the client knows of the room (the roster), shows the host's
// frames to the person and carries the person's lines to the host. It
// holds the protocol client (the handshake in [Connect], the [Session],
// the flow in [Join], reconnecting), trust (the client's identity, the
// rooms it knows and the keys it pins, dialing), finding rooms on the
// network, and file sharing's client side: the /send and /get the person
// types, the uploads and fetches on connections of their own (each on its
// goroutine, reporting to the UI through [UI.Transfer]), and the
// one-shots [SendFile], [Get] and [ListFiles]. A fetched file is written
// only into the directory asked for, under a name [wire.CheckFileName]
// allows, never over a file (freeName), and is shown as done only once
// its sha256 matched.
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
	"cmp"
	"context"
	"errors"
	"net"
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
	// Transfer shows the state of a file transfer (see Transfer), called
	// from the goroutine that moves its bytes.
	Transfer(t Transfer)
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
	// Pacing is the room's pace starting to hold the person's lines back
	// ("pacing: the room takes 10 lines at once, then 2 lines a second;
	// 37 lines waiting"), said once: for a script, which may want to know
	// why its lines go slowly, rather than for the room's output.
	Pacing
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
	// the room takes the lines still waiting (and, when the room is away,
	// while it comes back, for up to scriptReconnectWait), and the input
	// is not read while maxQueued lines wait, connected or not: the
	// writer upstream waits, and no line is dropped.
	Script bool
	// Backlog is how many of the backlog's events (the room's last
	// messages, which it sends someone who joins) to show: 0 all the room
	// sends, NoBacklog none, else the latest Backlog of them.
	Backlog int

	// StateDir is the person's state directory (where KnownRoomsFile
	// is), which keeps the uploads not yet stored (in "uploads") for a
	// later run to go on with; "" keeps them for this run only.
	StateDir string

	// transferSleep is a transfer's wait between tries; nil is a timer.
	// Tests wait not.
	transferSleep func(ctx context.Context, d time.Duration) error
	// firstFile, when set, is called once the client runs, before any
	// line is read: SendFile and Get start their request with it.
	firstFile func(c *client)

	// quitWait is how long the leaving lasts (see defaultQuitWait); zero
	// is defaultQuitWait. Tests shorten it.
	quitWait time.Duration
	// announceWait bounds the wait, once an upload is stored, for the
	// room's announcement of it; zero is defaultAnnounceWait. Tests
	// shorten it.
	announceWait time.Duration
	// freeSpace is how many bytes are free in a directory (-1 unknown);
	// nil is the system's answer. Tests stand for a full disk with it.
	freeSpace func(dir string) int64
}

// NoBacklog, in Options.Backlog, shows none of the backlog.
const NoBacklog = -1

// defaultQuitWait bounds how long Join goes on after the person leaves
// (/quit, the end of input, or ctx): for the lines still queued to go
// out, the "/quit" after them, and the host's confirmation. A working
// host takes them at once; a room that paces them to nothing, holds its
// replay open, reads nothing or never confirms must not keep the person
// from leaving.
const defaultQuitWait = 2 * time.Second

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
// *RefusedError. Once in, it tells ui of the welcome (Enter), sends each
// line the person types, and gives ui each frame from the host to show,
// with its phase (the backlog a newcomer is sent is Backlog). "/quit" or the end
// of input sends "/quit", after the lines still waiting to be sent, and
// waits briefly for the host to confirm; cancelling ctx sends it at once.
// All of that ends defaultQuitWait after the person left, whatever the
// room does: the lines that did not go out by then are reported, not
// sent. (The end of a script's input is no hurry: while the room takes
// its lines, at whatever pace, each gives it that time more.)
//
// With opts.Reconnect, a connection that breaks (or that the host closes
// because the member was too slow, or because the room is closing) is
// made again, with backoff, by the same Dialer, and else by finding the
// room again by its id; the hello asks to resume after the last event
// shown, so that what happened meanwhile is shown once, in order. The
// backoff goes on across sessions that end soon after their welcome, and
// starts over after one that lasted (healthySession). Lines typed
// meanwhile wait (a person's up to maxQueuedBytes of text; a script's
// input waits with them), and lines the room had not answered
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
	_, err := join(ctx, dial, opts, ui)
	return err
}

// join is Join, which also returns the client once it is over (nil if
// the person never got in), for what it knows of the lines sent.
func join(ctx context.Context, dial Dialer, opts Options, ui UI) (*client, error) {
	sess, err := connectAsking(ctx, dial, opts, ui)
	if broken := brokenRoom(err); broken != nil && ctx.Err() == nil {
		return nil, broken
	}
	if err != nil {
		var refused *RefusedError
		if ctx.Err() != nil && !errors.As(err, &refused) {
			return nil, nil // the person interrupted; whatever failed, failed because of that
		}
		return nil, err
	}
	ui.Enter(sess.Welcome(), sess.Roster())
	c := &client{ctx: ctx, dial: dial, opts: opts, ui: ui, quitWait: cmp.Or(opts.quitWait, defaultQuitWait)}
	if w := sess.Welcome(); w.Room != nil {
		c.roomID = w.Room.ID
	}
	return c, c.run(sess)
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

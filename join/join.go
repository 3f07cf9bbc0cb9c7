// Package join is the chatroom client: it connects a person to a room,
// keeps what the client knows of the room (the roster), turns the host's
// frames into lines of text, and carries the person's lines to the host.
//
// The boundary: the network is reached only through a [Dialer] (a TLS
// connection from [DialTLS], or the host's in-process pipe), and the person
// only through a [UI]: line mode from [NewLineUI], or at a terminal the
// interactive prompt from [NewPrompt], whose every byte to the terminal
// goes through one [Output]. Everything between — the handshake in
// [Connect], the [Session], the [Roster], [Render] and [Style], completion
// and the flow in [Join] — is plain logic over those interfaces, so it is
// tested without a terminal or a real host. Nothing in this package prints
// except through a UI, and errors are returned as values for the command
// line to print.
//
// Everything the host sends is shown through [Sanitize], so that no name or
// message can move the cursor, clear the screen or reorder text on the
// person's terminal.
package join

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"chatroom/host/wire"
)

// Dialer opens a new connection to the room each time it is called: the
// host's own person gets an in-process pipe, others a TLS connection. Join
// calls it again when it retries with another name, because the host
// closes a connection after refusing it.
type Dialer func(ctx context.Context) (net.Conn, error)

// UI is what the client logic needs from a screen.
type UI interface {
	// ReadLine returns the next line the person typed, without its line
	// ending; io.EOF when input ends.
	ReadLine() (string, error)
	// Print shows one line of room output. It must be safe to call from
	// another goroutine while ReadLine blocks: room events arrive while the
	// person types.
	Print(line string)
	// AskName shows reason (why the name did not work) and asks for
	// another name. It returns false when it cannot ask or the person gave
	// none; line mode over a pipe never asks.
	AskName(reason string) (string, bool)
}

// RoomUI is a UI that knows the room it shows, as an interactive prompt
// does: it names the room and the person in its prompt, completes names and
// commands from the roster, and styles each frame itself. Join uses these
// methods when its UI has them.
type RoomUI interface {
	UI
	// Enter is called once the host has welcomed the person, before any
	// frame is shown, with the welcome and the roster that Join keeps
	// current from then on.
	Enter(welcome wire.Frame, roster *Roster)
	// Show shows one frame from the host, in place of printing Render's
	// lines. Like Print, it is called while ReadLine blocks.
	Show(f wire.Frame)
}

// Options say who joins.
type Options struct {
	Name     string
	Password string // the admin password; "" joins as a plain member
}

// quitWait bounds how long Join waits, after sending "/quit", for the
// host to confirm: the host answers at once, and a person who quit must not
// be kept waiting by a host that does not. A variable so tests can shorten
// it.
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
// person types, and prints each frame from the host as Render shows it.
// "/quit" or the end of input sends "/quit" and waits briefly for the host
// to confirm; cancelling ctx does the same.
//
// It returns nil when the person quit (or ctx was cancelled) or the room
// closed; a *ClosedError when the person was kicked, banned or dropped; a
// *RefusedError when the host would not let them in; and an error saying
// the connection was lost otherwise.
func Join(ctx context.Context, dial Dialer, opts Options, ui UI) error {
	sess, err := connectAsking(ctx, dial, opts, ui)
	if err != nil {
		var refused *RefusedError
		if ctx.Err() != nil && !errors.As(err, &refused) {
			return nil // the person interrupted; whatever failed, failed because of that
		}
		return err
	}
	defer sess.Close()
	if r, ok := ui.(RoomUI); ok {
		r.Enter(sess.Welcome(), sess.Roster())
	}
	ui.Print(WelcomeLine(sess.Welcome()))
	return chat(ctx, sess, ui)
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

// chat runs a welcomed session: the host's frames are printed by one
// goroutine, the person's lines read by another (ReadLine blocks and cannot
// be interrupted), and this one sends lines and decides when it is over.
func chat(ctx context.Context, sess *Session, ui UI) error {
	ended := make(chan error, 1)
	go func() { ended <- receive(sess, ui) }()
	pace := newPacer(sess.Welcome().Limits)

	lines := make(chan input)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			line, err := ui.ReadLine()
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
		select {
		case err := <-ended:
			return err
		case <-ctx.Done():
			return quit(sess, ended, "/quit", nil)
		case in := <-lines:
			switch {
			case in.err == io.EOF:
				return quit(sess, ended, "/quit", nil)
			case in.err != nil:
				return quit(sess, ended, "/quit", fmt.Errorf("reading input: %w", in.err))
			}
			fields := strings.Fields(in.line)
			if len(fields) == 0 {
				continue // an empty line is no message
			}
			if fields[0] == "/quit" {
				// Sent as typed: the host decides what a /quit with words
				// after it means; the client only needs to know to wait.
				return quit(sess, ended, in.line, nil)
			}
			if wait := pace.reserve(time.Now()); wait > 0 {
				timer := time.NewTimer(wait)
				select {
				case err := <-ended:
					timer.Stop()
					return err
				case <-ctx.Done():
					timer.Stop()
					return quit(sess, ended, "/quit", nil)
				case <-timer.C:
				}
			}
			if err := sess.Send(in.line); err != nil {
				// The receiver may know better why (a closed frame that
				// raced the write); give it a moment to say.
				return await(sess, ended, fmt.Errorf("connection to the room lost: %w", err))
			}
		}
	}
}

// quit sends line (a /quit) and waits, up to quitWait, for the host to end
// the connection. It returns ret, unless the host closed the connection
// for another reason (a kick that crossed the /quit), which the person
// should still learn.
func quit(sess *Session, ended <-chan error, line string, ret error) error {
	_ = sess.send(line, quitWait) // a failure shows as the connection ending
	err := await(sess, ended, nil)
	var closed *ClosedError
	if errors.As(err, &closed) {
		return closed
	}
	return ret
}

// await waits up to quitWait for the receiver's verdict, and returns it;
// after that it closes the session and returns fallback.
func await(sess *Session, ended <-chan error, fallback error) error {
	timer := time.NewTimer(quitWait)
	defer timer.Stop()
	select {
	case err := <-ended:
		return err
	case <-timer.C:
		sess.Close()
		<-ended // the receiver stops once the connection is closed
		return fallback
	}
}

// receive prints the host's frames until the connection ends, and returns
// what Join should return for how it ended.
func receive(sess *Session, ui UI) error {
	me := sess.Roster().Me()
	show := func(f wire.Frame) {
		for _, line := range Render(f, me, time.Local) {
			ui.Print(line)
		}
	}
	if r, ok := ui.(RoomUI); ok {
		show = r.Show
	}
	for {
		f, err := sess.Next()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return errors.New("connection to the room lost: the host closed it")
			}
			return fmt.Errorf("connection to the room lost: %w", err)
		}
		show(f)
		switch f.Type {
		case wire.TypeClosed:
			switch f.Code {
			case wire.CodeLeft, wire.CodeRoomClosed:
				return nil
			}
			return &ClosedError{Code: f.Code, By: f.By, Text: f.Text}
		case wire.TypeError:
			return fmt.Errorf("the room ended the connection: %s", Sanitize(f.Text))
		}
	}
}

package join

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"chatroom/host/wire"
)

// Timeouts for a session.
const (
	// welcomeTimeout bounds the hello and the welcome together, so that a
	// host that accepts connections but never answers does not hang the
	// person. It is longer than the host's own handshake limit, which
	// ends such a connection from its side first.
	welcomeTimeout = 15 * time.Second
	// sendTimeout bounds one write to the host. A host that takes longer
	// to read a line is not there any more.
	sendTimeout = 10 * time.Second
)

// ErrClosed is returned by Send on a session that was closed.
var ErrClosed = errors.New("not connected to the room")

// Session is one welcomed connection to a room. Send may be called from
// one goroutine while another calls Next; Close from any.
type Session struct {
	conn    net.Conn
	dec     *wire.Decoder
	welcome wire.Frame
	roster  *Roster

	seq uint64 // the last event's number; only Next touches it

	wmu       sync.Mutex // one frame at a time on the wire
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	// wrote is when a frame last went to the host (UnixNano), so that a
	// ping goes only after a heartbeat interval of silence.
	wrote atomic.Int64
	done  chan struct{} // closed by Close: the pinger stops
}

// Connect sends hello on conn and waits for the host's welcome, for at
// most welcomeTimeout or until ctx ends. A hello without a type or
// version gets the current ones. A refusal is returned as *RefusedError.
// On any error conn is closed.
func Connect(ctx context.Context, conn net.Conn, hello wire.Frame) (s *Session, err error) {
	defer func() {
		if err != nil {
			conn.Close()
		}
	}()
	if hello.Type == "" {
		hello.Type = wire.TypeHello
	}
	if hello.Version == 0 {
		hello.Version = wire.Version
	}
	msg, err := wire.Encode(&hello)
	if err != nil {
		return nil, err
	}

	deadline := time.Now().Add(welcomeTimeout)
	ctxDeadline := false
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, ctxDeadline = d, true
	}
	conn.SetDeadline(deadline)
	// Cancelling ctx moves the deadline to the past, which wakes the
	// blocked write or read below.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })

	dec := wire.NewDecoder(conn, wire.MaxHostFrame)
	f, err := exchange(conn, dec, msg)
	stop()
	if ctx.Err() != nil {
		// Whatever exchange saw, the cause was ctx (its deadline or its
		// cancelling), and the caller knows it by its error.
		return nil, ctx.Err()
	}
	if err != nil {
		var nerr net.Error
		if errors.As(err, &nerr) && nerr.Timeout() {
			if ctxDeadline {
				// The connection's clock can beat ctx's to the same
				// instant; the caller's deadline is what ran out.
				return nil, context.DeadlineExceeded
			}
			return nil, fmt.Errorf("no welcome from the room within %v", welcomeTimeout)
		}
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	s = &Session{conn: conn, dec: dec, welcome: f, roster: newRoster(f), seq: f.Seq, done: make(chan struct{})}
	s.wrote.Store(time.Now().UnixNano())
	if f.HeartbeatMS > 0 {
		// The host takes a member it hears nothing from for three
		// intervals as gone, so an idle person must still be heard.
		go s.ping(time.Duration(f.HeartbeatMS) * time.Millisecond)
	}
	return s, nil
}

// ping sends a ping frame whenever nothing was sent for interval, until
// the session is closed.
func (s *Session) ping(interval time.Duration) {
	msg, _ := wire.Encode(&wire.Frame{Type: wire.TypePing})
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		if idle := time.Since(time.Unix(0, s.wrote.Load())); idle < interval {
			t.Reset(interval - idle)
			continue
		}
		if s.write(msg, sendTimeout) != nil {
			return // the reader finds out why
		}
		t.Reset(interval)
	}
}

// exchange writes the hello and reads the answer, which it returns only if
// it is a usable welcome.
func exchange(conn net.Conn, dec *wire.Decoder, hello []byte) (wire.Frame, error) {
	if _, err := conn.Write(hello); err != nil {
		return wire.Frame{}, fmt.Errorf("saying hello to the room: %w", err)
	}
	f, err := dec.Decode()
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return f, errors.New("the room closed the connection without a welcome")
	case err != nil:
		return f, fmt.Errorf("waiting for the room's welcome: %w", err)
	}
	switch f.Type {
	case wire.TypeWelcome:
		if f.You == nil || f.You.Name == "" {
			return f, errors.New("the room's welcome does not say who you are")
		}
		return f, nil
	case wire.TypeRefused:
		return f, &RefusedError{Code: f.Code, Text: f.Text}
	case wire.TypeError:
		return f, fmt.Errorf("the room could not read the hello: %s", Sanitize(f.Text))
	}
	return f, fmt.Errorf("the room answered the hello with a %q frame", Sanitize(f.Type))
}

// Welcome is the host's welcome frame. Its slices are copies: the roster,
// not the welcome, is what changes.
func (s *Session) Welcome() wire.Frame {
	w := s.welcome
	w.Members = slices.Clone(w.Members)
	w.Commands = slices.Clone(w.Commands)
	return w
}

// Roster is what the session knows of the room now.
func (s *Session) Roster() *Roster { return s.roster }

// Send sends text, one line the person typed, as a say frame.
func (s *Session) Send(text string) error {
	return s.send(text, sendTimeout)
}

func (s *Session) send(text string, timeout time.Duration) error {
	if len(text) > wire.MaxText {
		// The host would end the connection over it; the UI should have
		// stopped it already.
		return fmt.Errorf("message longer than %d bytes", wire.MaxText)
	}
	msg, err := wire.Encode(&wire.Frame{Type: wire.TypeSay, Text: text})
	if err != nil {
		return err
	}
	return s.write(msg, timeout)
}

func (s *Session) write(msg []byte, timeout time.Duration) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.conn.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := s.conn.Write(msg); err != nil {
		if s.closed.Load() {
			return ErrClosed
		}
		return fmt.Errorf("sending to the room: %w", err)
	}
	s.wrote.Store(time.Now().UnixNano())
	return nil
}

// SequenceError is an event that does not follow the one before it. Every
// member gets every event in order, so a gap means the client's picture of
// the room (its roster) can no longer be trusted.
type SequenceError struct {
	Want, Got uint64
}

func (e *SequenceError) Error() string {
	return fmt.Sprintf("the room sent event %d where event %d was due", e.Got, e.Want)
}

// Next returns the next frame from the host, after applying it to the
// roster. It returns io.EOF when the host has closed the connection. An
// unreadable frame is answered with an error frame, as the protocol asks,
// and ends the session.
func (s *Session) Next() (wire.Frame, error) {
	f, err := s.dec.Decode()
	if err != nil {
		var werr *wire.Error
		if errors.As(err, &werr) {
			if msg, eerr := wire.Encode(&wire.Frame{Type: wire.TypeError, Code: werr.Code, Text: werr.Msg}); eerr == nil {
				s.write(msg, sendTimeout)
			}
			s.Close()
			return wire.Frame{}, fmt.Errorf("unreadable frame from the room: %w", err)
		}
		return wire.Frame{}, err
	}
	if f.Type == wire.TypeEvent {
		if f.Seq <= s.welcome.Seq && s.seq == s.welcome.Seq {
			// The backlog the host sends right after the welcome: earlier
			// messages, numbered below it, shown as they come; they change
			// nothing in the roster.
			return f, nil
		}
		if f.Seq != s.seq+1 {
			s.Close()
			return wire.Frame{}, &SequenceError{Want: s.seq + 1, Got: f.Seq}
		}
		s.seq = f.Seq
	}
	s.roster.apply(f)
	return f, nil
}

// Close ends the connection. It unblocks a Next in another goroutine.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.closed.Store(true)
		s.closeErr = s.conn.Close()
	})
	return s.closeErr
}

package join

import (
	"context"
	"crypto/tls"
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
	// errorFrameTimeout bounds the error frame the client sends a room
	// whose frame it could not read, as the protocol asks: a courtesy,
	// which a room that does not read must not make the session wait for.
	errorFrameTimeout = time.Second
	// minHeartbeat and maxHeartbeat are the range within which the client
	// takes the welcome's heartbeat. The host's is 5 seconds (and tests'
	// as short as 50 ms). A shorter one would make the client ping in a
	// loop; a longer one, or one past what a Duration holds, would let a
	// dead room go unnoticed for good (or overflow into a deadline in the
	// past). A host that pings less often than every three times the
	// longest is taken as gone while its room is quiet, and is resumed.
	minHeartbeat = 100 * time.Millisecond
	maxHeartbeat = time.Minute
)

// sessionHeartbeat is the heartbeat the client keeps for a welcome's
// heartbeat_ms: none for none (zero or less), else within the range above.
func sessionHeartbeat(ms int) time.Duration {
	if ms <= 0 {
		return 0
	}
	return time.Duration(min(max(int64(ms), minHeartbeat.Milliseconds()), maxHeartbeat.Milliseconds())) * time.Millisecond
}

// errClosed is returned by Send on a session that was closed.
var errClosed = errors.New("not connected to the room")

// Session is one welcomed connection to a room. Send may be called from
// one goroutine while another calls Next; Close from any.
//
// A session keeps the room's events in order and each once. Events
// numbered below the welcome's Seq come first: the backlog (to a
// newcomer) or what was missed (to a member that resumed); see Phase.
// An event at or below the last one this session, or the session its
// hello resumed from, has passed on is dropped, so an over-eager replay
// never shows anything twice. ResumePoint is where the next connection
// should resume.
type Session struct {
	conn    net.Conn
	dec     *wire.Decoder
	welcome wire.Frame
	roster  *Roster
	asked   *wire.Resume // the hello's resume point, if any

	// Only Next touches these.
	seq       uint64 // the last live event's number (the welcome's at first)
	shown     uint64 // the last event passed on or held from before: older ones are dropped
	replaying bool   // events below the welcome's Seq may still come
	replayed  int    // events passed on from below the welcome's Seq
	// backlogSeen counts the events of a newcomer's backlog that came,
	// passed on or not, against the welcome's Backlog.
	backlogSeen int
	// privateShown is the number of the last private frame passed on (or
	// held from before, when resumed): a private frame is numbered among
	// those the room sent this member (wire.Frame.PrivateSeq).
	privateShown uint64
	err          error // what ended the session, once Next has returned it

	// arrivalTold: the presence event numbered as the welcome came (see
	// ownArrival).
	arrivalTold bool
	// rosterKept: the roster is the last session's, which the replay
	// brings up to date (see keepRoster); otherwise it is the welcome's
	// list, which the replay is older than.
	rosterKept bool

	// askedMembers: the members were asked for on this connection
	// (askMembers); only the client's owner touches it.
	askedMembers bool

	point        atomic.Uint64 // the resume point's seq (see ResumePoint)
	privatePoint atomic.Uint64 // and its Private

	heartbeat time.Duration // the welcome's heartbeat interval; 0: none
	lastWrite atomic.Int64  // when a frame was last written, in UnixNano

	wmu       sync.Mutex // one frame at a time on the wire
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	done      chan struct{} // closed by Close
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
	// A big room may leave the members out of the welcome: the roster
	// asks for them when a UI needs them (Roster.WaitWhole).
	hello.AsksMembers = true
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
	// The welcome names the room the certificate named: the id it gives
	// is the one reconnecting looks for, and keys are pinned by the
	// certificate's.
	if tc, ok := conn.(*tls.Conn); ok {
		if key, err := roomKeyOf(tc.ConnectionState()); err == nil && (f.Room == nil || f.Room.ID != key.ID) {
			return nil, &BrokenRoomError{Why: "its welcome names another room than its certificate does"}
		}
	}
	conn.SetDeadline(time.Time{})
	return newSession(conn, dec, f, hello.Resume), nil
}

func newSession(conn net.Conn, dec *wire.Decoder, w wire.Frame, asked *wire.Resume) *Session {
	// The welcome kept says what the session keeps to, not what the room
	// announced: the pacer and the pings follow it.
	w.Limits = saneLimits(w.Limits)
	heartbeat := sessionHeartbeat(w.HeartbeatMS)
	w.HeartbeatMS = int(heartbeat.Milliseconds())
	s := &Session{
		conn: conn, dec: dec, welcome: w, roster: newRoster(w), asked: asked,
		seq:       w.Seq,
		replaying: true,
		heartbeat: heartbeat,
		done:      make(chan struct{}),
	}
	if asked != nil && asked.Epoch != "" && asked.Epoch == w.Epoch {
		// The same run of numbers: what the last connection showed is not
		// shown again, whether or not the host resumed from it.
		s.shown = asked.Seq
	}
	// The resume point: everything up to the welcome's Seq (the person's
	// own join) for a newcomer, whose backlog is extra; for a member that
	// resumed, where it stands in the replay.
	s.point.Store(w.Seq)
	if w.Resumed && asked != nil {
		// min(asked.Seq+w.Missed, w.Seq), which a room's Missed near
		// 2^64 must not wrap round to below where the member stood.
		if asked.Seq < w.Seq && w.Missed < w.Seq-asked.Seq {
			s.point.Store(asked.Seq + w.Missed)
		}
		// The room's numbering of private frames goes on only on a resume.
		s.privateShown = asked.Private
		s.privatePoint.Store(asked.Private)
	}
	if w.Resumed && s.replayDue() == 0 {
		s.endReplay() // nothing was missed
	}
	s.lastWrite.Store(time.Now().UnixNano())
	if s.heartbeat > 0 {
		go s.ping()
	}
	return s
}

// replayDue is how many events a resumed session still expects from below
// the welcome's Seq; 0 for a newcomer, whose backlog is counted apart
// (lastOfBacklog).
func (s *Session) replayDue() uint64 {
	if !s.welcome.Resumed {
		return 0
	}
	p := s.point.Load()
	if p+1 >= s.welcome.Seq {
		return 0
	}
	return s.welcome.Seq - 1 - p
}

// keepRoster makes the session's roster old's, that of the session
// whose resume point the hello gave, when the welcome left the members
// out for it (wire.Frame.MembersOmitted), and has the welcome list them
// as that roster does. A welcome that left them out for a hello that
// did not ask, or without resuming, is taken as listing no one. It must
// be called before Next.
func (s *Session) keepRoster(old *Roster) {
	if !s.welcome.MembersOmitted || !s.Resumed() || old == nil {
		return
	}
	s.roster = old.keptFor(s.welcome)
	s.rosterKept = true
	s.welcome.Members = s.roster.listed()
	if partial, n := s.roster.Partial(); partial {
		s.welcome.Members = nil
		s.welcome.MembersOnRequest, s.welcome.MemberCount = true, n
	}
}

// Phase says where an event from Next stands.
type Phase int

const (
	Live    Phase = iota // happened while the person is in the room
	Backlog              // from before the person joined, to show as earlier
	Missed               // happened while the person was away, delivered on resuming
)

// Phase returns the phase of f, an event or private message Next
// returned (other frames are Live).
func (s *Session) Phase(f wire.Frame) Phase {
	if f.Type == wire.TypePrivate {
		if s.welcome.Resumed && f.Seq < s.welcome.Seq {
			return Missed
		}
		return Live
	}
	if f.Type != wire.TypeEvent || f.Seq >= s.welcome.Seq {
		return Live
	}
	if s.welcome.Resumed {
		return Missed
	}
	return Backlog
}

// Resumed reports whether the host resumed the session from the hello's
// resume point; AskedResume whether the hello had one.
func (s *Session) Resumed() bool     { return s.welcome.Resumed && s.asked != nil }
func (s *Session) AskedResume() bool { return s.asked != nil }

// ResumePoint is where a later connection should resume: the room's
// epoch and the last event this session holds, with every one before it.
// It is nil when the host keeps no history (its welcome names no epoch).
// It may be called while Next runs, and after.
func (s *Session) ResumePoint() *wire.Resume {
	if s.welcome.Epoch == "" {
		return nil
	}
	return &wire.Resume{Epoch: s.welcome.Epoch, Seq: s.point.Load(), Private: s.privatePoint.Load()}
}

// Replaying reports whether the events from below the welcome's Seq may
// still be coming: Next has returned nothing else since the welcome, and
// not yet every event it expects (for a resumed session, up to the
// welcome's Seq; for a newcomer, as many as its welcome's Backlog says). Lines sent while
// it is true could be answered by events not yet seen. Only the goroutine
// that calls Next may call it.
func (s *Session) Replaying() bool { return s.replaying }

// ping sends a ping frame whenever nothing was written for a heartbeat
// interval, until the session is closed.
func (s *Session) ping() {
	msg, _ := wire.Encode(&wire.Frame{Type: wire.TypePing})
	timer := time.NewTimer(s.heartbeat)
	defer timer.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-timer.C:
		}
		idle := time.Since(time.Unix(0, s.lastWrite.Load()))
		if idle >= s.heartbeat {
			if err := s.write(msg, sendTimeout); err != nil {
				return // the reader learns it too, by the deadline or the close
			}
			idle = 0
		}
		timer.Reset(s.heartbeat - idle)
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
	case isTooLarge(err):
		return f, frameTooLarge("a welcome")
	case err != nil:
		return f, fmt.Errorf("waiting for the room's welcome: %w", err)
	}
	switch f.Type {
	case wire.TypeWelcome:
		if f.You == nil || f.You.Name == "" {
			return f, errors.New("the room's welcome does not say who you are")
		}
		if f.Room != nil && f.Room.ID != "" && !wire.ValidRoomID(f.Room.ID) {
			// An id is written to known-rooms and shown: one of any other
			// form is no room's, and is not repeated here.
			return f, brokenf("its welcome names a room id that is not %d hex digits", wire.RoomIDLen)
		}
		if err := checkWelcome(f); err != nil {
			return f, err
		}
		return f, nil
	case wire.TypeRefused:
		return f, &RefusedError{Code: f.Code, Text: f.Text}
	case wire.TypeError:
		return f, fmt.Errorf("the room could not read the hello: %s", Sanitize(f.Text))
	}
	return f, fmt.Errorf("the room answered the hello with a %q frame", Sanitize(f.Type))
}

// isTooLarge reports whether err is the decoder refusing a frame over its
// limit.
func isTooLarge(err error) bool {
	var werr *wire.Error
	return errors.As(err, &werr) && werr.Code == wire.CodeTooLarge
}

// frameTooLarge is the broken room that sent what, a frame over the most
// a host may send (the limit Connect reads with).
func frameTooLarge(what string) error {
	return brokenf("it sent %s longer than %d MiB (%d bytes), the most a room may send", what, wire.MaxHostFrame>>20, wire.MaxHostFrame)
}

// Welcome is the host's welcome frame. Its slices are copies: the roster,
// not the welcome, is what changes.
func (s *Session) Welcome() wire.Frame {
	w := s.welcome
	w.Members = slices.Clone(w.Members)
	w.Commands = slices.Clone(w.Commands)
	w.Bans = slices.Clone(w.Bans)
	if w.Limits != nil {
		l := *w.Limits
		w.Limits = &l
	}
	return w
}

// Roster is what the session knows of the room now.
func (s *Session) Roster() *Roster { return s.roster }

// Send sends text, one line the person typed, as a say frame.
func (s *Session) Send(text string) error {
	return s.send(text, 0, sendTimeout)
}

// SendRef sends text as a say frame that carries ref, so that the frame
// answering it can be told (wire.Frame.Ref).
func (s *Session) SendRef(text string, ref uint64) error {
	return s.send(text, ref, sendTimeout)
}

func (s *Session) send(text string, ref uint64, timeout time.Duration) error {
	if len(text) > wire.MaxText {
		// The host would end the connection over it; the UI should have
		// stopped it already.
		return fmt.Errorf("message longer than %d bytes", wire.MaxText)
	}
	msg, err := wire.Encode(&wire.Frame{Type: wire.TypeSay, Text: text, Ref: ref})
	if err != nil {
		return err
	}
	return s.write(msg, timeout)
}

// askMembers asks the room for its members, which its welcome left out
// (Roster.WaitWhole), once per session.
func (s *Session) askMembers() error {
	s.askedMembers = true
	return s.write(askMembersFrame, sendTimeout)
}

var askMembersFrame = []byte(`{"type":"members"}` + "\n")

// sendOffer sends an offer frame of file (its Name, Size and SHA256) to
// to ("" for the whole room), carrying ref as a line does.
func (s *Session) sendOffer(file wire.File, to string, ref uint64) error {
	offered := wire.File{Name: file.Name, Size: file.Size, SHA256: file.SHA256}
	msg, err := wire.Encode(&wire.Frame{Type: wire.TypeOffer, File: &offered, To: to, Ref: ref})
	if err != nil {
		return err
	}
	return s.write(msg, sendTimeout)
}

func (s *Session) write(msg []byte, timeout time.Duration) error {
	if s.closed.Load() {
		return errClosed
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.conn.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := s.conn.Write(msg); err != nil {
		if s.closed.Load() {
			return errClosed
		}
		return fmt.Errorf("sending to the room: %w", err)
	}
	s.lastWrite.Store(time.Now().UnixNano())
	return nil
}

// heartbeatError is a host from which nothing came for three heartbeat
// intervals: gone, though the connection may look open.
type heartbeatError struct {
	Silence time.Duration
}

func (e *heartbeatError) Error() string {
	return fmt.Sprintf("nothing heard from the room for %v", e.Silence)
}

// sequenceError is an event that does not follow the one before it. Every
// member gets every event in order, so a gap means the client's picture of
// the room (its roster) can no longer be trusted.
type sequenceError struct {
	Want, Got uint64
}

func (e *sequenceError) Error() string {
	return fmt.Sprintf("the room sent event %d where event %d was due", e.Got, e.Want)
}

// Next returns the next frame from the host, after applying it to the
// roster. It returns io.EOF when the host has closed the connection. An
// unreadable frame is answered with an error frame, as the protocol asks,
// and ends the session. Events already shown are skipped, and so are
// pings; with a heartbeat, a host silent for three intervals is a
// *heartbeatError. Once it has returned an error, it returns the same
// error again: frames the decoder had read past the end are not passed
// on, nor any after Close.
func (s *Session) Next() (wire.Frame, error) {
	if s.err != nil {
		return wire.Frame{}, s.err
	}
	f, err := s.next()
	if err != nil {
		s.err = err
	}
	return f, err
}

func (s *Session) next() (wire.Frame, error) {
	for {
		if s.closed.Load() {
			return wire.Frame{}, errClosed
		}
		f, err := s.decode()
		if err != nil {
			return f, err
		}
		if f.Type == wire.TypePing {
			continue // it has done its work: something arrived
		}
		if f.Type == wire.TypeMembers {
			// The roster's, asked for. Passed on all the same, at its
			// place among the events, for a UI that lists the members
			// (a program's, in JSON); a person's shows nothing of it.
			if err := s.roster.applyMembers(f); err != nil {
				s.Close()
				return wire.Frame{}, err
			}
			return f, nil
		}
		if f.Type == wire.TypePrivate && f.PrivateSeq != 0 {
			if f.PrivateSeq <= s.privateShown {
				continue // shown already
			}
			s.privateShown = f.PrivateSeq
			s.privatePoint.Store(f.PrivateSeq)
			if s.replaying && f.Seq < s.welcome.Seq {
				return f, nil // missed while away, among events still coming
			}
		}
		if f.Type == wire.TypeEvent && f.Seq < s.welcome.Seq {
			// The backlog, or what was missed: increasing, and each once.
			if !s.replaying {
				continue
			}
			last := s.lastOfBacklog()
			if f.Seq <= s.shown {
				if last {
					s.endReplay()
				}
				continue
			}
			s.shown = f.Seq
			s.replayed++
			if s.welcome.Resumed {
				s.point.Store(f.Seq)
				if f.Seq+1 >= s.welcome.Seq {
					s.endReplay()
				}
			}
			if last {
				// The backlog is over with this event: the person can be
				// told at once, not with the next live one.
				s.endReplay()
			}
			if !s.rosterKept && f.Kind != wire.KindSay && f.Kind != wire.KindMe {
				// The welcome's list is the room as it stands after
				// every replayed event: those are older news, and one
				// applied again could bring back someone who left
				// untold (the room restarted, or crashed).
				return f, nil
			}
			if err := s.roster.apply(f); err != nil {
				s.Close()
				return wire.Frame{}, err
			}
			return f, nil
		}
		s.endReplay()
		if f.Type == wire.TypeEvent && s.ownArrival(f) {
			// Not shown before, and not a gap: the welcome stood for it.
			s.arrivalTold = true
			s.shown = max(s.shown, f.Seq)
		} else if f.Type == wire.TypeEvent {
			if f.Seq <= max(s.seq, s.shown) {
				continue // shown already: an over-eager replay
			}
			if f.Seq != s.seq+1 {
				s.Close()
				return wire.Frame{}, &sequenceError{Want: s.seq + 1, Got: f.Seq}
			}
			s.seq = f.Seq
			s.shown = f.Seq
			s.point.Store(f.Seq)
		}
		if err := s.roster.apply(f); err != nil {
			s.Close()
			return wire.Frame{}, err
		}
		return f, nil
	}
}

// ownArrival reports whether f is the presence event that tells of the
// person's own arrival, which a big room holds (see wire's Presence): the
// one event numbered as the welcome that the room sends, first after it.
func (s *Session) ownArrival(f wire.Frame) bool {
	return f.Kind == wire.KindPresence && f.Seq == s.welcome.Seq && s.seq == s.welcome.Seq && !s.arrivalTold
}

// lastOfBacklog counts an event from below the welcome's Seq as one of a
// newcomer's backlog, and reports whether it is the last the welcome said
// would come. A welcome that says none (a host that does not count, or
// a resumed session) has the backlog end with the first frame that is
// not of it; one that says more than come, the same. One that says fewer
// has the rest dropped, as after any end of the replay.
func (s *Session) lastOfBacklog() bool {
	if s.welcome.Resumed || s.welcome.Backlog <= 0 {
		return false
	}
	s.backlogSeen++
	return s.backlogSeen >= s.welcome.Backlog
}

// endReplay notes that no more events from below the welcome's Seq will
// come: the person holds everything up to their join.
func (s *Session) endReplay() {
	if !s.replaying {
		return
	}
	s.replaying = false
	if s.point.Load() < s.welcome.Seq {
		s.point.Store(s.welcome.Seq)
	}
}

// decode reads one frame, within three heartbeats when there are any.
func (s *Session) decode() (wire.Frame, error) {
	if s.heartbeat > 0 {
		s.conn.SetReadDeadline(time.Now().Add(3 * s.heartbeat))
	}
	f, err := s.dec.Decode()
	if err != nil {
		var werr *wire.Error
		if errors.As(err, &werr) {
			if msg, eerr := wire.Encode(&wire.Frame{Type: wire.TypeError, Code: werr.Code, Text: werr.Msg}); eerr == nil {
				s.write(msg, errorFrameTimeout)
			}
			s.Close()
			if werr.Code == wire.CodeTooLarge {
				return wire.Frame{}, frameTooLarge("a frame")
			}
			return wire.Frame{}, fmt.Errorf("unreadable frame from the room: %w", err)
		}
		var nerr net.Error
		if s.heartbeat > 0 && errors.As(err, &nerr) && nerr.Timeout() && !s.closed.Load() {
			s.Close()
			return wire.Frame{}, &heartbeatError{Silence: 3 * s.heartbeat}
		}
		return wire.Frame{}, err
	}
	return f, nil
}

// Close ends the connection. It unblocks a Next in another goroutine.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.done)
		s.closeErr = s.conn.Close()
	})
	return s.closeErr
}

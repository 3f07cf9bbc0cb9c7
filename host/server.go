package host

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"chatroom/host/room"
	"chatroom/host/wire"
)

// Timeouts for one connection.
const (
	// handshakeTimeout bounds the TLS handshake and the hello together, so
	// a client that connects and says nothing holds a pending slot (see
	// server.admit) for a few seconds at most. A real client needs a few
	// milliseconds on a LAN.
	defaultHandshakeTimeout = 5 * time.Second
	// writeTimeout bounds one write to a member. A member that takes
	// longer to accept what is already sent is not reading: it is cut off.
	writeTimeout = 5 * time.Second
	// finalGrace bounds how long a member's writer may go on once the room
	// has removed the member (too slow, kicked, banned, room closed): long
	// enough to send what is queued and the last word to a member that
	// reads, short enough that one that does not is cut off (its
	// connection closed, so it can reconnect) soon after the room let it
	// go, even when its writer is stuck in a write.
	finalGrace = 1 * time.Second
	// maxBatch is how much of a member's queued frames go out in one write.
	maxBatch = 64 << 10
	// lingerTimeout and maxLinger bound how long and how much the host
	// reads, and throws away, from a connection it is closing.
	lingerTimeout = 2 * time.Second
	maxLinger     = 1 << 20
	// defaultHeartbeat is Config.Heartbeat's default: frequent enough to
	// notice a dead peer within a quarter of a minute, rare enough to cost
	// nothing.
	defaultHeartbeat = 5 * time.Second
	// deadPeer is how many heartbeat intervals of silence make a peer
	// gone: one lost ping is no reason to drop anyone.
	deadPeer = 3
)

// peer says who is at the other end of a connection, as far as the host
// knows before the hello.
type peer struct {
	addr     string // IP address, "" for the in-process owner
	owner    bool   // the person running the host, in process (Host.DialOwner)
	identity string // fingerprint of the client certificate's key, if any
}

// server admits connections into a room: the handshake, the admin
// password, then one reader and one writer per member.
type server struct {
	room     *room.Room
	password []byte // SHA-256 of the admin password; nil when there is none
	throttle *passwordThrottle
	log      *slog.Logger
	ctx      context.Context // ends when the host stops

	handshakeTimeout time.Duration
	maxConnsPerAddr  int
	// maxMembers bounds the connections past their hello; maxPending and
	// maxPendingPerAddr those that have not said hello yet, apart, so
	// that idle sockets cannot take the members' places.
	maxMembers        int
	maxPending        int
	maxPendingPerAddr int
	// heartbeat is how long a writer stays silent before it sends a ping,
	// and a third of how long a reader waits for anything; 0: no
	// heartbeat.
	heartbeat time.Duration

	mu      sync.Mutex
	conns   map[net.Conn]*connState
	perAddr map[string]int // connections open from each address
	// pending holds the connections that have not said hello yet, oldest
	// first, and pendingPerAddr how many of them each address has.
	pending        *list.List // of net.Conn
	pendingPerAddr map[string]int
	members        int // connections past their hello, not the owner's
	// The transfer connections (transfer.go): files is the store they
	// move files in and out of (nil: the room takes no files);
	// transfers and transfersPerAddr count those past their first frame,
	// within maxTransfers and maxTransfersPerAddr; uploads holds the
	// upload running for each file id.
	files               *fileGate
	maxTransfers        int
	maxTransfersPerAddr int
	transferSilence     time.Duration
	slowWindow          time.Duration // see transfermeter.go
	slowRate            float64       // bytes a second
	transfers           int
	transfersPerAddr    map[string]int
	uploads             map[string]*upload
	noTransfers         bool // set by stopTransfers
	// refusing bounds the connections being told they are one too many:
	// past it, more are closed without a word.
	refusing chan struct{}
	wg       sync.WaitGroup
	stopped  bool // set by wait: no connection starts after it
}

func newServer(ctx context.Context, r *room.Room, password string, log *slog.Logger) *server {
	s := &server{
		room: r, throttle: newPasswordThrottle(), log: log, ctx: ctx,
		handshakeTimeout:  defaultHandshakeTimeout,
		maxConnsPerAddr:   defaultMaxConnsPerAddr,
		maxMembers:        defaultMaxMembers,
		maxPending:        defaultMaxPending,
		maxPendingPerAddr: defaultMaxPendingPerAddr,
		heartbeat:         defaultHeartbeat,
		conns:             make(map[net.Conn]*connState),
		perAddr:           make(map[string]int),
		pending:           list.New(),
		pendingPerAddr:    make(map[string]int),
		refusing:          make(chan struct{}, 8),

		maxTransfers:        defaultMaxTransfers,
		maxTransfersPerAddr: defaultMaxTransfersPerAddr,
		transferSilence:     defaultTransferSilence,
		slowWindow:          defaultSlowWindow,
		slowRate:            defaultSlowRate,
		transfersPerAddr:    make(map[string]int),
		uploads:             make(map[string]*upload),
	}
	if password != "" {
		sum := sha256.Sum256([]byte(password))
		s.password = sum[:]
	}
	return s
}

// serve accepts TLS connections from ln until it is closed.
func (s *server) serve(ln net.Listener, config *tls.Config) error {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				// Out of file descriptors and the like: wait, don't spin.
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return err
		}
		p := peer{}
		if tcp, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
			p.addr = tcp.IP.String()
		}
		s.start(tls.Server(conn, config), p)
	}
}

// Connection limits. One machine holds a few connections at most (a person
// or two, a bot); many more from one address is someone holding the door.
// Connections that have not said hello yet are bounded apart from the
// members: a real client says it within milliseconds, so sockets that only
// sit there cannot fill the room. A thousand pending slots cost a few tens
// of megabytes at most, and make an attacker who opens sockets as fast as
// it can, to push real members out of their slots (see admit), need 1,024
// of them within a member's handshake. On loopback, an attacker opening
// 10,000 to 47,000 a second from 800 addresses, on the host's own two
// cores, kept none of 50 members out in six runs; with 256 slots it kept
// out 1 to 5 of 50, and with newcomers refused instead of the oldest
// pushed out, 22.
const (
	defaultMaxConnsPerAddr   = 16
	defaultMaxMembers        = 10_000
	defaultMaxPending        = 1024
	defaultMaxPendingPerAddr = 8
)

// connState is what the server knows of one of its connections.
type connState struct {
	addr  string
	owner bool // the owner's connection, counted in no limit
	// pending is the connection's place in server.pending until its
	// hello; nil after it, or once it was pushed out of pending.
	pending *list.Element
	member  bool // past its hello: counted in server.members
	joined  bool // the room admitted it
	// transfer: a transfer connection past its first frame, counted in
	// server.transfers (see beginTransfer); meter is how much it has
	// moved, nil for the owner's.
	transfer bool
	meter    *transferMeter
	identity string // the transfer's peer's key, to find it when bans change
}

// admit counts a new connection from p before its TLS handshake, or
// says why it is one too many (why is "" when the connection is to be
// closed without a word). When every pending slot is taken, the newcomer
// takes the slot of the oldest pending connection, which is closed: a
// real client needs its slot for milliseconds, so to keep one out an
// attacker has to open maxPending connections within that time, whereas
// refusing newcomers would let one who merely reconnects at once keep the
// room shut. Called with s.mu held.
func (s *server) admit(conn net.Conn, p peer) (st *connState, why string, ok bool) {
	st = &connState{addr: p.addr, owner: p.owner}
	if p.owner {
		return st, "", true
	}
	addr := p.addr
	switch {
	case s.perAddr[addr] >= s.maxConnsPerAddr:
		return nil, fmt.Sprintf("too many connections from your address (at most %d)", s.maxConnsPerAddr), false
	case s.pendingPerAddr[addr] >= s.maxPendingPerAddr:
		// Telling it why would cost a TLS handshake, which is what this
		// address is holding the host up with already.
		return nil, "", false
	}
	if s.pending.Len() >= s.maxPending {
		oldest := s.pending.Front().Value.(net.Conn)
		s.unpend(s.conns[oldest])
		abort(oldest)
	}
	s.perAddr[addr]++
	s.pendingPerAddr[addr]++
	st.pending = s.pending.PushBack(conn)
	return st, "", true
}

// unpend takes st out of the pending connections. Called with s.mu held.
func (s *server) unpend(st *connState) {
	if st.pending == nil {
		return
	}
	s.pending.Remove(st.pending)
	st.pending = nil
	if s.pendingPerAddr[st.addr]--; s.pendingPerAddr[st.addr] == 0 {
		delete(s.pendingPerAddr, st.addr)
	}
}

// helloed moves a connection that has said hello from the pending ones to
// the members, or returns the refusal to send when the room is full (nil,
// false for a connection that was pushed out of pending meanwhile: it is
// closed already).
func (s *server) helloed(conn net.Conn) (refusal *wire.Frame, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.conns[conn]
	if st.owner {
		return nil, true
	}
	if st.pending == nil {
		return nil, false
	}
	s.unpend(st)
	if s.members >= s.maxMembers {
		return &wire.Frame{Type: wire.TypeRefused, Code: wire.CodeTooMany,
			Text: fmt.Sprintf("the room is full (%d members)", s.maxMembers)}, false
	}
	st.member = true
	s.members++
	return nil, true
}

// refuse tells a connection it is one too many, over TLS so that a real
// client can show why, within a short deadline and a bound on how many
// are told at once.
func (s *server) refuse(conn net.Conn, why string) {
	select {
	case s.refusing <- struct{}{}:
	default:
		conn.Close()
		return
	}
	go func() {
		defer func() { <-s.refusing }()
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(2 * time.Second))
		tc, ok := conn.(*tls.Conn)
		switch {
		case ok && tc.HandshakeContext(s.ctx) != nil:
			return
		case !ok:
			// An in-process pipe (server.pipe) buffers nothing, as a
			// socket does: the hello its client writes meanwhile would
			// hold up the refusal until the deadline. It is read, and
			// thrown away, until the connection closes.
			go io.Copy(io.Discard, io.LimitReader(conn, maxLinger))
		}
		writeFrame(conn, &wire.Frame{Type: wire.TypeRefused, Code: wire.CodeTooMany, Text: why})
	}()
}

// start serves conn in a goroutine, tracked so that stop can wait for it.
func (s *server) start(conn net.Conn, p peer) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		conn.Close()
		return
	}
	st, why, ok := s.admit(conn, p)
	if !ok {
		s.mu.Unlock()
		if why == "" {
			abort(conn)
		} else {
			s.refuse(conn, why)
		}
		return
	}
	s.conns[conn] = st
	s.wg.Add(1)
	s.mu.Unlock()
	go s.serveConn(conn, p, func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.unpend(st)
		if st.member {
			s.members--
		}
		if st.transfer {
			s.endTransfer(st)
		}
		if !p.owner {
			if s.perAddr[p.addr]--; s.perAddr[p.addr] == 0 {
				delete(s.perAddr, p.addr)
			}
		}
		s.mu.Unlock()
		s.wg.Done()
	})
}

// pipe starts a connection into the room over an in-process pipe, for p,
// and returns the other end, which speaks the room's protocol from its
// hello on, without TLS. For the owner (Host.DialOwner) it counts in no
// limit; for anyone else it is a member's connection like one over the
// network, from p.addr and with p.identity as its key: the connection
// limits, the handshake's deadline, bans, the admin password's throttle
// and the heartbeat all hold for it (a gateway for clients of another
// protocol, as host/irc is, reaches the room this way).
func (s *server) pipe(p peer) net.Conn {
	client, server := net.Pipe()
	s.start(server, p)
	return client
}

// wait waits for every member's connection to end, up to timeout, then
// closes those that are left. Connections that are not members yet are
// closed at once.
func (s *server) wait(timeout time.Duration) {
	s.mu.Lock()
	s.stopped = true
	for c, st := range s.conns {
		if !st.joined {
			c.Close() // still in its handshake: it has no member to tell
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-time.After(timeout):
	}
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	<-done
}

// serveConn runs one connection from its first byte to its close, then
// calls done.
func (s *server) serveConn(conn net.Conn, p peer, done func()) {
	c := &memberConn{server: s, conn: conn, peer: p}
	if !c.join() {
		conn.Close()
		done()
		return
	}
	// This goroutine, whose stack the handshake has grown, ends here. The
	// reader, which waits in TLS for as long as the member stays, starts
	// on a fresh one, which stays small; and a writer runs only while
	// there is something to write (startWriter).
	go func() {
		defer done()
		defer conn.Close()
		c.startWriter()
		c.read()
		<-c.writerDone
	}()
}

// memberConn is one connection to the room, from its handshake to its
// close: once the room has let the member in, one goroutine reads from it
// (read), and a writer writes to it while there is something to write
// (runWriter), and what they share is here.
type memberConn struct {
	server *server
	conn   net.Conn
	peer   peer
	dec    *wire.Decoder
	member *room.Member // set once the room has let the member in
	// heartbeat is how long the writer stays silent before it pings, and
	// a third of how long the reader waits for anything; 0 for the owner.
	heartbeat time.Duration

	// The write deadline: writeTimeout from each write, and no later than
	// finalGrace after the room removed the member (see setWriteDeadline).
	// lastDeadline is the latest deadline allowed (Unix nanoseconds), 0
	// while the member is in the room; it is set on the room goroutine.
	// deadline, the deadline set last, and wrote, when the writer last
	// wrote (for the heartbeat), are the writer's alone.
	lastDeadline atomic.Int64
	deadline     time.Time
	wrote        time.Time

	// The writer runs on demand (see wake): writer says whether one runs,
	// and kick tells a running one there is more. The fields after them
	// are the writer's alone: one writer runs at a time, and each starts
	// after the one before it has stopped (writer orders them).
	writer     atomic.Int32 // writerIdle, writerRunning or writerDone
	kick       chan struct{}
	writerDone chan struct{} // closed when the writer has said its last word
	// pingDue is set by pingTimer, every heartbeat, for the writer to see
	// whether the connection was silent for a whole interval.
	pingDue   atomic.Bool
	pingTimer *time.Timer
	linger    *time.Timer // a waiting writer stops when it fires (writerLinger)
	lingerSet bool        // linger is running
	lastKick  time.Time   // when the writer was last told of more
	replayed  bool        // the welcome and the replay are written
	failed    bool        // a write failed: what is queued is thrown away
	busy      bool        // the last batch was a busy room's (busyBatch frames or more)

	// readErr is why the reader gave up on the member, for the writer to
	// send as its last word. The reader records it before telling the
	// room, and the room closes the member's outbox after that, so the
	// writer reads it only once it is set.
	readErr *wire.Frame
	// lingering is set by the writer once it has said its last word, so
	// that the reader no longer moves the read deadline past the short
	// linger the writer set.
	lingering atomic.Bool
}

// The states of memberConn.writer.
const (
	writerIdle    = iota // none runs: the next wake starts one
	writerRunning        // one runs, and sees what kick says
	writerDone           // the last word is said: none will run again
)

// writerLinger is how long a writer that has written everything waits for
// more before it stops. A busy room keeps its members' writers running (no
// goroutine to start for every frame); an idle member holds none, but for
// this long after its heartbeat's ping.
const writerLinger = 250 * time.Millisecond

// join takes the connection through the TLS handshake, the hello and the
// admin password into the room, or refuses it. It reports whether the room
// let the member in.
func (c *memberConn) join() bool {
	s, conn := c.server, c.conn
	conn.SetDeadline(time.Now().Add(s.handshakeTimeout))
	if tc, ok := conn.(*tls.Conn); ok {
		if err := tc.HandshakeContext(s.ctx); err != nil {
			s.log.Debug("tls handshake failed", "addr", c.peer.addr, "err", err)
			return false
		}
		// TLS has checked that the client holds the certificate's key;
		// no authority vouches for it, and none is needed: the room
		// knows a member by that key, whoever made it.
		if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
			c.peer.identity = wire.Fingerprint(certs[0].RawSubjectPublicKeyInfo)
		}
	}
	c.dec = wire.NewDecoder(conn, wire.MaxClientFrame)
	hello, err := c.dec.Decode()
	if err != nil {
		s.refuseUnreadable(conn, c.peer, err)
		return false
	}
	if hello.Type == wire.TypeUpload || hello.Type == wire.TypeFetch {
		// A transfer connection: it moves one file, on this goroutine,
		// and never joins the room (see transfer.go).
		c.transfer(hello)
		return false
	}
	if hello.Type != wire.TypeHello {
		writeFrame(conn, &wire.Frame{Type: wire.TypeError, Code: wire.CodeUnexpected, Text: "expected a hello frame, got " + quoteType(hello.Type)})
		return false
	}
	if hello.Version != wire.Version {
		writeFrame(conn, &wire.Frame{Type: wire.TypeRefused, Code: wire.CodeVersion,
			Text: "this room speaks chatroom protocol version 1; update chatroom"})
		return false
	}
	if refusal, ok := s.helloed(conn); !ok {
		if refusal != nil {
			writeFrame(conn, refusal)
		}
		return false
	}
	// The owner's in-process pipe cannot break or go quiet by accident, and
	// its client may be blocked on the person, so it has no heartbeat: no
	// pings to it, no deadline on it, and none announced to it.
	if !c.peer.owner {
		c.heartbeat = s.heartbeat
	}
	c.wrote = time.Now()
	req := room.JoinRequest{Name: hello.Name, Addr: c.peer.addr, Identity: c.peer.identity, Owner: c.peer.owner,
		Resume: hello.Resume, HeartbeatMS: int(c.heartbeat / time.Millisecond), KeepsRoster: hello.KeepsRoster,
		AsksMembers: hello.AsksMembers, Removed: c.removed}
	// An admin made with /op is an admin by its key, whatever password it
	// sends, and the owner is the owner: neither is checked, so neither
	// waits for a throttle that others' guesses have filled.
	if hello.Password != "" && !c.peer.owner {
		op, err := s.room.IsOp(s.ctx, c.peer.identity)
		if err != nil {
			return false
		}
		if !op {
			if refusal := s.checkPassword(c.peer.addr, hello.Password); refusal != nil {
				writeFrame(conn, refusal)
				return false
			}
			req.Admin = true
		}
	}
	member, refusal, err := s.room.Join(s.ctx, req)
	if err != nil {
		return false
	}
	if refusal != nil {
		writeFrame(conn, refusal)
		return false
	}
	c.member = member
	conn.SetDeadline(time.Time{})
	s.mu.Lock()
	s.conns[conn].joined = true
	s.mu.Unlock()
	s.log.Debug("member joined", "name", member.Name(), "addr", c.peer.addr)
	return true
}

// read hands the member's lines to the room until the connection ends or
// sends something unreadable. With a heartbeat, a member from which
// nothing came for three intervals is gone: its client pings when it has
// nothing to say, so the silence means a dead machine or network.
func (c *memberConn) read() {
	// The deadline moves only when less than silence-slack of it is left,
	// so a member that sends a lot moves a timer now and then, not at
	// every frame (as the writer does with its write deadline).
	silence := deadPeer * c.heartbeat
	slack := silence / 15
	var deadline time.Time
	pings := newPingBudget(c.heartbeat)
	for {
		if now := time.Now(); c.heartbeat > 0 && !c.lingering.Load() && deadline.Sub(now) < silence-slack {
			// Should the writer start lingering just now, this can stretch
			// its linger once, to this deadline at most; the flag stops
			// the next frame from doing it again.
			deadline = now.Add(silence)
			c.conn.SetReadDeadline(deadline)
		}
		// The reader waits here, for as long as the member is silent, with
		// little on its stack: the frame is decoded in handle, whose
		// larger stack frame is there only while it runs.
		line, err := c.dec.ReadLine()
		if err != nil {
			var werr *wire.Error
			if !errors.As(err, &werr) {
				c.server.room.Leave(c.member, wire.CodeLost)
				return
			}
			c.readErr = &wire.Frame{Type: wire.TypeError, Code: werr.Code, Text: werr.Msg}
			break
		}
		if c.readErr = c.handle(line, pings); c.readErr != nil {
			break
		}
	}
	c.server.room.Leave(c.member, wire.CodeProtocol)
	// Read on while the writer says why: closing a socket with unread
	// bytes in it resets the connection, and the reset can destroy the
	// error frame before the member reads it.
	c.conn.SetReadDeadline(time.Now().Add(lingerTimeout))
	io.Copy(io.Discard, io.LimitReader(c.conn, maxLinger))
}

// handle hands one frame from the member to the room, or returns why the
// reader gives up on the member, to send as its last word.
func (c *memberConn) handle(line []byte, pings *rate.Limiter) *wire.Frame {
	// A ping, which an idle member sends every heartbeat, is the frame
	// join's clients send, byte for byte: it needs no JSON decoding.
	var f wire.Frame
	if bytes.Equal(line, pingFrame) {
		f.Type = wire.TypePing
	} else {
		var err error
		if f, err = wire.Parse(line); err != nil {
			var werr *wire.Error
			errors.As(err, &werr)
			return &wire.Frame{Type: wire.TypeError, Code: werr.Code, Text: werr.Msg}
		}
	}
	switch f.Type {
	case wire.TypePing:
		if !pings.AllowN(time.Now(), 1) {
			// No client needs this many: it pings once per heartbeat of
			// silence. Every ping costs the host a decode, and otherwise
			// nothing would bound them.
			return &wire.Frame{Type: wire.TypeError, Code: wire.CodeUnexpected,
				Text: "too many pings: a client sends one after each heartbeat of silence"}
		}
		return nil // it has done its work: the deadline moved
	case wire.TypeSay:
		c.server.room.Say(c.member, f.Text, f.Ref)
		return nil
	case wire.TypeOffer:
		if f.File == nil {
			return &wire.Frame{Type: wire.TypeError, Code: wire.CodeMalformed, Text: `an offer frame needs a "file"`}
		}
		// The room checks it as it checks a line, and answers it.
		c.server.room.Offer(c.member, f.To, *f.File, f.Ref)
		return nil
	case wire.TypeMembers:
		c.server.room.AskMembers(c.member)
		return nil
	}
	return &wire.Frame{Type: wire.TypeError, Code: wire.CodeUnexpected, Text: "expected a say frame, got " + quoteType(f.Type)}
}

// pingBurst is how many pings a member may send in a row, beyond the pace
// of pingBudget.every: a client that was held up (a stalled network, a
// suspended laptop) may send a few at once, never many.
const pingBurst = 10

// newPingBudget is a member connection's bucket of pings: pingBurst,
// refilled once a second (five times as often as a client pings with the
// default heartbeat), or four times per heartbeat when that is shorter.
// The reader alone uses it, at the times it reads pings (AllowN).
func newPingBudget(heartbeat time.Duration) *rate.Limiter {
	every := time.Second
	if heartbeat > 0 {
		every = min(every, heartbeat/4)
	}
	return rate.NewLimiter(rate.Every(every), pingBurst)
}

// startWriter starts the member's first writer, which writes the welcome
// and the replay, and from then on has the outbox and the heartbeat start
// one whenever there is something to write (wake).
func (c *memberConn) startWriter() {
	c.kick = make(chan struct{}, 1)
	c.writerDone = make(chan struct{})
	c.linger = time.NewTimer(writerLinger)
	c.linger.Stop()
	if c.heartbeat > 0 {
		c.pingTimer = time.AfterFunc(c.heartbeat, c.pingTime)
	}
	c.writer.Store(writerRunning)
	c.member.Out().OnReady(c.wake)
	go c.runWriter()
}

// wake tells the writer there is something to write, starting one if none
// runs. It never blocks: the room calls it (Outbox.OnReady).
func (c *memberConn) wake() {
	select {
	case c.kick <- struct{}{}:
	default: // a kick is already waiting: the writer has not looked yet
	}
	if c.writer.CompareAndSwap(writerIdle, writerRunning) {
		go c.runWriter()
	}
}

// pingTime is the heartbeat's timer: it has the writer look whether the
// connection was silent for a whole interval, and ping if so.
func (c *memberConn) pingTime() {
	c.pingDue.Store(true)
	c.wake()
}

// runWriter writes the member's frames until there is nothing left to
// write for writerLinger, or the room closes its outbox; then it closes
// the connection with the last word (closeLingering). Everything queued at
// a time goes out in one write: for a busy room that is the difference
// between one TLS record and hundreds. At most one runs at a time (see
// wake), so the frames go in the room's order.
func (c *memberConn) runWriter() {
	out := c.member.Out()
	if !c.replayed {
		// The welcome and the replay go first, in batches, straight from
		// the room's history: they may be more frames than the outbox
		// holds.
		c.replayed = true
		if err := c.writeFrames(c.member.TakeReplay()); err != nil {
			c.writeFailed(err)
		}
	}
	for {
		if c.busy && !c.failed {
			// Let the room go on handing out what it is handing out
			// before taking the queue: in a busy room the batch is then
			// larger, and one write (one TLS record, one system call)
			// carries it. A quiet room's frames go at once.
			runtime.Gosched()
		}
		frames, open := out.Take()
		c.busy = len(frames) >= busyBatch
		if !c.failed {
			if err := c.writeFrames(frames); err != nil {
				c.writeFailed(err)
			}
		}
		if out.Lost() && !c.failed {
			// A member the room let go that was owed more than its log
			// still held: the connection ends here, not with a gap, and
			// the member resumes from the history.
			c.writeFailed(errFellBehindLog)
		}
		out.Recycle(frames)
		if !open {
			if !c.failed {
				c.closeLingering()
			}
			c.finish()
			return
		}
		if c.pingDue.Swap(false) {
			c.ping()
		}
		if !c.waitForMore() {
			return
		}
	}
}

// ping writes a ping if the writer wrote nothing for a whole heartbeat
// interval, so that a busy room sends none, and sets the heartbeat's timer
// for the next look. The timer is not reset at each write (that costs the
// busy writer); it comes back for the rest of the interval.
func (c *memberConn) ping() {
	if c.failed {
		return
	}
	idle := time.Since(c.wrote)
	if idle >= c.heartbeat {
		if err := c.writeFrames([][]byte{pingFrame}); err != nil {
			c.writeFailed(err)
			return
		}
		idle = 0
	}
	c.pingTimer.Reset(c.heartbeat - idle)
}

// waitForMore waits until the writer is told of more to write, and reports
// true, or for writerLinger without any, and then stops the writer and
// reports false. A later wake starts another.
func (c *memberConn) waitForMore() bool {
	select {
	case <-c.kick:
		c.lastKick = time.Now()
		return true
	default:
	}
	// The timer is set when the writer first waits, not at every wait
	// (that costs a busy writer); when it fires before a whole linger
	// without a kick, it is set for the rest.
	if !c.lingerSet {
		c.lingerSet = true
		c.lastKick = time.Now()
		c.linger.Reset(writerLinger)
	}
	for {
		select {
		case <-c.kick:
			c.lastKick = time.Now()
			return true
		case <-c.linger.C:
			if quiet := time.Since(c.lastKick); quiet < writerLinger {
				c.linger.Reset(writerLinger - quiet)
				continue
			}
		}
		c.lingerSet = false
		c.writer.Store(writerIdle)
		// A wake that came after the last look saw a writer running and
		// started none: if its kick is here, go on, unless another wake
		// has started a writer since (which takes everything).
		select {
		case <-c.kick:
			if c.writer.CompareAndSwap(writerIdle, writerRunning) {
				return true
			}
		default:
		}
		return false
	}
}

// finish is the end of the last writer: none runs again, the heartbeat
// stops, and serveConn may close the connection.
func (c *memberConn) finish() {
	c.writer.Store(writerDone)
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	c.linger.Stop()
	close(c.writerDone)
}

// writeFailed closes the connection after a write failed. Closing ends the
// reader, which tells the room; until the room closes the outbox, what it
// queues is thrown away.
func (c *memberConn) writeFailed(err error) {
	c.server.log.Debug("write failed", "name", c.member.Name(), "err", err)
	abort(c.conn)
	c.failed = true
}

// closeLingering says the last word (the room's Final, or why the reader
// gave up) once the room has removed the member, shuts the connection's
// writing side, and gives the member a moment to read that and close its
// end before the reader stops waiting.
func (c *memberConn) closeLingering() {
	// The room has removed the member (its Removed hook ran before the
	// outbox closed), so the grace has begun: TLS's close_notify, in
	// closeWrite, gives itself 5 s whatever the deadline, so past the
	// grace the connection is cut instead.
	if until := c.lastDeadline.Load(); until != 0 {
		cut := time.AfterFunc(time.Until(time.Unix(0, until)), func() { abort(c.conn) })
		defer cut.Stop()
	}
	c.lingering.Store(true)
	last := c.member.Final()
	if last == nil && c.readErr != nil {
		last, _ = wire.Encode(c.readErr)
	}
	if last != nil {
		c.setWriteDeadline()
		c.conn.Write(last)
	}
	closeWrite(c.conn)
	c.conn.SetReadDeadline(time.Now().Add(lingerTimeout))
}

// busyBatch is how many frames in one batch make a writer yield before it
// takes the next: a room that is sending that much gains from larger
// batches, while one that is not (1,000 messages a second to 100 members
// come one or two at a time) loses latency to the yield.
const busyBatch = 8

// writeFrames writes frames, as few writes as maxBatch allows.
func (c *memberConn) writeFrames(frames [][]byte) error {
	if len(frames) == 0 {
		return nil
	}
	// The batch buffer is borrowed only while there is something to
	// write: an idle member holds none, however large its last burst.
	bp := batchPool.Get().(*[]byte)
	buf := (*bp)[:0]
	var err error
	for i, frame := range frames {
		if len(frame) >= maxBatch {
			// A frame as long as a batch (a welcome to a big room) is
			// written from where it is, not copied into one.
			if len(buf) > 0 {
				c.setWriteDeadline()
				if _, err = c.conn.Write(buf); err != nil {
					break
				}
				buf = buf[:0]
			}
			c.setWriteDeadline()
			if _, err = c.conn.Write(frame); err != nil {
				break
			}
			continue
		}
		buf = append(buf, frame...)
		if len(buf) >= maxBatch || i == len(frames)-1 {
			c.setWriteDeadline()
			if _, err = c.conn.Write(buf); err != nil {
				break
			}
			buf = buf[:0]
		}
	}
	if cap(buf) <= maxBatch*2 {
		*bp = buf[:0]
		batchPool.Put(bp)
	}
	return err
}

// errFellBehindLog ends the connection of a member owed events that the
// room's log no longer holds (room.Outbox.Lost).
var errFellBehindLog = errors.New("the room's log moved on past what the member was owed")

// pingFrame is what a writer sends after a heartbeat interval of silence.
var pingFrame = []byte(`{"type":"ping"}` + "\n")

// deadlineSlack is how much of writeTimeout a write may find already used:
// setWriteDeadline moves the deadline only when less than
// writeTimeout-deadlineSlack is left, so a busy writer moves a timer once a
// second, not at every write (that was 6% of the host's CPU at 1,000
// messages a second).
const deadlineSlack = time.Second

// setWriteDeadline gives the next write between writeTimeout-deadlineSlack
// and writeTimeout, or what is left of the grace, and notes the write for
// the heartbeat.
func (c *memberConn) setWriteDeadline() {
	now := time.Now()
	c.wrote = now
	if c.deadline.Sub(now) < writeTimeout-deadlineSlack {
		c.deadline = now.Add(writeTimeout)
		c.conn.SetWriteDeadline(c.deadline)
	}
	// Should removed run just before the deadline above is set, its
	// deadline is overwritten; it stored lastDeadline first, so it is seen
	// here and set again.
	if last := c.lastDeadline.Load(); last != 0 {
		c.conn.SetWriteDeadline(time.Unix(0, last))
	}
}

// removed is the member's room.JoinRequest.Removed: it runs on the room
// goroutine when the room lets the member go, and cuts short a write that
// is waiting for a member that does not read (it then fails, and the
// writer closes the connection).
func (c *memberConn) removed() {
	last := time.Now().Add(finalGrace)
	c.lastDeadline.Store(last.UnixNano())
	c.conn.SetWriteDeadline(last)
}

// batchPool holds the writers' batch buffers (*[]byte) between batches.
var batchPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 4096)
	return &b
}}

// abort closes conn's connection at once, without TLS's close_notify,
// which would wait up to 5 s for a peer that does not read.
func abort(conn net.Conn) {
	if tc, ok := conn.(*tls.Conn); ok {
		tc.NetConn().Close()
		return
	}
	conn.Close()
}

// closeWrite shuts the writing side of conn: a TLS close_notify, then a
// TCP FIN.
func closeWrite(conn net.Conn) {
	tc, ok := conn.(*tls.Conn)
	if !ok {
		// Without TLS (the owner's in-process pipe) there is no reset to
		// fear and no half-close to make, so the connection simply ends.
		conn.Close()
		return
	}
	tc.CloseWrite()
	if tcp, ok := tc.NetConn().(interface{ CloseWrite() error }); ok {
		tcp.CloseWrite()
	}
}

// checkPassword compares a hello's admin password with the room's, in
// constant time, if the throttle allows a check now, and returns the
// refusal to send, or nil when it is right. A try the throttle does not
// allow is refused at once, unchecked, and holds nothing while it waits:
// the person is told when to try again. The refusal's code is
// wire.CodeTooMany, the one join retries on when it reconnects: a real
// admin's reconnection gets in once the room-wide budget has refilled.
func (s *server) checkPassword(addr, password string) *wire.Frame {
	if s.password == nil {
		return &wire.Frame{Type: wire.TypeRefused, Code: wire.CodeNoAdmin,
			Text: "this room has no admin password; join without --admin"}
	}
	if retry, ok := s.throttle.begin(addr); !ok {
		secs := (retry + time.Second - 1) / time.Second
		return &wire.Frame{Type: wire.TypeRefused, Code: wire.CodeTooMany,
			Text: fmt.Sprintf("too many wrong admin passwords lately; try again in %d s", secs)}
	}
	// Hashing first makes the comparison constant-time whatever the lengths.
	sum := sha256.Sum256([]byte(password))
	if subtle.ConstantTimeCompare(sum[:], s.password) != 1 {
		return &wire.Frame{Type: wire.TypeRefused, Code: wire.CodeWrongPassword, Text: "wrong admin password"}
	}
	s.throttle.right(addr)
	return nil
}

// refuseUnreadable answers a first frame that could not be read.
func (s *server) refuseUnreadable(conn net.Conn, p peer, err error) {
	var werr *wire.Error
	if errors.As(err, &werr) {
		writeFrame(conn, &wire.Frame{Type: wire.TypeError, Code: werr.Code, Text: werr.Msg})
		return
	}
	s.log.Debug("no hello", "addr", p.addr, "err", err)
}

// writeFrame writes one frame during the handshake, when the writer
// goroutine does not run yet.
func writeFrame(conn net.Conn, f *wire.Frame) {
	b, err := wire.Encode(f)
	if err != nil {
		return
	}
	conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	conn.Write(b)
}

func quoteType(t string) string {
	if len(t) > 32 {
		t = t[:32] + "..."
	}
	return `"` + t + `"`
}

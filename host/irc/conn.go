package irc

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"chatroom/host/wire"
	"github.com/ergochat/irc-go/ircmsg"
	"github.com/ergochat/irc-go/ircreader"
	"github.com/ergochat/irc-go/ircutils"
	"golang.org/x/time/rate"
)

// Line limits, as RFC 1459 and the IRCv3 message-tags specification set
// them: 512 bytes of message, CR LF included, and up to 8191 of tags.
const (
	maxLineBody = 512
	maxLineRead = maxLineBody + ircmsg.MaxlenTags
)

// serverName is the name the gateway gives itself as the source of its
// own lines.
const serverName = "chatroom"

// serviceNick is the pseudo-user that stands for the room itself: lines
// sent to it are room commands, and the room's answers come from it. "*"
// may not begin a nick, so no member can be it (ZNC's "*status" habit).
const serviceNick = "*room"

const servicePrefix = serviceNick + "!room@" + serverName

// Bounds of one session.
const (
	// maxQueuedSays is how many lines wait to go to the room at its pace;
	// while that many wait, the gateway reads nothing more from the
	// client, which then waits too, and nothing is lost.
	maxQueuedSays = 100
	// The token bucket every line from the client costs from, so that a
	// client that floods the gateway with lines answered locally (WHO,
	// NAMES) is slowed down (fake lag) rather than answered as fast as it
	// asks.
	commandBurst     = 20
	commandPerSecond = 5
	// linesPerToken is how many lines of a local answer cost one more
	// token.
	linesPerToken = 10
	// Liveness of the client: a PING after this long without a line,
	// and the end after twice as long.
	clientIdle = 2 * time.Minute
	// roomTimeout bounds a write into the room, and its Dial.
	roomTimeout = 10 * time.Second
	// drainTimeout bounds how long the lines of a client that quit or
	// went wait for the room's pace before they are dropped.
	drainTimeout = 10 * time.Second
	// saslMax bounds a SASL response, which is a name and a password.
	saslMax = 1 << 10
	// maxTargets bounds the targets of one PRIVMSG, and the nicks of one
	// WHOIS, ISON or USERHOST.
	maxTargets = 5
	// maxModes bounds the mode changes of one MODE line.
	maxModes = 4
)

// The caps the gateway offers (IRCv3 capability negotiation).
const (
	capServerTime  = "server-time"
	capEcho        = "echo-message"
	capMessageTags = "message-tags"
	capBatch       = "batch"
	capAwayNotify  = "away-notify"
	capAccountTag  = "account-tag"
	capSASL        = "sasl"
)

var offeredCaps = []string{capAccountTag, capAwayNotify, capBatch, capEcho, capMessageTags, capSASL, capServerTime}

// phase is where a session is in its life.
type phase int

const (
	registering phase = iota // NICK, USER, CAP, PASS, SASL: before the hello
	helloing                 // the hello is sent; the welcome or refusal is awaited
	nickRefused              // the room refused the nick: a NICK tries again
	inRoom                   // welcomed: a member
	parted                   // registered, but out of the room (PART)
	closing
)

// clientLine is one line read from the IRC client, or why none could be.
type clientLine struct {
	line string
	err  error
}

// roomFrame is one frame read from the room, or why none could be.
type roomFrame struct {
	f   wire.Frame
	err error
}

// roomLink is the session's connection into the room.
type roomLink struct {
	nc       net.Conn
	frames   chan roomFrame
	done     chan struct{} // closed when the session lets the link go
	lastSent time.Time
	// leaving says the session sent "/quit" for a PART: what the room
	// sends after it is not shown.
	leaving bool
}

func (l *roomLink) close() {
	select {
	case <-l.done:
	default:
		close(l.done)
		l.nc.Close()
	}
}

// roomReadBuffer is how much of the room's frames a session reads at
// once.
const roomReadBuffer = 16 << 10

// readRoom forwards the room's frames to the session until the link
// breaks or the session lets it go. The room's pings are dropped here:
// they need no answer, and the owner need not wake for them.
func (l *roomLink) readRoom() {
	// The host writes a member's waiting frames in one write; read them
	// in one too, rather than in as many reads as the decoder's small
	// buffer takes (each read of a pipe is a hand-over between two
	// goroutines).
	dec := wire.NewDecoder(bufio.NewReaderSize(l.nc, roomReadBuffer), wire.MaxHostFrame)
	for {
		line, err := dec.ReadLine()
		var rf roomFrame
		if err != nil {
			rf.err = err
		} else if bytes.Equal(bytes.TrimSpace(line), []byte(`{"type":"ping"}`)) {
			continue
		} else {
			rf.f, rf.err = eventFrames.parse(line)
		}
		select {
		case l.frames <- rf:
		case <-l.done:
			return
		}
		if rf.err != nil {
			return
		}
	}
}

// conn is one IRC connection, owned by the one goroutine that runs it
// (run): every field is its alone. Two reader goroutines only forward what
// they read: the client's lines and the room's frames.
type conn struct {
	g     *Gateway
	nc    net.Conn
	peer  Peer
	lines chan clientLine
	stop  chan struct{} // closed when the session ends, for its readers
	out   bytes.Buffer  // lines written by this step, flushed after it
	now   time.Time

	phase      phase
	registered bool // 001 was sent
	deadline   time.Time
	slot       *pendingSlot // its place among the gateway's connections not in the room
	addrKey    string       // the address it is counted under

	// registration
	nick        string // the nick the client goes by
	userSeen    bool
	negotiating bool // CAP LS or REQ, and no CAP END yet
	cap302      bool
	caps        map[string]bool
	password    string
	bySASL      bool
	sasl        *ircutils.SASLBuffer // non-nil while an AUTHENTICATE is under way

	// pacing
	commands *rate.Limiter
	lagUntil time.Time
	says     []string
	queued   int // how many lines were ever queued for the room
	sayPace  *rate.Limiter
	sayHeld  bool
	sayDue   time.Time
	ref      uint64

	// liveness of the client
	lastHeard time.Time
	pinged    bool
	// gone says nothing more can be written to the client.
	gone bool

	// Ending: the client quit or went with lines still waiting for the
	// room's pace, which go first, for drainTimeout at most (a bot that
	// sends a few lines and QUIT at once means them to arrive).
	ending    bool
	endByQuit bool   // a QUIT, with endReason; else the client went
	endReason string // the QUIT's, for its ERROR
	endBy     time.Time

	// the room
	room      *roomLink
	heartbeat time.Duration
	channel   string
	roomName  string
	me        string // the room's name for this member
	roster    *roster
	roomCmds  map[string]bool
	bans      []string
	// The masks the client banned and muted members by (masks.go), kept
	// while it is connected, for its "-b" or "-q" of the same mask.
	bannedMasks []maskedName
	mutedMasks  []maskedName
	topic       string
	topicBy     string
	topicTime   time.Time
	welcomeSeq  uint64
	backlogLeft int
	batchID     string
	batchSeq    int

	// Kept from one event to the next, so that a delivery allocates
	// little (render).
	tags     map[string]string
	scratch  [32]byte
	prefixes map[*member]prefixMemo
}

func newConn(g *Gateway, nc net.Conn, peer Peer, now time.Time) *conn {
	return &conn{
		g: g, nc: nc, peer: peer, now: now,
		lines:     make(chan clientLine),
		stop:      make(chan struct{}),
		caps:      map[string]bool{},
		commands:  rate.NewLimiter(commandPerSecond, commandBurst),
		lastHeard: now,
		deadline:  now.Add(g.registrationTimeout()),
		roster:    newRoster(),
	}
}

// readClient forwards the client's lines to the session. A line longer
// than the IRC bounds cannot be read past, and ends the connection.
func (c *conn) readClient() {
	var r ircreader.Reader
	r.Initialize(c.nc, 512, maxLineRead)
	for {
		line, err := r.ReadLine()
		cl := clientLine{line: string(line), err: err}
		select {
		case c.lines <- cl:
		case <-c.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// run is the session: it reads the events of the connection, one at a
// time, until it ends.
func (c *conn) run() {
	defer c.end()
	go c.readClient()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for c.phase != closing {
		c.flush()
		if c.phase == closing {
			break
		}
		var lines <-chan clientLine
		if c.readable() {
			lines = c.lines
		}
		var frames <-chan roomFrame
		if c.room != nil {
			frames = c.room.frames
		}
		timer.Reset(max(c.nextWake().Sub(time.Now()), time.Millisecond))
		select {
		case l := <-lines:
			c.now = time.Now()
			c.clientLine(l)
		case rf := <-frames:
			c.now = time.Now()
			c.roomFrame(rf)
			c.waitingFrames()
		case <-timer.C:
			c.now = time.Now()
		case <-c.g.closing:
			c.now = time.Now()
			c.fail("the room is closing")
		}
		c.tick()
	}
	c.flush()
}

// Bounds of the frames handled before one flush: the frames already
// waiting are rendered together and written at once, one TLS record
// and one system call for many lines (a busy room sends many frames a
// second to every member), but no more than this many nor this much
// output, so that the client is never kept waiting long for lines that
// are ready.
const (
	maxFramesPerFlush = 64
	maxFlushBytes     = 64 << 10
)

// waitingFrames handles the frames that the room has already sent,
// after the one just handled, so that their lines go out in one flush.
// It stops at the first that is not there yet, and when the session
// ends or lets its room connection go (a frame of the next one waits
// for its turn in run).
func (c *conn) waitingFrames() {
	link := c.room
	for range maxFramesPerFlush - 1 {
		if c.phase == closing || link == nil || c.room != link || c.out.Len() >= maxFlushBytes {
			return
		}
		select {
		case rf := <-link.frames:
			c.roomFrame(rf)
		default:
			return
		}
	}
}

// readable says whether the session takes another line from the client
// now: not while the room's pace holds a full queue of its lines, nor
// while it is lagged for sending too much, nor while the room has yet to
// answer the hello (a client may send its JOIN and more right after its
// registration, which are for the room it is about to be in).
func (c *conn) readable() bool {
	return c.phase != helloing && !c.ending && len(c.says) < maxQueuedSays && !c.now.Before(c.lagUntil)
}

// nextWake is when the session has something to do without being told.
func (c *conn) nextWake() time.Time {
	wake := c.lastHeard.Add(clientIdle)
	if c.pinged {
		wake = c.lastHeard.Add(2 * clientIdle)
	}
	if !c.registered {
		wake = earliest(wake, c.deadline)
	}
	if c.lagUntil.After(c.now) {
		wake = earliest(wake, c.lagUntil)
	}
	if c.sayHeld {
		wake = earliest(wake, c.sayDue)
	}
	if c.ending {
		wake = earliest(wake, c.endBy)
	}
	if c.heartbeatDue() {
		wake = earliest(wake, c.room.lastSent.Add(c.heartbeat))
	}
	return wake
}

// heartbeatDue says whether the session keeps the room connection alive
// with pings: only in the room, after the welcome that said how often
// (a ping before it would be no hello).
func (c *conn) heartbeatDue() bool {
	return c.phase == inRoom && c.room != nil && !c.room.leaving && c.heartbeat > 0
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// tick does what is due: the registration deadline, the client's
// liveness, the room's heartbeat and the lines waiting for the room's
// pace.
func (c *conn) tick() {
	if c.phase == closing {
		return
	}
	switch {
	case !c.registered && !c.now.Before(c.deadline):
		c.fail("registration timed out")
		return
	case c.now.Sub(c.lastHeard) >= 2*clientIdle:
		c.fail("ping timeout")
		return
	case !c.pinged && c.now.Sub(c.lastHeard) >= clientIdle:
		c.pinged = true
		c.send(ircmsg.MakeMessage(nil, "", "PING", serverName))
	}
	c.pumpSays()
	if c.ending && (len(c.says) == 0 || !c.now.Before(c.endBy)) {
		c.endNow()
		return
	}
	if c.heartbeatDue() && c.now.Sub(c.room.lastSent) >= c.heartbeat {
		c.toRoom(&wire.Frame{Type: wire.TypePing})
	}
}

// quit ends the session for the client's QUIT with its reason, once
// the lines waiting for the room have gone.
func (c *conn) quit(reason string) {
	c.endByQuit, c.endReason = true, reason
	c.finish()
}

// lost ends the session for a client that went (its connection broke or
// it stopped reading), once the lines waiting for the room have gone.
func (c *conn) lost() {
	c.endByQuit, c.endReason = false, ""
	c.finish()
}

func (c *conn) finish() {
	if c.phase == inRoom && len(c.says) > 0 {
		c.ending, c.endBy = true, c.now.Add(drainTimeout)
		return
	}
	c.endNow()
}

// endNow ends the session that finish began: after a QUIT, the member
// leaves the room and the client is told; a client that went is, to
// the room, lost, as a chatroom member whose link breaks.
func (c *conn) endNow() {
	if !c.endByQuit {
		c.phase = closing
		return
	}
	c.quitRoom()
	c.fail(c.endReason)
}

// fail ends the session, telling the client why in an ERROR.
func (c *conn) fail(why string) {
	if c.phase == closing {
		return
	}
	c.sendText(ircmsg.MakeMessage(nil, "", "ERROR", "Closing link: "+why))
	c.phase = closing
}

// end lets everything of the session go.
func (c *conn) end() {
	close(c.stop)
	if c.room != nil {
		c.room.close()
	}
	c.nc.Close()
	c.g.forget(c)
}

// send writes m to the client at the end of this step. A line that
// cannot be written (a parameter that is not one) is dropped: it is the
// gateway's mistake, not for the client to see half of.
func (c *conn) send(m ircmsg.Message) {
	if c.gone {
		return
	}
	// A parameter the client gave (a nick or channel it asked about,
	// echoed in a numeric) may hold bytes that are not UTF-8, which the
	// gateway passes on to no one: IRC clients show them as garbage or
	// drop the line.
	for i, p := range m.Params {
		if !utf8.ValidString(p) {
			m.Params = slices.Clone(m.Params)
			for j := i; j < len(m.Params); j++ {
				m.Params[j] = strings.ToValidUTF8(m.Params[j], "\uFFFD")
			}
			break
		}
	}
	b, err := m.LineBytesStrict(false, maxLineBody)
	if err != nil && !errors.Is(err, ircmsg.ErrorBodyTooLong) {
		c.g.log.Warn("irc: line not written", "command", m.Command, "err", err)
		return
	}
	c.out.Write(b)
}

// flush writes what this step made, within the write timeout: a client
// that does not read its lines is let go.
func (c *conn) flush() {
	if c.out.Len() == 0 {
		return
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.g.writeTimeout()))
	_, err := c.nc.Write(c.out.Bytes())
	c.out.Reset()
	if err != nil && !c.gone {
		c.gone = true
		c.lost()
	}
}

// numeric sends a numeric reply, addressed to the client's nick.
func (c *conn) numeric(code string, params ...string) {
	target := c.nick
	if target == "" {
		target = "*"
	}
	c.send(ircmsg.MakeMessage(nil, serverName, code, append([]string{target}, params...)...))
}

// clientLine handles one line from the client.
func (c *conn) clientLine(l clientLine) {
	if l.err != nil {
		switch {
		case errors.Is(l.err, ircreader.ErrReadQ):
			c.fail("line too long")
		default:
			c.lost()
		}
		return
	}
	c.lastHeard, c.pinged = c.now, false
	queued, written := c.queued, c.out.Len()
	defer func() {
		// A line that became a line for the room goes at the room's
		// pace; any other costs from the session's own bucket, and
		// more for a long answer (a WHO of a big room), so that a short
		// line cannot have the gateway write much faster than lines
		// come.
		if c.queued == queued {
			answer := bytes.Count(c.out.Bytes()[min(written, c.out.Len()):], []byte("\r\n"))
			c.lag(1 + answer/linesPerToken)
		}
	}()
	msg, err := ircmsg.ParseLineStrict(l.line, true, maxLineBody)
	switch {
	case errors.Is(err, ircmsg.ErrorLineIsEmpty):
		return
	case errors.Is(err, ircmsg.ErrorBodyTooLong), errors.Is(err, ircmsg.ErrorTagsTooLong):
		c.numeric("417", "Input line was too long")
		return
	case err != nil:
		return
	}
	c.command(msg)
}

// lag takes a token of the session's bucket for a line; when there is
// none, the session reads nothing more from the client until there is
// (fake lag): a client that floods is slowed, never answered faster.
func (c *conn) lag(tokens int) {
	if r := c.commands.ReserveN(c.now, min(tokens, commandBurst)); r.OK() {
		if d := r.DelayFrom(c.now); d > 0 {
			c.lagUntil = c.now.Add(d)
		}
	}
}

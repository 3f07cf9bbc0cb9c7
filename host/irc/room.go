package irc

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"time"

	"chatroom/host/wire"
	"github.com/ergochat/irc-go/ircmsg"
	"golang.org/x/time/rate"
)

// paceMargin is how much slower than the room's announced limit the
// gateway sends a member's lines, so that it never runs ahead of the
// room's own count, which has its own clock.
const paceMargin = 0.9

// minPerSecond is the slowest pace taken from a room: a room that
// announces less is paced at this (and refuses what it refuses).
const minPerSecond = 0.2

// minHeartbeat is the shortest heartbeat the session keeps to.
const minHeartbeat = 50 * time.Millisecond

// roomLastWords is how long the session still reads a room connection
// that took no more of what it wrote, for what the room said before it
// closed its end.
const roomLastWords = time.Second

// dialRoom opens a connection into the room and sends the hello.
func (c *conn) dialRoom() {
	ctx, cancel := context.WithTimeout(c.g.ctx, roomTimeout)
	defer cancel()
	var nc net.Conn
	err := errors.New("the gateway has no Dial")
	if c.g.cfg.Dial != nil {
		nc, err = c.g.cfg.Dial(ctx, c.peer)
	}
	switch {
	case err != nil && c.g.ctx.Err() != nil:
		c.fail("the room is closing")
		return
	case err != nil:
		c.g.log.Warn("irc: dialing the room", "err", err)
		c.fail("the room cannot be reached")
		return
	}
	c.room = &roomLink{nc: nc, frames: make(chan roomFrame, maxFramesPerFlush), done: make(chan struct{})}
	c.phase = helloing
	go c.room.readRoom()
	c.toRoom(&wire.Frame{Type: wire.TypeHello, Version: wire.Version, Name: c.nick, Password: c.password})
}

// toRoom writes f into the room. A room that does not take it in time is
// gone; one that closed its end may have said why before it (a refusal of
// the hello it did not read, a closed frame), which the room's reader
// passes on before the end, so the end is left for it to report.
func (c *conn) toRoom(f *wire.Frame) {
	if c.room == nil {
		return
	}
	b, err := wire.Encode(f)
	if err != nil {
		c.roomLost()
		return
	}
	c.room.nc.SetWriteDeadline(time.Now().Add(roomTimeout))
	_, err = c.room.nc.Write(b)
	c.room.lastSent = c.now
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.roomLost()
	case err != nil:
		// Whatever the room still sends is read for a moment more, and
		// no longer: the reader then reports the end in any case.
		c.room.nc.SetReadDeadline(time.Now().Add(roomLastWords))
	}
}

// roomLost handles the end of the room connection that the room did
// not announce.
func (c *conn) roomLost() {
	if c.room != nil && c.room.leaving {
		c.dropRoom()
		return
	}
	c.fail("the room closed the connection")
}

// dropRoom lets the room connection go, and what it told.
func (c *conn) dropRoom() {
	if c.room != nil {
		c.room.close()
		c.room = nil
	}
	c.says, c.sayHeld = nil, false
	c.roster = newRoster()
	c.closeBatch()
	c.backlogLeft = 0
}

// leaveRoom is PART: the member leaves the room, the client stays.
func (c *conn) leaveRoom() {
	c.dropWaitingSays()
	c.toRoom(&wire.Frame{Type: wire.TypeSay, Text: "/quit"})
	if c.room != nil {
		c.room.leaving = true
	}
	c.closeBatch()
	c.backlogLeft = 0
	c.send(ircmsg.MakeMessage(nil, c.myPrefix(), "PART", c.channel))
	c.phase = parted
	c.roster = newRoster()
	if !c.g.parted(c) {
		c.fail("too many connections out of the room from your address")
	}
}

// quitRoom leaves the room for good, when the client quits.
func (c *conn) quitRoom() {
	if c.phase == inRoom && c.room != nil {
		c.dropWaitingSays()
		c.toRoom(&wire.Frame{Type: wire.TypeSay, Text: "/quit"})
	}
}

// dropWaitingSays drops the lines still waiting for the room's pace
// when the member leaves: they would arrive after the member is gone.
func (c *conn) dropWaitingSays() {
	if n := len(c.says); n > 0 {
		c.serviceNotice(itoa(n) + " lines not sent: you left the room before its pace let them go")
	}
	c.says, c.sayHeld = nil, false
}

// pumpSays sends the lines waiting for the room, as fast as its pace
// allows.
func (c *conn) pumpSays() {
	for c.phase == inRoom && c.room != nil && len(c.says) > 0 {
		if c.sayHeld {
			if c.now.Before(c.sayDue) {
				return
			}
		} else if c.sayPace != nil {
			r := c.sayPace.ReserveN(c.now, 1)
			if d := r.DelayFrom(c.now); d > 0 {
				c.sayHeld, c.sayDue = true, c.now.Add(d)
				return
			}
		}
		c.sayHeld = false
		text := c.says[0]
		c.says = c.says[1:]
		c.ref++
		c.toRoom(&wire.Frame{Type: wire.TypeSay, Text: text, Ref: c.ref})
	}
}

func newPace(l *wire.Limits) *rate.Limiter {
	if l == nil || l.Burst <= 0 || l.PerSecond <= 0 {
		return rate.NewLimiter(minPerSecond, 1)
	}
	return rate.NewLimiter(rate.Limit(max(l.PerSecond*paceMargin, minPerSecond)), l.Burst)
}

// roomFrame handles one frame from the room, in the order the room sent
// them.
func (c *conn) roomFrame(rf roomFrame) {
	if rf.err != nil {
		var we *wire.Error
		if errors.As(rf.err, &we) {
			c.g.log.Warn("irc: unreadable frame from the room", "err", rf.err)
		} else if !errors.Is(rf.err, io.EOF) && !errors.Is(rf.err, io.ErrClosedPipe) {
			c.g.log.Debug("irc: room connection", "err", rf.err)
		}
		c.roomLost()
		return
	}
	f := rf.f
	if c.room != nil && c.room.leaving {
		if f.Type == wire.TypeClosed {
			c.dropRoom()
		}
		return
	}
	switch c.phase {
	case helloing:
		switch f.Type {
		case wire.TypeWelcome:
			c.welcome(f)
		case wire.TypeRefused:
			c.refused(f)
		case wire.TypeClosed, wire.TypeError:
			c.fail(orText(f.Text, "the room refused the connection"))
		}
	case inRoom:
		c.render(f)
	}
}

func orText(text, or string) string {
	if text == "" {
		return or
	}
	return text
}

// refused maps a refused hello to the numerics IRC clients know.
func (c *conn) refused(f wire.Frame) {
	c.dropRoom()
	text := ircText(f.Text)
	switch f.Code {
	case wire.CodeNameTaken:
		c.numeric("433", c.nick, "Nickname is already in use: "+text)
		c.phase = nickRefused
		return
	case wire.CodeNameInvalid:
		c.numeric("432", c.nick, "Erroneous nickname: "+text)
		c.phase = nickRefused
		return
	case wire.CodeWrongPassword, wire.CodeNoAdmin:
		if c.bySASL {
			c.numeric("904", "SASL authentication failed: "+text)
		} else {
			c.numeric("464", "Password incorrect: "+text)
		}
	case wire.CodeBanned:
		c.numeric("465", "You are banned from this room: "+text)
	}
	c.fail(orText(text, "the room refused you"))
}

// welcome answers registration (001 to 005 and the MOTD, the first
// time), then joins the client to the channel and replays the backlog
// that follows.
func (c *conn) welcome(f wire.Frame) {
	c.phase = inRoom
	c.roster = newRoster()
	if f.Room != nil {
		c.roomName = f.Room.Name
		c.topic = f.Room.Topic
	}
	ch := ChannelName(c.roomName)
	for _, m := range f.Members {
		c.roster.add(m)
	}
	if f.You != nil {
		c.me = f.You.Name
		c.roster.add(*f.You)
	} else {
		c.me = c.nick
		c.roster.add(wire.Member{Name: c.nick, Role: wire.RoleMember})
	}
	mine := c.roster.byName[c.me]
	c.roomCmds = map[string]bool{}
	for _, cmd := range f.Commands {
		c.roomCmds[cmd.Name] = true
	}
	c.bans = f.Bans
	c.heartbeat = time.Duration(f.HeartbeatMS) * time.Millisecond
	if c.heartbeat > 0 {
		// A room that asks for pings faster than this would have the
		// session do little else.
		c.heartbeat = max(c.heartbeat, minHeartbeat)
	}
	c.sayPace = newPace(f.Limits)
	c.welcomeSeq = f.Seq
	c.backlogLeft = f.Backlog
	c.g.registered(c) // in the room, whose limits count it now
	if !c.registered {
		c.registered = true
		c.nick = mine.nick
		c.channel = ch
		c.numeric("001", "Welcome to the room "+ircText(c.roomName)+", "+c.nick)
		c.numeric("002", "Your host is "+serverName+", the room's IRC gateway")
		c.numeric("003", "This room is a chatroom")
		c.numeric("004", serverName, "chatroom", "i", "bnoqt")
		c.isupport()
		c.motd()
	} else if mine.nick != c.nick {
		c.send(ircmsg.MakeMessage(nil, c.nick+"!"+mine.user()+"@"+mine.host(), "NICK", mine.nick))
		c.nick = mine.nick
	}
	c.channel = ch
	c.send(ircmsg.MakeMessage(nil, mine.prefix(), "JOIN", c.channel))
	c.sendTopic()
	c.names()
	c.pumpSays()
}

func (c *conn) isupport() {
	c.numeric("005", "CHANTYPES=#", "PREFIX=(o)@", "CHANMODES=bq,,,nt", "MODES="+itoa(maxModes),
		"NICKLEN=24", "TOPICLEN=300", "CASEMAPPING=ascii", "NETWORK="+isupportValue(c.roomName),
		"CHANNELLEN=50", "TARGMAX=PRIVMSG:"+itoa(maxTargets)+",NOTICE:"+itoa(maxTargets),
		"are supported by this server")
}

// isupportValue is a name as an ISUPPORT value may hold it: no spaces,
// no "=", nothing that is not printable ASCII.
func isupportValue(s string) string {
	out := []byte(safeUser(s))
	if len(out) > 50 {
		out = out[:50]
	}
	return string(out)
}

package irc

import (
	"net"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// TestBasicPath is a client's whole life: registration, the hello, the
// welcome as 001, JOIN and NAMES, a message each way, PING, QUIT.
func TestBasicPath(t *testing.T) {
	tg := startGateway(t, Config{})
	c := tg.dial()
	c.send("NICK cy", "USER cy 0 * :Cy")
	room := tg.nextDial()
	hello := room.read()
	if hello.Type != wire.TypeHello || hello.Name != "cy" || hello.Password != "" {
		t.Fatalf("hello %+v", hello)
	}
	if room.peer.Addr == "" || room.peer.Identity != "" {
		t.Errorf("peer %+v: want an address and no identity", room.peer)
	}
	room.write(testWelcome("cy"))
	c.expect(":chatroom 001 cy :Welcome to the room the den, cy")
	got := c.readUntil("366")
	var lines []string
	for _, m := range got {
		l, _ := m.Line()
		lines = append(lines, strings.TrimSuffix(l, "\r\n"))
	}
	joined := strings.Join(lines, "\n")
	for _, want := range []string{
		":chatroom 005 cy CHANTYPES=# PREFIX=(o)@",
		":cy!~cy@chatroom JOIN #the-den",
		":chatroom 332 cy #the-den snacks",
		":chatroom 353 cy = #the-den :@ann bob_x cy",
		":chatroom 366 cy #the-den :End of /NAMES list",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("registration lacks %q:\n%s", want, joined)
		}
	}

	c.send("PRIVMSG #the-den :hello all")
	if say := room.readSay(); say.Text != "hello all" || say.Ref == 0 {
		t.Errorf("say %+v", say)
	}
	room.write(wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindSay, From: "bob.x", Text: "hi cy", Time: time.Now()})
	c.expect(":bob_x!~bob_x@chatroom PRIVMSG #the-den :hi cy")

	c.send("PING :abc")
	c.expect(":chatroom PONG chatroom abc")

	c.send("QUIT :bye")
	if say := room.readSay(); say.Text != "/quit" {
		t.Errorf("QUIT sent %+v", say)
	}
	lines = c.expectClosed()
	if len(lines) != 1 || lines[0] != "ERROR :Closing link: Quit: bye" {
		t.Errorf("after QUIT: %q", lines)
	}
}

// TestQuitSendsWaitingLinesFirst: a bot that sends a few lines and QUIT
// at once, faster than the room's pace, has its lines go to the room
// first, then the /quit.
func TestQuitSendsWaitingLinesFirst(t *testing.T) {
	tg := startGateway(t, Config{})
	w := testWelcome("cy")
	w.Limits = &wire.Limits{Burst: 1, PerSecond: 20}
	s := tg.join("cy", nil, w)
	s.c.send("PRIVMSG #the-den :1", "PRIVMSG #the-den :2", "PRIVMSG #the-den :3", "QUIT :done")
	for _, want := range []string{"1", "2", "3", "/quit"} {
		if say := s.room.readSay(); say.Text != want {
			t.Fatalf("the room read %q, want %q", say.Text, want)
		}
	}
	if got := s.c.expectClosed(); len(got) != 1 || got[0] != "ERROR :Closing link: Quit: done" {
		t.Fatalf("got %q", got)
	}
}

// TestGoneSendsWaitingLinesFirst: a client that sends its lines and
// closes its side of the connection (as "nc -N" does) has them go to the
// room too; then its member is lost, as no QUIT said it left.
func TestGoneSendsWaitingLinesFirst(t *testing.T) {
	tg := startGateway(t, Config{})
	w := testWelcome("cy")
	w.Limits = &wire.Limits{Burst: 1, PerSecond: 20}
	s := tg.join("cy", nil, w)
	s.c.send("PRIVMSG #the-den :1", "PRIVMSG #the-den :2", "PRIVMSG #the-den :3")
	s.c.conn.(*net.TCPConn).CloseWrite()
	for _, want := range []string{"1", "2", "3"} {
		if say := s.room.readSay(); say.Text != want {
			t.Fatalf("the room read %q, want %q", say.Text, want)
		}
	}
	s.room.conn.SetReadDeadline(time.Now().Add(testWait))
	for {
		f, err := s.room.dec.Decode()
		if err != nil {
			break
		}
		if f.Type != wire.TypePing {
			t.Fatalf("after the lines the room read %+v, want the end", f)
		}
	}
}

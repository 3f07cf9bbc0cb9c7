package irc

import (
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

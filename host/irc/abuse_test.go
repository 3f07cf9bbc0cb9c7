package irc

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// TestRegistrationDeadline is the attack of a client that connects and
// never registers, to hold a slot: it is closed at the deadline.
func TestRegistrationDeadline(t *testing.T) {
	tg := startGateway(t, Config{RegistrationTimeout: 300 * time.Millisecond})
	c := tg.dial()
	c.send("NICK cy") // and never USER
	if got := c.expectClosed(); len(got) != 1 || got[0] != "ERROR :Closing link: registration timed out" {
		t.Fatalf("got %q", got)
	}
}

// TestRegistrationDeadlineAfterRefusal: a client refused its nick that
// never sends another is held to the same deadline.
func TestRegistrationDeadlineAfterRefusal(t *testing.T) {
	tg := startGateway(t, Config{RegistrationTimeout: 500 * time.Millisecond})
	c := tg.dial()
	c.send("NICK cy", "USER cy 0 * :Cy")
	room := tg.nextDial()
	room.read()
	room.write(wire.Frame{Type: wire.TypeRefused, Code: wire.CodeNameTaken, Text: "taken"})
	got := c.expectClosed()
	if len(got) != 2 || got[1] != "ERROR :Closing link: registration timed out" {
		t.Fatalf("got %q", got)
	}
}

// TestPendingBoundPerAddress is the attack of many connections from one
// address that do not register, to take every slot: beyond the bound
// from one address a connection is closed at once, and one that
// registers frees its slot.
func TestPendingBoundPerAddress(t *testing.T) {
	tg := startGateway(t, Config{MaxPendingPerAddr: 2, MaxPending: 100})
	first := tg.dial()
	first.send("NICK a", "USER a 0 * :A")
	firstRoom := tg.nextDial()
	firstRoom.read()
	second := tg.dial()
	second.send("CAP LS") // pending, in negotiation
	second.readUntil("CAP")

	third := tg.dial()
	if got := third.expectClosed(); len(got) != 0 {
		t.Fatalf("a third pending connection was sent %q", got)
	}
	firstRoom.write(testWelcome("a"))
	first.readUntil("366")
	fourth := tg.dial()
	fourth.send("CAP LS")
	fourth.readUntil("CAP")
	fifth := tg.dial()
	if got := fifth.expectClosed(); len(got) != 0 {
		t.Fatalf("a pending connection past the bound was sent %q", got)
	}
}

// TestPendingBoundInAllPushesOutTheOldest is the attack of idle sockets
// from many addresses, renewed as the registration deadline closes them,
// to hold every pending slot and keep every IRC client out: a newcomer
// past the bound in all pushes the oldest pending connection out, so a
// real client still gets in, and a connection that registers frees its
// slot.
func TestPendingBoundInAllPushesOutTheOldest(t *testing.T) {
	tg := startGateway(t, Config{MaxPendingPerAddr: 100, MaxPending: 2})
	pendingAre := func(n int) {
		t.Helper()
		waitFor(t, fmt.Sprintf("%d pending connections", n), func() bool {
			tg.g.mu.Lock()
			defer tg.g.mu.Unlock()
			return tg.g.pending.Len() == n
		})
	}
	oldest := tg.dial()
	pendingAre(1)
	idle := tg.dial()
	pendingAre(2)

	real := tg.dial()
	real.send("NICK a", "USER a 0 * :A")
	room := tg.nextDial()
	room.read()
	if got := oldest.expectClosed(); len(got) != 0 {
		t.Fatalf("the oldest pending connection, pushed out, was sent %q", got)
	}
	room.write(testWelcome("a"))
	real.readUntil("366")
	pendingAre(1) // idle: real registered, and its slot is free

	// The one left is still served, and a newcomer takes the free slot
	// without pushing it out.
	tg.dial()
	pendingAre(2)
	idle.send("PING :still")
	idle.readUntil("PONG")
}

// TestPartedCountAsPending is the attack of a client that joins and
// parts, again and again, to hold connections the room no longer counts:
// a parted connection counts among the pending ones again.
func TestPartedCountAsPending(t *testing.T) {
	tg := startGateway(t, Config{MaxPendingPerAddr: 1})
	a := tg.join("a", nil, testWelcome("a"))
	b := tg.join("b", nil, testWelcome("b"))
	a.c.send("PART #the-den")
	a.room.readSay()
	a.c.expect(":a!~a@chatroom PART #the-den")
	b.c.send("PART #the-den")
	b.room.readSay()
	b.c.expect(":b!~b@chatroom PART #the-den")
	if got := b.c.expectClosed(); len(got) != 1 || got[0] != "ERROR :Closing link: too many connections out of the room from your address" {
		t.Fatalf("got %q", got)
	}
	a.c.send("JOIN #the-den")
	room := tg.nextDial()
	room.read()
	room.write(testWelcome("a"))
	a.c.readUntil("366")
	// Back in the room, a is no longer pending: another may register.
	tg.join("c", nil, testWelcome("c"))
}

// TestOverlongLines is the attack of lines past IRC's bounds: one over
// 512 bytes is answered 417 and dropped, the session going on; one that
// never ends, past 512 bytes and the tags' 8191, ends the connection.
func TestOverlongLines(t *testing.T) {
	tg := startGateway(t, Config{})
	s := tg.join("cy", nil, testWelcome("cy"))
	s.c.send("PRIVMSG #the-den :" + strings.Repeat("x", 600))
	s.c.expect(":chatroom 417 cy :Input line was too long")
	s.c.send("@+tag=" + strings.Repeat("t", 5000) + " PRIVMSG #the-den :tagged")
	s.c.expect(":chatroom 417 cy :Input line was too long")
	s.c.send("PRIVMSG #the-den :fine")
	if say := s.room.readSay(); say.Text != "fine" {
		t.Fatalf("after the long lines the room read %q", say.Text)
	}
	s.c.conn.Write([]byte("PRIVMSG #the-den :" + strings.Repeat("y", maxLineRead)))
	if got := s.c.expectClosed(); len(got) != 1 || got[0] != "ERROR :Closing link: line too long" {
		t.Fatalf("got %q", got)
	}
}

// TestMessageFlood is the attack of a client that pastes many lines: the
// room's pace holds them back, none is lost, and they go in order.
func TestMessageFlood(t *testing.T) {
	tg := startGateway(t, Config{})
	w := testWelcome("cy")
	w.Limits = &wire.Limits{Burst: 3, PerSecond: 20}
	s := tg.join("cy", nil, w)
	const n = 40
	start := time.Now()
	go func() {
		for i := range n {
			s.c.conn.Write([]byte(fmt.Sprintf("PRIVMSG #the-den :line %d\r\n", i)))
		}
	}()
	for i := range n {
		if say := s.room.readSay(); say.Text != fmt.Sprintf("line %d", i) {
			t.Fatalf("say %d was %q", i, say.Text)
		}
	}
	// 3 at once, then 37 at 90% of 20 a second.
	if took, least := time.Since(start), 37*time.Second/18; took < least*9/10 {
		t.Fatalf("%d lines took %v, faster than the room's pace allows (%v)", n, took, least)
	}
}

// TestQueueFullStopsReading: with the room's pace holding a full queue
// of lines, the session reads no more from the client, which waits.
func TestQueueFullStopsReading(t *testing.T) {
	c := newTestConn(t)
	for i := range maxQueuedSays - 1 {
		c.says = append(c.says, fmt.Sprint(i))
	}
	if !c.readable() {
		t.Fatal("the session stopped reading before its queue was full")
	}
	c.says = append(c.says, "last")
	if c.readable() {
		t.Fatal("the session reads on with its queue full")
	}
}

// TestCommandFlood is the attack of a client that asks for WHO as fast
// as it can: past the bucket's burst, it is answered at its rate (fake
// lag), never faster, and every line is still answered.
func TestCommandFlood(t *testing.T) {
	tg := startGateway(t, Config{})
	s := tg.join("cy", nil, testWelcome("cy"))
	const n = 30
	var lines []string
	for range n {
		lines = append(lines, "WHO cy")
	}
	start := time.Now()
	s.c.send(lines...)
	answered := 0
	firstSecond := 0
	for answered < n {
		if m := s.c.read(); m.Command == "315" {
			answered++
			if time.Since(start) < time.Second {
				firstSecond++
			}
		}
	}
	// The burst (commandBurst) and at most a second's worth (5) more.
	if firstSecond > commandBurst+commandPerSecond+1 {
		t.Fatalf("%d WHO answered in the first second, past the bucket's %d+%d", firstSecond, commandBurst, commandPerSecond)
	}
}

// TestBigAnswersCostMore is the attack of a short line with a long
// answer, a WHO of a big room, asked again and again: each costs a token
// for every ten lines of its answer, so the bucket runs dry after a few.
func TestBigAnswersCostMore(t *testing.T) {
	tg := startGateway(t, Config{})
	w := testWelcome("cy")
	for i := range 60 {
		w.Members = append(w.Members, wire.Member{Name: fmt.Sprintf("m%d", i), Role: wire.RoleMember})
	}
	s := tg.join("cy", nil, w)
	const n = 6
	var lines []string
	for range n {
		lines = append(lines, "WHO #the-den")
	}
	start := time.Now()
	s.c.send(lines...)
	firstSecond := 0
	for answered := 0; answered < n; {
		if m := s.c.read(); m.Command == "315" {
			answered++
			if time.Since(start) < time.Second {
				firstSecond++
			}
		}
	}
	// 63 members: 7 tokens each. A line is answered before its cost is
	// taken, so the burst of 20 answers three, and the fourth comes
	// once the third's debt is paid, a fifth of a second later; the
	// fifth waits for 1.6 s more.
	if firstSecond > 4 {
		t.Fatalf("%d WHO of %d lines answered in the first second", firstSecond, len(w.Members))
	}
}

// TestClientThatNeverReads is the attack of a client that registers and
// reads nothing more, so that the room's events pile up for it: the
// gateway lets it go once its writes stay blocked past the write
// timeout, and closes its connection into the room too.
func TestClientThatNeverReads(t *testing.T) {
	tg := startGateway(t, Config{WriteTimeout: 300 * time.Millisecond})
	s := tg.join("cy", nil, testWelcome("cy"))
	big := strings.Repeat("z", 3900)
	deadline := time.Now().Add(20 * time.Second)
	var err error
	for i := 0; err == nil; i++ {
		if time.Now().After(deadline) || i > 20000 {
			t.Fatal("the gateway kept taking the room's events for a client that reads nothing")
		}
		b, _ := wire.Encode(&wire.Frame{Type: wire.TypeEvent, Seq: uint64(11 + i), Kind: wire.KindSay, From: "ann", Text: big})
		s.room.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, err = s.room.conn.Write(b)
	}
	// The client's connection is closed: what it did not read is there,
	// then the end.
	s.c.conn.SetReadDeadline(time.Now().Add(testWait))
	if _, err := io.Copy(io.Discard, s.c.conn); err != nil {
		t.Fatalf("the client's connection was not closed: %v", err)
	}
}

// TestQuitDrainIsBounded is the attack of a client that queues lines at
// a room pace of nearly nothing and quits: its lines wait for
// drainTimeout at most, then are dropped, and the session ends.
func TestQuitDrainIsBounded(t *testing.T) {
	c := newTestConn(t)
	// The slowest pace the gateway keeps to: one line in five seconds.
	c.sayPace = newPace(&wire.Limits{Burst: 1, PerSecond: 0.001})
	start := time.Now()
	c.now = start
	for i := range 5 {
		c.roomSay(fmt.Sprint("line ", i))
	}
	c.quit("Quit")
	c.now = start.Add(drainTimeout / 2)
	c.tick()
	if c.phase == closing {
		t.Fatal("the session ended before its lines had their while")
	}
	c.now = start.Add(drainTimeout)
	c.tick()
	if c.phase != closing {
		t.Fatal("the session goes on past drainTimeout with lines waiting")
	}
	sent := string(c.room.nc.(*captureConn).written)
	// Lines 0, 1 and 2 at 0, 5 and 10 s, then the end.
	if !strings.Contains(sent, `"text":"line 2"`) || strings.Contains(sent, `"text":"line 3"`) || !strings.HasSuffix(sent, `{"type":"say","text":"/quit"}`+"\n") {
		t.Fatalf("the room was sent %s", sent)
	}
}

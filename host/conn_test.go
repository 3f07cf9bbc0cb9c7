package host

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// An idle member holds no writer goroutine: its writer stops once there
// has been nothing to write for writerLinger, and the next frame for the
// member starts another, which writes it in the room's order; the
// heartbeat's ping does likewise, and so does the last word to a member
// sent away.
func TestIdleMemberHoldsNoWriter(t *testing.T) {
	const beat = time.Second // longer than writerLinger, so that the writers are seen idle between pings
	h := startHost(t, Config{Heartbeat: beat})
	empty := runtime.NumGoroutine()
	ana := owner(t, h, "ana")
	bob := member(t, h, "bob", dialOptions{})
	cy := member(t, h, "cy", dialOptions{})
	ana.nextEvent(wire.KindJoin)
	ana.nextEvent(wire.KindJoin)
	bob.nextEvent(wire.KindJoin)
	// The clients here run no goroutines: what the members add is the
	// host's, and idle, that is their readers alone. (bob and cy ping, as
	// clients do, so that the host does not take them as gone.)
	idle := func() {
		t.Helper()
		bob.send(&wire.Frame{Type: wire.TypePing})
		cy.send(&wire.Frame{Type: wire.TypePing})
		// Within two heartbeats: after three, the host would take bob
		// and cy as gone.
		deadline := time.Now().Add(2 * beat)
		for runtime.NumGoroutine()-empty != 3 {
			if time.Now().After(deadline) {
				t.Fatalf("three idle members hold %d goroutines, want their 3 readers", runtime.NumGoroutine()-empty)
			}
			time.Sleep(20 * time.Millisecond)

		}
	}
	idle()
	ana.say("hello")
	for _, c := range []*client{ana, bob, cy} {
		if f := nextNotPing(c); f.Type != wire.TypeEvent || f.Text != "hello" || f.From != "ana" {
			t.Fatalf("%s got %+v", c.name, f)
		}
	}
	idle()
	// The heartbeat still pings an idle member, from a writer started for
	// the ping.
	if f := bob.next(); f.Type != wire.TypePing {
		t.Fatalf("bob got %+v, want the host's ping", f)
	}
	idle()
	ana.say("again")
	for _, c := range []*client{ana, bob} { // (the owner's pipe holds its writer until read)
		if f := nextNotPing(c); f.Type != wire.TypeEvent || f.Text != "again" || f.Seq != bob.welcome.Seq+3 {
			t.Fatalf("%s got %+v, want ana's second message, numbered after the first", c.name, f)
		}
	}
	idle()
	ana.say("/kick bob idle")
	f := nextNotPing(bob)
	for f.Type == wire.TypeEvent { // the kick's leave
		f = nextNotPing(bob)
	}
	if f.Type != wire.TypeClosed || f.Code != wire.CodeKicked || f.By != "ana" {
		t.Fatalf("bob's last word: %+v, want closed, kicked by ana", f)
	}
	if _, err := bob.read(); err == nil {
		t.Fatal("bob's connection still open after his last word")
	}
}

// nextNotPing reads c's next frame that is not the host's ping.
func nextNotPing(c *client) wire.Frame {
	c.t.Helper()
	for {
		if f := c.next(); f.Type != wire.TypePing {
			return f
		}
	}
}

// A ping needs no decoding only when it is the frame join's clients send,
// byte for byte; a ping written otherwise is decoded, and counts against
// the same budget: a flood of them is cut off as one of plain pings is.
func TestPingWrittenOtherwiseCounts(t *testing.T) {
	h := startHost(t, Config{})
	ana := owner(t, h, "ana")
	mallory := member(t, h, "mallory", dialOptions{})
	ana.nextEvent(wire.KindJoin)
	ping := []byte(`{ "type": "ping" }` + "\n")
	if bytes.Equal(ping, pingFrame) {
		t.Fatal("the test's ping is the plain one")
	}
	mallory.conn.SetWriteDeadline(time.Now().Add(testDeadline))
	for range 5 {
		if _, err := mallory.conn.Write(ping); err != nil {
			t.Fatal(err)
		}
	}
	mallory.say("still here")
	if f := ana.nextEvent(wire.KindSay); f.From != "mallory" || f.Text != "still here" {
		t.Fatalf("ana got %+v, want mallory's line after a few pings", f)
	}
	batch := bytes.Repeat(ping, 100)
	for sent := 0; sent < 10_000; sent += 100 {
		if _, err := mallory.conn.Write(batch); err != nil {
			break // cut off
		}
	}
	if f := mallory.closedWith(wire.TypeError, wire.CodeUnexpected); !strings.HasPrefix(f.Text, "too many pings") {
		t.Fatalf("mallory was told %+v", f)
	}
}

package room

import (
	"fmt"
	"testing"
	"time"

	"chatroom/host/wire"
)

// saidBy counts the say events from name among frames.
func saidBy(frames []wire.Frame, name string) int {
	n := 0
	for _, f := range frames {
		if f.Type == wire.TypeEvent && f.Kind == wire.KindSay && f.From == name {
			n++
		}
	}
	return n
}

// Attack: a client that sends its burst, hangs up and joins again with the
// same identity key, over and over, to get a full bucket each time (7,000
// lines a second from one key). The budget stays with the key: after the
// burst, the new connection's lines are refused, while a member with
// another key on another address speaks as before.
func TestReconnectDoesNotRefillKeyBudget(t *testing.T) {
	clk := &clock{now: testTime}
	tr := startRoom(t, Config{Now: clk.Now, Limits: wire.Limits{Burst: 10, PerSecond: 2}})
	ana := tr.joinReq(JoinRequest{Name: "ana", Addr: "10.0.0.1", Identity: "SHA256:anakey"})
	flood := JoinRequest{Name: "flooder", Addr: "10.0.0.66", Identity: "SHA256:floodkey"}
	said := 0
	for round := range 4 {
		f := tr.joinReq(flood)
		for i := range 10 {
			f.say(fmt.Sprintf("spam %d.%d", round, i))
		}
		tr.sync()
		said += saidBy(ana.frames(), f.m.name)
		switch round % 2 {
		case 0:
			tr.r.Leave(f.m, wire.CodeLost) // a broken connection...
		case 1:
			f.say("/quit") // ...or a clean one: neither refills
		}
		flood.Name = fmt.Sprintf("flooder%d", round) // nor does a new name
	}
	if said != 10 {
		t.Fatalf("the room passed %d of the flooder's lines over 4 connections, want its burst of 10", said)
	}

	// Another key on another address is not slowed by the flooder.
	cy := tr.joinReq(JoinRequest{Name: "cy", Addr: "10.0.0.3", Identity: "SHA256:cykey"})
	ana.frames()
	for i := range 10 {
		cy.say(fmt.Sprint("hi ", i))
	}
	if n := saidBy(ana.frames(), "cy"); n != 10 {
		t.Fatalf("cy got %d lines through, want 10", n)
	}

	// Time brings the key's tokens back, as for a member that stayed.
	clk.advance(time.Second)
	f := tr.joinReq(flood)
	f.say("later")
	if n := saidBy(ana.frames(), flood.Name); n != 1 {
		t.Fatalf("after a second, %d lines passed, want 1", n)
	}
}

// Attack: a client without an identity key reconnects to refill the
// bucket of each new connection. Its address's budget, addressShare
// members' worth, holds it; a member on another address is unaffected,
// and so, until the address's budget runs out, are others sharing it.
func TestReconnectWithoutKeyBoundedByAddress(t *testing.T) {
	clk := &clock{now: testTime}
	limits := wire.Limits{Burst: 10, PerSecond: 2}
	tr := startRoom(t, Config{Now: clk.Now, Limits: limits})
	ana := tr.joinReq(JoinRequest{Name: "ana", Addr: "10.0.0.1"})
	said := 0
	for round := range 2 * addressShare {
		f := tr.joinReq(JoinRequest{Name: fmt.Sprint("anon", round), Addr: "10.0.0.66"})
		for i := range limits.Burst {
			f.say(fmt.Sprintf("spam %d.%d", round, i))
		}
		tr.sync()
		for _, fr := range ana.frames() {
			if fr.Kind == wire.KindSay {
				said++
			}
		}
		f.say("/quit")
	}
	if want := addressShare * limits.Burst; said != want {
		t.Fatalf("the room passed %d lines from one address over %d connections, want the address's %d", said, 2*addressShare, want)
	}
	ana.frames()
	ana.say("still here")
	if n := saidBy(ana.frames(), "ana"); n != 1 {
		t.Fatalf("ana, on another address, got %d lines through, want 1", n)
	}
	// The refusal says that the address, not the member, is the limit.
	neighbour := tr.joinReq(JoinRequest{Name: "neighbour", Addr: "10.0.0.66"})
	neighbour.say("hello?")
	want := errorNotice(fmt.Sprintf("not sent: your address is sending faster than the room allows, counting everyone on it (%d lines at once, then %g a second)",
		addressShare*limits.Burst, addressShare*limits.PerSecond))
	neighbour.expect(want)
}

// Attack: blank lines were outside the rate limit, so a client could send
// them as fast as the host reads, costing the room a turn each. A blank
// line takes a token (and is still shown to no one).
func TestBlankLinesCount(t *testing.T) {
	tr := startRoom(t, Config{Limits: wire.Limits{Burst: 10, PerSecond: 2}})
	ana := tr.join("ana")
	bob := tr.join("bob")
	ana.frames()
	for range 10 {
		bob.say("   ")
	}
	bob.expect() // nothing shown, not even to bob
	ana.expect()
	bob.say("hello")
	bob.expect(errorNotice("not sent: you are sending faster than the room allows (10 lines at once, then 2 a second)"))
	ana.expect()
	// Blank lines past the limit are strikes like any other line.
	for range floodStrikes {
		bob.say("")
	}
	bob.frames()
	if !bob.closed || string(bob.m.Final()) != encodeString(*closedFrame(wire.CodeKicked, "", "flooding"))+"\n" {
		t.Fatalf("bob sent %d blank lines beyond the limit and is still in (final %s)", floodStrikes, bob.m.Final())
	}
}

// The tables of budgets are bounded, and forget the least recently used
// sender first, never all at once: a sender in use stays.
func TestBucketTableBounded(t *testing.T) {
	limits := wire.Limits{Burst: 1, PerSecond: 1}
	tbl := newBucketTable(4)
	tbl.get("busy", testTime, limits).tokens-- // spent
	for i := range 100 {
		tbl.get(fmt.Sprint("new", i), testTime, limits)
		if b := tbl.get("busy", testTime, limits); b.tokens >= 1 {
			t.Fatalf("after %d other senders the busy sender's bucket was refilled", i+1)
		}
	}
	if tbl.len() != 4 {
		t.Fatalf("the table holds %d senders, want at most 4", tbl.len())
	}
}

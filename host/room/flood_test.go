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
	// The bucket holds the burst and lineSlack's worth more (see
	// HeldLimits): 11 lines.
	if want := HeldLimits(wire.Limits{Burst: 10, PerSecond: 2}).Burst; said != want {
		t.Fatalf("the room passed %d of the flooder's lines over 4 connections, want its bucket's %d", said, want)
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
	for range HeldLimits(wire.Limits{Burst: 10, PerSecond: 2}).Burst {
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

// addrN is the n-th of many addresses, as an attacker on a LAN (or on
// 127.0.0.0/8) can take.
func addrN(n int) string { return fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255) }

// inState runs f on the room goroutine, with the room's state.
func (tr *testRoom) inState(f func(*state)) {
	tr.t.Helper()
	done := make(chan struct{})
	tr.r.send(func(s *state) { f(s); close(done) })
	select {
	case <-done:
	case <-time.After(stuck):
		tr.t.Fatal("the room goroutine is stuck")
	}
}

// Attack: 3,000 join-and-lost cycles, each from a new address with a new
// key, paced within the room's limits for joins, push 6,000 notices
// through a 2,000-event history and 3,000 members who may resume through
// a table of 1,024. A message said before them is still in a newcomer's
// backlog and in the replay of a member who was away all along, whose
// replay only goes forward and is followed by its live events.
func TestJoinFloodKeepsMessages(t *testing.T) {
	clk := &clock{now: testTime}
	tr := startRoom(t, Config{Now: clk.Now, Outbox: 1 << 16})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	bobReq := JoinRequest{Name: "bob", Addr: "10.200.0.2", Identity: "SHA256:bobkey"}
	bob := tr.joinReq(bobReq)
	ana.say("before the flood")
	tr.sync()
	point := &wire.Resume{Epoch: testEpoch, Seq: bob.welcome.Seq} // the message is after it
	clk.advance(10 * time.Minute)
	tr.r.Leave(bob.m, wire.CodeLost) // bob's Wi-Fi drops, after a while in the room

	const cycles = 3000
	for i := range cycles {
		clk.advance(50 * time.Millisecond) // 20 a second: what the room allows newcomers
		req := JoinRequest{Name: fmt.Sprint("x", i), Addr: addrN(i), Identity: fmt.Sprint("SHA256:x", i)}
		m, refusal, err := tr.r.Join(t.Context(), req)
		if err != nil || refusal != nil {
			t.Fatalf("cycle %d: %+v, %v", i, refusal, err)
		}
		tr.r.Leave(m, wire.CodeLost)
	}
	tr.sync()
	tr.inState(func(s *state) {
		if n := s.history.len(); n > 2*defaultHistory {
			t.Errorf("the history holds %d events, want at most %d", n, 2*defaultHistory)
		}
	})
	ana.frames()

	cy := tr.join("cy")
	if len(cy.replay) != 1 || cy.replay[0].Text != "before the flood" {
		t.Fatalf("the newcomer's backlog after the flood:%s", lines(cy.replay))
	}

	back := tr.joinReq(JoinRequest{Name: "bob", Addr: bobReq.Addr, Identity: bobReq.Identity, Resume: point})
	if !back.welcome.Resumed || back.welcome.Missed != 0 {
		t.Fatalf("bob's welcome: resumed %v, missed %d; want resumed, none missed", back.welcome.Resumed, back.welcome.Missed)
	}
	// As the client checks them: the replay's events increase, stay below
	// the welcome's, and include what bob did not have.
	var prev uint64
	found := false
	for _, f := range back.replay {
		if f.Seq <= prev || f.Seq >= back.welcome.Seq || f.Seq <= point.Seq {
			t.Fatalf("replayed event %d after %d (resume point %d, welcome %d)", f.Seq, prev, point.Seq, back.welcome.Seq)
		}
		prev = f.Seq
		found = found || f.Text == "before the flood"
	}
	if !found {
		t.Fatalf("bob's replay after the flood lacks the message said before it:%s", lines(back.replay[:min(5, len(back.replay))]))
	}
	ana.say("after")
	if got := back.frames(); len(got) != 1 || got[0].Seq != back.welcome.Seq+1 || got[0].Text != "after" {
		t.Fatalf("bob's live events after the replay:%s", lines(got))
	}

	// The history the room leaves has gaps where notices were dropped; it
	// is saved so, events numbered in increasing order up to Seq, and a
	// room given it takes it.
	tr.close()
	past, _ := tr.r.History()
	if len(past.Events) == 0 {
		t.Fatal("no events saved")
	}
	prev = past.LostMessage
	for i, b := range past.Events {
		f := parse(t, b)
		if f.Seq <= prev || f.Seq > past.Seq || (i == len(past.Events)-1 && f.Seq != past.Seq) {
			t.Fatalf("saved event %d is numbered %d, after %d (seq %d)", i, f.Seq, prev, past.Seq)
		}
		prev = f.Seq
	}
	// The message from before the flood survives the restart too.
	tr2 := startRoom(t, Config{Past: History{Epoch: past.Epoch, Seq: past.Seq, Events: past.Events, LostMessage: past.LostMessage}})
	if c := tr2.join("dee"); len(c.replay) != 2 || c.replay[0].Text != "before the flood" || c.replay[1].Text != "after" {
		t.Fatalf("a newcomer after the restart got the backlog:%s", lines(c.replay))
	}
}

// tryJoin joins with req and returns the member, or the refusal.
func (tr *testRoom) tryJoin(req JoinRequest) (*Member, *wire.Frame) {
	tr.t.Helper()
	m, refusal, err := tr.r.Join(tr.t.Context(), req)
	if err != nil {
		tr.t.Fatal(err)
	}
	return m, refusal
}

// Attack: one machine joins and leaves as fast as it can, flooding every
// screen with notices. Its address gets DefaultJoinLimits.PerAddress; a
// refusal is wire.CodeTooMany and says when to try again; another address
// is not slowed, nor is the owner on the same address, and a join refused
// for its name is not charged.
func TestJoinsLimitedPerAddress(t *testing.T) {
	clk := &clock{now: testTime}
	tr := startRoom(t, Config{Now: clk.Now})
	tr.joinReq(JoinRequest{Name: "ana", Addr: "10.0.0.1"})
	for range 100 {
		if _, r := tr.tryJoin(JoinRequest{Name: "ana", Addr: "10.0.0.66"}); r == nil || r.Code != wire.CodeNameTaken {
			t.Fatalf("a taken name: %+v", r)
		}
	}
	limit := DefaultJoinLimits.PerAddress
	for i := range limit.Burst {
		m, r := tr.tryJoin(JoinRequest{Name: fmt.Sprint("x", i), Addr: "10.0.0.66"})
		if r != nil {
			t.Fatalf("join %d from one address refused: %+v", i, r)
		}
		tr.r.Leave(m, wire.CodeLeft)
	}
	_, r := tr.tryJoin(JoinRequest{Name: "one-more", Addr: "10.0.0.66"})
	if want := refusal(wire.CodeTooMany, "too many people have joined from your address just now: try again in 1 second"); r == nil || encodeString(*r) != encodeString(*want) {
		t.Fatalf("join %d from one address: %v, want %s", limit.Burst+1, r != nil, encodeString(*want))
	}
	tr.joinReq(JoinRequest{Name: "bob", Addr: "10.0.0.2"})
	tr.joinReq(JoinRequest{Name: "host", Addr: "10.0.0.66", Owner: true})
	clk.advance(time.Second)
	tr.joinReq(JoinRequest{Name: "one-more", Addr: "10.0.0.66"})
}

// Attack: joins from ever new addresses and keys, too many for any one
// address's budget to notice. The room lets DefaultJoinLimits.Newcomers
// through; then newcomers wait, but a member the room lost, resuming, the
// owner and admins do not, and a restart's worth of members resuming
// (more than the burst) all get back in at once.
func TestJoinsLimitedInAll(t *testing.T) {
	clk := &clock{now: testTime}
	const returning = 300 // more than the room's burst of newcomers
	past := []Resumable{}
	for i := range returning {
		past = append(past, Resumable{NameKey: NameKey(fmt.Sprint("m", i)), Identity: fmt.Sprint("SHA256:m", i), Since: 1})
	}
	tr := startRoom(t, Config{Now: clk.Now, Past: History{Seq: 1, Resumable: past}, Outbox: 1 << 12,
		Ops: []Op{{Identity: "SHA256:operkey", Name: "oper", By: "host", Time: testTime}}})
	for i := range returning {
		req := JoinRequest{Name: fmt.Sprint("m", i), Addr: addrN(1000 + i), Identity: fmt.Sprint("SHA256:m", i),
			Resume: &wire.Resume{Epoch: testEpoch, Seq: 1}}
		if c := tr.joinReq(req); !c.welcome.Resumed {
			t.Fatalf("member %d back after the restart was not resumed", i)
		}
	}
	limit := DefaultJoinLimits.Newcomers
	for i := range limit.Burst {
		if _, r := tr.tryJoin(JoinRequest{Name: fmt.Sprint("x", i), Addr: addrN(i), Identity: fmt.Sprint("SHA256:x", i)}); r != nil {
			t.Fatalf("newcomer %d refused: %+v", i, r)
		}
	}
	_, r := tr.tryJoin(JoinRequest{Name: "late", Addr: addrN(5000), Identity: "SHA256:late"})
	if want := refusal(wire.CodeTooMany, "too many people are joining the room at once: try again in 1 second"); r == nil || encodeString(*r) != encodeString(*want) {
		t.Fatalf("newcomer %d refused: %v, want %s", limit.Burst+1, r != nil, encodeString(*want))
	}
	// With the budget used up, someone the room lost comes back, and the
	// owner comes in.
	var m0 *Member
	tr.inState(func(s *state) { m0 = s.byKey[NameKey("m0")] })
	tr.r.Leave(m0, wire.CodeLost)
	if c := tr.joinReq(JoinRequest{Name: "m0", Identity: "SHA256:m0", Addr: addrN(1000), Resume: &wire.Resume{Epoch: testEpoch, Seq: 1}}); !c.welcome.Resumed {
		t.Fatal("m0 was not resumed")
	}
	tr.joinReq(JoinRequest{Name: "host", Owner: true})
	tr.joinReq(JoinRequest{Name: "oper", Identity: "SHA256:operkey", Addr: addrN(7000)}) // an admin by key
	tr.joinReq(JoinRequest{Name: "pw", Admin: true, Addr: addrN(7001)})                  // by password
	if _, r := tr.tryJoin(JoinRequest{Name: "late", Addr: addrN(5000), Identity: "SHA256:late"}); r == nil || r.Code != wire.CodeTooMany {
		t.Fatalf("a newcomer with the budget used up: %+v", r)
	}
	clk.advance(time.Second)
	for i := range int(limit.PerSecond) {
		if _, r := tr.tryJoin(JoinRequest{Name: fmt.Sprint("y", i), Addr: addrN(6000 + i)}); r != nil {
			t.Fatalf("newcomer %d a second later: %+v", i, r)
		}
	}
}

// Attack: a client with one key drops its connection and resumes, over
// and over; a resume does not count against the room's budget of
// newcomers, so its key has a budget of its own, whatever address it
// comes from.
func TestJoinsLimitedPerKey(t *testing.T) {
	clk := &clock{now: testTime}
	tr := startRoom(t, Config{Now: clk.Now})
	limit := DefaultJoinLimits.PerKey
	for i := range limit.Burst {
		m, r := tr.tryJoin(JoinRequest{Name: "cycler", Addr: addrN(i), Identity: "SHA256:cycler", Resume: &wire.Resume{Epoch: testEpoch}})
		if r != nil {
			t.Fatalf("join %d with one key refused: %+v", i, r)
		}
		tr.r.Leave(m, wire.CodeLost)
	}
	_, r := tr.tryJoin(JoinRequest{Name: "cycler", Addr: addrN(99), Identity: "SHA256:cycler", Resume: &wire.Resume{Epoch: testEpoch}})
	if want := refusal(wire.CodeTooMany, "you have joined this room too often just now: try again in 12 seconds"); r == nil || encodeString(*r) != encodeString(*want) {
		t.Fatalf("join %d with one key refused: %v, want %s", limit.Burst+1, r != nil, encodeString(*want))
	}
}

package room

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// A room that holds joins and leaves once three members are present, and
// tells them only when another event comes (or a test flushes it): the
// window never ends by itself in these tests but in TestPresenceWindow.
func startCrowdedRoom(t *testing.T) *testRoom {
	return startRoom(t, Config{JoinLimits: unlimitedJoins, PresenceAbove: 3, PresenceWindow: time.Hour})
}

func presenceEvent(seq uint64, joined []wire.Member, left []wire.Departure) wire.Frame {
	return wire.Frame{Type: wire.TypeEvent, Seq: seq, Time: testTime, Kind: wire.KindPresence, Joined: joined, Left: left}
}

func member(name string) wire.Member { return wire.Member{Name: name, Role: wire.RoleMember} }

// flush tells what the room holds, as the end of the window would.
func (tr *testRoom) flush() {
	tr.t.Helper()
	tr.r.send(func(s *state) { s.flushPresence() })
	tr.sync()
}

// A room of a few still tells each join as an event of its own, with no
// presence event anywhere.
func TestSmallRoomJoinsOneEventEach(t *testing.T) {
	tr := startRoom(t, Config{JoinLimits: unlimitedJoins}) // the default: 100
	ana := tr.join("ana")
	var others []*client
	for i := range 10 {
		c := tr.join(fmt.Sprintf("m%d", i))
		if c.welcome.Seq != uint64(i+2) {
			t.Fatalf("m%d's welcome has seq %d, want its join event's %d", i, c.welcome.Seq, i+2)
		}
		others = append(others, c)
	}
	var want []wire.Frame
	for i := range 10 {
		want = append(want, joinEvent(uint64(i+2), fmt.Sprintf("m%d", i), wire.RoleMember))
	}
	ana.expect(want...)
	tr.r.Leave(others[0].m, wire.CodeLost)
	ana.expect(leaveEvent(12, "m0", wire.CodeLost, "", ""))
}

// Coalesced: in a crowded room two arrivals are told together, in one
// presence event that names each of them, before the message that made the
// room tell them; the arrivals are welcomed with its number, the room as it
// was before it, and get it too.
func TestPresenceHoldsJoinsUntilTheNextEvent(t *testing.T) {
	tr := startCrowdedRoom(t)
	ana, bob, cy := tr.join("ana"), tr.join("bob"), tr.join("cy")
	bob.frames()
	cy.frames()
	ana.expect(joinEvent(2, "bob", wire.RoleMember), joinEvent(3, "cy", wire.RoleMember))

	dee, eve := tr.join("dee"), tr.join("eve")
	for _, c := range []*client{dee, eve} {
		if c.welcome.Seq != 4 {
			t.Errorf("%s's welcome has seq %d, want 4, the presence event to come", c.m.name, c.welcome.Seq)
		}
		if got := names(c.welcome.Members); !slices.Equal(got, []string{"ana", "bob", "cy"}) {
			t.Errorf("%s's welcome lists %v, want the room before the presence event", c.m.name, got)
		}
	}
	ana.expectNothing()

	eve.say("hi")
	presence := presenceEvent(4, []wire.Member{member("dee"), member("eve")}, nil)
	for _, c := range []*client{ana, bob, cy, dee, eve} {
		c.expect(presence, sayEvent(5, "eve", "hi"))
	}
}

// Leaves are held as joins are, and a member who comes and goes within
// one window is told of to no one. A kick is an event of its own, which
// tells what is held first.
func TestPresenceHoldsLeaves(t *testing.T) {
	tr := startCrowdedRoom(t)
	ana := tr.joinReq(JoinRequest{Name: "ana", Admin: true})
	bob, cy, dee := tr.join("bob"), tr.join("cy"), tr.join("dee")
	tr.flush()
	eve, fay := tr.join("eve"), tr.join("fay")
	for _, c := range []*client{ana, bob, cy, dee} {
		c.frames()
	}
	tr.r.Leave(bob.m, wire.CodeLost)
	tr.r.Leave(eve.m, wire.CodeLost) // came and went: never told
	cy.say("/quit")
	ana.expectNothing()

	ana.say("/kick dee spam")
	want := []wire.Frame{
		presenceEvent(5, []wire.Member{member("fay")}, []wire.Departure{{Name: "bob", Code: wire.CodeLost}, {Name: "cy", Code: wire.CodeLeft}}),
		leaveEvent(6, "dee", wire.CodeKicked, "ana", "spam"),
	}
	ana.expect(want...)
	fay.expect(want...)
}

// The window: what is held is told a window after the first change, with
// no other event to make the room tell it.
func TestPresenceWindow(t *testing.T) {
	tr := startRoom(t, Config{JoinLimits: unlimitedJoins, PresenceAbove: 2, PresenceWindow: 20 * time.Millisecond})
	ana := tr.join("ana")
	tr.join("bob")
	ana.frames()
	tr.join("cy")
	deadline := time.Now().Add(stuck)
	for {
		got := ana.frames()
		if len(got) > 0 {
			want := presenceEvent(3, []wire.Member{member("cy")}, nil)
			if len(got) != 1 || encodeString(got[0]) != encodeString(want) {
				t.Fatalf("ana got %s, want %s", lines(got), encodeString(want))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the held join was not told when its window ended")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The window grows with the room, a second for every thousand members, so
// that presence events cost about the same deliveries a second at any
// size, and is at most five.
func TestPresenceWindowGrows(t *testing.T) {
	for _, tc := range []struct {
		members int
		want    time.Duration
	}{{0, time.Second}, {100, time.Second}, {1000, time.Second}, {1001, 2 * time.Second}, {5000, 5 * time.Second}, {10_000, 5 * time.Second}} {
		if got := presenceWindow(time.Second, tc.members); got != tc.want {
			t.Errorf("presenceWindow(1s, %d) = %v, want %v", tc.members, got, tc.want)
		}
	}
}

// Hidden (muted) members stay hidden in a crowded room: no presence event
// names them, coming or going, and no welcome lists them.
func TestPresenceKeepsHiddenMembersHidden(t *testing.T) {
	tr := startRoom(t, Config{JoinLimits: unlimitedJoins, PresenceAbove: 2, PresenceWindow: time.Hour,
		Mutes: []Mute{{Name: "mal", By: "ana", Time: testTime}}})
	ana, bob := tr.join("ana"), tr.join("bob")
	ana.frames()
	mal := tr.join("mal")
	cy := tr.join("cy")
	if got := names(cy.welcome.Members); slices.Contains(got, "mal") {
		t.Errorf("cy's welcome lists %v: the hidden member among them", got)
	}
	if mal.welcome.Seq != 2 {
		t.Errorf("mal's welcome has seq %d, want the room's last event, 2", mal.welcome.Seq)
	}
	tr.r.Leave(mal.m, wire.CodeLost)
	bob.say("hi")
	want := []wire.Frame{presenceEvent(3, []wire.Member{member("cy")}, nil), sayEvent(4, "bob", "hi")}
	ana.expect(want...)
	cy.expect(want...)
}

// A member whose welcome reserved the number of a presence event, and who
// is lost before the room made it, resumes from that number: it holds
// every event up to it.
func TestPresenceResumeFromAReservedNumber(t *testing.T) {
	tr := startCrowdedRoom(t)
	ana := tr.join("ana")
	tr.join("bob")
	tr.join("cy")
	dee := tr.joinReq(JoinRequest{Name: "dee", Identity: "SHA256:dee"})
	ana.frames()
	tr.r.Leave(dee.m, wire.CodeLost)
	back := tr.joinReq(JoinRequest{Name: "dee", Identity: "SHA256:dee",
		Resume: &wire.Resume{Epoch: testEpoch, Seq: dee.welcome.Seq}})
	if !back.welcome.Resumed || back.welcome.Seq != 4 || len(back.replay) != 0 {
		t.Fatalf("dee back: resumed %v, seq %d, replay %s; want resumed at 4 with nothing to replay",
			back.welcome.Resumed, back.welcome.Seq, lines(back.replay))
	}
	ana.say("hi")
	want := []wire.Frame{presenceEvent(4, []wire.Member{{Name: "dee", Role: wire.RoleMember, Key: "dee"}}, nil), sayEvent(5, "ana", "hi")}
	ana.expect(want...)
	back.expect(want...)
}

// An arrival that left before it was told of had its welcome given the
// presence event's number, which the room's next event (here a message)
// then takes: the member resumes from before it, and is sent that event.
func TestPresenceUntoldNumberIsNotHeld(t *testing.T) {
	tr := startCrowdedRoom(t)
	ana := tr.join("ana")
	tr.join("bob")
	tr.join("cy")
	ana.frames()
	dee := tr.joinReq(JoinRequest{Name: "dee", Identity: "SHA256:dee"})
	tr.r.Leave(dee.m, wire.CodeLost)
	ana.say("hi")
	ana.expect(sayEvent(4, "ana", "hi"))
	back := tr.joinReq(JoinRequest{Name: "dee", Identity: "SHA256:dee",
		Resume: &wire.Resume{Epoch: testEpoch, Seq: dee.welcome.Seq}})
	if !back.welcome.Resumed || len(back.replay) != 1 || encodeString(back.replay[0]) != encodeString(sayEvent(4, "ana", "hi")) {
		t.Fatalf("dee back: resumed %v, replay %s; want resumed with ana's message", back.welcome.Resumed, lines(back.replay))
	}
}

// A batch is told as soon as it is full, without waiting for its window.
func TestPresenceBatchIsBounded(t *testing.T) {
	tr := startRoom(t, Config{JoinLimits: unlimitedJoins, PresenceAbove: 1, PresenceWindow: time.Hour})
	ana := tr.join("ana")
	for i := range maxPresenceBatch + 1 {
		tr.join(fmt.Sprintf("m%d", i))
	}
	got := ana.frames()
	if len(got) != 1 || got[0].Kind != wire.KindPresence || len(got[0].Joined) != maxPresenceBatch {
		t.Fatalf("ana got %d frames (first with %d joined); want one presence event of %d", len(got), len(firstOr(got).Joined), maxPresenceBatch)
	}
}

func firstOr(fs []wire.Frame) wire.Frame {
	if len(fs) == 0 {
		return wire.Frame{}
	}
	return fs[0]
}

func names(ms []wire.Member) []string {
	var ns []string
	for _, m := range ms {
		ns = append(ns, m.Name)
	}
	return ns
}

// foldedRoster is a member's picture of the room, as a client folds it:
// the welcome's members and itself, then every event in order.
type foldedRoster struct {
	name     string
	welcome  uint64
	seq      uint64
	members  map[string]wire.Member
	ownTold  bool // the presence event numbered as the welcome came
	problems []string
}

func foldWelcome(w wire.Frame) *foldedRoster {
	r := &foldedRoster{name: w.You.Name, welcome: w.Seq, seq: w.Seq, members: make(map[string]wire.Member)}
	for _, m := range w.Members {
		r.members[m.Name] = m
	}
	r.members[w.You.Name] = *w.You
	return r
}

func (r *foldedRoster) apply(f wire.Frame) {
	if f.Type != wire.TypeEvent {
		return
	}
	switch {
	case f.Seq == r.welcome && f.Kind == wire.KindPresence && !r.ownTold:
		r.ownTold = true
	case f.Seq != r.seq+1:
		r.problems = append(r.problems, fmt.Sprintf("event %d after %d", f.Seq, r.seq))
	}
	r.seq = max(r.seq, f.Seq)
	switch f.Kind {
	case wire.KindJoin:
		r.members[f.Name] = wire.Member{Name: f.Name, Role: f.Role, Key: f.Key}
	case wire.KindLeave:
		if f.Name != r.name { // its own, replayed after a resume: it is back
			delete(r.members, f.Name)
		}
	case wire.KindPresence:
		for _, d := range f.Left {
			if d.Name != r.name {
				delete(r.members, d.Name)
			}
		}
		for _, m := range f.Joined {
			r.members[m.Name] = m
		}
	case wire.KindAway:
		m := r.members[f.From]
		m.Away = f.Text != ""
		r.members[f.From] = m
	case wire.KindRole:
		m := r.members[f.Name]
		m.Role = f.Role
		r.members[f.Name] = m
	}
}

func (r *foldedRoster) sorted() []wire.Member {
	var ms []wire.Member
	for _, m := range r.members {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b wire.Member) int { return strings.Compare(a.Name, b.Name) })
	return ms
}

// roomRoster returns who is in the room (but hidden members), sorted, and
// checkFolds has every client fold what it was sent since the last look
// and checks that each folds the roster the room announced, and returns
// who is present in the room and the roster it announced (sorted by name).
func (tr *testRoom) checkFolds(t *testing.T, step int, clients map[string]*client, folds map[string]*foldedRoster) (present, announced []wire.Member) {
	t.Helper()
	tr.sync()
	for n, c := range clients {
		for _, f := range c.frames() {
			folds[n].apply(f)
		}
	}
	present, announced = tr.roomRoster()
	slices.SortFunc(announced, func(a, b wire.Member) int { return strings.Compare(a.Name, b.Name) })
	for n, c := range clients {
		r := folds[n]
		if len(r.problems) > 0 {
			t.Fatalf("step %d: %s: %v", step, n, r.problems)
		}
		want := announced
		if c.m.held || c.m.hidden {
			// Its own place is not announced yet: it has itself from its
			// welcome (in place of its old connection, whose leave may be
			// held).
			want = slices.DeleteFunc(slices.Clone(announced), func(m wire.Member) bool { return m.Name == n })
			want = append(want, *c.welcome.You)
			slices.SortFunc(want, func(a, b wire.Member) int { return strings.Compare(a.Name, b.Name) })
		}
		if got := r.sorted(); !slices.Equal(got, want) {
			t.Fatalf("step %d: %s folds\n %v\nthe room announced\n %v", step, n, got, want)
		}
	}
	return present, announced
}

// the announced roster as the room encodes it for a welcome, in its order.
func (tr *testRoom) roomRoster() (present, announced []wire.Member) {
	tr.t.Helper()
	done := make(chan struct{})
	var list []byte
	tr.r.send(func(s *state) {
		s.settle() // as at the end of a turn: the members have what it made
		for _, m := range s.members {
			if !m.hidden {
				present = append(present, m.wireMember())
			}
		}
		list = slices.Clone(s.rosterList())
		close(done)
	})
	<-done
	slices.SortFunc(present, func(a, b wire.Member) int { return strings.Compare(a.Name, b.Name) })
	if list != nil {
		f := parse(tr.t, append([]byte(`{"type":"welcome","members":`), append(list, "}\n"...)...))
		announced = f.Members
	}
	return present, announced
}

// joinRaw joins as joinReq does, and checks that the welcome's bytes are
// what encoding it, as parsed, gives: the list spliced in is the members
// encoded as the frame would encode them.
func (tr *testRoom) joinRaw(req JoinRequest) *client {
	tr.t.Helper()
	m, refusal, err := tr.r.Join(context.Background(), req)
	if err != nil || refusal != nil || m == nil {
		tr.t.Fatalf("Join(%+v) = %v, %+v, %v; want a member", req, m, refusal, err)
	}
	replay := m.TakeReplay()
	c := &client{tr: tr, m: m, welcome: parse(tr.t, replay[0])}
	if got, want := string(replay[0]), encodeString(c.welcome)+"\n"; got != want {
		tr.t.Fatalf("%s's welcome:\n got: %s\nwant: %s", req.Name, got, want)
	}
	for _, b := range replay[1:] {
		c.replay = append(c.replay, parse(tr.t, b))
	}
	return c
}

// The room's one order, with joins and leaves held: after any mix of
// joins, leaves (chosen, lost, kicked), messages, away marks and ends of
// the window, every member folds from its welcome and its events exactly
// the roster the room has announced (and, once nothing is held, the
// room's members); events come numbered without a gap; and every welcome
// lists the announced roster, encoded as the frame would encode it.
func TestPresenceOneOrder(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 16))
			tr := startRoom(t, Config{JoinLimits: unlimitedJoins, PresenceAbove: 4, PresenceWindow: time.Hour,
				Mutes: []Mute{{Name: "mute", By: "ana", Time: testTime}}})
			ana := tr.joinRaw(JoinRequest{Name: "ana", Admin: true})
			clients := map[string]*client{"ana": ana}
			folds := map[string]*foldedRoster{"ana": foldWelcome(ana.welcome)}
			pool := []string{"bob", "cy", "dee", "eve", "fay", "gus", "hal", "ivy", "mute"}
			for step := range 200 {
				name := pool[rng.IntN(len(pool))]
				c, in := clients[name]
				switch op := rng.IntN(10); {
				case !in && op < 5:
					c = tr.joinRaw(JoinRequest{Name: name, Identity: "SHA256:" + name + "keykeykey"})
					clients[name], folds[name] = c, foldWelcome(c.welcome)
				case !in:
				case op < 2:
					tr.r.Leave(c.m, wire.CodeLost)
					delete(clients, name)
				case op < 3:
					c.say("/quit")
					delete(clients, name)
				case op < 4:
					ana.say("/kick " + name)
					delete(clients, name)
				case op < 6:
					c.say(fmt.Sprintf("step %d", step))
				case op < 7:
					c.say("/away lunch")
				case op < 8:
					c.say("/away")
				default:
					tr.flush()
				}
				present, announced := tr.checkFolds(t, step, clients, folds)
				if !slices.Equal(announced, present) {
					heldAny := false
					tr.r.send(func(s *state) { heldAny = len(s.presence.joined)+len(s.presence.left) > 0 })
					tr.sync()
					if !heldAny {
						t.Fatalf("step %d: nothing is held, yet the room announced\n %v\nand holds\n %v", step, announced, present)
					}
				}
			}
		})
	}
}

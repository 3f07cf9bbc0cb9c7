package room

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// keyed is a join request under name with a key of its own.
func keyed(name string) JoinRequest {
	return JoinRequest{Name: name, Identity: "SHA256:" + name + "keykeykey"}
}

// restarted closes tr (if it is not closed) and starts a room from the
// history it left, with cfg's other settings.
func restarted(t *testing.T, tr *testRoom, cfg Config) *testRoom {
	t.Helper()
	tr.close()
	past, ok := tr.r.History()
	if !ok {
		t.Fatal("no history after the room closed")
	}
	cfg.Past = past
	return startRoom(t, cfg)
}

// endGrace ends the grace, as its timer would.
func (tr *testRoom) endGrace() {
	tr.t.Helper()
	tr.r.send(func(s *state) { s.endGrace() })
	tr.sync()
}

// back resumes req's member from where c, its connection before, stood.
func (tr *testRoom) back(req JoinRequest, c *client, last uint64) *client {
	tr.t.Helper()
	req.Resume = &wire.Resume{Epoch: c.welcome.Epoch, Seq: last}
	return tr.joinReq(req)
}

// The members present at a clean close are still listed after the
// restart: a newcomer's welcome lists them, and one who comes back
// takes its place with no join event, its welcome numbered as the
// presence event that follows, which is all the others are told.
func TestGhostsReturnSilently(t *testing.T) {
	cfg := Config{JoinLimits: unlimitedJoins, GhostGrace: time.Hour}
	tr := startRoom(t, cfg)
	ana := tr.joinReq(keyed("ana"))
	bob := tr.joinReq(keyed("bob"))
	bob.say("/away lunch")
	ana.frames()
	last := bob.frames()[0].Seq // the away event, 3

	tr = restarted(t, tr, cfg)
	cy := tr.join("cy") // a newcomer: one join event, seq 4
	if got := names(cy.welcome.Members); !slices.Equal(got, []string{"ana", "bob", "cy"}) {
		t.Fatalf("cy's welcome lists %v, want ana and bob, who were present at the close, and cy", got)
	}
	if !cy.welcome.Members[1].Away {
		t.Fatalf("bob is listed as %+v, want away as at the close", cy.welcome.Members[1])
	}
	back := tr.back(keyed("bob"), bob, last)
	if !back.welcome.Resumed || back.welcome.Seq != 5 || len(back.replay) != 1 || !back.welcome.You.Away {
		t.Fatalf("bob back: %+v, replay %s; want resumed at 5 (the next event), away, with cy's join replayed", back.welcome, lines(back.replay))
	}
	cy.expectNothing()
	cy.say("hi")
	want := []wire.Frame{presenceEvent(5, nil, nil), sayEvent(6, "cy", "hi")}
	cy.expect(want...)
	back.expect(want...)
	present, announced := tr.roomRoster()
	if listed := names(announced); !slices.Equal(names(present), []string{"bob", "cy"}) || !slices.Equal(slices.Sorted(slices.Values(listed)), []string{"ana", "bob", "cy"}) {
		t.Fatalf("present %v, announced %v; want bob and cy present, and ana still listed", names(present), names(announced))
	}
}

// A name held for a member coming back is refused to anyone else, with
// or without a key or a resume point, as a present member's is, and to
// a /nick; once the grace is over it is free.
func TestGhostNameIsHeld(t *testing.T) {
	cfg := Config{JoinLimits: unlimitedJoins, GhostGrace: time.Hour}
	tr := startRoom(t, cfg)
	bob := tr.joinReq(keyed("bob"))
	tr = restarted(t, tr, cfg)
	resume := &wire.Resume{Epoch: bob.welcome.Epoch, Seq: bob.welcome.Seq}
	for _, req := range []JoinRequest{
		{Name: "bob"},
		{Name: "BOB", Identity: "SHA256:mallory"},
		{Name: "bob", Identity: "SHA256:mallory", Resume: resume},
		{Name: "bob", Resume: resume},
	} {
		if f := tr.refused(req); f.Code != wire.CodeNameTaken {
			t.Fatalf("%+v: refused %+v, want name taken", req, f)
		}
	}
	cy := tr.join("cy")
	cy.say("/nick Bob")
	if got := cy.frames(); len(got) != 1 || got[0].Type != wire.TypeNotice || !got[0].Error || !strings.HasPrefix(got[0].Text, "not renamed") {
		t.Fatalf("/nick onto a held name: %+v, want it refused as taken", got)
	}
	tr.endGrace()
	cy.expect(presenceEvent(3, nil, []wire.Departure{{Name: "bob", Code: wire.CodeLost}}))
	mallory := tr.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:mallory", Resume: resume})
	if mallory.welcome.Resumed {
		t.Fatalf("a stranger under bob's name resumed as bob: %+v", mallory.welcome)
	}
}

// The grace ends with one presence event telling every member not back
// as lost; those back stay, and the ones told may still resume.
func TestGhostGraceEndsWithOneEvent(t *testing.T) {
	cfg := Config{JoinLimits: unlimitedJoins, GhostGrace: 50 * time.Millisecond}
	tr := startRoom(t, cfg)
	var before []*client
	for _, n := range []string{"ana", "bob", "cy", "dee"} {
		before = append(before, tr.joinReq(keyed(n)))
	}
	last := uint64(4)
	tr = restarted(t, tr, cfg)
	ana := tr.back(keyed("ana"), before[0], last)
	var got []wire.Frame
	within(t, "the grace's end", func() {
		for len(got) < 1 {
			tr.sync()
			got = append(got, ana.frames()...)
			time.Sleep(5 * time.Millisecond)
		}
	})
	// The presence event ana's welcome stood for tells them.
	left := []wire.Departure{{Name: "bob", Code: wire.CodeLost}, {Name: "cy", Code: wire.CodeLost}, {Name: "dee", Code: wire.CodeLost}}
	if want := []wire.Frame{presenceEvent(5, nil, left)}; lines(got) != lines(want) {
		t.Fatalf("ana got:%s\nwant:%s", lines(got), lines(want))
	}
	time.Sleep(20 * time.Millisecond)
	tr.sync()
	ana.expectNothing()
	dee := tr.back(keyed("dee"), before[3], last)
	if !dee.welcome.Resumed || dee.welcome.Seq != 6 {
		t.Fatalf("dee after the grace: %+v; want resumed, with a join event of its own (6)", dee.welcome)
	}
	ana.expect(wire.Frame{Type: wire.TypeEvent, Seq: 6, Time: testTime, Kind: wire.KindJoin, Name: "dee", Role: wire.RoleMember, Key: "deekeyke"})
	// Closed again now, only those present are listed as present.
	tr.close()
	past, _ := tr.r.History()
	var listed []string
	for _, r := range past.Resumable {
		if r.Name != "" {
			listed = append(listed, r.Name)
		}
	}
	if slices.Sort(listed); !slices.Equal(listed, []string{"ana", "dee"}) {
		t.Fatalf("listed as present at the second close: %v, want ana and dee", listed)
	}
}

// A member back with another role than it was listed with (an admin by
// the password before, not now) is told with a role event after the
// presence event its welcome stands for; one back under another spelling
// of its name is told as lost and then joins.
func TestGhostBackChanged(t *testing.T) {
	cfg := Config{JoinLimits: unlimitedJoins, GhostGrace: time.Hour}
	tr := startRoom(t, cfg)
	req := keyed("ana")
	req.Admin = true
	tr.joinReq(req)
	tr.joinReq(keyed("bob"))
	tr = restarted(t, tr, cfg)
	cy := tr.join("cy")
	tr.joinReq(keyed("ana"))
	cy.expect(presenceEvent(4, nil, nil), roleEvent(5, "ana", wire.RoleMember, ""))
	tr.joinReq(JoinRequest{Name: "Bob", Identity: keyed("bob").Identity})
	cy.expect(presenceEvent(6, nil, []wire.Departure{{Name: "bob", Code: wire.CodeLost}}),
		wire.Frame{Type: wire.TypeEvent, Seq: 7, Time: testTime, Kind: wire.KindJoin, Name: "Bob", Role: wire.RoleMember, Key: "bobkeyke"})
}

// A welcome leaves the members out only for a client that keeps its
// roster and resumes from where every change of who is present since is
// in its replay: not after a close with a member without a key present
// (whose going no event tells), nor when the history dropped joins and
// leaves after the resume point, nor for a client that did not ask.
func TestWelcomeOmitsMembers(t *testing.T) {
	cfg := Config{JoinLimits: unlimitedJoins, GhostGrace: time.Hour}
	tr := startRoom(t, cfg)
	ana := tr.joinReq(keyed("ana"))
	bob := tr.joinReq(keyed("bob"))
	tr.r.Leave(bob.m, wire.CodeLost)
	ana.frames()
	keeps := func(req JoinRequest) JoinRequest { req.KeepsRoster = true; return req }
	back := tr.back(keeps(keyed("bob")), bob, 2)
	if !back.welcome.MembersOmitted || back.welcome.Members != nil || len(back.replay) != 1 {
		t.Fatalf("bob back, keeping his roster: %+v, replay %s; want no members, his leave replayed", back.welcome, lines(back.replay))
	}
	tr.r.Leave(back.m, wire.CodeLost)
	if w := tr.back(keyed("bob"), bob, 2).welcome; w.MembersOmitted || len(w.Members) != 2 {
		t.Fatalf("bob back without asking: %+v; want the members", w)
	}

	// Across a clean restart with everyone keyed: omitted.
	tr = restarted(t, tr, cfg)
	if w := tr.back(keeps(keyed("ana")), ana, 5).welcome; !w.MembersOmitted || !w.Resumed {
		t.Fatalf("ana back after the restart: %+v; want the members left out", w)
	}
	// With a member without a key present at the close: listed.
	tr.join("kit")
	tr = restarted(t, tr, cfg)
	if w := tr.back(keeps(keyed("ana")), ana, 6).welcome; w.MembersOmitted || !w.Resumed || !slices.Contains(names(w.Members), "bob") {
		t.Fatalf("ana back after a close with kit, who has no key: %+v; want the members", w)
	}

	// Joins and leaves the history no longer holds.
	small := startRoom(t, Config{JoinLimits: unlimitedJoins, History: 2})
	cy := small.joinReq(keyed("cy"))
	small.r.Leave(cy.m, wire.CodeLost)
	for _, n := range []string{"dee", "eve", "fay"} {
		small.join(n)
	}
	if w := small.back(keeps(keyed("cy")), cy, cy.welcome.Seq).welcome; w.MembersOmitted || len(w.Members) != 4 {
		t.Fatalf("cy back past dropped joins: %+v; want the members", w)
	}
}

// The room's one order across clean restarts: as TestPresenceOneOrder,
// with the room closing and opening again from its history now and then,
// each member coming back (resuming, keeping its roster or not) or not,
// and the grace ending; every member's roster, folded from its welcome or
// kept from before, and its events, is the one the room announced.
func TestPresenceOneOrderAcrossRestarts(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 17))
			cfg := Config{JoinLimits: unlimitedJoins, PresenceAbove: 4, PresenceWindow: time.Hour, GhostGrace: time.Hour}
			tr := startRoom(t, cfg)
			reqOf := func(name string) JoinRequest {
				req := keyed(name)
				switch name {
				case "ana":
					req.Admin = true
				case "kit":
					req.Identity = "" // no key: never listed across a close
				}
				req.KeepsRoster = rng.IntN(2) == 0
				return req
			}
			clients := map[string]*client{}
			folds := map[string]*foldedRoster{}
			// Where each member that lost the room stands, to come back.
			gone := map[string]*foldedRoster{}
			pool := []string{"ana", "bob", "cy", "dee", "eve", "fay", "gus", "kit"}
			for step := range 300 {
				name := pool[rng.IntN(len(pool))]
				c, in := clients[name]
				op := rng.IntN(20)
				switch {
				case op == 0:
					// What was held is told as the room closes, and read
					// before its connection ends.
					tr.close()
					for n, c := range clients {
						for _, f := range c.frames() {
							folds[n].apply(f)
						}
						gone[n] = folds[n]
					}
					clear(clients)
					tr = restarted(t, tr, cfg)
				case op == 1:
					tr.endGrace()
				case !in && op < 12:
					req := reqOf(name)
					old, lost := gone[name]
					if lost {
						req.Resume = &wire.Resume{Epoch: testEpoch, Seq: old.seq}
					}
					m, refusal, err := tr.r.Join(t.Context(), req)
					if err != nil {
						t.Fatal(err)
					}
					if refusal != nil {
						t.Fatalf("step %d: %s refused: %+v", step, name, refusal)
					}
					replay := m.TakeReplay()
					c = &client{tr: tr, m: m, welcome: parse(t, replay[0])}
					for _, b := range replay[1:] {
						c.replay = append(c.replay, parse(t, b))
					}
					var r *foldedRoster
					var listed map[string]wire.Member
					switch {
					case c.welcome.MembersOmitted:
						if !lost || !req.KeepsRoster || !c.welcome.Resumed {
							t.Fatalf("step %d: %s's welcome left the members out unasked", step, name)
						}
						r = old
						r.welcome, r.ownTold = c.welcome.Seq, false
						r.members[name] = *c.welcome.You
					default:
						r = foldWelcome(c.welcome)
						if !c.welcome.Resumed {
							c.replay = nil // a backlog of messages
						}
						// The list is the room as the welcome stands: the
						// replay is older news, taken for its order alone.
						listed = maps.Clone(r.members)
					}
					// The replay starts where the room resumed it (before a
					// number its welcome reserved, see Resumable.Untold),
					// and the welcome stands for the event after it.
					if len(c.replay) > 0 {
						r.seq = c.replay[0].Seq - 1
					}
					for _, f := range c.replay {
						r.apply(f)
					}
					if listed != nil {
						r.members = listed
					}
					r.seq = c.welcome.Seq
					delete(gone, name)
					clients[name], folds[name] = c, r
				case !in:
				case op < 14:
					tr.r.Leave(c.m, wire.CodeLost)
					gone[name] = folds[name]
					delete(clients, name)
				case op < 15:
					c.say("/quit")
					delete(clients, name)
					delete(gone, name)
				case op < 17:
					c.say(fmt.Sprintf("step %d", step))
				case op < 18:
					c.say("/away lunch")
				case op < 19:
					c.say("/away")
				default:
					tr.flush()
				}
				tr.checkFolds(t, step, clients, folds)
			}
		})
	}
}

// The host's own member has no key: it is listed across a restart all
// the same, and only the owner takes its place (silently); it does not
// spoil the others' resumes without the members.
func TestGhostOwner(t *testing.T) {
	cfg := Config{JoinLimits: unlimitedJoins, GhostGrace: time.Hour}
	tr := startRoom(t, cfg)
	tr.joinReq(JoinRequest{Name: "host", Owner: true})
	ana := tr.joinReq(keyed("ana"))
	tr = restarted(t, tr, cfg)
	for _, req := range []JoinRequest{{Name: "host"}, {Name: "Host", Identity: "SHA256:mallory"}} {
		if f := tr.refused(req); f.Code != wire.CodeNameTaken {
			t.Fatalf("%+v: refused %+v, want name taken", req, f)
		}
	}
	back := tr.back(JoinRequest{Name: "ana", Identity: keyed("ana").Identity, KeepsRoster: true}, ana, 2)
	if !back.welcome.MembersOmitted {
		t.Fatalf("ana back: %+v; want the members left out", back.welcome)
	}
	host := tr.joinReq(JoinRequest{Name: "host", Owner: true})
	if host.welcome.You.Role != wire.RoleOwner || host.welcome.Seq != 3 {
		t.Fatalf("the owner back: %+v; want its place, welcomed at 3", host.welcome)
	}
	tr.endGrace()
	back.say("hi")
	back.expect(presenceEvent(3, nil, nil), sayEvent(4, "ana", "hi"))
}

package join

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"chatroom/host/wire"
)

func presenceFrame(seq uint64, joined []wire.Member, left []wire.Departure) wire.Frame {
	return wire.Frame{Type: wire.TypeEvent, Seq: seq, Time: testTime, Kind: wire.KindPresence, Joined: joined, Left: left}
}

// A presence event is applied leaves first, then joins: a name in both left
// and came back (with what it came back as); the person never leaves their
// own roster; the names are offered to Tab completion; the away mark and
// key tag are the event's.
func TestRosterAppliesPresence(t *testing.T) {
	r := newRoster(wire.Frame{Type: wire.TypeWelcome, You: &wire.Member{Name: "bob", Role: wire.RoleMember},
		Members: []wire.Member{{Name: "cy", Role: wire.RoleMember}, {Name: "dee", Role: wire.RoleMember, Away: true}, {Name: "eve", Role: wire.RoleAdmin}}})
	err := r.apply(presenceFrame(5,
		[]wire.Member{{Name: "fay", Role: wire.RoleMember, Key: "abcdefgh"}, {Name: "dee", Role: wire.RoleAdmin}, {Name: "gus", Role: wire.RoleMember, Away: true}},
		[]wire.Departure{{Name: "cy", Code: wire.CodeLost}, {Name: "dee", Code: wire.CodeLeft}, {Name: "bob", Code: wire.CodeLost}, {Name: "zed", Code: wire.CodeLeft}}))
	if err != nil {
		t.Fatal(err)
	}
	want := []wire.Member{{Name: "bob", Role: wire.RoleMember}, {Name: "dee", Role: wire.RoleAdmin}, {Name: "eve", Role: wire.RoleAdmin}, {Name: "fay", Role: wire.RoleMember}, {Name: "gus", Role: wire.RoleMember}}
	if got := r.members(); !slices.Equal(got, want) {
		t.Errorf("members = %v, want %v", got, want)
	}
	if got := r.Names(); !slices.Equal(got, []string{"dee", "eve", "fay", "gus", "bob"}) {
		t.Errorf("Names() = %v: Tab completion does not see who came", got)
	}
	if _, away := r.Away("dee"); away {
		t.Error("dee came back, not away, and is still marked away")
	}
	if _, away := r.Away("gus"); !away {
		t.Error("gus came away, and is not marked so")
	}
	if r.KeyTag("fay") != "abcdefgh" {
		t.Errorf("fay's key tag = %q", r.KeyTag("fay"))
	}
}

// Attack: a hostile room announces a million members in one presence
// event, or enough to take the roster past its bound, or a name no host
// lets in: the room is broken, and the roster is left as it was.
func TestRosterPresenceBounded(t *testing.T) {
	many := func(n int) []wire.Member {
		ms := make([]wire.Member, n)
		for i := range ms {
			ms[i] = wire.Member{Name: fmt.Sprintf("m%d", i), Role: wire.RoleMember}
		}
		return ms
	}
	for _, tc := range []struct {
		name   string
		joined []wire.Member
		left   []wire.Departure
	}{
		{"a million", many(1_000_000), nil},
		{"a million leaving", nil, make([]wire.Departure, 1_000_000)},
		{"past the bound", many(maxRosterMembers), nil},
		{"a bad name", append(many(3), wire.Member{Name: "", Role: wire.RoleMember}), nil},
	} {
		r := newRoster(wire.Frame{Type: wire.TypeWelcome, You: &wire.Member{Name: "bob", Role: wire.RoleMember},
			Members: []wire.Member{{Name: "cy", Role: wire.RoleMember}}})
		err := r.apply(presenceFrame(5, tc.joined, append(tc.left, wire.Departure{Name: "cy", Code: wire.CodeLeft})))
		if brokenRoom(err) == nil {
			t.Errorf("%s: %v; want a broken room", tc.name, err)
		}
		if got := r.members(); len(got) != 2 {
			t.Errorf("%s: the roster changed to %d members", tc.name, len(got))
		}
	}
	// At the bound, with as many leaving, is a room's right.
	r := newRoster(wire.Frame{Type: wire.TypeWelcome, You: &wire.Member{Name: "bob", Role: wire.RoleMember}, Members: many(maxRosterMembers - 1)})
	left := make([]wire.Departure, 10)
	for i := range left {
		left[i] = wire.Departure{Name: fmt.Sprintf("m%d", i), Code: wire.CodeLost}
	}
	if err := r.apply(presenceFrame(5, many(10)[:10], left)); err != nil {
		t.Errorf("joins that replace as many leaves at the bound: %v", err)
	}
}

// A big room holds the person's arrival: the welcome has the number of the
// presence event to come, which the room then sends; it is passed on and
// applied, not taken for an event shown already, and the events after it
// follow as ever. A second one under that number is a repeat, dropped.
func TestSessionTakesItsOwnArrival(t *testing.T) {
	own := presenceFrame(10, []wire.Member{{Name: "dan", Role: wire.RoleMember}, {Name: "bob", Role: wire.RoleMember}}, []wire.Departure{{Name: "cy", Code: wire.CodeLost}})
	say := wire.Frame{Type: wire.TypeEvent, Seq: 11, Time: testTime, Kind: wire.KindSay, From: "dan", Text: "hi"}
	s, err := connectTo(t, context.Background(), "bob", func(h *fakeHost) {
		h.welcomeAs(10, func(w *wire.Frame) { w.Members = append(w.Members, ana); w.Epoch = "e1" })
		h.send(own)
		h.send(own)
		h.send(say)
		h.read()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, want := range []wire.Frame{own, say} {
		got, err := s.Next()
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if got.Seq != want.Seq || got.Kind != want.Kind {
			t.Fatalf("Next = %s %d, want %s %d", got.Kind, got.Seq, want.Kind, want.Seq)
		}
		if s.Phase(got) != Live {
			t.Errorf("%s %d: phase %v, want live", got.Kind, got.Seq, s.Phase(got))
		}
	}
	if got := s.Roster().Names(); !slices.Equal(got, []string{"dan", "ana", "bob"}) {
		t.Errorf("Names() = %v, want cy gone and dan come", got)
	}
	if p := s.ResumePoint(); p == nil || p.Seq != 11 {
		t.Errorf("ResumePoint() = %+v, want seq 11", p)
	}
}

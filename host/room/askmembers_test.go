package room

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"chatroom/host/wire"
)

// bigRoom is a room that lists more than wire.MembersInWelcome members,
// every join told (a say ends the presence window), and its first member.
func bigRoom(t *testing.T) (*testRoom, *client) {
	t.Helper()
	tr := startRoom(t, Config{JoinLimits: unlimitedJoins, PresenceWindow: time.Hour})
	first := tr.join("m0")
	for i := 1; i <= wire.MembersInWelcome+4; i++ {
		tr.join(fmt.Sprintf("m%d", i))
	}
	first.say("hi") // tells the held joins first
	first.frames()
	return tr, first
}

// In a room of more than wire.MembersInWelcome, a joiner that asks for the
// members when it needs them is welcomed without them, with their count;
// one that does not say so (an older client, the IRC gateway) is sent
// them all, as before. A small room lists them to everyone.
func TestBigRoomWelcomeLeavesMembersOut(t *testing.T) {
	small := startRoom(t, Config{JoinLimits: unlimitedJoins})
	small.join("ana")
	if w := small.joinReq(JoinRequest{Name: "bob", AsksMembers: true}).welcome; w.MembersOnRequest || len(w.Members) != 2 {
		t.Fatalf("bob's welcome in a room of two: %+v; want both listed", w)
	}

	tr, _ := bigRoom(t)
	listed := wire.MembersInWelcome + 5
	asker := tr.joinReq(JoinRequest{Name: "asker", AsksMembers: true})
	// The count may take the joiner in (as its welcome's list would).
	if w := asker.welcome; !w.MembersOnRequest || w.Members != nil || w.MemberCount < listed || w.MemberCount > listed+1 {
		t.Fatalf("asker's welcome: on request %v, %d members, count %d; want none listed and a count of %d",
			w.MembersOnRequest, len(w.Members), w.MemberCount, listed)
	}
	b, _ := wire.Encode(&asker.welcome)
	if len(b) > 8<<10 {
		t.Errorf("the welcome without members is %d bytes; want it small whatever the room's size", len(b))
	}
	if w := tr.join("plain").welcome; w.MembersOnRequest || len(w.Members) < listed {
		t.Fatalf("plain's welcome, which did not ask for members on request: %d members; want every one of %d", len(w.Members), listed)
	}
}

// The members come when asked, in the member's order of frames: the
// events after the answer follow on from it. A member that asks again on
// the same connection (an attacker making the host send the whole room
// again and again) gets a one-line error, not another list.
func TestAskMembers(t *testing.T) {
	tr, first := bigRoom(t)
	asker := tr.joinReq(JoinRequest{Name: "asker", AsksMembers: true})
	tr.r.AskMembers(asker.m)
	first.say("after the list")
	got := asker.frames()
	if len(got) < 2 || got[0].Type != wire.TypeMembers {
		t.Fatalf("asker got %s; want the members first", lines(got))
	}
	listed := slices.DeleteFunc(names(got[0].Members), func(n string) bool { return n == "asker" })
	for i := range wire.MembersInWelcome + 5 {
		if !slices.Contains(listed, fmt.Sprintf("m%d", i)) {
			t.Fatalf("the members frame lists %v; want m0 … m%d, whom the events told of", listed, wire.MembersInWelcome+4)
		}
	}
	if len(listed) != wire.MembersInWelcome+5 {
		t.Fatalf("the members frame lists %d others; want %d", len(listed), wire.MembersInWelcome+5)
	}
	if last := got[len(got)-1]; last.Kind != wire.KindSay || last.Text != "after the list" {
		t.Fatalf("asker's last frame is %s; want the say made after the ask", encodeString(last))
	}

	for range 3 {
		tr.r.AskMembers(asker.m)
	}
	again := asker.frames()
	if len(again) != 3 {
		t.Fatalf("asking three times more gave %s; want three error notices", lines(again))
	}
	for _, f := range again {
		if f.Type != wire.TypeNotice || !f.Error || f.Members != nil {
			t.Fatalf("asking again gave %s; want an error notice, not the list again", encodeString(f))
		}
	}

	// A member whose welcome listed everyone has had them.
	plain := tr.join("plain")
	tr.r.AskMembers(plain.m)
	if f := plain.frames(); len(f) != 1 || f[0].Type != wire.TypeNotice || !f[0].Error {
		t.Fatalf("plain, who had the members in its welcome, asking: %s; want an error notice", lines(f))
	}
}

// The table of members who may resume forgets a member that resumed at
// once, and its place in the order only later (state.departed): past its
// bound it still lets go of the oldest still in it first, and a member
// who resumed and left again holds its new place, not its old one.
func TestDepartedTableOrderAfterResumes(t *testing.T) {
	tr := startRoom(t, Config{JoinLimits: unlimitedJoins, Backlog: -1})
	// Each resumes from the room's latest event its test knows of, so that
	// its replay is short: what is looked at is whether it resumed.
	var latest uint64
	join := func(req JoinRequest) *client {
		c := tr.joinReq(req)
		latest = max(latest, c.welcome.Seq)
		return c
	}
	back := func(name string, c *client) *client {
		req := keyed(name)
		req.Resume = &wire.Resume{Epoch: c.welcome.Epoch, Seq: latest}
		return join(req)
	}
	a := make([]*client, maxDeparted)
	for i := range a {
		a[i] = join(keyed(fmt.Sprint("a", i)))
		tr.r.Leave(a[i].m, wire.CodeLost)
	}
	// Half come back, and leave again: each is forgotten from the table
	// as it comes back, and kept again, among the latest, as it leaves.
	for i := range maxDeparted / 2 {
		again := back(fmt.Sprint("a", i), a[i])
		if !again.welcome.Resumed {
			t.Fatalf("a%d did not resume", i)
		}
		tr.r.Leave(again.m, wire.CodeLost)
		a[i] = again
	}
	// Enough leave after them to push out the 100 oldest in the table.
	const pushed = 100
	b := make([]*client, pushed)
	for i := range b {
		b[i] = join(keyed(fmt.Sprint("b", i)))
		tr.r.Leave(b[i].m, wire.CodeLost)
	}
	tr.sync()
	// Each look leaves the member in the table again, at the end; one
	// not kept is a newcomer, who pushes out the oldest: those come last.
	first := maxDeparted / 2
	for _, tc := range []struct {
		i    int
		c    *client
		want bool
	}{
		{first + pushed, a[first+pushed], true}, // the oldest not pushed out
		{0, a[0], true},                         // back and gone again: a new place
		{first - 1, a[first-1], true},
		{first + pushed - 1, a[first+pushed-1], false}, // the last of those pushed out
		{first, a[first], false},                       // the first
	} {
		again := back(fmt.Sprint("a", tc.i), tc.c)
		tr.r.Leave(again.m, wire.CodeLost)
		if again.welcome.Resumed != tc.want {
			t.Errorf("a%d resumes: %v, want %v", tc.i, again.welcome.Resumed, tc.want)
		}
	}
	if again := back("b0", b[0]); !again.welcome.Resumed {
		t.Error("b0, among the latest to leave, did not resume")
	}
}

// Attack: a members-frame flood. After its one list, every ask costs the
// room a turn and a frame out, so a client asking in a loop (173,000 a
// second from one connection, before this) is held to the member's line
// budget as a blank line is: the asks use up the lines it may send, past
// the budget each is a strike, and enough strikes kick it for flooding.
func TestMembersFloodCounts(t *testing.T) {
	limits := wire.Limits{Burst: 10, PerSecond: 2}
	tr := startRoom(t, Config{Limits: limits})
	ana := tr.join("ana")
	bob := tr.join("bob") // the small room's welcome listed everyone
	ana.frames()
	again := errorNotice("the members were sent already: the events since then keep that list up to date")
	for range HeldLimits(limits).Burst {
		tr.r.AskMembers(bob.m)
		bob.expect(again)
	}
	// The asks spent bob's lines.
	bob.say("hello")
	bob.expect(errorNotice("not sent: you are sending faster than the room allows (10 lines at once, then 2 a second)"))
	tr.r.AskMembers(bob.m)
	bob.expect(errorNotice("not sent: you are sending faster than the room allows (10 lines at once, then 2 a second)"))
	ana.expect()
	for range floodStrikes {
		tr.r.AskMembers(bob.m)
	}
	bob.frames()
	if !bob.closed || string(bob.m.Final()) != encodeString(*closedFrame(wire.CodeKicked, "", "flooding"))+"\n" {
		t.Fatalf("bob asked for the members %d times beyond the limit and is still in (final %s)", floodStrikes, bob.m.Final())
	}
}

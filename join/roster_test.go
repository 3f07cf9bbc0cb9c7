package join

import (
	"context"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"chatroom/host/wire"
)

// TestRosterFollowsNick: a member's change of name moves its role, its
// away text and its place among the recent speakers; the person's own
// moves Me, by which it reconnects.
func TestRosterFollowsNick(t *testing.T) {
	r := newRoster(wire.Frame{
		Type:    wire.TypeWelcome,
		Room:    &wire.Room{Name: "lan", Topic: "cats"},
		You:     &wire.Member{Name: "bob", Role: wire.RoleMember},
		Members: []wire.Member{{Name: "ana", Role: wire.RoleOwner, Away: true}, {Name: "cy", Role: wire.RoleMember}},
	})
	event := func(f wire.Frame) {
		t.Helper()
		f.Type = wire.TypeEvent
		if err := r.apply(f); err != nil {
			t.Fatalf("apply(%+v): %v", f, err)
		}
	}
	if why, away := r.Away("ana"); !away || why != "" || r.Topic() != "cats" {
		t.Fatalf("after the welcome: Away(ana) = %q, %v; Topic() = %q", why, away, r.Topic())
	}
	event(wire.Frame{Kind: wire.KindSay, From: "cy", Text: "hi"})
	event(wire.Frame{Kind: wire.KindSay, From: "ana", Text: "hi"})
	event(wire.Frame{Kind: wire.KindNick, Name: "ana", NewName: "Anna"})
	if got, want := r.Names(), []string{"Anna", "cy", "bob"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	if role, ok := r.role("Anna"); !ok || role != wire.RoleOwner {
		t.Errorf("role(Anna) = %q, %v; want owner", role, ok)
	}
	if _, ok := r.role("ana"); ok {
		t.Error("ana is still in the roster")
	}
	event(wire.Frame{Kind: wire.KindAway, From: "Anna", Text: "lunch"})
	if why, away := r.Away("Anna"); !away || why != "lunch" {
		t.Errorf("Away(Anna) = %q, %v; want lunch", why, away)
	}
	event(wire.Frame{Kind: wire.KindNick, Name: "Anna", NewName: "Ann"})
	if why, away := r.Away("Ann"); !away || why != "lunch" {
		t.Errorf("Away(Ann) = %q, %v; want lunch, kept across a rename", why, away)
	}
	event(wire.Frame{Kind: wire.KindNick, Name: "Ann", NewName: "Anna"})
	event(wire.Frame{Kind: wire.KindNick, Name: "bob", NewName: "rob"})
	if r.Me() != "rob" {
		t.Errorf("Me() = %q after the person's /nick, want rob", r.Me())
	}
	if got, want := r.Names(), []string{"Anna", "cy", "rob"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	event(wire.Frame{Kind: wire.KindAway, From: "cy", Text: "out"})
	event(wire.Frame{Kind: wire.KindAway, From: "Anna"})
	event(wire.Frame{Kind: wire.KindTopic, From: "Anna", Text: "dogs"})
	if _, away := r.Away("Anna"); away {
		t.Error("Anna is still away after coming back")
	}
	if why, _ := r.Away("cy"); why != "out" || r.Topic() != "dogs" {
		t.Errorf("Away(cy) = %q, Topic() = %q; want out, dogs", why, r.Topic())
	}
	event(wire.Frame{Kind: wire.KindLeave, Name: "cy", Code: wire.CodeLeft})
	if _, away := r.Away("cy"); away {
		t.Error("cy is still away after leaving")
	}
}

// TestRosterHostileChanges: a room's nick, away and topic events cannot
// take the roster past its bounds or make it hold a name no host lets in.
func TestRosterHostileChanges(t *testing.T) {
	r := newRoster(wire.Frame{Type: wire.TypeWelcome, You: &wire.Member{Name: "bob", Role: wire.RoleMember},
		Members: []wire.Member{{Name: "cy", Role: wire.RoleMember}}})
	for _, name := range []string{"", strings.Repeat("x", maxNameRunes+1)} {
		err := r.apply(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindNick, Name: "cy", NewName: name})
		if brokenRoom(err) == nil {
			t.Errorf("nick to %.30q: %v; want a broken room", name, err)
		}
	}
	if _, ok := r.role("cy"); !ok {
		t.Error("a refused nick took cy away")
	}
	// Someone not here: nothing to follow.
	if err := r.apply(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindNick, Name: "zed", NewName: "zoe"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.role("zoe"); ok {
		t.Error("a nick of someone not here added them")
	}
	huge := "a" + strings.Repeat("é", 1<<20) // cut at an even count, a character is split
	r.apply(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindTopic, From: "cy", Text: huge})
	r.apply(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindAway, From: "cy", Text: huge})
	r.apply(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindAway, From: "zed", Text: "x"})
	if got := r.Topic(); len(got) > maxTopicBytes || !strings.HasPrefix(huge, got) || !utf8.ValidString(got) || got == "" {
		t.Errorf("topic kept as %d bytes, want a whole-character prefix of at most %d", len(got), maxTopicBytes)
	}
	if why, _ := r.Away("cy"); len(why) > maxAwayBytes || !strings.HasPrefix(huge, why) || !utf8.ValidString(why) || why == "" {
		t.Errorf("away kept as %d bytes, want a whole-character prefix of at most %d", len(why), maxAwayBytes)
	}
	if _, away := r.Away("zed"); away {
		t.Error("away kept for someone not here")
	}
}

// TestReconnectAfterNick: a client that lost its connection after the
// person's /nick comes back by the new name, under which the room kept its
// place; and the /nick's event counts as the room's answer to the line.
func TestReconnectAfterNick(t *testing.T) {
	cert, fp := roomKey(t)
	hellos := make(chan wire.Frame, 2)
	room := newTLSFakeRoom(t, cert, fp,
		func(h *fakeHost) {
			hellos <- h.welcomeAs(10, nil)
			h.expect(wire.TypeSay, "/nick rob")
			h.send(wire.Frame{Type: wire.TypeEvent, Seq: 11, Time: testTime, Kind: wire.KindNick, Name: "bob", NewName: "rob", Ref: 1})
			// The connection breaks.
		},
		func(h *fakeHost) {
			hellos <- h.welcomeAs(11, func(w *wire.Frame) { w.Resumed = true; w.You.Name = "rob" })
			h.send(say(12, "cy", "welcome back rob", 0))
			h.expect(wire.TypeSay, "/quit")
			closedLeft(h)
		})
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), room.dialer(), Options{Name: "bob", Reconnect: testReconnect()}, ui)
	typeLine(t, ui, "/nick rob")
	waitPrinted(t, ui, "welcome back rob")
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	first, second := <-hellos, <-hellos
	if first.Name != "bob" || second.Name != "rob" {
		t.Errorf("hellos by %q then %q, want bob then rob", first.Name, second.Name)
	}
	for _, l := range ui.output() {
		if strings.Contains(l, "/nick") {
			t.Errorf("output %q: the /nick line was counted unanswered", ui.output())
		}
	}
}

// TestRosterKeyTags: the roster keeps the key tag the room tells of each
// member, from the welcome and join events, through /nick, until the
// member leaves; what is not a tag is no key.
func TestRosterKeyTags(t *testing.T) {
	r := newRoster(wire.Frame{
		Type: wire.TypeWelcome,
		You:  &wire.Member{Name: "ana", Role: wire.RoleMember, Key: "anakey01"},
		Members: []wire.Member{
			{Name: "bob", Role: wire.RoleMember, Key: "bobkey01"},
			{Name: "cy", Role: wire.RoleMember},
			{Name: "eve", Role: wire.RoleMember, Key: "\x1b[2Jpwned"},
		},
	})
	ev := func(kind, name, newName, key string) wire.Frame {
		return wire.Frame{Type: wire.TypeEvent, Kind: kind, Name: name, NewName: newName, Key: key, Role: wire.RoleMember}
	}
	steps := []struct {
		frame wire.Frame
		want  map[string]string // name -> KeyTag after the frame
	}{
		{wire.Frame{}, map[string]string{"ana": "anakey01", "bob": "bobkey01", "cy": "", "eve": "", "zed": ""}},
		{ev(wire.KindNick, "bob", "rob", "bobkey01"), map[string]string{"bob": "", "rob": "bobkey01"}},
		{ev(wire.KindNick, "rob", "rab", ""), map[string]string{"rob": "", "rab": "bobkey01"}}, // an older host's nick keeps it
		{ev(wire.KindJoin, "dee", "", "deekey01+/"), map[string]string{"dee": "deekey01+/"}},
		{ev(wire.KindJoin, "fay", "", "short"), map[string]string{"fay": ""}},
		{ev(wire.KindJoin, "gus", "", strings.Repeat("a", 44)), map[string]string{"gus": ""}},
		{ev(wire.KindJoin, "hal", "", "halkey01 x"), map[string]string{"hal": ""}},
		{ev(wire.KindRole, "dee", "", ""), map[string]string{"dee": "deekey01+/"}},
		{wire.Frame{Type: wire.TypeEvent, Kind: wire.KindLeave, Name: "dee"}, map[string]string{"dee": ""}},
		{ev(wire.KindJoin, "dee", "", ""), map[string]string{"dee": ""}}, // someone else, without a key
		{ev(wire.KindJoin, "bob", "", "bobkey02"), map[string]string{"bob": "bobkey02", "rab": "bobkey01"}},
		{ev(wire.KindNick, "bob", "rab", "bobkey02"), map[string]string{"bob": "", "rab": "bobkey02"}}, // renamed onto a name there
		{ev(wire.KindNick, "ana", "anna", "anakey01"), map[string]string{"ana": "", "anna": "anakey01"}},
	}
	for i, s := range steps {
		if s.frame.Type != "" {
			if err := r.apply(s.frame); err != nil {
				t.Fatalf("step %d: apply(%+v): %v", i, s.frame, err)
			}
		}
		for name, want := range s.want {
			if got := r.KeyTag(name); got != want {
				t.Errorf("step %d: KeyTag(%q) = %q, want %q", i, name, got, want)
			}
		}
	}
	if len(r.keys) > len(r.roles) {
		t.Errorf("%d keys kept for %d members", len(r.keys), len(r.roles))
	}
}

func TestValidKeyTag(t *testing.T) {
	for tag, want := range map[string]bool{
		"":                      false,
		"abcdefg":               false,
		"abcdefgh":              true,
		"AZaz09+/":              true,
		strings.Repeat("A", 43): true,
		strings.Repeat("A", 44): false,
		"abcd efgh":             false,
		"abcdefg=":              false,
		"abcdéfgh":              false,
		"abc\x00defgh":          false,
		wire.KeyTag(wire.Fingerprint([]byte("k"))): true,
	} {
		if got := ValidKeyTag(tag); got != want {
			t.Errorf("ValidKeyTag(%q) = %v, want %v", tag, got, want)
		}
	}
}

package room

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"chatroom/host/wire"
)

func nickEvent(seq uint64, old, name string) wire.Frame {
	return wire.Frame{Type: wire.TypeEvent, Seq: seq, Time: testTime, Kind: wire.KindNick, Name: old, NewName: name}
}

func awayEvent(seq uint64, from, text string) wire.Frame {
	return wire.Frame{Type: wire.TypeEvent, Seq: seq, Time: testTime, Kind: wire.KindAway, From: from, Text: text}
}

func topicEvent(seq uint64, from, text string) wire.Frame {
	return wire.Frame{Type: wire.TypeEvent, Seq: seq, Time: testTime, Kind: wire.KindTopic, From: from, Text: text}
}

// TestNick: everyone sees the change, the room knows the member by its new
// name (for /who, /msg, /kick), and the old name is free again.
func TestNick(t *testing.T) {
	c := newCast(t, Config{})
	c.cy.say("/nick Cyd")
	for _, m := range c.all() {
		m.expect(nickEvent(5, "cy", "Cyd"))
	}
	if got := c.cy.m.Name(); got != "Cyd" {
		t.Errorf("Name() = %q after /nick, want Cyd", got)
	}
	c.cy.say("hello")
	for _, m := range c.all() {
		m.expect(sayEvent(6, "Cyd", "hello"))
	}
	c.bob.say("/who")
	c.bob.expect(notice("4 here: ana (host), bob (admin), Cyd, dee (admin)"))
	c.bob.say("/msg cyd hi")
	if got := c.cy.frames(); len(got) != 1 || got[0].Type != wire.TypePrivate || got[0].To != "Cyd" {
		t.Errorf("cy got %s; want bob's private message to Cyd", lines(got))
	}
	c.bob.frames()
	// The old name is free: someone else may join by it.
	c.tr.join("cy")
	// A change of case alone is a new name as shown, under the same key.
	c.dee.say("/nick DEE")
	c.ana.frames()
	c.dee.expect(joinEvent(7, "cy", wire.RoleMember), nickEvent(8, "dee", "DEE"))
	c.dee.say("/nick DEE")
	c.dee.expect(errorNotice("you are already called DEE"))
}

// TestNickRefused covers every refusal: the caller gets one error notice,
// no one else gets anything, and the name is unchanged.
func TestNickRefused(t *testing.T) {
	const rule = ": names are 1 to 24 letters, digits or ASCII punctuation, with no spaces"
	tests := []struct {
		name  string
		setup func(c *cast)
		line  string
		want  string
	}{
		{"taken", nil, "/nick bob", `not renamed: the name "bob" is taken`},
		{"look-alike", nil, "/nick b0b", `not renamed: the name "b0b" looks like bob, who is here`},
		{"look-alike in another script", nil, "/nick аna", `not renamed: the name mixes Cyrillic and Latin letters` + rule},
		{"control character", nil, "/nick cy\x1b[2J", "command not run: it contains control characters"},
		{"space", nil, "/nick c y", `not renamed: the name contains a space` + rule},
		{"too long", nil, "/nick " + strings.Repeat("y", 25), "not renamed: the name is 25 characters long" + rule},
		{"huge", nil, "/nick " + strings.Repeat("y", wire.MaxText), "command not run: longer than 4000 bytes"},
		{"long", nil, "/nick " + strings.Repeat("y", 3000), "not renamed: the name is 3000 characters long" + rule},
		{"invisible", nil, "/nick c\u200by", "command not run: it contains the invisible character U+200B (zero-width space)"},
		{"banned name", func(c *cast) { c.bob.say("/ban eve") }, "/nick Eve", `not renamed: the name "Eve" may not be used here`},
		{"owner's name while away", func(c *cast) { c.ana.say("/quit") }, "/nick ANA", `not renamed: the name "ANA" looks like the host's`},
		{"remembered admin's", func(c *cast) {
			c.tr.r.send(func(s *state) { s.ops = append(s.ops, Op{Identity: "SHA256:ops", Name: "opal"}) })
		}, "/nick 0pal", `not renamed: the name "0pal" looks like an admin's of this room`},
		{"lost member's", func(c *cast) {
			lost := c.tr.joinReq(JoinRequest{Name: "lou", Identity: "SHA256:lou"})
			c.tr.r.Leave(lost.m, wire.CodeLost)
		}, "/nick Lou", `not renamed: the name "Lou" belongs to someone whose connection broke, who may be back in a moment`},
		{"muted", func(c *cast) { c.bob.say("/mute cy") }, "/nick cyrus", "not allowed: you are muted until an admin lifts it, and cannot change your name"},
		{"empty", nil, "/nick", "usage: /nick NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCast(t, Config{})
			if tt.setup != nil {
				tt.setup(c)
				for _, m := range c.all() {
					m.frames()
				}
			}
			c.cy.say(tt.line)
			c.cy.expect(errorNotice(tt.want))
			for _, other := range c.others("cy") {
				if !other.closed {
					other.expectNothing()
				}
			}
			if got := c.cy.m.Name(); got != "cy" {
				t.Errorf("Name() = %q, want cy", got)
			}
		})
	}
}

// TestNickFlood: a member renaming itself in a loop is refused after
// changeLimits' burst, and the others get no more events; it is not kicked
// for it, and its lines still go through.
func TestNickFlood(t *testing.T) {
	c := newCast(t, Config{})
	for i := range 100 {
		c.cy.say(fmt.Sprintf("/nick cy%d", i))
	}
	got := c.ana.frames()
	if len(got) != changeLimits.Burst {
		t.Fatalf("ana got %d frames for 100 renames, want %d:%s", len(got), changeLimits.Burst, lines(got))
	}
	refusals := 0
	for _, f := range c.cy.frames() {
		if f.Type == wire.TypeNotice && f.Error {
			refusals++
			if want := "not done: you changed your name, away message or the topic too often; wait 20 seconds"; f.Text != want {
				t.Fatalf("refusal %q, want %q", f.Text, want)
			}
		}
	}
	if refusals != 100-changeLimits.Burst {
		t.Errorf("%d refusals, want %d", refusals, 100-changeLimits.Burst)
	}
	c.cy.say("still here")
	if got := c.ana.frames(); len(got) != 1 || got[0].Kind != wire.KindSay {
		t.Errorf("ana got %s; want cy's line", lines(got))
	}
}

// TestNickResume: a member who renamed itself and lost its connection
// resumes by its new name, with what it missed.
func TestNickResume(t *testing.T) {
	tr := startRoom(t, Config{})
	ana := tr.join("ana")
	bob := tr.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:bob"})
	ana.frames()
	bob.say("/nick rob")
	renamed := nickEvent(3, "bob", "rob")
	renamed.Key = "bob" // bob's key tag, told since issue 15
	ana.expect(renamed)
	bob.frames()
	tr.r.Leave(bob.m, wire.CodeLost)
	ana.expect(leaveEvent(4, "rob", wire.CodeLost, "", ""))
	ana.say("where did rob go")
	ana.frames()
	back := tr.joinReq(JoinRequest{Name: "rob", Identity: "SHA256:bob", Resume: &wire.Resume{Epoch: testEpoch, Seq: 3}})
	if !back.welcome.Resumed {
		t.Fatalf("rob's welcome %s does not say resumed", encodeString(back.welcome))
	}
	if len(back.replay) != 2 || back.replay[1].Text != "where did rob go" {
		t.Errorf("rob's replay:%s; want the leave and ana's line", lines(back.replay))
	}
	// Under the old name it would have come back as a newcomer.
	tr.r.Leave(back.m, wire.CodeLost)
	again := tr.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:bob", Resume: &wire.Resume{Epoch: testEpoch, Seq: 3}})
	if again.welcome.Resumed {
		t.Errorf("bob resumed rob's place: %s", encodeString(again.welcome))
	}
}

// TestAway: /away is an event; /who, /whois and the welcome show it; who
// writes to an away member is told; /away alone is back.
func TestAway(t *testing.T) {
	c := newCast(t, Config{})
	c.cy.say("/away  at lunch ")
	for _, m := range c.all() {
		m.expect(awayEvent(5, "cy", "at lunch"))
	}
	c.bob.say("/who")
	c.bob.expect(notice("4 here: ana (host), bob (admin), cy (away), dee (admin)"))
	c.dee.say("/whois cy")
	c.dee.expect(notice("cy is a member, no key, from 10.0.0.3; away: at lunch"))
	c.dee.say("/msg cy are you there")
	got := c.dee.frames()
	if len(got) != 2 || got[0].Type != wire.TypePrivate || encodeString(got[1]) != encodeString(notice("cy is away: at lunch")) {
		t.Errorf("dee got %s; want its private copy, then that cy is away", lines(got))
	}
	c.cy.frames()
	w := c.tr.join("eve").welcome
	if w.Members[2].Name != "cy" || !w.Members[2].Away || w.Members[1].Away {
		t.Errorf("eve's welcome lists %+v; want cy away at lunch", w.Members[2])
	}
	c.ana.frames()
	c.cy.frames()
	c.cy.say("/away")
	c.ana.expect(awayEvent(7, "cy", ""))
	c.cy.frames()
	c.cy.say("/away")
	c.cy.expect(errorNotice("you are not marked away (/away TEXT marks you)"))
	c.cy.say("/away \x07bell")
	c.cy.expect(errorNotice("command not run: it contains control characters"))
	c.cy.say("/away " + strings.Repeat("z", maxAway+1))
	c.cy.expect(errorNotice("not marked away: the text is longer than 200 bytes"))
	c.cy.say("/away \u202Eevil")
	c.cy.expect(errorNotice("command not run: it contains the invisible character U+202E (right-to-left override)"))
	c.bob.say("/mute cy")
	c.cy.frames()
	c.ana.frames()
	c.cy.say("/away out")
	c.cy.expect(errorNotice("not allowed: you are muted until an admin lifts it, and cannot change your away message"))
	c.ana.expectNothing()
}

// topicStore records the topics saved, and fails while err is set.
type topicStore struct {
	saved []Topic
	err   error
}

func (ts *topicStore) save(t Topic) error {
	ts.saved = append(ts.saved, t)
	return ts.err
}

// TestTopic: only admins set it (unless the host lets everyone), it is
// saved before anyone is told, a joiner's welcome carries it, and /topic
// alone shows it.
func TestTopic(t *testing.T) {
	ts := &topicStore{}
	c := newCast(t, Config{Store: testStore{topic: ts.save}})
	c.cy.say("/topic")
	c.cy.expect(notice("no topic is set"))
	c.cy.say("/topic cats")
	c.cy.expect(errorNotice("not allowed: only admins set the topic here"))
	c.bob.say("/topic  release on friday\t(maybe) ")
	for _, m := range c.all() {
		m.expect(topicEvent(5, "bob", "release on friday (maybe)"))
	}
	if want := (Topic{Text: "release on friday (maybe)", By: "bob", Time: testTime}); len(ts.saved) != 1 || ts.saved[0] != want {
		t.Errorf("saved %+v, want %+v", ts.saved, want)
	}
	c.cy.say("/topic")
	c.cy.expect(notice("the topic is: release on friday (maybe) (set by bob on 2025-03-14 15:09)"))
	if w := c.tr.join("eve").welcome; w.Room.Topic != "release on friday (maybe)" {
		t.Errorf("eve's welcome has topic %q", w.Room.Topic)
	}
	for _, m := range c.all() {
		m.frames()
	}

	for line, want := range map[string]string{
		"/topic " + strings.Repeat("t", MaxTopic+1): "topic not set: longer than 300 bytes",
		"/topic \x1b]0;owned\x07":                   "command not run: it contains control characters",
		"/topic release on friday (maybe)":          "the topic is that already",
	} {
		c.bob.say(line)
		c.bob.expect(errorNotice(want))
	}
	ts.err = errors.New("disk full")
	c.bob.say("/topic new")
	c.bob.expect(errorNotice("topic not saved: disk full"))
	c.ana.expectNothing()
	ts.err = nil
	c.ana.say("/topic -delete")
	c.cy.expect(topicEvent(7, "ana", ""))
	if last := ts.saved[len(ts.saved)-1]; last != (Topic{}) {
		t.Errorf("clearing saved %+v, want the zero Topic", last)
	}
	c.ana.say("/topic -delete")
	c.ana.frames()
	c.ana.say("/topic -delete")
	if got := c.ana.frames(); len(got) != 1 || got[0].Text != "no topic is set" {
		t.Errorf("ana got %s; want that no topic is set", lines(got))
	}
}

// TestTopicByAnyone: with the host's leave, a member sets the topic; a
// muted one still may not.
func TestTopicByAnyone(t *testing.T) {
	c := newCast(t, Config{TopicByAnyone: true})
	c.cy.say("/topic cats")
	c.ana.expect(topicEvent(5, "cy", "cats"))
	c.bob.say("/mute cy")
	c.cy.frames()
	c.ana.frames()
	c.cy.say("/topic dogs")
	c.cy.expect(errorNotice("not allowed: you are muted until an admin lifts it, and cannot set the topic"))
	c.ana.expectNothing()
}

// TestTopicLoaded: a topic the Store kept is in the welcome; one the room
// would not take from a member is dropped.
func TestTopicLoaded(t *testing.T) {
	tr := startRoom(t, Config{Topic: Topic{Text: "kept", By: "ana", Time: testTime}})
	if got := tr.join("bob").welcome.Room.Topic; got != "kept" {
		t.Errorf("welcome topic %q, want kept", got)
	}
	for _, bad := range []string{"a\x1b[2Jb", strings.Repeat("x", MaxTopic+1), "tab\there", "\u202Eevil"} {
		tr := startRoom(t, Config{Topic: Topic{Text: bad}})
		if got := tr.join("bob").welcome.Room.Topic; got != "" {
			t.Errorf("loaded topic %q reached the welcome as %q", bad, got)
		}
	}
}

// TestCommandAliases: /names is /who; /query and /w are /msg.
func TestCommandAliases(t *testing.T) {
	c := newCast(t, Config{})
	c.cy.say("/names")
	c.cy.expect(notice("4 here: ana (host), bob (admin), cy, dee (admin)"))
	for _, alias := range []string{"/query", "/w", "/msg"} {
		c.cy.say(alias + " bob psst")
		got := c.bob.frames()
		if len(got) != 1 || got[0].Type != wire.TypePrivate || got[0].From != "cy" || got[0].Text != "psst" {
			t.Errorf("%s: bob got %s; want cy's private message", alias, lines(got))
		}
		c.cy.frames()
	}
	c.cy.say("/query bob")
	c.cy.expect(errorNotice("usage: /query NAME TEXT"))
}

// TestKeyTagTold: the welcome lists each member's key tag (as /whois shows
// it to everyone), and join and nick events carry it, so that a client
// can tell the same person under another name; a member without a key
// has none.
func TestKeyTagTold(t *testing.T) {
	tr := startRoom(t, Config{})
	ana := tr.join("ana")
	bob := tr.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:bobkey0123456789"})
	ana.expect(wire.Frame{Type: wire.TypeEvent, Seq: 2, Time: testTime, Kind: wire.KindJoin, Name: "bob", Role: wire.RoleMember, Key: "bobkey01"})
	if bob.welcome.You.Key != "bobkey01" {
		t.Errorf("bob's welcome says he is %+v; want his key tag bobkey01", *bob.welcome.You)
	}
	bob.say("/nick rob")
	ana.expect(wire.Frame{Type: wire.TypeEvent, Seq: 3, Time: testTime, Kind: wire.KindNick, Name: "bob", NewName: "rob", Key: "bobkey01"})
	bob.frames()
	ana.say("/nick anna")
	bob.expect(nickEvent(4, "ana", "anna"))
	ana.frames()
	cy := tr.join("cy")
	want := []wire.Member{{Name: "anna", Role: wire.RoleMember}, {Name: "rob", Role: wire.RoleMember, Key: "bobkey01"}, {Name: "cy", Role: wire.RoleMember}}
	if g, w := fmt.Sprint(cy.welcome.Members), fmt.Sprint(want); g != w {
		t.Errorf("cy's welcome lists %s; want %s", g, w)
	}
	bob.say("/whois rob")
	bob.expect(joinEvent(5, "cy", wire.RoleMember), notice("rob is a member, key bobkey01"))
}

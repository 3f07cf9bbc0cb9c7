package room

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

const (
	malKey = "SHA256:malkey0123456789"
	zoeKey = "SHA256:zoekey0123456789"
)

// sentAway checks that c was sent away with final, after whatever events
// came before it.
func (c *client) sentAway(final *wire.Frame) {
	c.tr.t.Helper()
	c.frames()
	c.expectFinal(final)
}

// kinds lists frames, one a line, for failure messages.
func kinds(frames []wire.Frame) string {
	var b strings.Builder
	for _, f := range frames {
		fmt.Fprintf(&b, "\n\t%s", encodeString(f))
	}
	return b.String()
}

// Attack: a member keeps a second connection with the same identity key
// under another name; when the first is banned, the second stayed and kept
// talking. A ban now sends out every connection of the banned key (and
// name) at once.
func TestBanEndsEveryConnectionOfTheKey(t *testing.T) {
	tr := startRoom(t, Config{})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	bob := tr.joinReq(JoinRequest{Name: "bob", Addr: "10.0.0.2", Admin: true})
	mal := tr.joinReq(JoinRequest{Name: "mal", Addr: "10.0.0.5", Identity: malKey})
	mal2 := tr.joinReq(JoinRequest{Name: "mal2", Addr: "10.0.0.6", Identity: malKey})
	cy := tr.joinReq(JoinRequest{Name: "cy", Addr: "10.0.0.3"})
	for _, m := range []*client{ana, bob, mal, mal2} {
		m.frames()
	}

	bob.say("/ban mal spam")
	mal.expectFinal(closedFrame(wire.CodeBanned, "bob", untilLifted+": spam"))
	mal2.sentAway(closedFrame(wire.CodeBanned, "bob", untilLifted+": spam"))
	seq := cy.welcome.Seq
	cy.expect(
		leaveEvent(seq+1, "mal", wire.CodeBanned, "bob", "spam"),
		leaveEvent(seq+2, "mal2", wire.CodeBanned, "bob", "spam"))
	bob.expect(
		leaveEvent(seq+1, "mal", wire.CodeBanned, "bob", "spam"),
		leaveEvent(seq+2, "mal2", wire.CodeBanned, "bob", "spam"),
		notice("banned mal until /unban: the name, the key "+wire.KeyTag(malKey)+" and the address 10.0.0.5; sent out too: mal2"),
		bansFrame("mal"))
	if got := tr.saves.calls; len(got) != 1 || got[0][0].Identity != malKey || got[0][0].Addr != "10.0.0.5" {
		t.Fatalf("SaveBans calls = %+v", got)
	}
	// The name, the key under any name and the address are kept out.
	for _, req := range []JoinRequest{
		{Name: "mal", Addr: "10.0.0.9"},
		{Name: "mal3", Addr: "10.0.0.9", Identity: malKey},
		{Name: "other", Addr: "10.0.0.5"},
	} {
		if r := tr.refused(req); r.Code != wire.CodeBanned {
			t.Errorf("Join(%+v) refused with %+v, want banned", req, r)
		}
	}

	// The admin cannot ban their own key by banning a second connection of
	// theirs, nor the owner's.
	bobKeyed := startRoom(t, Config{})
	boss := bobKeyed.joinReq(JoinRequest{Name: "boss", Owner: true, Identity: zoeKey})
	admin := bobKeyed.joinReq(JoinRequest{Name: "admin", Admin: true, Identity: eveKey})
	second := bobKeyed.joinReq(JoinRequest{Name: "admin2", Identity: eveKey})
	alt := bobKeyed.joinReq(JoinRequest{Name: "bossalt", Identity: zoeKey})
	admin.frames()
	second.frames()
	admin.say("/ban admin2")
	admin.expect(errorNotice("not allowed: that is your own key (" + wire.KeyTag(eveKey) + "); you cannot ban yourself"))
	admin.say("/ban bossalt")
	admin.expect(errorNotice("not allowed: boss is the room's host"))
	second.expectNothing()
	alt.expectNothing()
	boss.frames()
}

// Attack on the innocent: a ban by address locked out everyone else on it
// (a shared machine, a NAT, a classroom's terminal server), and the admin
// who banned someone on their own address locked themselves out. Now the
// address is banned only when no one else here shares it, or when the
// admin insists with --addr; and an admin, the owner or an op's key is
// never kept out by an address ban.
func TestBanSparesASharedAddress(t *testing.T) {
	tr := startRoom(t, Config{Ops: []Op{{Identity: joKey, Name: "jo"}}})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	bob := tr.joinReq(JoinRequest{Name: "bob", Addr: "10.0.0.2", Admin: true})
	mal := tr.joinReq(JoinRequest{Name: "mal", Addr: "10.0.0.7", Identity: malKey})
	zoe := tr.joinReq(JoinRequest{Name: "zoe", Addr: "10.0.0.7", Identity: zoeKey})
	ana.frames()
	bob.frames()
	zoe.frames()

	bob.say("/ban mal 1h trolling")
	mal.sentAway(closedFrame(wire.CodeBanned, "bob", "until 16:09: trolling"))
	zoe.expect(leaveEvent(mal.welcome.Seq+2, "mal", wire.CodeBanned, "bob", "trolling"))
	bob.expect(
		leaveEvent(mal.welcome.Seq+2, "mal", wire.CodeBanned, "bob", "trolling"),
		notice("banned mal until 16:09: the name and the key "+wire.KeyTag(malKey)+
			"; not the address 10.0.0.7, which zoe shares (/ban mal --addr bans it too)"),
		bansFrame("mal"))
	if b := tr.saves.calls[0][0]; b.Addr != "" {
		t.Fatalf("the shared address was banned: %+v", b)
	}
	// Someone else behind the same address still gets in.
	tr.r.Leave(tr.joinReq(JoinRequest{Name: "newcomer", Addr: "10.0.0.7"}).m, wire.CodeLeft)
	if r := tr.refused(JoinRequest{Name: "mal", Addr: "10.0.0.8"}); r.Code != wire.CodeBanned || r.Text != "you are banned from this room until 16:09 (trolling)" {
		t.Fatalf("mal's later refusal: %+v", r)
	}
	bob.frames()
	zoe.frames()

	// The admin insists: the address is added to mal's ban, and whoever is
	// behind it, but admins, is sent out.
	bob.say("/ban mal --addr")
	zoe.expectFinal(closedFrame(wire.CodeBanned, "bob", "until 16:09: trolling"))
	got := bob.frames()
	if len(got) != 2 || got[0].Kind != wire.KindLeave || got[0].Name != "zoe" ||
		got[1].Text != "banned the address 10.0.0.7 too, with mal until 16:09; sent out too: zoe" {
		t.Fatalf("bob got %s", kinds(got))
	}
	if last := tr.saves.calls[len(tr.saves.calls)-1]; len(last) != 1 || last[0].Addr != "10.0.0.7" || last[0].Identity != malKey {
		t.Fatalf("bans saved after --addr: %+v", last)
	}
	if r := tr.refused(JoinRequest{Name: "anyone", Addr: "10.0.0.7"}); r.Code != wire.CodeBanned {
		t.Fatalf("the banned address let in a member: %+v", r)
	}
	// An admin by password, and a key made an admin with /op, are not kept
	// out by the address ban; the owner never is.
	tr.joinReq(JoinRequest{Name: "dee", Addr: "10.0.0.7", Admin: true})
	tr.joinReq(JoinRequest{Name: "jo", Addr: "10.0.0.7", Identity: joKey})
	tr.joinReq(JoinRequest{Name: "host2", Addr: "10.0.0.7", Owner: true})

	// The admin who bans someone on its own address: the address is not
	// banned unless asked, and even then the admin is never shut out.
	tr2 := startRoom(t, Config{})
	adm := tr2.joinReq(JoinRequest{Name: "adm", Addr: "10.0.0.9", Admin: true})
	pest := tr2.joinReq(JoinRequest{Name: "pest", Addr: "10.0.0.9"})
	adm.frames()
	adm.say("/ban pest")
	pest.expectFinal(closedFrame(wire.CodeBanned, "adm", untilLifted))
	if got := adm.frames(); len(got) != 3 || got[1].Text != "banned pest until /unban: the name only; not the address 10.0.0.9, which adm shares (/ban pest --addr bans it too)" {
		t.Fatalf("adm got %s", kinds(got))
	}
	adm.say("/ban pest --addr")
	if got := adm.frames(); len(got) != 1 || got[0].Text != "banned the address 10.0.0.9 too, with pest until /unban" {
		t.Fatalf("adm got %s", kinds(got))
	}
	adm.expectNothing() // still here
	adm.say("/quit")
	adm.frames()
	adm = tr2.joinReq(JoinRequest{Name: "adm", Addr: "10.0.0.9", Admin: true})
	if r := tr2.refused(JoinRequest{Name: "pest2", Addr: "10.0.0.9"}); r.Code != wire.CodeBanned {
		t.Fatalf("a stranger from the banned address: %+v", r)
	}

	adm.say("/ban --addr pest2")
	adm.expect(errorNotice("usage: /ban NAME [--addr] [DURATION] [REASON] (--addr comes after the name)"))

	// --addr before anyone shares the address is a plain ban with it.
	tr3 := startRoom(t, Config{})
	a3 := tr3.joinReq(JoinRequest{Name: "a3", Admin: true, Addr: "10.0.1.1"})
	v3 := tr3.joinReq(JoinRequest{Name: "v3", Addr: "10.0.1.2"})
	w3 := tr3.joinReq(JoinRequest{Name: "w3", Addr: "10.0.1.2"})
	a3.frames()
	a3.say("/ban v3 --addr 2d flood")
	v3.sentAway(closedFrame(wire.CodeBanned, "a3", "until Sun 15:09: flood"))
	w3.sentAway(closedFrame(wire.CodeBanned, "a3", "until Sun 15:09: flood"))
	if got := a3.frames(); len(got) != 4 || got[2].Text != "banned v3 until Sun 15:09: the name and the address 10.0.1.2; sent out too: w3" {
		t.Fatalf("a3 got %s", kinds(got))
	}
}

// Attack (or slip): "/ban mal 1w", "/ban mal 10", "/mute mal -5m" made
// permanent sanctions with the word in the reason. Valid durations hold
// until the time the confirmation says, others are refused with one line
// and nothing is done.
func TestBanAndMuteDurations(t *testing.T) {
	for _, tt := range []struct {
		args    string
		expires time.Duration // 0: until /unban
		reason  string
		held    string
	}{
		{"1w", 7 * 24 * time.Hour, "", "until 2025-03-21 15:09"},
		{"2d12h flooding", 60 * time.Hour, "flooding", "until Mon 03:09"},
		{"1h30m", 90 * time.Minute, "", "until 16:39"},
		{"45s a b", 45 * time.Second, "a b", "until 15:10"},
		{"spam 10", 0, "spam 10", "until /unban"},
		{"", 0, "", "until /unban"},
	} {
		t.Run("ban "+tt.args, func(t *testing.T) {
			c := newCast(t, Config{})
			c.bob.say("/ban cy " + tt.args)
			want := Ban{Name: "cy", Addr: "10.0.0.3", By: "bob", Reason: tt.reason, Time: testTime}
			if tt.expires != 0 {
				want.Expires = testTime.Add(tt.expires)
			}
			c.tr.sync()
			if got := c.tr.saves.calls; len(got) != 1 || len(got[0]) != 1 || got[0][0] != want {
				t.Fatalf("saved %+v, want %+v", got, want)
			}
			closed := strings.TrimSuffix(untilLifted+": "+tt.reason, ": ")
			if tt.expires != 0 {
				closed = strings.TrimSuffix(tt.held+": "+tt.reason, ": ")
			}
			c.cy.expectFinal(closedFrame(wire.CodeBanned, "bob", closed))
			if got := c.bob.frames(); len(got) != 3 || got[1].Text != "banned cy "+tt.held+": the name and the address 10.0.0.3" {
				t.Fatalf("bob got %s", kinds(got))
			}
		})
		t.Run("mute "+tt.args, func(t *testing.T) {
			c := newCast(t, Config{})
			c.bob.say("/mute cy " + tt.args)
			c.bob.expect(notice("muted cy " + strings.ReplaceAll(tt.held, "/unban", "/unmute")))
			toCy := "bob muted you until an admin lifts it: you can read, not speak"
			if tt.expires != 0 {
				toCy = "bob muted you " + tt.held + ": you can read, not speak"
			}
			c.cy.expect(notice(withReason(toCy, tt.reason)))
		})
	}
	for _, bad := range []string{"1x", "10", "0m", "-5m", "+5m", "1.5h", "53w", "30m1h", "3days"} {
		t.Run("refused "+bad, func(t *testing.T) {
			c := newCast(t, Config{})
			c.bob.say("/ban cy " + bad + " for spam")
			_, err := parseDuration(bad)
			c.bob.expect(errorNotice("not banned: " + err.Error()))
			c.bob.say("/mute cy " + bad)
			c.bob.expect(errorNotice("not muted: " + err.Error()))
			c.cy.expectNothing()
			if calls := c.tr.saves.calls; len(calls) != 0 {
				t.Fatalf("SaveBans called with %+v", calls)
			}
			c.bob.say("/modlog")
			c.bob.expect(notice("the moderation log is empty"))
		})
	}
}

// Attack: a member drops its connection just before the admin's /ban, which
// then banned only the name: the same key came straight back under another.
// A member who left lately is still known by name, with its key and address.
func TestBanMemberWhoJustLeft(t *testing.T) {
	clk := &clock{now: testTime}
	// Hundreds join and leave at a standing clock: the join limits are
	// another test's (flood_test.go).
	tr := startRoom(t, Config{Now: clk.Now, JoinLimits: unlimitedJoins})
	bob := tr.joinReq(JoinRequest{Name: "bob", Addr: "10.0.0.2", Admin: true})
	mal := tr.joinReq(JoinRequest{Name: "mal", Addr: "10.0.0.5", Identity: malKey})
	mal2 := tr.joinReq(JoinRequest{Name: "mal2", Addr: "10.0.0.6", Identity: malKey})
	tr.r.Leave(mal.m, wire.CodeLost)
	bob.frames()
	clk.advance(2 * time.Minute)

	bob.say("/ban MAL spam")
	mal2.sentAway(closedFrame(wire.CodeBanned, "bob", untilLifted+": spam"))
	got := bob.frames()
	if len(got) != 3 || got[1].Text != "mal left 2 minutes ago: banned the name, the key "+wire.KeyTag(malKey)+" and the address 10.0.0.5 until /unban; sent out too: mal2" {
		t.Fatalf("bob got %s", kinds(got))
	}
	if r := tr.refused(JoinRequest{Name: "newname", Addr: "10.0.0.99", Identity: malKey}); r.Code != wire.CodeBanned {
		t.Fatalf("mal's key under a new name: %+v", r)
	}

	// The room forgets after half an hour, and past recentKept members.
	eve := tr.joinReq(JoinRequest{Name: "eve", Addr: "10.0.0.8", Identity: eveKey})
	eve.say("/quit")
	bob.frames()
	clk.advance(recentFor + time.Second)
	bob.say("/ban eve")
	if got := bob.frames(); len(got) != 2 || got[0].Text != "eve is not here: banned the name only, until /unban" {
		t.Fatalf("bob got %s", kinds(got))
	}
	jo := tr.joinReq(JoinRequest{Name: "jo", Addr: "10.0.0.9", Identity: joKey})
	jo.say("/quit")
	for i := range recentKept {
		tr.r.Leave(tr.joinReq(JoinRequest{Name: fmt.Sprintf("p%d", i)}).m, wire.CodeLeft)
	}
	bob.frames()
	bob.say("/ban jo")
	if got := bob.frames(); len(got) != 2 || got[0].Text != "jo is not here: banned the name only, until /unban" {
		t.Fatalf("bob got %s", kinds(got))
	}
	tr.joinReq(JoinRequest{Name: "jo2", Addr: "10.0.0.9", Identity: joKey})
}

// Attack: a muted member reconnects again and again under names it picks
// ("buy-at-evil.example", ...): every join and leave put its words on
// everyone's screen (400 lines in 0.3 s). A member who is muted when it
// joins now joins and leaves unseen by the others, until it may speak.
func TestMutedMemberJoinsUnseen(t *testing.T) {
	// The join limits alone would stop this flood after five joins with
	// one key (flood_test.go); this test is about what the joins show.
	tr := startRoom(t, Config{JoinLimits: unlimitedJoins, Mutes: []Mute{{Name: "mal", Identity: malKey, By: "ana", Time: testTime}}})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	cy := tr.joinReq(JoinRequest{Name: "cy", Addr: "10.0.0.3"})
	ana.frames()

	cy.say("the latest line")
	ana.frames()
	cy.frames()
	seq := cy.welcome.Seq + 1
	for i := range 100 {
		m := tr.joinReq(JoinRequest{Name: fmt.Sprintf("buy-now-%d.example", i), Addr: "10.0.0.5", Identity: malKey})
		if m.welcome.Seq != seq || len(m.welcome.Members) != 2 {
			t.Fatalf("hidden joiner's welcome: seq %d (want %d), members %+v", m.welcome.Seq, seq, m.welcome.Members)
		}
		// What follows the welcome is numbered below it, as for anyone.
		for _, f := range m.replay {
			if f.Seq >= m.welcome.Seq {
				t.Fatalf("hidden joiner's replay holds %s", encodeString(f))
			}
		}
		if i%2 == 0 {
			tr.r.Leave(m.m, wire.CodeLost)
		} else {
			m.say("/quit")
		}
	}
	mal := tr.joinReq(JoinRequest{Name: "mal", Addr: "10.0.0.5", Identity: malKey})
	cy.expectNothing()
	ana.expectNothing()

	// The others' roster does not hold it: not in /who, nor in a newcomer's
	// welcome; admins are told in /who.
	cy.say("/who")
	cy.expect(notice("2 here: ana (host), cy"))
	ana.say("/who")
	ana.expect(notice("2 here: ana (host), cy; and 1 muted, whom only admins see: mal"))
	mal.say("/who")
	mal.expect(notice("3 here: ana (host), cy, mal"))
	// Nor can a member find it by writing to it, which would also let
	// anyone write to the muted (an admin may).
	cy.say("/msg mal are you there?")
	cy.expect(errorNotice(noSuchMember("mal").Error()))
	mal.expectNothing()
	dee := tr.joinReq(JoinRequest{Name: "dee"})
	if len(dee.welcome.Members) != 3 || dee.welcome.Seq != seq+1 {
		t.Fatalf("dee's welcome: %+v", dee.welcome)
	}
	// The hidden member's event stream has no gap: it gets dee's join
	// as the event after its welcome.
	mal.expect(joinEvent(seq+1, "dee", wire.RoleMember))
	ana.frames()
	cy.frames()

	// It may appeal to an admin, and write to no one else.
	mal.say("/msg ana please")
	if got := ana.frames(); len(got) != 1 || got[0].Type != wire.TypePrivate || got[0].Text != "please" {
		t.Fatalf("ana got %s", kinds(got))
	}
	mal.frames()
	mal.say("/msg cy buy now")
	mal.expect(errorNotice("not sent: you are muted until an admin lifts it"))
	mal.say("/me buys")
	mal.expect(errorNotice("not sent: you are muted until an admin lifts it"))
	cy.expectNothing()

	// Kicked or banned unseen: the others are told nothing.
	mal.say("/quit")
	mal2 := tr.joinReq(JoinRequest{Name: "mal2", Identity: malKey})
	ana.say("/kick mal2")
	mal2.expectFinal(closedFrame(wire.CodeKicked, "ana", ""))
	ana.expect(notice("kicked mal2, whom the others did not see: muted"))
	cy.expectNothing()
	dee.expectNothing()

	// Unmuted, it is shown to everyone, with a join event, and speaks.
	mal3 := tr.joinReq(JoinRequest{Name: "mal3", Identity: malKey})
	ana.say("/unmute mal3")
	join := joinEvent(seq+2, "mal3", wire.RoleMember)
	join.Key = wire.KeyTag(malKey)
	cy.expect(join)
	mal3.expect(notice("ana unmuted you: you can speak again"), join)
	mal3.say("thanks")
	for _, m := range []*client{ana, cy, dee} {
		m.frames()
	}
	cy.say("/who")
	cy.expect(notice("4 here: ana (host), cy, dee, mal3"))
	mal3.say("/quit")
	cy.expect(leaveEvent(seq+4, "mal3", wire.CodeLeft, "", ""))
}

// A member muted while here was seen to join, so its leave is shown (the
// others' roster must lose it); it comes back unseen.
func TestMutedWhileHereLeavesSeen(t *testing.T) {
	c := newCast(t, Config{})
	c.bob.say("/mute cy")
	c.bob.frames()
	c.cy.frames()
	c.cy.say("/quit")
	for _, m := range c.others("cy") {
		m.expect(leaveEvent(5, "cy", wire.CodeLeft, "", ""))
	}
	back := c.tr.joinReq(JoinRequest{Name: "cy", Addr: "10.0.0.3"})
	if back.welcome.Seq != 5 {
		t.Fatalf("cy's welcome seq = %d, want 5 (no join event)", back.welcome.Seq)
	}
	for _, m := range c.others("cy") {
		m.expectNothing()
	}
	// /op shows it before its role changes.
	c.bob.say("/op cy")
	for _, m := range []*client{c.ana, c.dee} {
		m.expect(joinEvent(6, "cy", wire.RoleMember), roleEvent(7, "cy", wire.RoleAdmin, "bob"))
	}
}

// modEntrySaver is a Store's SaveModEntry that records, when each entry is
// saved, what the admin and the target had been handed by then.
type modEntrySaver struct {
	err                 error
	admin, target       *Member
	entries             []ModEntry
	adminQueued         []int  // the admin's outbox length at each save
	targetOut, targetIn []bool // whether the target had been sent out
}

func (s *modEntrySaver) save(e ModEntry) error {
	s.entries = append(s.entries, e)
	s.adminQueued = append(s.adminQueued, s.admin.Out().Len())
	s.targetOut = append(s.targetOut, s.target.gone)
	return s.err
}

// Attack (a crash at the wrong time): the moderation log was appended after
// the act was confirmed, so kill -9 right after a kick, op or mute lost its
// entry. Each entry is now saved before the act is done or confirmed, and
// when it cannot be saved the act is not done.
func TestModLogSavedBeforeConfirmation(t *testing.T) {
	for _, tt := range []struct {
		line, action string
	}{
		{"/kick cy spam", "kick"},
		{"/ban cy spam", "ban"},
		{"/ban zed", "ban"},
		{"/mute cy", "mute"},
		{"/op cy", "op"},
		{"/deop dee", "deop"},
		{"/unban eve", "unban"},
		{"/unmute yan", "unmute"},
	} {
		t.Run(tt.line, func(t *testing.T) {
			saver := &modEntrySaver{}
			c := newCast(t, Config{Store: testStore{modEntry: saver.save},
				Bans:  []Ban{{Name: "eve"}},
				Mutes: []Mute{{Name: "yan"}}})
			saver.admin, saver.target = c.bob.m, c.cy.m
			c.bob.say(tt.line)
			frames := c.bob.frames()
			if len(saver.entries) != 1 || saver.entries[0].Action != tt.action {
				t.Fatalf("entries saved: %+v", saver.entries)
			}
			if saver.adminQueued[0] != 0 || saver.targetOut[0] {
				t.Fatalf("the entry was saved after the act: the admin had %d frames queued, the target out %v",
					saver.adminQueued[0], saver.targetOut[0])
			}
			if len(frames) == 0 {
				t.Fatalf("%s: nothing confirmed", tt.line)
			}
			for _, f := range frames {
				if f.Error {
					t.Fatalf("%s: %s", tt.line, kinds(frames))
				}
			}
		})
		t.Run(tt.line+" not saved", func(t *testing.T) {
			saver := &modEntrySaver{err: errors.New("disk full")}
			var mutesSaved, opsSaved int
			c := newCast(t, Config{
				Store: testStore{
					modEntry: saver.save,
					mutes:    func([]Mute) error { mutesSaved++; return nil },
					ops:      func([]Op) error { opsSaved++; return nil },
				},
				Bans:  []Ban{{Name: "eve"}},
				Mutes: []Mute{{Name: "yan"}}})
			saver.admin, saver.target = c.bob.m, c.cy.m
			c.bob.say(tt.line)
			c.bob.expect(errorNotice(tt.action + " not saved: disk full"))
			for _, m := range c.others("bob") {
				m.expectNothing()
			}
			if n := len(c.tr.saves.calls); n != 0 || mutesSaved != 0 || opsSaved != 0 {
				t.Fatalf("lists saved though the log was not: bans %d, mutes %d, ops %d", n, mutesSaved, opsSaved)
			}
			c.bob.say("/modlog")
			c.bob.expect(notice("the moderation log is empty"))
		})
	}
}

// checkFrames checks that each frame is under the room's notice bound and
// reads back whole with the client's limit, and returns their texts.
func checkFrames(t *testing.T, what string, frames [][]byte) []string {
	t.Helper()
	var texts []string
	for _, b := range frames {
		if len(b) > maxNotice || len(b) > wire.MaxHostFrame {
			t.Fatalf("%s: a frame of %d bytes (bound %d, client's limit %d)", what, len(b), maxNotice, wire.MaxHostFrame)
		}
		f, err := wire.NewDecoder(bytes.NewReader(b), wire.MaxHostFrame).Decode()
		if err != nil {
			t.Fatalf("%s: a client cannot read a frame: %v", what, err)
		}
		texts = append(texts, f.Text)
	}
	return texts
}

// takeAll returns the encoded frames queued for c.
func takeAll(c *client) [][]byte {
	c.tr.sync()
	var all [][]byte
	for {
		b, ok := c.next()
		if !ok {
			return all
		}
		all = append(all, b)
	}
}

// Attack: an admin plants 200 bans with 4,000-byte reasons; the owner's own
// /bans, or /modlog, was then one frame over the client's 1 MiB limit, so
// the owner's client exited and the room closed for everyone. Reasons are
// now bounded, lists paged, and every notice split into frames a client
// reads, even for lists loaded from files that hold such reasons.
func TestLongListsArriveInFramesClientsRead(t *testing.T) {
	tr := startRoom(t, Config{})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	bob := tr.joinReq(JoinRequest{Name: "bob", Admin: true})
	ana.frames()
	long := strings.Repeat(`"`, wire.MaxText-40) // JSON doubles each
	for i := range 200 {
		bob.say(fmt.Sprintf("/ban user%d %s", i, long))
	}
	for i, f := range bob.frames() {
		if !f.Error || !strings.HasPrefix(f.Text, "not banned: the reason is ") {
			t.Fatalf("ban %d of a long reason answered with %+v", i, f)
		}
	}
	if len(tr.saves.calls) != 0 {
		t.Fatalf("%d bans with long reasons saved", len(tr.saves.calls))
	}
	bob.say("/kick ana " + long)
	bob.say("/mute ana " + long)
	bob.expect(errorNotice("not allowed: ana is the room's host"), errorNotice("not allowed: ana is the room's host"))

	// The most an admin can plant now: 200-character reasons of the
	// characters JSON makes longest, on names of them too.
	worst := strings.Repeat(`"`, maxReason)
	for i := range 200 {
		bob.say(fmt.Sprintf(`/ban user%d 52w %s`, i, worst))
	}
	bob.frames()
	// And what files may hold: lists and a log written before reasons
	// were bounded, or by hand.
	var bans []Ban
	var log []ModEntry
	for i := range 300 {
		name := fmt.Sprintf("%s%d", strings.Repeat(`"`, 20), i)
		bans = append(bans, Ban{Name: name, Addr: strings.Repeat("9", 4000), Identity: malKey, By: strings.Repeat(`"`, 4000), Reason: long, Time: testTime})
		log = append(log, ModEntry{Time: testTime, Action: "ban", By: strings.Repeat(`\`, 4000), Target: name, Reason: long})
	}
	loaded := startRoom(t, Config{Bans: bans, ModLog: log, Mutes: []Mute{{Name: "x", Reason: strings.Repeat(`"`, 1<<20)}}})
	owner := loaded.joinReq(JoinRequest{Name: "ana", Owner: true})

	for _, room := range []struct {
		tr    *testRoom
		owner *client
		bans  int
	}{{tr, ana, 200}, {loaded, owner, 300}} {
		room.owner.frames()
		var listed int
		for page := 1; page <= (room.bans+listPageSize-1)/listPageSize; page++ {
			room.owner.say(fmt.Sprintf("/bans %d", page))
			// Lines below the page's header.
			listed += strings.Count(strings.Join(checkFrames(t, "/bans", takeAll(room.owner)), "\n"), "\n")
		}
		if listed != room.bans {
			t.Errorf("/bans listed %d lines below their headers, want %d", listed, room.bans)
		}
		room.owner.say("/modlog 200")
		if texts := checkFrames(t, "/modlog", takeAll(room.owner)); strings.Count(strings.Join(texts, "\n"), "\n")+1 != 200 {
			t.Errorf("/modlog 200 gave %d lines", strings.Count(strings.Join(texts, "\n"), "\n")+1)
		}
		room.owner.say("/mutes")
		checkFrames(t, "/mutes", takeAll(room.owner))
	}
}

// A notice that alone would be over the bound, in a full room of the
// longest names JSON makes longest: /who and /help at 10,000 members, and
// the split keeps every name whole and the answer's ref on every part.
func TestWhoAndHelpAtFullRoom(t *testing.T) {
	for _, char := range []string{"<", `"`, "é"} {
		s := newState(Config{Now: func() time.Time { return testTime }})
		var owner *Member
		for i := range 10_000 {
			name := strings.Repeat(char, 24-5) + fmt.Sprintf("%05d", i)
			m := &Member{name: name, key: NameKey(name), out: newOutbox(1 << 20), role: wire.RoleMember}
			if i == 0 {
				m.role = wire.RoleOwner
				owner = m
			}
			s.addMember(m)
		}
		for _, line := range []string{"/who", "/help"} {
			s.say(owner, line, 77)
			frames, _ := owner.out.Take()
			texts := checkFrames(t, char+" "+line, frames)
			whole := strings.Join(texts, "\n")
			for _, b := range frames {
				if f, _ := wire.Parse(b); f.Ref != 77 || f.Type != wire.TypeNotice {
					t.Fatalf("%s: part %+v", line, f)
				}
			}
			if line == "/who" {
				if len(frames) < 2 {
					t.Fatalf("/who of 10,000 came in %d frames", len(frames))
				}
				// Every name whole, in one part or another: parts end
				// between names.
				listed := make(map[string]bool)
				for _, text := range texts {
					for _, name := range strings.Split(strings.TrimPrefix(text, "10000 here: "), ", ") {
						listed[strings.TrimSuffix(strings.TrimSpace(name), " (host)")] = true
					}
				}
				for i := range 10_000 {
					if name := strings.Repeat(char, 24-5) + fmt.Sprintf("%05d", i); !listed[name] {
						t.Fatalf("/who lost %s across its parts", name)
					}
				}
				if !strings.HasPrefix(whole, "10000 here: ") {
					t.Fatalf("/who starts %q", whole[:40])
				}
			}
		}
	}
}

// splitText keeps every byte but the newlines and spaces it splits at,
// and every part fits.
func TestSplitText(t *testing.T) {
	for _, text := range []string{
		strings.Repeat("a", 1000),
		strings.Repeat("word ", 300),
		strings.Repeat("line\n", 300),
		strings.Repeat(`"\`, 300),
		strings.Repeat("é", 500) + "\n\n" + strings.Repeat("x ", 100),
	} {
		parts := splitText(text, 100)
		for _, p := range parts {
			if jsonSize(p) > 100 || p == "" {
				t.Fatalf("part %q of size %d", p, jsonSize(p))
			}
		}
		strip := func(s string) string { return strings.NewReplacer("\n", "", " ", "").Replace(s) }
		if strip(strings.Join(parts, "")) != strip(text) {
			t.Fatalf("split of %q lost text: %q", text[:20], parts)
		}
	}
}

// Attack: an admin plants tens of thousands of bans (two lines a second for
// a few hours); every change then sent each admin a bans frame with all
// their names, past what a client reads. The names sent for completion are
// the latest, within a bound.
func TestBansFrameBounded(t *testing.T) {
	var bans []Ban
	for i := range 20_000 {
		bans = append(bans, Ban{Name: fmt.Sprintf("u%023d", i)})
	}
	c := newCast(t, Config{Bans: bans})
	c.bob.say("/ban zed")
	frames := takeAll(c.bob)
	if len(frames) != 2 {
		t.Fatalf("bob got %d frames", len(frames))
	}
	b := frames[1]
	f := parse(t, b)
	if len(b) > maxNotice || f.Type != wire.TypeBans || f.Bans[len(f.Bans)-1] != "zed" || len(f.Bans) < 1000 {
		t.Fatalf("bans frame of %d bytes, %d names, ending %q", len(b), len(f.Bans), f.Bans[len(f.Bans)-1])
	}
}

// Long lists come a page at a time, each page saying how to get the next.
func TestBansPages(t *testing.T) {
	var bans []Ban
	for i := range 120 {
		bans = append(bans, Ban{Name: fmt.Sprintf("u%03d", i), By: "ana", Time: testTime})
	}
	c := newCast(t, Config{Bans: bans})
	for _, tt := range []struct {
		line, first, last string
	}{
		{"/bans", "120 banned, page 1 of 3 (/bans 2 for the next):", "u049, by ana on 2025-03-14 15:09"},
		{"/bans 2", "120 banned, page 2 of 3 (/bans 3 for the next):", "u099, by ana on 2025-03-14 15:09"},
		{"/bans 3", "120 banned, page 3 of 3:", "u119, by ana on 2025-03-14 15:09"},
	} {
		c.bob.say(tt.line)
		got := c.bob.frames()
		if len(got) != 1 {
			t.Fatalf("%s: %s", tt.line, kinds(got))
		}
		lines := strings.Split(got[0].Text, "\n")
		if lines[0] != tt.first || lines[len(lines)-1] != tt.last || len(lines) > listPageSize+1 {
			t.Errorf("%s: %d lines, from %q to %q", tt.line, len(lines), lines[0], lines[len(lines)-1])
		}
	}
	c.bob.say("/bans 4")
	c.bob.expect(errorNotice("there is no page 4: the list has 3 pages"))
	c.bob.say("/bans two")
	c.bob.expect(errorNotice("usage: /bans [PAGE]"))
	c.bob.say("/mutes")
	c.bob.expect(notice("no one is muted"))
}

// However a long notice falls, no part is over the bound: one line just
// over it, of the characters JSON makes longest.
func TestNoticePartsFit(t *testing.T) {
	for _, n := range []int{maxNotice / 2, maxNotice/2 - 1, maxNotice/2 - 20, maxNotice, 3 * maxNotice} {
		s := newState(Config{Now: func() time.Time { return testTime }})
		m := &Member{name: "ana", key: "ana", out: newOutbox(1 << 10), role: wire.RoleOwner}
		s.addMember(m)
		s.notify(m, 0, strings.Repeat(`"`, n))
		s.notifyError(m, 0, strings.Repeat(`"`, n-1)+"\n"+strings.Repeat("x", n))
		frames, _ := m.out.Take()
		checkFrames(t, fmt.Sprint(n), frames)
	}
}

// Attack: a muted member drops its key. Mal, muted, quits and joins again
// from the same address with no key under a new name ("buy-at-evil"): a
// key costs nothing, and a mute that held only the name and the key let it
// talk. A mute holds the address too, by the rule of an address ban: only
// when no one else here shares it, and never against an admin or the
// owner.
func TestMuteHoldsAgainstTheAddress(t *testing.T) {
	var saved [][]Mute
	tr := startRoom(t, Config{JoinLimits: unlimitedJoins, Ops: []Op{{Identity: joKey, Name: "jo"}},
		Store: testStore{mutes: func(m []Mute) error { saved = append(saved, slices.Clone(m)); return nil }}})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	bob := tr.joinReq(JoinRequest{Name: "bob", Addr: "10.0.0.2", Admin: true})
	cy := tr.joinReq(JoinRequest{Name: "cy", Addr: "10.0.0.3"})
	mal := tr.joinReq(JoinRequest{Name: "mal", Addr: "10.0.0.7", Identity: malKey})
	for _, m := range []*client{ana, bob, cy} {
		m.frames()
	}

	bob.say("/mute mal")
	bob.expect(notice("muted mal until /unmute"))
	tr.sync()
	if len(saved) != 1 || len(saved[0]) != 1 || saved[0][0].Addr != "10.0.0.7" {
		t.Fatalf("mutes saved: %+v; want mal's with the address 10.0.0.7", saved)
	}
	mal.say("/quit")
	cy.frames()
	bob.frames()

	evil := tr.joinReq(JoinRequest{Name: "buy-at-evil", Addr: "10.0.0.7"})
	evil.say("buy now at evil.example")
	evil.expect(errorNotice("not sent: you are muted until an admin lifts it"))
	evil.say("/me sells")
	evil.expect(errorNotice("not sent: you are muted until an admin lifts it"))
	cy.expectNothing() // nor its join
	bob.say("/mutes")
	if got := bob.frames(); len(got) != 1 || !strings.HasPrefix(got[0].Text, "1 muted:") || !strings.Contains(got[0].Text, "mal (10.0.0.7) key "+wire.KeyTag(malKey)) {
		t.Fatalf("/mutes: %s; want mal with its address and key", kinds(got))
	}

	// An admin by password, a key made an admin with /op and the owner
	// are not muted by the address.
	for _, req := range []JoinRequest{
		{Name: "dee", Addr: "10.0.0.7", Admin: true},
		{Name: "jo", Addr: "10.0.0.7", Identity: joKey},
		{Name: "host2", Addr: "10.0.0.7", Owner: true},
	} {
		m := tr.joinReq(req)
		cy.frames()
		m.frames()
		m.say("hello from " + req.Name)
		if got := cy.frames(); len(got) != 1 || got[0].From != req.Name {
			t.Fatalf("cy got %s after %s spoke from the muted address; want its line", kinds(got), req.Name)
		}
		m.frames()
	}

	// /unmute of the one the address catches lifts the mute.
	bob.frames()
	bob.say("/unmute buy-at-evil")
	if got := bob.frames(); len(got) != 2 || got[0].Kind != wire.KindJoin || got[1].Text != "unmuted buy-at-evil" {
		t.Fatalf("bob got %s; want buy-at-evil shown and the unmute confirmed", kinds(got))
	}
	evil.frames()
	evil.say("sorry")
	if got := cy.frames(); len(got) == 0 || got[len(got)-1].Text != "sorry" {
		t.Fatalf("cy got %s; want the unmuted member's line", kinds(got))
	}

	// A shared address is not muted, and the admin is told who shares it.
	zoe := tr.joinReq(JoinRequest{Name: "zoe", Addr: "10.0.0.8", Identity: zoeKey})
	pest := tr.joinReq(JoinRequest{Name: "pest", Addr: "10.0.0.8"})
	bob.frames()
	bob.say("/mute pest")
	bob.expect(notice("muted pest until /unmute; not the address 10.0.0.8, which zoe shares (/mute pest --addr mutes it too)"))
	pest.frames()
	zoe.frames()
	cy.frames()
	zoe.say("still here")
	if got := cy.frames(); len(got) != 1 || got[0].Text != "still here" {
		t.Fatalf("cy got %s; want zoe's line from the shared address", kinds(got))
	}
	newcomer := tr.joinReq(JoinRequest{Name: "newcomer", Addr: "10.0.0.8"})
	cy.frames()
	newcomer.say("hi")
	if got := cy.frames(); len(got) != 1 || got[0].Text != "hi" {
		t.Fatalf("cy got %s; want a newcomer's line from the shared address", kinds(got))
	}

	// --addr mutes the shared address anyway (a classroom's terminal
	// server that only spams): everyone on it who is not an admin.
	bob.frames()
	bob.say("/mute --addr pest")
	bob.expect(errorNotice("usage: /mute NAME [--addr] [DURATION] [REASON] (--addr comes after the name)"))
	bob.say("/unmute pest")
	bob.frames()
	bob.say("/mute pest --addr 1h flood")
	if got := bob.frames(); len(got) == 0 || !strings.Contains(got[0].Text, "muted pest until") || !strings.HasSuffix(got[0].Text, "; the address 10.0.0.8 too, which zoe and newcomer share") {
		t.Fatalf("bob got %s; want the mute of the shared address confirmed", kinds(got))
	}
	cy.frames()
	zoe.frames()
	newcomer.frames()
	zoe.say("muted too")
	newcomer.say("and me")
	if got := cy.frames(); len(got) != 0 {
		t.Fatalf("cy got %s from the muted address", kinds(got))
	}
}

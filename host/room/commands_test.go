package room

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// cast is a room with one member of each role:
//
//	ana  owner, in-process (no address)
//	bob  admin, 10.0.0.2
//	cy   member, 10.0.0.3
//	dee  admin, 10.0.0.4
//
// with their joins (events 1 to 4) read.
type cast struct {
	tr                *testRoom
	ana, bob, cy, dee *client
}

func newCast(t *testing.T, cfg Config) *cast {
	t.Helper()
	tr := startRoom(t, cfg)
	c := &cast{tr: tr}
	c.ana = tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	c.bob = tr.joinReq(JoinRequest{Name: "bob", Addr: "10.0.0.2", Admin: true})
	c.cy = tr.joinReq(JoinRequest{Name: "cy", Addr: "10.0.0.3"})
	c.dee = tr.joinReq(JoinRequest{Name: "dee", Addr: "10.0.0.4", Admin: true})
	for _, m := range c.all() {
		m.frames()
	}
	return c
}

func (c *cast) all() []*client { return []*client{c.ana, c.bob, c.cy, c.dee} }

// isAdmin reports whether m is an admin as the cast starts.
func (c *cast) isAdmin(m *client) bool { return m != c.cy }

func bansFrame(names ...string) wire.Frame {
	return wire.Frame{Type: wire.TypeBans, Bans: names}
}

func (c *cast) byName(name string) *client {
	for _, m := range c.all() {
		if m.m.name == name {
			return m
		}
	}
	panic("no one in the cast is called " + name)
}

// others returns the cast but the named.
func (c *cast) others(names ...string) []*client {
	var list []*client
	for _, m := range c.all() {
		if !slices.Contains(names, m.m.name) {
			list = append(list, m)
		}
	}
	return list
}

// TestCommandRefused covers every refusal: the caller gets exactly one
// error notice, and nothing else happens to anyone.
func TestCommandRefused(t *testing.T) {
	const rule = ": names are 1 to 24 letters, digits or ASCII punctuation, with no spaces"
	tests := []struct {
		caller string
		line   string
		want   string
	}{
		{"cy", "/foo", `unknown command "/foo"; /help lists the commands`},
		{"cy", "/FOO bar", `unknown command "/FOO"; /help lists the commands`},
		{"cy", "/", `unknown command "/"; /help lists the commands`},
		{"cy", "/ who", `unknown command "/"; /help lists the commands`},
		{"bob", "/kik cy", `unknown command "/kik"; /help lists the commands`},

		{"cy", "/kick bob", "not allowed: /kick is for admins"},
		{"cy", "/KICK bob", "not allowed: /kick is for admins"},
		{"cy", "/kick", "not allowed: /kick is for admins"},
		{"cy", "/ban bob spam", "not allowed: /ban is for admins"},
		{"cy", "/unban zed", "not allowed: /unban is for admins"},
		{"cy", "/bans", "not allowed: /bans is for admins"},
		{"cy", "/op cy", "not allowed: /op is for admins"},
		{"cy", "/deop bob", "not allowed: /deop is for admins"},

		{"cy", "/me", "usage: /me TEXT"},
		{"cy", "/me   ", "usage: /me TEXT"},
		{"cy", "/msg", "usage: /msg NAME TEXT"},
		{"cy", "/msg bob", "usage: /msg NAME TEXT"},
		{"cy", "/msg bob   ", "usage: /msg NAME TEXT"},
		{"bob", "/kick", "usage: /kick NAME [REASON]"},
		{"bob", "/ban  ", "usage: /ban NAME [--addr] [DURATION] [REASON]"},
		{"bob", "/unban", "usage: /unban NAME|KEY"},
		{"bob", "/op", "usage: /op NAME"},
		{"bob", "/deop", "usage: /deop NAME|KEY"},

		{"cy", "/msg zed hi", `no one here is called "zed"`},
		{"bob", "/kick zed", `no one here is called "zed"`},
		{"bob", "/op zed", `no one here is called "zed"`},
		{"bob", "/deop zed", `no one here is called "zed", and no admin is remembered by that name or key (/ops lists them)`},

		{"bob", "/kick ana", "not allowed: ana is the room's host"},
		{"bob", "/kick ANA spam", "not allowed: ana is the room's host"},
		{"bob", "/ban ana", "not allowed: ana is the room's host"},
		{"bob", "/deop ana", "not allowed: ana is the room's host"},
		{"bob", "/op ana", "not allowed: ana is the room's host"},
		{"ana", "/deop ana", "not allowed: ana is the room's host"},
		{"bob", "/kick bob", "not allowed: you cannot kick yourself (/quit leaves the room)"},
		{"ana", "/kick ana", "not allowed: you cannot kick yourself (/quit leaves the room)"},
		{"bob", "/ban BOB", "not allowed: you cannot ban yourself (/quit leaves the room)"},
		{"bob", "/deop cy", "cy is not an admin"},
		{"bob", "/op dee", "dee is already an admin"},
		{"bob", "/op Bob", "bob is already an admin"},

		{"bob", "/ban ZED", "zed is already banned"},
		{"bob", "/unban yan", `"yan" is not banned`},
		{"bob", "/ban a\u200bb", "command not run: it contains the invisible character U+200B (zero-width space)"},
		{"bob", "/ban " + strings.Repeat("x", 25), `no one here is called "` + strings.Repeat("x", 25) + `", and it cannot be banned by name: the name is 25 characters long` + rule},

		{"cy", "/me a\x00b", "command not run: it contains control characters"},
		{"cy", "/msg bob a\nb", "command not run: it contains control characters"},
		{"cy", "/me " + strings.Repeat("x", wire.MaxText), "command not run: longer than 4000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.caller+" "+tt.line, func(t *testing.T) {
			c := newCast(t, Config{Bans: []Ban{{Name: "zed"}}})
			caller := c.byName(tt.caller)
			caller.say(tt.line)
			caller.expect(errorNotice(tt.want))
			for _, other := range c.others(tt.caller) {
				other.expectNothing()
			}
			if calls := c.tr.saves.calls; len(calls) != 0 {
				t.Errorf("SaveBans called with %v; want no call", calls)
			}
			// Nothing was numbered: the next event is 5.
			c.cy.say("still here")
			for _, m := range c.all() {
				m.expect(sayEvent(5, "cy", "still here"))
			}
		})
	}
}

func TestHelp(t *testing.T) {
	memberHelp := strings.Join([]string{
		"/help — list the commands you may use",
		"/who — list who is here",
		"/whois NAME — who NAME is: role and key (and, to admins, address)",
		"/me TEXT — tell the room what you are doing (/me waves)",
		"/msg NAME TEXT — send TEXT to NAME alone",
		"/query NAME TEXT — the same as /msg",
		"/w NAME TEXT — the same as /msg",
		"/names — the same as /who",
		"/nick NAME — take the name NAME in this room (you come back by it too)",
		"/away [TEXT] — say you are away, and why (shown in /who, /whois and to whoever writes to you); with no text, that you are back",
		"/topic [TEXT|-delete] — show the room's topic, or set it to TEXT, or clear it (admins may; everyone, if the host allows)",
		"/files — list the files on offer to you",
		"/get N [DIR] — fetch file N (into DIR, or your download directory)",
		"/unsend N — take back file N, which you offered (admins: any file)",
		"/quit — leave the room",
	}, "\n")
	adminHelp := memberHelp + "\n" + strings.Join([]string{
		"/kick NAME [REASON] — send NAME out of the room; they may come back",
		"/ban NAME [--addr] [DURATION] [REASON] — send NAME out and keep their name and key out, and their address unless someone else here shares it (--addr: even then); for 10m, 1h30m, 2d, 1w, or until /unban",
		"/unban NAME|KEY — let a banned NAME (or key, as /bans shows it) back in",
		"/bans [PAGE] — list who is banned, 50 to a page",
		"/op NAME — make NAME an admin, again whenever they come back with the same key",
		"/deop NAME|KEY — make admin NAME (or key, as /ops shows it) a plain member again",
		"/ops — list the admins made with /op, remembered by key",
		"/modlog [N] — the last N acts of moderation (20 unless told)",
		"/mute NAME [--addr] [DURATION] [REASON] — let NAME read but not speak, and /msg only admins, by name, key and address unless someone else here shares it (--addr: even then); for 10m, 1h30m, 2d, 1w, or until /unmute",
		"/unmute NAME|KEY — let NAME (or key, as /mutes shows it) speak again",
		"/mutes [PAGE] — list who is muted, 50 to a page",
	}, "\n")
	tests := []struct {
		caller, line, want string
	}{
		{"cy", "/help", memberHelp},
		{"cy", "/HELP me please", memberHelp},
		{"bob", "/help", adminHelp},
		{"ana", "/Help", adminHelp},
	}
	for _, tt := range tests {
		t.Run(tt.caller+" "+tt.line, func(t *testing.T) {
			c := newCast(t, Config{})
			c.byName(tt.caller).say(tt.line)
			c.byName(tt.caller).expect(notice(tt.want))
			for _, other := range c.others(tt.caller) {
				other.expectNothing()
			}
		})
	}
}

func TestWho(t *testing.T) {
	tr := startRoom(t, Config{})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	tests := []struct {
		join JoinRequest // joins before /who; "" for none
		want string
	}{
		{want: "1 here: ana (host)"},
		{join: JoinRequest{Name: "bob", Admin: true}, want: "2 here: ana (host), bob (admin)"},
		{join: JoinRequest{Name: "cy"}, want: "3 here: ana (host), bob (admin), cy"},
		{join: JoinRequest{Name: "Dee"}, want: "4 here: ana (host), bob (admin), cy, Dee"},
	}
	for _, tt := range tests {
		if tt.join.Name != "" {
			tr.joinReq(tt.join)
		}
		ana.frames()
		ana.say("/who")
		ana.expect(notice(tt.want))
	}
}

func TestMe(t *testing.T) {
	tests := []struct {
		line, want string
	}{
		{"/me waves", "waves"},
		{"/ME  waves  at you ", "waves  at you"},
		{"/me\twaves\thi", "waves hi"},
		{"/me /slashes", "/slashes"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			c := newCast(t, Config{})
			c.cy.say(tt.line)
			for _, m := range c.all() {
				m.expect(meEvent(5, "cy", tt.want))
			}
		})
	}
}

func TestMsg(t *testing.T) {
	tests := []struct {
		from, line, to, want string
	}{
		{"cy", "/msg bob psst", "bob", "psst"},
		{"cy", "/MSG BOB  two  words ", "bob", "two  words"},
		{"ana", "/msg dee /not a command", "dee", "/not a command"},
		{"bob", "/msg bob note to self", "bob", "note to self"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			c := newCast(t, Config{})
			c.byName(tt.from).say(tt.line)
			// Placed after the room's last event (4, dee's join), and each
			// member's first private frame.
			private := wire.Frame{Type: wire.TypePrivate, Seq: 4, PrivateSeq: 1, From: tt.from, To: tt.to, Text: tt.want, Time: testTime}
			c.byName(tt.to).expect(private)
			if tt.from != tt.to {
				c.byName(tt.from).expect(private) // the sender's copy
			}
			for _, other := range c.others(tt.from, tt.to) {
				other.expectNothing()
			}
			// A private message is no event.
			c.cy.say("after")
			for _, m := range c.all() {
				m.expect(sayEvent(5, "cy", "after"))
			}
		})
	}
}

func TestQuit(t *testing.T) {
	for _, line := range []string{"/quit", "/QUIT now"} {
		t.Run(line, func(t *testing.T) {
			c := newCast(t, Config{})
			c.cy.say(line)
			c.cy.say("said after quitting")
			c.tr.r.Leave(c.cy.m, wire.CodeLost) // the connection then ends
			c.cy.expectFinal(closedFrame(wire.CodeLeft, "", "you left the room"))
			for _, other := range c.others("cy") {
				other.expect(leaveEvent(5, "cy", wire.CodeLeft, "", ""))
			}
		})
	}
}

func TestKick(t *testing.T) {
	tests := []struct {
		by, line, target, reason string
	}{
		{"bob", "/kick cy", "cy", ""},
		{"bob", "/Kick CY  spamming  links ", "cy", "spamming  links"},
		{"ana", "/kick bob calm down", "bob", "calm down"},
		{"dee", "/kick bob", "bob", ""}, // admins may kick admins
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			c := newCast(t, Config{})
			target := c.byName(tt.target)
			c.byName(tt.by).say(tt.line)
			target.expectFinal(closedFrame(wire.CodeKicked, tt.by, tt.reason))
			for _, other := range c.others(tt.target) {
				other.expect(leaveEvent(5, tt.target, wire.CodeKicked, tt.by, tt.reason))
			}
			// A kick is not a ban: the member may come back.
			back := c.tr.joinReq(JoinRequest{Name: tt.target, Addr: target.m.addr})
			if back.welcome.Seq != 6 {
				t.Errorf("rejoined at %d, want 6", back.welcome.Seq)
			}
		})
	}
}

func TestBan(t *testing.T) {
	tests := []struct {
		by, line string
		target   string // who is sent out; "" for no one
		want     Ban
		confirm  string
	}{
		{"bob", "/ban cy", "cy",
			Ban{Name: "cy", Addr: "10.0.0.3", By: "bob", Time: testTime},
			"banned cy until /unban: the name and the address 10.0.0.3"},
		{"ana", "/BAN Dee  flooding  the room ", "dee",
			Ban{Name: "dee", Addr: "10.0.0.4", By: "ana", Reason: "flooding  the room", Time: testTime},
			"banned dee until /unban: the name and the address 10.0.0.4"},
		{"bob", "/ban Zed trouble", "",
			Ban{Name: "Zed", By: "bob", Reason: "trouble", Time: testTime},
			"Zed is not here: banned the name only, until /unban"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			c := newCast(t, Config{})
			c.byName(tt.by).say(tt.line)
			c.tr.sync()
			if got := c.tr.saves.calls; len(got) != 1 || !slices.Equal(got[0], []Ban{tt.want}) {
				t.Errorf("SaveBans calls = %+v, want one with %+v", got, tt.want)
			}
			if tt.target != "" {
				c.byName(tt.target).expectFinal(closedFrame(wire.CodeBanned, tt.by, strings.TrimSuffix(untilLifted+": "+tt.want.Reason, ": ")))
			}
			// Everyone sees the banned member leave; the admin who banned
			// is told, and then every admin is given the new list.
			leave := leaveEvent(5, tt.target, wire.CodeBanned, tt.by, tt.want.Reason)
			for _, other := range c.others(tt.target) {
				var want []wire.Frame
				if tt.target != "" {
					want = append(want, leave)
				}
				if other.m.name == tt.by {
					want = append(want, notice(tt.confirm))
				}
				if c.isAdmin(other) {
					want = append(want, bansFrame(tt.want.Name))
				}
				other.expect(want...)
			}

			// The ban keeps out the name in any case, and the address
			// under any name.
			refusal := wire.Frame{Type: wire.TypeRefused, Code: wire.CodeBanned, Text: withReason("you are banned from this room until an admin lifts it", tt.want.Reason)}
			for _, req := range []JoinRequest{
				{Name: strings.ToUpper(tt.want.Name), Addr: "10.0.0.99"},
				{Name: tt.want.Name, Admin: true},
			} {
				if got := c.tr.refused(req); encodeString(*got) != encodeString(refusal) {
					t.Errorf("Join(%+v) refused with %s, want %s", req, encodeString(*got), encodeString(refusal))
				}
			}
			if tt.want.Addr != "" {
				if got := c.tr.refused(JoinRequest{Name: "newname", Addr: tt.want.Addr}); got.Code != wire.CodeBanned {
					t.Errorf("Join from the banned address refused with %s, want banned", got.Code)
				}
			}
			c.tr.joinReq(JoinRequest{Name: "newname", Addr: "10.0.0.99"})
		})
	}
}

// TestBanNotSaved: when SaveBans fails, nothing happens but an error notice
// to the admin, and the ban list is as before.
func TestBanNotSaved(t *testing.T) {
	tests := []struct {
		line, want string
	}{
		{"/ban cy spam", "ban not saved: disk full"},
		{"/ban zed", "ban not saved: disk full"},
		{"/unban eve", "unban not saved: disk full"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			eve := Ban{Name: "eve", Addr: "10.0.0.66", By: "ana", Time: testTime}
			saves := &banSaver{err: errors.New("disk full")}
			c := newCast(t, Config{Bans: []Ban{eve}, Store: testStore{bans: saves.save}})
			c.bob.say(tt.line)
			c.bob.expect(errorNotice(tt.want))
			for _, other := range c.others("bob") {
				other.expectNothing() // cy is still in
			}
			if len(saves.calls) != 1 {
				t.Errorf("SaveBans called %d times, want once", len(saves.calls))
			}
			c.bob.say("/bans")
			c.bob.expect(notice("1 banned:\neve (10.0.0.66), by ana on 2025-03-14 15:09"))
			if got := c.tr.refused(JoinRequest{Name: "EVE"}); got.Code != wire.CodeBanned {
				t.Errorf("eve refused with %s, want banned", got.Code)
			}
			c.tr.joinReq(JoinRequest{Name: "zed", Addr: "10.0.0.3"})
		})
	}
}

func TestUnban(t *testing.T) {
	eve := Ban{Name: "Eve", Addr: "10.0.0.66", By: "ana", Reason: "spam", Time: testTime}
	zed := Ban{Name: "zed", By: "bob", Time: testTime}
	tests := []struct {
		line     string
		bans     []Ban
		wantBans []Ban
		confirm  string
		rejoin   JoinRequest // now let in
	}{
		{"/unban eve", []Ban{eve, zed}, []Ban{zed}, "unbanned Eve", JoinRequest{Name: "eve", Addr: "10.0.0.66"}},
		{"/UNBAN ZED", []Ban{eve, zed}, []Ban{eve}, "unbanned zed", JoinRequest{Name: "Zed", Addr: "10.0.0.77"}},
		// A file may hold a name twice.
		{"/unban zed", []Ban{zed, zed}, []Ban{}, "unbanned zed", JoinRequest{Name: "zed"}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			c := newCast(t, Config{Bans: tt.bans})
			c.dee.say(tt.line)
			var names []string
			for _, b := range tt.wantBans {
				names = append(names, b.Name)
			}
			c.dee.expect(notice(tt.confirm), bansFrame(names...))
			for _, other := range c.others("dee") {
				if c.isAdmin(other) {
					other.expect(bansFrame(names...))
				} else {
					other.expectNothing()
				}
			}
			if got := c.tr.saves.calls; len(got) != 1 || !slices.Equal(got[0], tt.wantBans) {
				t.Errorf("SaveBans calls = %+v, want one with %+v", got, tt.wantBans)
			}
			c.tr.joinReq(tt.rejoin)
		})
	}
}

func TestBansList(t *testing.T) {
	tests := []struct {
		bans []Ban
		want string
	}{
		{nil, "no one is banned"},
		{[]Ban{{Name: "zed", By: "bob", Time: time.Date(2024, 12, 1, 9, 5, 0, 0, time.UTC)}},
			"1 banned:\nzed, by bob on 2024-12-01 09:05"},
		{[]Ban{
			{Name: "zed", By: "bob", Time: time.Date(2024, 12, 1, 9, 5, 0, 0, time.UTC)},
			{Name: "Eve", Addr: "10.0.0.66", By: "ana", Reason: "spam, again", Time: testTime},
		}, "2 banned:\nzed, by bob on 2024-12-01 09:05\nEve (10.0.0.66), by ana on 2025-03-14 15:09: spam, again"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			c := newCast(t, Config{Bans: tt.bans})
			c.ana.say("/bans")
			c.ana.expect(notice(tt.want))
			for _, other := range c.others("ana") {
				other.expectNothing()
			}
		})
	}
}

// TestBanSaveGetsACopy: what SaveBans is given is its own; changing it does
// not change the room's list.
func TestBanSaveGetsACopy(t *testing.T) {
	c := newCast(t, Config{Store: testStore{bans: func(bans []Ban) error {
		for i := range bans {
			bans[i].Name = "changed"
		}
		return nil
	}}})
	c.bob.say("/ban zed")
	c.bob.say("/bans")
	c.bob.expect(
		notice("zed is not here: banned the name only, until /unban"),
		bansFrame("zed"),
		notice("1 banned:\nzed, by bob on 2025-03-14 15:09"))
}

func TestOpDeop(t *testing.T) {
	// cy may not kick until made an admin, and is then given the bans.
	c := newCast(t, Config{Bans: []Ban{{Name: "zed"}}})
	c.bob.say("/op CY")
	for _, m := range c.all() {
		if m == c.cy {
			m.expect(roleEvent(5, "cy", wire.RoleAdmin, "bob"),
				notice("bob made you an admin: you may now use /kick, /ban, /unban, /bans, /op, /deop, /ops, /modlog, /mute, /unmute, /mutes (/help explains them)"),
				bansFrame("zed"))
		} else if m == c.bob {
			m.expect(roleEvent(5, "cy", wire.RoleAdmin, "bob"), notice("cy has no identity key: an admin for this visit only"))
		} else {
			m.expect(roleEvent(5, "cy", wire.RoleAdmin, "bob"))
		}
	}
	c.cy.say("/who")
	c.cy.expect(notice("4 here: ana (host), bob (admin), cy (admin), dee (admin)"))
	c.cy.say("/deop dee")
	for _, m := range c.all() {
		if m == c.dee {
			m.expect(roleEvent(6, "dee", wire.RoleMember, "cy"),
				notice("cy made you a plain member: the admin commands are no longer yours"))
		} else {
			m.expect(roleEvent(6, "dee", wire.RoleMember, "cy"))
		}
	}
	c.dee.say("/kick cy")
	c.dee.expect(errorNotice("not allowed: /kick is for admins"))

	// An admin may step down.
	c.bob.say("/deop bob")
	for _, m := range c.all() {
		if m == c.bob {
			m.expect(roleEvent(7, "bob", wire.RoleMember, "bob"),
				notice("bob made you a plain member: the admin commands are no longer yours"))
		} else {
			m.expect(roleEvent(7, "bob", wire.RoleMember, "bob"))
		}
	}

	// The new admin's rights are real: cy kicks dee.
	c.cy.say("/kick dee")
	c.dee.expectFinal(closedFrame(wire.CodeKicked, "cy", ""))
}

// TestOwnerKeepsRights: no admin can take the owner's rights away, and the
// owner can still use them afterwards.
func TestOwnerKeepsRights(t *testing.T) {
	c := newCast(t, Config{})
	for _, line := range []string{"/deop ana", "/kick ana", "/ban ana", "/op ana"} {
		c.bob.say(line)
		c.bob.expect(errorNotice("not allowed: ana is the room's host"))
	}
	c.bob.say("/who")
	c.bob.expect(notice("4 here: ana (host), bob (admin), cy, dee (admin)"))
	c.ana.expectNothing()
	c.ana.say("/deop bob")
	c.ana.say("/kick dee")
	for _, m := range []*client{c.ana, c.bob, c.cy} {
		want := []wire.Frame{roleEvent(5, "bob", wire.RoleMember, "ana")}
		if m == c.bob {
			want = append(want, notice("ana made you a plain member: the admin commands are no longer yours"))
		}
		m.expect(append(want, leaveEvent(6, "dee", wire.CodeKicked, "ana", ""))...)
	}
}

// A line's failure reaches its member in the words of a userError, however
// it was wrapped; any other error, which was not written for the member,
// is not shown.
func TestReportErrorShowsOnlyUserErrors(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{userError("usage: /kick NAME [REASON]"), "usage: /kick NAME [REASON]"},
		{fmt.Errorf("while banning: %w", userError("ban not saved: disk full")), "ban not saved: disk full"},
		{errors.New("open /home/host/.chatroom/bans.json: permission denied"), "the room could not do that"},
	} {
		s := newState(Config{Now: func() time.Time { return testTime }})
		m := &Member{name: "ana", key: "ana", out: newOutbox(16), role: wire.RoleOwner}
		s.addMember(m)
		s.reportError(call{from: m, ref: 7}, tt.err)
		frames, _ := m.out.Take()
		if len(frames) != 1 {
			t.Fatalf("%v: %d frames", tt.err, len(frames))
		}
		f, err := wire.Parse(frames[0])
		if err != nil {
			t.Fatal(err)
		}
		if want := (wire.Frame{Type: wire.TypeNotice, Text: tt.want, Error: true, Ref: 7}); !reflect.DeepEqual(f, want) {
			t.Errorf("%v: got %+v, want %+v", tt.err, f, want)
		}
	}
}

// A room without a Store keeps its lists for as long as it runs, as a room
// whose Store saves them does.
func TestNoStoreKeepsListsInMemory(t *testing.T) {
	s := newState(Config{Now: func() time.Time { return testTime }})
	m := &Member{name: "ana", key: "ana", out: newOutbox(16), role: wire.RoleOwner}
	s.addMember(m)
	s.say(m, "/ban zed", 1)
	s.say(m, "/mute ana", 2) // refused: the list is not touched
	if len(s.bans) != 1 || s.bans[0].Name != "zed" || len(s.mutes) != 0 || len(s.modLog) != 1 {
		t.Fatalf("bans %+v, mutes %+v, log %+v", s.bans, s.mutes, s.modLog)
	}
	frames, _ := m.out.Take()
	checkFrames(t, "ana", frames)
	var got []string
	for _, b := range frames {
		f, err := wire.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %d %v %s", f.Type, f.Ref, f.Error, f.Text))
	}
	want := []string{
		"notice 1 false zed is not here: banned the name only, until /unban",
		wire.TypeBans + " 0 false ",
		"notice 2 true not allowed: you cannot mute yourself (/quit leaves the room)",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("frames:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

package irc

import (
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// irssi's "/ban ann" sends a mask of ann's prefix, and its "/unban" of the
// same ban sends the same mask back, which names no one in the ban list
// as the gateway shows it (ann!*@*): the session lifts the ban it made by
// that mask.
func TestUnbanByTheMaskTheClientBannedWith(t *testing.T) {
	tg := startGateway(t, Config{})
	s := tg.join("cy", nil, conformanceWelcome())
	s.c.send("MODE #the-den +b *!*ann@*.key")
	if got := s.room.readSay(); got.Text != "/ban ann" {
		t.Fatalf("the room read %q, want /ban ann", got.Text)
	}
	// The room bans her and tells the admins its new list.
	s.room.write(wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindLeave, Name: "ann", Code: wire.CodeBanned, By: "cy"})
	s.room.write(wire.Frame{Type: wire.TypeBans, Bans: []string{"eve.z", "ann"}})
	s.synced()
	s.c.send("MODE #the-den b")
	lines := s.c.readUntil("368")
	var listed []string
	for _, m := range lines {
		if m.Command == "367" {
			listed = append(listed, m.Params[2])
		}
	}
	if strings.Join(listed, " ") != "eve_z!*@* ann!*@*" {
		t.Fatalf("the ban list shows %q", listed)
	}
	s.c.send("MODE #the-den -b *!*AnN@*.key")
	if got := s.room.readSay(); got.Text != "/unban ann" {
		t.Fatalf("the room read %q, want /unban ann", got.Text)
	}
	// So does weechat's /unmute of the mask it muted by.
	s.c.send("MODE #the-den +q *!~bob_x@chatroom")
	s.c.expect(":*room!room@chatroom NOTICE cy :2 members match *!~bob_x@chatroom: name the one to mute (MODE +q NICK), as the room mutes one member at a time")
	s.c.send("MODE #the-den +q bob_x!~bob_x@chatroom")
	if got := s.room.readSay(); got.Text != "/mute bob.x" {
		t.Fatalf("the room read %q, want /mute bob.x", got.Text)
	}
	s.c.send("MODE #the-den -q bob_x!~bob_x@chatroom")
	if got := s.room.readSay(); got.Text != "/unmute bob.x" {
		t.Fatalf("the room read %q, want /unmute bob.x", got.Text)
	}
}

// A client's own "unban from the list" (weechat's and HexChat's ban list
// windows, irssi's "/unban 1") sends back the mask the list showed: each
// lifts the ban of the name it stands for, names that are no nicks among
// them.
func TestUnbanByTheMasksOfTheBanList(t *testing.T) {
	tg := startGateway(t, Config{})
	s := tg.join("cy", nil, conformanceWelcome())
	names := []string{"eve.z", "#hash", "zoë", "a b"}
	s.room.write(wire.Frame{Type: wire.TypeBans, Bans: names})
	s.synced()
	s.c.send("MODE #the-den +b")
	var masks []string
	for _, m := range s.c.readUntil("368") {
		if m.Command == "367" {
			masks = append(masks, m.Params[2])
		}
	}
	if len(masks) != len(names) {
		t.Fatalf("the ban list shows %q for %q", masks, names)
	}
	for i, mask := range masks {
		s.c.send("MODE #the-den -b " + mask)
		if got := s.room.readSay(); got.Text != "/unban "+names[i] {
			t.Fatalf("-b %s: the room read %q, want /unban %s", mask, got.Text, names[i])
		}
	}
	// Two names that show alike are not guessed between.
	s.room.write(wire.Frame{Type: wire.TypeBans, Bans: []string{"eve.z", "eve!z"}})
	s.synced()
	s.c.send("MODE #the-den -b eve_z!*@*", "PING :end")
	s.c.expect(":*room!room@chatroom NOTICE cy :2 banned members show as eve_z: name the one to unban (/msg *room unban NAME)")
	s.c.expect(":chatroom PONG chatroom end")
}

// synced returns once the session has handled what the room sent
// before: the room's frames are handled in order, and a line from a
// member is the last.
func (s session) synced() {
	s.room.write(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, From: "bob.x", Text: "sync"})
	for {
		if m := s.c.read(); m.Command == "PRIVMSG" && m.Params[1] == "sync" {
			return
		}
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		mask, s string
		want    bool
	}{
		{"*", "", true},
		{"*", "ann!~ann@3f9a1cB2.key", true},
		{"*!*@*", "ann!~ann@3f9a1cB2.key", true},
		{"ANN!*@*", "ann!~ann@3f9a1cB2.key", true},
		{"*!*ann@*.key", "ann!~ann@3f9a1cB2.key", true},
		{"*!*ann@*.key", "ann!~ann@chatroom", false},
		{"*!*ann@*.KEY", "ann!~ann@3F9A1CB2.KEY", true},
		{"zo?!*@*", "zoë!~zo_@chatroom", true}, // "?" is one character, not one byte
		{"zo??!*@*", "zoë!~zo_@chatroom", false},
		{"zoË!*@*", "zoë!~zo_@chatroom", false}, // IRC's ASCII casemapping
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYcZ", false},
		{"a*b*c", "aXbYbc", true},
		{"?", "", false},
		{"", "", true},
		{"", "a", false},
	} {
		if got, _ := newGlob(tc.mask).match(tc.s); got != tc.want {
			t.Errorf("%q matching %q: %v, want %v", tc.mask, tc.s, got, tc.want)
		}
	}
}

// A mask made to be costly to match (a long run of "?" that almost
// matches at every place) against members whose names are made to suit
// it takes steps in proportion to the square of the prefix at most, never
// exponentially many, and the work is charged to the client, whose next
// lines wait for it as for any other.
func TestCostlyMaskIsBoundedAndCharged(t *testing.T) {
	mask := "*" + strings.Repeat("?", 30) + "b*"
	name := strings.Repeat("a", 24)
	prefix := name + "!~" + name[:9] + "@chatroom"
	if _, steps := newGlob(mask).match(prefix); steps > len(prefix)*len(prefix) {
		t.Fatalf("%d steps to match %q against %q", steps, mask, prefix)
	}

	c := newTestConn(t)
	for i := range 2000 {
		c.roster.add(wire.Member{Name: name[:20] + itoa(i), Role: wire.RoleMember})
	}
	before := c.commands.TokensAt(c.now)
	c.banByMask(mask)
	if spent := before - c.commands.TokensAt(c.now); spent < 1 {
		t.Fatalf("matching a costly mask against %d members cost the client %.1f tokens", len(c.roster.order), spent)
	}
	if d := c.lagUntil.Sub(c.now); d > time.Duration(commandBurst)*time.Second/commandPerSecond {
		t.Fatalf("lagged %v, more than the bucket holds", d)
	}
}

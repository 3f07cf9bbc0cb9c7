package room

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"chatroom/host/wire"
)

func TestJoinRefused(t *testing.T) {
	const rule = ": names are 1 to 24 letters, digits or ASCII punctuation, with no spaces"
	tests := []struct {
		name     string
		bans     []Ban
		present  []string // members already in the room
		req      JoinRequest
		wantCode string
		wantText string
	}{
		{name: "empty name", req: JoinRequest{Name: ""},
			wantCode: wire.CodeNameInvalid, wantText: "the name is empty" + rule},
		{name: "space", req: JoinRequest{Name: "bo b"},
			wantCode: wire.CodeNameInvalid, wantText: "the name contains a space" + rule},
		{name: "too long", req: JoinRequest{Name: strings.Repeat("x", 25)},
			wantCode: wire.CodeNameInvalid, wantText: "the name is 25 characters long" + rule},
		{name: "control character", req: JoinRequest{Name: "bob\a"},
			wantCode: wire.CodeNameInvalid, wantText: "the name contains the control character U+0007" + rule},
		{name: "zero-width space", req: JoinRequest{Name: "bo\u200bb"},
			wantCode: wire.CodeNameInvalid, wantText: "the name contains the invisible character U+200B" + rule},
		{name: "taken", present: []string{"bob"}, req: JoinRequest{Name: "bob"},
			wantCode: wire.CodeNameTaken, wantText: `the name "bob" is taken`},
		{name: "taken in another case", present: []string{"bob"}, req: JoinRequest{Name: "BoB"},
			wantCode: wire.CodeNameTaken, wantText: `the name "BoB" is taken`},
		{name: "taken in another normalization", present: []string{"jos\u00e9"}, req: JoinRequest{Name: "jose\u0301"},
			wantCode: wire.CodeNameTaken, wantText: "the name \"jose\u0301\" is taken"},
		{name: "taken by the owner", present: []string{"ana"}, req: JoinRequest{Name: "ANA", Admin: true},
			wantCode: wire.CodeNameTaken, wantText: `the name "ANA" is taken`},
		{name: "banned by name", bans: []Ban{{Name: "Bob", Reason: "spam"}}, req: JoinRequest{Name: "bob", Addr: "10.0.0.2"},
			wantCode: wire.CodeBanned, wantText: "you are banned from this room until an admin lifts it (spam)"},
		{name: "banned by address", bans: []Ban{{Name: "eve", Addr: "10.0.0.9"}}, req: JoinRequest{Name: "notEve", Addr: "10.0.0.9"},
			wantCode: wire.CodeBanned, wantText: "you are banned from this room until an admin lifts it"},
		{name: "banned admin", bans: []Ban{{Name: "bob"}}, req: JoinRequest{Name: "bob", Admin: true},
			wantCode: wire.CodeBanned, wantText: "you are banned from this room until an admin lifts it"},
		{name: "invalid before banned", bans: []Ban{{Name: "x", Addr: "10.0.0.9"}}, req: JoinRequest{Name: "a b", Addr: "10.0.0.9"},
			wantCode: wire.CodeNameInvalid, wantText: "the name contains a space" + rule},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := startRoom(t, Config{Bans: tt.bans})
			var present []*client
			for _, name := range tt.present {
				present = append(present, tr.join(name))
			}
			got := tr.refused(tt.req)
			want := wire.Frame{Type: wire.TypeRefused, Code: tt.wantCode, Text: tt.wantText}
			if g, w := encodeString(*got), encodeString(want); g != w {
				t.Errorf("refusal:\n got: %s\nwant: %s", g, w)
			}
			for _, c := range present {
				c.expectNothing() // a refused join is no event
			}
		})
	}
}

func TestJoinAdmitted(t *testing.T) {
	tests := []struct {
		name     string
		bans     []Ban
		req      JoinRequest
		wantRole string
	}{
		{name: "member", req: JoinRequest{Name: "bob", Addr: "10.0.0.2"}, wantRole: wire.RoleMember},
		{name: "admin", req: JoinRequest{Name: "bob", Addr: "10.0.0.2", Admin: true}, wantRole: wire.RoleAdmin},
		{name: "owner", req: JoinRequest{Name: "ana", Owner: true}, wantRole: wire.RoleOwner},
		{name: "owner and admin is owner", req: JoinRequest{Name: "ana", Owner: true, Admin: true}, wantRole: wire.RoleOwner},
		{name: "owner banned by name", bans: []Ban{{Name: "ANA"}}, req: JoinRequest{Name: "ana", Owner: true}, wantRole: wire.RoleOwner},
		{name: "owner banned by address", bans: []Ban{{Name: "x", Addr: "10.0.0.1"}}, req: JoinRequest{Name: "ana", Addr: "10.0.0.1", Owner: true}, wantRole: wire.RoleOwner},
		{name: "no address never matches a name-only ban", bans: []Ban{{Name: "eve"}}, req: JoinRequest{Name: "bob"}, wantRole: wire.RoleMember},
		{name: "other address", bans: []Ban{{Name: "eve", Addr: "10.0.0.9"}}, req: JoinRequest{Name: "bob", Addr: "10.0.0.8"}, wantRole: wire.RoleMember},
		{name: "longest name", req: JoinRequest{Name: strings.Repeat("é", MaxNameRunes)}, wantRole: wire.RoleMember},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := startRoom(t, Config{Bans: tt.bans})
			c := tr.joinReq(tt.req)
			if c.m.Name() != tt.req.Name {
				t.Errorf("Name() = %q, want %q", c.m.Name(), tt.req.Name)
			}
			if got := c.welcome.You; got == nil || *got != (wire.Member{Name: tt.req.Name, Role: tt.wantRole}) {
				t.Errorf("welcome.You = %+v, want %s as %s", got, tt.req.Name, tt.wantRole)
			}
		})
	}
}

func commandNames(cmds []wire.Command) []string {
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	return names
}

func TestWelcome(t *testing.T) {
	// Everyone is told every command, with the admin ones marked, so that a
	// client can follow a later /op or /deop; only admins get the bans.
	allCommands := []string{"help", "who", "whois", "me", "msg", "query", "w", "names", "nick", "away", "topic", "files", "get", "unsend", "quit", "kick", "ban", "unban", "bans", "op", "deop", "ops", "modlog", "mute", "unmute", "mutes"}
	bans := []Ban{{Name: "zed"}, {Name: "Eve", Addr: "10.0.0.66"}, {Name: "ZED", Addr: "10.0.0.67"}}
	tests := []struct {
		req      JoinRequest
		wantSeq  uint64
		wantBans []string
	}{
		{JoinRequest{Name: "ana", Owner: true}, 1, []string{"zed", "Eve"}},
		{JoinRequest{Name: "bob", Admin: true}, 2, []string{"zed", "Eve"}},
		{JoinRequest{Name: "cy"}, 3, nil},
	}
	tr := startRoom(t, Config{Name: "the lan", Bans: bans})
	var members []wire.Member
	for _, tt := range tests {
		c := tr.joinReq(tt.req)
		role := c.welcome.You.Role
		members = append(members, wire.Member{Name: tt.req.Name, Role: role})
		want := wire.Frame{
			Type:     wire.TypeWelcome,
			Version:  wire.Version,
			Room:     &wire.Room{Name: "the lan"},
			You:      &wire.Member{Name: tt.req.Name, Role: role},
			Members:  members,
			Seq:      tt.wantSeq,
			Commands: Commands(),
			Bans:     tt.wantBans,
			Limits:   &testLimits,
			Epoch:    testEpoch,
		}
		if g, w := encodeString(c.welcome), encodeString(want); g != w {
			t.Errorf("%s's welcome:\n got: %s\nwant: %s", tt.req.Name, g, w)
		}
		if got := commandNames(c.welcome.Commands); !slices.Equal(got, allCommands) {
			t.Errorf("%s's commands = %v, want %v", tt.req.Name, got, allCommands)
		}
		// The welcome stands for the member's own join event.
		c.expectNothing()
	}
}

func TestCommandTargets(t *testing.T) {
	want := map[string]string{
		"help": "", "who": "", "whois": targetMember, "me": "", "msg": targetMember, "query": targetMember, "w": targetMember, "quit": "",
		"kick": targetMember, "ban": targetMember, "unban": targetBanned, "bans": "", "op": targetMember, "deop": targetMember, "mute": targetMember, "unmute": targetMember,
	}
	admin := map[string]bool{"kick": true, "ban": true, "unban": true, "bans": true, "op": true, "deop": true, "modlog": true, "mute": true, "unmute": true, "ops": true, "mutes": true}
	for _, c := range Commands() {
		if c.Target != want[c.Name] {
			t.Errorf("/%s target = %q, want %q", c.Name, c.Target, want[c.Name])
		}
		if c.Admin != admin[c.Name] {
			t.Errorf("/%s admin = %v, want %v", c.Name, c.Admin, admin[c.Name])
		}
		if !strings.HasPrefix(c.Usage, "/"+c.Name) || c.Help == "" {
			t.Errorf("/%s: usage %q, help %q", c.Name, c.Usage, c.Help)
		}
	}
}

func TestJoinEvents(t *testing.T) {
	tr := startRoom(t, Config{})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	bob := tr.joinReq(JoinRequest{Name: "bob", Admin: true})
	cy := tr.join("cy")
	ana.expect(joinEvent(2, "bob", wire.RoleAdmin), joinEvent(3, "cy", wire.RoleMember))
	bob.expect(joinEvent(3, "cy", wire.RoleMember))
	cy.expectNothing()
}

func TestDefaultOutbox(t *testing.T) {
	tests := []struct{ outbox, want int }{{0, 1024}, {-1, 1024}, {1, 1}, {7, 7}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.outbox), func(t *testing.T) {
			tr := startRoom(t, Config{Outbox: tt.outbox})
			if got := tr.join("bob").m.Out().Limit(); got != tt.want {
				t.Errorf("outbox holds %d frames, want %d", got, tt.want)
			}
		})
	}
}

// TestEventOrder has members talk at once, and others join while they do:
// every member must see one gapless sequence from its welcome on, and any
// two members the same bytes for the same number.
func TestEventOrder(t *testing.T) {
	const talkers, lines = 4, 50
	tr := startRoom(t, Config{})
	var clients []*client
	for i := range talkers {
		clients = append(clients, tr.join(fmt.Sprintf("talker%d", i)))
	}
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			for n := range lines {
				c.say(fmt.Sprintf("%d:%d", i, n))
			}
		})
	}
	for i := range 3 {
		clients = append(clients, tr.join(fmt.Sprintf("late%d", i)))
	}
	wg.Wait()
	tr.sync()

	bySeq := map[uint64]string{} // the first bytes seen for each number
	for _, c := range clients {
		next := c.welcome.Seq + 1
		lastLine := map[string]int{}
		for {
			b, ok := c.next()
			if !ok {
				break
			}
			f := parse(t, b)
			if f.Type != wire.TypeEvent || f.Seq != next {
				t.Fatalf("%s: got %s, want event %d", c.m.name, b, next)
			}
			next++
			if first, ok := bySeq[f.Seq]; ok && first != string(b) {
				t.Fatalf("event %d differs between members:\n%s\n%s", f.Seq, first, b)
			}
			bySeq[f.Seq] = string(b)
			if f.Kind == wire.KindSay {
				// Each talker's lines arrive in the order it said them.
				var who, n int
				fmt.Sscanf(f.Text, "%d:%d", &who, &n)
				if prev, ok := lastLine[f.From]; ok && n != prev+1 {
					t.Fatalf("%s: %s's line %d came after its line %d", c.m.name, f.From, n, prev)
				}
				lastLine[f.From] = n
			}
		}
		if next-1 != uint64(talkers*lines+talkers+3) {
			t.Errorf("%s saw events up to %d, want %d", c.m.name, next-1, talkers*lines+talkers+3)
		}
	}
}

func TestSay(t *testing.T) {
	long := strings.Repeat("x", wire.MaxText)
	tests := []struct {
		name      string
		line      string
		wantText  string // the message everyone gets; "" for none
		wantError string // the error notice the sender gets; "" for none
	}{
		{name: "plain", line: "hi all", wantText: "hi all"},
		{name: "unicode", line: "añ 日本 🙂", wantText: "añ 日本 🙂"},
		{name: "markup is text", line: "<b>&amp;", wantText: "<b>&amp;"},
		{name: "double slash", line: "//shrug", wantText: "/shrug"},
		{name: "double slash alone", line: "//", wantText: "/"},
		{name: "triple slash", line: "///x", wantText: "//x"},
		{name: "slash after a space is text", line: " /kick bob", wantText: " /kick bob"},
		{name: "tab becomes a space", line: "a\tb\t", wantText: "a b "},
		{name: "longest", line: long, wantText: long},
		{name: "longest after the slash", line: "//" + long[1:], wantText: "/" + long[1:]},
		{name: "too long after the slash", line: "//" + long, wantError: "message not sent: longer than 4000 bytes"},
		{name: "empty", line: ""},
		{name: "spaces", line: "   "},
		{name: "tabs and spaces", line: " \t \u00a0"},
		{name: "too long", line: long + "x", wantError: "message not sent: longer than 4000 bytes"},
		{name: "too long in runes", line: strings.Repeat("é", 2001), wantError: "message not sent: longer than 4000 bytes"},
		{name: "NUL", line: "a\x00b", wantError: "message not sent: it contains control characters"},
		{name: "newline", line: "a\nb", wantError: "message not sent: it contains control characters"},
		{name: "escape", line: "\x1b[2Jhi", wantError: "message not sent: it contains control characters"},
		{name: "DEL", line: "a\x7f", wantError: "message not sent: it contains control characters"},
		{name: "C1", line: "a\u0085b", wantError: "message not sent: it contains control characters"},
		{name: "C1 after double slash", line: "//\u009b", wantError: "message not sent: it contains control characters"},
		{name: "not UTF-8", line: "a\xffb", wantError: "message not sent: it is not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := startRoom(t, Config{})
			ana := tr.join("ana")
			bob := tr.join("bob")
			ana.frames() // bob's join
			ana.say(tt.line)
			switch {
			case tt.wantText != "":
				// The host names the sender; bob sees the same.
				ana.expect(sayEvent(3, "ana", tt.wantText))
				bob.expect(sayEvent(3, "ana", tt.wantText))
			case tt.wantError != "":
				ana.expect(errorNotice(tt.wantError))
				bob.expectNothing()
			default:
				ana.expectNothing()
				bob.expectNothing()
			}
			// Whatever happened, the sequence goes on without a gap.
			bob.say("next")
			wantSeq := uint64(3)
			if tt.wantText != "" {
				wantSeq = 4
			}
			bob.expect(sayEvent(wantSeq, "bob", "next"))
		})
	}
}

func TestLeave(t *testing.T) {
	for _, code := range []string{wire.CodeLost, wire.CodeLeft, wire.CodeProtocol} {
		t.Run(code, func(t *testing.T) {
			tr := startRoom(t, Config{})
			ana := tr.join("ana")
			bob := tr.join("bob")
			ana.frames()
			bob.say("bye")
			tr.r.Leave(bob.m, code)
			bob.say("said after leaving") // its reader may still be reading
			tr.r.Leave(bob.m, code)       // and the writer may report it too
			ana.expect(sayEvent(3, "bob", "bye"), leaveEvent(4, "bob", code, "", ""))
			bob.expect(sayEvent(3, "bob", "bye"))
			bob.expectFinal(nil) // what's queued is delivered; then nothing
			// The name is free again.
			bob2 := tr.join("BOB")
			ana.expect(joinEvent(5, "BOB", wire.RoleMember))
			bob2.expectNothing()
		})
	}
}

// TestTooSlow fills one member's outbox: once it is full the member is
// dropped, gets everything it had queued and then a too-slow Final, and the
// others are told and go on.
func TestTooSlow(t *testing.T) {
	// At least 2, so that ana and bob can hold the last line and the leave.
	for _, outbox := range []int{2, 3, 8} {
		t.Run(fmt.Sprint(outbox), func(t *testing.T) {
			tr := startRoom(t, Config{Outbox: outbox})
			ana := tr.join("ana")
			bob := tr.join("bob")
			ana.frames()
			slow := tr.joinUndrained("slow")
			ana.frames()
			bob.frames()
			seq := uint64(3)
			// These fill the outbox (the welcome went ahead of it).
			var fits []wire.Frame
			for i := range outbox {
				seq++
				ana.say(fmt.Sprint(i))
				ana.expect(sayEvent(seq, "ana", fmt.Sprint(i)))
				bob.expect(sayEvent(seq, "ana", fmt.Sprint(i)))
				fits = append(fits, sayEvent(seq, "ana", fmt.Sprint(i)))
			}
			ana.say("one too many")
			ana.expect(sayEvent(seq+1, "ana", "one too many"), leaveEvent(seq+2, "slow", wire.CodeTooSlow, "", ""))
			bob.expect(sayEvent(seq+1, "ana", "one too many"), leaveEvent(seq+2, "slow", wire.CodeTooSlow, "", ""))
			if g, w := lines(slow.frames()), lines(fits); g != w {
				t.Errorf("slow got after its welcome:%s\nwant:%s", g, w)
			}
			slow.expectFinal(closedFrame(wire.CodeTooSlow, "", "you fell too far behind the room"))

			// The others go on, and the dropped member's lines are ignored.
			slow.say("still here?")
			bob.say("on we go")
			ana.expect(sayEvent(seq+3, "bob", "on we go"))
			bob.expect(sayEvent(seq+3, "bob", "on we go"))
		})
	}
}

// TestTooSlowDuringFanOut drops members found too slow in the same fan-out,
// and one found too slow by another's leave event: no member may get a
// frame after one it missed, and the others see every leave in order.
func TestTooSlowDuringFanOut(t *testing.T) {
	tr := startRoom(t, Config{Outbox: 4})
	s1 := tr.join("s1")
	s2 := tr.join("s2")
	s3 := tr.join("s3")
	ana := tr.join("ana")
	bob := tr.join("bob")
	for _, c := range []*client{s1, s2, s3, ana} {
		c.frames()
	}
	// Events are 6 on. Leave s3 one place freer than s1 and s2.
	ana.say("a")
	s3.frames()
	ana.say("b")
	ana.say("c")
	ana.say("d")
	ana.frames()
	bob.frames()
	// s1 and s2 are full, s3 has one place: "e" fills s3 and overflows
	// s1 and s2; s1's leave then overflows s3.
	ana.say("e")
	wantOthers := []wire.Frame{
		sayEvent(10, "ana", "e"),
		leaveEvent(11, "s1", wire.CodeTooSlow, "", ""),
		leaveEvent(12, "s2", wire.CodeTooSlow, "", ""),
		leaveEvent(13, "s3", wire.CodeTooSlow, "", ""),
	}
	ana.expect(wantOthers...)
	bob.expect(wantOthers...)
	tooSlow := closedFrame(wire.CodeTooSlow, "", "you fell too far behind the room")
	for _, c := range []*client{s1, s2} {
		c.expect(sayEvent(6, "ana", "a"), sayEvent(7, "ana", "b"), sayEvent(8, "ana", "c"), sayEvent(9, "ana", "d"))
		c.expectFinal(tooSlow)
	}
	s3.expect(sayEvent(7, "ana", "b"), sayEvent(8, "ana", "c"), sayEvent(9, "ana", "d"), sayEvent(10, "ana", "e"))
	s3.expectFinal(tooSlow)

	bob.say("/who")
	bob.expect(notice("2 here: ana, bob"))
}

// TestTooSlowPrivate drops a member whose outbox a notice or private
// message overflows, as for events.
func TestTooSlowPrivate(t *testing.T) {
	tests := []struct {
		name string
		line string // said by full, or by ana to full
		by   string
	}{
		{name: "notice", line: "/who", by: "full"},
		{name: "error notice", line: "/nope", by: "full"},
		{name: "private message", line: "/msg full hi", by: "ana"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := startRoom(t, Config{Outbox: 2})
			ana := tr.join("ana")
			full := tr.joinUndrained("full")
			ana.frames()
			ana.say("x") // x and y fill full's outbox
			ana.say("y")
			ana.frames()
			map[string]*client{"ana": ana, "full": full}[tt.by].say(tt.line)
			got := ana.frames()
			if n := len(got); n == 0 || encodeString(got[n-1]) != encodeString(leaveEvent(5, "full", wire.CodeTooSlow, "", "")) {
				t.Errorf("ana got %s; want it to end with full's too-slow leave", lines(got))
			}
			if got, want := lines(full.frames()), lines([]wire.Frame{sayEvent(3, "ana", "x"), sayEvent(4, "ana", "y")}); got != want {
				t.Errorf("full got %s; want x and y", got)
			}
			full.expectFinal(closedFrame(wire.CodeTooSlow, "", "you fell too far behind the room"))
		})
	}
}

func TestRoomClosed(t *testing.T) {
	tr := startRoom(t, Config{})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	bob := tr.join("bob")
	ana.say("last words")
	tr.sync()
	tr.close()

	roomClosed := closedFrame(wire.CodeRoomClosed, "", "the room was closed by its host")
	ana.expect(joinEvent(2, "bob", wire.RoleMember), sayEvent(3, "ana", "last words"))
	ana.expectFinal(roomClosed)
	bob.expect(sayEvent(3, "ana", "last words"))
	bob.expectFinal(roomClosed)
	if !bytes.Equal(ana.m.Final(), bob.m.Final()) {
		t.Error("members' Finals differ")
	}

	var m *Member
	var refusal *wire.Frame
	var err error
	within(t, "Join after close", func() {
		m, refusal, err = tr.r.Join(context.Background(), JoinRequest{Name: "cy"})
	})
	want := wire.Frame{Type: wire.TypeRefused, Code: wire.CodeRoomClosed, Text: "the room was closed by its host"}
	if m != nil || err != nil || refusal == nil || encodeString(*refusal) != encodeString(want) {
		t.Errorf("Join after close = %v, %+v, %v; want refusal %s", m, refusal, err, encodeString(want))
	}
	// Fill the event queue past its size: none of these may block.
	within(t, "Say after close", func() {
		for range eventQueue + 1 {
			tr.r.Say(ana.m, "anyone?", 0)
		}
	})
	within(t, "Leave after close", func() {
		for range eventQueue + 1 {
			tr.r.Leave(bob.m, wire.CodeLost)
		}
	})
}

// TestJoinGivesUp ends a Join's context before the room can answer: Join
// reports it, and the room does not admit the member.
func TestJoinGivesUp(t *testing.T) {
	r := New(Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if m, refusal, err := r.Join(ctx, JoinRequest{Name: "bob"}); err != context.Canceled || m != nil || refusal != nil {
		t.Fatalf("Join with an ended context = %v, %v, %v; want context.Canceled", m, refusal, err)
	}

	// Give up while the request waits for a room that is not running yet.
	ctx, cancel = context.WithCancel(context.Background())
	result := make(chan error)
	go func() {
		m, refusal, err := r.Join(ctx, JoinRequest{Name: "bob"})
		if m != nil || refusal != nil {
			err = fmt.Errorf("got %v, %v", m, refusal)
		}
		result <- err
	}()
	cancel()
	if err := <-result; err != context.Canceled {
		t.Fatalf("Join = %v, want context.Canceled", err)
	}

	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	go r.Run(runCtx)
	m, refusal, err := r.Join(context.Background(), JoinRequest{Name: "bob"})
	if err != nil || refusal != nil {
		t.Fatalf("Join after the first gave up = %v, %+v, %v; want bob admitted", m, refusal, err)
	}
	welcome := parse(t, m.TakeReplay()[0])
	if len(welcome.Members) != 1 || welcome.Seq != 1 {
		t.Errorf("welcome lists %v at seq %d; want bob alone, first", welcome.Members, welcome.Seq)
	}
}

// BenchmarkBroadcast measures how fast the room hands one member's lines
// to 100 members, each drained by its own goroutine.
func BenchmarkBroadcast(b *testing.B) {
	const members = 100
	// Say may run at most window lines ahead of the slowest member, so
	// that no outbox fills and every line reaches everyone.
	const window = 512
	r := New(Config{Outbox: 2 * window})
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		r.Run(ctx)
	}()
	var received [members]atomic.Int64 // says each member has read
	var drainers sync.WaitGroup
	var speaker *Member
	for i := range members {
		m, refusal, err := r.Join(ctx, JoinRequest{Name: fmt.Sprintf("m%d", i)})
		if err != nil || refusal != nil {
			b.Fatalf("join: %v %v", refusal, err)
		}
		if i == 0 {
			speaker = m
		}
		drainers.Go(func() {
			out := m.Out()
			for range out.Ready() {
				frames, open := out.Take()
				for _, frame := range frames {
					if bytes.Contains(frame, []byte(`"kind":"say"`)) {
						received[i].Add(1)
					}
				}
				out.Recycle(frames)
				if !open {
					return
				}
			}
		})
	}
	slowest := func() int64 {
		low := received[0].Load()
		for i := range received {
			low = min(low, received[i].Load())
		}
		return low
	}

	said := int64(0)
	for b.Loop() {
		r.Say(speaker, "hello, everyone", 0)
		said++
		for said-slowest() > window {
			// Wait for the drainers; they are never far behind.
			runtime.Gosched()
		}
	}
	for slowest() < said {
		runtime.Gosched()
	}
	b.ReportMetric(float64(said*members)/b.Elapsed().Seconds(), "deliveries/s")
	cancel()
	<-ended
	drainers.Wait()
	for i := range received {
		if got := received[i].Load(); got != said {
			b.Fatalf("member %d got %d lines, want %d", i, got, said)
		}
	}
}

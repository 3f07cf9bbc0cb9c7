package room

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"chatroom/host/wire"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// A pasted block of ten lines goes through, and one more (the slack for
// lines paced by their client that arrive together, see HeldLimits); the
// twelfth line at once is refused, to its sender alone; time brings
// tokens back.
func TestRateLimit(t *testing.T) {
	clk := &clock{now: testTime}
	tr := startRoom(t, Config{Now: clk.Now, Limits: wire.Limits{Burst: 10, PerSecond: 2}})
	ana := tr.join("ana")
	bob := tr.join("bob")
	ana.frames() // bob's join

	for i := range 12 {
		bob.say(fmt.Sprintf("line %d", i))
	}
	tr.sync()
	var want []wire.Frame
	for i := range 11 {
		want = append(want, sayEvent(uint64(3+i), "bob", fmt.Sprintf("line %d", i)))
	}
	ana.expect(want...)
	bob.expect(append(want, errorNotice("not sent: you are sending faster than the room allows (10 lines at once, then 2 a second)"))...)

	clk.advance(500 * time.Millisecond)
	bob.say("after a pause")
	tr.sync()
	later := sayEvent(14, "bob", "after a pause")
	later.Time = clk.Now()
	ana.expect(later)
	bob.expect(later)
	if got := bob.welcome.Limits; got == nil || got.Burst != 10 || got.PerSecond != 2 {
		t.Fatalf("the welcome announces %+v", got)
	}
}

// Attack: a member that keeps sending whatever it is told is kicked for
// flooding, and the room saw no more than its burst.
func TestFloodKicked(t *testing.T) {
	clk := &clock{now: testTime}
	tr := startRoom(t, Config{Now: clk.Now, Limits: wire.Limits{Burst: 10, PerSecond: 2}})
	ana := tr.join("ana")
	flooder := tr.joinUndrained("flooder")
	ana.frames()
	for i := range 10_000 {
		flooder.say(fmt.Sprintf("spam %d", i))
	}
	tr.sync()
	frames := ana.frames()
	says := 0
	for _, f := range frames[:len(frames)-1] {
		if f.Kind != wire.KindSay {
			t.Fatalf("ana got %+v", f)
		}
		says++
	}
	if want := HeldLimits(wire.Limits{Burst: 10, PerSecond: 2}).Burst; says != want {
		t.Fatalf("ana saw %d of the flood, want the bucket's %d", says, want)
	}
	if last := frames[len(frames)-1]; last.Kind != wire.KindLeave || last.Code != wire.CodeKicked || last.Text != "flooding" {
		t.Fatalf("ana's last frame: %+v", last)
	}
	// The flooder was told each time (its burst echoed, then a notice per
	// refused line), and then why it was sent out.
	got := flooder.frames()
	if want := HeldLimits(wire.Limits{Burst: 10, PerSecond: 2}).Burst + floodStrikes - 1; len(got) != want || got[len(got)-1].Type != wire.TypeNotice {
		t.Fatalf("the flooder got %d frames, want %d", len(got), want)
	}
	flooder.expectFinal(closedFrame(wire.CodeKicked, "", "flooding"))
}

// A ban with a duration ends by itself; /bans says until when; a ban can be
// lifted by the key tag /bans shows.
func TestTimedBanAndUnbanByKey(t *testing.T) {
	clk := &clock{now: testTime}
	tr := startRoom(t, Config{Now: clk.Now})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	tr.joinReq(JoinRequest{Name: "bob", Addr: "10.0.0.2", Identity: "SHA256:bobkey0123456789"})
	tr.joinReq(JoinRequest{Name: "cy", Addr: "10.0.0.3", Identity: "SHA256:cykey00123456789"})
	ana.frames()

	ana.say("/ban bob 10m spamming")
	ana.say("/ban cy 3d")
	ana.say("/bans")
	got := ana.frames()
	list := got[len(got)-1]
	if !strings.Contains(list.Text, "bob (10.0.0.2) key bobkey01, by ana on 2025-03-14 15:09, until 2025-03-14 15:19: spamming") ||
		!strings.Contains(list.Text, "until 2025-03-17 15:09") {
		t.Fatalf("/bans says:\n%s", list.Text)
	}
	if r := tr.refused(JoinRequest{Name: "robert", Addr: "10.0.0.9", Identity: "SHA256:bobkey0123456789"}); r.Code != wire.CodeBanned {
		t.Fatalf("bob's key under another name: %+v", r)
	}

	clk.advance(10 * time.Minute)
	tr.joinReq(JoinRequest{Name: "bob", Addr: "10.0.0.2", Identity: "SHA256:bobkey0123456789"}) // fails the test unless welcomed
	ana.frames()

	ana.say("/unban cykey001")
	if n := ana.frames(); len(n) == 0 || n[0].Text != "unbanned cy" {
		t.Fatalf("unban by key: %+v", n)
	}
	tr.joinReq(JoinRequest{Name: "cy", Addr: "10.0.0.3", Identity: "SHA256:cykey00123456789"})

	for _, tt := range []struct {
		in string
		ok bool
	}{{"10m", true}, {"2h", true}, {"1h30m", true}, {"3d", true}, {"365d", true}, {"366d", false}, {"0m", false}, {"-5m", false}, {"spam", false}, {"d", false}, {"10", false}} {
		if _, err := parseDuration(tt.in); (err == nil) != tt.ok {
			t.Errorf("parseDuration(%q) = %v, want ok %v", tt.in, err, tt.ok)
		}
	}
}

func TestWhois(t *testing.T) {
	tr := startRoom(t, Config{})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	bob := tr.joinReq(JoinRequest{Name: "bob", Addr: "10.0.0.2", Identity: "SHA256:bobkey0123456789"})
	ana.frames()
	ana.say("/whois BOB")
	ana.expect(notice("bob is a member, key bobkey01, from 10.0.0.2"))
	bob.say("/whois bob")
	bob.expect(notice("bob is a member, key bobkey01")) // the address only to admins
	bob.say("/whois ana")
	bob.expect(notice("ana is the host, no key"))
	bob.say("/whois nobody")
	bob.expect(errorNotice(`no one here is called "nobody"`))
}

// A muted member reads, and what it says is refused with a notice to it
// alone; leaving and coming back does not lift the mute; time or /unmute
// does.
func TestMute(t *testing.T) {
	clk := &clock{now: testTime}
	tr := startRoom(t, Config{Now: clk.Now})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	bob := tr.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:bobkey0123456789"})
	ana.frames()

	ana.say("/mute bob 10m shouting")
	ana.expect(notice("muted bob until 15:19"))
	bob.expect(notice("ana muted you until 15:19: you can read, not speak (shouting)"))
	// (A /msg to an admin goes through, to appeal: see TestMutedMayAppeal.)
	for _, line := range []string{"hello?", "/me sulks"} {
		bob.say(line)
		bob.expect(errorNotice("not sent: you are muted until 15:19"))
	}
	ana.expectNothing()
	ana.say("still reading?")
	said := sayEvent(bob.welcome.Seq+1, "ana", "still reading?")
	said.Time = clk.Now()
	bob.expect(said)
	ana.frames()

	// A new name with the same key is still muted.
	bob.say("/quit")
	ana.frames()
	robert := tr.joinReq(JoinRequest{Name: "robert", Identity: "SHA256:bobkey0123456789"})
	robert.say("it's me")
	robert.expect(errorNotice("not sent: you are muted until 15:19"))

	clk.advance(10 * time.Minute)
	ana.frames()
	// robert joined while muted, unseen by the others (see Member.hidden):
	// once it may speak it is shown to everyone, itself included, first.
	robert.say("free")
	if got := robert.frames(); len(got) != 2 || got[0].Kind != wire.KindJoin || got[0].Name != "robert" || got[1].Text != "free" {
		t.Fatalf("after the mute ran out: %+v", got)
	}

	ana.frames()
	ana.say("/mute robert")
	ana.frames()
	robert.frames()
	ana.say("/unmute robert")
	ana.expect(notice("unmuted robert"))
	robert.expect(notice("ana unmuted you: you can speak again"))
	ana.say("/mute ana")
	ana.expect(errorNotice("not allowed: you cannot mute yourself (/quit leaves the room)"))
}

package join

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"chatroom/host/wire"
)

// Attack: while bob is away, a flood of joins and leaves goes through the
// room. The room keeps its messages and drops notices of the flood, so
// that bob's replay has gaps in its numbers, and the count of what it
// could not replay (the welcome's missed) counts joins and leaves with
// the messages. The client shows every event of the replay, says neither
// number as if it counted what bob missed, and still takes a gap in live
// events for a broken room, coming back from the last event it had.
func TestResumeWithGapsAfterJoinFlood(t *testing.T) {
	cert, fp := roomKey(t)
	hellos := make(chan wire.Frame, 3)
	join := func(seq uint64, name string) wire.Frame {
		return wire.Frame{Type: wire.TypeEvent, Kind: wire.KindJoin, Seq: seq, Time: testTime, Name: name, Role: wire.RoleMember}
	}
	leave := func(seq uint64, name string) wire.Frame {
		return wire.Frame{Type: wire.TypeEvent, Kind: wire.KindLeave, Seq: seq, Time: testTime, Name: name, Code: wire.CodeLost}
	}
	room := newTLSFakeRoom(t, cert, fp,
		func(h *fakeHost) {
			hellos <- h.welcomeAs(10, nil)
			h.send(say(11, "cy", "one", 0))
			// The connection breaks.
		},
		func(h *fakeHost) {
			// 12 to 16 are older than the room keeps (messages among
			// them), and of 17 to 1,999 the room holds three messages and
			// the flood's last notices.
			hellos <- h.welcomeAs(2000, func(w *wire.Frame) { w.Resumed, w.Missed = true, 5 })
			h.send(say(17, "cy", "two", 0))
			h.send(say(503, "cy", "three", 0))
			h.send(join(1996, "x990"))
			h.send(leave(1997, "x990"))
			h.send(say(1999, "cy", "four", 0))
			h.send(say(2001, "cy", "live", 0))
			h.send(say(2003, "cy", "skipped", 0)) // 2002 never came: a broken room
			h.read()                              // until the client hangs up
		},
		func(h *fakeHost) {
			hellos <- h.welcomeAs(2004, func(w *wire.Frame) { w.Resumed = true })
			h.send(say(2002, "cy", "again", 0))
			h.send(say(2003, "cy", "after the gap", 0))
			h.expect(wire.TypeSay, "/quit")
			closedLeft(h)
		})
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), room.dialer(), Options{Name: "bob", Reconnect: testReconnect()}, ui)
	waitPrinted(t, ui, "after the gap")
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	<-hellos
	if second := <-hellos; second.Resume == nil || second.Resume.Seq != 11 {
		t.Fatalf("second hello %+v, want a resume from 11", second)
	}
	// The gap in live events ended that connection: the client came back
	// from the last event it had in order.
	if third := <-hellos; third.Resume == nil || third.Resume.Seq != 2001 {
		t.Fatalf("third hello %+v, want a resume from 2001", third)
	}
	if got, want := shownTexts(ui), []string{"cy one", "cy two", "cy three", "cy four", "cy live", "cy again", "cy after the gap"}; !slices.Equal(got, want) {
		t.Errorf("shown %q, want %q", got, want)
	}
	out := ui.output()
	for _, want := range []string{
		"-- back in the room, the events you missed follow",
		"!! some messages from while you were away were lost (older than the room keeps)",
	} {
		if !slices.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
	// 1,983 events were due after the 5 lost, of which the room sent 5;
	// of the 5, how many were messages the client cannot know.
	counted := regexp.MustCompile(`\d+ (missed|messages?|events?)\b`)
	for _, l := range out {
		if counted.MatchString(l) {
			t.Errorf("output line %q counts the flood's dropped notices as missed", l)
		}
	}
	if !slices.ContainsFunc(out, func(l string) bool { return strings.Contains(l, "x990") }) {
		t.Errorf("output %q: want the flood's last notices shown", out)
	}
}

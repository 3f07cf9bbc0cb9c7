package host

import (
	"fmt"
	"testing"

	"chatroom/host/wire"
)

// Attack: joins and leaves from ever new addresses, as many as the room
// lets in (its join limits lifted here, as for a room that many join at
// once), then a clean restart of the host. The room keeps its messages
// apart from the flood's notices, but the history it saved used to start
// after the flood's last gap: after the restart a newcomer got no backlog
// from before the flood, and a member away all along lost it from its
// resume. Saved with its gaps, it holds the message across the restart.
func TestFloodedHistorySurvivesRestart(t *testing.T) {
	requireLoopbackRange(t)
	cfg := Config{StateDir: t.TempDir(), History: 40, JoinLimits: benchJoinLimits}
	h1 := startHost(t, cfg)
	ana := member(t, h1, "ana", dialOptions{})
	bobKey := keyed(t)
	bob := member(t, h1, "bob", bobKey)
	ana.nextEvent(wire.KindJoin)
	point := &wire.Resume{Epoch: bob.welcome.Epoch, Seq: bob.welcome.Seq}
	bob.kill() // bob's Wi-Fi drops before anything is said
	ana.nextEvent(wire.KindLeave)
	ana.say("before the flood")
	ana.nextEvent(wire.KindSay)

	const cycles = 60 // 120 notices: three times what the history keeps of them
	for i := range cycles {
		x := member(t, h1, fmt.Sprint("x", i), dialOptions{from: fmt.Sprintf("127.0.%d.%d", 1+i/250, 2+i%250)})
		x.conn.Close()
	}
	// Once ana has seen every notice, the room has numbered them all.
	for range 2 * cycles {
		if f := ana.next(); f.Type != wire.TypeEvent || (f.Kind != wire.KindJoin && f.Kind != wire.KindLeave) {
			t.Fatalf("ana got %+v during the flood, want its joins and leaves", f)
		}
	}
	if err := h1.Close(); err != nil {
		t.Fatal(err)
	}

	h2 := startHost(t, cfg)
	cy := member(t, h2, "cy", dialOptions{})
	cy.say("here") // after the backlog, if there is none
	if f := cy.next(); f.Type != wire.TypeEvent || f.Text != "before the flood" || f.Seq >= cy.welcome.Seq {
		t.Fatalf("a newcomer's backlog after the restart starts with %+v, want the message from before the flood", f)
	}
	if f := cy.nextEvent(wire.KindSay); f.Text != "here" {
		t.Fatalf("after the backlog: %+v", f)
	}

	bob = rejoin(t, h2, "bob", point, bobKey)
	if !bob.welcome.Resumed || bob.welcome.Missed != 0 {
		t.Fatalf("bob's welcome after the restart: resumed %v, missed %d; want resumed, none missed", bob.welcome.Resumed, bob.welcome.Missed)
	}
	// As join checks a replay: increasing, below the welcome's number;
	// the flood's dropped notices are its only gaps.
	f := bob.next()
	if f.Type != wire.TypeEvent || f.Text != "before the flood" || f.Seq <= point.Seq {
		t.Fatalf("bob's replay after the restart starts with %+v, want the message from before the flood", f)
	}
	for f.Seq+1 < bob.welcome.Seq {
		next := bob.next()
		if next.Type != wire.TypeEvent || next.Seq <= f.Seq || next.Seq >= bob.welcome.Seq {
			t.Fatalf("bob's replay: %+v after event %d (welcome %d)", next, f.Seq, bob.welcome.Seq)
		}
		f = next
	}
	cy.say("live")
	if f := bob.nextEvent(wire.KindSay); f.Text != "live" || f.Seq != bob.welcome.Seq+1 {
		t.Fatalf("after bob's replay: %+v", f)
	}
}

// A history file edited by hand (or written by something else) with gaps
// is taken only as the room could have left it: events in increasing
// order, the last one the header's, all after the newest message lost.
// One without lost_message, as hosts wrote before the history had gaps,
// is read as they wrote it: without a gap, anything before it lost.
func TestHistoryWithGapsChecked(t *testing.T) {
	const say3 = `{"type":"event","seq":3,"kind":"say","from":"ana","text":"hi"}` + "\n"
	const join7 = `{"type":"event","seq":7,"kind":"join","name":"x"}` + "\n"
	const leave9 = `{"type":"event","seq":9,"kind":"leave","name":"x"}` + "\n"
	for _, tc := range []struct {
		file string
		lost uint64 // when accepted
		ok   bool
	}{
		{`{"version":1,"epoch":"e1","seq":9,"lost_message":2}` + "\n" + say3 + join7 + leave9, 2, true},
		{`{"version":1,"epoch":"e1","seq":9,"lost_message":0}` + "\n" + say3 + leave9, 0, true},
		{`{"version":1,"epoch":"e1","seq":9,"lost_message":9}` + "\n", 9, true},
		{`{"version":1,"epoch":"e1","seq":9,"lost_message":3}` + "\n" + say3 + leave9, 0, false},  // a lost message that is held
		{`{"version":1,"epoch":"e1","seq":9,"lost_message":10}` + "\n", 0, false},                 // lost after the last event
		{`{"version":1,"epoch":"e1","seq":10,"lost_message":2}` + "\n" + say3 + leave9, 0, false}, // the last event is not seq
		{`{"version":1,"epoch":"e1","seq":9,"lost_message":2}` + "\n" + join7 + say3 + leave9, 0, false},
		{`{"version":1,"epoch":"e1","seq":9,"lost_message":2}` + "\n" + say3 + say3 + leave9, 0, false},
		{`{"version":1,"epoch":"e1","seq":9}` + "\n" + `{"type":"event","seq":8,"kind":"say"}` + "\n" + leave9, 7, true},
		{`{"version":1,"epoch":"e1","seq":9}` + "\n" + join7 + leave9, 0, false}, // a gap without lost_message
		{`{"version":1,"epoch":"e1","seq":9}` + "\n", 9, true},
	} {
		past, problem := parseHistory([]byte(tc.file))
		switch {
		case tc.ok && problem != "":
			t.Errorf("refused (%s):\n%s", problem, tc.file)
		case !tc.ok && problem == "":
			t.Errorf("accepted:\n%s", tc.file)
		case tc.ok && past.LostMessage != tc.lost:
			t.Errorf("newest message lost %d, want %d:\n%s", past.LostMessage, tc.lost, tc.file)
		}
	}
}

package room

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"chatroom/host/wire"
)

// TestBacklog: a newcomer is sent the room's last messages (say and me
// events, not joins, leaves or role changes), oldest first, before anything
// live, and they are the events the others got.
func TestBacklog(t *testing.T) {
	tests := []struct {
		name     string
		backlog  int
		history  int
		messages int      // said by ana after bob joins
		want     []uint64 // the seqs of the newcomer's backlog
	}{
		// Events: 1 ana joins, 2 bob joins, 3.. messages (every third a
		// /me), then bob leaves and comes back as bob2 (not in backlog).
		{name: "fewer than backlog", backlog: 0, messages: 3, want: []uint64{3, 4, 5}},
		{name: "default 50 of 60", backlog: 0, messages: 60, want: seqs(13, 62)},
		{name: "backlog 2", backlog: 2, messages: 5, want: []uint64{6, 7}},
		{name: "none", backlog: -1, messages: 5, want: nil},
		// History 4 holds four messages, 4..7, and bob's leave, 8,
		// when cy comes: joins and leaves do not count against the
		// messages.
		{name: "bounded by history", backlog: 10, history: 4, messages: 5, want: []uint64{4, 5, 6, 7}},
		{name: "no history", backlog: 10, history: -1, messages: 5, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := startRoom(t, Config{Backlog: tt.backlog, History: tt.history})
			ana := tr.join("ana")
			bob := tr.join("bob")
			for i := range tt.messages {
				if i%3 == 2 {
					ana.say(fmt.Sprintf("/me %d", i))
				} else {
					ana.say(fmt.Sprint(i))
				}
			}
			said := ana.frames()
			bob.say("/quit")
			ana.frames()
			cy := tr.join("cy")
			if len(cy.replay) != len(tt.want) {
				t.Fatalf("cy's backlog: %s\nwant seqs %v", lines(cy.replay), tt.want)
			}
			for i, f := range cy.replay {
				if f.Seq != tt.want[i] {
					t.Fatalf("cy's backlog: %s\nwant seqs %v", lines(cy.replay), tt.want)
				}
				// The very event the others got (said[0] is bob's join).
				if g, w := encodeString(f), encodeString(said[f.Seq-2]); g != w {
					t.Errorf("backlog event %d:\n got: %s\nwant: %s", f.Seq, g, w)
				}
			}
			if cy.welcome.Resumed || cy.welcome.Missed != 0 {
				t.Errorf("a newcomer's welcome says resumed %v, missed %d", cy.welcome.Resumed, cy.welcome.Missed)
			}
			// Live events come after, through the outbox.
			cy.expectNothing()
			ana.say("live")
			cy.expect(sayEvent(cy.welcome.Seq+1, "ana", "live"))
		})
	}
}

func seqs(from, to uint64) []uint64 {
	var s []uint64
	for n := from; n <= to; n++ {
		s = append(s, n)
	}
	return s
}

// TestResume: a member the room lost that comes back with a resume point
// in the room's epoch is sent every event after it, exactly as it was first
// sent, up to its own join, but nothing from before it first joined;
// Missed counts what the history no longer holds. A resume point from
// another epoch, or beyond the room's last event, is a newcomer's; so is
// one from a member who quit or was kicked, one without an identity key,
// or one with another key: each gets the backlog, not what was said while
// it was not there.
func TestResume(t *testing.T) {
	// Events: 1 ana joins, 2 bob joins, 3..12 ten messages from ana,
	// 13 bob leaves; then bob comes back, which is event 14.
	bobKey := "SHA256:bob"
	tests := []struct {
		name        string
		history     int
		resume      *wire.Resume
		leave       string // how bob left: "" is a lost connection
		identity    *string
		wantResumed bool
		wantMissed  uint64
		want        []uint64 // seqs replayed after the welcome
	}{
		{name: "everything after", resume: &wire.Resume{Epoch: testEpoch, Seq: 9}, wantResumed: true, want: seqs(10, 13)},
		{name: "from before it joined", resume: &wire.Resume{Epoch: testEpoch, Seq: 0}, wantResumed: true, want: seqs(3, 13)},
		{name: "from its join", resume: &wire.Resume{Epoch: testEpoch, Seq: 2}, wantResumed: true, want: seqs(3, 13)},
		{name: "up to date", resume: &wire.Resume{Epoch: testEpoch, Seq: 13}, wantResumed: true, want: nil},
		// History 5 holds five messages, 8..12, and bob's leave, 13
		// (joins and leaves do not count against the messages): 5, 6,
		// 7 are missed.
		{name: "beyond the history", history: 5, resume: &wire.Resume{Epoch: testEpoch, Seq: 4}, wantResumed: true, wantMissed: 3, want: seqs(8, 13)},
		{name: "just within the history", history: 5, resume: &wire.Resume{Epoch: testEpoch, Seq: 7}, wantResumed: true, want: seqs(8, 13)},
		{name: "no history", history: -1, resume: &wire.Resume{Epoch: testEpoch, Seq: 4}, wantResumed: true, wantMissed: 9, want: nil},
		{name: "dropped as too slow", leave: wire.CodeTooSlow, resume: &wire.Resume{Epoch: testEpoch, Seq: 9}, wantResumed: true, want: seqs(10, 13)},
		// Other epochs and broken points get the backlog: the messages.
		{name: "another epoch", resume: &wire.Resume{Epoch: "other", Seq: 9}, want: seqs(3, 12)},
		{name: "beyond the room", resume: &wire.Resume{Epoch: testEpoch, Seq: 14}, want: seqs(3, 12)},
		{name: "no resume point", want: seqs(3, 12)},
		// So do members the room did not lose, or cannot tell apart.
		{name: "quit", leave: wire.CodeLeft, resume: &wire.Resume{Epoch: testEpoch, Seq: 9}, want: seqs(3, 12)},
		{name: "kicked", leave: wire.CodeKicked, resume: &wire.Resume{Epoch: testEpoch, Seq: 9}, want: seqs(3, 12)},
		{name: "no key", identity: new(""), resume: &wire.Resume{Epoch: testEpoch, Seq: 9}, want: seqs(3, 12)},
		{name: "another key", identity: new("SHA256:mallory"), resume: &wire.Resume{Epoch: testEpoch, Seq: 9}, want: seqs(3, 12)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := startRoom(t, Config{History: tt.history})
			// The raw bytes ana gets are what a replay must repeat.
			ana, _, err := tr.r.Join(context.Background(), JoinRequest{Name: "ana", Owner: true})
			if err != nil {
				t.Fatal(err)
			}
			sent := map[uint64][]byte{1: ana.TakeReplay()[0]} // ana's welcome stands for 1
			bob := tr.joinReq(JoinRequest{Name: "bob", Identity: bobKey})
			for i := range 10 {
				tr.r.Say(ana, fmt.Sprint(i), uint64(i+1))
			}
			switch tt.leave {
			case "", wire.CodeTooSlow:
				tr.r.Leave(bob.m, cmp.Or(tt.leave, wire.CodeLost))
			case wire.CodeLeft:
				bob.say("/quit")
			case wire.CodeKicked:
				tr.r.Say(ana, "/kick bob", 0)
			}
			tr.sync()
			frames, _ := ana.Out().Take()
			for _, b := range frames {
				f := parse(t, b)
				if f.Seq != 0 {
					sent[f.Seq] = b
				}
			}
			identity := bobKey
			if tt.identity != nil {
				identity = *tt.identity
			}
			back := tr.joinReq(JoinRequest{Name: "bob", Identity: identity, Resume: tt.resume})
			w := back.welcome
			if w.Seq != 14 || w.Epoch != testEpoch || w.Resumed != tt.wantResumed || w.Missed != tt.wantMissed {
				t.Errorf("welcome: seq %d, epoch %q, resumed %v, missed %d; want 14, %q, %v, %d",
					w.Seq, w.Epoch, w.Resumed, w.Missed, testEpoch, tt.wantResumed, tt.wantMissed)
			}
			var got []uint64
			for _, f := range back.replay {
				got = append(got, f.Seq)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("replayed %v, want %v", got, tt.want)
			}
			for _, f := range back.replay {
				b, err := wire.Encode(&f)
				if err != nil || !bytes.Equal(b, sent[f.Seq]) {
					t.Errorf("event %d replayed as %s, sent as %s", f.Seq, b, sent[f.Seq])
				}
			}
			back.expectNothing()
		})
	}
}

// TestReplayBeyondOutbox: a replay of more events than the outbox holds is
// handed over whole, and the member is not dropped as too slow for it.
func TestReplayBeyondOutbox(t *testing.T) {
	tr := startRoom(t, Config{Outbox: 4})
	ana := tr.join("ana")
	bob := tr.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:bob"})
	point := &wire.Resume{Epoch: testEpoch, Seq: bob.welcome.Seq}
	for i := range 100 {
		ana.say(fmt.Sprint(i)) // bob, who does not read, is dropped as too slow
		ana.frames()
	}
	back := tr.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:bob", Resume: point})
	// 100 messages and bob's leave, between bob's join (2) and his return.
	if len(back.replay) != 101 || !back.welcome.Resumed || back.welcome.Seq != 104 {
		t.Fatalf("bob was replayed %d events (resumed %v, seq %d), want 101", len(back.replay), back.welcome.Resumed, back.welcome.Seq)
	}
	ana.say("after")
	back.expect(sayEvent(105, "ana", "after"))
}

// TestHistoryContinues: the history a closed room leaves, given to a new
// room, lets a member resume across the two with the same epoch and
// numbers.
func TestHistoryContinues(t *testing.T) {
	tr := startRoom(t, Config{Past: History{Epoch: "e7"}, History: 3})
	if _, ok := tr.r.History(); ok {
		t.Fatal("History is available while the room runs")
	}
	ana := tr.join("ana")
	tr.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:bob"}) // event 2
	for i := range 4 {
		ana.say(fmt.Sprint(i))
	}
	ana.frames()
	tr.close()
	past, ok := tr.r.History()
	if !ok || past.Epoch != "e7" || past.Seq != 6 || len(past.Events) != 3 || past.LostMessage != 3 {
		t.Fatalf("History() = %+v, %v; want epoch e7, seq 6, 3 events, message 3 lost", past, ok)
	}
	// bob, who has a key, may resume, and is listed as present when the
	// room opens again; ana, who has none, cannot be told apart from
	// anyone else.
	if want := []Resumable{{NameKey: "bob", Identity: "SHA256:bob", Since: 2, Name: "bob", Role: wire.RoleMember}}; !reflect.DeepEqual(past.Resumable, want) {
		t.Fatalf("resumable %+v, want %+v", past.Resumable, want)
	}

	cfg := Config{Past: past}
	tr2 := startRoom(t, cfg)
	bob := tr2.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:bob", Resume: &wire.Resume{Epoch: "e7", Seq: 2}})
	if bob.welcome.Seq != 7 || !bob.welcome.Resumed || bob.welcome.Missed != 1 {
		t.Fatalf("welcome after restart: %+v", bob.welcome)
	}
	want := []wire.Frame{sayEvent(4, "ana", "1"), sayEvent(5, "ana", "2"), sayEvent(6, "ana", "3")}
	if lines(bob.replay) != lines(want) {
		t.Fatalf("replayed:%s\nwant:%s", lines(bob.replay), lines(want))
	}
	// Without the resumable members, the same room takes no one back.
	cfg.Past.Resumable = nil
	tr3 := startRoom(t, cfg)
	if w := tr3.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:bob", Resume: &wire.Resume{Epoch: "e7", Seq: 2}}).welcome; w.Resumed {
		t.Fatalf("resumed without being resumable: %+v", w)
	}
	// A fresh room without an epoch makes one of its own.
	if fresh := New(Config{}).state.epoch; fresh == "" || fresh == New(Config{}).state.epoch {
		t.Fatalf("fresh epochs %q are empty or repeat", fresh)
	}
}

// TestRefs: the answers to a line carry its ref (its message event, the
// notices to its sender, its private message); what it makes others get
// does not, nor do later frames.
func TestRefs(t *testing.T) {
	tr := startRoom(t, Config{})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	bob := tr.join("bob")
	ana.frames()

	withRef := func(f wire.Frame, ref uint64) wire.Frame { f.Ref = ref; return f }
	bob.sayRef("hi", 7)
	ana.expect(withRef(sayEvent(3, "bob", "hi"), 7))
	bob.expect(withRef(sayEvent(3, "bob", "hi"), 7))
	bob.sayRef("/me waves", 8)
	bob.expect(withRef(meEvent(4, "bob", "waves"), 8))
	ana.frames()
	bob.sayRef("/who", 9)
	bob.expect(withRef(notice("2 here: ana (host), bob"), 9))
	bob.sayRef("/nope", 10)
	bob.expect(withRef(errorNotice(`unknown command "/nope"; /help lists the commands`), 10))
	bob.sayRef("/msg ana psst", 11)
	private := wire.Frame{Type: wire.TypePrivate, Seq: 4, PrivateSeq: 1, From: "bob", To: "ana", Text: "psst", Time: testTime, Ref: 11}
	bob.expect(private)
	ana.expect(private)

	// ana mutes bob: her confirmation carries her ref, bob's notice none.
	ana.sayRef("/mute bob", 12)
	bob.expect(notice("ana muted you until an admin lifts it: you can read, not speak"))
	ana.expect(withRef(notice("muted bob until /unmute"), 12))
	bob.sayRef("still?", 13)
	bob.expect(withRef(errorNotice("not sent: you are muted until an admin lifts it"), 13))
	// A line without a ref, and what follows, carry none.
	ana.say("/unmute bob")
	bob.expect(notice("ana unmuted you: you can speak again"))
	ana.expect(notice("unmuted bob"))
}

// TestTakenOnResume: a member with an identity key who resumes is told
// the ref of the last line the room handled from its previous connection,
// whatever that line was (a private message is in no replay); the room
// forgets it once told. A member without a key, with another key, or not
// resuming, is told nothing.
func TestTakenOnResume(t *testing.T) {
	tr := startRoom(t, Config{})
	ana := tr.join("ana")
	bob := tr.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:bob"})
	cy := tr.join("cy")
	bob.sayRef("hello", 4)
	bob.sayRef("/msg ana psst", 5)
	cy.sayRef("hi", 9)
	tr.sync()
	point := &wire.Resume{Epoch: testEpoch, Seq: bob.welcome.Seq}
	tr.r.Leave(bob.m, wire.CodeLost)
	tr.r.Leave(cy.m, wire.CodeLost)
	tr.sync()

	other := tr.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:other", Resume: point})
	if other.welcome.Taken != 0 {
		t.Errorf("another key was told taken %d", other.welcome.Taken)
	}
	tr.r.Leave(other.m, wire.CodeLost)
	tr.sync()
	back := tr.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:bob", Resume: point})
	if !back.welcome.Resumed || back.welcome.Taken != 5 {
		t.Errorf("welcome: resumed %v, taken %d; want resumed, taken 5", back.welcome.Resumed, back.welcome.Taken)
	}
	if w := tr.joinReq(JoinRequest{Name: "cy", Resume: point}).welcome; w.Taken != 0 {
		t.Errorf("a member without a key was told taken %d", w.Taken)
	}

	// Told once: the next connection (a replacement, still resuming) is
	// told what this one handled.
	back.sayRef("again", 6)
	tr.sync()
	if w := tr.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:bob", Resume: point}).welcome; w.Taken != 6 {
		t.Errorf("replacing connection: taken %d, want 6", w.Taken)
	}
	if w := tr.joinReq(JoinRequest{Name: "dee", Identity: "SHA256:bob"}).welcome; w.Taken != 0 {
		t.Errorf("a join that does not resume was told taken %d", w.Taken)
	}
	ana.frames()
}

// TestPrivatesResumed: a member that resumes is sent the private messages
// it did not get (numbered above its resume point's Private), each where
// it came among the events, and its numbering goes on; a member resuming
// from further on gets none again.
func TestPrivatesResumed(t *testing.T) {
	private := func(after, n uint64, text string) wire.Frame {
		return wire.Frame{Type: wire.TypePrivate, Seq: after, PrivateSeq: n, From: "ana", To: "bob", Text: text, Time: testTime}
	}
	for _, tt := range []struct {
		name string
		seen uint64 // the last private bob got
		want []wire.Frame
	}{
		{"missed two", 1, []wire.Frame{sayEvent(4, "cy", "x"), private(4, 2, "two"), sayEvent(5, "cy", "y"), private(5, 3, "three"), leaveEvent(6, "bob", wire.CodeLost, "", "")}},
		{"missed none", 3, []wire.Frame{sayEvent(4, "cy", "x"), sayEvent(5, "cy", "y"), leaveEvent(6, "bob", wire.CodeLost, "", "")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tr := startRoom(t, Config{})
			ana := tr.join("ana")
			bob := tr.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:bob"})
			cy := tr.join("cy") // 3
			ana.say("/msg bob one")
			cy.say("x") // 4
			ana.say("/msg bob two")
			cy.say("y") // 5
			ana.say("/msg bob three")
			tr.sync()
			tr.r.Leave(bob.m, wire.CodeLost) // 6
			tr.sync()

			back := tr.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:bob", Resume: &wire.Resume{Epoch: testEpoch, Seq: 3, Private: tt.seen}})
			if !back.welcome.Resumed || lines(back.replay) != lines(tt.want) {
				t.Fatalf("resumed %v, replayed:%s\nwant:%s", back.welcome.Resumed, lines(back.replay), lines(tt.want))
			}
			ana.say("/msg bob four")
			back.expect(private(7, 4, "four"))
		})
	}

	// Someone who may not resume starts a numbering of its own.
	tr := startRoom(t, Config{})
	ana := tr.join("ana")
	dee := tr.joinReq(JoinRequest{Name: "dee", Identity: "SHA256:dee", Resume: &wire.Resume{Epoch: testEpoch, Seq: 0, Private: 7}})
	ana.say("/msg dee hi")
	want := private(2, 1, "hi")
	want.To = "dee"
	dee.expect(want)
}

func TestWithPrivates(t *testing.T) {
	p := func(after, n uint64) PrivateCopy {
		return PrivateCopy{After: after, Seq: n, Frame: []byte(fmt.Sprintf("p%d@%d", n, after))}
	}
	ev := func(seq uint64) []byte { return []byte(fmt.Sprint("e", seq)) }
	privates := []PrivateCopy{p(3, 1), p(4, 2), p(4, 3), p(6, 4), p(8, 5)}
	for _, tt := range []struct {
		public [][]byte
		first  uint64
		seen   uint64
		want   string
	}{
		{[][]byte{ev(5), ev(6), ev(7), ev(8)}, 5, 0, "p1@3 p2@4 p3@4 e5 e6 p4@6 e7 e8 p5@8"},
		{[][]byte{ev(5), ev(6), ev(7), ev(8)}, 5, 3, "e5 e6 p4@6 e7 e8 p5@8"},
		{[][]byte{ev(5), ev(6), ev(7), ev(8)}, 5, 5, "e5 e6 e7 e8"},
		{nil, 9, 4, "p5@8"}, // up to date with the events
	} {
		var got []string
		public := make([]entry, len(tt.public))
		for k, frame := range tt.public {
			public[k] = entry{frame: frame, seq: tt.first + uint64(k)}
		}
		for _, b := range withPrivates(public, privates, tt.seen) {
			got = append(got, string(b))
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("first %d, seen %d: %q, want %q", tt.first, tt.seen, got, tt.want)
		}
	}
}

// TestPrivatesKeptBounded: the room keeps a member's last maxPrivatesKept
// private frames, and none sent before the oldest event it holds.
func TestPrivatesKeptBounded(t *testing.T) {
	tr := startRoom(t, Config{History: 3})
	ana := tr.join("ana")
	bob := tr.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:bob"})
	ana.say("/msg bob old") // after event 2
	for i := range 3 {
		ana.say(fmt.Sprint(i)) // 3, 4, 5
	}
	for i := range maxPrivatesKept + 5 {
		ana.say(fmt.Sprint("/msg bob ", i))
	}
	tr.sync()
	var kept []string
	for _, p := range bob.m.privates {
		kept = append(kept, parse(t, p.Frame).Text)
	}
	if len(kept) != maxPrivatesKept || kept[0] != "5" || kept[len(kept)-1] != fmt.Sprint(maxPrivatesKept+4) {
		t.Errorf("kept %q, want the last %d", kept, maxPrivatesKept)
	}

	tr2 := startRoom(t, Config{History: 3})
	ana2 := tr2.join("ana")
	cy := tr2.joinReq(JoinRequest{Name: "cy", Identity: "SHA256:cy"})
	ana2.say("/msg cy old") // after event 2
	for i := range 4 {
		ana2.say(fmt.Sprint(i)) // 3..6: the history holds messages 4..6
	}
	ana2.say("/msg cy new") // after event 6, when 2 is no longer held
	tr2.sync()
	if n := len(cy.m.privates); n != 1 || parse(t, cy.m.privates[0].Frame).Text != "new" {
		t.Errorf("kept %d private frames, want only the one sent within the history", n)
	}
}

// TestEveryoneResumesAfterRestart: a room of more members than it keeps
// departures for (maxDeparted) closes and opens again; every member
// present when it closed resumes, and so do those who had left before. (The
// room once kept only maxDeparted in all: after a restart of a room of
// thousands, most came back as newcomers.)
func TestEveryoneResumesAfterRestart(t *testing.T) {
	const present, departed = maxDeparted + 200, 10
	tr := startRoom(t, Config{JoinLimits: unlimitedJoins, Outbox: 1 << 16, Backlog: -1})
	id := func(i int) JoinRequest {
		return JoinRequest{Name: fmt.Sprint("m", i), Addr: addrN(i), Identity: fmt.Sprint("SHA256:m", i)}
	}
	// Each welcome lists the room, so they are only looked into for the
	// one field that matters (parsing them all would be most of the test).
	join := func(tr *testRoom, req JoinRequest) (*Member, []byte) {
		m, refusal, err := tr.r.Join(t.Context(), req)
		if err != nil || refusal != nil {
			t.Fatalf("Join(%+v) = %+v, %v", req, refusal, err)
		}
		return m, m.TakeReplay()[0]
	}
	seqs := make([]uint64, present+departed)
	for i := range present + departed {
		m, welcome := join(tr, id(i))
		var w struct{ Seq uint64 }
		if err := json.Unmarshal(welcome, &w); err != nil {
			t.Fatal(err)
		}
		seqs[i] = w.Seq
		if i >= present {
			tr.r.Leave(m, wire.CodeLost)
		}
	}
	tr.sync()
	tr.close()
	past, ok := tr.r.History()
	if !ok || len(past.Resumable) != present+departed {
		t.Fatalf("the closed room keeps %d members who may resume, want %d", len(past.Resumable), present+departed)
	}

	tr2 := startRoom(t, Config{Past: past, JoinLimits: unlimitedJoins, Outbox: 1 << 16, Backlog: -1})
	for i := range present + departed {
		req := id(i)
		req.Resume = &wire.Resume{Epoch: past.Epoch, Seq: seqs[i]}
		if _, welcome := join(tr2, req); !bytes.Contains(welcome, []byte(`"resumed":true`)) {
			t.Fatalf("member %d of %d did not resume after the restart: %s", i, present+departed, welcome[:min(len(welcome), 300)])
		}
	}
}

package room

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"chatroom/host/wire"
)

// Attack: a flood of joins and leaves just before the host is restarted
// cleanly (for an upgrade, or because the flood made its owner restart
// it). The room holds messages apart from the flood's notices, but the
// saved history used to be the events since the flood's last gap: after
// the restart a newcomer got no backlog from before the flood and a
// member away all along lost its resume. Saved with its gaps, the history
// a room is given back is the one it left: every catch-up, whatever the
// resume point and whoever resumes, is what it would have been without
// the restart.
func TestRestartKeepsFloodedHistory(t *testing.T) {
	cfg := Config{History: 8, Backlog: 5, JoinLimits: unlimitedJoins, Outbox: 1 << 12}
	tr := startRoom(t, cfg)
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	bobReq := JoinRequest{Name: "bob", Addr: "10.0.0.2", Identity: "SHA256:bob"}
	bob := tr.joinReq(bobReq)
	eveReq := JoinRequest{Name: "eve", Addr: "10.0.0.5", Identity: "SHA256:eve"}
	var eveSince, bobPoint uint64
	for i := range 10 {
		ana.say(fmt.Sprint("before ", i))
		if i == 5 {
			// bob has seen this far when his Wi-Fi drops.
			tr.inState(func(s *state) { bobPoint = s.seq })
		}
		if i == 3 {
			// eve's join and leave fall between the last message the
			// room will lose and the first it keeps: she missed no
			// message, though her events are gone.
			eve := tr.joinReq(eveReq)
			eveSince = eve.welcome.Seq
			tr.r.Leave(eve.m, wire.CodeLost)
		}
	}
	tr.r.Say(ana.m, "/msg bob a private word", 0)
	tr.r.Leave(bob.m, wire.CodeLost)
	flood := func(from int) {
		for i := from; i < from+30; i++ {
			x := tr.joinReq(JoinRequest{Name: fmt.Sprint("x", i), Addr: addrN(i), Identity: fmt.Sprint("SHA256:x", i)})
			tr.r.Leave(x.m, wire.CodeLost)
		}
	}
	flood(0)
	ana.say("between the floods")
	cy := tr.joinReq(JoinRequest{Name: "cy", Addr: "10.0.0.3", Identity: "SHA256:cy"})
	tr.r.Leave(cy.m, wire.CodeLost)
	flood(100)
	ana.say("after the floods")
	flood(200) // the room's last events are notices
	tr.sync()

	tr.close()
	past, _ := tr.r.History()
	before := catchUps(tr.r.state, past.Resumable)
	heldBefore := heldEvents(tr.r.state)
	backlogBefore := catchUpFrames(tr.r.state, nil, Resumable{})
	if !slices.ContainsFunc(backlogBefore, func(f string) bool { return strings.Contains(f, `"before 9"`) }) {
		t.Fatalf("before the restart, the backlog lacks the messages from before the floods:%s", strings.Join(backlogBefore, "\n\t"))
	}
	if past.LostMessage == 0 {
		t.Fatal("the room lost no message: the test needs more than History of them")
	}

	cfg.Past = past
	tr2 := startRoom(t, cfg)
	var after []string
	var heldAfter string
	tr2.inState(func(s *state) {
		after = catchUps(s, past.Resumable)
		heldAfter = heldEvents(s)
	})
	if heldAfter != heldBefore {
		t.Errorf("the history after the restart:\n%s\nbefore:\n%s", heldAfter, heldBefore)
	}
	if len(after) != len(before) {
		t.Fatalf("%d catch-ups after the restart, %d before", len(after), len(before))
	}
	for i := range before {
		if after[i] != before[i] {
			t.Fatalf("a catch-up changed across the restart:\nafter:  %s\nbefore: %s", after[i], before[i])
		}
	}

	// As members see it: a newcomer gets the backlog it would have had,
	// from before the floods, and bob his replay with his private word.
	dee := tr2.join("dee")
	if got := framesText(dee.replay); got != strings.Join(backlogBefore, "\n") {
		t.Fatalf("a newcomer's backlog after the restart:\n%s\nwant:\n%s", got, strings.Join(backlogBefore, "\n"))
	}
	bobReq.Resume = &wire.Resume{Epoch: past.Epoch, Seq: bobPoint}
	back := tr2.joinReq(bobReq)
	if !back.welcome.Resumed || back.welcome.Missed != 0 {
		t.Fatalf("bob's welcome after the restart: resumed %v, missed %d; want resumed, none missed", back.welcome.Resumed, back.welcome.Missed)
	}
	replay := framesText(back.replay)
	for _, want := range []string{`"before 9"`, `"a private word"`, `"between the floods"`, `"after the floods"`} {
		if !strings.Contains(replay, want) {
			t.Errorf("bob's replay after the restart lacks %s:\n%s", want, replay)
		}
	}
	// eve missed no message: she is not told she did.
	eveReq.Resume = &wire.Resume{Epoch: past.Epoch, Seq: eveSince}
	if w := tr2.joinReq(eveReq).welcome; !w.Resumed || w.Missed != 0 {
		t.Fatalf("eve's welcome after the restart: resumed %v, missed %d; want resumed, none missed", w.Resumed, w.Missed)
	}
}

// catchUps describes what s would send every joiner: a newcomer, and a
// resume from every point of the epoch, as no one the room lost and as
// each of priors.
func catchUps(s *state, priors []Resumable) []string {
	out := []string{"newcomer: " + strings.Join(catchUpFrames(s, nil, Resumable{}), " ")}
	for _, prior := range append([]Resumable{{}}, priors...) {
		for p := range s.seq + 2 {
			resume := &wire.Resume{Epoch: s.epoch, Seq: p}
			frames, resumed, missed := s.catchUp(resume, prior)
			out = append(out, fmt.Sprintf("%s from %d: resumed %v, missed %d: %s", prior.Identity, p, resumed, missed, bytesText(frames)))
		}
	}
	return out
}

func catchUpFrames(s *state, resume *wire.Resume, prior Resumable) []string {
	frames, _, _ := s.catchUp(resume, prior)
	return strings.Split(bytesText(frames), "\n")
}

func bytesText(frames [][]byte) string {
	var b strings.Builder
	for i, f := range frames {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.Write(f[:len(f)-1])
	}
	return b.String()
}

func framesText(frames []wire.Frame) string {
	var b strings.Builder
	for i, f := range frames {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(encodeString(f))
	}
	return b.String()
}

// heldEvents describes s's history: the numbers of the messages and of
// the other events it holds, the newest message it lost, and the next
// event's number.
func heldEvents(s *state) string {
	seqs := func(q *fifo) []uint64 {
		var out []uint64
		for i := range q.len() {
			out = append(out, q.at(i).seq)
		}
		return out
	}
	return fmt.Sprintf("messages %v\nothers %v\nlost %d, next %d", seqs(&s.history.messages), seqs(&s.history.others), s.history.lostMessage, s.history.next)
}

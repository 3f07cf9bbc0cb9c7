package room

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"chatroom/host/wire"
)

// tapeJournal is a Journal that keeps, as the host's file does, the last
// checkpoint and the records appended after it. Append waits while hold is
// set and fails while fail is.
type tapeJournal struct {
	mu          sync.Mutex
	checkpoint  History
	tail        []byte
	appends     int
	checkpoints int
	fail        error
	hold        chan struct{} // Append waits until it is closed
	holding     chan struct{} // closed when an Append waits on hold
}

func (j *tapeJournal) Append(records []byte) error {
	j.mu.Lock()
	hold, holding := j.hold, j.holding
	j.hold = nil
	j.mu.Unlock()
	if hold != nil {
		close(holding)
		<-hold
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.appends++
	if j.fail != nil {
		return j.fail
	}
	if !bytes.HasSuffix(records, endLine) {
		panic("records appended without their end line")
	}
	j.tail = append(j.tail, records...)
	return nil
}

func (j *tapeJournal) Checkpoint(h History) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.checkpoints++
	// A copy, as the host's file is: the History is the room's.
	h.Events = slices.Clone(h.Events)
	h.Resumable = slices.Clone(h.Resumable)
	for i := range h.Resumable {
		h.Resumable[i].Privates = slices.Clone(h.Resumable[i].Privates)
	}
	j.checkpoint, j.tail = h, nil
	return nil
}

// holdNext makes the next Append wait until release is called, and
// returns a channel closed once it waits.
func (j *tapeJournal) holdNext() (waiting <-chan struct{}, release func()) {
	j.mu.Lock()
	defer j.mu.Unlock()
	hold, holding := make(chan struct{}), make(chan struct{})
	j.hold, j.holding = hold, holding
	return holding, func() { close(hold) }
}

// replay is what a restart would make of the journal.
func (j *tapeJournal) replay(t *testing.T, limit int) History {
	t.Helper()
	j.mu.Lock()
	defer j.mu.Unlock()
	h, err := ReplayJournal(j.checkpoint, splitLines(j.tail), limit)
	if err != nil {
		t.Fatalf("replaying the journal: %v", err)
	}
	return h
}

func splitLines(b []byte) [][]byte {
	var lines [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		lines = append(lines, b[:i+1])
		b = b[i+1:]
	}
	return lines
}

// roomCheckpoint is the history the room would checkpoint now, with its
// present members counted as departed: what a replay should give.
func (tr *testRoom) roomCheckpoint() History {
	var h History
	done := make(chan struct{})
	tr.r.send(func(s *state) {
		h = s.checkpoint()
		for i := range h.Resumable {
			h.Resumable[i].Privates = slices.Clone(h.Resumable[i].Privates)
		}
		h.Present = 0
		close(done)
	})
	<-done
	return h
}

func keyedJoin(tr *testRoom, name string, resume *wire.Resume) *client {
	tr.t.Helper()
	return tr.joinReq(JoinRequest{Name: name, Identity: "SHA256:" + name, Resume: resume})
}

// checkReplay checks that the journal, replayed, is the room as it is.
func checkReplay(t *testing.T, tr *testRoom, j *tapeJournal, limit int) {
	t.Helper()
	tr.sync()
	got, want := j.replay(t, limit), tr.roomCheckpoint()
	g, w := strings.SplitAfter(describeHistory(got), "\n"), strings.SplitAfter(describeHistory(want), "\n")
	for i := range max(len(g), len(w)) {
		if i >= len(g) || i >= len(w) || g[i] != w[i] {
			t.Fatalf("the journal replayed differs from the room at line %d:\n got: %s\nwant: %s", i+1, g[min(i, len(g)-1)], w[min(i, len(w)-1)])
		}
	}
}

func describeHistory(h History) string {
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %s seq %d lost %d present %d\n", h.Epoch, h.Seq, h.LostMessage, h.Present)
	for _, e := range h.Events {
		b.Write(e)
	}
	for _, r := range h.Resumable {
		fmt.Fprintf(&b, "resumable %s %s since %d taken %d pseq %d\n", r.NameKey, r.Identity, r.Since, r.Taken, r.PrivateSeq)
		for _, p := range r.Privates {
			fmt.Fprintf(&b, "  after %d seq %d %s", p.After, p.Seq, p.Frame)
		}
	}
	return b.String()
}

// The journal holds, at every moment, what the room would keep were it
// closed then: its events, and every member who may resume with exactly
// the ref of its last line, its private frames and its first join, those
// present included; through joins, resumes, replaced connections, renames,
// private messages, lines refused, departures of each kind, and the
// checkpoints the journal's bound brings.
func TestJournalReplaysTheRoom(t *testing.T) {
	j := &tapeJournal{}
	const limit = 50
	tr := startRoom(t, Config{Journal: j, History: limit, JoinLimits: unlimitedJoins, Outbox: 1 << 16})
	ana := keyedJoin(tr, "ana", nil)
	bob := keyedJoin(tr, "bob", nil)
	cat := tr.join("cat") // no key: nothing of it is kept
	dan := keyedJoin(tr, "dan", nil)
	checkReplay(t, tr, j, limit)

	ana.sayRef("hello", 1)
	bob.sayRef("/msg ana psst", 7)
	ana.sayRef("/msg bob <b> & </b>", 2) // kept as sent, not escaped
	bob.sayRef("/nosuchcommand", 8)      // refused: its ref is taken all the same
	cat.say("hi all")
	dan.sayRef("/nick danny", 3)
	checkReplay(t, tr, j, limit)

	// Lost (may resume), left (may not), and back.
	tr.r.Leave(bob.m, wire.CodeLost)
	tr.r.Leave(dan.m, wire.CodeLeft)
	checkReplay(t, tr, j, limit)
	ana.sayRef("while bob is away", 3)
	bob = keyedJoin(tr, "bob", &wire.Resume{Epoch: testEpoch, Seq: bob.welcome.Seq})
	if !bob.welcome.Resumed || bob.welcome.Taken != 8 {
		t.Fatalf("bob's welcome: resumed %v taken %d; want resumed with 8", bob.welcome.Resumed, bob.welcome.Taken)
	}
	checkReplay(t, tr, j, limit)
	// A second connection of the same person takes the first one's place.
	anaAgain := keyedJoin(tr, "ana", &wire.Resume{Epoch: testEpoch, Seq: ana.welcome.Seq})
	checkReplay(t, tr, j, limit)

	// Enough lines for several checkpoints, and for the history to drop
	// what its window no longer holds.
	bound := journalBound(limit)
	for i := range bound + bound/2 {
		anaAgain.sayRef(fmt.Sprintf("line %d", i), uint64(10+i))
		if i%500 == 0 {
			bob.sayRef(fmt.Sprintf("/msg ana %d", i), uint64(100+i))
		}
	}
	checkReplay(t, tr, j, limit)
	if j.checkpoints == 0 {
		t.Fatalf("no checkpoint after %d records; want one past %d", bound+bound/2, bound)
	}
	tr.r.Leave(anaAgain.m, wire.CodeLost)
	checkReplay(t, tr, j, limit)
}

// No member is handed an event, and no joiner its welcome, before the
// journal has it.
func TestJournalBeforeAnyoneHasIt(t *testing.T) {
	j := &tapeJournal{}
	tr := startRoom(t, Config{Journal: j})
	ana := keyedJoin(tr, "ana", nil)
	bob := keyedJoin(tr, "bob", nil)
	bob.frames() // ana's... nothing: bob joined last

	waiting, release := j.holdNext()
	ana.say("hello")
	<-waiting
	if _, ok := bob.next(); ok {
		t.Fatal("bob was handed a frame while the journal was still being written")
	}
	release()
	if got := bob.frames(); len(got) != 1 || got[0].Text != "hello" {
		t.Fatalf("bob got %s, want ana's line", lines(got))
	}

	// A joiner, among others and alone: its welcome names its join.
	for _, tr := range []*testRoom{tr, startRoom(t, Config{Journal: j})} {
		waiting, release = j.holdNext()
		joined := make(chan *Member, 1)
		go func() {
			m, _, _ := tr.r.Join(context.Background(), JoinRequest{Name: "cat", Identity: "SHA256:cat"})
			joined <- m
		}()
		<-waiting
		// While the journal is being written the joiner has nothing; a
		// room that answered first would have it here soon after. (The
		// wait only gives a wrong room the time to show itself.)
		select {
		case <-joined:
			t.Fatal("the joiner had its welcome before its join was in the journal")
		case <-time.After(50 * time.Millisecond):
		}
		release()
		if m := <-joined; m == nil {
			t.Fatal("cat was not admitted")
		}
	}
}

// A journal that cannot be written (a full disk) stops being written to,
// and the room goes on.
func TestJournalFailureLeavesTheRoomGoing(t *testing.T) {
	j := &tapeJournal{fail: errors.New("no space left on device")}
	tr := startRoom(t, Config{Journal: j})
	ana := tr.join("ana")
	bob := tr.join("bob")
	ana.say("one")
	ana.say("two")
	if got := bob.frames(); len(got) != 2 {
		t.Fatalf("bob got %s, want both lines", lines(got))
	}
	if j.appends != 1 {
		t.Errorf("%d appends; want the failing one alone", j.appends)
	}
}

// ReplayJournal takes only what the room could have written: any other
// line is an error, never a guess.
func TestReplayJournalRefusesDamage(t *testing.T) {
	j := &tapeJournal{}
	tr := startRoom(t, Config{Journal: j})
	ana := keyedJoin(tr, "ana", nil)
	bob := keyedJoin(tr, "bob", nil)
	ana.sayRef("/msg bob hi", 1)
	tr.sync()
	j.mu.Lock()
	checkpoint, good := j.checkpoint, splitLines(j.tail)
	j.mu.Unlock()
	_ = bob
	if _, err := ReplayJournal(checkpoint, good, 0); err != nil {
		t.Fatalf("the room's own journal: %v", err)
	}
	event, _ := wire.Encode(&wire.Frame{Type: wire.TypeEvent, Seq: 99, Kind: wire.KindSay, From: "ana", Text: "x"})
	for name, tail := range map[string][][]byte{
		"unfinished":        good[:len(good)-1],
		"an event skipped":  append(slices.Clone(good), event, endLine),
		"an unknown member": append(slices.Clone(good), []byte(`{"j":"taken","k":"zed","taken":3}`+"\n"), endLine),
		"an unknown kind":   append(slices.Clone(good), []byte(`{"j":"what"}`+"\n"), endLine),
		"not JSON":          append(slices.Clone(good), []byte("{\n"), endLine),
		"a second join":     append(slices.Clone(good), []byte(`{"j":"join","k":"ana","id":"SHA256:x"}`+"\n"), endLine),
		"resumable unleft":  append(slices.Clone(good), []byte(`{"j":"resumable","k":"ana"}`+"\n"), endLine),
		"a private out of turn": append(slices.Clone(good),
			[]byte(`{"j":"private","k":"ana","f":{"type":"private","seq":1,"private_seq":9,"from":"ana","to":"bob","text":"x"}}`+"\n"), endLine),
	} {
		if _, err := ReplayJournal(checkpoint, tail, 0); err == nil {
			t.Errorf("%s: replayed without an error", name)
		}
	}
}

// FuzzReplayJournal: whatever the tail holds, ReplayJournal returns a
// history or an error, and never panics.
func FuzzReplayJournal(f *testing.F) {
	f.Add([]byte(`{"j":"join","k":"ana","id":"SHA256:a"}` + "\n" + `{"j":"end"}` + "\n"))
	f.Add([]byte(`{"type":"event","seq":1,"kind":"say","from":"ana","text":"x"}` + "\n" + `{"j":"leave","k":"ana"}` + "\n" + `{"j":"resumable","k":"ana"}` + "\n" + `{"j":"end"}` + "\n"))
	f.Add([]byte(`{"j":"private","k":"ana","f":{"type":"private","private_seq":1}}` + "\n"))
	f.Fuzz(func(t *testing.T, tail []byte) {
		checkpoint := History{Epoch: testEpoch, Resumable: []Resumable{{NameKey: "ana", Identity: "SHA256:a"}}, Present: 1}
		var lines [][]byte
		for len(tail) > 0 {
			i := bytes.IndexByte(tail, '\n')
			if i < 0 {
				lines = append(lines, tail)
				break
			}
			lines = append(lines, tail[:i+1])
			tail = tail[i+1:]
		}
		ReplayJournal(checkpoint, lines, 10)
	})
}

// Every member present when the host dies may resume, however many: not
// only as many as the room keeps of those who left (maxDeparted).
func TestJournalEveryoneResumesAfterACrash(t *testing.T) {
	const n = maxDeparted + 100
	j := &tapeJournal{}
	tr := startRoom(t, Config{Journal: j, JoinLimits: unlimitedJoins, Outbox: 2 * n})
	points := make([]*wire.Resume, n)
	for i := range n {
		c := keyedJoin(tr, fmt.Sprintf("m%d", i), nil)
		points[i] = &wire.Resume{Epoch: testEpoch, Seq: c.welcome.Seq}
	}
	tr.sync()
	past := j.replay(t, 0)
	tr.close()
	again := startRoom(t, Config{Past: past, JoinLimits: unlimitedJoins})
	for _, i := range []int{0, n / 2, n - 1} {
		c := keyedJoin(again, fmt.Sprintf("m%d", i), points[i])
		if !c.welcome.Resumed {
			t.Errorf("m%d, present at the crash, not resumed (%d present)", i, n)
		}
	}
}

// Messages that wait while the room works are handed out together after
// one journal write (see publish): the room writes the journal, and offers
// each member its events, once for several messages rather than once a
// message, and every member still gets each of them, in order, and none
// before the journal has it.
func TestQueuedMessagesShareAJournalWrite(t *testing.T) {
	j := &tapeJournal{}
	const limit = 50
	tr := startRoom(t, Config{Journal: j, History: limit})
	ana := keyedJoin(tr, "ana", nil)
	bob := keyedJoin(tr, "bob", nil)
	ana.frames()
	bob.frames()

	waiting, release := j.holdNext()
	ana.say("0")
	<-waiting // the room is writing line 0 to the journal
	const queued = 5
	for i := 1; i <= queued; i++ {
		ana.say(fmt.Sprint(i))
	}
	j.mu.Lock()
	before := j.appends
	j.mu.Unlock()
	if _, ok := bob.next(); ok {
		t.Fatal("bob was handed a frame while the journal was still being written")
	}
	release()
	for _, c := range []*client{ana, bob} {
		var got []string
		for _, f := range c.frames() {
			got = append(got, f.Text)
		}
		if want := []string{"0", "1", "2", "3", "4", "5"}; !slices.Equal(got, want) {
			t.Fatalf("%s got %q, want %q", c.m.name, got, want)
		}
	}
	j.mu.Lock()
	appends := j.appends - before
	j.mu.Unlock()
	// Line 0's append, and one for the five that waited.
	if appends != 2 {
		t.Errorf("%d journal writes for %d messages, %d of them queued together; want 2", appends, queued+1, queued)
	}
	checkReplay(t, tr, j, limit)
}

package room

import (
	"fmt"
	"strings"
	"testing"

	"chatroom/host/wire"
)

// keptPrivates returns the size of the private frames s keeps, counted
// afresh, for present and departed members.
func keptPrivates(s *state) int {
	n := 0
	for _, m := range s.members {
		n += privatesSize(m.privates)
	}
	for _, r := range s.departed {
		n += privatesSize(r.Privates)
	}
	return n
}

// checkKept fails the test unless the room's count of kept private bytes
// is exact and within MaxKeptPrivateBytes.
func (tr *testRoom) checkKept(when string) (kept int) {
	tr.t.Helper()
	tr.inState(func(s *state) {
		kept = keptPrivates(s)
		if kept != s.keptPrivateBytes {
			tr.t.Errorf("%s: the room counts %d kept private bytes, holds %d", when, s.keptPrivateBytes, kept)
		}
	})
	if kept > MaxKeptPrivateBytes {
		tr.t.Errorf("%s: %d bytes of private frames kept, want at most %d", when, kept, MaxKeptPrivateBytes)
	}
	return kept
}

// Attack: private messages of 8 KB, twenty to each of many members with
// keys, who then drop their connections: each is kept for their resume,
// bounded per member but, before, not in all (1,024 departed members
// took the host from 9 MB to 290 MB, and into its saved history). The
// total stays within MaxKeptPrivateBytes, present members' and departed
// ones' together, in memory and in the saved history; the oldest departed
// lose theirs first, and the last to leave resumes with all of its own.
func TestKeptPrivatesBoundedInAll(t *testing.T) {
	tr := startRoom(t, Config{Outbox: 1 << 12})
	ana := tr.joinReq(JoinRequest{Name: "ana", Owner: true})
	big := strings.Repeat(`"`, wire.MaxText-20) // 8 KB once escaped, and the line within MaxText
	const members = 40                          // 40 × 20 × 8 KB: half as much again as the bound
	var last *client
	var lastPoint *wire.Resume
	for i := range members {
		c := tr.joinReq(JoinRequest{Name: fmt.Sprint("m", i), Identity: fmt.Sprint("SHA256:m", i)})
		for j := range maxPrivatesKept {
			ana.say(fmt.Sprintf("/msg m%d %d%s", i, j, big))
		}
		tr.sync()
		last, lastPoint = c, &wire.Resume{Epoch: testEpoch, Seq: c.welcome.Seq}
		ana.m.Out().Take() // drained unread: only what the room keeps matters here
		c.m.Out().Take()
	}
	if kept := tr.checkKept("present"); kept < MaxKeptPrivateBytes*9/10 {
		t.Errorf("only %d bytes kept of present members' private frames, want close to the bound", kept)
	}
	for i := range members {
		tr.inState(func(s *state) { tr.r.Leave(s.byKey[NameKey(fmt.Sprint("m", i))], wire.CodeLost) })
		tr.sync()
	}
	tr.checkKept("departed")

	back := tr.joinReq(JoinRequest{Name: last.m.name, Identity: last.m.identity, Resume: lastPoint})
	privates := 0
	for _, f := range back.replay {
		if f.Type == wire.TypePrivate {
			privates++
		}
	}
	if !back.welcome.Resumed || privates != maxPrivatesKept {
		t.Fatalf("the last to leave resumed %v with %d private messages, want its %d", back.welcome.Resumed, privates, maxPrivatesKept)
	}
	tr.checkKept("resumed")
	back.say("/quit")
	tr.sync()
	tr.checkKept("quit")

	tr.close()
	past, _ := tr.r.History()
	saved := 0
	for _, r := range past.Resumable {
		saved += privatesSize(r.Privates)
	}
	if saved > MaxKeptPrivateBytes {
		t.Errorf("the saved history holds %d bytes of private frames, want at most %d", saved, MaxKeptPrivateBytes)
	}
	// Loaded again (as the host does after a restart), the bound holds
	// too, even for a history saved by a host that kept more.
	again := append(past.Resumable, past.Resumable...)
	for i := range again[len(past.Resumable):] {
		again[len(past.Resumable)+i].Identity += "-copy"
	}
	tr2 := startRoom(t, Config{Past: History{Epoch: past.Epoch, Seq: past.Seq, Events: past.Events, LostMessage: past.LostMessage, Resumable: again}})
	tr2.checkKept("loaded")
}

package room

import (
	"fmt"
	"testing"

	"chatroom/host/wire"
)

// TestWelcomeCountsBacklog: a newcomer's welcome says how many events of
// the backlog follow it (wire.Frame.Backlog), so that its client knows
// the backlog is over with the last of them, in a quiet room too; a
// resumed member's welcome, followed by what it missed, says none.
func TestWelcomeCountsBacklog(t *testing.T) {
	for _, tt := range []struct {
		name     string
		backlog  int
		messages int
		want     int
	}{
		{"some", 0, 3, 3},
		{"bounded by the backlog", 2, 5, 2},
		{"none said", 0, 0, 0},
		{"none sent", -1, 5, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tr := startRoom(t, Config{Backlog: tt.backlog})
			ana := tr.join("ana")
			for i := range tt.messages {
				ana.say(fmt.Sprint(i))
			}
			ana.frames()
			cy := tr.join("cy")
			if cy.welcome.Backlog != tt.want || len(cy.replay) != tt.want {
				t.Errorf("the welcome says %d backlog events; %d follow, want %d", cy.welcome.Backlog, len(cy.replay), tt.want)
			}
		})
	}

	tr := startRoom(t, Config{})
	ana := tr.join("ana")
	bob := tr.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:bob"})
	point := &wire.Resume{Epoch: testEpoch, Seq: bob.welcome.Seq}
	tr.r.Leave(bob.m, wire.CodeLost)
	ana.say("while away")
	back := tr.joinReq(JoinRequest{Name: "bob", Identity: "SHA256:bob", Resume: point})
	if !back.welcome.Resumed || len(back.replay) == 0 || back.welcome.Backlog != 0 {
		t.Errorf("a resumed welcome (resumed %v, %d replayed) says %d backlog events, want 0", back.welcome.Resumed, len(back.replay), back.welcome.Backlog)
	}
}

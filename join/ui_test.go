package join

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"chatroom/host/wire"
)

// roomUI is a UI for tests that keeps what Join tells it: a fakeUI that
// also records the roster it is given and the frames it is shown.
type roomUI struct {
	*fakeUI
	mu      sync.Mutex
	entered []string // the welcome's name and Print's lines before it, in order
	roster  *Roster
	shown   []wire.Frame
}

func (u *roomUI) Enter(w wire.Frame, r *Roster) {
	u.mu.Lock()
	u.entered = append(u.entered, "enter "+w.You.Name+" printed "+strings.Join(u.output(), "|"))
	u.roster = r
	u.mu.Unlock()
	u.fakeUI.Enter(w, r) // the greeting
}

func (u *roomUI) Show(f wire.Frame, _ Phase) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.shown = append(u.shown, f)
}

// TestJoinWithRoomUI: a UI that knows the room is told of it before
// anything is shown, given the live roster, and shown frames instead of
// their rendered lines.
func TestJoinWithRoomUI(t *testing.T) {
	event := wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: 42, Time: testTime, From: "cy", Text: "hi bob"}
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcome(41, ana, cy)
		h.send(event)
		h.send(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindJoin, Seq: 43, Time: testTime, Name: "dee", Role: wire.RoleMember})
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	})
	ui := &roomUI{fakeUI: newFakeUI(t)}
	done := joinAsync(context.Background(), dial, Options{Name: "bob"}, ui)
	// Input ends once both frames are shown, so the roster has them.
	go func() {
		for range 500 {
			ui.mu.Lock()
			n := len(ui.shown)
			ui.mu.Unlock()
			if n == 2 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		ui.endInput()
	}()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	ui.mu.Lock()
	defer ui.mu.Unlock()
	if want := []string{"enter bob printed "}; !slices.Equal(ui.entered, want) {
		t.Errorf("Enter calls %q, want %q: once, before anything is printed", ui.entered, want)
	}
	if got := ui.output(); !slices.Equal(got, []string{`joined "Lab 3" as bob (3 here: ana, bob, cy)`}) {
		t.Errorf("printed %q; want only the welcome line", got)
	}
	if len(ui.shown) < 2 || ui.shown[0].Seq != 42 || ui.shown[1].Name != "dee" {
		t.Errorf("shown %+v", ui.shown)
	}
	if ui.roster == nil || !slices.Contains(ui.roster.Names(), "dee") {
		t.Errorf("the roster given to Enter does not follow the room")
	}
}

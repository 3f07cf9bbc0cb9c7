package join

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"chatroom/host/wire"
)

// bigWelcome makes a welcome one of a big room's: no members, their count.
func bigWelcome(w *wire.Frame) {
	w.Members, w.MembersOnRequest, w.MemberCount = nil, true, 300
}

// A big room's welcome leaves the members out: the client says in its
// hello that it asks for them, shows their count, and asks once, when a
// UI first needs them (Tab); the list then replaces what the events had
// told, and the events after it go on from it.
func TestAskMembersWhenNeeded(t *testing.T) {
	asked := make(chan struct{})
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		hello := h.welcomeAs(5, bigWelcome)
		if !hello.AsksMembers {
			t.Errorf("hello %+v: want asks_members", hello)
		}
		h.send(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindJoin, Seq: 6, Time: testTime, Name: "dee", Role: wire.RoleMember})
		if f, _ := h.read(); f.Type != wire.TypeMembers {
			t.Errorf("host: got %+v, want the members asked for", f)
		}
		close(asked)
		h.send(wire.Frame{Type: wire.TypeMembers, Members: []wire.Member{cy, {Name: "ana", Role: wire.RoleOwner, Key: "Rj1ZqTlE"}, {Name: "dee", Role: wire.RoleMember}}})
		h.send(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindLeave, Seq: 7, Time: testTime, Name: "cy", Code: wire.CodeLeft})
		h.send(say(8, "ana", "hi", 0))
		// Asked for once: the next frame is the person's /quit.
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	})
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), dial, Options{Name: "bob"}, ui)
	r := ui.entered(t)
	if partial, n := r.Partial(); !partial || n != 300 {
		t.Fatalf("Partial() = %v, %d; want a partial roster of 300", partial, n)
	}
	waitPrinted(t, ui, "dee joined")
	if got := r.Names(); !slices.Equal(got, []string{"dee", "bob"}) {
		t.Fatalf("before asking, Names() = %v; want only those the events told of", got)
	}
	if !r.WaitWhole(10 * time.Second) {
		t.Fatal("WaitWhole: the members never came")
	}
	<-asked
	waitPrinted(t, ui, "<ana> hi")
	if got := r.Names(); !slices.Equal(got, []string{"ana", "dee", "bob"}) {
		t.Fatalf("after the list and cy's leave, Names() = %v; want ana, dee and bob", got)
	}
	if r.KeyTag("ana") != "Rj1ZqTlE" {
		t.Errorf("ana's key tag %q; want the list's", r.KeyTag("ana"))
	}
	if partial, _ := r.Partial(); partial || !r.WaitWhole(0) {
		t.Fatal("the roster is still partial after the list")
	}
	typeLines(ui, "/quit")
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
}

// A room that never answers costs WaitWhole its wait, once, and nothing
// else (a hostile room must not freeze the prompt at every Tab); a
// room that lists more members than any host lets in is a broken room,
// not a roster of a million.
func TestAskMembersHostile(t *testing.T) {
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcomeAs(5, bigWelcome)
		h.read() // the ask, never answered
		h.expect(wire.TypeSay, "still here")
		ms := make([]wire.Member, maxRosterMembers+1)
		for i := range ms {
			ms[i] = wire.Member{Name: fmt.Sprintf("m%d", i), Role: wire.RoleMember}
		}
		h.send(wire.Frame{Type: wire.TypeMembers, Members: ms})
		h.read() // the client's error frame, or its end
	})
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), dial, Options{Name: "bob"}, ui)
	r := ui.entered(t)
	if r.WaitWhole(100 * time.Millisecond) {
		t.Fatal("WaitWhole reported the roster whole with no list sent")
	}
	// The room had its chance: it is not waited for again, or it would
	// freeze the prompt at each Tab.
	start := time.Now()
	if r.WaitWhole(30 * time.Second) {
		t.Fatal("WaitWhole reported the roster whole with no list sent")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("a second WaitWhole on a room that never answered waited %v", took)
	}
	typeLines(ui, "still here")
	err := result(t, done)
	var broken *BrokenRoomError
	if !errors.As(err, &broken) {
		t.Fatalf("Join = %v; want a broken room", err)
	}
	if n := len(r.Names()); n > 2 {
		t.Fatalf("the roster took %d names from a list past the bound", n)
	}
}

// askingUI asks for the members as soon as it is welcomed, as the JSON UI
// does for a program, and records the frames shown.
type askingUI struct {
	*fakeUI
	mu    sync.Mutex
	shown []wire.Frame
}

func (u *askingUI) Enter(w wire.Frame, r *Roster) {
	u.fakeUI.Enter(w, r)
	r.Ask()
}

func (u *askingUI) Show(f wire.Frame, phase Phase) {
	u.mu.Lock()
	u.shown = append(u.shown, f)
	u.mu.Unlock()
	u.fakeUI.Show(f, phase)
}

// A UI that asks at once (Roster.Ask, the JSON UI's way) has the client
// ask without waiting for Tab, and is shown the members frame at its
// place among the events: after the join it followed, before the say
// that followed it.
func TestAskMembersAtEnter(t *testing.T) {
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcomeAs(5, bigWelcome)
		h.send(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindJoin, Seq: 6, Time: testTime, Name: "dee", Role: wire.RoleMember})
		if f, _ := h.read(); f.Type != wire.TypeMembers {
			t.Errorf("host: got %+v, want the members asked for", f)
		}
		h.send(wire.Frame{Type: wire.TypeMembers, Members: []wire.Member{cy, {Name: "dee", Role: wire.RoleMember}}})
		h.send(say(7, "cy", "hi", 0))
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	})
	ui := &askingUI{fakeUI: newFakeUI(t)}
	done := joinAsync(context.Background(), dial, Options{Name: "bob"}, ui)
	waitPrinted(t, ui.fakeUI, "<cy> hi")
	typeLines(ui.fakeUI, "/quit")
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	ui.mu.Lock()
	defer ui.mu.Unlock()
	var order []string
	for _, f := range ui.shown {
		order = append(order, f.Type+"/"+f.Kind)
	}
	if want := []string{"event/join", "members/", "event/say"}; !slices.Equal(order[:min(3, len(order))], want) {
		t.Fatalf("shown %v; want %v first", order, want)
	}
}

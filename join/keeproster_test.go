package join

import (
	"context"
	"net"
	"slices"
	"testing"

	"chatroom/host/wire"
)

// pipeSession is a session over net.Pipe that welcome opened (asked is
// its hello's resume point), and a function that sends it frames.
func pipeSession(t *testing.T, welcome wire.Frame, asked *wire.Resume) (*Session, func(...wire.Frame)) {
	t.Helper()
	client, server := net.Pipe()
	t.Cleanup(func() { client.Close(); server.Close() })
	s := newSession(client, wire.NewDecoder(client, wire.MaxHostFrame), welcome, asked)
	t.Cleanup(func() { s.Close() })
	send := func(fs ...wire.Frame) {
		go func() {
			for _, f := range fs {
				b, err := wire.Encode(&f)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := server.Write(b); err != nil {
					return
				}
			}
		}()
	}
	return s, send
}

// next reads n frames from s.
func nextN(t *testing.T, s *Session, n int) {
	t.Helper()
	for range n {
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
	}
}

func ev(seq uint64, kind string, edit func(f *wire.Frame)) wire.Frame {
	f := wire.Frame{Type: wire.TypeEvent, Seq: seq, Time: testTime, Kind: kind}
	edit(&f)
	return f
}

// A client that keeps its roster across a resume: the hello says so, and
// a welcome that leaves the members out has the roster of the session
// before brought up to date by the replay and what follows, away texts
// and keys kept; the welcome lists them, as for a welcome that had. A
// welcome that lists them is the room as it stands, which the replay is
// older than: a replayed join of someone no longer listed (gone untold
// with a restart) does not bring them back. A welcome that leaves them
// out unasked is an empty room but for the person.
func TestSessionKeepsRoster(t *testing.T) {
	me := &wire.Member{Name: "bob", Role: wire.RoleMember}
	first := wire.Frame{Type: wire.TypeWelcome, You: me, Seq: 10, Epoch: "e1",
		Members: []wire.Member{{Name: "cy", Role: wire.RoleMember, Key: "cykeykey"}, {Name: "dee", Role: wire.RoleMember}, *me}}
	old, send := pipeSession(t, first, nil)
	send(ev(11, wire.KindJoin, func(f *wire.Frame) { f.Name, f.Role = "eve", wire.RoleMember }),
		ev(12, wire.KindAway, func(f *wire.Frame) { f.From, f.Text = "cy", "lunch" }))
	nextN(t, old, 2)
	point := old.ResumePoint()

	// The hello the client sends when it comes back says it keeps it.
	cert, fp := roomKey(t)
	hellos := make(chan wire.Frame, 2)
	room := newTLSFakeRoom(t, cert, fp,
		func(h *fakeHost) { hellos <- h.welcomeAs(10, nil) },
		func(h *fakeHost) {
			hellos <- h.welcomeAs(10, func(w *wire.Frame) { w.Resumed = true })
			h.expect(wire.TypeSay, "/quit")
			closedLeft(h)
		})
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), room.dialer(), Options{Name: "bob", Reconnect: testReconnect()}, ui)
	waitPrinted(t, ui, "back in the room")
	<-hellos
	if second := <-hellos; !second.KeepsRoster || second.Resume == nil {
		t.Errorf("the hello after the connection broke: %+v; want it to resume, keeping its roster", second)
	}
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}

	back := wire.Frame{Type: wire.TypeWelcome, You: me, Seq: 15, Epoch: "e1", Resumed: true, MembersOmitted: true}
	kept, send := pipeSession(t, back, point)
	kept.keepRoster(old.Roster())
	if got := names(kept.Welcome().Members); !slices.Equal(got, []string{"bob", "cy", "dee", "eve"}) {
		t.Errorf("the welcome lists %v, want the kept roster", got)
	}
	send(ev(13, wire.KindLeave, func(f *wire.Frame) { f.Name, f.Code = "dee", wire.CodeLost }),
		ev(14, wire.KindJoin, func(f *wire.Frame) { f.Name, f.Role = "fay", wire.RoleAdmin }),
		ev(15, wire.KindPresence, func(f *wire.Frame) {}),
		ev(16, wire.KindNick, func(f *wire.Frame) { f.Name, f.NewName = "eve", "eva" }))
	nextN(t, kept, 4)
	want := []wire.Member{{Name: "bob", Role: wire.RoleMember}, {Name: "cy", Role: wire.RoleMember}, {Name: "eva", Role: wire.RoleMember}, {Name: "fay", Role: wire.RoleAdmin}}
	if got := kept.Roster().members(); !slices.Equal(got, want) {
		t.Errorf("kept roster %v, want %v", got, want)
	}
	if why, away := kept.Roster().Away("cy"); !away || why != "lunch" || kept.Roster().KeyTag("cy") != "cykeykey" {
		t.Errorf("cy: away %v (%q), key %q; want away for lunch, with its key, as before", away, why, kept.Roster().KeyTag("cy"))
	}

	listed := back
	listed.MembersOmitted = false
	listed.Members = []wire.Member{{Name: "cy", Role: wire.RoleMember}, *me}
	fresh, send := pipeSession(t, listed, point)
	fresh.keepRoster(old.Roster()) // not left out: nothing to keep
	send(ev(13, wire.KindJoin, func(f *wire.Frame) { f.Name, f.Role = "kit", wire.RoleMember }),
		ev(14, wire.KindSay, func(f *wire.Frame) { f.From, f.Text = "cy", "hi" }),
		ev(16, wire.KindJoin, func(f *wire.Frame) { f.Name, f.Role = "gus", wire.RoleMember }))
	nextN(t, fresh, 3)
	want = []wire.Member{{Name: "bob", Role: wire.RoleMember}, {Name: "cy", Role: wire.RoleMember}, {Name: "gus", Role: wire.RoleMember}}
	if got := fresh.Roster().members(); !slices.Equal(got, want) {
		t.Errorf("roster from a welcome's list and its replay: %v, want %v", got, want)
	}

	unasked, _ := pipeSession(t, back, point)
	if got := unasked.Roster().members(); !slices.Equal(got, []wire.Member{*me}) {
		t.Errorf("roster of a welcome that left the members out unasked: %v, want the person alone", got)
	}
}

func names(ms []wire.Member) []string {
	var ns []string
	for _, m := range ms {
		ns = append(ns, m.Name)
	}
	return ns
}

package join

import (
	"context"
	"testing"
	"time"

	"chatroom/host/wire"
)

// A session whose welcome announces a heartbeat pings the host while the
// person says nothing, and sends its lines as before.
func TestSessionPings(t *testing.T) {
	got := make(chan wire.Frame, 16)
	s, err := connectTo(t, context.Background(), "bob", func(h *fakeHost) {
		h.read() // the hello
		h.send(wire.Frame{Type: wire.TypeWelcome, Version: wire.Version, Room: &wire.Room{Name: "Lab 3"},
			You: &wire.Member{Name: "bob", Role: wire.RoleMember}, Seq: 1, HeartbeatMS: 20})
		for {
			f, ok := h.read()
			if !ok {
				close(got)
				return
			}
			got <- f
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	select {
	case f := <-got:
		if f.Type != wire.TypePing {
			t.Fatalf("host got %+v, want a ping", f)
		}
	case <-time.After(10 * time.Second): // only turns a hang into a failure
		t.Fatal("no ping from an idle session")
	}
	if err := s.Send("hi"); err != nil {
		t.Fatal(err)
	}
	for f := range got {
		if f.Type == wire.TypeSay {
			if f.Text != "hi" {
				t.Fatalf("host got %+v", f)
			}
			return
		}
		if f.Type != wire.TypePing {
			t.Fatalf("host got %+v", f)
		}
	}
}

// The backlog after the welcome, numbered below it, is passed on before
// the live events, which must follow the welcome's number.
func TestSessionBacklog(t *testing.T) {
	s, err := connectTo(t, context.Background(), "bob", func(h *fakeHost) {
		h.welcome(10)
		h.send(wire.Frame{Type: wire.TypeEvent, Seq: 4, Kind: wire.KindSay, From: "ana", Text: "earlier"})
		h.send(wire.Frame{Type: wire.TypeEvent, Seq: 7, Kind: wire.KindMe, From: "ana", Text: "waves"})
		h.send(wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindSay, From: "ana", Text: "now"})
		h.send(wire.Frame{Type: wire.TypeEvent, Seq: 5, Kind: wire.KindSay, From: "ana", Text: "out of order"})
		h.read()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, want := range []string{"earlier", "waves", "now"} {
		if f, err := s.Next(); err != nil || f.Text != want {
			t.Fatalf("Next = %+v, %v; want %q", f, err, want)
		}
	}
	if _, err := s.Next(); err == nil {
		t.Fatal("an old event after a live one was taken")
	}
}

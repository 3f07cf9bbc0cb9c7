package host

import (
	"runtime"
	"testing"
	"time"

	"chatroom/host/wire"
)

// An idle member holds no writer goroutine: its writer stops once there
// has been nothing to write for writerLinger, and the next frame for the
// member starts another, which writes it in the room's order; the
// heartbeat's ping does likewise.
func TestIdleMemberHoldsNoWriter(t *testing.T) {
	const beat = 2 * time.Second // longer than writerLinger, so that the writers are seen idle between pings
	h := startHost(t, Config{Heartbeat: beat})
	empty := runtime.NumGoroutine()
	ana := member(t, h, "ana", dialOptions{})
	bob := member(t, h, "bob", dialOptions{})
	ana.nextEvent(wire.KindJoin)
	// The clients here run no goroutines: what the two members add is the
	// host's, and idle, that is their readers alone.
	idle := func() {
		t.Helper()
		deadline := time.Now().Add(testDeadline)
		for runtime.NumGoroutine()-empty != 2 {
			if time.Now().After(deadline) {
				t.Fatalf("two idle members hold %d goroutines, want their 2 readers", runtime.NumGoroutine()-empty)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	idle()
	ana.say("hello")
	for _, c := range []*client{ana, bob} {
		if f := c.nextEvent(wire.KindSay); f.Text != "hello" || f.From != "ana" {
			t.Fatalf("%s got %+v", c.name, f)
		}
	}
	idle()
	// The heartbeat still pings an idle member, from a writer started for
	// the ping.
	bob.send(&wire.Frame{Type: wire.TypePing})
	if f := bob.next(); f.Type != wire.TypePing {
		t.Fatalf("bob got %+v, want a ping", f)
	}
	idle()
	ana.say("again")
	if f := bob.nextEvent(wire.KindSay); f.Text != "again" || f.Seq != bob.welcome.Seq+2 {
		t.Fatalf("bob got %+v, want ana's second message, numbered after the first", f)
	}
}

package join

import (
	"context"
	"errors"
	"strings"
	"testing"

	"chatroom/host/wire"
)

// Tests of the client's flow against a hostile room: one that sends what
// no working room sends, to make the client reconnect in a loop, hang on
// the way out, or keep what the room leaves it without end.

// writeRaw writes s to the client, ignoring a failure: a client that gives
// up on a frame halfway closes the connection under the write.
func writeRaw(h *fakeHost, s string) { h.conn.Write([]byte(s)) }

// TestUnreadableFrameIsNotRetried stands for a room that sends, once the
// person is in, a frame the client cannot read (longer than any room may
// send, or not a frame at all), so that it reconnects and is sent the same
// again, in a loop. The session ends with a *BrokenRoomError and the
// client dials no more.
func TestUnreadableFrameIsNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name, raw, why string
	}{
		{"oversize", strings.Repeat("x", wire.MaxHostFrame+1), "frame longer than"},
		{"not a frame", "not json\n", "frame is not a JSON object"},
		{"no type", "{}\n", `frame has no "type"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, fp := roomKey(t)
			room := newTLSFakeRoom(t, cert, fp, func(h *fakeHost) {
				h.welcomeAs(10, nil)
				writeRaw(h, tc.raw)
				h.read() // the client's error frame, then its close
			})
			ui := newFakeUI(t)
			err := result(t, joinAsync(context.Background(), room.dialer(), Options{Name: "bob", Reconnect: testReconnect()}, ui))
			var broken *BrokenRoomError
			if !errors.As(err, &broken) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("Join: %v, want a *BrokenRoomError saying %q", err, tc.why)
			}
			room.stop()
			if n := room.connections(); n != 1 {
				t.Errorf("%d connections, want 1: a broken room is not tried again", n)
			}
		})
	}
}

// TestUnreadableWelcomeOnTheWayBackIsNotRetried stands for a room that,
// once the connection broke, answers each hello with a welcome larger than
// any room may send: the client stops at the first, and says why.
func TestUnreadableWelcomeOnTheWayBackIsNotRetried(t *testing.T) {
	cert, fp := roomKey(t)
	room := newTLSFakeRoom(t, cert, fp,
		func(h *fakeHost) { h.welcomeAs(10, nil) }, // and the connection breaks
		func(h *fakeHost) {
			h.read() // the hello
			writeRaw(h, `{"type":"welcome","text":"`+strings.Repeat("x", wire.MaxHostFrame)+"\"}\n")
		})
	ui := newFakeUI(t)
	err := result(t, joinAsync(context.Background(), room.dialer(), Options{Name: "bob", Reconnect: testReconnect()}, ui))
	var broken *BrokenRoomError
	if !errors.As(err, &broken) || !strings.Contains(err.Error(), "frame longer than") {
		t.Fatalf("Join: %v, want a *BrokenRoomError about the frame's length", err)
	}
	room.stop()
	if n := room.connections(); n != 2 {
		t.Errorf("%d connections, want 2: a broken room is not tried again", n)
	}
}

package join

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"chatroom/host/wire"
)

// TestSend: Send says each line, waits for the room to confirm it, and
// leaves; it returns nil only when every line was confirmed, and
// otherwise says how many were not, and why. It shows only what concerns
// the lines.
func TestSend(t *testing.T) {
	long := strings.Repeat("x", wire.MaxText+1)
	for _, tt := range []struct {
		name  string
		input string
		room  func(h *fakeHost) []string
		sent  []string // what the room got
		err   string   // Send's error; "" for none
		shown []string // what Send showed
	}{
		{"every line confirmed", "build 142 is green\n\nsecond\n", func(h *fakeHost) []string {
			h.welcomeAs(10, nil)
			h.send(say(9, "cy", "from before", 0)) // the backlog: not shown
			return echoRoom(h, 11)
		}, []string{"build 142 is green", "second", "/quit"}, "", nil},
		{"a line refused", "ok\n/kick cy\n", func(h *fakeHost) []string {
			h.welcomeAs(10, nil)
			f := h.expect(wire.TypeSay, "ok")
			h.send(say(11, "bob", f.Text, f.Ref))
			f = h.expect(wire.TypeSay, "/kick cy")
			h.send(wire.Frame{Type: wire.TypeNotice, Text: "not allowed: /kick is for admins", Error: true, Ref: f.Ref})
			h.expect(wire.TypeSay, "/quit")
			closedLeft(h)
			return []string{"ok", "/kick cy", "/quit"}
		}, []string{"ok", "/kick cy", "/quit"}, "1 of 2 lines were not confirmed by the room (it refused 1)",
			[]string{"!! not allowed: /kick is for admins"}},
		{"a room that answers nothing", "one\ntwo\n", func(h *fakeHost) []string {
			h.welcomeAs(10, nil)
			a := h.expect(wire.TypeSay, "one")
			b := h.expect(wire.TypeSay, "two")
			h.expect(wire.TypeSay, "/quit")
			closedLeft(h)
			return []string{a.Text, b.Text, "/quit"}
		}, []string{"one", "two", "/quit"}, "2 of 2 lines were not confirmed by the room", nil},
		{"an answer beyond the lines confirms nothing", "one\ntwo\n", func(h *fakeHost) []string {
			h.welcomeAs(10, nil)
			a := h.expect(wire.TypeSay, "one")
			h.send(say(11, "bob", a.Text, 99))
			h.send(wire.Frame{Type: wire.TypeNotice, Text: "odd", Error: true, Ref: 98})
			b := h.expect(wire.TypeSay, "two")
			h.expect(wire.TypeSay, "/quit")
			closedLeft(h)
			return []string{a.Text, b.Text, "/quit"}
		}, []string{"one", "two", "/quit"}, "2 of 2 lines were not confirmed by the room", []string{"!! odd"}},
		{"a line too long is not sent", "one\n" + long + "\n", func(h *fakeHost) []string {
			h.welcomeAs(10, nil)
			return echoRoom(h, 11)
		}, []string{"one", "/quit"}, "1 of 2 lines were not confirmed by the room (1 longer than 4000 bytes, not sent)",
			[]string{"!! line not sent: longer than 4000 bytes"}},
		{"the backlog's refs are not this client's", "ok\n", func(h *fakeHost) []string {
			h.welcomeAs(10, func(w *wire.Frame) { w.Backlog = 1 })
			h.send(say(9, "bob", "said by an earlier run", 5))
			return echoRoom(h, 11)
		}, []string{"ok", "/quit"}, "", nil},
		{"one line", "alone", func(h *fakeHost) []string {
			h.welcomeAs(10, nil)
			h.expect(wire.TypeSay, "alone")
			h.expect(wire.TypeSay, "/quit")
			closedLeft(h)
			return []string{"alone", "/quit"}
		}, []string{"alone", "/quit"}, "the line was not confirmed by the room", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan []string, 1)
			dial, _ := scriptDialer(t, func(h *fakeHost) { got <- tt.room(h) })
			ui := newFakeUI(t)
			err := Send(context.Background(), dial, Options{Name: "bob"}, strings.NewReader(tt.input), ui)
			var nc *NotConfirmedError
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("Send: %v", err)
			case tt.err != "" && (!errors.As(err, &nc) || err.Error() != tt.err):
				t.Errorf("Send: %v, want %q", err, tt.err)
			}
			if texts := <-got; !slices.Equal(texts, tt.sent) {
				t.Errorf("the room got %q, want %q", texts, tt.sent)
			}
			if out := ui.output(); !slices.Equal(out, tt.shown) {
				t.Errorf("shown %q, want %q", out, tt.shown)
			}
		})
	}
}

// TestSendAcrossABreak: a line sent as the connection breaks is sent
// again once back, and confirmed then.
func TestSendAcrossABreak(t *testing.T) {
	cert, fp := roomKey(t)
	got := make(chan []string, 1)
	room := newTLSFakeRoom(t, cert, fp,
		func(h *fakeHost) {
			h.welcomeAs(10, nil)
			h.expect(wire.TypeSay, "one") // and the connection breaks, "one" unanswered
		},
		func(h *fakeHost) {
			h.welcomeAs(10, func(w *wire.Frame) { w.Resumed = true })
			got <- echoRoom(h, 11)
		})
	ui := newFakeUI(t)
	if err := Send(context.Background(), room.dialer(), Options{Name: "bob", Reconnect: testReconnect()}, strings.NewReader("one\n"), ui); err != nil {
		t.Errorf("Send: %v; shown %q", err, ui.output())
	}
	if texts := <-got; !slices.Equal(texts, []string{"one", "/quit"}) {
		t.Errorf("the room got %q after the break", texts)
	}
}

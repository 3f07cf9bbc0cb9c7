package join

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

var (
	ana = wire.Member{Name: "ana", Role: wire.RoleAdmin}
	cy  = wire.Member{Name: "cy", Role: wire.RoleMember}
)

func closedLeft(h *fakeHost) {
	h.send(wire.Frame{Type: wire.TypeClosed, Code: wire.CodeLeft})
	h.close()
}

// typeLines feeds lines to ui's input in the background, so that a Join that
// fails early leaves the test to report it rather than hang.
func typeLines(ui *fakeUI, lines ...string) {
	go func() {
		defer func() { recover() }() // the input may end first (cleanup)
		for _, l := range lines {
			ui.lines <- l
		}
	}()
}

func TestJoinWelcomeChatAndQuit(t *testing.T) {
	event := wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: 42, Time: testTime, From: "cy", Text: "hi bob"}
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcome(41, ana, cy)
		h.send(event)
		h.expect(wire.TypeSay, "hello")
		h.expect(wire.TypeSay, "//literal")
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	})
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), dial, Options{Name: "bob"}, ui)
	typeLines(ui, "hello", "", "   ", "//literal", "/quit")
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	want := []string{
		`joined "Lab 3" as bob (3 here: ana, bob, cy)`,
		testRender(event, time.Local)[0],
	}
	if got := ui.output(); !slices.Equal(got, want) {
		t.Errorf("printed\n%q\nwant\n%q", got, want)
	}
}

func TestJoinQuitWithReasonIsSentAsTyped(t *testing.T) {
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcome(1)
		h.expect(wire.TypeSay, "/quit gotta go")
		closedLeft(h)
	})
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), dial, Options{Name: "bob"}, ui)
	typeLines(ui, "/quit gotta go")
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
}

func TestJoinEndOfInputSendsQuit(t *testing.T) {
	dial, wait := scriptDialer(t, func(h *fakeHost) {
		h.welcome(1)
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	})
	ui := newFakeUI(t)
	ui.endInput()
	if err := Join(context.Background(), dial, Options{Name: "bob"}, ui); err != nil {
		t.Fatalf("Join: %v", err)
	}
	wait()
}

func TestJoinCancelSendsQuit(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcome(1)
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	})
	ui := newFakeUI(t)
	ui.onPrint = func(string) { cancel() } // once in, as the welcome shows
	if err := result(t, joinAsync(ctx, dial, Options{Name: "bob"}, ui)); err != nil {
		t.Fatalf("Join: %v", err)
	}
}

func TestJoinQuitDoesNotWaitForeverForTheHost(t *testing.T) {
	hostSawClose := make(chan bool, 1)
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcome(1)
		h.expect(wire.TypeSay, "/quit")
		_, ok := h.read() // no answer: the client must give up and close
		hostSawClose <- !ok
	})
	ui := newFakeUI(t)
	ui.endInput()
	if err := result(t, joinAsync(context.Background(), dial, Options{Name: "bob", quitWait: 50 * time.Millisecond}, ui)); err != nil {
		t.Fatalf("Join: %v", err)
	}
	if !<-hostSawClose {
		t.Error("the host read a frame after /quit; want the connection closed")
	}
}

func TestJoinKickThatCrossesQuitIsReported(t *testing.T) {
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcome(1)
		h.expect(wire.TypeSay, "/quit")
		h.send(wire.Frame{Type: wire.TypeClosed, Code: wire.CodeKicked, By: "ana"})
		h.close()
	})
	ui := newFakeUI(t)
	ui.endInput()
	err := result(t, joinAsync(context.Background(), dial, Options{Name: "bob"}, ui))
	var closed *ClosedError
	if !errors.As(err, &closed) || closed.Code != wire.CodeKicked {
		t.Fatalf("Join: %v, want a kick", err)
	}
}

func TestJoinRoomClosed(t *testing.T) {
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcome(1)
		h.send(wire.Frame{Type: wire.TypeClosed, Code: wire.CodeRoomClosed, Text: "the room is closing"})
		h.close()
	})
	ui := newFakeUI(t) // the person types nothing: the room ends it
	if err := result(t, joinAsync(context.Background(), dial, Options{Name: "bob"}, ui)); err != nil {
		t.Fatalf("Join: %v, want nil", err)
	}
	out := ui.output()
	if len(out) == 0 || out[len(out)-1] != "-- the room closed" {
		t.Errorf("printed %q, want it to end with the room closing", out)
	}
}

func TestJoinSentAway(t *testing.T) {
	for _, tc := range []struct {
		frame wire.Frame
		want  string
	}{
		{wire.Frame{Code: wire.CodeKicked, By: "ana", Text: "spam"}, "you were kicked by ana (spam)"},
		{wire.Frame{Code: wire.CodeKicked, By: "ana"}, "you were kicked by ana"},
		{wire.Frame{Code: wire.CodeBanned, By: "ana", Text: "spam"}, "you were banned by ana (spam)"},
		{wire.Frame{Code: wire.CodeTooSlow, Text: "too far behind"}, "you were dropped (too slow)"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			dial, _ := scriptDialer(t, func(h *fakeHost) {
				h.welcome(1)
				f := tc.frame
				f.Type = wire.TypeClosed
				h.send(f)
				h.close()
			})
			err := result(t, joinAsync(context.Background(), dial, Options{Name: "bob"}, newFakeUI(t)))
			var closed *ClosedError
			if !errors.As(err, &closed) {
				t.Fatalf("Join: %v (%T), want *ClosedError", err, err)
			}
			if closed.Code != tc.frame.Code || closed.By != tc.frame.By || closed.Text != tc.frame.Text {
				t.Errorf("got %+v, want the closed frame's code, by and text", *closed)
			}
			if err.Error() != tc.want {
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
}

func TestJoinConnectionLost(t *testing.T) {
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcome(1)
		h.close()
	})
	err := result(t, joinAsync(context.Background(), dial, Options{Name: "bob"}, newFakeUI(t)))
	if err == nil || !strings.HasPrefix(err.Error(), "connection to the room lost: ") {
		t.Fatalf("Join: %v, want a lost connection", err)
	}
}

func TestJoinErrorFrame(t *testing.T) {
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcome(1)
		h.send(wire.Frame{Type: wire.TypeError, Code: wire.CodeMalformed, Text: "frame is not valid UTF-8"})
		h.close()
	})
	err := result(t, joinAsync(context.Background(), dial, Options{Name: "bob"}, newFakeUI(t)))
	if err == nil || err.Error() != "the room ended the connection: frame is not valid UTF-8" {
		t.Fatalf("Join: %v", err)
	}
}

func TestJoinEventsOutOfSequence(t *testing.T) {
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcome(5)
		h.send(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: 7, Time: testTime, From: "cy", Text: "hi"})
		h.read() // until the client hangs up
	})
	err := result(t, joinAsync(context.Background(), dial, Options{Name: "bob"}, newFakeUI(t)))
	var seq *sequenceError
	if !errors.As(err, &seq) || seq.Want != 6 || seq.Got != 7 {
		t.Fatalf("Join: %v, want a sequence error 6/7", err)
	}
}

func refuse(code, text string) func(h *fakeHost) {
	return func(h *fakeHost) {
		if _, ok := h.read(); !ok {
			h.t.Error("host: no hello")
		}
		h.send(wire.Frame{Type: wire.TypeRefused, Code: code, Text: text})
		h.close()
	}
}

func TestJoinNameTakenAsksAndRedials(t *testing.T) {
	hellos := make(chan wire.Frame, 2)
	dial, wait := scriptDialer(t,
		func(h *fakeHost) {
			hello, _ := h.read()
			hellos <- hello
			h.send(wire.Frame{Type: wire.TypeRefused, Code: wire.CodeNameTaken, Text: `the name "bob" is taken`})
			h.close()
		},
		func(h *fakeHost) {
			hellos <- h.welcome(1, ana)
			h.expect(wire.TypeSay, "/quit")
			closedLeft(h)
		})
	ui := newFakeUI(t, "bob2")
	ui.endInput()
	if err := result(t, joinAsync(context.Background(), dial, Options{Name: "bob", Password: "pw"}, ui)); err != nil {
		t.Fatalf("Join: %v", err)
	}
	if n := wait(); n != 2 {
		t.Errorf("dialed %d times, want 2", n)
	}
	first, second := <-hellos, <-hellos
	if first.Name != "bob" || second.Name != "bob2" {
		t.Errorf("hellos as %q then %q, want bob then bob2", first.Name, second.Name)
	}
	if first.Password != "pw" || second.Password != "pw" || second.Version != wire.Version {
		t.Errorf("second hello %+v: want the password and version kept", second)
	}
	if want := []string{`the name "bob" is taken`}; !slices.Equal(ui.reasons, want) {
		t.Errorf("AskName asked with %q, want %q", ui.reasons, want)
	}
	if out := ui.output(); len(out) == 0 || out[0] != `joined "Lab 3" as bob2 (2 here: ana, bob2)` {
		t.Errorf("printed %q, want the welcome as bob2 first", out)
	}
}

func TestJoinOtherRefusalsDoNotAsk(t *testing.T) {
	dial, _ := scriptDialer(t, refuse(wire.CodeWrongPassword, "wrong admin password"))
	ui := newFakeUI(t, "bob2")
	err := Join(context.Background(), dial, Options{Name: "bob", Password: "x"}, ui)
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.Code != wire.CodeWrongPassword {
		t.Fatalf("Join: %v, want the refusal", err)
	}
	if len(ui.reasons) != 0 {
		t.Errorf("AskName called with %q; a wrong password is not a name problem", ui.reasons)
	}
}

func TestJoinDialError(t *testing.T) {
	want := errors.New("cannot connect to the room: no route")
	dial := func(context.Context) (net.Conn, error) { return nil, want }
	if err := Join(context.Background(), dial, Options{Name: "bob"}, newFakeUI(t)); err != want {
		t.Fatalf("Join: %v, want the dial error", err)
	}
}

func TestClosedErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		err  ClosedError
		want string
	}{
		{ClosedError{Code: wire.CodeKicked}, "you were kicked"},
		{ClosedError{Code: wire.CodeBanned, By: "ana"}, "you were banned by ana"},
		{ClosedError{Code: wire.CodeKicked, By: "a\x1bna", Text: "sp\u202eam"}, "you were kicked by a^[na (sp\ufffdam)"},
		{ClosedError{Code: wire.CodeProtocol}, "you were disconnected (protocol error)"},
		{ClosedError{Code: "new-code"}, "the room closed your connection (new-code)"},
		{ClosedError{Code: "new-code", Text: "because"}, "the room closed your connection (because)"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.err, got, tc.want)
		}
	}
	if got := (&RefusedError{Code: wire.CodeBanned}).Error(); got != "the room refused to let you in (banned)" {
		t.Errorf("refusal without text: %q", got)
	}
}

// brokenWrites is a connection whose writes fail after the first (the
// hello), or after ok of them: a host that still sends but no longer
// receives.
type brokenWrites struct {
	net.Conn
	writes, ok int
}

func (c *brokenWrites) Write(b []byte) (int, error) {
	c.writes++
	if c.writes > max(c.ok, 1) {
		return 0, errors.New("broken pipe")
	}
	return c.Conn.Write(b)
}

func TestJoinSendFailure(t *testing.T) {
	pipeDial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcome(1)
		h.read() // silent until the client hangs up
	})
	dial := func(ctx context.Context) (net.Conn, error) {
		conn, err := pipeDial(ctx)
		return &brokenWrites{Conn: conn}, err
	}
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), dial, Options{Name: "bob", quitWait: 50 * time.Millisecond}, ui)
	typeLines(ui, "hi")
	err := result(t, done)
	if err == nil || err.Error() != "connection to the room lost: sending to the room: broken pipe" {
		t.Fatalf("Join: %v", err)
	}
}

// TestSendFailsWhileLeaving: the person has left (end of input) while a
// line still waits for the pacer, and sending it fails: the client says so
// and ends, rather than reconnecting with no one reading its input.
func TestSendFailsWhileLeaving(t *testing.T) {
	cert, fp := roomKey(t)
	room := newTLSFakeRoom(t, cert, fp, func(h *fakeHost) {
		h.welcomeAs(1, func(w *wire.Frame) { w.Limits = &wire.Limits{Burst: 2, PerSecond: 10} })
		h.expect(wire.TypeSay, "a")
		h.read() // silent until the client hangs up
	})
	dial := func(ctx context.Context) (net.Conn, error) {
		conn, err := room.dialer()(ctx)
		return &brokenWrites{Conn: conn, ok: 2}, err // the hello and "a"
	}
	ui := newFakeUI(t)
	// quitWait is longer than the pacer's wait for "b" (1/9 s): the
	// person's leaving lasts at most quitWait, the pacer's waits included.
	opts := Options{Name: "bob", Reconnect: testReconnect(), quitWait: time.Second}
	done := joinAsync(context.Background(), dial, opts, ui)
	typeLine(t, ui, "a")
	typeLine(t, ui, "b") // which waits for the pacer
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	// Neither was answered: "a" reached the room, "b" may have.
	if want := "!! 2 lines sent but not confirmed (the connection broke before the room answered)"; !slices.Contains(ui.output(), want) {
		t.Errorf("output %q, want %q", ui.output(), want)
	}
	room.stop()
	if n := room.connections(); n != 1 {
		t.Errorf("%d connections: the client came back after leaving", n)
	}
}

// TestTellNeverWaits: a receiver's news never waits for the owner (which
// may be blocked in a write while the room's frames must still be read),
// and when the owner looks, it finds the latest, which says all the
// earlier ones did: the answers only grow, and the end is never missed.
func TestTellNeverWaits(t *testing.T) {
	news := make(chan sessionNews, 1)
	for ref := range uint64(maxUnanswered) {
		tell(news, sessionNews{answered: ref + 1}) // no one reads
	}
	tell(news, sessionNews{answered: maxUnanswered, replayOver: true})
	if n := <-news; n.answered != maxUnanswered || !n.replayOver {
		t.Fatalf("news %+v, want the latest", n)
	}
	select {
	case n := <-news:
		t.Fatalf("more news: %+v", n)
	default:
	}

	go func() {
		for ref := range uint64(10000) {
			tell(news, sessionNews{answered: ref + 1})
		}
		tell(news, sessionNews{answered: 10000, ended: true})
	}()
	var last uint64
	for n := range news {
		if n.answered < last {
			t.Fatalf("answered %d after %d", n.answered, last)
		}
		last = n.answered
		if n.ended {
			break
		}
	}
	if last != 10000 {
		t.Errorf("last answered %d, want 10000", last)
	}
}

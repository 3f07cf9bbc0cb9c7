package join

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chatroom/discovery"
	"chatroom/discovery/netns"
	"chatroom/host/wire"
)

// shownTexts returns the messages ui printed, in order, from Render's say
// lines ("10:04 <cy> one" gives "cy one").
func shownTexts(ui *fakeUI) []string {
	var texts []string
	for _, l := range ui.output() {
		if i := strings.Index(l, "<"); i >= 0 && !strings.HasPrefix(l, "earlier: ") {
			texts = append(texts, strings.NewReplacer("<", "", ">", "").Replace(l[i:]))
		}
	}
	return texts
}

// TestReconnectResumes: the connection drops after two events; the client
// comes back asking to resume after the last one it showed, and the
// host's replay (which, over-eager, starts too early) and what follows
// are shown, each event once and in order.
func TestReconnectResumes(t *testing.T) {
	cert, fp := roomKey(t)
	hellos := make(chan wire.Frame, 2)
	room := newTLSFakeRoom(t, cert, fp,
		func(h *fakeHost) {
			hellos <- h.welcomeAs(10, nil)
			h.send(say(11, "cy", "one", 0))
			h.send(say(12, "cy", "two", 0))
			// The connection breaks.
		},
		func(h *fakeHost) {
			hellos <- h.welcomeAs(16, func(w *wire.Frame) { w.Resumed = true })
			h.send(say(11, "cy", "one", 0)) // already shown
			h.send(say(12, "cy", "two", 0)) // already shown
			h.send(say(13, "cy", "three", 0))
			h.send(say(14, "cy", "four", 0))
			h.send(say(15, "cy", "five", 0))
			h.send(wire.Frame{Type: wire.TypePing}) // ignored
			h.send(say(15, "cy", "five", 0))        // once more: dropped
			h.send(say(17, "cy", "six", 0))
			h.send(say(17, "cy", "six", 0)) // once more: dropped
			h.expect(wire.TypeSay, "/quit")
			closedLeft(h)
		})
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), room.dialer(), Options{Name: "bob", Reconnect: testReconnect()}, ui)
	waitPrinted(t, ui, "six")
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	first, second := <-hellos, <-hellos
	if first.Resume != nil {
		t.Errorf("first hello resumes %+v, want none", *first.Resume)
	}
	if second.Resume == nil || *second.Resume != (wire.Resume{Epoch: "e1", Seq: 12}) || second.Name != "bob" {
		t.Errorf("second hello %+v, want bob resuming e1 at 12", second)
	}
	want := []string{"cy one", "cy two", "cy three", "cy four", "cy five", "cy six"}
	if got := shownTexts(ui); !slices.Equal(got, want) {
		t.Errorf("shown %q, want %q\nall output: %q", got, want, ui.output())
	}
	out := ui.output()
	if !slices.ContainsFunc(out, func(l string) bool { return strings.HasPrefix(l, "-- connection lost (") }) ||
		!slices.Contains(out, "-- back in the room, the events you missed follow") {
		t.Errorf("output %q: want the lost and back status lines", out)
	}
}

// TestBacklogShownAsEarlier: a newcomer's backlog (events below the
// welcome's seq) is marked as earlier, then a separator, then the room.
func TestBacklogShownAsEarlier(t *testing.T) {
	cert, fp := roomKey(t)
	room := newTLSFakeRoom(t, cert, fp, func(h *fakeHost) {
		h.welcomeAs(10, nil)
		h.send(say(4, "cy", "old one", 0))
		h.send(say(9, "cy", "old two", 0))
		h.send(say(4, "cy", "old one", 0)) // out of order: dropped
		h.send(say(11, "cy", "now", 0))
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	})
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), room.dialer(), Options{Name: "bob"}, ui)
	waitPrinted(t, ui, "now")
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	at := testRender(say(1, "", "", 0), time.Local)[0][:5]
	want := []string{
		`joined "Lab 3" as bob (2 here: bob, cy)`,
		"earlier: " + at + " <cy> old one",
		"earlier: " + at + " <cy> old two",
		"-- " + earlierEnd,
		at + " <cy> now",
	}
	if got := ui.output(); !slices.Equal(got, want) {
		t.Errorf("printed\n%q\nwant\n%q", got, want)
	}
}

// TestResumeReportsLoss: what the room could not replay is counted, and a
// room that lost its history says so, and sends the backlog instead.
func TestResumeReportsLoss(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(w *wire.Frame)
		want string
	}{
		{"missed", func(w *wire.Frame) { w.Resumed, w.Missed = true, 4 }, "!! some messages from while you were away were lost (older than the room keeps)"},
		{"history lost", func(w *wire.Frame) { w.Epoch = "e2" }, "!! the room's history since you left was lost (the host restarted without its history)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, fp := roomKey(t)
			room := newTLSFakeRoom(t, cert, fp,
				func(h *fakeHost) {
					h.welcomeAs(10, nil)
					h.send(say(11, "cy", "one", 0))
				},
				func(h *fakeHost) {
					h.welcomeAs(20, tc.edit)
					h.send(say(19, "cy", "before", 0))
					h.send(say(21, "cy", "after", 0))
					h.expect(wire.TypeSay, "/quit")
					closedLeft(h)
				})
			ui := newFakeUI(t)
			done := joinAsync(context.Background(), room.dialer(), Options{Name: "bob", Reconnect: testReconnect()}, ui)
			waitPrinted(t, ui, "after")
			ui.endInput()
			if err := result(t, done); err != nil {
				t.Fatalf("Join: %v", err)
			}
			if out := ui.output(); !slices.Contains(out, tc.want) {
				t.Errorf("output %q, want %q", out, tc.want)
			}
			if got, want := shownTexts(ui), []string{"cy one", "cy before", "cy after"}; tc.name == "missed" && !slices.Equal(got, want) {
				t.Errorf("shown %q, want %q", got, want)
			}
			if tc.name == "history lost" && !slices.ContainsFunc(ui.output(), func(l string) bool { return strings.HasPrefix(l, "earlier: ") && strings.HasSuffix(l, "before") }) {
				t.Errorf("output %q: want the backlog shown as earlier", ui.output())
			}
		})
	}
}

// TestQueuedLinesSentAfterResume: lines typed while the client is not
// connected are sent once it is back, in order, with increasing refs.
func TestQueuedLinesSentAfterResume(t *testing.T) {
	cert, fp := roomKey(t)
	typed := make(chan struct{})
	got := make(chan []wire.Frame, 2)
	room := newTLSFakeRoom(t, cert, fp,
		func(h *fakeHost) {
			h.welcomeAs(10, nil)
			f, _ := h.read()
			got <- []wire.Frame{f}
			// and the connection breaks
		},
		func(h *fakeHost) {
			<-typed // the client is not connected until then
			h.welcomeAs(12, func(w *wire.Frame) { w.Resumed = true })
			h.send(say(11, "bob", "first", 1))
			var frames []wire.Frame
			for range 4 {
				f, _ := h.read()
				frames = append(frames, f)
			}
			got <- frames
			closedLeft(h)
		})
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), room.dialer(), Options{Name: "bob", Reconnect: testReconnect()}, ui)
	typeLine(t, ui, "first")
	if f := <-got; f[0].Text != "first" || f[0].Ref != 1 {
		t.Fatalf("host got %+v, want first with ref 1", f[0])
	}
	waitPrinted(t, ui, "-- connection lost")
	for _, l := range []string{"a", "b", "c", "d"} {
		typeLine(t, ui, l)
	}
	close(typed)
	waitPrinted(t, ui, "-- back in the room")
	typeLine(t, ui, "/quit")
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	want := []string{"say a 2", "say b 3", "say c 4", "say d 5"}
	if frames := summary(<-got); !slices.Equal(frames, want) {
		t.Errorf("host got %q after resuming, want %q", frames, want)
	}
}

// summary describes frames as "type text ref".
func summary(frames []wire.Frame) []string {
	var s []string
	for _, f := range frames {
		s = append(s, fmt.Sprintf("%s %s %d", f.Type, f.Text, f.Ref))
	}
	return s
}

// resendAfterBreak has bob type lines into a room whose first connection
// runs first (which breaks it when it returns) and whose second welcomes him
// back at seq as resumed says, replaying replay; once bob shows shown, he types
// "d" and quits. It returns the hello of the second connection and what
// the room got on it before the quit, as summary gives them.
func resendAfterBreak(t *testing.T, first func(h *fakeHost), lines []string, seq uint64, resumed func(w *wire.Frame), replay []wire.Frame, shown string) (wire.Frame, []string) {
	t.Helper()
	cert, fp := roomKey(t)
	hellos := make(chan wire.Frame, 1)
	after := make(chan []wire.Frame, 1)
	room := newTLSFakeRoom(t, cert, fp, first,
		func(h *fakeHost) {
			hellos <- h.welcomeAs(seq, resumed)
			for _, f := range replay {
				h.send(f)
			}
			var frames []wire.Frame
			for range 2 {
				f, _ := h.read()
				frames = append(frames, f)
			}
			after <- frames
			closedLeft(h)
		})
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), room.dialer(), Options{Name: "bob", Reconnect: testReconnect()}, ui)
	for _, l := range lines {
		typeLine(t, ui, l)
	}
	waitPrinted(t, ui, shown)
	typeLine(t, ui, "d")
	typeLine(t, ui, "/quit")
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	return <-hellos, summary(<-after)
}

// TestUnansweredResentUnlessTaken: of three lines sent when the
// connection broke, the room had answered the first; the replay shows it
// took the second; only the third is sent again, with its ref.
func TestUnansweredResentUnlessTaken(t *testing.T) {
	hello, got := resendAfterBreak(t,
		func(h *fakeHost) {
			h.welcomeAs(10, nil)
			h.expect(wire.TypeSay, "a")
			h.expect(wire.TypeSay, "b")
			h.expect(wire.TypeSay, "c")
			h.send(say(11, "bob", "a", 1))
			h.send(say(12, "cy", "not yours", 3)) // cy's ref 3, not bob's
			// and the connection breaks before b and c are answered
		},
		[]string{"a", "b", "c"},
		15, func(w *wire.Frame) { w.Resumed = true },
		[]wire.Frame{say(13, "bob", "b", 2), say(14, "cy", "hm", 0)},
		"<cy> hm")
	if hello.Resume == nil || hello.Resume.Seq != 12 {
		t.Errorf("hello %+v, want a resume at 12", hello)
	}
	if want := []string{"say c 3", "say d 4"}; !slices.Equal(got, want) {
		t.Errorf("host got %q after resuming, want %q", got, want)
	}
}

// TestTakenNotResent: the room says, on resuming, which lines it handled
// before the break (Taken), though no answer arrived and the replay shows
// none of them (a command's answer, a message the room refused): those are
// not sent again; the rest are, in order.
func TestTakenNotResent(t *testing.T) {
	_, got := resendAfterBreak(t,
		func(h *fakeHost) {
			h.welcomeAs(10, nil)
			h.expect(wire.TypeSay, "/msg cy psst")
			h.expect(wire.TypeSay, "/who")
			h.expect(wire.TypeSay, "c")
			// and the connection breaks before any answer
		},
		[]string{"/msg cy psst", "/who", "c"},
		11, func(w *wire.Frame) { w.Resumed, w.Taken = true, 2 },
		nil,
		"back in the room")
	if want := []string{"say c 3", "say d 4"}; !slices.Equal(got, want) {
		t.Errorf("host got %q after resuming, want %q", got, want)
	}
}

// TestQueueBoundedAndQuitWhileDisconnected: while the room cannot be
// reached, a person's lines wait (up to maxQueuedBytes of them, more than
// maxQueued lines), and the end of input leaves at once, saying how many
// were not sent.
func TestQueueBoundedAndQuitWhileDisconnected(t *testing.T) {
	cert, fp := roomKey(t)
	room := newTLSFakeRoom(t, cert, fp, func(h *fakeHost) {
		h.welcomeAs(10, nil)
		h.expect(wire.TypeSay, "sent")
		// and the connection breaks, with "sent" unanswered
	}, refuse(wire.CodeRoomClosed, "the room is closing")) // and it does not come back
	waits := &fakeWaits{block: true, slept: make(chan struct{}, 1)}
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), room.dialer(), Options{Name: "bob", Reconnect: &Reconnect{sleep: waits.sleep}}, ui)
	typeLine(t, ui, "sent")
	<-waits.slept // refused on the way back, and waiting for good
	for i := range maxQueued + 1 {
		typeLine(t, ui, fmt.Sprint("line ", i))
	}
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	out := ui.output()
	for _, want := range []string{
		fmt.Sprintf("!! %d lines not sent (not connected to the room); 1 more sent but not confirmed (the connection broke before the room answered)", maxQueued+1),
	} {
		if n := slices.Index(out, want); n < 0 {
			t.Errorf("output %q: want %q", out, want)
		}
	}
}

// TestBackoff: each wait doubles up to the cap, and stays within the
// jitter of it, whatever the random draw.
func TestBackoff(t *testing.T) {
	b := DefaultBackoff
	base := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	for n, d := range base {
		lo := time.Duration(float64(d) * 0.8)
		hi := time.Duration(float64(d) * 1.2)
		for _, r := range []float64{0, 0.25, 0.5, 0.999999} {
			got := b.delay(n, r)
			if got < lo || got > hi {
				t.Errorf("Delay(%d, %v) = %v, want within [%v, %v]", n, r, got, lo, hi)
			}
		}
		if got := b.delay(n, 0.5); got != d {
			t.Errorf("Delay(%d, 0.5) = %v, want %v", n, got, d)
		}
		if lowest, highest := b.delay(n, 0), b.delay(n, 0.999999); highest-lowest < (hi-lo)*9/10 {
			t.Errorf("wait %d varies over %v..%v only, want about ±20%%", n, lowest, highest)
		}
	}
}

// TestRetryWaits runs the retry loop with a fake clock: it tries at once,
// then after waits that grow with jitter, tells the person each time, and
// stops at the first success, or at a permanent failure.
func TestRetryWaits(t *testing.T) {
	waits := &fakeWaits{}
	draws := []float64{0.9, 0.1, 0.5, 0.0, 0.99}
	var statuses []string
	r := newRetrier(&Reconnect{sleep: waits.sleep, rand: func() float64 {
		d := draws[0]
		draws = draws[1:]
		return d
	}}, func(s string) { statuses = append(statuses, s) })
	tries := 0
	v, err := retry(context.Background(), r, func(context.Context) (int, error) {
		tries++
		if tries <= 5 {
			return 0, errors.New("refused")
		}
		return 42, nil
	})
	if err != nil || v != 42 || tries != 6 {
		t.Fatalf("retry = %v, %v after %d tries", v, err, tries)
	}
	want := []time.Duration{
		time.Duration(0.5e9 * 1.16), time.Duration(1e9 * 0.84), 2e9, time.Duration(4e9 * 0.8), time.Duration(8e9 * (1 + 0.2*0.98)),
	}
	if !slices.Equal(waits.waits, want) {
		t.Errorf("waited %v, want %v", waits.waits, want)
	}
	if statuses[0] != "reconnecting…" || statuses[1] != "connection lost — retrying in 600ms" || len(statuses) != 11 {
		t.Errorf("statuses %q", statuses)
	}

	// After the room said it closed, the status says so.
	statuses = nil
	draws = []float64{0.5}
	closedRetrier := r
	closedRetrier.outage = "the room closed"
	tries = 0
	retry(context.Background(), closedRetrier, func(context.Context) (int, error) {
		if tries++; tries == 1 {
			return 0, errors.New("refused")
		}
		return 1, nil
	})
	if !slices.Contains(statuses, "the room closed — retrying in 500ms") {
		t.Errorf("statuses %q after the room closed", statuses)
	}

	tries = 0
	_, err = retry(context.Background(), r, func(context.Context) (int, error) {
		tries++
		return 0, &permanentError{errors.New("banned")}
	})
	if err == nil || err.Error() != "banned" || tries != 1 {
		t.Errorf("permanent failure: %v after %d tries, want banned after 1", err, tries)
	}
}

// TestNoReconnectAfterSentAway: kicked, banned or refused on the way back,
// the client says why and stops; it dials no more.
func TestNoReconnectAfterSentAway(t *testing.T) {
	for _, tc := range []struct {
		name    string
		scripts []func(h *fakeHost)
		want    string
	}{
		{"kicked", []func(h *fakeHost){func(h *fakeHost) {
			h.welcomeAs(1, nil)
			h.send(wire.Frame{Type: wire.TypeClosed, Code: wire.CodeKicked, By: "ana"})
		}}, "you were kicked by ana"},
		{"banned", []func(h *fakeHost){func(h *fakeHost) {
			h.welcomeAs(1, nil)
			h.send(wire.Frame{Type: wire.TypeClosed, Code: wire.CodeBanned, By: "ana"})
		}}, "you were banned by ana"},
		{"wrong password on the way back", []func(h *fakeHost){
			func(h *fakeHost) { h.welcomeAs(1, nil) },
			refuse(wire.CodeWrongPassword, "wrong admin password"),
		}, "wrong admin password"},
		{"name taken on the way back", []func(h *fakeHost){
			func(h *fakeHost) { h.welcomeAs(1, nil) },
			refuse(wire.CodeNameTaken, `the name "bob" is taken`),
		}, `the name "bob" is taken`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, fp := roomKey(t)
			room := newTLSFakeRoom(t, cert, fp, tc.scripts...)
			ui := newFakeUI(t, "bob2")
			err := result(t, joinAsync(context.Background(), room.dialer(), Options{Name: "bob", Reconnect: testReconnect()}, ui))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Join: %v, want %q", err, tc.want)
			}
			room.stop()
			if n := room.connections(); n != len(tc.scripts) {
				t.Errorf("%d connections, want %d", n, len(tc.scripts))
			}
			if len(ui.reasons) != 0 {
				t.Errorf("asked for another name (%q) on the way back", ui.reasons)
			}
		})
	}
}

// TestHeartbeatDetectsDeadHost: a host that goes silent but keeps the
// connection open is taken as gone after three heartbeats, and the client
// comes back; while the room is quiet the client sends pings, and ignores
// the host's.
func TestHeartbeatDetectsDeadHost(t *testing.T) {
	cert, fp := roomKey(t)
	pings := make(chan int, 1)
	room := newTLSFakeRoom(t, cert, fp,
		func(h *fakeHost) {
			h.welcomeAs(10, func(w *wire.Frame) { w.HeartbeatMS = 10 })
			n := 0
			for {
				f, ok := h.read() // silent; the client hangs up
				if !ok {
					break
				}
				if f.Type == wire.TypePing {
					n++
				}
			}
			pings <- n
		},
		func(h *fakeHost) {
			h.welcomeAs(10, func(w *wire.Frame) { w.Resumed = true })
			h.send(wire.Frame{Type: wire.TypePing})
			h.send(say(11, "cy", "still here", 0))
			h.expect(wire.TypeSay, "/quit")
			closedLeft(h)
		})
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), room.dialer(), Options{Name: "bob", Reconnect: testReconnect()}, ui)
	waitPrinted(t, ui, "still here")
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	if n := <-pings; n == 0 {
		t.Error("the client sent no ping while the room was silent")
	}
	// The room's 10 ms is taken as the client's shortest heartbeat, 100 ms.
	if out := ui.output(); !slices.Contains(out, "-- connection lost (nothing heard from the room for 300ms); reconnecting…") {
		t.Errorf("output %q: want the silence named as the cause", out)
	}
}

// TestReconnectFindsMovedHost: the room's last address refuses; found
// again by its id, at another port, with the key it is known by, it is
// joined there.
func TestReconnectFindsMovedHost(t *testing.T) {
	cert, fp := roomKey(t)
	hellos := make(chan wire.Frame, 1)
	var old *tlsFakeRoom
	old = newTLSFakeRoom(t, cert, fp, func(h *fakeHost) {
		h.welcomeAs(10, nil)
		h.send(say(11, "cy", "one", 0))
		// The host moves: its old address refuses before the client can
		// come back to it (stopped only once "one" was shown, the client
		// could be back there first, to a room with no script for it).
		old.ln.Close()
	})
	moved := newTLSFakeRoom(t, cert, fp, func(h *fakeHost) {
		hellos <- h.welcomeAs(13, func(w *wire.Frame) { w.Resumed = true })
		h.send(say(12, "cy", "two", 0))
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	})
	known, err := LoadKnownRooms(filepath.Join(t.TempDir(), KnownRoomsFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := known.Check(testRoomID, fp, "Lab 3", RefuseKeyChange); err != nil {
		t.Fatal(err)
	}
	var asked []string
	rec := testReconnect()
	rec.Rediscover = func(ctx context.Context, id string) (Dialer, error) {
		asked = append(asked, id)
		if _, err := known.Check(id, fp, "", RefuseKeyChange); err != nil {
			return nil, err
		}
		return moved.dialer(), nil
	}
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), old.dialer(), Options{Name: "bob", Reconnect: rec}, ui)
	waitPrinted(t, ui, "two")
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	if h := <-hellos; h.Resume == nil || h.Resume.Seq != 11 {
		t.Errorf("hello at the new address %+v, want a resume at 11", h)
	}
	if len(asked) == 0 || asked[0] != testRoomID {
		t.Errorf("rediscovered %q, want the room's id", asked)
	}
}

// TestReconnectRefusesChangedKey: found again by id, only a room with
// another key than the one known for it is advertised: it is refused, and
// said, but the reconnecting goes on (it used to end the session for
// good): anyone on the LAN can advertise the room's id with a key of its
// own while the room is away, and that must not throw its members out.
func TestReconnectRefusesChangedKey(t *testing.T) {
	cert, fp := roomKey(t)
	_, otherFP := roomKey(t)
	old := newTLSFakeRoom(t, cert, fp, func(h *fakeHost) {
		h.welcomeAs(10, nil)
	})
	old.stop()
	known, err := LoadKnownRooms(filepath.Join(t.TempDir(), KnownRoomsFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := known.Check(testRoomID, fp, "Lab 3", RefuseKeyChange); err != nil {
		t.Fatal(err)
	}
	impostor := discovery.Room{ID: testRoomID, Name: "Lab 3", Fingerprint: otherFP, Port: 1}
	rec := testReconnect()
	rec.Rediscover = findByID(found(impostor), func(r discovery.Room) error {
		_, err := known.Check(r.ID, r.Fingerprint, r.Name, RefuseKeyChange)
		return err
	}, nil)
	way := &rejoin{rediscover: rec.Rediscover, roomID: testRoomID,
		dial: func(context.Context) (net.Conn, error) { return nil, errors.New("connection refused") }}
	_, err = way.attempt(context.Background(), wire.Frame{Name: "bob"})
	var perm *permanentError
	if err == nil || errors.As(err, &perm) || keyError(err) || !strings.Contains(err.Error(), otherFP) {
		t.Fatalf("attempt: %v, want an error naming the other key, not a permanent one", err)
	}
}

// TestReconnectFindsMovedHostByMDNS: as TestReconnectFindsMovedHost, but
// the room is found again over real mDNS (on the loopback interface of
// the test's own network namespace), as `chatroom join` finds it.
func TestReconnectFindsMovedHostByMDNS(t *testing.T) {
	netns.Require(t)
	cert, fp := roomKey(t)
	hellos := make(chan wire.Frame, 1)
	var old *tlsFakeRoom
	old = newTLSFakeRoom(t, cert, fp, func(h *fakeHost) {
		h.welcomeAs(10, nil)
		h.send(say(11, "cy", "one", 0))
		// The host moves: its old address refuses before the client can
		// come back to it (stopped only once "one" was shown, the client
		// could be back there first, to a room with no script for it).
		old.ln.Close()
	})
	moved := newTLSFakeRoom(t, cert, fp, func(h *fakeHost) {
		hellos <- h.welcomeAs(13, func(w *wire.Frame) { w.Resumed = true })
		h.send(say(12, "cy", "two", 0))
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	})
	_, portStr, _ := net.SplitHostPort(moved.addr)
	port, _ := strconv.Atoi(portStr)
	lo := discovery.Options{Interfaces: []string{"lo"}}
	ad, err := discovery.Advertise(discovery.Room{ID: testRoomID, Name: "Lab 3", Fingerprint: fp, Version: wire.Version, Port: port}, lo)
	if err != nil {
		t.Fatal(err)
	}
	defer ad.Close()

	known, err := LoadKnownRooms(filepath.Join(t.TempDir(), KnownRoomsFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := known.Check(testRoomID, fp, "Lab 3", RefuseKeyChange); err != nil {
		t.Fatal(err)
	}
	rec := testReconnect()
	rec.Rediscover = findByID(func(ctx context.Context) ([]discovery.Room, error) {
		return discovery.Browse(ctx, lo)
	}, func(r discovery.Room) error {
		_, err := known.Check(r.ID, r.Fingerprint, r.Name, RefuseKeyChange)
		return err
	}, nil)
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), old.dialer(), Options{Name: "bob", Reconnect: rec}, ui)
	waitPrinted(t, ui, "two")
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	if h := <-hellos; h.Resume == nil || h.Resume.Seq != 11 {
		t.Errorf("hello at the new address %+v, want a resume at 11", h)
	}
}

// TestClosedRoomWaitedForAWhile: a room that said it was closing is waited
// for, with the usual backoff, until the next wait would pass the
// patience; then join ends as it does without reconnecting, saying so. A
// connection lost without a word is retried past that.
func TestClosedRoomWaitedForAWhile(t *testing.T) {
	for _, closes := range []bool{true, false} {
		t.Run(fmt.Sprintf("closed=%v", closes), func(t *testing.T) {
			cert, fp := roomKey(t)
			room := newTLSFakeRoom(t, cert, fp, func(h *fakeHost) {
				h.welcomeAs(1, nil)
				if closes {
					h.send(wire.Frame{Type: wire.TypeClosed, Code: wire.CodeRoomClosed, Text: "the room is closing"})
				}
			})
			first := room.dialer()
			var dials atomic.Int32
			dial := func(ctx context.Context) (net.Conn, error) {
				if dials.Add(1) > 1 {
					return nil, errors.New("connection refused") // the room is not back
				}
				return first(ctx)
			}
			var mu sync.Mutex
			var waits []time.Duration
			sleep := func(ctx context.Context, d time.Duration) error {
				mu.Lock()
				waits = append(waits, d)
				n := len(waits)
				mu.Unlock()
				if n > 8 { // 91.5 s waited: far past the patience
					<-ctx.Done()
				}
				return ctx.Err()
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rc := &Reconnect{sleep: sleep, rand: func() float64 { return 0.5 }, ClosedPatience: 10 * time.Second}
			ui := newFakeUI(t)
			done := joinAsync(ctx, dial, Options{Name: "bob", Reconnect: rc}, ui)
			if !closes {
				for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
					mu.Lock()
					n := len(waits)
					mu.Unlock()
					if n > 8 {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("gave up after %d waits", n)
					}
				}
				cancel()
			}
			if err := result(t, done); err != nil {
				t.Fatalf("Join: %v", err)
			}
			out := ui.output()
			if closes && !slices.Contains(out, "-- reconnecting…") {
				t.Errorf("output %q: no status saying it is reconnecting", out)
			}
			gaveUp := slices.Contains(out, "-- the room did not come back in 10s; leaving")
			if gaveUp != closes {
				t.Errorf("output %q: gave up %v, want %v", out, gaveUp, closes)
			}
			if closes {
				want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}
				if !slices.Equal(waits, want) || !slices.Contains(out, "-- the room closed") {
					t.Errorf("waited %v, want %v; output %q", waits, want, out)
				}
			}
		})
	}
}

// TestStormSpread: the first try after a session that lasted waits a draw
// within a spread that grows with the room: none for a classroom, which
// comes back at once as before, 2.5 s at most for 5,000, and never more
// than maxSpread however many a room claims to hold. Later tries wait as
// DefaultBackoff says, whatever the room's size.
func TestStormSpread(t *testing.T) {
	for _, tc := range []struct {
		members int
		spread  time.Duration
	}{
		{0, 0},
		{1, 0},
		{30, 0},
		{atOnceRoom, 0},
		{atOnceRoom + 1, time.Duration(atOnceRoom+1) * spreadPerMember},
		{1000, 500 * time.Millisecond},
		{5000, 2500 * time.Millisecond},
		{10_000, 5 * time.Second},
		{20_000, maxSpread},
		{1 << 40, maxSpread},
		{-1, 0},
	} {
		if got := stormSpread(tc.members); got != tc.spread {
			t.Errorf("stormSpread(%d) = %v, want %v", tc.members, got, tc.spread)
		}
		draws := 0
		for _, r := range []float64{0, 0.5, 0.999999} {
			got := ReconnectWait(tc.members, 0, func() float64 { draws++; return r })
			if want := time.Duration(r * float64(tc.spread)); got != want {
				t.Errorf("ReconnectWait(%d, 0, %v) = %v, want %v", tc.members, r, got, want)
			}
			if got := ReconnectWait(tc.members, 3, func() float64 { return r }); got != DefaultBackoff.delay(2, r) {
				t.Errorf("ReconnectWait(%d, 3, %v) = %v, want DefaultBackoff's third wait %v", tc.members, r, got, DefaultBackoff.delay(2, r))
			}
		}
		if tc.spread == 0 && draws != 0 {
			t.Errorf("ReconnectWait(%d, 0) drew at random %d times for no wait", tc.members, draws)
		}
	}
	// The mean first wait in a room of 5,000 is half its spread.
	var sum time.Duration
	const n = 1000
	for i := range n {
		sum += ReconnectWait(5000, 0, func() float64 { return (float64(i) + 0.5) / n })
	}
	if mean := sum / n; mean < 1240*time.Millisecond || mean > 1260*time.Millisecond {
		t.Errorf("mean first wait in a room of 5,000: %v, want 1.25 s", mean)
	}
}

// TestReconnectSpreadByRoomSize: a member of a large room whose room
// closed waits its draw within the room's spread before its first try,
// counting the members as they were when the room closed (the room filled
// after the member's welcome); a member of a small room tries at once.
func TestReconnectSpreadByRoomSize(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members int // in the room when it closed, the member included
		first   time.Duration
	}{
		{"classroom", 30, 0},
		{"large room", 3000, time.Duration(0.25 * float64(3000*spreadPerMember))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, fp := roomKey(t)
			room := newTLSFakeRoom(t, cert, fp, func(h *fakeHost) {
				h.welcomeAs(1, nil)
				// Everyone else came in after the member's welcome, which
				// lists it and cy.
				for i := 3; i <= tc.members; i++ {
					h.send(wire.Frame{Type: wire.TypeEvent, Seq: uint64(i - 1), Kind: wire.KindJoin, Name: fmt.Sprintf("m%d", i)})
				}
				h.send(wire.Frame{Type: wire.TypeClosed, Code: wire.CodeRoomClosed, Text: "the room is closing"})
			}, func(h *fakeHost) {
				h.welcomeAs(uint64(tc.members-1), func(w *wire.Frame) { w.Resumed = true })
				h.expect(wire.TypeSay, "/quit")
				closedLeft(h)
			})
			var mu sync.Mutex
			var waits []time.Duration
			sleep := func(ctx context.Context, d time.Duration) error {
				mu.Lock()
				waits = append(waits, d)
				mu.Unlock()
				return ctx.Err()
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rc := &Reconnect{sleep: sleep, rand: func() float64 { return 0.25 }}
			ui := newFakeUI(t)
			done := joinAsync(ctx, room.dialer(), Options{Name: "bob", Reconnect: rc}, ui)
			waitPrinted(t, ui, "-- back in the room")
			ui.endInput()
			if err := result(t, done); err != nil {
				t.Fatalf("Join: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			var want []time.Duration
			if tc.first > 0 {
				want = []time.Duration{tc.first}
			}
			if !slices.Equal(waits, want) {
				t.Errorf("waited %v before coming back, want %v", waits, want)
			}
		})
	}
}

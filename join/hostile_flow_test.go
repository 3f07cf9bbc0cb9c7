package join

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

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
	if !errors.As(err, &broken) || !strings.Contains(err.Error(), "longer than 4 MiB") {
		t.Fatalf("Join: %v, want a *BrokenRoomError about the frame's length", err)
	}
	room.stop()
	if n := room.connections(); n != 2 {
		t.Errorf("%d connections, want 2: a broken room is not tried again", n)
	}
}

// countingDialer returns a Dialer whose n-th call (from 0) runs script(n, h)
// as the host, over net.Pipe, for up to limit calls; past that it cancels
// the test's Join (by cancel) and fails the dial, so that a client that
// reconnects in a loop ends. count says how many calls there were.
func countingDialer(t *testing.T, limit int, cancel context.CancelFunc, script func(n int, h *fakeHost)) (dial Dialer, count func() int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	dials := 0
	t.Cleanup(wg.Wait)
	dial = func(ctx context.Context) (net.Conn, error) {
		mu.Lock()
		n := dials
		dials++
		mu.Unlock()
		if n >= limit {
			cancel()
			return nil, errors.New("connection refused")
		}
		client, server := net.Pipe()
		h := &fakeHost{t: t, conn: server, dec: wire.NewDecoder(server, wire.MaxClientFrame)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer server.Close()
			script(n, h)
		}()
		return client, nil
	}
	count = func() int {
		mu.Lock()
		defer mu.Unlock()
		return dials
	}
	return dial, count
}

// blockingWaits is a Reconnect's sleep that records each wait and returns
// at once, until the n-th, which blocks until its context ends and tells
// reached.
type blockingWaits struct {
	mu      sync.Mutex
	waits   []time.Duration
	n       int
	reached chan struct{}
}

func (w *blockingWaits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.waits = append(w.waits, d)
	last := len(w.waits) == w.n
	w.mu.Unlock()
	if last {
		close(w.reached)
		<-ctx.Done()
	}
	return ctx.Err()
}

func (w *blockingWaits) recorded() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.waits)
}

// TestShortSessionsBackOff stands for a room that welcomes each member and
// then, at once, ends the session: it closes the connection, or sends an
// event out of sequence. Each session succeeds, so a client that backed
// off only from failed dials came straight back, some 600 times a second.
// The backoff goes on across such sessions: over a fixed number of waits,
// each connection but the first two comes after a wait, and the waits grow.
func TestShortSessionsBackOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(h *fakeHost)
	}{
		{"closes", func(h *fakeHost) {}},
		{"out of sequence", func(h *fakeHost) {
			h.send(say(12, "cy", "skipped one", 0)) // 11 is due
			h.read()                                // until the client hangs up
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const rounds = 8
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			dial, dials := countingDialer(t, 3*rounds, cancel, func(n int, h *fakeHost) {
				h.welcomeAs(10, nil)
				tc.end(h)
			})
			waits := &blockingWaits{n: rounds, reached: make(chan struct{})}
			rc := &Reconnect{sleep: waits.sleep, rand: func() float64 { return 0.5 }}
			done := joinAsync(ctx, dial, Options{Name: "bob", Reconnect: rc}, newFakeUI(t))
			select {
			case <-waits.reached:
			case <-ctx.Done(): // the dialer's limit: reconnecting in a loop
			}
			cancel()
			if err := result(t, done); err != nil {
				t.Fatalf("Join: %v", err)
			}
			// The first session ended early; its retry is at once, as
			// after any session, and then each waits longer.
			if n := dials(); n != rounds+1 {
				t.Errorf("%d connections over %d waits, want %d", n, rounds, rounds+1)
			}
			want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
			if got := waits.recorded(); !slices.Equal(got, want) {
				t.Errorf("waited %v, want %v", got, want)
			}
		})
	}
}

// TestHealthySessionResetsBackoff: after a session that lasted (by the
// injected clock) as long as healthySession, the room is joined again at
// once, and the backoff starts over; the short sessions around it wait.
func TestHealthySessionResetsBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var clock atomic.Int64 // nanoseconds after testTime
	now := func() time.Time { return testTime.Add(time.Duration(clock.Load())) }
	dial, dials := countingDialer(t, 20, cancel, func(n int, h *fakeHost) {
		h.welcomeAs(10, nil)
		if n == 2 {
			h.send(say(11, "cy", "a long session", 0))
		}
	})
	ui := newFakeUI(t)
	ui.onPrint = func(l string) {
		if strings.Contains(l, "a long session") {
			clock.Add(int64(healthySession)) // shown while the session lasts
		}
	}
	waits := &blockingWaits{n: 3, reached: make(chan struct{})}
	rc := &Reconnect{sleep: waits.sleep, rand: func() float64 { return 0.5 }, now: now}
	done := joinAsync(ctx, dial, Options{Name: "bob", Reconnect: rc}, ui)
	select {
	case <-waits.reached:
	case <-ctx.Done():
	}
	cancel()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	// Connection 1 short: 2 at once. 2 short: 3 after 500ms. 3 long: 4 at
	// once. 4 short: 5 after 500ms. 5 short: the wait of 1s, not ended.
	if n := dials(); n != 5 {
		t.Errorf("%d connections, want 5", n)
	}
	want := []time.Duration{500 * time.Millisecond, 500 * time.Millisecond, time.Second}
	if got := waits.recorded(); !slices.Equal(got, want) {
		t.Errorf("waited %v, want %v", got, want)
	}
}

// readUntilHangUp reads what the client sends until it hangs up, answering
// nothing.
func readUntilHangUp(h *fakeHost) {
	for {
		if _, ok := h.read(); !ok {
			return
		}
	}
}

// TestLeavingAlwaysWorks stands for a room that keeps a person who leaves
// from leaving: it announces a pace of one line in 10⁹ seconds, so that
// lines typed before the /quit wait for ever; it never confirms the /quit;
// it holds a resumed session in its replay, so that nothing may be sent;
// or it reads nothing, so that a line being sent blocks. Whichever way the
// person leaves (/quit, the end of input, ctx: Ctrl-C), Join returns once
// quitWait has passed, and says which lines did not go.
func TestLeavingAlwaysWorks(t *testing.T) {
	for _, room := range roomsThatKeepYou {
		for _, how := range []string{"/quit", "end of input", "ctx"} {
			t.Run(room.name+"/"+how, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				ui, done, _ := joinAndLeave(t, ctx, cancel, room, how, 300*time.Millisecond)
				if err := result(t, done); err != nil {
					t.Fatalf("Join: %v, want nil: the person left", err)
				}
				if room.want != "" && how != "ctx" && !slices.Contains(ui.output(), room.want) {
					t.Errorf("output %q, want %q", ui.output(), room.want)
				}
				if how == "ctx" && room.want != "" && !slices.ContainsFunc(ui.output(), func(l string) bool { return strings.HasPrefix(l, "!! ") }) {
					t.Errorf("output %q, want the lines not sent reported", ui.output())
				}
			})
		}
	}
}

// TestLeavingWithinTwoSeconds is TestLeavingAlwaysWorks at the bound the
// person is promised: with the default quitWait (no test's shortening),
// /quit, the end of input (Ctrl-D) and ctx (Ctrl-C) end Join within two
// seconds of leaving, against each room that would keep them. On
// synctest's clock, so that the bound is exact and no load can stretch it:
// a quitWait raised past 2 s fails here, where the other tests pass.
func TestLeavingWithinTwoSeconds(t *testing.T) {
	const promised = 2 * time.Second
	for _, room := range roomsThatKeepYou {
		for _, how := range []string{"/quit", "end of input", "ctx"} {
			t.Run(room.name+"/"+how, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					_, done, left := joinAndLeave(t, ctx, cancel, room, how, 0)
					if err := result(t, done); err != nil {
						t.Fatalf("Join: %v, want nil: the person left", err)
					}
					if took := time.Since(left); took > promised {
						t.Errorf("Join returned %v after the person left, want within %v", took, promised)
					}
				})
			})
		}
	}
}

// keepingRoom is a room that would keep a person who leaves.
type keepingRoom struct {
	name    string
	scripts []func(h *fakeHost)
	typed   []string // before leaving
	shown   string   // printed before the person leaves
	want    string   // printed once Join returns
}

var roomsThatKeepYou = []keepingRoom{
	{"pace of nothing", []func(h *fakeHost){func(h *fakeHost) {
		h.welcomeAs(10, func(w *wire.Frame) { w.Limits = &wire.Limits{Burst: 1, PerSecond: 1e-9} })
		f := h.expect(wire.TypeSay, "a") // the one line the pace lets go
		h.send(say(11, "bob", "a", f.Ref))
		readUntilHangUp(h)
	}}, []string{"a", "b", "c"}, "<bob> a", "!! 2 lines not sent (you left before the room took them)"},
	{"never confirms", []func(h *fakeHost){func(h *fakeHost) {
		h.welcome(10) // keeps no history: lines are not tracked
		readUntilHangUp(h)
	}}, []string{"a"}, "", ""},
	{"endless replay", []func(h *fakeHost){
		func(h *fakeHost) { h.welcomeAs(10, nil) }, // and the connection breaks
		func(h *fakeHost) {
			h.welcomeAs(20, func(w *wire.Frame) { w.Resumed = true }) // 9 events due, none sent
			readUntilHangUp(h)
		},
	}, []string{"a", "b"}, "", "!! 2 lines not sent (you left before the room took them)"},
	{"reads nothing", []func(h *fakeHost){func(h *fakeHost) {
		h.welcomeAs(10, nil)
		<-h.t.Context().Done() // until the test ends; net.Pipe's writes wait for a read
	}}, []string{"a", "b"}, "", "!! 1 line not sent (you left before the room took them); 1 more sent but not confirmed (the room had not answered when you left)"},
}

// joinAndLeave joins room with quitWait (0: the default), types what the
// person types there, and leaves how ("/quit", "end of input", or "ctx",
// which calls cancel); it returns the UI, Join's result, and when the
// person left.
func joinAndLeave(t *testing.T, ctx context.Context, cancel func(), room keepingRoom, how string, quitWait time.Duration) (*fakeUI, <-chan error, time.Time) {
	t.Helper()
	dial, _ := scriptDialer(t, room.scripts...)
	ui := newFakeUI(t)
	done := joinAsync(ctx, dial, Options{Name: "bob", Reconnect: testReconnect(), quitWait: quitWait}, ui)
	if len(room.scripts) > 1 {
		waitPrinted(t, ui, "back in the room")
	}
	for _, l := range room.typed {
		typeLine(t, ui, l)
	}
	if room.shown != "" {
		waitPrinted(t, ui, room.shown)
	}
	left := time.Now()
	switch how {
	case "/quit":
		typeLine(t, ui, "/quit")
	case "end of input":
		ui.endInput()
	case "ctx":
		cancel()
	}
	return ui, done, left
}

// TestRoomThatNeverAnswersIsBroken stands for a room that keeps history
// (its welcome names an epoch, so the client keeps each line until the
// room answers it, to send it again after a break) and answers none: the
// lines kept would grow without end. Past maxUnanswered the room is
// broken: Join ends with a *BrokenRoomError and does not come back.
func TestRoomThatNeverAnswersIsBroken(t *testing.T) {
	dial, wait := scriptDialer(t, func(h *fakeHost) {
		h.welcomeAs(10, nil)
		readUntilHangUp(h)
	})
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), dial, Options{Name: "bob", Reconnect: testReconnect()}, ui)
	for i := range maxUnanswered + 1 {
		typeLine(t, ui, fmt.Sprint("line ", i))
	}
	ui.endInput()
	err := result(t, done)
	var broken *BrokenRoomError
	if !errors.As(err, &broken) {
		t.Fatalf("Join: %v, want a *BrokenRoomError", err)
	}
	if want := fmt.Sprintf("it answered none of your last %d lines", maxUnanswered); broken.Why != want {
		t.Errorf("why %q, want %q", broken.Why, want)
	}
	if n := wait(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// TestAnsweredLinesAreLetGo: a room that answers each line lets the
// client keep none, however many are sent: the bound is on lines the room
// leaves unanswered, not on lines sent.
func TestAnsweredLinesAreLetGo(t *testing.T) {
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcomeAs(10, nil)
		for seq := uint64(11); ; seq++ {
			f, ok := h.read()
			if !ok {
				return
			}
			if f.Text == "/quit" {
				closedLeft(h)
				return
			}
			h.send(say(seq, "bob", f.Text, f.Ref))
		}
	})
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), dial, Options{Name: "bob", Reconnect: testReconnect()}, ui)
	for i := range maxUnanswered + 10 {
		typeLine(t, ui, fmt.Sprint("line ", i))
	}
	typeLine(t, ui, "/quit")
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
}

// lockedBuffer is an io.Writer safe to read while it is written.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestScriptInputIsSentWhole: a script's input ends (echo ... | chatroom
// join) long before a room at an ordinary pace has taken its lines: while
// the room goes on taking them, the leaving goes on, and every line is
// sent, then the /quit. Only a room that takes nothing for quitWait is left.
func TestScriptInputIsSentWhole(t *testing.T) {
	const lines = 20
	got := make(chan []string, 1)
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcomeAs(10, func(w *wire.Frame) { w.Limits = &wire.Limits{Burst: 2, PerSecond: 10} })
		var texts []string
		for seq := uint64(11); ; seq++ {
			f, ok := h.read()
			if !ok {
				break
			}
			texts = append(texts, f.Text)
			if f.Text == "/quit" {
				closedLeft(h)
				break
			}
			h.send(say(seq, "bob", f.Text, f.Ref))
		}
		got <- texts
	})
	var in strings.Builder
	var want []string
	for i := range lines {
		fmt.Fprintf(&in, "line %d\n", i)
		want = append(want, fmt.Sprint("line ", i))
	}
	out := &lockedBuffer{}
	ui := newScriptUI(t, strings.NewReader(in.String()), out)
	opts := Options{Name: "bob", Script: true, quitWait: time.Second} // some 9 lines at the room's pace, of 20
	if err := result(t, joinAsync(context.Background(), dial, opts, ui)); err != nil {
		t.Fatalf("Join: %v", err)
	}
	if texts := <-got; !slices.Equal(texts, append(want, "/quit")) {
		t.Errorf("the room got %q, want every line, then /quit\noutput:\n%s", texts, out)
	}
}

// TestLeavingAfterALongPaste stands for a room that paces lines to
// nothing while the person, at a terminal, pastes more text than the
// client queues (maxQueuedBytes): the input is still read, the lines past
// the bound are refused at once, said in one line that names the first of
// them, and the person's /quit (Ctrl-C or Ctrl-D at the prompt, which
// reach Join as the end of input) is seen and ends Join.
func TestLeavingAfterALongPaste(t *testing.T) {
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcomeAs(10, func(w *wire.Frame) { w.Limits = &wire.Limits{Burst: 1, PerSecond: 1e-9} })
		f := h.expect(wire.TypeSay, "pasted 0") // the one line the pace lets go
		h.send(say(11, "bob", f.Text, f.Ref))
		readUntilHangUp(h)
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // before the script is waited for, should typing fail
	ui := newFakeUI(t)
	done := joinAsync(ctx, dial, Options{Name: "bob", Reconnect: testReconnect(), quitWait: 100 * time.Millisecond}, ui)
	typeLine(t, ui, "pasted 0")
	waitPrinted(t, ui, "<bob> pasted 0")
	const kept = maxQueuedBytes / 4096
	for i := range kept + 40 {
		line := fmt.Sprint("pasted ", i+1)
		typeLine(t, ui, line+strings.Repeat(".", 4096-len(line)))
	}
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	out := ui.output()
	for _, want := range []string{
		fmt.Sprintf(`!! not sent: "pasted %d%s…" and every line pasted with it after it, as %d lines (1024 KiB) already wait for the room; type them again once those have gone`,
			kept+1, strings.Repeat(".", 29-len(fmt.Sprint("pasted ", kept+1))), kept),
		fmt.Sprintf("!! %d lines not sent (you left before the room took them)", kept),
	} {
		if !slices.Contains(out, want) {
			t.Errorf("output %q, want %q", out, want)
		}
	}
	if n := len(slices.DeleteFunc(slices.Clone(out), func(l string) bool { return !strings.HasPrefix(l, "!! ") })); n != 2 {
		t.Errorf("output %q: %d warnings, want the 2 above", out, n)
	}
}

// TestAPastePastTheQueueIsCutNotHoled stands for the paste larger
// than the queue, at a terminal: "never partly sent with lines
// vanishing". The room takes lines at its pace (10 a second) while the
// person pastes more than maxQueuedBytes, and the paste goes on as lines
// go out and leave room. The paste is sent up to the first line refused
// and none of it after: no line of the paste's tail slips into the room
// after a hole; one line says where it was cut; a line typed by hand
// after a pause is sent. Without the cut, each line that went out let a
// later line of the paste in.
func TestAPastePastTheQueueIsCutNotHoled(t *testing.T) {
	got := make(chan string, 1000)  // each say the room took, as it takes it
	heard := make(chan []string, 1) // all of them, once the client hung up
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcomeAs(10, func(w *wire.Frame) { w.Limits = &wire.Limits{Burst: 1, PerSecond: 10} })
		var says []string
		for seq := uint64(11); ; seq++ {
			f, ok := h.read()
			if !ok {
				heard <- says
				return
			}
			if f.Type == wire.TypeSay && !strings.HasPrefix(f.Text, "/") {
				says = append(says, f.Text)
				got <- f.Text
				h.send(say(seq, "bob", f.Text, f.Ref))
			}
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ui := newFakeUI(t)
	done := joinAsync(ctx, dial, Options{Name: "bob", Reconnect: testReconnect(), quitWait: 100 * time.Millisecond}, ui)
	const size = 3000 // under wire.MaxText: each line may go
	pasted := func(i int) string {
		line := fmt.Sprint("pasted ", i)
		return line + strings.Repeat(".", size-len(line))
	}
	typeLine(t, ui, pasted(0))
	<-got
	for i := range maxQueuedBytes/size + 20 {
		typeLine(t, ui, pasted(i+1))
	}
	// The paste goes on while the room takes lines: each one that goes
	// out leaves room for one more, which must not go.
	for i := range 5 {
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("the room took no more lines")
		}
		typeLine(t, ui, fmt.Sprint("tail ", i))
	}
	time.Sleep(2 * pasteGap) // the person reads the warning
	typeLine(t, ui, "by hand")
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	says := <-heard

	out := ui.output()
	var warnings []string
	cut, unsent := -1, 0
	for _, l := range out {
		if !strings.HasPrefix(l, "!! ") {
			continue
		}
		warnings = append(warnings, l)
		if m := regexp.MustCompile(`^!! not sent: "pasted (\d+)\.*…" and every line pasted with it after it`).FindStringSubmatch(l); m != nil && cut < 0 {
			cut, _ = strconv.Atoi(m[1])
		}
		if m := regexp.MustCompile(`^!! (\d+) lines? not sent \(you left`).FindStringSubmatch(l); m != nil {
			unsent, _ = strconv.Atoi(m[1])
		}
	}
	if cut < 0 {
		t.Fatalf("warnings %q: none says where the paste was cut", warnings)
	}
	// What the room took is the paste's head, in order, then perhaps the
	// line typed by hand: nothing from after the cut.
	for i, text := range says {
		if text == "by hand" && i == len(says)-1 {
			break
		}
		if text != pasted(i) {
			t.Fatalf("the room took %q as line %d (cut at pasted %d): a line after the cut got in", text[:min(len(text), 20)], i, cut)
		}
	}
	// What the client kept is exactly the head up to the cut, and the
	// line by hand: the taken and the unsent add up.
	if len(says)+unsent != cut+1 {
		t.Errorf("%d lines taken by the room and %d left unsent, want %d: the head of the paste (pasted 0 to %d) and the line by hand", len(says), unsent, cut+1, cut-1)
	}
	if !slices.Contains(says, "by hand") && unsent == 0 {
		t.Errorf("the line typed by hand after a pause was refused")
	}
	if len(warnings) > 2 {
		t.Errorf("warnings %q: want one saying where the paste was cut, and at most what was left unsent", warnings)
	}
}

// TestUnreadableFirstWelcome stands for a room that answers the first
// hello with a welcome larger than any room may send: Join ends with a
// *BrokenRoomError, which says why, as on the way back.
func TestUnreadableFirstWelcome(t *testing.T) {
	cert, fp := roomKey(t)
	room := newTLSFakeRoom(t, cert, fp, func(h *fakeHost) {
		h.read() // the hello
		writeRaw(h, `{"type":"welcome","text":"`+strings.Repeat("x", wire.MaxHostFrame)+"\"}\n")
	})
	err := result(t, joinAsync(context.Background(), room.dialer(), Options{Name: "bob", Reconnect: testReconnect()}, newFakeUI(t)))
	var broken *BrokenRoomError
	if !errors.As(err, &broken) || !strings.Contains(err.Error(), "longer than 4 MiB") {
		t.Fatalf("Join: %v, want a *BrokenRoomError about the frame's length", err)
	}
}

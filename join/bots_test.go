package join

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// echoRoom answers each line of the client's with its event, numbered
// from seq on, until the /quit, which it confirms; it returns the texts
// it got, the /quit among them, or those up to a break.
func echoRoom(h *fakeHost, seq uint64) []string {
	var texts []string
	for ; ; seq++ {
		f, ok := h.read()
		if !ok {
			return texts
		}
		if f.Type != wire.TypeSay {
			continue
		}
		texts = append(texts, f.Text)
		if isQuit(f.Text) {
			closedLeft(h)
			return texts
		}
		h.send(say(seq, "bob", f.Text, f.Ref))
	}
}

// tryTypeLine types line into ui, and reports whether Join took it
// within wait.
func tryTypeLine(ui *fakeUI, line string, wait time.Duration) bool {
	select {
	case ui.lines <- line:
		return true
	case <-time.After(wait):
		return false
	}
}

// numbered is lines "line 0" to "line n-1".
func numbered(n int) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprint("line ", i)
	}
	return lines
}

// awayRoom is a room whose first session ends right after its welcome
// and whose second, resumed, waits until back is closed, then echoes
// every line it gets and sends what it got on got.
func awayRoom(t *testing.T) (room *tlsFakeRoom, back chan struct{}, got chan []string) {
	cert, fp := roomKey(t)
	back = make(chan struct{})
	got = make(chan []string, 1)
	room = newTLSFakeRoom(t, cert, fp,
		func(h *fakeHost) {
			h.welcomeAs(10, nil)
			// and the connection breaks at once
		},
		func(h *fakeHost) {
			<-back
			h.welcomeAs(10, func(w *wire.Frame) { w.Resumed = true })
			got <- echoRoom(h, 11)
		})
	return room, back, got
}

// TestScriptWaitsWhileAway: while the room is away, a script's input is
// not read once maxQueued lines wait (and as many are read ahead), so the
// writer upstream waits: no line is refused, and once the room is back
// every line goes, in order, each once. Before, the input was read on
// while disconnected, and the lines past maxQueued were dropped with "not
// sent: 100 lines are already waiting".
func TestScriptWaitsWhileAway(t *testing.T) {
	room, back, got := awayRoom(t)
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), room.dialer(), Options{Name: "bob", Script: true, Reconnect: testReconnect()}, ui)
	waitPrinted(t, ui, "-- connection lost")
	lines := numbered(3 * maxQueued)
	// maxQueued wait, maxQueued more are read ahead, and one is held by
	// the reader, which waits to hand it on.
	taken := 0
	for taken < len(lines) && tryTypeLine(ui, lines[taken], 200*time.Millisecond) {
		taken++
	}
	if want := 2*maxQueued + 1; taken != want {
		t.Errorf("%d lines read while the room was away, want %d", taken, want)
	}
	close(back)
	for _, l := range lines[taken:] {
		typeLine(t, ui, l)
	}
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	if texts := <-got; !slices.Equal(texts, append(lines, "/quit")) {
		t.Errorf("the room got %d lines (%q…), want the %d lines, then /quit", len(texts), texts[:min(len(texts), 3)], len(lines))
	}
	for _, l := range ui.output() {
		if strings.Contains(l, "not sent") {
			t.Errorf("output %q", l)
		}
	}
}

// TestScriptEndsWhileAway: a script's input that ends while the room is
// away, with lines waiting, does not leave at once: once the room is back
// the lines go, then its /quit. Before, the lines were reported not sent.
func TestScriptEndsWhileAway(t *testing.T) {
	room, back, got := awayRoom(t)
	ui := newFakeUI(t)
	const quitWait = 50 * time.Millisecond
	done := joinAsync(context.Background(), room.dialer(), Options{Name: "bob", Script: true, Reconnect: testReconnect(), quitWait: quitWait}, ui)
	waitPrinted(t, ui, "-- connection lost")
	lines := numbered(50)
	for _, l := range lines {
		typeLine(t, ui, l)
	}
	ui.endInput()
	time.Sleep(5 * quitWait) // the leaving would have run out by now
	close(back)
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	if texts := <-got; !slices.Equal(texts, append(lines, "/quit")) {
		t.Errorf("the room got %q, want the %d lines, then /quit; output %q", texts, len(lines), ui.output())
	}
}

// TestPacingSaidOnce: when the room's pace starts holding lines back,
// the person is told once, with the pace and how many lines wait.
func TestPacingSaidOnce(t *testing.T) {
	got := make(chan []string, 1)
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcomeAs(10, func(w *wire.Frame) { w.Limits = &wire.Limits{Burst: 3, PerSecond: 50} })
		got <- echoRoom(h, 11)
	})
	ui := newFakeUI(t)
	done := joinAsync(context.Background(), dial, Options{Name: "bob", Script: true}, ui)
	lines := numbered(20)
	for _, l := range lines {
		typeLine(t, ui, l)
	}
	ui.endInput()
	if err := result(t, done); err != nil {
		t.Fatalf("Join: %v", err)
	}
	if texts := <-got; !slices.Equal(texts, append(lines, "/quit")) {
		t.Errorf("the room got %q", texts)
	}
	var said []string
	for _, l := range ui.output() {
		if strings.Contains(l, "pacing") {
			said = append(said, l)
		}
	}
	// Which line first waits depends on how fast the lines were typed;
	// the pace is the room's.
	if len(said) != 1 || !strings.HasPrefix(said[0], "-- pacing: the room takes 3 lines at once, then 50 lines a second; ") ||
		!strings.HasSuffix(said[0], " waiting") {
		t.Errorf("pacing said %q, want once", said)
	}
}

func TestPerSecond(t *testing.T) {
	for rate, want := range map[float64]string{2: "2 lines", 1: "1 line", 0.5: "0.5 lines", 0.2: "0.2 lines", 1.8: "1.8 lines", 1000: "1000 lines", 2.04: "2 lines"} {
		if got := perSecond(rate); got != want {
			t.Errorf("perSecond(%v) = %q, want %q", rate, got, want)
		}
	}
}

// backlogCase is a newcomer's session whose welcome says count backlog
// events follow, and which sends the events sent, then nothing until the
// test is done looking (quiet), then a live "now".
func backlogCase(t *testing.T, count int, sent []string, opts Options) (ui *fakeUI, quiet chan struct{}, done <-chan error) {
	t.Helper()
	quiet = make(chan struct{})
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcomeAs(10, func(w *wire.Frame) { w.Backlog = count })
		for i, text := range sent {
			h.send(say(uint64(i+1), "cy", text, 0))
		}
		<-quiet
		h.send(say(11, "cy", "now", 0))
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	})
	ui = newFakeUI(t)
	opts.Name = "bob"
	return ui, quiet, joinAsync(context.Background(), dial, opts, ui)
}

// earlierLines is what ui printed of the backlog, and its end, in order.
func earlierLines(ui *fakeUI) []string {
	var got []string
	for _, l := range ui.output() {
		if i := strings.Index(l, "<cy> "); i >= 0 && strings.HasPrefix(l, "earlier: ") {
			got = append(got, l[i+len("<cy> "):])
		}
		if l == "-- "+earlierEnd {
			got = append(got, "end")
		}
	}
	return got
}

// TestBacklogEndsAtOnce: in a quiet room, the end of the backlog is
// shown as soon as its last event (the welcome says how many come), not
// with the next live line, which may never come; Options.Backlog shows
// only the latest so many, or none. A welcome that says more than come
// ends it with the next live line, as a host that does not count does;
// one that says fewer has the rest dropped.
func TestBacklogEndsAtOnce(t *testing.T) {
	three := []string{"one", "two", "three"}
	for _, tt := range []struct {
		name    string
		count   int
		sent    []string
		backlog int
		quiet   []string // shown while the room is quiet
		after   []string // shown in all, once "now" came
	}{
		{"all, ended at once", 3, three, 0, []string{"one", "two", "three", "end"}, nil},
		{"the latest two", 3, three, 2, []string{"two", "three", "end"}, nil},
		{"more than were sent", 3, three, 5, []string{"one", "two", "three", "end"}, nil},
		{"none", 3, three, NoBacklog, nil, nil},
		{"a host that does not count", 0, three, 0, []string{"one", "two", "three"}, []string{"one", "two", "three", "end"}},
		{"a host that does not count, the latest two", 0, three, 2, nil, []string{"two", "three", "end"}},
		{"a welcome that says more than come", 9, three, 0, []string{"one", "two", "three"}, []string{"one", "two", "three", "end"}},
		{"a welcome that says fewer than come", 2, three, 0, []string{"one", "two", "end"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ui, quiet, done := backlogCase(t, tt.count, tt.sent, Options{Backlog: tt.backlog})
			// The room is quiet: wait until what it sent has been read.
			waitPrinted(t, ui, "joined")
			deadline := time.Now().Add(10 * time.Second)
			for !slices.Equal(earlierLines(ui), tt.quiet) && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond) // and nothing more comes
			if got := earlierLines(ui); !slices.Equal(got, tt.quiet) {
				t.Errorf("while the room is quiet, shown %q, want %q", got, tt.quiet)
			}
			close(quiet)
			waitPrinted(t, ui, "<cy> now")
			ui.endInput()
			if err := result(t, done); err != nil {
				t.Fatalf("Join: %v", err)
			}
			want := tt.after
			if want == nil {
				want = tt.quiet
			}
			if got := earlierLines(ui); !slices.Equal(got, want) {
				t.Errorf("in all, shown %q, want %q", got, want)
			}
		})
	}
}

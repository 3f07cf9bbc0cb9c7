package join

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// TestOutgoing runs the lines on their way through the steps of each
// case, then checks which wait (text#ref, in order) and which were sent
// and are not answered yet. A step is one of:
//
//	connect history|plain|paced   a session begins: its room answers refs
//	                              (its welcome names an epoch) or not;
//	                              paced: it does, at a burst of 3, 10 a second
//	queue TEXT                    the person typed a line; it waits
//	offer NAME                    the person offered file NAME; it waits
//	                              among the lines (shown offer:NAME)
//	refuse TEXT                   the line (or offer:NAME) is refused:
//	                              maxQueuedBytes of text wait
//	paste [refused] TEXT          the person typed a line that came with
//	                              the one before (typed): it waits, or
//	                              it is refused
//	type [refused] TEXT           the same, for a line that came after a
//	                              pause
//	fill N                        N lines typed (line 0 …)
//	fill big N                    N lines of 4 KiB typed (big 0 …)
//	full                          maxQueued lines wait: a script's input waits
//	confirmed N                   the room confirmed the first N lines
//	at D                          the clock is D past the start
//	wait D                        the first line must wait D (to the ms)
//	send TEXT#REF                 the first line goes out, with that ref
//	send all                      every waiting line goes out
//	broken                        nothing goes out: the room answers nothing
//	not sent TEXT#REF             the write of that line failed
//	answer REF                    the room answered the line with REF
//	resume                        the replay is over: sending takes up
//	drop waiting N                the lines waiting, N of them, are given up
//	drop unanswered N             and the lines unanswered, N of them
func TestOutgoing(t *testing.T) {
	thousandUnanswered := slices.Concat([]string{"connect history"},
		slices.Repeat([]string{"fill 100", "send all"}, maxUnanswered/100))
	tests := []struct {
		name       string
		steps      []string
		waiting    string
		unanswered string
	}{
		{"lines wait in order", []string{"connect plain", "queue a", "queue b"}, "a b", ""},
		{"refs are given as lines go, in order", []string{"connect plain", "queue a", "queue b", "send a#1", "queue c", "send b#2", "send c#3"}, "", ""},
		{"a room that keeps no history answers no refs: nothing is kept",
			[]string{"connect plain", "queue a", "send a#1", "answer 1"}, "", ""},
		{"a room that keeps history: lines are kept until answered",
			[]string{"connect history", "queue a", "queue b", "send a#1", "send b#2"}, "", "a#1 b#2"},
		{"an answer covers every line before it",
			[]string{"connect history", "queue a", "queue b", "queue c", "send all", "answer 2"}, "", "c#3"},
		{"an older answer, or none, changes nothing",
			[]string{"connect history", "queue a", "queue b", "send all", "answer 1", "answer 0", "answer 1"}, "", "b#2"},

		{"the pace lets the burst go, then spaces lines",
			[]string{"connect paced", "fill 4", "wait 0s", "send line 0#1", "wait 0s", "send line 1#2",
				"wait 111ms", "at 111ms", "wait 0s", "send line 2#3", "wait 111ms"}, "line 3", "line 0#1 line 1#2 line 2#3"},
		{"a line that waits holds its token: asked again, it waits what is left",
			[]string{"connect paced", "fill 3", "wait 0s", "send line 0#1", "wait 0s", "send line 1#2",
				"wait 111ms", "at 50ms", "wait 61ms", "at 111ms", "wait 0s", "send line 2#3"}, "", "line 0#1 line 1#2 line 2#3"},
		// The room keeps a member's line budget by key across its
		// connections: a client that came back with a full burst would
		// have lines beyond what the room has left refused, and lost.
		{"a new session with the same limits paces on: a line that waited waits on",
			[]string{"connect paced", "fill 3", "wait 0s", "send line 0#1", "wait 0s", "send line 1#2", "wait 111ms",
				"connect paced", "wait 111ms", "at 111ms", "wait 0s", "send line 2#3"}, "", "line 0#1 line 1#2 line 2#3"},
		{"a new session with the same limits has no fresh burst",
			[]string{"connect paced", "fill 4", "wait 0s", "send line 0#1", "wait 0s", "send line 1#2",
				"connect paced", "wait 111ms", "at 111ms", "wait 0s", "send line 2#3"}, "line 3", "line 0#1 line 1#2 line 2#3"},
		{"a new session with other limits paces anew",
			[]string{"connect paced", "fill 3", "wait 0s", "send line 0#1", "wait 0s", "send line 1#2", "wait 111ms",
				"connect faster", "wait 0s", "send line 2#3"}, "", "line 0#1 line 1#2 line 2#3"},

		{"a write that failed: an untracked line waits again, first, with its ref",
			[]string{"connect plain", "queue a", "queue b", "send a#1", "not sent a#1", "send a#1", "send b#2"}, "", ""},
		{"a write that failed: a tracked line waits for its answer or the replay",
			[]string{"connect history", "queue a", "queue b", "send a#1", "not sent a#1"}, "b", "a#1"},

		{"resume after reconnect: the unanswered go first, then what was typed",
			[]string{"connect history", "queue a", "queue b", "queue c", "send a#1", "send b#2", "answer 1",
				"queue d", "connect history", "resume"}, "b#2 c d", ""},
		{"resume after reconnect: unless the replay shows them taken",
			[]string{"connect history", "queue a", "queue b", "send all", "queue c",
				"connect history", "answer 2", "resume"}, "c", ""},
		{"resume on a room that lost its history: nothing to send again",
			[]string{"connect history", "queue a", "send a#1", "queue b", "connect plain", "resume", "send b#2"}, "", "a#1"},

		{"limits: maxQueued lines make a script wait, and a person's lines are still taken",
			[]string{"connect history", fmt.Sprint("fill ", maxQueued), "full", "queue x", "send line 0#1", "queue y",
				fmt.Sprint("drop waiting ", maxQueued+1), "drop unanswered 1"}, "", ""},
		{"limits: a paste is kept up to maxQueuedBytes; the line past it is refused until some go",
			[]string{"connect history", fmt.Sprint("fill big ", maxQueuedBytes/4096), "refuse x", "send big 0#1", "queue x",
				fmt.Sprint("drop waiting ", maxQueuedBytes/4096), fmt.Sprint("fill big ", maxQueuedBytes/4096), "refuse z",
				fmt.Sprint("drop waiting ", maxQueuedBytes/4096)}, "", "big 0#1"},
		// A paste larger than the queue (the issue: "never partly sent
		// with lines vanishing"): without the cut, a line going out left
		// room for a later line of the same paste, sent after a hole.
		{"limits: a paste past maxQueuedBytes is cut where it is refused: the rest of it is refused though lines go out, and a line after a pause is tried again",
			[]string{"connect history", fmt.Sprint("fill big ", maxQueuedBytes/4096), "paste refused x", "send big 0#1",
				"paste refused y", "paste refused z", "type w", "paste v", "type refused " + strings.Repeat("u", 4096), "send big 1#2",
				"paste refused t", "type s", fmt.Sprint("drop waiting ", maxQueuedBytes/4096+1)}, "", "big 0#1 big 1#2"},
		{"limits: the text of lines sent again counts",
			[]string{"connect history", fmt.Sprint("fill big ", maxQueuedBytes/4096), "send big 0#1", "queue x",
				"connect history", "resume", "refuse y", fmt.Sprint("drop waiting ", maxQueuedBytes/4096+1)}, "", ""},

		{"confirmed: the lines up to the last answer, never fewer",
			[]string{"connect history", "queue a", "queue b", "queue c", "send all", "answer 2", "confirmed 2", "answer 1", "confirmed 2"}, "", "c#3"},
		{"confirmed: an answer beyond the last line sent confirms nothing",
			[]string{"connect history", "queue a", "queue b", "send a#1", "answer 99", "confirmed 0", "answer 1", "send b#2", "answer 99", "confirmed 1"}, "", "b#2"},
		{"an answer beyond the last line sent lets no line go",
			[]string{"connect history", "queue a", "send a#1", "answer 99", "queue b", "connect history", "resume"}, "a#1 b", ""},
		{"limits: past maxUnanswered unanswered lines, the room is broken and nothing goes",
			slices.Concat(thousandUnanswered, []string{"queue x", "broken", "broken", fmt.Sprint("drop unanswered ", maxUnanswered)}), "x", ""},
		{"limits: answered lines are let go, however many",
			slices.Concat(thousandUnanswered, []string{"answer 1000", "queue x", "send x#1001"}), "", "x#1001"},
		{"limits: a room that keeps no history is never taken for broken",
			slices.Concat([]string{"connect plain"}, slices.Repeat([]string{"fill 100", "send all"}, maxUnanswered/100+1)), "", ""},

		{"offers wait among the lines, in order, and get refs as lines do",
			[]string{"connect history", "queue a", "offer x.bin", "queue b", "send a#1", "send offer:x.bin#2", "send b#3"}, "", "a#1 offer:x.bin#2 b#3"},
		{"an offer is paced as a line: the room counts it against the member's lines",
			[]string{"connect paced", "queue a", "queue b", "offer x.bin", "wait 0s", "send a#1", "wait 0s", "send b#2",
				"wait 111ms", "at 111ms", "wait 0s", "send offer:x.bin#3"}, "", "a#1 b#2 offer:x.bin#3"},
		{"an offer the room has not answered goes again after a break, with its ref, as an offer",
			[]string{"connect history", "offer x.bin", "queue a", "send offer:x.bin#1", "send a#2", "answer 0",
				"connect history", "resume"}, "offer:x.bin#1 a#2", ""},
		{"an answered offer is let go",
			[]string{"connect history", "offer x.bin", "send offer:x.bin#1", "answer 1"}, "", ""},
		{"an offer whose write failed, to a room that answers no refs, waits again first",
			[]string{"connect plain", "offer x.bin", "queue a", "send offer:x.bin#1", "not sent offer:x.bin#1", "send offer:x.bin#1", "send a#2"}, "", ""},
		{"limits: an offer counts against maxQueuedBytes, and is refused past it",
			[]string{"connect history", fmt.Sprint("fill big ", maxQueuedBytes/4096), "refuse offer:x.bin", "send big 0#1", "offer x.bin",
				fmt.Sprint("drop waiting ", maxQueuedBytes/4096)}, "", "big 0#1"},

		{"report: what waits was not sent, what is unanswered was not confirmed",
			[]string{"connect history", "queue a", "queue b", "queue c", "send a#1", "drop waiting 2", "drop unanswered 1"}, "", ""},
		{"report: nothing to report",
			[]string{"connect history", "queue a", "send a#1", "answer 1", "drop waiting 0", "drop unanswered 0"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o outgoing
			start := time.Unix(1e9, 0)
			now := start
			for _, step := range tt.steps {
				verb, arg := splitStep(step)
				switch verb {
				case "connect":
					w := wire.Frame{Epoch: "e1"}
					switch arg {
					case "plain":
						w.Epoch = ""
					case "paced":
						w.Limits = &wire.Limits{Burst: 3, PerSecond: 10}
					case "faster":
						w.Limits = &wire.Limits{Burst: 5, PerSecond: 10}
					}
					o.connect(w)
				case "queue":
					if !o.queue(arg) {
						t.Fatalf("%s: refused", step)
					}
				case "paste", "type":
					text, refused := strings.CutPrefix(arg, "refused ")
					if verb == "type" {
						o.afterPause()
					}
					if got := !o.cutShort() && o.queue(text); got == refused {
						t.Fatalf("%s: taken %v", step, got)
					}
				case "offer":
					if !o.queueLine(testOffer(arg)) {
						t.Fatalf("%s: refused", step)
					}
				case "refuse":
					if o.queueLine(testLine(arg, 0)) {
						t.Fatalf("%s: taken", step)
					}
				case "fill":
					big := false
					if rest, ok := strings.CutPrefix(arg, "big "); ok {
						big, arg = true, rest
					}
					n, _ := strconv.Atoi(arg)
					for i := range n {
						line := fmt.Sprint("line ", i)
						if big {
							line = fmt.Sprint("big ", i)
							line += strings.Repeat("b", 4096-len(line))
						}
						if !o.queue(line) {
							t.Fatalf("%s: line %d refused", step, i)
						}
					}
				case "full":
					if !o.full() {
						t.Fatalf("%s: %d lines wait", step, o.waitingCount())
					}
				case "confirmed":
					n, _ := strconv.ParseUint(arg, 10, 64)
					if o.confirmed != n {
						t.Fatalf("%s: %d confirmed", step, o.confirmed)
					}
				case "at":
					d, _ := time.ParseDuration(arg)
					now = start.Add(d)
				case "wait":
					want, _ := time.ParseDuration(arg)
					if got := o.wait(now).Round(time.Millisecond); got != want {
						t.Fatalf("%s: waits %v", step, got)
					}
				case "send":
					if arg == "all" {
						for !o.empty() {
							if _, err := o.take(); err != nil {
								t.Fatalf("%s: %v", step, err)
							}
						}
						break
					}
					l, err := o.take()
					if err != nil || show(l) != arg {
						t.Fatalf("%s: sent %q, %v", step, show(l), err)
					}
				case "broken":
					var broken *BrokenRoomError
					if _, err := o.take(); !errors.As(err, &broken) {
						t.Fatalf("%s: %v, want a *BrokenRoomError", step, err)
					}
				case "not":
					text, ref, _ := strings.Cut(strings.TrimPrefix(arg, "sent "), "#")
					n, _ := strconv.ParseUint(ref, 10, 64)
					o.notSent(testLine(text, n))
				case "answer":
					n, _ := strconv.ParseUint(arg, 10, 64)
					o.answered(n)
				case "resume":
					o.resume()
				case "drop":
					what, count, _ := strings.Cut(arg, " ")
					want, _ := strconv.Atoi(count)
					var got int
					if what == "unanswered" {
						got = o.dropUnanswered()
					} else {
						got = o.dropWaiting()
					}
					if got != want {
						t.Fatalf("%s: %d", step, got)
					}
				default:
					t.Fatalf("no step %q", step)
				}
			}
			if got := showAll(o.waiting); got != tt.waiting {
				t.Errorf("waiting %q, want %q", got, tt.waiting)
			}
			if got := showAll(o.unanswered); got != tt.unanswered {
				t.Errorf("unanswered %q, want %q", got, tt.unanswered)
			}
		})
	}
}

func splitStep(step string) (verb, arg string) {
	verb, arg, _ = strings.Cut(step, " ")
	return verb, arg
}

// testOffer is an offer of the file name, as the steps write it.
func testOffer(name string) outLine {
	return outLine{offer: &wire.File{Name: name, Size: 1, SHA256: strings.Repeat("0", 64)}}
}

// testLine is the line or offer (offer:NAME) s, with ref.
func testLine(s string, ref uint64) outLine {
	if name, ok := strings.CutPrefix(s, "offer:"); ok {
		l := testOffer(name)
		l.ref = ref
		return l
	}
	return outLine{text: s, ref: ref}
}

// show is l as the steps write it: text#ref, or text before it has a ref;
// an offer is offer:NAME.
func show(l outLine) string {
	if l.offer != nil {
		l.text = "offer:" + l.offer.Name
	}
	if strings.HasPrefix(l.text, "big ") {
		l.text, _, _ = strings.Cut(l.text, "b"+"b")
	}
	if l.ref == 0 {
		return l.text
	}
	return fmt.Sprintf("%s#%d", l.text, l.ref)
}

func showAll(lines []outLine) string {
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = show(l)
	}
	return strings.Join(s, " ")
}

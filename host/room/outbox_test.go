package room

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// An outbox holds up to its limit, hands everything over in one Take, in
// order, signals once per empty-to-queued change and on close, and after
// close says so once the last frames are taken.
func TestOutbox(t *testing.T) {
	o := newOutbox(3)
	if frames, open := o.Take(); len(frames) != 0 || !open {
		t.Fatalf("new outbox: Take = %q, %v; want nothing, open", frames, open)
	}
	for i := range 3 {
		if !o.push(fmt.Appendf(nil, "f%d", i)) {
			t.Fatalf("push %d refused below the limit", i)
		}
	}
	if o.push([]byte("f3")) {
		t.Fatal("push past the limit accepted")
	}
	select {
	case <-o.Ready():
	default:
		t.Fatal("no token after frames were queued")
	}
	select {
	case <-o.Ready():
		t.Fatal("a second token for the same frames")
	default:
	}
	frames, open := o.Take()
	if got := fmt.Sprintf("%s", frames); got != "[f0 f1 f2]" || !open {
		t.Fatalf("Take = %s, %v; want [f0 f1 f2], open", got, open)
	}
	o.Recycle(frames)
	if o.Len() != 0 || !o.push([]byte("f4")) {
		t.Fatal("the outbox is not empty and usable again after Take")
	}
	o.close()
	<-o.Ready() // the token from f4, or the one from close: one is waiting
	frames, open = o.Take()
	if got := fmt.Sprintf("%s", frames); got != "[f4]" || open {
		t.Fatalf("Take after close = %s, %v; want [f4], closed", got, open)
	}
	if frames, open := o.Take(); len(frames) != 0 || open {
		t.Fatalf("Take once drained = %q, %v; want nothing, closed", frames, open)
	}
}

// With OnReady, the outbox calls its hook where it would put a token on
// Ready, and puts none: once when frames are queued into an emptied
// outbox, and on close.
func TestOutboxOnReady(t *testing.T) {
	o := newOutbox(8)
	o.push([]byte("before")) // queued before the hook: a token for it
	<-o.Ready()
	wakes := 0
	o.OnReady(func() { wakes++ })
	o.push([]byte("f1"))
	if wakes != 0 {
		t.Fatalf("%d wakes for frames queued behind others not taken yet", wakes)
	}
	frames, _ := o.Take()
	o.Recycle(frames)
	o.push([]byte("f2"))
	o.push([]byte("f3"))
	if wakes != 1 {
		t.Fatalf("%d wakes for frames queued into an emptied outbox, want 1", wakes)
	}
	o.close()
	if wakes != 2 {
		t.Fatalf("%d wakes after close, want 2", wakes)
	}
	select {
	case <-o.Ready():
		t.Fatal("a token on Ready although the hook was called instead")
	default:
	}
}

// loggedOutbox is an outbox reading a log of its own, as a member's reads
// the room's, and a way to append an event to that log as the room's
// fanOut does.
func loggedOutbox(limit int) (*Outbox, func(frame string) bool) {
	log := newBroadcastLog(limit)
	o := newLoggedOutbox(limit, log)
	return o, func(frame string) bool { return o.offer(appendPublished(log, frame)) }
}

// appendPublished appends frame to log and publishes it, as the room's
// turn does with one event, and returns the places published.
func appendPublished(log *broadcastLog, frame string) (from, to uint64) {
	log.append([]byte(frame))
	return log.publish()
}

// The room's events (from the log) and the member's own frames (queued in
// the outbox) come out of Take in the order the room handed them over,
// however the takes fall among them.
func TestOutboxLogKeepsTheRoomsOrder(t *testing.T) {
	for _, tt := range []struct {
		steps string // e: an event, o: an own frame, |: a Take
		want  string // what the takes returned, in order
	}{
		{"eee|", "e0 e1 e2"},
		{"ooo|", "o0 o1 o2"},
		{"eoeoe|", "e0 o1 e2 o3 e4"},
		{"oe|eo|oo|ee", "o0 e1 e2 o3 o4 o5"},
		{"e|o|e|o", "e0 o1 e2"},
		{"ooee|oeeo|e|", "o0 o1 e2 e3 o4 e5 e6 o7 e8"},
		{"||e||", "e0"},
	} {
		o, event := loggedOutbox(64)
		var got []string
		for i, step := range tt.steps {
			switch step {
			case 'e':
				if !event(fmt.Sprintf("e%d", i-strings.Count(tt.steps[:i], "|"))) {
					t.Fatalf("%s: event refused below the limit", tt.steps)
				}
			case 'o':
				if !o.push(fmt.Appendf(nil, "o%d", i-strings.Count(tt.steps[:i], "|"))) {
					t.Fatalf("%s: own frame refused below the limit", tt.steps)
				}
			case '|':
				frames, _ := o.Take()
				for _, f := range frames {
					got = append(got, string(f))
				}
				o.Recycle(frames)
			}
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("%s: took %q, want %q", tt.steps, g, tt.want)
		}
	}
}

// A member as far behind as its outbox's limit, events and own frames
// together, is refused the next event, and given nothing after it, even
// once it has taken what it had.
func TestOutboxLogLimit(t *testing.T) {
	o, event := loggedOutbox(3)
	if !event("e0") || !o.push([]byte("o1")) || !event("e2") {
		t.Fatal("refused below the limit")
	}
	if o.Len() != 3 {
		t.Fatalf("Len = %d, want 3", o.Len())
	}
	if event("e3") {
		t.Fatal("an event past the limit accepted")
	}
	event("e4") // the room gives a member it let go nothing more, but the log goes on
	frames, open := o.Take()
	if got := fmt.Sprintf("%s", frames); got != "[e0 o1 e2]" || !open {
		t.Fatalf("Take = %s, %v; want [e0 o1 e2], open", got, open)
	}
	if frames, _ := o.Take(); len(frames) != 0 {
		t.Fatalf("after the stop, Take = %s; want nothing", frames)
	}
	if o.Lost() {
		t.Fatal("Lost although nothing owed was overwritten")
	}
}

// Events published together count as if offered one by one: a member
// that reaches its limit among them is given those before the one that
// found it full, and nothing from there on; one under its limit is given
// them all, and woken once.
func TestOutboxLogLimitAcrossAPublish(t *testing.T) {
	log := newBroadcastLog(4) // a ring of 8
	full := newLoggedOutbox(4, log)
	roomy := newLoggedOutbox(8, log)
	full.push([]byte("o0"))
	<-full.Ready() // the token for o0, as its writer would take it
	for _, f := range []string{"e0", "e1", "e2", "e3", "e4"} {
		log.append([]byte(f))
	}
	from, to := log.publish()
	if full.offer(from, to) {
		t.Fatal("five events and one frame of its own accepted into an outbox of four")
	}
	frames, _ := full.Take()
	if got := fmt.Sprintf("%s", frames); got != "[o0 e0 e1 e2]" {
		t.Fatalf("Take = %s; want [o0 e0 e1 e2]", got)
	}
	if !roomy.offer(from, to) {
		t.Fatal("five events refused by an outbox of eight")
	}
	select {
	case <-roomy.Ready():
	default:
		t.Fatal("the writer of an empty outbox was not woken")
	}
	if frames, _ := roomy.Take(); fmt.Sprintf("%s", frames) != "[e0 e1 e2 e3 e4]" {
		t.Fatalf("Take = %s; want [e0 e1 e2 e3 e4]", frames)
	}
}

// A writer that had not taken what it was owed when the log went round
// past it gets what the log still held in order, stops at the gap, and
// is told (Lost), rather than given a later event in an earlier's place.
func TestOutboxLogLostWhenOvertaken(t *testing.T) {
	const limit = 2 // the log holds 4
	log := newBroadcastLog(limit)
	slow := newLoggedOutbox(limit, log)
	other := newLoggedOutbox(limit, log)
	for i := range 9 {
		from, to := appendPublished(log, fmt.Sprintf("e%d", i))
		slow.offer(from, to)
		other.offer(from, to)
		frames, _ := other.Take()
		other.Recycle(frames)
	}
	frames, _ := slow.Take()
	if len(frames) != 0 || !slow.Lost() {
		t.Fatalf("Take = %s, lost %v; want nothing, lost", frames, slow.Lost())
	}
	if other.Lost() {
		t.Fatal("a member that kept up was told it lost events")
	}

	// What comes before the gap still comes, in order.
	log = newBroadcastLog(limit)
	o := newLoggedOutbox(limit, log)
	o.push([]byte("o0"))
	o.offer(appendPublished(log, "e1"))
	if o.offer(appendPublished(log, "e2")) {
		t.Fatal("an event past the limit accepted")
	}
	for range 4 {
		appendPublished(log, "later")
	}
	frames, _ = o.Take()
	if got := fmt.Sprintf("%s", frames); got != "[o0]" || !o.Lost() {
		t.Fatalf("Take = %s, lost %v; want [o0], lost", got, o.Lost())
	}
}

// An event appended to the log while the writer takes is never left
// behind with the writer waiting: either the writer's Take sees it, or
// the room sees the writer's cursor at it and wakes it. A room goroutine
// hands over bursts of one to three frames (events, and now and then one
// of the member's own) and waits for the writer to have taken each burst
// before the next, so that nothing later covers for a wake-up lost at the
// end of a burst; the writer takes only when woken. A lost wake-up is a
// writer waiting while the room waits for it (the deadline). Run with
// -race too.
func TestOutboxLogNoLostWakeUp(t *testing.T) {
	const rounds = 20000
	o, event := loggedOutbox(8)
	var taken atomic.Int64
	bad := make(chan error, 1)
	go func() {
		for {
			<-o.Ready()
			frames, open := o.Take()
			for _, f := range frames {
				if got, want := string(f), fmt.Sprint(taken.Load()); got != want && got != "own"+want {
					bad <- fmt.Errorf("frame %q where %s was due", got, want)
					return
				}
				taken.Add(1)
			}
			o.Recycle(frames)
			if !open {
				return
			}
		}
	}()
	sent := int64(0)
	for round := range rounds {
		for range round%3 + 1 {
			var ok bool
			if sent%5 == 4 {
				ok = o.push(fmt.Appendf(nil, "own%d", sent))
			} else {
				ok = event(fmt.Sprint(sent))
			}
			if !ok {
				t.Fatalf("frame %d refused below the limit", sent)
			}
			sent++
		}
		deadline := time.Now().Add(5 * time.Second)
		for taken.Load() < sent {
			select {
			case err := <-bad:
				t.Fatal(err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the writer waits with %d of %d frames taken: a wake-up was lost", round, taken.Load(), sent)
			}
			runtime.Gosched()
		}
	}
	o.close()
}

// An event into an outbox whose writer has taken everything wakes it,
// once; more events behind it wake no one until the writer takes them.
func TestOutboxLogWakes(t *testing.T) {
	o, event := loggedOutbox(16)
	wakes := 0
	o.OnReady(func() { wakes++ })
	event("e0")
	event("e1")
	if wakes != 1 {
		t.Fatalf("%d wakes for two events into an emptied outbox, want 1", wakes)
	}
	frames, _ := o.Take()
	o.Recycle(frames)
	event("e2")
	if wakes != 2 {
		t.Fatalf("%d wakes after an event into an outbox emptied again, want 2", wakes)
	}
}

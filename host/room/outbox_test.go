package room

import (
	"fmt"
	"testing"
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

package irc

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"chatroom/host/wire"
)

func encodeFrame(t testing.TB, f wire.Frame) []byte {
	t.Helper()
	b, err := wire.Encode(&f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFrameCacheDecodesAsParse: whatever the frame, the cache's answer is
// wire.Parse's, the first time and from the cache; only events are kept,
// and a frame made for one member (a private message) never is.
func TestFrameCacheDecodesAsParse(t *testing.T) {
	now := time.Now()
	frames := []wire.Frame{
		{Type: wire.TypeEvent, Seq: 7, Time: now, Kind: wire.KindSay, From: "ann", Text: "hello"},
		{Type: wire.TypeEvent, Seq: 8, Time: now, Kind: wire.KindPresence, Left: []wire.Departure{{Name: "bob", Code: wire.CodeLost}}, Joined: []wire.Member{{Name: "cy", Key: "3f9a1cB2"}}},
		{Type: wire.TypePrivate, Time: now, From: "ann", To: "bob", Text: "for bob only"},
		{Type: wire.TypeNotice, Text: "for one member"},
	}
	fc := newFrameCache(8)
	for _, f := range frames {
		line := encodeFrame(t, f)
		want, _ := wire.Parse(line)
		for range 2 {
			got, err := fc.parse(line)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("cache: %+v, %v\nwant %+v", got, err, want)
			}
		}
	}
	if n := fc.len(); n != 2 {
		t.Fatalf("the cache holds %d frames, want the 2 events only", n)
	}
	for _, line := range []string{"{\"type\":\"event\",\"seq\":\n", "{\"type\":\"event\",\"text\":\"\xff\"}\n"} {
		if _, err := fc.parse([]byte(line)); err == nil {
			t.Fatalf("%q decoded", line)
		}
	}
	if n := fc.len(); n != 2 {
		t.Fatalf("an unreadable frame was kept: %d frames", n)
	}
}

// TestFrameCacheBounded is a room that sends far more distinct events than
// the cache holds: it holds its size, the newest, and no more.
func TestFrameCacheBounded(t *testing.T) {
	fc := newFrameCache(16)
	var lines [][]byte
	for i := range 100 {
		lines = append(lines, encodeFrame(t, wire.Frame{Type: wire.TypeEvent, Seq: uint64(i + 1), Kind: wire.KindSay, From: "ann", Text: "x"}))
		if _, err := fc.parse(lines[i]); err != nil {
			t.Fatal(err)
		}
	}
	if n := fc.len(); n != 16 {
		t.Fatalf("the cache holds %d frames, want 16", n)
	}
	for i, line := range lines[len(lines)-16:] {
		if _, ok := fc.byLine[string(line)]; !ok {
			t.Fatalf("the %dth newest frame is not kept", 16-i)
		}
	}
	long := encodeFrame(t, wire.Frame{Type: wire.TypeEvent, Seq: 999, Kind: wire.KindSay, From: "ann", Text: string(make([]byte, maxCachedFrame))})
	fc.parse(long)
	if _, ok := fc.byLine[string(long)]; ok {
		t.Fatal("a frame longer than maxCachedFrame was kept")
	}
}

// TestFrameCacheSharedBySessions is the fan-out: many sessions read the
// same events at once and render them, each with its own caps; the race
// detector sees any write to a frame they share, and each session's lines
// are those it makes from a frame of its own.
func TestFrameCacheSharedBySessions(t *testing.T) {
	fc := newFrameCache(64)
	var lines [][]byte
	for i := range 20 {
		lines = append(lines, encodeFrame(t, wire.Frame{Type: wire.TypeEvent, Seq: uint64(100 + i), Time: time.Now(), Kind: wire.KindPresence,
			Left: []wire.Departure{{Name: "bob.x", Code: wire.CodeLost}}, Joined: []wire.Member{{Name: "dee", Key: "3f9a1cB2", Role: wire.RoleAdmin}}}))
		lines = append(lines, encodeFrame(t, wire.Frame{Type: wire.TypeEvent, Seq: uint64(200 + i), Time: time.Now(), Kind: wire.KindSay, From: "ann", Text: "hi " + itoa(i)}))
	}
	render := func(c *conn, parse func([]byte) (wire.Frame, error)) string {
		for _, line := range lines {
			f, err := parse(line)
			if err != nil {
				t.Error(err)
				return ""
			}
			c.render(f)
		}
		return eachSortedTags(c.out.String())
	}
	var wg sync.WaitGroup
	for i := range 8 {
		caps := map[string]bool{capAccountTag: i%2 == 0, capMessageTags: i%3 == 0, capAwayNotify: true}
		fresh, shared := newTestConn(t), newTestConn(t)
		fresh.caps, shared.caps = caps, caps
		want := render(fresh, wire.Parse)
		wg.Go(func() {
			if got := render(shared, fc.parse); got != want {
				t.Errorf("session %d, from the cache:\n%s\nwant\n%s", i, got, want)
			}
		})
	}
	wg.Wait()
}

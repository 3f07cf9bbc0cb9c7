package join

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"chatroom/host/room"
	"chatroom/host/wire"
)

// hostileMark is in every string a hostile room sends in these tests, so
// that a test can tell whether the room's text reached an error.
const hostileMark = "EVIL"

// floodJoins plays a room that, after its welcome, announces up to n
// members joining, each with a name of its own, as fast as the client
// reads, until the client hangs up.
func floodJoins(n int) func(h *fakeHost) {
	return func(h *fakeHost) {
		h.welcome(1)
		w := bufio.NewWriterSize(h.conn, 64<<10)
		var buf []byte
		for i := range n {
			f := wire.Frame{Type: wire.TypeEvent, Kind: wire.KindJoin, Seq: uint64(2 + i), Name: fmt.Sprintf("m%d", i), Role: wire.RoleMember}
			buf, _ = wire.Append(buf[:0], &f)
			if _, err := w.Write(buf); err != nil {
				return // the client hung up
			}
		}
		w.Flush()
	}
}

// heapInUse is the heap the program holds after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestJoinFloodStaysBounded stands for the attack of a room that sends a
// million join events, each a new name: the client's roster grew without
// end (about 400 MB). Now the session ends as a broken room once the room
// announces more members than any host lets in, and the heap the session
// holds stays a few megabytes.
func TestJoinFloodStaysBounded(t *testing.T) {
	const joins = 1_000_000
	before := heapInUse()
	s, err := connectTo(t, context.Background(), "bob", floodJoins(joins))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	for {
		if _, err = s.Next(); err != nil {
			break
		}
		n++
	}
	after := heapInUse()
	grown := int64(after) - int64(before)
	t.Logf("%d join events read; heap in use %d KiB before, %d KiB after (%+d KiB), roster of %d",
		n, before>>10, after>>10, grown>>10, len(s.Roster().members()))
	var broken *BrokenRoomError
	if !errors.As(err, &broken) || broken.Why != "it announced more than 20000 members" {
		t.Fatalf("after %d joins: %v, want a broken room that announced too many members", n, err)
	}
	if got := len(s.Roster().members()); got > maxRosterMembers {
		t.Errorf("the roster holds %d members, more than %d", got, maxRosterMembers)
	}
	if grown > 32<<20 {
		t.Errorf("the heap grew by %d MiB over %d joins", grown>>20, n)
	}
	runtime.KeepAlive(s)
}

// TestJoinsAndLeavesKeepGoing: a busy real room, in which many more
// people come and go over a session than are ever in it at once, is not
// taken for a broken one.
func TestJoinsAndLeavesKeepGoing(t *testing.T) {
	const people = 3 * maxRosterMembers
	s, err := connectTo(t, context.Background(), "bob", func(h *fakeHost) {
		h.welcome(1)
		w := bufio.NewWriterSize(h.conn, 64<<10)
		var buf []byte
		seq := uint64(1)
		for i := range people {
			seq++
			buf, _ = wire.Append(buf[:0], &wire.Frame{Type: wire.TypeEvent, Kind: wire.KindJoin, Seq: seq, Name: fmt.Sprintf("m%d", i), Role: wire.RoleMember})
			if i >= 100 {
				seq++
				buf, _ = wire.Append(buf, &wire.Frame{Type: wire.TypeEvent, Kind: wire.KindLeave, Seq: seq, Name: fmt.Sprintf("m%d", i-100), Code: wire.CodeLeft})
			}
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
		w.Flush()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	for {
		if _, err = s.Next(); err != nil {
			break
		}
		n++
	}
	if !errors.Is(err, io.EOF) || n != 2*people-100 {
		t.Fatalf("after %d events: %v, want all %d and the end of the connection", n, err, 2*people-100)
	}
	if got := len(s.Roster().members()); got != 101 {
		t.Errorf("the roster holds %d members, want bob and the 100 still in the room", got)
	}
}

// brokenWithoutRoomText checks that err is a *BrokenRoomError whose words
// are the client's: none of the room's text is in it.
func brokenWithoutRoomText(t *testing.T, err error, want string) {
	t.Helper()
	var broken *BrokenRoomError
	if !errors.As(err, &broken) {
		t.Fatalf("got %v, want a broken room", err)
	}
	if !strings.Contains(broken.Why, want) {
		t.Errorf("Why = %q, want it to say %q", broken.Why, want)
	}
	if strings.Contains(err.Error(), hostileMark) {
		t.Errorf("the error %q repeats the room's text", err)
	}
}

// manyMembers is n members named by the room.
func manyMembers(n int) []wire.Member {
	ms := make([]wire.Member, n)
	for i := range ms {
		ms[i] = wire.Member{Name: fmt.Sprintf("%s%d", hostileMark, i), Role: wire.RoleMember}
	}
	return ms
}

// TestHostileWelcome stands for a room whose welcome holds more than any
// host sends: each is refused as a broken room, in the client's words,
// before any of it is kept.
func TestHostileWelcome(t *testing.T) {
	long := strings.Repeat("x", 200)
	for _, tc := range []struct {
		name, want string
		edit       func(w *wire.Frame)
	}{
		{"members", "more than 20000 members", func(w *wire.Frame) { w.Members = manyMembers(maxRosterMembers + 1) }},
		{"long name", "longer than 24 characters", func(w *wire.Frame) {
			w.Members = append(w.Members, wire.Member{Name: hostileMark + strings.Repeat("é", 21)})
		}},
		{"megabyte name", "longer than 24 characters", func(w *wire.Frame) {
			w.Members = append(w.Members, wire.Member{Name: hostileMark + strings.Repeat("x", 1<<20)})
		}},
		{"empty name", "a member with no name", func(w *wire.Frame) { w.Members = append(w.Members, wire.Member{Role: hostileMark}) }},
		{"long role", "a role longer than 32 bytes", func(w *wire.Frame) { w.You.Role = hostileMark + long }},
		{"commands", "more than 256 commands", func(w *wire.Frame) {
			for i := range maxCommands + 1 {
				w.Commands = append(w.Commands, wire.Command{Name: fmt.Sprint(hostileMark, i)})
			}
		}},
		{"command name", "longer than 64 bytes", func(w *wire.Frame) { w.Commands = []wire.Command{{Name: hostileMark + long}} }},
		{"command help", "in more than 1024 bytes", func(w *wire.Frame) {
			w.Commands = []wire.Command{{Name: "help", Help: hostileMark + strings.Repeat(long, 6)}}
		}},
		{"bans", "more than 20000 banned names", func(w *wire.Frame) {
			for i := range maxBans + 1 {
				w.Bans = append(w.Bans, fmt.Sprint(hostileMark, i))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			closed := make(chan bool, 1)
			s, err := connectTo(t, context.Background(), "bob", func(h *fakeHost) {
				h.welcomeAs(1, tc.edit)
				_, ok := h.read()
				closed <- !ok
			})
			if err == nil {
				s.Close()
			}
			brokenWithoutRoomText(t, err, tc.want)
			if err == nil {
				return
			}
			if !<-closed {
				t.Error("the connection is still open")
			}
		})
	}
}

// TestWorstRealWelcome: the largest welcome a real host sends, its 10,000
// members each with a name of 24 characters of four bytes, as
// room.TestWorstWelcomeFits builds it, is not taken for a broken room; and
// the client's name bound is the host's.
func TestWorstRealWelcome(t *testing.T) {
	if maxNameRunes != room.MaxNameRunes {
		t.Fatalf("the client bounds names at %d characters, the host at %d", maxNameRunes, room.MaxNameRunes)
	}
	const hostMaxMembers = 10_000
	wide := strings.Repeat("𝔞", room.MaxNameRunes-5) // four bytes each
	s, err := connectTo(t, context.Background(), "bob", func(h *fakeHost) {
		h.welcomeAs(1, func(w *wire.Frame) {
			w.Members = w.Members[:0]
			for i := range hostMaxMembers - 1 {
				w.Members = append(w.Members, wire.Member{Name: fmt.Sprintf("%s%05d", wide, i), Role: wire.RoleMember})
			}
			w.Members = append(w.Members, *w.You)
			w.Bans = []string{"", strings.Repeat("z", 100), "dan"} // an address ban, a hand-written file
		})
		h.read()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := len(s.Roster().members()); got != hostMaxMembers {
		t.Errorf("the roster holds %d members, want %d", got, hostMaxMembers)
	}
	if got := s.Roster().bans; !slices.Equal(got, []string{"dan"}) {
		t.Errorf("bans kept %q, want only the name a completion can use", got)
	}
}

// TestHostileEvents stands for a room that, once it has welcomed the
// client, announces what no host lets in: each ends the session as a
// broken room, and the roster is left as it was.
func TestHostileEvents(t *testing.T) {
	long := hostileMark + strings.Repeat("x", 1<<20)
	for _, tc := range []struct {
		name, want string
		frame      wire.Frame
	}{
		{"long name", "longer than 24 characters", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindJoin, Seq: 2, Name: long, Role: wire.RoleMember}},
		{"long role", "a role longer than 32 bytes", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindRole, Seq: 2, Name: "cy", Role: long}},
		{"empty name", "a member with no name", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindJoin, Seq: 2, Role: wire.RoleMember}},
		{"bans", "more than 20000 banned names", wire.Frame{Type: wire.TypeBans, Bans: slices.Repeat([]string{hostileMark}, maxBans+1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := connectTo(t, context.Background(), "bob", func(h *fakeHost) {
				h.welcome(1, ana, cy)
				// One write, so that the client has read the say that
				// follows by the time it finds the room broken.
				var both []byte
				both, _ = wire.Append(both, &tc.frame)
				both, _ = wire.Append(both, &wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: 3, From: "cy", Text: "after"})
				h.conn.Write(both)
				h.read()
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, err = s.Next()
			brokenWithoutRoomText(t, err, tc.want)
			if role, _ := s.Roster().role("cy"); role != wire.RoleMember || len(s.Roster().members()) != 3 {
				t.Errorf("the roster changed: %v", s.Roster().members())
			}
			if f, again := s.Next(); again != err {
				t.Errorf("Next after the broken room: %+v, %v; want the same error again", f, again)
			}
		})
	}
}

// TestRecentSpeakersBounded stands for a room in which thousands speak in
// turn: the client keeps only the latest speakers to offer first, not a
// list as long as the room, walked on every message.
func TestRecentSpeakersBounded(t *testing.T) {
	const speakers = 1000
	s, err := connectTo(t, context.Background(), "bob", func(h *fakeHost) {
		h.welcomeAs(1, func(w *wire.Frame) {
			for i := range speakers {
				w.Members = append(w.Members, wire.Member{Name: fmt.Sprintf("s%04d", i), Role: wire.RoleMember})
			}
		})
		for i := range speakers {
			h.send(say(uint64(2+i), fmt.Sprintf("s%04d", i), "hi", 0))
		}
		h.read()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stop := time.AfterFunc(10*time.Second, func() { s.Close() })
	defer stop.Stop()
	for range speakers {
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
	}
	r := s.Roster()
	r.mu.Lock()
	recent := len(r.recent)
	r.mu.Unlock()
	if recent > maxRecent {
		t.Errorf("%d recent speakers kept, more than %d", recent, maxRecent)
	}
	if names := r.Names(); names[0] != "s0999" || names[maxRecent-1] != fmt.Sprintf("s%04d", speakers-maxRecent) || names[maxRecent] != "cy" {
		t.Errorf("Names() starts %q, want the latest speakers first, then the others by name", names[:maxRecent+1])
	}
}

// TestHostileHeartbeat stands for a room that announces a heartbeat no
// room means. One so long that three of them overflow a Duration put the
// read deadline in the past, so that every session ended at once as lost
// (and was retried at once); one of days turned loss detection off. The
// session keeps a heartbeat within its range and reads on.
func TestHostileHeartbeat(t *testing.T) {
	for _, ms := range []int{4_000_000_000_000, math.MaxInt, 1_000_000_000, 1, math.MinInt} {
		t.Run(fmt.Sprint(ms), func(t *testing.T) {
			s, err := connectTo(t, context.Background(), "bob", func(h *fakeHost) {
				h.welcomeAs(1, func(w *wire.Frame) { w.HeartbeatMS = ms })
				h.send(say(2, "cy", "still here", 0))
				for {
					if _, ok := h.read(); !ok {
						return
					}
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if ms > 0 && (s.heartbeat < minHeartbeat || s.heartbeat > maxHeartbeat) || ms <= 0 && s.heartbeat != 0 {
				t.Errorf("heartbeat %v for %d ms announced, want one within [%v, %v]", s.heartbeat, ms, minHeartbeat, maxHeartbeat)
			}
			if got := s.Welcome().HeartbeatMS; time.Duration(got)*time.Millisecond != s.heartbeat {
				t.Errorf("Welcome().HeartbeatMS = %d, not the %v the session keeps", got, s.heartbeat)
			}
			if f, err := s.Next(); err != nil || f.Text != "still here" {
				t.Errorf("Next = %+v, %v; want the event that came", f, err)
			}
		})
	}
}

// TestTinyHeartbeatDoesNotSpin stands for a room that announces a
// heartbeat of one millisecond and then says nothing: the client pinged
// it a thousand times a second. Over ten seconds (of synctest's clock) of
// silence it now pings at most once per minHeartbeat.
func TestTinyHeartbeatDoesNotSpin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, server := net.Pipe()
		pings := make(chan int, 1)
		go func() {
			defer server.Close()
			h := &fakeHost{t: t, conn: server, dec: wire.NewDecoder(server, wire.MaxClientFrame)}
			h.welcomeAs(1, func(w *wire.Frame) { w.HeartbeatMS = 1 })
			server.SetReadDeadline(time.Now().Add(10 * time.Second))
			n := 0
			for {
				f, ok := h.read()
				if !ok {
					break
				}
				if f.Type == wire.TypePing {
					n++
				}
			}
			pings <- n
		}()
		s, err := Connect(context.Background(), client, wire.Frame{Name: "bob"})
		if err != nil {
			t.Fatal(err)
		}
		n := <-pings
		s.Close()
		if most := int(10*time.Second/minHeartbeat) + 1; n > most {
			t.Errorf("%d pings in ten seconds of silence, want at most %d", n, most)
		}
	})
}

// sendOversized writes one frame of more than wire.MaxHostFrame bytes,
// as a hostile room does, until the client stops reading it.
func sendOversized(h *fakeHost, typ string) {
	chunk := []byte(strings.Repeat(hostileMark, 16<<10))
	if _, err := io.WriteString(h.conn, `{"type":"`+typ+`","text":"`); err != nil {
		return
	}
	for sent := 0; sent <= wire.MaxHostFrame; sent += len(chunk) {
		if _, err := h.conn.Write(chunk); err != nil {
			return // the client stopped reading
		}
	}
	io.WriteString(h.conn, "\"}\n")
}

// TestWelcomeTooLarge stands for a room whose welcome is larger than the
// client reads: the session ends as a broken room, with the limit named,
// and the person is told so over real TLS, after one connection.
func TestWelcomeTooLarge(t *testing.T) {
	cert, fp := roomKey(t)
	room := newTLSFakeRoom(t, cert, fp, func(h *fakeHost) {
		h.read()
		sendOversized(h, wire.TypeWelcome)
	})
	err := result(t, joinAsync(context.Background(), room.dialer(), Options{Name: "bob", Reconnect: testReconnect()}, newFakeUI(t)))
	brokenWithoutRoomText(t, err, "it sent a welcome longer than 4 MiB (4194304 bytes), the most a room may send")
	room.stop()
	if n := room.connections(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// TestFrameTooLargeInSession stands for a room that, once it has
// welcomed the client, sends a frame larger than the client reads: the
// room is told so in an error frame, as the protocol asks, and the
// session ends as a broken room, with the limit named.
func TestFrameTooLargeInSession(t *testing.T) {
	answer := make(chan wire.Frame, 1)
	s, err := connectTo(t, context.Background(), "bob", func(h *fakeHost) {
		h.welcome(1)
		// A room over TCP reads while it writes; over a pipe the room must
		// do so itself, or the error frame waits for the frame to end.
		go func() {
			f, _ := h.read()
			answer <- f
		}()
		sendOversized(h, wire.TypeNotice)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Next()
	brokenWithoutRoomText(t, err, "it sent a frame longer than 4 MiB (4194304 bytes), the most a room may send")
	if f := <-answer; f.Type != wire.TypeError || f.Code != wire.CodeTooLarge {
		t.Errorf("the room got %+v, want an error frame", f)
	}
	if _, err := s.Next(); err == nil {
		t.Error("Next after the broken room: no error")
	}
}

// TestWelcomeRoomIDMalformed stands for a room whose welcome names an id
// of a form no room makes (one that would break known-rooms, or the
// terminal): it is refused in one line, which does not repeat it.
func TestWelcomeRoomIDMalformed(t *testing.T) {
	for _, id := range []string{
		"0123456789ABCDEF",
		"0123456789abcde\u00a0",
		" 123456789abcdef",
		"#123456789abcdef",
		"0123456789abcdef\n",
		"0123456789abcdef0",
		"\x1b]0;" + hostileMark + "\a",
		strings.Repeat("a", 64<<10),
	} {
		t.Run(fmt.Sprintf("%.20q", id), func(t *testing.T) {
			s, err := connectTo(t, context.Background(), "bob", func(h *fakeHost) {
				h.welcomeAs(1, func(w *wire.Frame) { w.Room.ID = id })
				h.read()
			})
			if err == nil {
				s.Close()
			}
			brokenWithoutRoomText(t, err, "its welcome names a room id that is not 16 hex digits")
			if strings.Contains(err.Error(), "\n") || id != "" && strings.Contains(err.Error(), id) {
				t.Errorf("the refusal %q is not one line of the client's words", err)
			}
		})
	}
}

// TestOversizedFrameFromDeafRoom stands for a room that sends a frame over
// the limit and then reads nothing: the error frame the client owes it
// held the session for the ten seconds of a line's send timeout. On
// synctest's clock, the session now ends within a second.
func TestOversizedFrameFromDeafRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			h := &fakeHost{t: t, conn: server, dec: wire.NewDecoder(server, wire.MaxClientFrame)}
			h.welcome(1)
			sendOversized(h, wire.TypeNotice)
		}()
		s, err := Connect(context.Background(), client, wire.Frame{Name: "bob"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		start := time.Now()
		_, err = s.Next()
		brokenWithoutRoomText(t, err, "longer than 4 MiB")
		if took := time.Since(start); took > errorFrameTimeout {
			t.Errorf("the session ended %v after the frame, want within %v", took, errorFrameTimeout)
		}
	})
}

// BenchmarkWelcome is the cost of Session.Welcome, which copies the
// welcome's lists, for the largest room a host holds: the client calls it
// a few times per connection, never per frame.
func BenchmarkWelcome(b *testing.B) {
	w := wire.Frame{Type: wire.TypeWelcome, You: &wire.Member{Name: "bob"}, Members: manyMembers(10_000), Limits: &wire.Limits{Burst: 10, PerSecond: 2}}
	s := &Session{welcome: w}
	b.ReportAllocs()
	for b.Loop() {
		s.Welcome()
	}
}

// TestCompletionOfFullRoom stands for a room of as many members as the
// client keeps, in mixed case: each Tab sorts them all, and lowered every
// name at every comparison (some 600,000 allocations, a tenth of a second,
// with the roster locked). Each name is now lowered once; the order is
// compareNames' still.
func TestCompletionOfFullRoom(t *testing.T) {
	w := wire.Frame{You: &wire.Member{Name: "bob", Role: wire.RoleAdmin}}
	for i := range maxRosterMembers - 1 {
		w.Members = append(w.Members, wire.Member{Name: fmt.Sprintf("Mé%05d", (i*7919)%maxRosterMembers), Role: wire.RoleMember})
		w.Bans = append(w.Bans, fmt.Sprintf("Bé%05d", i))
	}
	r := newRoster(w)
	names := r.Names()
	if !slices.IsSortedFunc(names[:len(names)-1], compareNames) || names[len(names)-1] != "bob" {
		t.Error("Names() is not in compareNames' order, the person last")
	}
	if !slices.IsSortedFunc(r.Banned(), compareNames) {
		t.Error("Banned() is not in compareNames' order")
	}
	if !slices.IsSortedFunc(r.members(), func(a, b wire.Member) int { return compareNames(a.Name, b.Name) }) {
		t.Error("Members() is not in compareNames' order")
	}
	for what, f := range map[string]func(){"Names": func() { r.Names() }, "Banned": func() { r.Banned() }, "members": func() { r.members() }} {
		if allocs := testing.AllocsPerRun(1, f); allocs > 2*maxRosterMembers {
			t.Errorf("%s() of a full room: %.0f allocations, want at most %d", what, allocs, 2*maxRosterMembers)
		}
	}
	mixed := []string{"b", "B", "a", "É", "é", "e", "E", "ab", "Ab", "aB", ""}
	sorted := slices.Clone(mixed)
	sortByName(sorted, func(n string) string { return n })
	if want := slices.SortedFunc(slices.Values(mixed), compareNames); !slices.Equal(sorted, want) {
		t.Errorf("sortByName gives %q, compareNames %q", sorted, want)
	}
}

// TestResumedWithHugeMissed stands for a room that resumes the client and
// says it missed 2^64-1 events: the sum wrapped round, and the resume
// point went back to before where the client stood. It is now the
// welcome's Seq, past everything the room could have meant.
func TestResumedWithHugeMissed(t *testing.T) {
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcomeAs(10, func(w *wire.Frame) { w.Resumed, w.Missed = true, math.MaxUint64 })
		h.read()
	})
	conn, err := dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Connect(context.Background(), conn, wire.Frame{Name: "bob", Resume: &wire.Resume{Epoch: "e1", Seq: 5}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if p := s.ResumePoint(); p.Seq != 10 {
		t.Errorf("resume point %d after a resume from 5 into a welcome at 10, want 10", p.Seq)
	}
}

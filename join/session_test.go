package join

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// connectTo runs script as the host of a new pipe and connects to it as
// name.
func connectTo(t *testing.T, ctx context.Context, name string, script func(h *fakeHost)) (*Session, error) {
	t.Helper()
	dial, _ := scriptDialer(t, script)
	conn, err := dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return Connect(ctx, conn, wire.Frame{Name: name})
}

func TestConnectWelcome(t *testing.T) {
	hellos := make(chan wire.Frame, 1)
	s, err := connectTo(t, context.Background(), "bob", func(h *fakeHost) {
		hellos <- h.welcome(41, ana, cy)
		h.read()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hello := <-hellos
	if hello.Type != wire.TypeHello || hello.Version != wire.Version || hello.Name != "bob" {
		t.Errorf("hello %+v: want type, version and name filled in", hello)
	}
	w := s.Welcome()
	if w.Type != wire.TypeWelcome || w.Seq != 41 || w.You.Name != "bob" {
		t.Errorf("Welcome() = %+v", w)
	}
}

// TestConnectFailures checks each way a hello can fail, and that the
// connection is closed after each: the host's next read ends.
func TestConnectFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer string
		check  func(t *testing.T, err error)
	}{
		{"refused", `{"type":"refused","code":"name-taken","text":"the name \"bob\" is taken"}` + "\n", func(t *testing.T, err error) {
			var r *RefusedError
			if !errors.As(err, &r) || r.Code != wire.CodeNameTaken || err.Error() != `the name "bob" is taken` {
				t.Errorf("got %v, want the refusal", err)
			}
		}},
		{"error frame", `{"type":"error","code":"malformed","text":"bad"}` + "\n", func(t *testing.T, err error) {
			if err == nil || err.Error() != "the room could not read the hello: bad" {
				t.Errorf("got %v", err)
			}
		}},
		{"no welcome", "", func(t *testing.T, err error) {
			if err == nil || err.Error() != "the room closed the connection without a welcome" {
				t.Errorf("got %v", err)
			}
		}},
		{"welcome without you", `{"type":"welcome","version":1,"seq":1}` + "\n", func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "does not say who you are") {
				t.Errorf("got %v", err)
			}
		}},
		{"event first", `{"type":"event","kind":"say","seq":1}` + "\n", func(t *testing.T, err error) {
			if err == nil || err.Error() != `the room answered the hello with a "event" frame` {
				t.Errorf("got %v", err)
			}
		}},
		{"unreadable", "{nope\n", func(t *testing.T, err error) {
			var werr *wire.Error
			if !errors.As(err, &werr) || werr.Code != wire.CodeMalformed {
				t.Errorf("got %v, want a malformed frame", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			closed := make(chan bool, 1)
			_, err := connectTo(t, context.Background(), "bob", func(h *fakeHost) {
				h.read()
				if tc.answer != "" {
					h.sendRaw(tc.answer)
				} else {
					h.close()
				}
				_, ok := h.read()
				closed <- !ok
			})
			tc.check(t, err)
			if !<-closed {
				t.Error("the connection is still open")
			}
		})
	}
}

func TestConnectContext(t *testing.T) {
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := connectTo(t, ctx, "bob", func(h *fakeHost) {
			h.read()
			h.read() // silent until the client gives up
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v, want the deadline", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		_, err := connectTo(t, ctx, "bob", func(h *fakeHost) {
			h.read()
			cancel()
			h.read()
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want cancelled", err)
		}
	})
}

func TestSessionSend(t *testing.T) {
	got := make(chan wire.Frame, 1)
	s, err := connectTo(t, context.Background(), "bob", func(h *fakeHost) {
		h.welcome(1)
		f, _ := h.read()
		got <- f
		h.read()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send("héllo <b>"); err != nil {
		t.Fatal(err)
	}
	if f := <-got; f.Type != wire.TypeSay || f.Text != "héllo <b>" {
		t.Errorf("host got %+v", f)
	}
	if err := s.Send(strings.Repeat("x", wire.MaxText+1)); err == nil {
		t.Error("Send of an over-long message: no error")
	}
	s.Close()
	if err := s.Send("late"); !errors.Is(err, errClosed) {
		t.Errorf("Send after Close: %v, want errClosed", err)
	}
	if _, err := s.Next(); err == nil {
		t.Error("Next after Close: no error")
	}
}

func TestNextAnswersUnreadableFrame(t *testing.T) {
	answer := make(chan wire.Frame, 1)
	s, err := connectTo(t, context.Background(), "bob", func(h *fakeHost) {
		h.welcome(1)
		h.sendRaw("not json\n")
		f, _ := h.read()
		answer <- f
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Next()
	var werr *wire.Error
	if !errors.As(err, &werr) {
		t.Fatalf("Next: %v, want *wire.Error", err)
	}
	if f := <-answer; f.Type != wire.TypeError || f.Code != wire.CodeMalformed {
		t.Errorf("host got %+v, want an error frame", f)
	}
}

func TestNextEOF(t *testing.T) {
	s, err := connectTo(t, context.Background(), "bob", func(h *fakeHost) {
		h.welcome(1)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Next(); err != io.EOF {
		t.Errorf("Next: %v, want io.EOF", err)
	}
}

// TestRoster follows the roster through a welcome and the events after
// it, while another goroutine reads it as a UI would (the race detector
// checks that this is safe).
func TestRoster(t *testing.T) {
	ev := func(seq uint64, f wire.Frame) wire.Frame {
		f.Type, f.Seq, f.Time = wire.TypeEvent, seq, testTime
		return f
	}
	frames := []wire.Frame{
		ev(11, wire.Frame{Kind: wire.KindJoin, Name: "dan", Role: wire.RoleMember}),
		ev(12, wire.Frame{Kind: wire.KindSay, From: "cy", Text: "hi"}),
		ev(13, wire.Frame{Kind: wire.KindMe, From: "ana", Text: "waves"}),
		ev(14, wire.Frame{Kind: wire.KindSay, From: "bob", Text: "hello"}),
		{Type: wire.TypeNotice, Text: "ignored"},
		ev(15, wire.Frame{Kind: wire.KindRole, Name: "cy", Role: wire.RoleAdmin, By: "ana"}),
		ev(16, wire.Frame{Kind: wire.KindSay, From: "cy", Text: "thanks"}),
		ev(17, wire.Frame{Kind: wire.KindLeave, Name: "ana", Code: wire.CodeLeft}),
		{Type: wire.TypePrivate, From: "bob", To: "dan", Text: "psst", Time: testTime},
	}
	type state struct {
		names   []string
		members []wire.Member
	}
	m := func(name, role string) wire.Member { return wire.Member{Name: name, Role: role} }
	want := []state{
		{[]string{"ana", "cy", "dan", "bob"}, []wire.Member{m("ana", "admin"), m("bob", "member"), m("cy", "member"), m("dan", "member")}},
		{[]string{"cy", "ana", "dan", "bob"}, nil},
		{[]string{"ana", "cy", "dan", "bob"}, nil},
		{[]string{"ana", "cy", "dan", "bob"}, nil}, // the person themself stays last
		{[]string{"ana", "cy", "dan", "bob"}, nil},
		{[]string{"ana", "cy", "dan", "bob"}, []wire.Member{m("ana", "admin"), m("bob", "member"), m("cy", "admin"), m("dan", "member")}},
		{[]string{"cy", "ana", "dan", "bob"}, nil},
		{[]string{"cy", "dan", "bob"}, []wire.Member{m("bob", "member"), m("cy", "admin"), m("dan", "member")}},
		{[]string{"dan", "cy", "bob"}, nil},
	}

	s, err := connectTo(t, context.Background(), "bob", func(h *fakeHost) {
		h.welcome(10, ana, cy)
		for _, f := range frames {
			h.send(f)
		}
		h.read()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	r := s.Roster()
	if r.Me() != "bob" {
		t.Errorf("Me() = %q", r.Me())
	}
	// bob is a plain member: the welcome's admin command is not his.
	if cmds := r.Commands(); len(cmds) != 1 || cmds[0].Name != "msg" || cmds[0].Target != "member" {
		t.Errorf("Commands() = %+v", cmds)
	}
	stop := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			select {
			case <-stop:
				return
			default:
				r.Names()
				r.members()
				r.role("cy")
			}
		}
	}()
	defer func() { close(stop); <-readerDone }()

	check := func(step string, w state) {
		t.Helper()
		if got := r.Names(); !slices.Equal(got, w.names) {
			t.Errorf("%s: Names() = %q, want %q", step, got, w.names)
		}
		if w.members != nil {
			if got := r.members(); !slices.Equal(got, w.members) {
				t.Errorf("%s: Members() = %v, want %v", step, got, w.members)
			}
		}
	}
	check("welcome", state{names: []string{"ana", "cy", "bob"}, members: []wire.Member{m("ana", "admin"), m("bob", "member"), m("cy", "member")}})
	for i, f := range frames {
		got, err := s.Next()
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if got.Type != f.Type || got.Seq != f.Seq {
			t.Fatalf("Next = %+v, want %+v", got, f)
		}
		check(f.Type+" "+f.Kind+" "+f.Name+f.From, want[i])
	}
	if role, ok := r.role("cy"); !ok || role != wire.RoleAdmin {
		t.Errorf("Role(cy) = %q, %v", role, ok)
	}
	if _, ok := r.role("ana"); ok {
		t.Error("ana is still in the roster after leaving")
	}
}

// TestPrivatesInReplay: private frames the room sends again on resuming
// come among the replayed events, and do not end the replay; one the
// member already holds (its number at or below the resume point's) is
// dropped; the resume point moves with each one passed on.
func TestPrivatesInReplay(t *testing.T) {
	private := func(after, n uint64, text string) wire.Frame {
		return wire.Frame{Type: wire.TypePrivate, Seq: after, PrivateSeq: n, From: "cy", To: "bob", Text: text, Time: testTime}
	}
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcomeAs(11, func(w *wire.Frame) { w.Resumed = true })
		h.send(private(7, 2, "held already"))
		h.send(say(8, "cy", "a", 0))
		h.send(private(8, 3, "missed"))
		h.send(say(9, "cy", "b", 0))
		h.send(say(10, "cy", "c", 0))
		h.send(private(10, 4, "missed too"))
		h.send(say(12, "cy", "live", 0))
		h.send(private(12, 5, "live too"))
		h.read()
	})
	conn, err := dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Connect(context.Background(), conn, wire.Frame{Name: "bob", Resume: &wire.Resume{Epoch: "e1", Seq: 7, Private: 2}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stop := time.AfterFunc(10*time.Second, func() { s.Close() }) // rather than hang if frames are lost
	defer stop.Stop()
	var got []string
	for range 7 {
		f, err := s.Next()
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, fmt.Sprintf("%s %d %s %v", f.Type, f.Seq, f.Text, s.Phase(f)))
	}
	want := []string{"event 8 a 2", "private 8 missed 2", "event 9 b 2", "event 10 c 2", "private 10 missed too 2", "event 12 live 0", "private 12 live too 0"}
	if !slices.Equal(got, want) {
		t.Errorf("Next gave %q, want %q", got, want)
	}
	if p := s.ResumePoint(); p.Seq != 12 || p.Private != 5 {
		t.Errorf("resume point %+v, want seq 12, private 5", p)
	}
}

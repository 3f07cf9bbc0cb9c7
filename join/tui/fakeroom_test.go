package tui

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"chatroom/host/wire"
	"chatroom/join"
)

// The tests that run join.Join with this package's UIs talk to a fake
// room: the host's end of each connection over net.Pipe, speaking the wire
// protocol as a script tells it and knowing nothing of rooms. It is a
// small copy of join's own (join's tests cannot be imported); the sockets
// are the tests', never this package's.

var testTime = time.Date(2024, 3, 1, 10, 4, 0, 0, time.UTC)

// testRoomID is the id of the fake room.
const testRoomID = "0123456789abcdef"

type fakeHost struct {
	t    *testing.T
	conn net.Conn
	dec  *wire.Decoder
}

// read returns the next frame from the client; ok is false when there is
// none (the client closed the connection).
func (h *fakeHost) read() (wire.Frame, bool) {
	f, err := h.dec.Decode()
	if err != nil {
		return wire.Frame{}, false
	}
	return f, true
}

// expect reads a frame and checks its type and text.
func (h *fakeHost) expect(typ, text string) wire.Frame {
	h.t.Helper()
	f, ok := h.read()
	if !ok {
		h.t.Errorf("host: connection ended, want a %s frame %q", typ, text)
		return f
	}
	if f.Type != typ || f.Text != text {
		h.t.Errorf("host: got %s frame %q, want %s frame %q", f.Type, f.Text, typ, text)
	}
	return f
}

func (h *fakeHost) send(f wire.Frame) {
	h.t.Helper()
	b, err := wire.Encode(&f)
	if err != nil {
		h.t.Errorf("host: %v", err)
		return
	}
	if _, err := h.conn.Write(b); err != nil {
		h.t.Errorf("host: sending %s frame: %v", f.Type, err)
	}
}

// welcome reads the hello and welcomes its sender, alone, into a room
// "Lab 3" at event number seq.
func (h *fakeHost) welcome(seq uint64) {
	h.t.Helper()
	hello, ok := h.read()
	if !ok || hello.Type != wire.TypeHello {
		h.t.Errorf("host: got %+v, want a hello", hello)
		return
	}
	me := wire.Member{Name: hello.Name, Role: wire.RoleMember}
	h.send(wire.Frame{
		Type:    wire.TypeWelcome,
		Version: wire.Version,
		Room:    &wire.Room{Name: "Lab 3", ID: testRoomID},
		You:     &me,
		Members: []wire.Member{me},
		Seq:     seq,
	})
}

// refuse is a room that refuses the hello with code and text.
func refuse(code, text string) func(h *fakeHost) {
	return func(h *fakeHost) {
		if _, ok := h.read(); !ok {
			h.t.Error("host: no hello")
		}
		h.send(wire.Frame{Type: wire.TypeRefused, Code: code, Text: text})
		h.conn.Close()
	}
}

// closedLeft confirms the person's /quit and hangs up.
func closedLeft(h *fakeHost) {
	h.send(wire.Frame{Type: wire.TypeClosed, Code: wire.CodeLeft})
	h.conn.Close()
}

// say is a say event numbered seq, from whom, answering ref.
func say(seq uint64, from, text string, ref uint64) wire.Frame {
	return wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: seq, Time: testTime, From: from, Text: text, Ref: ref}
}

// scriptDialer returns a Dialer whose n-th call connects to a fake host
// running scripts[n] over net.Pipe, and a function that waits for every
// script to end and returns how many dials there were. A dial past the
// last script fails the test.
func scriptDialer(t *testing.T, scripts ...func(h *fakeHost)) (join.Dialer, func() int) {
	var (
		mu    sync.Mutex
		dials int
		wg    sync.WaitGroup
	)
	dial := func(ctx context.Context) (net.Conn, error) {
		mu.Lock()
		n := dials
		dials++
		mu.Unlock()
		if n >= len(scripts) {
			t.Errorf("dial %d: only %d scripted", n+1, len(scripts))
			return nil, io.ErrClosedPipe
		}
		client, server := net.Pipe()
		h := &fakeHost{t: t, conn: server, dec: wire.NewDecoder(server, wire.MaxClientFrame)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer server.Close()
			scripts[n](h)
		}()
		return client, nil
	}
	wait := func() int {
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return dials
	}
	t.Cleanup(func() { wait() })
	return dial, wait
}

// joinAsync runs join.Join in a goroutine and returns its result channel.
func joinAsync(ctx context.Context, dial join.Dialer, opts join.Options, ui join.UI) <-chan error {
	done := make(chan error, 1)
	go func() { done <- join.Join(ctx, dial, opts, ui) }()
	return done
}

// result waits for Join's result, failing the test if it never comes.
func result(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Join did not return")
		return nil
	}
}

// liveRoster returns the roster a session keeps from welcome, and a
// function that has the room send f and waits until the session has taken
// it, as the roster does for a UI while the person types. Events are
// numbered on from the welcome's Seq.
func liveRoster(t *testing.T, welcome wire.Frame) (*join.Roster, func(f wire.Frame)) {
	t.Helper()
	client, server := net.Pipe()
	t.Cleanup(func() { client.Close(); server.Close() })
	h := &fakeHost{t: t, conn: server, dec: wire.NewDecoder(server, wire.MaxClientFrame)}
	go func() {
		if _, ok := h.read(); ok { // the hello
			welcome.Type, welcome.Version = wire.TypeWelcome, wire.Version
			h.send(welcome)
		}
	}()
	me := ""
	if welcome.You != nil {
		me = welcome.You.Name
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := join.Connect(ctx, client, wire.Frame{Name: me})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	seq := welcome.Seq
	send := func(f wire.Frame) {
		t.Helper()
		if f.Type == wire.TypeEvent {
			seq++
			f.Seq = seq
		}
		go h.send(f)
		if _, err := sess.Next(); err != nil {
			t.Fatalf("Next: %v", err)
		}
	}
	return sess.Roster(), send
}

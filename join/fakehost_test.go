package join

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"chatroom/host/wire"
)

// fakeHost is the host's end of one connection in a test: it speaks the
// wire protocol as a script tells it, and knows nothing of rooms.
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

func (h *fakeHost) sendRaw(s string) {
	h.t.Helper()
	if _, err := io.WriteString(h.conn, s); err != nil {
		h.t.Errorf("host: sending: %v", err)
	}
}

// welcome reads the hello and welcomes its sender into a room "Lab 3"
// with others, at event number seq.
func (h *fakeHost) welcome(seq uint64, others ...wire.Member) wire.Frame {
	h.t.Helper()
	hello, ok := h.read()
	if !ok || hello.Type != wire.TypeHello {
		h.t.Errorf("host: got %+v, want a hello", hello)
		return hello
	}
	h.send(wire.Frame{
		Type:    wire.TypeWelcome,
		Version: wire.Version,
		Room:    &wire.Room{Name: "Lab 3"},
		You:     &wire.Member{Name: hello.Name, Role: wire.RoleMember},
		Members: append(others, wire.Member{Name: hello.Name, Role: wire.RoleMember}),
		Seq:     seq,
		Commands: []wire.Command{
			{Name: "msg", Usage: "/msg NAME TEXT", Help: "send a private message", Target: "member"},
			{Name: "kick", Usage: "/kick NAME [REASON]", Help: "remove someone", Admin: true, Target: "member"},
		},
	})
	return hello
}

// close ends the connection from the host's side, as a host does after a
// closed, refused or error frame.
func (h *fakeHost) close() { h.conn.Close() }

// scriptDialer returns a Dialer whose n-th call connects to a fake host
// running scripts[n] over net.Pipe, and a function that waits for every
// script to end. A dial past the last script fails the test.
func scriptDialer(t *testing.T, scripts ...func(h *fakeHost)) (Dialer, func() int) {
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

// fakeUI is a UI for tests: lines come from a channel (closed = end of
// input), printed lines are kept, and AskName answers from a list.
type fakeUI struct {
	lines   chan string
	endOnce sync.Once

	mu      sync.Mutex
	printed []string
	answers []string // for AskName, in order; none left = cannot ask
	reasons []string // what AskName was asked with
	onPrint func(line string)
}

func newFakeUI(t *testing.T, answers ...string) *fakeUI {
	u := &fakeUI{lines: make(chan string), answers: answers}
	t.Cleanup(u.endInput)
	return u
}

// endInput ends the input, once.
func (u *fakeUI) endInput() { u.endOnce.Do(func() { close(u.lines) }) }

func (u *fakeUI) ReadLine() (string, error) {
	line, ok := <-u.lines
	if !ok {
		return "", io.EOF
	}
	return line, nil
}

func (u *fakeUI) Print(line string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.printed = append(u.printed, line)
	if u.onPrint != nil {
		u.onPrint(line)
	}
}

func (u *fakeUI) AskName(reason string) (string, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.reasons = append(u.reasons, reason)
	if len(u.answers) == 0 {
		return "", false
	}
	name := u.answers[0]
	u.answers = u.answers[1:]
	return name, true
}

func (u *fakeUI) output() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.printed...)
}

// joinAsync runs Join in a goroutine and returns its result channel.
func joinAsync(ctx context.Context, dial Dialer, opts Options, ui UI) <-chan error {
	done := make(chan error, 1)
	go func() { done <- Join(ctx, dial, opts, ui) }()
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

var testTime = time.Date(2024, 3, 1, 10, 4, 0, 0, time.UTC)

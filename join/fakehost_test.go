package join

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
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
		Room:    &wire.Room{Name: "Lab 3", ID: testRoomID},
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
	// welcomed and outage are as in line mode (join/tui), whose lines
	// the fake prints.
	welcomed, outage bool
	transfers        []Transfer // every state shown, in order
	roster           *Roster    // the last Enter's
}

func (u *fakeUI) Transfer(t Transfer) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.transfers = append(u.transfers, t)
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

// Enter, Show and Note print what line mode prints.
func (u *fakeUI) Enter(w wire.Frame, r *Roster) {
	u.mu.Lock()
	first := !u.welcomed
	u.welcomed = true
	u.roster = r
	u.mu.Unlock()
	if first {
		u.Print(testWelcomeLine(w))
	}
}

// entered returns the roster of the last Enter, waiting for one.
func (u *fakeUI) entered(t *testing.T) *Roster {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		u.mu.Lock()
		r := u.roster
		u.mu.Unlock()
		if r != nil {
			return r
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("never welcomed")
	return nil
}

func (u *fakeUI) Show(f wire.Frame, phase Phase) {
	for _, line := range testRender(f, time.Local) {
		if phase == Backlog {
			line = "earlier: " + line
		}
		u.Print(line)
	}
}

func (u *fakeUI) Note(n Note) {
	prefix := "-- "
	switch n.Kind {
	case Warning:
		prefix = "!! "
	case Progress, Settled:
		u.mu.Lock()
		shown := u.outage
		u.outage = n.Kind == Progress
		u.mu.Unlock()
		if shown && n.Kind == Progress {
			return
		}
	}
	u.Print(prefix + n.Text)
}

func (u *fakeUI) Print(line string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.printed = append(u.printed, line)
	if u.onPrint != nil {
		u.onPrint(line)
	}
}

// testRender is the fakeUI's rendering of a frame: line mode's words
// (join/tui's render, which this package's tests cannot import, as it
// imports join) for the frames these tests send, so that a test waits for
// and compares lines as a person reads them: "10:04 <cy> hi", "10:04
// [bob -> cy] psst", "10:04 -!- dee joined", "-- " before the host's
// notices, "!! " before its refusals. How each frame looks at a terminal
// is join/tui's to test; here it shows what Join showed, and in what order.
func testRender(f wire.Frame, loc *time.Location) []string {
	at := f.Time.In(loc).Format("15:04")
	switch f.Type {
	case wire.TypeEvent:
		switch f.Kind {
		case wire.KindSay:
			return []string{at + " <" + Sanitize(f.From) + "> " + Sanitize(f.Text)}
		case wire.KindMe:
			return []string{at + " * " + Sanitize(f.From) + " " + Sanitize(f.Text)}
		case wire.KindJoin:
			return []string{at + " -!- " + Sanitize(f.Name) + " joined"}
		case wire.KindLeave:
			return []string{at + " -!- " + Sanitize(f.Name) + " left"}
		case wire.KindRole:
			return []string{at + " -!- " + Sanitize(f.Name) + " is now " + Sanitize(f.Role)}
		}
	case wire.TypePrivate:
		return []string{at + " [" + Sanitize(f.From) + " -> " + Sanitize(f.To) + "] " + Sanitize(f.Text)}
	case wire.TypeNotice:
		prefix := "-- "
		if f.Error {
			prefix = "!! "
		}
		var lines []string
		if msg := strings.TrimRight(f.Text, "\n"); msg != "" {
			for _, l := range strings.Split(msg, "\n") {
				lines = append(lines, prefix+Sanitize(l))
			}
		}
		return lines
	case wire.TypeClosed:
		if f.Code == wire.CodeRoomClosed {
			return []string{"-- the room closed"}
		}
	case wire.TypeWelcome:
		return []string{testWelcomeLine(f)}
	}
	return nil
}

// testWelcomeLine is line mode's greeting, as in
//
//	joined "Lab 3" as bob (3 here: ana, bob, cy)
func testWelcomeLine(w wire.Frame) string {
	var room, me string
	if w.Room != nil {
		room = w.Room.Name
	}
	if w.You != nil {
		me = w.You.Name
	}
	var names []string
	for _, m := range w.Members {
		names = append(names, Sanitize(m.Name))
	}
	if me != "" && !slices.ContainsFunc(w.Members, func(m wire.Member) bool { return m.Name == me }) {
		names = append(names, Sanitize(me))
	}
	slices.SortFunc(names, compareNames)
	return fmt.Sprintf("joined %q as %s (%d here: %s)", Sanitize(room), Sanitize(me), len(names), strings.Join(names, ", "))
}

// scriptUI is a UI for a script's input: the lines of in, then the end of
// input, with what Join shows written to out as the fakeUI prints it. It
// never asks for another name.
type scriptUI struct {
	*fakeUI
	in  *bufio.Scanner
	out io.Writer
}

func newScriptUI(t *testing.T, in io.Reader, out io.Writer) *scriptUI {
	u := &scriptUI{fakeUI: newFakeUI(t), in: bufio.NewScanner(in), out: out}
	u.onPrint = func(line string) { fmt.Fprintln(out, line) }
	return u
}

func (u *scriptUI) ReadLine() (string, error) {
	if !u.in.Scan() {
		if err := u.in.Err(); err != nil {
			return "", err
		}
		return "", io.EOF
	}
	return u.in.Text(), nil
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

// tlsFakeRoom is a fake host over real TLS on 127.0.0.1: its n-th
// connection runs scripts[n], a connection past the last fails the test.
// Its certificate names testRoomID, as a real room's does.
type tlsFakeRoom struct {
	t    *testing.T
	ln   net.Listener
	addr string
	fp   string
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns int
}

func newTLSFakeRoom(t *testing.T, cert *tls.Certificate, fp string, scripts ...func(h *fakeHost)) *tlsFakeRoom {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	r := &tlsFakeRoom{t: t, ln: ln, addr: ln.Addr().String(), fp: fp}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			n := r.conns
			r.conns++
			r.mu.Unlock()
			if n >= len(scripts) {
				t.Errorf("connection %d: only %d scripted", n+1, len(scripts))
				conn.Close()
				continue
			}
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				defer conn.Close()
				scripts[n](&fakeHost{t: t, conn: conn, dec: wire.NewDecoder(conn, wire.MaxClientFrame)})
			}()
		}
	}()
	t.Cleanup(r.stop)
	return r
}

// stop closes the listener, so that dialing the room's address is refused,
// and waits for the scripts to end.
func (r *tlsFakeRoom) stop() {
	r.ln.Close()
	r.wg.Wait()
}

func (r *tlsFakeRoom) connections() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns
}

// dialer dials the room over TLS, checking its key.
func (r *tlsFakeRoom) dialer() Dialer { return DialTLS(r.addr, r.fp, nil) }

// welcomeAs reads the hello and welcomes its sender into room "Lab 3"
// (id testRoomID) at event seq, as edit changes the welcome; it returns
// the hello.
func (h *fakeHost) welcomeAs(seq uint64, edit func(w *wire.Frame)) wire.Frame {
	h.t.Helper()
	hello, ok := h.read()
	if !ok || hello.Type != wire.TypeHello {
		h.t.Errorf("host: got %+v, want a hello", hello)
		return hello
	}
	w := wire.Frame{
		Type:    wire.TypeWelcome,
		Version: wire.Version,
		Room:    &wire.Room{Name: "Lab 3", ID: testRoomID},
		You:     &wire.Member{Name: hello.Name, Role: wire.RoleMember},
		Members: []wire.Member{cy, {Name: hello.Name, Role: wire.RoleMember}},
		Seq:     seq,
		Epoch:   "e1",
	}
	if edit != nil {
		edit(&w)
	}
	h.send(w)
	return hello
}

// say is a say event numbered seq, from whom, answering ref.
func say(seq uint64, from, text string, ref uint64) wire.Frame {
	return wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: seq, Time: testTime, From: from, Text: text, Ref: ref}
}

// waitPrinted waits until ui has printed a line containing s.
func waitPrinted(t *testing.T, ui *fakeUI, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, l := range ui.output() {
			if strings.Contains(l, s) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("never printed %q; printed %q", s, ui.output())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// fakeWaits is a Reconnect's sleep for tests: it records each wait and
// returns at once, or blocks until the context ends when block is set.
type fakeWaits struct {
	mu    sync.Mutex
	waits []time.Duration
	block bool
	slept chan struct{} // if set, told of each wait as it starts
}

func (w *fakeWaits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.waits = append(w.waits, d)
	block := w.block
	w.mu.Unlock()
	if w.slept != nil {
		w.slept <- struct{}{}
	}
	if block {
		<-ctx.Done()
	}
	return ctx.Err()
}

// testReconnect reconnects without waiting.
func testReconnect() *Reconnect {
	w := &fakeWaits{}
	return &Reconnect{sleep: w.sleep}
}

// typeLine types one line into ui, failing the test if Join does not take
// it (it returned, or stopped reading).
func typeLine(t *testing.T, ui *fakeUI, line string) {
	t.Helper()
	select {
	case ui.lines <- line:
	case <-time.After(10 * time.Second):
		t.Fatalf("line %q not taken", line)
	}
}

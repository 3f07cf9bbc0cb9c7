package host

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chatroom/host/room"
	"chatroom/host/wire"
	"chatroom/join"
)

// These tests run a real host on 127.0.0.1:0 and talk to it over real TLS
// with a bare protocol client, so that they check exactly what crosses the
// wire. They wait on frames, never on the clock: the deadlines below only
// turn a hang into a failure.

const testDeadline = 10 * time.Second

func startHost(t *testing.T, cfg Config) *Host {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "Lab 3"
	}
	if cfg.StateDir == "" {
		cfg.StateDir = t.TempDir()
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Limits == (wire.Limits{}) {
		// Tests of other things send faster than people type.
		cfg.Limits = wire.Limits{Burst: 1 << 20, PerSecond: 1 << 20}
	}
	if cfg.JoinLimits == (room.JoinLimits{}) {
		// And join from one address faster than people arrive.
		cfg.JoinLimits = benchJoinLimits
	}
	h, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// client is a member speaking the protocol directly.
type client struct {
	t    *testing.T
	name string
	conn net.Conn
	dec  *wire.Decoder
	// welcome or refusal: the host's answer to the hello.
	welcome wire.Frame
}

type dialOptions struct {
	password string
	from     string // local address to connect from, e.g. "127.0.0.2"
	// tinyReadBuffer stops the kernel from growing the receive buffer
	// (up to 32 MiB on Linux), so that a member that stops reading fills
	// up after kilobytes, not tens of megabytes.
	tinyReadBuffer bool
	// identity is presented as the client certificate, as join does.
	identity *tls.Certificate
}

// dialRaw opens a TLS connection to h without saying hello.
func dialRaw(t *testing.T, h *Host, from string) net.Conn {
	t.Helper()
	return dialWith(t, h, dialOptions{from: from})
}

func dialWith(t *testing.T, h *Host, opt dialOptions) net.Conn {
	t.Helper()
	return dialAddr(t, h.Addr().String(), opt)
}

// dialAddr opens a TLS connection to the host at addr, which may run in
// another process.
func dialAddr(t *testing.T, addr string, opt dialOptions) net.Conn {
	t.Helper()
	d := &net.Dialer{Timeout: testDeadline}
	if opt.from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(opt.from)}
	}
	tcp, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if opt.tinyReadBuffer {
		if err := tcp.(*net.TCPConn).SetReadBuffer(4096); err != nil {
			t.Fatal(err)
		}
	}
	config := &tls.Config{InsecureSkipVerify: true}
	if opt.identity != nil {
		config.Certificates = []tls.Certificate{*opt.identity}
	}
	conn := tls.Client(tcp, config)
	conn.SetDeadline(time.Now().Add(testDeadline))
	if err := conn.Handshake(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// hello connects as name and returns the client with the host's answer,
// welcome or refusal, in c.welcome.
func hello(t *testing.T, h *Host, name string, opt dialOptions) *client {
	t.Helper()
	conn := dialWith(t, h, opt)
	return helloOn(t, conn, name, opt.password)
}

func helloOn(t *testing.T, conn net.Conn, name, password string) *client {
	t.Helper()
	c := &client{t: t, name: name, conn: conn, dec: wire.NewDecoder(conn, wire.MaxHostFrame)}
	c.send(&wire.Frame{Type: wire.TypeHello, Version: wire.Version, Name: name, Password: password})
	c.welcome = c.next()
	return c
}

// member connects as name and fails the test unless it is welcomed.
func member(t *testing.T, h *Host, name string, opt dialOptions) *client {
	t.Helper()
	c := hello(t, h, name, opt)
	if c.welcome.Type != wire.TypeWelcome {
		t.Fatalf("%s not welcomed: %+v", name, c.welcome)
	}
	return c
}

// owner joins as the person running the host, over the in-process pipe.
func owner(t *testing.T, h *Host, name string) *client {
	t.Helper()
	conn, err := h.DialOwner(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := helloOn(t, conn, name, "")
	if c.welcome.Type != wire.TypeWelcome || c.welcome.You.Role != wire.RoleOwner {
		t.Fatalf("owner not welcomed as owner: %+v", c.welcome)
	}
	return c
}

func (c *client) send(f *wire.Frame) {
	c.t.Helper()
	b, err := wire.Encode(f)
	if err != nil {
		c.t.Fatal(err)
	}
	c.conn.SetWriteDeadline(time.Now().Add(testDeadline))
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("%s: write: %v", c.name, err)
	}
}

func (c *client) say(text string) {
	c.t.Helper()
	c.send(&wire.Frame{Type: wire.TypeSay, Text: text})
}

func (c *client) next() wire.Frame {
	c.t.Helper()
	f, err := c.read()
	if err != nil {
		c.t.Fatalf("%s: read: %v", c.name, err)
	}
	return f
}

func (c *client) read() (wire.Frame, error) {
	c.conn.SetReadDeadline(time.Now().Add(testDeadline))
	return c.dec.Decode()
}

// nextNotSay reads c's frames until one that is not a say event, which it
// returns with how many say events came before it, or until it has counted
// upTo of those (the frame returned is then the zero one). The says are counted,
// not decoded: with the race detector on, decoding a long event takes a
// test's member longer than the room takes to hand one out, and a member
// that reads more slowly than the room speaks is (rightly) found too slow.
func (c *client) nextNotSay(upTo int) (wire.Frame, int) {
	c.t.Helper()
	says := 0
	for says < upTo {
		c.conn.SetReadDeadline(time.Now().Add(testDeadline))
		line, err := c.dec.ReadLine()
		if err != nil {
			c.t.Fatalf("%s: read: %v", c.name, err)
		}
		if bytes.HasPrefix(line, eventPrefix) && bytes.Contains(line, sayKind) { // as the benchmarks' swarm tells them
			says++
			continue
		}
		f, err := wire.Parse(line)
		if err != nil {
			c.t.Fatalf("%s: %v", c.name, err)
		}
		return f, says
	}
	return wire.Frame{}, says
}

// nextEvent reads the next frame and fails unless it is an event of kind.
func (c *client) nextEvent(kind string) wire.Frame {
	c.t.Helper()
	f := c.next()
	if f.Type != wire.TypeEvent || f.Kind != kind {
		c.t.Fatalf("%s: got %+v, want a %s event", c.name, f, kind)
	}
	return f
}

// nextNotice reads the next frame and fails unless it is a notice.
func (c *client) nextNotice() wire.Frame {
	c.t.Helper()
	f := c.next()
	if f.Type != wire.TypeNotice {
		c.t.Fatalf("%s: got %+v, want a notice", c.name, f)
	}
	return f
}

// closedWith reads frames up to the host's last word and the end of the
// connection, and returns that last frame.
func (c *client) closedWith(typ, code string) wire.Frame {
	c.t.Helper()
	for {
		f, err := c.read()
		if err != nil {
			c.t.Fatalf("%s: connection ended (%v) without a %s %s frame", c.name, err, typ, code)
		}
		if f.Type == typ {
			if f.Code != code {
				c.t.Fatalf("%s: got %+v, want code %s", c.name, f, code)
			}
			if _, err := c.read(); err == nil {
				c.t.Fatalf("%s: connection still open after %s frame", c.name, typ)
			}
			c.conn.Close() // as a real client does, so the host need not wait
			return f
		}
		if f.Type != wire.TypeEvent {
			c.t.Fatalf("%s: got %+v while waiting for %s", c.name, f, typ)
		}
	}
}

// Several members get names, see each other come in, and every member sees
// every message in one and the same order, numbered without gaps.
func TestBroadcastOrder(t *testing.T) {
	h := startHost(t, Config{})
	ana := owner(t, h, "ana")
	bob := member(t, h, "bob", dialOptions{})
	if got := ana.nextEvent(wire.KindJoin); got.Name != "bob" || got.Seq != ana.welcome.Seq+1 {
		t.Fatalf("ana saw %+v", got)
	}
	cy := member(t, h, "cy", dialOptions{})
	for _, c := range []*client{ana, bob} {
		if got := c.nextEvent(wire.KindJoin); got.Name != "cy" {
			t.Fatalf("%s saw %+v", c.name, got)
		}
	}
	if len(cy.welcome.Members) != 3 || cy.welcome.Room.Name != "Lab 3" {
		t.Fatalf("cy's welcome: %+v", cy.welcome)
	}

	const perSender = 100
	clients := []*client{ana, bob, cy}
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			for i := range perSender {
				c.say(fmt.Sprintf("%s %d", c.name, i))
			}
		})
	}
	seen := make([][]string, len(clients))
	for i, c := range clients {
		wg.Go(func() {
			want := cy.welcome.Seq + 1
			for range perSender * len(clients) {
				f, err := c.read()
				if err != nil || f.Type != wire.TypeEvent || f.Kind != wire.KindSay {
					t.Errorf("%s: got %+v, %v", c.name, f, err)
					return
				}
				if f.Seq != want {
					t.Errorf("%s: seq %d, want %d", c.name, f.Seq, want)
				}
				if !strings.HasPrefix(f.Text, f.From+" ") {
					t.Errorf("%s: %q stamped as from %q", c.name, f.Text, f.From)
				}
				want++
				seen[i] = append(seen[i], f.From+": "+f.Text)
			}
		})
	}
	wg.Wait()
	for i := 1; i < len(seen); i++ {
		if strings.Join(seen[i], "\n") != strings.Join(seen[0], "\n") {
			t.Fatalf("%s and %s saw different orders", clients[0].name, clients[i].name)
		}
	}
	// Each sender's own messages arrive in the order sent.
	next := map[string]int{}
	for _, line := range seen[0] {
		var from string
		var n int
		fmt.Sscanf(line[strings.Index(line, ": ")+2:], "%s %d", &from, &n)
		if n != next[from] {
			t.Fatalf("%s's message %d arrived where %d was due", from, n, next[from])
		}
		next[from]++
	}
}

// Names are unique whatever their case, and invalid ones are refused with
// a reason.
func TestNameRefusals(t *testing.T) {
	h := startHost(t, Config{})
	member(t, h, "bob", dialOptions{})
	for _, tt := range []struct{ name, code string }{
		{"BOB", wire.CodeNameTaken},
		{"", wire.CodeNameInvalid},
		{"two words", wire.CodeNameInvalid},
		{strings.Repeat("x", 25), wire.CodeNameInvalid},
		{"bell\a", wire.CodeNameInvalid},
	} {
		c := hello(t, h, tt.name, dialOptions{})
		if c.welcome.Type != wire.TypeRefused || c.welcome.Code != tt.code || c.welcome.Text == "" {
			t.Errorf("name %q: got %+v, want refused %s", tt.name, c.welcome, tt.code)
		}
	}
}

// A kicked member is told who and why, is gone for everyone, and may come
// back.
func TestKickAndRejoin(t *testing.T) {
	h := startHost(t, Config{})
	ana := owner(t, h, "ana")
	bob := member(t, h, "bob", dialOptions{})
	ana.nextEvent(wire.KindJoin)

	ana.say("/kick bob spamming")
	got := bob.closedWith(wire.TypeClosed, wire.CodeKicked)
	if got.By != "ana" || got.Text != "spamming" {
		t.Fatalf("bob was told %+v", got)
	}
	leave := ana.nextEvent(wire.KindLeave)
	if leave.Name != "bob" || leave.Code != wire.CodeKicked || leave.By != "ana" || leave.Text != "spamming" {
		t.Fatalf("ana saw %+v", leave)
	}
	member(t, h, "bob", dialOptions{})
	if got := ana.nextEvent(wire.KindJoin); got.Name != "bob" {
		t.Fatalf("ana saw %+v", got)
	}
}

// A ban refuses the name from any address and the address under any name,
// survives a restart of the host, and ends with /unban.
func TestBanByNameAndAddressSurvivesRestart(t *testing.T) {
	requireLoopbackRange(t)
	dir := t.TempDir()
	h := startHost(t, Config{StateDir: dir})
	ana := owner(t, h, "ana")
	member(t, h, "bob", dialOptions{from: "127.0.0.2"})
	ana.nextEvent(wire.KindJoin)
	ana.say("/ban bob flooding")
	if leave := ana.nextEvent(wire.KindLeave); leave.Code != wire.CodeBanned || leave.Text != "flooding" {
		t.Fatalf("ana saw %+v", leave)
	}
	if n := ana.nextNotice(); n.Error {
		t.Fatalf("ban not confirmed: %+v", n)
	}

	check := func(h *Host) {
		t.Helper()
		for _, tt := range []struct{ name, from, code string }{
			{"bob", "127.0.0.3", wire.CodeBanned},   // the name, from elsewhere
			{"Bob", "127.0.0.3", wire.CodeBanned},   // in any case
			{"carol", "127.0.0.2", wire.CodeBanned}, // the address, under another name
		} {
			c := hello(t, h, tt.name, dialOptions{from: tt.from})
			if c.welcome.Type != wire.TypeRefused || c.welcome.Code != tt.code {
				t.Errorf("%s from %s: got %+v, want refused %s", tt.name, tt.from, c.welcome, tt.code)
			}
		}
		member(t, h, "dave", dialOptions{from: "127.0.0.3"})
	}
	check(h)

	ana.conn.Close()
	h.Close()
	h2 := startHost(t, Config{StateDir: dir})
	check(h2)

	ana2 := owner(t, h2, "ana")
	ana2.say("/unban bob")
	if n := ana2.nextNotice(); n.Error {
		t.Fatalf("unban refused: %+v", n)
	}
	member(t, h2, "bob", dialOptions{from: "127.0.0.2"})
}

// requireLoopbackRange skips where 127.0.0.2 is not a local address (it is
// on Linux, not on macOS by default).
func requireLoopbackRange(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skip("127.0.0.2 is not a local address here:", err)
	}
	ln.Close()
}

// The admin password admits as admin; a wrong one is refused and the room
// sees nothing of it; with no password set, --admin is refused.
func TestAdminPassword(t *testing.T) {
	h := startHost(t, Config{AdminPassword: "correct horse"})
	ana := owner(t, h, "ana")

	wrong := hello(t, h, "mallory", dialOptions{password: "battery staple"})
	if wrong.welcome.Type != wire.TypeRefused || wrong.welcome.Code != wire.CodeWrongPassword || wrong.welcome.Text != "wrong admin password" {
		t.Fatalf("wrong password: %+v", wrong.welcome)
	}
	bob := member(t, h, "bob", dialOptions{password: "correct horse"})
	if bob.welcome.You.Role != wire.RoleAdmin {
		t.Fatalf("bob's role: %+v", bob.welcome.You)
	}
	// The next thing ana sees is bob, numbered right after her own join:
	// the refused attempt left no trace.
	if got := ana.nextEvent(wire.KindJoin); got.Name != "bob" || got.Role != wire.RoleAdmin || got.Seq != ana.welcome.Seq+1 {
		t.Fatalf("ana saw %+v", got)
	}

	h2 := startHost(t, Config{})
	c := hello(t, h2, "bob", dialOptions{password: "anything"})
	if c.welcome.Type != wire.TypeRefused || c.welcome.Code != wire.CodeNoAdmin {
		t.Fatalf("no password configured: %+v", c.welcome)
	}
}

// A member's admin command is refused with a notice to that member only.
func TestNonAdminRefused(t *testing.T) {
	h := startHost(t, Config{})
	ana := owner(t, h, "ana")
	bob := member(t, h, "bob", dialOptions{})
	ana.nextEvent(wire.KindJoin)

	bob.say("/kick ana")
	if n := bob.nextNotice(); !n.Error || n.Text != "not allowed: /kick is for admins" {
		t.Fatalf("bob was told %+v", n)
	}
	bob.say("/frobnicate")
	if n := bob.nextNotice(); !n.Error || !strings.Contains(n.Text, `unknown command "/frobnicate"`) {
		t.Fatalf("bob was told %+v", n)
	}
	bob.say("still here")
	// ana's next frame is bob's message: nothing came between.
	if got := ana.nextEvent(wire.KindSay); got.Text != "still here" || got.Seq != ana.welcome.Seq+2 {
		t.Fatalf("ana saw %+v", got)
	}
}

// A private message reaches its recipient and comes back to its sender,
// and no one else sees it.
func TestPrivateMessage(t *testing.T) {
	h := startHost(t, Config{})
	ana := owner(t, h, "ana")
	bob := member(t, h, "bob", dialOptions{})
	ana.nextEvent(wire.KindJoin)
	cy := member(t, h, "cy", dialOptions{})
	ana.nextEvent(wire.KindJoin)
	bob.nextEvent(wire.KindJoin)

	ana.say("/msg bob the password is swordfish")
	for _, c := range []*client{bob, ana} {
		f := c.next()
		if f.Type != wire.TypePrivate || f.From != "ana" || f.To != "bob" || f.Text != "the password is swordfish" {
			t.Fatalf("%s got %+v", c.name, f)
		}
	}
	ana.say("public")
	if got := cy.next(); got.Type != wire.TypeEvent || got.Text != "public" {
		t.Fatalf("cy's next frame is %+v, want the public message", got)
	}
}

// A member that stops reading does not hold up the others: they get every
// message, and the host drops the stalled member as too slow.
func TestStalledReaderDoesNotStallOthers(t *testing.T) {
	// No heartbeat: the stalled member sends nothing, and on a loaded
	// machine the stream can take longer than the dead-peer limit, which
	// would end it as lost before it is found too slow.
	h := startHost(t, Config{Heartbeat: -1})
	ana := owner(t, h, "ana")
	stalled := member(t, h, "stalled", dialOptions{tinyReadBuffer: true})
	_ = stalled // connected, never read again
	ana.nextEvent(wire.KindJoin)
	bob := member(t, h, "bob", dialOptions{})
	ana.nextEvent(wire.KindJoin)

	// Enough bytes to fill the stalled member's socket buffers (the host's
	// send buffer grows to 4 MiB on Linux) and then its outbox.
	text := strings.Repeat("x", 3000)
	const messages = 4000
	frame, err := wire.Encode(&wire.Frame{Type: wire.TypeSay, Text: text})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range messages {
			if _, err := bob.conn.Write(frame); err != nil {
				t.Errorf("bob: write: %v", err)
				return
			}
		}
	}()
	go io.Copy(io.Discard, bob.conn) // bob reads his own messages back
	// ana counts the messages without decoding them (see nextNotSay).
	said, dropped := 0, false
	for said < messages || !dropped {
		f, says := ana.nextNotSay(max(messages-said, 1))
		said += says
		switch {
		case f.Type == "":
			// upTo says counted: the leave may be still to come
		case f.Type == wire.TypeEvent && f.Kind == wire.KindSay:
			said++
		case f.Type == wire.TypeEvent && f.Kind == wire.KindLeave && f.Name == "stalled":
			if f.Code != wire.CodeTooSlow {
				t.Fatalf("stalled left with %+v", f)
			}
			dropped = true
		default:
			t.Fatalf("unexpected %+v", f)
		}
	}
}

// A connection that never finishes its hello is closed at the deadline,
// while others join meanwhile.
func TestHandshakeDeadline(t *testing.T) {
	h := startHost(t, Config{handshakeTimeout: 200 * time.Millisecond})

	silent, err := net.Dial("tcp", h.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	member(t, h, "bob", dialOptions{})

	silent.SetReadDeadline(time.Now().Add(testDeadline))
	if _, err := io.ReadAll(silent); err != nil {
		t.Fatalf("silent connection not closed by the host: %v", err)
	}

	// The same after a TLS handshake, with no hello.
	quiet := dialRaw(t, h, "")
	quiet.SetReadDeadline(time.Now().Add(testDeadline))
	if _, err := io.ReadAll(quiet); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("quiet connection: %v", err)
	}
}

// Unreadable frames get an error frame and the end of the connection, and
// the room is told the member left with a protocol error.
func TestBadFrames(t *testing.T) {
	h := startHost(t, Config{})
	ana := owner(t, h, "ana")

	garbage := dialRaw(t, h, "")
	garbage.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	c := &client{t: t, name: "garbage", conn: garbage, dec: wire.NewDecoder(garbage, wire.MaxHostFrame)}
	c.closedWith(wire.TypeError, wire.CodeMalformed)

	bob := member(t, h, "bob", dialOptions{})
	ana.nextEvent(wire.KindJoin)
	bob.say(strings.Repeat("a", wire.MaxClientFrame+10))
	bob.closedWith(wire.TypeError, wire.CodeTooLarge)
	if leave := ana.nextEvent(wire.KindLeave); leave.Name != "bob" || leave.Code != wire.CodeProtocol {
		t.Fatalf("ana saw %+v", leave)
	}

	cy := member(t, h, "cy", dialOptions{})
	ana.nextEvent(wire.KindJoin)
	cy.send(&wire.Frame{Type: wire.TypeHello, Version: wire.Version, Name: "cy2"})
	cy.closedWith(wire.TypeError, wire.CodeUnexpected)
	if leave := ana.nextEvent(wire.KindLeave); leave.Name != "cy" || leave.Code != wire.CodeProtocol {
		t.Fatalf("ana saw %+v", leave)
	}

	old := hello(t, h, "dan", dialOptions{})
	_ = old
	future := dialRaw(t, h, "")
	fc := &client{t: t, name: "future", conn: future, dec: wire.NewDecoder(future, wire.MaxHostFrame)}
	fc.send(&wire.Frame{Type: wire.TypeHello, Version: wire.Version + 1, Name: "eve"})
	if f := fc.next(); f.Type != wire.TypeRefused || f.Code != wire.CodeVersion {
		t.Fatalf("future version: %+v", f)
	}
}

// Closing the host tells every member, then ends their connections.
func TestCloseTellsMembers(t *testing.T) {
	h := startHost(t, Config{})
	ana := owner(t, h, "ana")
	bob := member(t, h, "bob", dialOptions{})
	ana.nextEvent(wire.KindJoin)
	go h.Close()
	bob.closedWith(wire.TypeClosed, wire.CodeRoomClosed)
	ana.closedWith(wire.TypeClosed, wire.CodeRoomClosed)
	<-h.Done()
}

// A member who says /quit is told goodbye and the room sees "left"; one
// whose connection just ends is "lost".
func TestQuitAndLost(t *testing.T) {
	h := startHost(t, Config{})
	ana := owner(t, h, "ana")
	bob := member(t, h, "bob", dialOptions{})
	ana.nextEvent(wire.KindJoin)
	bob.say("/quit")
	bob.closedWith(wire.TypeClosed, wire.CodeLeft)
	if leave := ana.nextEvent(wire.KindLeave); leave.Code != wire.CodeLeft {
		t.Fatalf("ana saw %+v", leave)
	}
	cy := member(t, h, "cy", dialOptions{})
	ana.nextEvent(wire.KindJoin)
	cy.conn.Close()
	if leave := ana.nextEvent(wire.KindLeave); leave.Name != "cy" || leave.Code != wire.CodeLost {
		t.Fatalf("ana saw %+v", leave)
	}
}

// The TLS key is made once and kept: a restarted host has the same
// fingerprint, and a damaged key is an error, not a silent new key.
func TestKeyKept(t *testing.T) {
	dir := t.TempDir()
	h := startHost(t, Config{StateDir: dir})
	fp := h.Fingerprint()
	if !strings.HasPrefix(fp, "SHA256:") {
		t.Fatalf("fingerprint %q", fp)
	}
	h.Close()
	id := h.RoomID()
	if len(id) != 16 {
		t.Fatalf("room id %q", id)
	}
	h2 := startHost(t, Config{StateDir: dir})
	if h2.Fingerprint() != fp || h2.RoomID() != id {
		t.Fatalf("fingerprint or id changed across restart: %s %s then %s %s", fp, id, h2.Fingerprint(), h2.RoomID())
	}
	ana := owner(t, h2, "ana")
	if ana.welcome.Room.ID != id {
		t.Fatalf("the welcome names room %q, want %q", ana.welcome.Room.ID, id)
	}
	ana.conn.Close()
	if other := startHost(t, Config{}); other.RoomID() == id {
		t.Fatal("two state directories, one room id")
	}
	h2.Close()

	// A member sees the same key the host reports.
	h3 := startHost(t, Config{StateDir: dir})
	conn := dialRaw(t, h3, "")
	leaf := conn.(*tls.Conn).ConnectionState().PeerCertificates[0]
	if got := wire.Fingerprint(leaf.RawSubjectPublicKeyInfo); got != fp {
		t.Fatalf("member sees %s, host reports %s", got, fp)
	}
	h3.Close()

	if err := os.WriteFile(filepath.Join(dir, keyFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(Config{Name: "x", StateDir: dir, Listen: "127.0.0.1:0"}); err == nil {
		t.Fatal("started with a damaged key")
	}
}

// A damaged list file stops the host rather than forgetting what it holds:
// a room that forgot its bans would let the banned back in.
func TestDamagedListFile(t *testing.T) {
	for _, l := range []listFile{bansList, opsList, mutesList} {
		for _, content := range []string{
			"{not json",
			`{"version": 2, "` + l.key + `": []}`,
			`{"version": 1, "` + l.key + `": {"name": "bob"}}`,
			`[]`,
		} {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, l.file), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Start(Config{Name: "x", StateDir: dir, Listen: "127.0.0.1:0"})
			if err == nil || !strings.Contains(err.Error(), l.file) {
				t.Errorf("%s holding %s: got %v, want an error naming the file", l.file, content, err)
			}
		}
	}
}

// An admin made with /op is an admin again after a restart, by key, under
// any name; a mute holds across a restart too.
func TestOpsAndMutesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	h := startHost(t, Config{StateDir: dir})
	ana := owner(t, h, "ana")
	eveKey, err := join.LoadOrCreateIdentity(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	joKey, err := join.LoadOrCreateIdentity(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	member(t, h, "eve", dialOptions{identity: &eveKey})
	member(t, h, "jo", dialOptions{identity: &joKey})
	ana.nextEvent(wire.KindJoin)
	ana.nextEvent(wire.KindJoin)
	ana.say("/op eve")
	if role := ana.nextEvent(wire.KindRole); role.Name != "eve" || role.Role != wire.RoleAdmin {
		t.Fatalf("ana saw %+v", role)
	}
	ana.say("/mute jo 2h")
	if n := ana.nextNotice(); n.Error {
		t.Fatalf("mute refused: %+v", n)
	}
	ana.conn.Close()
	h.Close()

	h2 := startHost(t, Config{StateDir: dir})
	evelyn := member(t, h2, "evelyn", dialOptions{identity: &eveKey})
	if evelyn.welcome.You.Role != wire.RoleAdmin {
		t.Fatalf("eve came back after a restart as %+v, want an admin", evelyn.welcome.You)
	}
	jo := member(t, h2, "joe", dialOptions{identity: &joKey})
	jo.say("let me speak")
	if n := jo.nextNotice(); !n.Error || !strings.HasPrefix(n.Text, "not sent: you are muted until ") {
		t.Fatalf("jo's line after a restart: %+v", n)
	}
	stranger := member(t, h2, "cy", dialOptions{})
	if stranger.welcome.You.Role != wire.RoleMember {
		t.Fatalf("cy joined as %+v", stranger.welcome.You)
	}
}

func TestRoomNameChecked(t *testing.T) {
	for _, name := range []string{"", "   ", strings.Repeat("x", MaxRoomName+1), "tab\there", "\xff"} {
		if _, err := Start(Config{Name: name, StateDir: t.TempDir(), Listen: "127.0.0.1:0"}); err == nil {
			t.Errorf("room name %q accepted", name)
		}
	}
}

// With no address given, the room takes the default port, or any free port
// when that one is taken, and says so.
func TestDefaultPortTaken(t *testing.T) {
	// Hold the default port (unless something already does: either way it
	// is taken for the room). Listening sends nothing anywhere.
	if ln, err := net.Listen("tcp", fmt.Sprintf(":%d", DefaultPort)); err == nil {
		defer ln.Close()
	}
	ln, taken, err := listen("", noKeepAlive)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if !taken {
		t.Fatal("the default port was in use, and listen did not say so")
	}
	if got := ln.Addr().(*net.TCPAddr).Port; got == DefaultPort || got == 0 {
		t.Fatalf("listening on port %d", got)
	}

	// An address given explicitly is not replaced by another.
	if _, _, err := listen(fmt.Sprintf("127.0.0.1:%d", ln.Addr().(*net.TCPAddr).Port), noKeepAlive); err == nil {
		t.Fatal("listened on a taken port given explicitly")
	}
}

// The host issues no TLS session tickets: no client resumes, so each would
// be work for nothing at every join.
func TestNoSessionTickets(t *testing.T) {
	h := startHost(t, Config{StateDir: t.TempDir()})
	cache := &countingSessionCache{ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	conf := benchClientTLS(h.Fingerprint())
	conf.ClientSessionCache = cache
	conn, _, _, err := dialRoomMember(h.Addr().String(), conf, "ana", 4096)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if cache.puts.Load() != 0 {
		t.Errorf("the client was given %d session tickets", cache.puts.Load())
	}
}

type countingSessionCache struct {
	tls.ClientSessionCache
	puts atomic.Int64
}

func (c *countingSessionCache) Put(key string, s *tls.ClientSessionState) {
	if s != nil {
		c.puts.Add(1)
	}
	c.ClientSessionCache.Put(key, s)
}

// The certificate names the room's id, so a member can check its pin before
// it says anything; a certificate that names another (or none, as before
// ids existed) is made anew for the same key: the fingerprint stays.
func TestCertNamesRoom(t *testing.T) {
	dir := t.TempDir()
	h := startHost(t, Config{StateDir: dir})
	id, fp := h.RoomID(), h.Fingerprint()
	conn := dialRaw(t, h, "")
	leaf := conn.(*tls.Conn).ConnectionState().PeerCertificates[0]
	if got, ok := wire.RoomIDFromCertName(leaf.Subject.CommonName); !ok || got != id {
		t.Fatalf("certificate names %q, want room %s", leaf.Subject.CommonName, id)
	}
	conn.Close()
	h.Close()

	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, certFile), filepath.Join(dir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := issueCert(dir, "someotherroom000", cert.PrivateKey.(crypto.Signer)); err != nil {
		t.Fatal(err)
	}
	h2 := startHost(t, Config{StateDir: dir})
	if h2.Fingerprint() != fp || h2.RoomID() != id {
		t.Fatalf("after a new certificate: %s %s, want %s %s", h2.RoomID(), h2.Fingerprint(), id, fp)
	}
	conn = dialRaw(t, h2, "")
	if cn := conn.(*tls.Conn).ConnectionState().PeerCertificates[0].Subject.CommonName; cn != wire.CertName(id) {
		t.Fatalf("certificate names %q", cn)
	}
}

// Attack: a banned member who comes back with a new name from a new
// address, but the same identity key, is refused; one with a new key, a
// new name and the banned address is refused too.
func TestBanHoldsAgainstNewNameAndAddress(t *testing.T) {
	requireLoopbackRange(t)
	h := startHost(t, Config{})
	ana := owner(t, h, "ana")
	key := newIdentity(t)
	member(t, h, "bob", dialOptions{from: "127.0.0.2", identity: &key})
	ana.nextEvent(wire.KindJoin)
	ana.say("/ban bob spam")
	ana.nextEvent(wire.KindLeave)
	if n := ana.nextNotice(); n.Error || !strings.Contains(n.Text, "the key "+wire.KeyTag(wire.Fingerprint(key.Leaf.RawSubjectPublicKeyInfo))) {
		t.Fatalf("ban confirmed as %+v", n)
	}

	c := hello(t, h, "robert", dialOptions{from: "127.0.0.3", identity: &key})
	if c.welcome.Type != wire.TypeRefused || c.welcome.Code != wire.CodeBanned {
		t.Fatalf("same key, new name, new address: %+v", c.welcome)
	}
	fresh, err := join.LoadOrCreateIdentity(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c = hello(t, h, "robert", dialOptions{from: "127.0.0.2", identity: &fresh})
	if c.welcome.Type != wire.TypeRefused || c.welcome.Code != wire.CodeBanned {
		t.Fatalf("new key, new name, banned address: %+v", c.welcome)
	}
	// Someone else entirely is welcome.
	member(t, h, "cy", dialOptions{from: "127.0.0.3", identity: &fresh})
}

// Attack: a thousand connections from one address. The host holds a few,
// tells the next ones why it will not hold them, and closes the rest; a
// member from another address joins as if nothing happened.
func TestConnectionsPerAddressCapped(t *testing.T) {
	requireLoopbackRange(t)
	// Silent sockets fill the per-address cap here, so the bound on an
	// address's connections in their handshake (half the cap) is lifted;
	// TestPendingBounded is about that one.
	h := startHost(t, Config{maxPendingPerAddr: defaultMaxConnsPerAddr})
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	dial := func(n int) {
		for range n {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: testDeadline}
			c, err := d.Dial("tcp", h.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
	}
	// Silent connections up to the cap; the next one is told why.
	dial(defaultMaxConnsPerAddr)
	// Dialing returns once the kernel has the connection; wait until the
	// host has taken them all.
	for deadline := time.Now().Add(testDeadline); ; time.Sleep(5 * time.Millisecond) {
		h.server.mu.Lock()
		n := h.server.perAddr["127.0.0.2"]
		h.server.mu.Unlock()
		if n == defaultMaxConnsPerAddr {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the host took %d of %d connections", n, defaultMaxConnsPerAddr)
		}
	}
	c := hello(t, h, "one-more", dialOptions{from: "127.0.0.2"})
	if c.welcome.Type != wire.TypeRefused || c.welcome.Code != wire.CodeTooMany || !strings.Contains(c.welcome.Text, "too many connections from your address") {
		t.Fatalf("over the cap: %+v", c.welcome)
	}
	// Then a thousand more: closed, some after a few seconds of waiting for
	// a handshake, most at once.
	dial(1000)
	h.server.mu.Lock()
	n := h.server.perAddr["127.0.0.2"]
	h.server.mu.Unlock()
	if n > defaultMaxConnsPerAddr {
		t.Fatalf("%d connections held from one address, cap %d", n, defaultMaxConnsPerAddr)
	}
	member(t, h, "bob", dialOptions{from: "127.0.0.3"})

	// Once they go, the address may connect again.
	for _, c := range held {
		c.Close()
	}
	held = nil
	// The host notices the closed connections one by one; until it has, a
	// new one is still one too many, and while it is telling others so,
	// closed without a word.
	deadline := time.Now().Add(testDeadline)
	for {
		d := &tls.Dialer{
			NetDialer: &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: testDeadline},
			Config:    &tls.Config{InsecureSkipVerify: true},
		}
		var f wire.Frame
		conn, err := d.Dial("tcp", h.Addr().String())
		if err == nil {
			hello, _ := wire.Encode(&wire.Frame{Type: wire.TypeHello, Version: wire.Version, Name: "back"})
			conn.SetDeadline(time.Now().Add(testDeadline))
			conn.Write(hello)
			f, err = wire.NewDecoder(conn, wire.MaxHostFrame).Decode()
			conn.Close()
		}
		if err == nil && f.Type == wire.TypeWelcome {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the address stays refused after its connections closed: %+v, %v", f, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The moderation log is kept in the state directory and read by /modlog,
// after a restart too; a record cut short by a crash is skipped.
func TestModLogKept(t *testing.T) {
	dir := t.TempDir()
	h := startHost(t, Config{StateDir: dir})
	ana := owner(t, h, "ana")
	member(t, h, "bob", dialOptions{})
	ana.nextEvent(wire.KindJoin)
	ana.say("/kick bob spam")
	ana.nextEvent(wire.KindLeave)
	ana.say("/ban cy 2h trolling")
	ana.nextNotice()
	ana.conn.Close()
	h.Close()

	f, err := os.OpenFile(filepath.Join(dir, modLogFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"time":"2026-`) // the host died mid-line
	f.Close()

	h2 := startHost(t, Config{StateDir: dir})
	ana = owner(t, h2, "ana")
	ana.say("/modlog")
	log := ana.nextNotice()
	lines := strings.Split(log.Text, "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "ana: kick bob: spam") || !strings.Contains(lines[1], "ana: ban cy until ") || !strings.HasSuffix(lines[1], ": trolling") {
		t.Fatalf("/modlog says:\n%s", log.Text)
	}
}

// Attack: a member floods 10,000 lines over the network as fast as it can.
// The room takes its burst, kicks it for flooding, and the others' lines
// all arrive, in order, among no more of the flood than the burst.
func TestFloodOverNetwork(t *testing.T) {
	h := startHost(t, Config{Limits: wire.Limits{Burst: 10, PerSecond: 2}})
	cy := member(t, h, "cy", dialOptions{})
	bob := member(t, h, "bob", dialOptions{})
	flooder := member(t, h, "flooder", dialOptions{})
	cy.nextEvent(wire.KindJoin)
	cy.nextEvent(wire.KindJoin)

	var flood []byte
	for i := range 10_000 {
		flood, _ = wire.Append(flood, &wire.Frame{Type: wire.TypeSay, Text: fmt.Sprintf("spam %d", i)})
	}
	go flooder.conn.Write(flood) // fails once the host closes it: that is the point
	for i := range 5 {
		bob.say(fmt.Sprintf("bob %d", i))
	}

	var bobs, spam int
	kicked := false
	for bobs < 5 || !kicked {
		f := cy.next()
		switch {
		case f.Type != wire.TypeEvent:
			t.Fatalf("cy got %+v", f)
		case f.Kind == wire.KindSay && f.From == "bob":
			if want := fmt.Sprintf("bob %d", bobs); f.Text != want {
				t.Fatalf("cy got %q, want %q", f.Text, want)
			}
			bobs++
		case f.Kind == wire.KindSay && f.From == "flooder":
			spam++
		case f.Kind == wire.KindLeave && f.Name == "flooder":
			if f.Code != wire.CodeKicked || f.Text != "flooding" {
				t.Fatalf("the flooder left with %+v", f)
			}
			kicked = true
		default:
			t.Fatalf("cy got %+v", f)
		}
	}
	if held := room.HeldLimits(room.DefaultLimits).Burst; spam > held {
		t.Fatalf("cy saw %d lines of the flood, more than the bucket's %d", spam, held)
	}
	// The flooder was told why its lines were refused, then why it was
	// sent out.
	for {
		f, err := flooder.read()
		if err != nil {
			t.Fatalf("the flooder's connection ended (%v) without a closed frame", err)
		}
		if f.Type == wire.TypeClosed {
			if f.Code != wire.CodeKicked || f.Text != "flooding" {
				t.Fatalf("the flooder was closed with %+v", f)
			}
			break
		}
	}
}

package irc

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"chatroom/host/wire"
	"github.com/ergochat/irc-go/ircmsg"
)

// The tests run a real gateway on 127.0.0.1 against a fake room: the
// gateway's Dial returns one end of a net.Pipe, and the test plays the
// room at the other, reading the hello and says and writing frames.

const testWait = 5 * time.Second

// fakeRoom is the test's side of the gateway's Dials.
type fakeRoom struct {
	dials chan *roomEnd
}

// roomEnd is the room's end of one Dial.
type roomEnd struct {
	t    *testing.T
	conn net.Conn
	dec  *wire.Decoder
	peer Peer
}

func (r *roomEnd) read() wire.Frame {
	r.t.Helper()
	r.conn.SetReadDeadline(time.Now().Add(testWait))
	f, err := r.dec.Decode()
	if err != nil {
		r.t.Fatalf("room: reading a frame: %v", err)
	}
	return f
}

// readSay reads frames up to the next say, skipping pings.
func (r *roomEnd) readSay() wire.Frame {
	r.t.Helper()
	for {
		f := r.read()
		if f.Type == wire.TypePing {
			continue
		}
		if f.Type != wire.TypeSay {
			r.t.Fatalf("room: got %+v, want a say", f)
		}
		return f
	}
}

func (r *roomEnd) write(f wire.Frame) {
	r.t.Helper()
	b, err := wire.Encode(&f)
	if err != nil {
		r.t.Fatal(err)
	}
	r.conn.SetWriteDeadline(time.Now().Add(testWait))
	if _, err := r.conn.Write(b); err != nil {
		r.t.Fatalf("room: writing %s: %v", f.Type, err)
	}
}

// testGateway is a gateway listening on 127.0.0.1, with its fake room.
type testGateway struct {
	t    *testing.T
	g    *Gateway
	addr string
	room *fakeRoom
}

func startGateway(t *testing.T, cfg Config) *testGateway {
	t.Helper()
	room := &fakeRoom{dials: make(chan *roomEnd, 16)}
	if cfg.Dial == nil {
		cfg.Dial = func(ctx context.Context, peer Peer) (net.Conn, error) {
			ours, theirs := net.Pipe()
			room.dials <- &roomEnd{t: t, conn: theirs, dec: wire.NewDecoder(theirs, wire.MaxClientFrame), peer: peer}
			return ours, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := New(cfg)
	served := make(chan error, 1)
	go func() { served <- g.Serve(ln) }()
	t.Cleanup(func() {
		g.Close()
		select {
		case <-served:
		case <-time.After(testWait):
			t.Error("Serve did not return after Close")
		}
	})
	return &testGateway{t: t, g: g, addr: ln.Addr().String(), room: room}
}

// nextDial is the room's end of the gateway's next Dial.
func (tg *testGateway) nextDial() *roomEnd {
	tg.t.Helper()
	select {
	case r := <-tg.room.dials:
		tg.t.Cleanup(func() { r.conn.Close() })
		return r
	case <-time.After(testWait):
		tg.t.Fatal("the gateway did not dial the room")
		return nil
	}
}

// ircClient is a raw IRC client of the test's.
type ircClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func (tg *testGateway) dial() *ircClient {
	tg.t.Helper()
	conn, err := net.Dial("tcp", tg.addr)
	if err != nil {
		tg.t.Fatal(err)
	}
	tg.t.Cleanup(func() { conn.Close() })
	return &ircClient{t: tg.t, conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}
}

func (c *ircClient) send(lines ...string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(testWait))
	for _, l := range lines {
		if _, err := c.conn.Write([]byte(l + "\r\n")); err != nil {
			c.t.Fatalf("client: writing %q: %v", l, err)
		}
	}
}

// readLine reads one raw line, without its CR LF, checking that it is a
// well-formed IRC line.
func (c *ircClient) readLine() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(testWait))
	line, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("client: reading: %v (after %q)", err, line)
	}
	checkServerLine(c.t, line)
	return strings.TrimSuffix(line, "\r\n")
}

func (c *ircClient) read() ircmsg.Message {
	c.t.Helper()
	line := c.readLine()
	m, err := ircmsg.ParseLine(line)
	if err != nil {
		c.t.Fatalf("client: parsing %q: %v", line, err)
	}
	return m
}

// readUntil reads messages up to the first with command, and returns
// them all, it last.
func (c *ircClient) readUntil(command string) []ircmsg.Message {
	c.t.Helper()
	var got []ircmsg.Message
	for {
		m := c.read()
		got = append(got, m)
		if m.Command == command {
			return got
		}
		if len(got) > 10000 {
			c.t.Fatalf("no %s in 10000 lines", command)
		}
	}
}

// expect reads the next message and checks its raw form, tags left out.
func (c *ircClient) expect(want string) ircmsg.Message {
	c.t.Helper()
	line := c.readLine()
	if got := withoutTags(line); got != want {
		c.t.Fatalf("client got\n\t%q\nwant\n\t%q", got, want)
	}
	m, _ := ircmsg.ParseLine(line)
	return m
}

func withoutTags(line string) string {
	if strings.HasPrefix(line, "@") {
		if i := strings.IndexByte(line, ' '); i >= 0 {
			return line[i+1:]
		}
	}
	return line
}

// expectClosed checks that the gateway closes the connection, after
// lines the test does not look at (the ERROR among them).
func (c *ircClient) expectClosed() []string {
	c.t.Helper()
	var lines []string
	c.conn.SetReadDeadline(time.Now().Add(testWait))
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				c.t.Fatalf("the gateway did not close the connection; it sent %q", lines)
			}
			return lines
		}
		lines = append(lines, strings.TrimSuffix(line, "\r\n"))
	}
}

// checkServerLine fails the test for a line from the gateway that breaks
// IRC's rules: not ended by CR LF, a CR, LF or NUL inside, a body (the
// line without its tags) over 512 bytes, or bytes that are not UTF-8 (a
// line cut inside a character, which clients show as garbage or drop).
func checkServerLine(t testing.TB, line string) {
	t.Helper()
	if err := badServerLine(line); err != "" {
		t.Fatalf("gateway line %q: %s", line, err)
	}
}

func badServerLine(line string) string {
	body, ok := strings.CutSuffix(line, "\r\n")
	if !ok {
		return "not ended by CR LF"
	}
	if strings.ContainsAny(body, "\r\n\x00") {
		return "CR, LF or NUL inside"
	}
	if !utf8.ValidString(body) {
		return "not UTF-8"
	}
	if strings.HasPrefix(body, "@") {
		i := strings.IndexByte(body, ' ')
		if i < 0 {
			return "tags and nothing else"
		}
		if i+1 > ircmsg.MaxlenTags {
			return "tags too long"
		}
		body = body[i+1:]
	}
	if len(body)+2 > maxLineBody {
		return "longer than 512 bytes"
	}
	if _, err := ircmsg.ParseLine(line); err != nil {
		return "unparsable: " + err.Error()
	}
	return ""
}

// testWelcome is a welcome to name in a room with two others.
func testWelcome(name string) wire.Frame {
	return wire.Frame{
		Type: wire.TypeWelcome, Version: wire.Version,
		Room: &wire.Room{Name: "the den", Topic: "snacks"},
		You:  &wire.Member{Name: name, Role: wire.RoleMember},
		Members: []wire.Member{
			{Name: "ann", Role: wire.RoleOwner, Key: "3f9a1cB2"},
			{Name: "bob.x", Role: wire.RoleMember},
			{Name: name, Role: wire.RoleMember},
		},
		Seq:         10,
		Commands:    []wire.Command{{Name: "modlog", Admin: true}, {Name: "bans", Admin: true}, {Name: "help"}, {Name: "mutes", Admin: true}},
		Limits:      &wire.Limits{Burst: 100, PerSecond: 100},
		HeartbeatMS: 5000,
	}
}

// session is a registered client with its room end.
type session struct {
	c    *ircClient
	room *roomEnd
}

// join registers nick with the caps asked (none for nil), answers the
// hello with welcome, and reads up to the end of the names.
func (tg *testGateway) join(nick string, caps []string, welcome wire.Frame) session {
	tg.t.Helper()
	c := tg.dial()
	if caps != nil {
		c.send("CAP LS 302")
		c.readUntil("CAP")
		c.send("CAP REQ :" + strings.Join(caps, " "))
		if m := c.read(); m.Command != "CAP" || m.Params[1] != "ACK" {
			tg.t.Fatalf("CAP REQ answered %v", m)
		}
	}
	c.send("NICK "+nick, "USER u 0 * :real name")
	if caps != nil {
		c.send("CAP END")
	}
	room := tg.nextDial()
	hello := room.read()
	if hello.Type != wire.TypeHello || hello.Name != nick || hello.Version != wire.Version {
		tg.t.Fatalf("hello %+v", hello)
	}
	room.write(welcome)
	c.readUntil("366")
	return session{c: c, room: room}
}

func newReader(conn net.Conn) *bufio.Reader { return bufio.NewReaderSize(conn, 64<<10) }

// newTestConn is a session in the room of conformanceWelcome, run by the
// test's own calls rather than its goroutine: what it writes to the client
// is left in its out buffer, and what it sends the room in room.
func newTestConn(t testing.TB) *conn {
	c := newRegisteringConn(t)
	c.nick, c.userSeen = "cy", true
	c.room = &roomLink{nc: &captureConn{}, frames: make(chan roomFrame), done: make(chan struct{})}
	c.phase = helloing
	c.welcome(conformanceWelcome())
	c.out.Reset()
	return c
}

// captureConn is a net.Conn that keeps what is written to it.
type captureConn struct {
	net.Conn
	written []byte
}

func (c *captureConn) Write(b []byte) (int, error) {
	c.written = append(c.written, b...)
	return len(b), nil
}
func (c *captureConn) SetWriteDeadline(time.Time) error { return nil }
func (c *captureConn) Close() error                     { return nil }
func (c *captureConn) Read([]byte) (int, error)         { return 0, io.EOF }

// saslPlain is a SASL PLAIN response, as AUTHENTICATE sends it.
func saslPlain(authcid, password string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + authcid + "\x00" + password))
}

// testCert is a self-signed certificate for name, with a new key, as the
// room makes its own (wire.SelfSignedCert) and as a client's may be.
func testCert(t testing.TB, name string, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := wire.SelfSignedCert(key, name, usage)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

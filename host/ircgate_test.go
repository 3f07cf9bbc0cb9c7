package host

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"chatroom/host/irc"
	"chatroom/host/wire"
	"chatroom/join"
)

// These tests run the real host with its IRC gateway on 127.0.0.1:0 and
// speak IRC to it over real TLS with a bare client (crypto/tls and bufio),
// beside the protocol's bare client of host_test.go, so that what they
// check is what crosses each wire. As there, they wait on lines, never on
// the clock.

// ircClient is an IRC client speaking the protocol directly.
type ircClient struct {
	t    *testing.T
	nick string
	conn net.Conn
	r    *bufio.Reader
	// echo is whether the gateway agreed to echo-message: the client's own
	// messages then come back to it, in the room's order.
	echo bool
	// channel is the room's channel, as the gateway joined the client to
	// it.
	channel string
}

// ircLine is one IRC message, parsed as far as the tests need.
type ircLine struct {
	raw     string
	prefix  string // "nick!user@host", "" for none
	command string
	params  []string // the trailing one last, without its ':'
}

func (l ircLine) nick() string {
	nick, _, _ := strings.Cut(l.prefix, "!")
	return nick
}

// last is the message's last parameter ("" for none): a PRIVMSG's text,
// an ERROR's reason.
func (l ircLine) last() string {
	if len(l.params) == 0 {
		return ""
	}
	return l.params[len(l.params)-1]
}

func parseIRCLine(raw string) ircLine {
	l := ircLine{raw: raw}
	rest := raw
	if strings.HasPrefix(rest, "@") {
		_, rest, _ = strings.Cut(rest, " ")
	}
	if strings.HasPrefix(rest, ":") {
		l.prefix, rest, _ = strings.Cut(rest[1:], " ")
	}
	for rest != "" {
		if strings.HasPrefix(rest, ":") {
			l.params = append(l.params, rest[1:])
			break
		}
		var word string
		word, rest, _ = strings.Cut(rest, " ")
		if word == "" {
			continue
		}
		if l.command == "" {
			l.command = strings.ToUpper(word)
		} else {
			l.params = append(l.params, word)
		}
	}
	return l
}

// dialIRC connects to an IRC listener of h, over TLS unless plain, with
// opt's address and identity (as the client certificate, CertFP).
func dialIRC(t *testing.T, addr net.Addr, nick string, opt dialOptions, plain bool) *ircClient {
	t.Helper()
	d := &net.Dialer{Timeout: testDeadline}
	if opt.from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(opt.from)}
	}
	conn, err := d.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	if !plain {
		config := &tls.Config{InsecureSkipVerify: true}
		if opt.identity != nil {
			config.Certificates = []tls.Certificate{*opt.identity}
		}
		tc := tls.Client(conn, config)
		tc.SetDeadline(time.Now().Add(testDeadline))
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		conn = tc
	}
	t.Cleanup(func() { conn.Close() })
	return &ircClient{t: t, nick: nick, conn: conn, r: bufio.NewReader(conn)}
}

func (c *ircClient) send(format string, args ...any) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(testDeadline))
	if _, err := fmt.Fprintf(c.conn, format+"\r\n", args...); err != nil {
		c.t.Fatalf("%s: write: %v", c.nick, err)
	}
}

// read reads the next line, answering the gateway's pings on the way.
func (c *ircClient) read() (ircLine, error) {
	for {
		c.conn.SetReadDeadline(time.Now().Add(testDeadline))
		raw, err := c.r.ReadString('\n')
		if err != nil {
			return ircLine{}, err
		}
		l := parseIRCLine(strings.TrimRight(raw, "\r\n"))
		if l.command == "PING" {
			c.send("PONG :%s", l.last())
			continue
		}
		return l, nil
	}
}

// expect reads lines up to the first whose command is one of commands,
// and returns it; an ERROR or the end of the connection before it fails
// the test, unless ERROR is what is expected.
func (c *ircClient) expect(commands ...string) ircLine {
	c.t.Helper()
	var seen []string
	for {
		l, err := c.read()
		if err != nil {
			c.t.Fatalf("%s: read (%v) while waiting for %v, after:\n%s", c.nick, err, commands, strings.Join(seen, "\n"))
		}
		for _, want := range commands {
			if l.command == want {
				return l
			}
		}
		if l.command == "ERROR" {
			c.t.Fatalf("%s: %q while waiting for %v, after:\n%s", c.nick, l.raw, commands, strings.Join(seen, "\n"))
		}
		seen = append(seen, l.raw)
	}
}

// closedWith reads lines up to an ERROR and the end of the connection,
// and returns the ERROR; it fails the test if the connection ends
// without one, or stays open after it.
func (c *ircClient) closedWith() ircLine {
	c.t.Helper()
	l := c.expect("ERROR")
	c.ends(l)
	return l
}

// ends reads up to the end of the connection, after the ERROR last, and
// fails the test if it stays open.
func (c *ircClient) ends(last ircLine) {
	c.t.Helper()
	for {
		_, err := c.read()
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("%s: connection still open after %q", c.nick, last.raw)
		}
		return
	}
}

// registerIRC connects as nick and registers, asking for echo-message,
// up to the end of the channel's names (366), after which the room's
// events come; it fails the test unless the gateway lets it in.
func registerIRC(t *testing.T, addr net.Addr, nick string, opt dialOptions, plain bool) *ircClient {
	t.Helper()
	c := dialIRC(t, addr, nick, opt, plain)
	c.startRegistration()
	if opt.password != "" {
		c.send("PASS :%s", opt.password)
	}
	c.send("NICK %s", nick)
	c.send("USER %s 0 * :%s", nick, nick)
	c.expect("001")
	c.channel = c.expect("JOIN").params[0]
	c.expect("366")
	return c
}

// startRegistration negotiates echo-message, which the gateway may refuse.
func (c *ircClient) startRegistration() {
	c.t.Helper()
	c.send("CAP LS 302")
	c.expect("CAP")
	c.send("CAP REQ :echo-message")
	ack := c.expect("CAP")
	c.echo = len(ack.params) >= 2 && strings.EqualFold(ack.params[1], "ACK")
	c.send("CAP END")
}

// tryRegisterIRC connects as nick and registers, and returns the first
// line that says whether it is in: 001, a refusing numeric, or ERROR.
func tryRegisterIRC(t *testing.T, addr net.Addr, nick string, opt dialOptions) (*ircClient, ircLine) {
	t.Helper()
	c := dialIRC(t, addr, nick, opt, false)
	c.send("NICK %s", nick)
	c.send("USER %s 0 * :%s", nick, nick)
	for {
		l, err := c.read()
		if err != nil {
			t.Fatalf("%s: connection ended (%v) before the gateway said whether it is in", nick, err)
		}
		switch l.command {
		case "001", "ERROR", "432", "433", "464", "465":
			return c, l
		}
	}
}

// nextEventOf reads c's frames up to the next event of kind, past the
// others (an admin's ban lists, pings).
func nextEventOf(c *client, kind string) wire.Frame {
	c.t.Helper()
	for {
		if f := c.next(); f.Type == wire.TypeEvent && f.Kind == kind {
			return f
		}
	}
}

func startIRCHost(t *testing.T, cfg Config) *Host {
	t.Helper()
	if cfg.IRC == "" {
		cfg.IRC = "127.0.0.1:0"
	}
	return startHost(t, cfg)
}

func newIdentity(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := join.LoadOrCreateIdentity(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// An IRC member and a chatroom member talk both ways, and while three
// members, one of them on IRC, send at once, the IRC client sees every
// message in the order the chatroom member sees them: the room's.
func TestIRCMemberTalksWithMembersInTheRoomsOrder(t *testing.T) {
	h := startIRCHost(t, Config{})
	ana := owner(t, h, "ana")
	bob := member(t, h, "bob", dialOptions{})
	ana.nextEvent(wire.KindJoin)
	id := newIdentity(t)
	ic := registerIRC(t, h.IRCAddr(), "ircy", dialOptions{identity: &id}, false)
	if ic.channel != h.IRCChannel() {
		t.Fatalf("the gateway joined the client to %q, the host says the channel is %q", ic.channel, h.IRCChannel())
	}
	if f := nextNotPing(bob); f.Type != wire.TypeEvent || f.Kind != wire.KindJoin || f.Name != "ircy" {
		t.Fatalf("bob got %+v, want ircy's join", f)
	}

	// Each way, once.
	bob.say("hello from bob")
	if l := ic.expect("PRIVMSG"); l.nick() != "bob" || l.params[0] != ic.channel || l.last() != "hello from bob" {
		t.Fatalf("the IRC client got %q, want bob's line in %s", l.raw, ic.channel)
	}
	ic.send("PRIVMSG %s :hello from irc", ic.channel)
	nextNotPing(bob) // his own line
	if f := nextNotPing(bob); f.Type != wire.TypeEvent || f.Kind != wire.KindSay || f.From != "ircy" || f.Text != "hello from irc" {
		t.Fatalf("bob got %+v, want ircy's line", f)
	}
	if ic.echo {
		if l := ic.expect("PRIVMSG"); l.nick() != "ircy" || l.last() != "hello from irc" {
			t.Fatalf("with echo-message, the IRC client got %q, want its own line", l.raw)
		}
	}

	// Then all at once: the room orders them, and both see its order.
	const rounds = 20
	for i := range rounds {
		bob.say(fmt.Sprintf("bob %d", i))
		ic.send("PRIVMSG %s :irc %d", ic.channel, i)
		ana.say(fmt.Sprintf("ana %d", i))
	}
	var bobSaw []string
	for len(bobSaw) < 3*rounds {
		if f := nextNotPing(bob); f.Type == wire.TypeEvent && f.Kind == wire.KindSay {
			bobSaw = append(bobSaw, f.Text)
		}
	}
	want := bobSaw
	if !ic.echo {
		// Without echo-message an IRC client shows its own lines itself.
		want = nil
		for _, text := range bobSaw {
			if !strings.HasPrefix(text, "irc ") {
				want = append(want, text)
			}
		}
	}
	var ircSaw []string
	for len(ircSaw) < len(want) {
		ircSaw = append(ircSaw, ic.expect("PRIVMSG").last())
	}
	if strings.Join(ircSaw, "|") != strings.Join(want, "|") {
		t.Fatalf("the IRC client saw\n%q\nbob saw\n%q", ircSaw, want)
	}
}

// A ban made from the chatroom side holds for the key on IRC, and one
// made of an IRC member holds for a chatroom member with its key: the
// client certificate is the member's key on either side. Each comes back
// from an address of its own, so that it is the key that is refused, not
// the banned address.
func TestIRCBanByKeyHoldsOnEitherSide(t *testing.T) {
	requireLoopbackRange(t)
	h := startIRCHost(t, Config{})
	ana := owner(t, h, "ana")

	// A chatroom member's key, banned, is refused on IRC.
	bobKey := newIdentity(t)
	member(t, h, "bob", dialOptions{from: "127.0.0.2", identity: &bobKey})
	ana.nextEvent(wire.KindJoin)
	ana.say("/ban bob spam")
	ana.nextEvent(wire.KindLeave)
	ana.nextNotice()
	ic, l := tryRegisterIRC(t, h.IRCAddr(), "robert", dialOptions{from: "127.0.0.3", identity: &bobKey})
	if l.command != "465" {
		t.Fatalf("bob's key on IRC got %q, want 465 (banned)", l.raw)
	}
	ic.closedWith()

	// An IRC member's key, banned, is refused in the room.
	malKey := newIdentity(t)
	mal := registerIRC(t, h.IRCAddr(), "mal", dialOptions{from: "127.0.0.4", identity: &malKey}, false)
	if f := nextEventOf(ana, wire.KindJoin); f.Name != "mal" || f.Key != wire.KeyTag(wire.Fingerprint(malKey.Leaf.RawSubjectPublicKeyInfo)) {
		t.Fatalf("ana saw %+v, want mal joining with the key of the client certificate", f)
	}
	ana.say("/ban mal spam")
	if l := mal.closedWith(); !strings.Contains(l.last(), "banned") {
		t.Fatalf("mal was told %q, want that it is banned", l.raw)
	}
	c := hello(t, h, "malcolm", dialOptions{from: "127.0.0.5", identity: &malKey})
	if c.welcome.Type != wire.TypeRefused || c.welcome.Code != wire.CodeBanned {
		t.Fatalf("mal's key in the room: %+v", c.welcome)
	}
	// And on IRC again, under another name.
	ic, l = tryRegisterIRC(t, h.IRCAddr(), "malory", dialOptions{from: "127.0.0.6", identity: &malKey})
	if l.command != "465" {
		t.Fatalf("mal's key on IRC again got %q, want 465 (banned)", l.raw)
	}
	ic.closedWith()
	// Someone else from there is welcome.
	fresh := newIdentity(t)
	registerIRC(t, h.IRCAddr(), "cy", dialOptions{from: "127.0.0.6", identity: &fresh}, false)
}

// Attack: connections from one address through both doors. An IRC member
// counts in the address's connections as a chatroom member does, so
// neither door lets an address hold more than the cap.
func TestIRCCountsInConnectionsPerAddress(t *testing.T) {
	requireLoopbackRange(t)
	h := startIRCHost(t, Config{MaxConnsPerAddr: 2})
	ana := owner(t, h, "ana")
	member(t, h, "bob", dialOptions{from: "127.0.0.2"})
	ana.nextEvent(wire.KindJoin)
	registerIRC(t, h.IRCAddr(), "ircy", dialOptions{from: "127.0.0.2"}, false)
	ana.nextEvent(wire.KindJoin)

	// The address holds two: a third is refused through either door.
	c := hello(t, h, "carol", dialOptions{from: "127.0.0.2"})
	if c.welcome.Type != wire.TypeRefused || c.welcome.Code != wire.CodeTooMany || !strings.Contains(c.welcome.Text, "too many connections from your address") {
		t.Fatalf("a third connection, in the room: %+v", c.welcome)
	}
	ic, l := tryRegisterIRC(t, h.IRCAddr(), "dave", dialOptions{from: "127.0.0.2"})
	if l.command != "ERROR" || !strings.Contains(l.last(), "too many connections from your address") {
		t.Fatalf("a third connection, on IRC: %q", l.raw)
	}
	ic.ends(l)
	// Another address is welcome on IRC as in the room.
	registerIRC(t, h.IRCAddr(), "erin", dialOptions{from: "127.0.0.3"}, false)
}

// Plain IRC listens only on loopback: an address on the network is
// refused before anything listens there, and the state directory is left
// for the next start.
func TestIRCPlainOnlyOnLoopback(t *testing.T) {
	dir := t.TempDir()
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0", "192.0.2.1:0", "lab-pc.local:0", "[::ffff:10.0.0.1]:0"} {
		h, err := Start(Config{Name: "Lab 3", StateDir: dir, Listen: "127.0.0.1:0", IRCPlain: addr})
		if err == nil {
			h.Close()
			t.Fatalf("plain IRC on %s: started, listening on %v", addr, h.IRCPlainAddr())
		}
		if !strings.Contains(err.Error(), "not a loopback address") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("plain IRC on %s: %v, want one line saying it is not loopback", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "[::1]:0"} {
		if addr == "[::1]:0" {
			if ln, err := net.Listen("tcp", addr); err != nil {
				continue // no IPv6 here
			} else {
				ln.Close()
			}
		}
		h := startHost(t, Config{StateDir: dir, IRCPlain: addr})
		tcp, ok := h.IRCPlainAddr().(*net.TCPAddr)
		if !ok || !tcp.IP.IsLoopback() || addr == "localhost:0" && !tcp.IP.Equal(net.IPv4(127, 0, 0, 1)) {
			t.Fatalf("plain IRC on %s listens on %v", addr, h.IRCPlainAddr())
		}
		if h.IRCAddr() != nil {
			t.Fatalf("plain IRC alone also listens with TLS on %v", h.IRCAddr())
		}
		h.Close()
	}
}

// A bot on this machine joins over plain IRC and is heard in the room.
func TestIRCPlainOnLoopbackServes(t *testing.T) {
	h := startHost(t, Config{IRCPlain: "127.0.0.1:0"})
	ana := owner(t, h, "ana")
	bot := registerIRC(t, h.IRCPlainAddr(), "bot", dialOptions{}, true)
	ana.nextEvent(wire.KindJoin)
	bot.send("PRIVMSG %s :beep", bot.channel)
	if f := ana.nextEvent(wire.KindSay); f.From != "bot" || f.Text != "beep" {
		t.Fatalf("ana got %+v, want the bot's line", f)
	}
}

// IRC clients take TLS 1.2, which the members' port does not, and see the
// room's own certificate, whose fingerprints the host gives in the forms
// irssi and weechat take.
func TestIRCPinsAreTheRoomCertificates(t *testing.T) {
	h := startIRCHost(t, Config{})
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: testDeadline}, "tcp", h.IRCAddr().String(),
		&tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS 1.2 to the IRC port: %v", err)
	}
	state := conn.ConnectionState()
	conn.Close()
	cert := state.PeerCertificates[0]
	if got := wire.Fingerprint(cert.RawSubjectPublicKeyInfo); got != h.Fingerprint() {
		t.Fatalf("the IRC port shows the key %s, the room's is %s", got, h.Fingerprint())
	}

	pins := h.IRCPins()
	certSum := sha256.Sum256(cert.Raw)
	if pins.CertHex != hex.EncodeToString(certSum[:]) || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(pins.CertHex) {
		t.Errorf("weechat's pin %s, want the lower-case hex SHA-256 of the certificate", pins.CertHex)
	}
	colonPair := `^[0-9A-F]{2}(:[0-9A-F]{2}){31}$`
	if pins.Cert != strings.ToUpper(colonJoin(pins.CertHex)) || !regexp.MustCompile(colonPair).MatchString(pins.Cert) {
		t.Errorf("irssi's certificate pin %s, want the SHA-256 of the certificate as AB:CD:...", pins.Cert)
	}
	// The room's fingerprint is the same SHA-256 of the key, in base64.
	keySum, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(h.Fingerprint(), "SHA256:"))
	if err != nil {
		t.Fatal(err)
	}
	if pins.PubKey != strings.ToUpper(colonJoin(hex.EncodeToString(keySum))) || !regexp.MustCompile(colonPair).MatchString(pins.PubKey) {
		t.Errorf("irssi's key pin %s, want the SHA-256 of the key as AB:CD:...", pins.PubKey)
	}

	if _, err := tls.DialWithDialer(&net.Dialer{Timeout: testDeadline}, "tcp", h.Addr().String(),
		&tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12}); err == nil {
		t.Error("the members' port took TLS 1.2 too")
	}
	// TLS 1.2 with AEAD only: a client that offers CBC alone is refused.
	if conn, err := tls.DialWithDialer(&net.Dialer{Timeout: testDeadline}, "tcp", h.IRCAddr().String(),
		&tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}); err == nil {
		conn.Close()
		t.Error("the IRC port took TLS 1.2 with a CBC cipher suite")
	}
}

func colonJoin(hexText string) string {
	var pairs []string
	for i := 0; i < len(hexText); i += 2 {
		pairs = append(pairs, hexText[i:i+2])
	}
	return strings.Join(pairs, ":")
}

// An IRC port that is taken is an error of its own (no move to another
// port: IRC clients are set up with it), and the start leaves nothing
// behind.
func TestIRCPortTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	_, err = Start(Config{Name: "Lab 3", StateDir: dir, Listen: "127.0.0.1:0", IRC: taken.Addr().String()})
	var lerr *IRCListenError
	if !errors.As(err, &lerr) || lerr.Plain || lerr.Addr != taken.Addr().String() {
		t.Fatalf("IRC on a taken port: %v", err)
	}
	startHost(t, Config{StateDir: dir}) // the state directory is free again
}

// Closing the room tells each IRC client, with an ERROR line, before its
// connection ends: a member, and one still registering, which has no
// member to be told through; and the IRC port takes no more.
func TestIRCClientsToldWhenTheRoomCloses(t *testing.T) {
	h := startIRCHost(t, Config{})
	ic := registerIRC(t, h.IRCAddr(), "ircy", dialOptions{}, false)
	registering := dialIRC(t, h.IRCAddr(), "slow", dialOptions{}, false)
	registering.send("NICK slow")
	// Once it answers, the gateway has the connection in hand.
	registering.send("PING :here")
	registering.expect("PONG", "451")
	closed := make(chan error, 1)
	go func() { closed <- h.Close() }()
	if l := ic.closedWith(); !strings.Contains(l.last(), "clos") {
		t.Errorf("the member was told %q, want that the room closes", l.raw)
	}
	if l := registering.closedWith(); !strings.Contains(l.last(), "clos") {
		t.Errorf("the client registering was told %q, want that the room closes", l.raw)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if conn, err := net.DialTimeout("tcp", h.IRCAddr().String(), testDeadline); err == nil {
		conn.Close()
		t.Fatal("the IRC port still takes connections after the room closed")
	}
	if _, err := h.dialIRCMember(context.Background(), irc.Peer{Addr: "127.0.0.1:1"}); err == nil {
		t.Fatal("the gateway's way in is open after the room closed")
	}
}

// An IRC client's address counts as a member's from the same machine:
// the IP alone, as server.serve writes it.
func TestIRCPeerAddr(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.2:40000":         "127.0.0.2",
		"127.0.0.2":               "127.0.0.2",
		"[::ffff:127.0.0.2]:6697": "127.0.0.2",
		"[fe80::1%eth0]:6697":     "fe80::1",
		"[::1]:1":                 "::1",
	} {
		if got := ircPeerAddr(in); got != want {
			t.Errorf("ircPeerAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// Attack: an IRC member opped or muted by key who comes back under
// another nick. The client certificate is the member's key, so /op and
// /mute hold for it as they do for a chatroom member's key: the opped
// one is an admin again, the muted one still cannot talk.
func TestIRCOpAndMuteByKeyHold(t *testing.T) {
	requireLoopbackRange(t)
	h := startIRCHost(t, Config{})
	ana := owner(t, h, "ana")
	bob := member(t, h, "bob", dialOptions{from: "127.0.0.2"})
	nextEventOf(ana, wire.KindJoin)

	opKey := newIdentity(t)
	mal := registerIRC(t, h.IRCAddr(), "mal", dialOptions{from: "127.0.0.3", identity: &opKey}, false)
	nextEventOf(ana, wire.KindJoin)
	ana.say("/op mal")
	if f := nextEventOf(ana, wire.KindRole); f.Name != "mal" || f.Role != wire.RoleAdmin {
		t.Fatalf("ana saw %+v, want mal made an admin", f)
	}
	mal.send("QUIT :back soon")
	mal.closedWith()
	nextEventOf(ana, wire.KindLeave)
	registerIRC(t, h.IRCAddr(), "malory", dialOptions{from: "127.0.0.4", identity: &opKey}, false)
	if f := nextEventOf(ana, wire.KindJoin); f.Name != "malory" || f.Role != wire.RoleAdmin {
		t.Fatalf("ana saw %+v, want malory joining as an admin (the key opped as mal)", f)
	}

	muteKey := newIdentity(t)
	eve := registerIRC(t, h.IRCAddr(), "eve", dialOptions{from: "127.0.0.5", identity: &muteKey}, false)
	nextEventOf(ana, wire.KindJoin)
	ana.say("/mute eve 1h spam")
	eve.send("QUIT :brb")
	eve.closedWith()
	nextEventOf(ana, wire.KindLeave)
	// (A muted key's joins are not announced: no text through names.)
	evelyn := registerIRC(t, h.IRCAddr(), "evelyn", dialOptions{from: "127.0.0.6", identity: &muteKey}, false)
	evelyn.send("PRIVMSG %s :buy my stuff", evelyn.channel)
	if l := evelyn.expect("NOTICE", "404"); !strings.Contains(l.last(), "muted") {
		t.Fatalf("evelyn was told %q, want that she is muted", l.raw)
	}
	bob.say("after")
	if f := nextEventOf(ana, wire.KindSay); f.From != "bob" {
		t.Fatalf("ana saw %+v before bob's line: the key muted as eve talked as evelyn", f)
	}
}

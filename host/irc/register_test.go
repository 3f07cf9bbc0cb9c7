package irc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// noDialWithin fails the test if the gateway dials the room within d:
// the hello must wait for the end of registration.
func (tg *testGateway) noDialWithin(d time.Duration) {
	tg.t.Helper()
	select {
	case r := <-tg.room.dials:
		tg.t.Fatalf("the gateway dialed the room (peer %+v) before registration ended", r.peer)
	case <-time.After(d):
	}
}

// TestRegistrationWithCapsAndSASL is CAP negotiation, which holds the
// hello back until CAP END, and SASL PLAIN, whose password is the
// room's admin password in the hello.
func TestRegistrationWithCapsAndSASL(t *testing.T) {
	tg := startGateway(t, Config{})
	c := tg.dial()
	c.send("CAP LS 302")
	c.expect(":chatroom CAP * LS :account-tag away-notify batch echo-message message-tags sasl=PLAIN server-time")
	c.send("NICK cy", "USER cy 0 * :Cy")
	c.send("CAP REQ :sasl server-time bogus")
	c.expect(":chatroom CAP cy NAK :sasl server-time bogus")
	c.send("CAP REQ :sasl server-time")
	c.expect(":chatroom CAP cy ACK :sasl server-time")
	c.send("AUTHENTICATE SCRAM-SHA-256")
	c.expect(":chatroom 908 cy PLAIN :are available SASL mechanisms")
	c.expect(":chatroom 904 cy :SASL authentication failed")
	c.send("AUTHENTICATE PLAIN")
	c.expect("AUTHENTICATE +")
	c.send("AUTHENTICATE " + saslPlain("whoever", "s3cret"))
	c.expect(":chatroom 903 cy :SASL authentication successful: the room checks the password as you join")
	c.send("CAP LIST")
	c.expect(":chatroom CAP cy LIST :sasl server-time")
	tg.noDialWithin(200 * time.Millisecond)
	c.send("CAP END")
	room := tg.nextDial()
	if hello := room.read(); hello.Name != "cy" || hello.Password != "s3cret" {
		t.Fatalf("hello %+v, want cy with the SASL password", hello)
	}
	room.write(testWelcome("cy"))
	c.expect(":chatroom 001 cy :Welcome to the room the den, cy")
}

// TestRegistrationWithPass is PASS as the admin password.
func TestRegistrationWithPass(t *testing.T) {
	tg := startGateway(t, Config{})
	c := tg.dial()
	c.send("PRIVMSG #the-den :early")
	c.expect(":chatroom 451 * :You have not registered")
	c.send("PASS pw", "NICK cy")
	tg.noDialWithin(100 * time.Millisecond)
	c.send("USER cy 0 * :Cy")
	room := tg.nextDial()
	if hello := room.read(); hello.Password != "pw" {
		t.Fatalf("hello %+v, want the PASS password", hello)
	}
}

// TestRefusals maps each refusal of the hello to what IRC clients know.
func TestRefusals(t *testing.T) {
	tg := startGateway(t, Config{})
	refuse := func(code, text string, sasl bool) *ircClient {
		c := tg.dial()
		if sasl {
			c.send("CAP REQ sasl", "AUTHENTICATE PLAIN", "AUTHENTICATE "+saslPlain("", "bad"), "NICK cy", "USER cy 0 * :Cy", "CAP END")
			c.readUntil("903")
		} else {
			c.send("PASS bad", "NICK cy", "USER cy 0 * :Cy")
		}
		room := tg.nextDial()
		room.read()
		room.write(wire.Frame{Type: wire.TypeRefused, Code: code, Text: text})
		return c
	}
	t.Run("name taken, then another", func(t *testing.T) {
		c := refuse(wire.CodeNameTaken, `the name "cy" is taken`, false)
		c.expect(`:chatroom 433 cy cy :Nickname is already in use: the name "cy" is taken`)
		c.send("NICK cy_")
		room := tg.nextDial()
		if hello := room.read(); hello.Name != "cy_" || hello.Password != "bad" {
			t.Fatalf("second hello %+v", hello)
		}
		room.write(testWelcome("cy_"))
		c.expect(":chatroom 001 cy_ :Welcome to the room the den, cy_")
	})
	t.Run("name invalid", func(t *testing.T) {
		c := refuse(wire.CodeNameInvalid, "the name mixes Latin and Cyrillic letters", false)
		c.expect(":chatroom 432 cy cy :Erroneous nickname: the name mixes Latin and Cyrillic letters")
	})
	for _, tc := range []struct {
		name, code string
		sasl       bool
		want       []string
	}{
		{"wrong password", wire.CodeWrongPassword, false, []string{":chatroom 464 cy :Password incorrect: wrong", "ERROR :Closing link: wrong"}},
		{"wrong password by SASL", wire.CodeWrongPassword, true, []string{":chatroom 904 cy :SASL authentication failed: wrong", "ERROR :Closing link: wrong"}},
		{"no admin", wire.CodeNoAdmin, false, []string{":chatroom 464 cy :Password incorrect: wrong", "ERROR :Closing link: wrong"}},
		{"banned", wire.CodeBanned, false, []string{":chatroom 465 cy :You are banned from this room: wrong", "ERROR :Closing link: wrong"}},
		{"too many", wire.CodeTooMany, false, []string{"ERROR :Closing link: wrong"}},
		{"room closed", wire.CodeRoomClosed, false, []string{"ERROR :Closing link: wrong"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := refuse(tc.code, "wrong", tc.sasl)
			if got := c.expectClosed(); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestClientCertIsIdentity is CertFP: the client certificate's key is
// the member's identity, as the room is told in Peer; without one, the
// member has none.
func TestClientCertIsIdentity(t *testing.T) {
	tg := startGateway(t, Config{TLS: &tls.Config{
		Certificates: []tls.Certificate{testCert(t, "room", x509.ExtKeyUsageServerAuth)},
		ClientAuth:   tls.RequestClientCert,
	}})
	client := testCert(t, "cy", x509.ExtKeyUsageClientAuth)
	clientCert, _ := x509.ParseCertificate(client.Certificate[0])
	for _, tc := range []struct {
		name  string
		certs []tls.Certificate
		want  string
	}{
		{"with a certificate", []tls.Certificate{client}, wire.Fingerprint(clientCert.RawSubjectPublicKeyInfo)},
		{"without", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", tg.addr, &tls.Config{InsecureSkipVerify: true, Certificates: tc.certs})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.Write([]byte("NICK cy\r\nUSER cy 0 * :Cy\r\n"))
			room := tg.nextDial()
			if room.peer.Identity != tc.want {
				t.Fatalf("identity %q, want %q", room.peer.Identity, tc.want)
			}
			if host, _, _ := net.SplitHostPort(room.peer.Addr); host != "127.0.0.1" {
				t.Fatalf("address %q", room.peer.Addr)
			}
		})
	}
}

// TestBacklog replays the welcome's backlog: in a chathistory batch with
// its times to a client with batch and server-time, and with the time in
// the text to a client without server-time; the events after it are
// live, outside the batch.
func TestBacklog(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 5, 0, 0, time.UTC)
	backlog := []wire.Frame{
		{Type: wire.TypeEvent, Seq: 7, Time: at, Kind: wire.KindSay, From: "ann", Text: "earlier"},
		{Type: wire.TypeEvent, Seq: 9, Time: at.Add(time.Minute), Kind: wire.KindMe, From: "cy", Text: "waved"},
	}
	live := wire.Frame{Type: wire.TypeEvent, Seq: 11, Time: at.Add(time.Hour), Kind: wire.KindSay, From: "ann", Text: "now"}
	tg := startGateway(t, Config{})
	for _, tc := range []struct {
		name string
		caps []string
		want []string // raw lines, tags in
	}{
		{"batch and server-time", []string{capBatch, capServerTime}, []string{
			":chatroom BATCH +backlog1 chathistory #the-den",
			"@batch=backlog1;time=2026-12-01T09:05:00.000Z :ann!~ann@3f9a1cB2.key PRIVMSG #the-den :earlier",
			"@batch=backlog1;time=2026-12-01T09:06:00.000Z :cy!~cy@chatroom PRIVMSG #the-den :\x01ACTION waved\x01",
			":chatroom BATCH -backlog1",
			"@time=2026-12-01T10:05:00.000Z :ann!~ann@3f9a1cB2.key PRIVMSG #the-den :now",
		}},
		{"batch alone", []string{capBatch}, []string{
			":chatroom BATCH +backlog1 chathistory #the-den",
			"@batch=backlog1 :ann!~ann@3f9a1cB2.key PRIVMSG #the-den :[09:05] earlier",
			"@batch=backlog1 :cy!~cy@chatroom PRIVMSG #the-den :\x01ACTION [09:06] waved\x01",
			":chatroom BATCH -backlog1",
			":ann!~ann@3f9a1cB2.key PRIVMSG #the-den :now",
		}},
		{"no caps", nil, []string{
			":ann!~ann@3f9a1cB2.key PRIVMSG #the-den :[09:05] earlier",
			":cy!~cy@chatroom PRIVMSG #the-den :\x01ACTION [09:06] waved\x01",
			":ann!~ann@3f9a1cB2.key PRIVMSG #the-den :now",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := testWelcome("cy")
			w.Backlog = len(backlog)
			s := tg.join("cy", tc.caps, w)
			for _, f := range backlog {
				s.room.write(f)
			}
			// The batch ends with the backlog's last event, not when
			// the next comes.
			var got []string
			for range len(tc.want) - 1 {
				got = append(got, sortedTags(s.c.readLine()))
			}
			s.room.write(live)
			got = append(got, sortedTags(s.c.readLine()))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tc.want, "\n\t"))
			}
		})
	}
}

// sortedTags is line with its tags in name order, for comparing.
func sortedTags(line string) string {
	if !strings.HasPrefix(line, "@") {
		return line
	}
	i := strings.IndexByte(line, ' ')
	tags := strings.Split(line[1:i], ";")
	for a := range tags {
		for b := a + 1; b < len(tags); b++ {
			if tags[b] < tags[a] {
				tags[a], tags[b] = tags[b], tags[a]
			}
		}
	}
	return "@" + strings.Join(tags, ";") + line[i:]
}

// TestPrivateEndsTheBatch: only the backlog's events are in its batch, so
// a private message that comes while it is open closes it first.
func TestPrivateEndsTheBatch(t *testing.T) {
	tg := startGateway(t, Config{})
	w := testWelcome("cy")
	w.Backlog = 2
	s := tg.join("cy", []string{capBatch}, w)
	s.room.write(wire.Frame{Type: wire.TypeEvent, Seq: 8, Kind: wire.KindSay, From: "ann", Text: "earlier"})
	s.room.write(wire.Frame{Type: wire.TypePrivate, From: "ann", To: "cy", Text: "psst"})
	s.c.expect(":chatroom BATCH +backlog1 chathistory #the-den")
	s.c.expect(":ann!~ann@3f9a1cB2.key PRIVMSG #the-den :earlier")
	s.c.expect(":chatroom BATCH -backlog1")
	if line := s.c.readLine(); line != ":ann!~ann@3f9a1cB2.key PRIVMSG cy :psst" {
		t.Fatalf("the private message came as %q", line)
	}
}

// TestLinesWaitForTheWelcome: what a client sends right after its
// registration, before the room has answered the hello, waits for the
// welcome rather than being refused as unregistered.
func TestLinesWaitForTheWelcome(t *testing.T) {
	tg := startGateway(t, Config{})
	c := tg.dial()
	c.send("NICK cy", "USER cy 0 * :Cy")
	room := tg.nextDial()
	room.read()
	c.send("JOIN #the-den", "PRIVMSG #the-den :first")
	// Time for the gateway to take the lines, were it to take them
	// before the welcome.
	time.Sleep(100 * time.Millisecond)
	room.write(testWelcome("cy"))
	for _, m := range c.readUntil("366") {
		if m.Command == "451" {
			t.Fatal("a line sent before the welcome was refused as unregistered")
		}
	}
	if say := room.readSay(); say.Text != "first" {
		t.Fatalf("the room read %q", say.Text)
	}
}

// TestPartAndJoinAgain is PART leaving the room while the IRC connection
// stays, and JOIN coming back on a new connection into the room.
func TestPartAndJoinAgain(t *testing.T) {
	tg := startGateway(t, Config{})
	s := tg.join("cy", nil, testWelcome("cy"))
	s.c.send("PART #the-den :later")
	if say := s.room.readSay(); say.Text != "/quit" {
		t.Fatalf("PART sent %+v", say)
	}
	s.c.expect(":cy!~cy@chatroom PART #the-den")
	s.room.write(wire.Frame{Type: wire.TypeClosed, Code: wire.CodeLeft})
	s.room.conn.SetReadDeadline(time.Now().Add(testWait))
	if _, err := s.room.dec.Decode(); err == nil {
		t.Fatal("the room connection stayed open after the member left")
	}
	s.c.send("PRIVMSG #the-den :anyone?")
	s.c.expect(":chatroom 442 cy #the-den :You're not on that channel")
	s.c.send("JOIN #the-den")
	room := tg.nextDial()
	if hello := room.read(); hello.Name != "cy" {
		t.Fatalf("hello %+v", hello)
	}
	room.write(testWelcome("cy"))
	s.c.expect(":cy!~cy@chatroom JOIN #the-den")
	got := s.c.readUntil("366")
	for _, m := range got {
		if m.Command == "001" {
			t.Fatal("001 again on JOIN")
		}
	}
	s.c.send("PRIVMSG #the-den :back")
	if say := room.readSay(); say.Text != "back" {
		t.Fatalf("say %+v", say)
	}
}

// TestHeartbeat: the gateway pings the room after its heartbeat of
// silence, and drops the room's own pings without a word to the client.
func TestHeartbeat(t *testing.T) {
	tg := startGateway(t, Config{})
	w := testWelcome("cy")
	w.HeartbeatMS = 100
	s := tg.join("cy", nil, w)
	s.room.write(wire.Frame{Type: wire.TypePing})
	if f := s.room.read(); f.Type != wire.TypePing {
		t.Fatalf("room got %+v, want a ping", f)
	}
	s.room.write(wire.Frame{Type: wire.TypeEvent, Seq: 11, Kind: wire.KindSay, From: "ann", Text: "after the ping"})
	s.c.expect(":ann!~ann@3f9a1cB2.key PRIVMSG #the-den :after the ping")

	// Joining again, the session pings the new connection only once it
	// is welcomed: before, the room waits for a hello and nothing else.
	s.c.send("PART #the-den")
	s.room.readSay() // the /quit
	s.room.write(wire.Frame{Type: wire.TypeClosed, Code: wire.CodeLeft})
	s.c.send("JOIN #the-den")
	again := tg.nextDial()
	again.read()
	again.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if f, err := again.dec.Decode(); err == nil {
		t.Fatalf("before the welcome the gateway sent %+v", f)
	}
}

// TestRoomCloses: a room connection that ends without a word ends the
// IRC connection, with an ERROR.
func TestRoomCloses(t *testing.T) {
	tg := startGateway(t, Config{})
	s := tg.join("cy", nil, testWelcome("cy"))
	s.room.conn.Close()
	if got := s.c.expectClosed(); len(got) != 1 || got[0] != "ERROR :Closing link: the room closed the connection" {
		t.Fatalf("got %q", got)
	}
}

// TestCloseTellsClients: closing the gateway tells each client why.
func TestCloseTellsClients(t *testing.T) {
	tg := startGateway(t, Config{})
	s := tg.join("cy", nil, testWelcome("cy"))
	go tg.g.Close()
	if got := s.c.expectClosed(); len(got) != 1 || got[0] != "ERROR :Closing link: the room is closing" {
		t.Fatalf("got %q", got)
	}
}

// TestCloseCancelsDial: closing the gateway ends a Dial under way, and
// the client is told the room is closing.
func TestCloseCancelsDial(t *testing.T) {
	tg := startGateway(t, Config{Dial: func(ctx context.Context, _ Peer) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}})
	c := tg.dial()
	c.send("NICK cy", "USER cy 0 * :Cy")
	time.Sleep(100 * time.Millisecond) // for the Dial to begin
	go tg.g.Close()
	if got := c.expectClosed(); len(got) != 1 || got[0] != "ERROR :Closing link: the room is closing" {
		t.Fatalf("got %q", got)
	}
}

// TestRefusalBeforeTheHelloIsRead: a room that refuses a connection at
// once and closes it, without reading the hello (as the host does when an
// address holds too many connections), has its refusal told to the
// client, not a connection that merely ended.
func TestRefusalBeforeTheHelloIsRead(t *testing.T) {
	tg := startGateway(t, Config{})
	for range 20 {
		c := tg.dial()
		c.send("NICK cy", "USER cy 0 * :Cy")
		room := tg.nextDial()
		room.write(wire.Frame{Type: wire.TypeRefused, Code: wire.CodeTooMany, Text: "too many connections from your address"})
		room.conn.Close()
		if got := c.expectClosed(); len(got) != 1 || got[0] != "ERROR :Closing link: too many connections from your address" {
			t.Fatalf("got %q", got)
		}
	}
}

package irc

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"testing"
	"time"
)

// TestTLSHandshakeDeadline is the attack of a client that opens TCP to
// the IRC port over TLS and never says a word (or half a ClientHello),
// to hold a pending slot past the registration deadline: the handshake
// is bounded by that deadline, the connection closed and its slot freed.
func TestTLSHandshakeDeadline(t *testing.T) {
	tg := startGateway(t, Config{RegistrationTimeout: 300 * time.Millisecond, TLS: &tls.Config{
		Certificates: []tls.Certificate{testCert(t, "room", x509.ExtKeyUsageServerAuth)},
	}})
	for _, hello := range []string{"", "\x16\x03\x01\x02\x00\x01"} {
		silent, err := net.Dial("tcp", tg.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
		silent.Write([]byte(hello))
		start := time.Now()
		readToEnd(t, silent) // fails the test if not closed within testWait
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("a silent TLS client (%q sent) was closed after %v, want about 300ms", hello, took)
		}
		waitFor(t, "the silent client's pending slot to be freed", func() bool {
			tg.g.mu.Lock()
			defer tg.g.mu.Unlock()
			return len(tg.g.byAddr) == 0 && tg.g.pending.Len() == 0
		})
	}
}

// TestClientLiveness is the client that goes silent without closing (a
// phone that lost its network): it is pinged after clientIdle without a
// line, a line from it keeps it in the room, and after twice that with
// no line it is closed with "ping timeout", so that it does not hold its
// name and its place in the room for ever.
func TestClientLiveness(t *testing.T) {
	c := newTestConn(t)
	base := time.Now()
	c.lastHeard, c.pinged = base, false

	c.now = base.Add(clientIdle - time.Second)
	c.tick()
	if out := c.out.String(); strings.Contains(out, "PING") {
		t.Fatalf("pinged before clientIdle: %q", out)
	}
	c.now = base.Add(clientIdle)
	c.tick()
	if lines := checkOut(t, c); len(lines) != 1 || !strings.HasPrefix(lines[0], "PING ") {
		t.Fatalf("after clientIdle without a line the client got %q, want one PING", lines)
	}
	if got := c.nextWake(); got.After(base.Add(2 * clientIdle)) {
		t.Errorf("after the PING the session wakes at %v, after the timeout at %v", got.Sub(base), 2*clientIdle)
	}

	// The client answers: it is heard, and the clock starts again.
	c.now = base.Add(clientIdle + time.Second)
	c.clientLine(clientLine{line: "PONG :" + serverName})
	c.tick()
	c.now = base.Add(2 * clientIdle)
	c.tick()
	if c.phase == closing {
		t.Fatalf("a client that answered the PING was closed: %q", c.out.String())
	}
	checkOut(t, c)

	// Then silence: a PING, and the end at twice clientIdle.
	heard := c.lastHeard
	c.now = heard.Add(clientIdle)
	c.tick()
	checkOut(t, c)
	c.now = heard.Add(2*clientIdle - time.Second)
	c.tick()
	if c.phase == closing {
		t.Fatalf("closed before twice clientIdle")
	}
	c.now = heard.Add(2 * clientIdle)
	c.tick()
	lines := checkOut(t, c)
	if c.phase != closing || len(lines) == 0 || lines[len(lines)-1] != "ERROR :Closing link: ping timeout\r\n" {
		t.Fatalf("a client silent for twice clientIdle: phase %v, got %q", c.phase, lines)
	}
}

package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
	"chatroom/join"
)

// admissionCounts is how many connections the host holds before their
// hello (pending) and after it (members, not counting the owner).
func admissionCounts(h *Host) (pending, members int) {
	s := h.server
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending.Len(), s.members
}

// waitCounts waits until the host holds pending and members connections.
func waitCounts(t *testing.T, h *Host, pending, members int) {
	t.Helper()
	for deadline := time.Now().Add(testDeadline); ; time.Sleep(2 * time.Millisecond) {
		p, m := admissionCounts(h)
		if p == pending && m == members {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the host holds %d pending connections and %d members, want %d and %d", p, m, pending, members)
		}
	}
}

// dialIdle opens a TCP connection from the address from and sends nothing.
func dialIdle(t *testing.T, h *Host, from string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: testDeadline}
	c, err := d.Dial("tcp", h.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByHost fails the test unless the host closes c (before the
// deadline, which the tests make far longer than testDeadline: a close
// is then the host's choice, not its handshake timeout).
func closedByHost(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(testDeadline))
	_, err := c.Read(make([]byte, 1))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: still open", what)
	}
	if err == nil {
		t.Fatalf("%s: the host sent something", what)
	}
}

// Attack: holding the room's door with idle sockets (it used to be 629
// addresses holding 10,050 TCP connections that never sent a byte, which
// counted against the member cap and shut everyone out). Connections
// that have not said hello are bounded apart, per address and in all;
// past an address's bound, more from it are closed at once; past the
// total, a newcomer takes the place of the oldest idle connection, so a
// real member gets in at once, however full the pending slots are. A
// connection that says hello moves to the members; the member cap counts
// only those.
func TestPendingBounded(t *testing.T) {
	requireLoopbackRange(t)
	const maxPending, perAddr, maxMembers = 8, 2, 2
	h := startHost(t, Config{maxPending: maxPending, maxPendingPerAddr: perAddr, maxMembers: maxMembers,
		handshakeTimeout: 10 * time.Minute})
	owner(t, h, "ana")

	// One address: its first perAddr connections are held, the next ones
	// closed at once.
	var idle []net.Conn
	for i := range perAddr {
		idle = append(idle, dialIdle(t, h, "127.0.1.1"))
		waitCounts(t, h, i+1, 0)
	}
	for i := range 3 {
		closedByHost(t, dialIdle(t, h, "127.0.1.1"), fmt.Sprintf("idle connection %d from one address", perAddr+i+1))
	}
	// Several addresses fill the pending slots.
	for a := 2; len(idle) < maxPending; a++ {
		idle = append(idle, dialIdle(t, h, fmt.Sprintf("127.0.1.%d", a)))
		waitCounts(t, h, len(idle), 0)
	}
	// One more: it takes the oldest one's slot.
	idle = append(idle, dialIdle(t, h, "127.0.1.100"))
	closedByHost(t, idle[0], "the oldest idle connection, once the pending slots were full")
	waitCounts(t, h, maxPending, 0)

	// A real member, TLS and hello, gets in at once; so does one that
	// does its handshake, waits, then says hello: it moves from the
	// pending connections to the members.
	member(t, h, "bob", dialOptions{from: "127.0.2.1"})
	waitCounts(t, h, maxPending-1, 1)
	conn := dialRaw(t, h, "127.0.2.2")
	waitCounts(t, h, maxPending, 1)
	if c := helloOn(t, conn, "cy", ""); c.welcome.Type != wire.TypeWelcome {
		t.Fatalf("cy: %+v", c.welcome)
	}
	waitCounts(t, h, maxPending-1, 2)

	// The member cap counts members only: the room is full now, and says
	// so after the hello.
	c := hello(t, h, "dan", dialOptions{from: "127.0.2.3"})
	if c.welcome.Type != wire.TypeRefused || c.welcome.Code != wire.CodeTooMany || c.welcome.Text != fmt.Sprintf("the room is full (%d members)", maxMembers) {
		t.Fatalf("a member past the cap: %+v", c.welcome)
	}
	waitCounts(t, h, maxPending-1, 2)
}

// Attack: a flood of pings. They were outside every limit, and 10,000 of
// them from one member raised everyone else's latency 20-100 times. The
// host allows a few in a row and then one a second (five times what a
// client sends); a member past that is cut off with an error, and the
// room sees it leave with a protocol error.
func TestPingFloodCutOff(t *testing.T) {
	h := startHost(t, Config{})
	ana := owner(t, h, "ana")
	mallory := member(t, h, "mallory", dialOptions{})
	ana.nextEvent(wire.KindJoin)
	ping, err := wire.Encode(&wire.Frame{Type: wire.TypePing})
	if err != nil {
		t.Fatal(err)
	}
	batch := []byte(strings.Repeat(string(ping), 100))
	mallory.conn.SetWriteDeadline(time.Now().Add(testDeadline))
	sent := 0
	for sent < 10_000 {
		if _, err := mallory.conn.Write(batch); err != nil {
			break // cut off
		}
		sent += 100
	}
	f := mallory.closedWith(wire.TypeError, wire.CodeUnexpected)
	if !strings.HasPrefix(f.Text, "too many pings") {
		t.Fatalf("mallory was told %+v", f)
	}
	if leave := ana.nextEvent(wire.KindLeave); leave.Name != "mallory" || leave.Code != wire.CodeProtocol {
		t.Fatalf("ana saw %+v", leave)
	}
}

// A member whose client pings as join does, once per heartbeat of silence,
// is never taken for a flood, however long it stays, nor when its pings
// come a few at once, after the host's reader was held up. (Over TLS,
// TestHeartbeatKeepsPingingMember pings four times per heartbeat.)
func TestPingBudget(t *testing.T) {
	for _, beat := range []time.Duration{defaultHeartbeat, 250 * time.Millisecond, 20 * time.Millisecond, 0} {
		pings := newPingBudget(beat)
		interval := beat
		if beat == 0 {
			interval = defaultHeartbeat // a client that pings a room with no heartbeat
		}
		now := time.Unix(1e9, 0)
		for i := range 100_000 {
			if i%1000 == 999 {
				// The host's reader was held up for a few intervals: the
				// pings sent meanwhile arrive at once.
				now = now.Add(pingBurst * interval)
				for j := range pingBurst {
					if !pings.AllowN(now, 1) {
						t.Fatalf("heartbeat %v: ping %d of a held-up batch refused", beat, j)
					}
				}
				continue
			}
			now = now.Add(interval)
			if !pings.AllowN(now, 1) {
				t.Fatalf("heartbeat %v: ping %d, one per interval, refused", beat, i)
			}
		}
		// A flood is not.
		refused := 0
		for range 10_000 {
			now = now.Add(time.Microsecond)
			if !pings.AllowN(now, 1) {
				refused++
			}
		}
		if refused < 10_000-2*pingBurst {
			t.Fatalf("heartbeat %v: %d of 10,000 pings in 10 ms refused", beat, refused)
		}
	}
}

// join's own session, idle in a quiet room for a dozen heartbeats, pings
// as the protocol asks and is never cut off for it.
func TestJoinSessionPingsAllowed(t *testing.T) {
	const beat = 250 * time.Millisecond
	h := startHost(t, Config{Heartbeat: beat})
	ana := owner(t, h, "ana")
	sess, err := join.Connect(context.Background(), dialRaw(t, h, ""), wire.Frame{Name: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ana.nextEvent(wire.KindJoin)
	ended := make(chan error, 1)
	go func() {
		for {
			if _, err := sess.Next(); err != nil {
				ended <- err
				return
			}
		}
	}()
	select {
	case err := <-ended:
		t.Fatalf("bob's session ended while idle: %v", err)
	case <-time.After(12 * beat):
	}
	if err := sess.Send("still here"); err != nil {
		t.Fatal(err)
	}
	if f := ana.nextEvent(wire.KindSay); f.From != "bob" || f.Text != "still here" {
		t.Fatalf("ana got %+v, want bob's line", f)
	}
}

// Attack: a members-frame flood. A client may ask for the members once; it
// used to be able to ask again as fast as it could write (173,000 a second
// from one connection, each a turn of the room and an error frame out, no
// limit, no kick). Every ask after the first now costs a line of the
// member's budget: a flood of them is refused, then kicked for flooding,
// and the line it sends after them never reaches the room.
func TestMembersFrameFloodKicked(t *testing.T) {
	h := startHost(t, Config{Limits: wire.Limits{Burst: 10, PerSecond: 2}})
	cy := member(t, h, "cy", dialOptions{})
	mallory := member(t, h, "mallory", dialOptions{})
	cy.nextEvent(wire.KindJoin)

	var flood []byte
	for range 10_000 {
		flood, _ = wire.Append(flood, &wire.Frame{Type: wire.TypeMembers})
	}
	flood, _ = wire.Append(flood, &wire.Frame{Type: wire.TypeSay, Text: "still here"})
	mallory.conn.SetWriteDeadline(time.Now().Add(testDeadline))
	go mallory.conn.Write(flood) // fails once the host closes it: that is the point

	for {
		f, err := mallory.read()
		if err != nil {
			t.Fatalf("mallory's connection ended (%v) without a closed frame", err)
		}
		if f.Type == wire.TypeEvent && f.Kind == wire.KindSay && f.From == "mallory" {
			t.Fatalf("mallory asked for the members 10,000 times and still speaks: %+v", f)
		}
		if f.Type == wire.TypeClosed {
			if f.Code != wire.CodeKicked || f.Text != "flooding" {
				t.Fatalf("mallory was closed with %+v", f)
			}
			break
		}
	}
	if leave := cy.next(); leave.Type != wire.TypeEvent || leave.Kind != wire.KindLeave || leave.Name != "mallory" || leave.Code != wire.CodeKicked {
		t.Fatalf("cy saw %+v; want mallory kicked", leave)
	}
}

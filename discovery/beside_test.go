package discovery

import (
	"encoding/json"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"

	"chatroom/discovery/netns"
)

// Living beside other mDNS responders on one machine: avahi-daemon on most
// Linux desktops, mDNSResponder on every Mac. They all bind port 5353.

// asker is a responder's socket on port 5353 of lo, as avahi's is.
type asker struct {
	conn *net.UDPConn
}

func newAsker(t *testing.T) *asker {
	t.Helper()
	conn, lo := joinGroup(t, "lo", true)
	p := ipv4.NewPacketConn(conn)
	p.SetMulticastInterface(lo)
	p.SetMulticastLoopback(true)
	return &asker{conn: conn}
}

// ask sends a query for rooms from port 5353, without the unicast bit, as
// avahi does when it refreshes what it caches, and asking again a second
// later (as it does too) reports whether the instance's SRV came back
// within three tries.
func (a *asker) ask(t *testing.T, instance string) bool {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(Service+"."+domain, dns.TypePTR)
	q.Id = 0
	q.RecursionDesired = false
	buf, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	in := make([]byte, 9000)
	for try := 0; try < 3; try++ {
		if _, err := a.conn.WriteToUDP(buf, mdnsGroup); err != nil {
			t.Fatal(err)
		}
		a.conn.SetReadDeadline(time.Now().Add(time.Second))
		for {
			n, _, err := a.conn.ReadFromUDP(in)
			var timeout net.Error
			if errors.As(err, &timeout) && timeout.Timeout() {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			m := new(dns.Msg)
			if m.Unpack(in[:n]) != nil || !m.Response {
				continue
			}
			for _, rr := range append(m.Answer, m.Extra...) {
				if srv, ok := rr.(*dns.SRV); ok && strings.HasPrefix(strings.ToLower(srv.Hdr.Name), instance+".") {
					return true
				}
			}
		}
	}
	return false
}

// drain reads what comes to the asker until nothing has for a while.
func (a *asker) drain(quiet time.Duration) {
	in := make([]byte, 9000)
	for {
		a.conn.SetReadDeadline(time.Now().Add(quiet))
		if _, _, err := a.conn.ReadFromUDP(in); err != nil {
			return
		}
	}
}

// What it stands for: avahi started at boot, the room started later, and
// another mDNS program (or the room itself) bound port 5353 after avahi.
// Answers sent by unicast to avahi's port 5353 go to the socket bound
// last, so avahi never hears the room answer its refresh queries and drops
// the live room when its records expire, two minutes after it was seen.
// Every query must be answered where the asker hears it: on the group.
func TestAnswersReachAResponderThatBoundFirst(t *testing.T) {
	netns.Require(t)
	avahi := newAsker(t)
	a := advertise(t, testRoom("Lab 3", "a7a7a70100000000"), onLoopback)
	// Bound last: whatever is unicast to port 5353 reaches this one.
	later := newAsker(t)
	go later.drain(time.Hour)
	// The room's two announcements, a second apart, are not answers.
	time.Sleep(1200 * time.Millisecond)
	avahi.drain(500 * time.Millisecond)
	for round := 1; round <= 3; round++ {
		if !avahi.ask(t, a.Instance()) {
			t.Fatalf("round %d: a responder that bound port 5353 before the room got no answer to its query", round)
		}
	}
}

// The same with python-zeroconf, an independent responder bound to port
// 5353 before the room, with another program bound after it: every round
// of its queries, asked afresh, is answered where it hears, and it takes
// the room's multicast answers (cache-flush bits and all). This one is an
// interoperability check, not the regression test: zeroconf also binds
// port 5353 of the interface's own address, more specific than the
// wildcard, so it heard the old unicast answers too; avahi did not (see
// TestAvahiKeepsTheLiveRoom and TestAnswersReachAResponderThatBoundFirst).
func TestZeroconfBesideResolvesEveryRound(t *testing.T) {
	netns.Require(t)
	room := testRoom("Beside Zeroconf", "2c2c2c0100000000")
	const rounds = 4
	instance := instanceName(room.Name, room.ID)
	lines := script(t, "zeroconf_beside.py", "127.0.0.1", instance, hostName(), strconv.Itoa(rounds))
	next(t, lines, func(e zeroconfEvent) bool { return e.Event == "bound" })
	advertise(t, room, onLoopback)
	later := newAsker(t)
	go later.drain(time.Hour)
	for round := 1; round <= rounds; round++ {
		var e struct {
			Event     string   `json:"event"`
			OK        bool     `json:"ok"`
			Port      int      `json:"port"`
			Addresses []string `json:"addresses"`
		}
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("the zeroconf script ended")
			}
			if err := json.Unmarshal([]byte(line), &e); err != nil || e.Event != "round" {
				t.Fatalf("zeroconf said %q", line)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("zeroconf said nothing")
		}
		if !e.OK || e.Port != room.Port || !slices.Equal(e.Addresses, []string{"127.0.0.1"}) {
			t.Fatalf("round %d: zeroconf, asking afresh, resolved %+v", round, e)
		}
	}
}

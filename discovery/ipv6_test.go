package discovery

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"chatroom/discovery/netns"
)

// An IPv6-only LAN: two machines on a veth with only fd00::/64 addresses
// and their link-local ones (IPv6 multicast never works on lo). What it
// stands for: on such a LAN nothing was advertised at all, and the room
// could only be joined with --addr.

// ipv6Only makes the peer's LAN IPv6-only, and returns the addresses of
// each end.
func ipv6Only(t *testing.T, peer *netns.Peer) (local, remote string) {
	t.Helper()
	n := strings.TrimPrefix(peer.Local, "vl")
	local, remote = "fd00:53:"+n+"::1", "fd00:53:"+n+"::2"
	run(t, "ip", "-4", "addr", "flush", "dev", peer.Local)
	run(t, "ip", "addr", "add", local+"/64", "dev", peer.Local, "nodad")
	run(t, "nsenter", "-t", strconv.Itoa(peer.PID), "-n", "--", "ip", "-4", "addr", "flush", "dev", peer.Remote)
	run(t, "nsenter", "-t", strconv.Itoa(peer.PID), "-n", "--", "ip", "addr", "add", remote+"/64", "dev", peer.Remote, "nodad")
	// Link-local addresses are usable once duplicate address detection
	// has passed, about a second after the link came up.
	for _, side := range [][]string{{"ip"}, {"nsenter", "-t", strconv.Itoa(peer.PID), "-n", "--", "ip"}} {
		dev := peer.Local
		if len(side) > 1 {
			dev = peer.Remote
		}
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			out, err := exec.Command(side[0], append(side[1:], "-6", "addr", "show", "dev", dev)...).CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if strings.Contains(string(out), "fe80::") && !strings.Contains(string(out), "tentative") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no usable link-local address on %s:\n%s", dev, out)
			}
		}
	}
	return local, remote
}

func linkLocalOf(t *testing.T, name string) netip.Addr {
	t.Helper()
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		t.Fatal(err)
	}
	addrs, _ := ifc.Addrs()
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.(*net.IPNet).IP); ok && ip.Is6() && ip.IsLinkLocalUnicast() {
			return ip
		}
	}
	t.Fatalf("no link-local address on %s", name)
	return netip.Addr{}
}

// seen6 is what the peer saw of the room over IPv6.
type seen6 struct {
	AAAA, TXTAddrs []string
	Port           int
	Multicast      bool              // a query from port 5353 was answered on the group
	Dialed         map[string]string // address (with zone) -> "ok" or the error
	Err            string
}

// TestPeerQueryIPv6 is the peer's side of TestIPv6OnlyLAN: it asks for
// rooms over IPv6 alone, as a one-shot querier (answered by unicast) and
// as a responder on port 5353 (answered on the group), and connects to
// every AAAA address, link-local ones on the interface the answer came in
// on.
func TestPeerQueryIPv6(t *testing.T) {
	name := os.Getenv("CHATROOM_TEST_PEER_IFACE6")
	if !netns.InPeer() || name == "" {
		t.Skip("runs in a peer namespace, for TestIPv6OnlyLAN")
	}
	var s seen6
	if err := queryIPv6(name, &s); err != nil {
		s.Err = err.Error()
	}
	js, _ := json.Marshal(s)
	fmt.Printf("SEEN6 %s\n", js)
}

func queryIPv6(name string, s *seen6) error {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return err
	}
	group := &net.UDPAddr{IP: mdnsGroup6.IP, Port: mdnsPort, Zone: name}
	q := new(dns.Msg)
	q.SetQuestion(Service+"."+domain, dns.TypePTR)
	q.RecursionDesired = false
	buf, _ := q.Pack()

	// A one-shot querier, on a port of its own.
	oneShot, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6unspecified})
	if err != nil {
		return err
	}
	defer oneShot.Close()
	if _, err := oneShot.WriteToUDP(buf, group); err != nil {
		return err
	}
	for _, m := range readAnswers(oneShot, time.Second) {
		for _, rr := range append(m.Answer, m.Extra...) {
			switch rr := rr.(type) {
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(rr.AAAA); ok && !slices.Contains(s.AAAA, a.String()) {
					s.AAAA = append(s.AAAA, a.String())
				}
			case *dns.SRV:
				s.Port = int(rr.Port)
			case *dns.TXT:
				if room, ok := roomFromTXT(rr.Txt); ok {
					s.TXTAddrs = nil
					for _, a := range room.Addrs {
						s.TXTAddrs = append(s.TXTAddrs, a.String())
					}
				}
			}
		}
	}

	// A responder, on port 5353: answered on the group.
	responder, err := net.ListenMulticastUDP("udp6", ifc, mdnsGroup6)
	if err != nil {
		return err
	}
	defer responder.Close()
	for try := 0; try < 3 && !s.Multicast; try++ {
		q.Id = 0
		buf, _ = q.Pack()
		if _, err := responder.WriteToUDP(buf, group); err != nil {
			return err
		}
		for _, m := range readAnswers(responder, time.Second) {
			s.Multicast = s.Multicast || len(m.Answer) > 0
		}
	}

	s.Dialed = map[string]string{}
	for _, a := range s.AAAA {
		addr := netip.MustParseAddr(a)
		if addr.IsLinkLocalUnicast() {
			addr = addr.WithZone(name)
		}
		s.Dialed[addr.String()] = dialRoom(netip.AddrPortFrom(addr, uint16(s.Port)).String())
	}
	return nil
}

// readAnswers reads responses on conn for d.
func readAnswers(conn *net.UDPConn, d time.Duration) []*dns.Msg {
	var msgs []*dns.Msg
	in := make([]byte, 9000)
	conn.SetReadDeadline(time.Now().Add(d))
	for {
		n, _, err := conn.ReadFromUDP(in)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || err != nil {
			return msgs
		}
		m := new(dns.Msg)
		if m.Unpack(in[:n]) == nil && m.Response {
			msgs = append(msgs, m)
		}
	}
}

func TestIPv6OnlyLAN(t *testing.T) {
	peer := netns.NewPeer(t)
	local, _ := ipv6Only(t, peer)
	linkLocal := linkLocalOf(t, peer.Local)
	room := testRoom("Lab 6", "1b6b6b0100000000")
	room.Port = fakeRoom(t, "tcp6", "[::]:0")
	a := advertise(t, room, Options{})
	if got := a.Interfaces(); !slices.Equal(got, []string{peer.Local}) {
		t.Fatalf("advertised on %v, want %s", got, peer.Local)
	}
	want := []string{local, linkLocal.String()}

	cmd := peer.Command(os.Args[0], "-test.run=^TestPeerQueryIPv6$", "-test.count=1")
	cmd.Env = append(cmd.Env, "CHATROOM_TEST_PEER_IFACE6="+peer.Remote)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("querying from the peer: %v\n%s", err, out)
	}
	var s seen6
	for _, line := range strings.Split(string(out), "\n") {
		if js, ok := strings.CutPrefix(line, "SEEN6 "); ok {
			if err := json.Unmarshal([]byte(js), &s); err != nil {
				t.Fatal(err)
			}
		}
	}
	if s.Err != "" {
		t.Fatalf("the peer: %s", s.Err)
	}
	if !slices.Equal(s.AAAA, want) || !slices.Equal(s.TXTAddrs, want) || s.Port != room.Port {
		t.Fatalf("the peer saw AAAA %v, TXT addrs %v, port %d; want %v, port %d", s.AAAA, s.TXTAddrs, s.Port, want, room.Port)
	}
	if !s.Multicast {
		t.Fatal("a query from port 5353 over IPv6 was not answered on the group")
	}
	for _, addr := range []string{local, linkLocal.WithZone(peer.Remote).String()} {
		if s.Dialed[addr] != "ok" {
			t.Fatalf("the peer could not reach the room at %s: %s (all: %v)", addr, s.Dialed[addr], s.Dialed)
		}
	}

	// The goodbye is said over IPv6 too, or IPv6 browsers (avahi) keep the
	// closed room for two minutes.
	listener, _ := joinGroup(t, peer.Local, false)
	a.Close()
	for _, m := range readAnswers(listener, 3*time.Second) {
		if len(m.Answer) > 0 && !slices.ContainsFunc(m.Answer, func(rr dns.RR) bool { return rr.Header().Ttl != 0 }) {
			return
		}
	}
	t.Fatal("no goodbye over IPv6")
}

// The TXT record holds IPv6 addresses within its 255-byte strings however
// many there are, and they come back in order.
func TestTXTWithManyIPv6Addresses(t *testing.T) {
	room := testRoom("Lab 6", "1b6b6b0200000000")
	for i := range 40 {
		room.Addrs = append(room.Addrs, netip.MustParseAddr(fmt.Sprintf("2001:db8:ffff:ffff:ffff:ffff:ffff:%x", 0xff00+i)))
	}
	txt := encodeTXT(room)
	for _, s := range txt {
		if len(s) > maxTXTString {
			t.Fatalf("a TXT string of %d bytes", len(s))
		}
	}
	got, ok := roomFromTXT(throughDNS(t, txt))
	if !ok || len(got.Addrs) < 5 || !slices.Equal(got.Addrs, room.Addrs[:len(got.Addrs)]) {
		t.Fatalf("read back %v", got.Addrs)
	}
}

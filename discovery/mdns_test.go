package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"chatroom/discovery/netns"
)

// These tests multicast for real, so they run in a network namespace of
// their own (see package netns): loopback only, plus veth pairs they make.
// Nothing they send can reach a real network.

func TestMain(m *testing.M) {
	os.Exit(netns.Main(m))
}

var onLoopback = Options{Interfaces: []string{"lo"}}

func testRoom(name, id string) Room {
	return Room{ID: id, Name: name, Fingerprint: "SHA256:" + strings.Repeat("A", 43), Version: 1, Port: 7465}
}

func advertise(t *testing.T, room Room, opts Options) *Advertiser {
	t.Helper()
	a, err := Advertise(room, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func browse(t *testing.T, opts Options) []Room {
	t.Helper()
	rooms, err := Browse(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return rooms
}

func TestAdvertiseAndBrowse(t *testing.T) {
	netns.Require(t)
	want := testRoom("Lab 3", "3f9a2c71d0e4b5a6")
	a := advertise(t, want, onLoopback)

	rooms := browse(t, onLoopback)
	if len(rooms) != 1 {
		t.Fatalf("found %d rooms: %+v", len(rooms), rooms)
	}
	got := rooms[0]
	if got.ID != want.ID || got.Name != want.Name || got.Fingerprint != want.Fingerprint || got.Version != 1 || got.Port != 7465 {
		t.Errorf("found %+v, advertised %+v", got, want)
	}
	if got.Instance != a.Instance() || got.Instance != "lab-3-3f9a2c" || !strings.HasSuffix(got.Host, ".local.") {
		t.Errorf("instance %q host %q", got.Instance, got.Host)
	}
	if !slices.Equal(got.Addrs, []netip.Addr{netip.MustParseAddr("127.0.0.1")}) || !slices.Equal(got.Ifaces, []string{"lo"}) {
		t.Errorf("addrs %v ifaces %v", got.Addrs, got.Ifaces)
	}
}

// Two rooms with one display name are two rooms, told apart by id.
func TestTwoRoomsOneName(t *testing.T) {
	netns.Require(t)
	advertise(t, testRoom("Lab 3", "aaaaaa1100000000"), onLoopback)
	advertise(t, testRoom("lab 3", "bbbbbb2200000000"), onLoopback)
	advertise(t, testRoom("Kitchen", "cccccc3300000000"), onLoopback)
	rooms := browse(t, onLoopback)
	var ids []string
	for _, r := range rooms {
		ids = append(ids, r.Name+"/"+r.ID)
	}
	if want := []string{"Kitchen/cccccc3300000000", "Lab 3/aaaaaa1100000000", "lab 3/bbbbbb2200000000"}; !slices.Equal(ids, want) {
		t.Fatalf("found %v, want %v", ids, want)
	}
}

// A room whose name fills every byte a TXT string may hold is still found.
func TestLongRoomName(t *testing.T) {
	netns.Require(t)
	name := strings.Repeat("𝄞", 64)
	advertise(t, testRoom(name, "dddddd4400000000"), onLoopback)
	rooms := browse(t, onLoopback)
	if len(rooms) != 1 || !strings.HasPrefix(name, rooms[0].Name) || len(rooms[0].Name) < 240 {
		t.Fatalf("found %+v", rooms)
	}
}

// No room: Browse answers with nothing, in bounded time, without error.
func TestBrowseFindsNothing(t *testing.T) {
	netns.Require(t)
	if rooms := browse(t, onLoopback); len(rooms) != 0 {
		t.Fatalf("found %+v in an empty namespace", rooms)
	}
}

// joinGroup returns a socket that is a member of the mDNS group of the
// family v4 says on the interface called name, closed when the test ends.
func joinGroup(t *testing.T, name string, v4 bool) (*net.UDPConn, *net.Interface) {
	t.Helper()
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		t.Fatal(err)
	}
	network, group := "udp4", mdnsGroup
	if !v4 {
		network, group = "udp6", mdnsGroup6
	}
	conn, err := net.ListenMulticastUDP(network, ifc, group)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, ifc
}

// listenGroup records what is multicast to the mDNS group on lo.
func listenGroup(t *testing.T) <-chan *dns.Msg {
	t.Helper()
	conn, _ := joinGroup(t, "lo", true)
	msgs := make(chan *dns.Msg, 64)
	go func() {
		buf := make([]byte, 9000)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				close(msgs)
				return
			}
			m := new(dns.Msg)
			if m.Unpack(buf[:n]) == nil && m.Response {
				msgs <- m
			}
		}
	}()
	return msgs
}

// waitForRecords waits for a response that carries the instance's SRV
// record, and returns the TTL of its records.
func waitForRecords(t *testing.T, msgs <-chan *dns.Msg, instance string) []uint32 {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatal("listener closed")
			}
			var ttls []uint32
			srv := false
			for _, rr := range m.Answer {
				ttls = append(ttls, rr.Header().Ttl)
				if s, ok := rr.(*dns.SRV); ok && strings.HasPrefix(s.Hdr.Name, instance+".") {
					srv = true
				}
			}
			if srv {
				return ttls
			}
		case <-timeout:
			t.Fatalf("no announcement of %s", instance)
		}
	}
}

// The room announces itself when it starts (twice, as RFC 6762 asks), and
// says goodbye, its records with a TTL of 0, when it closes, so that
// browsers that cache it drop it at once.
func TestAnnounceAndGoodbye(t *testing.T) {
	netns.Require(t)
	msgs := listenGroup(t)
	a, err := Advertise(testRoom("Lab 3", "eeeeee5500000000"), onLoopback)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		for _, ttl := range waitForRecords(t, msgs, a.Instance()) {
			if ttl != recordTTL {
				t.Fatalf("announcement %d has TTL %d", i+1, ttl)
			}
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	ttls := waitForRecords(t, msgs, a.Instance())
	if len(ttls) < 4 { // PTR, SRV, A, TXT
		t.Fatalf("goodbye carries %d records", len(ttls))
	}
	for _, ttl := range ttls {
		if ttl != 0 {
			t.Fatalf("goodbye has a record with TTL %d", ttl)
		}
	}
	if rooms := browse(t, onLoopback); len(rooms) != 0 {
		t.Fatalf("a closed room still answers: %+v", rooms)
	}
}

func TestNamedInterfaceErrors(t *testing.T) {
	netns.Require(t)
	if _, err := Browse(context.Background(), Options{Interfaces: []string{"nosuch0"}}); err == nil || !strings.Contains(err.Error(), `no network interface called "nosuch0"`) {
		t.Fatalf("got %v", err)
	}
	// Only lo here, which is not chosen unless named.
	if _, err := Browse(context.Background(), Options{}); err != ErrNoInterface {
		t.Fatalf("got %v, want ErrNoInterface", err)
	}
	// A room bound to 127.0.0.1 is advertised only where that address is,
	// and only if loopback is named.
	if _, err := Advertise(testRoom("x", "ffffff6600000000"), Options{Bind: netip.MustParseAddr("127.0.0.1")}); err != ErrNoInterface {
		t.Fatalf("got %v, want ErrNoInterface", err)
	}
}

// Two machines on one LAN: the room is advertised here, on the veth (the
// interface chosen by default), and found from the peer namespace.
func TestTwoMachines(t *testing.T) {
	peer := netns.NewPeer(t)
	room := testRoom("Lab 3", "0123456789abcdef")
	advertise(t, room, Options{})

	rooms := browseFromPeer(t, peer)
	if len(rooms) != 1 || rooms[0].ID != room.ID {
		t.Fatalf("the peer found %+v", rooms)
	}
	// The veth's IPv6 link-local address may be advertised too (once it
	// exists), after the IPv4 one; no loopback address may be.
	ipv4 := slices.DeleteFunc(slices.Clone(rooms[0].Addrs), func(a netip.Addr) bool { return a.Is6() && a.IsLinkLocalUnicast() })
	if want := []netip.Addr{netip.MustParseAddr(peer.LocalAddr)}; !slices.Equal(ipv4, want) {
		t.Fatalf("addresses %v, want %v and perhaps a link-local IPv6 one (the loopback one must not be advertised)", rooms[0].Addrs, want)
	}
}

// browseFromPeer runs TestPeerBrowse, in the peer namespace, and returns
// what it found.
func browseFromPeer(t *testing.T, peer *netns.Peer) []Room {
	t.Helper()
	cmd := peer.Command(os.Args[0], "-test.run=^TestPeerBrowse$", "-test.count=1")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("browsing from the peer: %v\n%s\n%s", err, out, stderr)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if js, ok := strings.CutPrefix(line, "ROOMS "); ok {
			var rooms []Room
			if err := json.Unmarshal([]byte(js), &rooms); err != nil {
				t.Fatal(err)
			}
			return rooms
		}
	}
	t.Fatalf("no result from the peer:\n%s", out)
	return nil
}

// TestPeerBrowse is the peer's side of TestTwoMachines; elsewhere it does
// nothing.
func TestPeerBrowse(t *testing.T) {
	if !netns.InPeer() {
		t.Skip("runs in a peer namespace, for TestTwoMachines")
	}
	rooms := browse(t, Options{})
	js, err := json.Marshal(rooms)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("ROOMS %s\n", js)
}

// BenchmarkBrowse measures what a person waits for: from the start of a
// browse to the list of rooms, with one room on the network. Run:
//
//	go test -run '^$' -bench Browse -benchtime 20x ./discovery/
func BenchmarkBrowse(b *testing.B) {
	netns.Require(b)
	a, err := Advertise(testRoom("Lab 3", "be0c0123456789ab"), onLoopback)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		rooms, err := Browse(context.Background(), onLoopback)
		if err != nil || len(rooms) != 1 {
			b.Fatalf("found %v, %v", rooms, err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
}

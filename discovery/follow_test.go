package discovery

import (
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

// The advertisement follows the network: two machines on a veth, and the
// room's machine changes address, gains an interface, or gets its first
// address while the room is up. What each stands for: a laptop whose DHCP
// lease is renewed to another address, or that roams or is docked, and a
// host started at boot before the network was up; the room was listed at
// an address it no longer had (join failed with "no route to host"), or
// never listed at all.

// fakeRoom listens on every address of this namespace, as a host does,
// and greets whoever connects, so that the peer can tell it reached it.
func fakeRoom(t *testing.T, network, addr string) int {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("room\n"))
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// changes collects what the Advertiser says changed.
func changes(opts *Options) <-chan Change {
	ch := make(chan Change, 64)
	opts.OnChange = func(c Change) {
		select {
		case ch <- c:
		default:
		}
	}
	return ch
}

// waitChange waits for a change that says want.
func waitChange(t *testing.T, ch <-chan Change, want string) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	var seen []string
	for {
		select {
		case c := <-ch:
			if c.String() == want {
				return
			}
			seen = append(seen, c.String())
		case <-deadline:
			t.Fatalf("the advertiser did not say %q (it said %q)", want, seen)
		}
	}
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%v: %v: %s", args, err, out)
	}
}

// peerFound is what the peer found and reached.
type peerFound struct {
	Rooms  []Room
	Dialed map[string]string // address -> "ok" or the error
}

// browseAndDialFromPeer runs TestPeerBrowseAndDial in the peer namespace.
func browseAndDialFromPeer(t *testing.T, peer *netns.Peer) peerFound {
	t.Helper()
	cmd := peer.Command(os.Args[0], "-test.run=^TestPeerBrowseAndDial$", "-test.count=1")
	cmd.Env = append(cmd.Env, "CHATROOM_TEST_PEER_DIAL=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("browsing from the peer: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if js, ok := strings.CutPrefix(line, "FOUND "); ok {
			var f peerFound
			if err := json.Unmarshal([]byte(js), &f); err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no result from the peer:\n%s", out)
	return peerFound{}
}

// TestPeerBrowseAndDial is the peer's side of the tests in this file: it
// browses, and connects to every address of every room it found.
func TestPeerBrowseAndDial(t *testing.T) {
	if !netns.InPeer() || os.Getenv("CHATROOM_TEST_PEER_DIAL") == "" {
		t.Skip("runs in a peer namespace, for the tests of follow_test.go")
	}
	f := peerFound{Rooms: browse(t, Options{}), Dialed: map[string]string{}}
	for _, r := range f.Rooms {
		for _, a := range r.Addrs {
			f.Dialed[a.String()] = dialRoom(netip.AddrPortFrom(a, uint16(r.Port)).String())
		}
	}
	js, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("FOUND %s\n", js)
}

// dialRoom connects to a fakeRoom and reads its greeting: "ok", or what
// went wrong.
func dialRoom(addr string) string {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 5)
	if _, err := c.Read(buf); err != nil || string(buf) != "room\n" {
		return fmt.Sprintf("read %q, %v", buf, err)
	}
	return "ok"
}

func wantFound(t *testing.T, f peerFound, id string, addrs ...string) {
	t.Helper()
	if len(f.Rooms) != 1 || f.Rooms[0].ID != id {
		t.Fatalf("the peer found %+v", f.Rooms)
	}
	var got []string
	for _, a := range f.Rooms[0].Addrs {
		got = append(got, a.String())
	}
	if !slices.Equal(got, addrs) {
		t.Fatalf("the peer found the room at %v, want %v", got, addrs)
	}
	for _, a := range addrs {
		if f.Dialed[a] != "ok" {
			t.Fatalf("the peer could not reach the room at %s: %s", a, f.Dialed[a])
		}
	}
}

// An address changed while the room is up (a DHCP renewal): the peer
// finds the room at the new address alone, and reaches it there.
func TestAddressChangeFollowed(t *testing.T) {
	peer := netns.NewPeer(t)
	room := testRoom("Lab 3", "f0110e0100000000")
	room.Port = fakeRoom(t, "tcp4", "0.0.0.0:0")
	opts := Options{Bind: netip.IPv4Unspecified()}
	ch := changes(&opts)
	advertise(t, room, opts)
	wantFound(t, browseAndDialFromPeer(t, peer), room.ID, peer.LocalAddr)

	// What is multicast on the veth, to see the goodbye for the old
	// address, which browsers that cache (avahi, Bonjour) need to forget
	// it now rather than in two minutes.
	group, _ := joinGroup(t, peer.Local, true)
	goodbye := make(chan bool, 1)
	go func() {
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
			for _, m := range readAnswers(group, time.Second) {
				for _, rr := range m.Answer {
					if a, ok := rr.(*dns.A); ok && a.A.String() == peer.LocalAddr && a.Hdr.Ttl == 0 {
						goodbye <- true
						return
					}
				}
			}
		}
		goodbye <- false
	}()

	renewed := strings.TrimSuffix(peer.LocalAddr, ".1") + ".7"
	run(t, "ip", "addr", "del", peer.LocalAddr+"/24", "dev", peer.Local)
	run(t, "ip", "addr", "add", renewed+"/24", "dev", peer.Local)
	// The two steps may be seen apart or together.
	deadline := time.Now().Add(15 * time.Second)
	for {
		f := browseAndDialFromPeer(t, peer)
		if len(f.Rooms) == 1 && len(f.Rooms[0].Addrs) == 1 && f.Rooms[0].Addrs[0].String() == renewed {
			wantFound(t, f, room.ID, renewed)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the peer still finds %+v after the address changed", f.Rooms)
		}
	}
	drainSays(t, ch, "now advertised on "+peer.Local+" ("+renewed+")", "now advertised on "+peer.Local+" at "+renewed+", no longer at "+peer.LocalAddr)
	if !<-goodbye {
		t.Fatalf("no goodbye (TTL 0) for the old address %s", peer.LocalAddr)
	}
}

// drainSays checks that one of wants was said among the changes so far.
func drainSays(t *testing.T, ch <-chan Change, wants ...string) {
	t.Helper()
	var seen []string
	for {
		select {
		case c := <-ch:
			if slices.Contains(wants, c.String()) {
				return
			}
			seen = append(seen, c.String())
		default:
			t.Fatalf("the advertiser said %q, none of %q", seen, wants)
		}
	}
}

// waitForOnlyLoopback waits for the veths of earlier tests to go: the
// kernel removes a namespace, and its end of a veth pair with it, a little
// after its last process has ended.
func waitForOnlyLoopback(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ifcs, err := net.Interfaces()
		if err != nil {
			t.Fatal(err)
		}
		if len(ifcs) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("interfaces left by earlier tests: %v", ifcs)
		}
	}
}

// An interface that appears after the room started (a dock, a USB
// adapter, a VPN) is advertised on, "within a couple of seconds" as the
// issue asks: here at most 3 s after it is up with its address (the
// advertiser looks every pollInterval, 1 s; about 1 s was measured), a
// bound kept generous for a loaded machine.
func TestLateInterfaceAdvertised(t *testing.T) {
	netns.Require(t)
	waitForOnlyLoopback(t)
	room := testRoom("Lab 3", "1a7e1f0100000000")
	room.Port = fakeRoom(t, "tcp4", "0.0.0.0:0")
	opts := Options{Bind: netip.IPv4Unspecified()}
	ch := changes(&opts)
	a := advertise(t, room, opts) // only lo here, which is not chosen
	if ifcs := a.Interfaces(); len(ifcs) != 0 {
		t.Fatalf("advertised on %v in a namespace with only lo", ifcs)
	}
	peer := netns.NewPeer(t)
	up := time.Now()
	waitChange(t, ch, "now advertised on "+peer.Local+" ("+peer.LocalAddr+")")
	took := time.Since(up)
	if took > 3*time.Second {
		t.Fatalf("advertised on the new interface %v after it came up, not within a couple of seconds", took.Round(10*time.Millisecond))
	}
	t.Logf("advertised on the new interface %v after it came up", took.Round(10*time.Millisecond))
	wantFound(t, browseAndDialFromPeer(t, peer), room.ID, peer.LocalAddr)
}

// A host started before its interface had an address (at boot, before
// DHCP answered) is advertised once it has one; and no longer once it has
// lost it.
func TestAdvertisedOnceAddressed(t *testing.T) {
	peer := netns.NewPeer(t)
	run(t, "ip", "addr", "del", peer.LocalAddr+"/24", "dev", peer.Local)
	room := testRoom("Lab 3", "b0070f0100000000")
	room.Port = fakeRoom(t, "tcp4", "0.0.0.0:0")
	opts := Options{Bind: netip.IPv4Unspecified()}
	ch := changes(&opts)
	a := advertise(t, room, opts)
	if ifcs := a.Interfaces(); len(ifcs) != 0 {
		t.Fatalf("advertised on %v with no address", ifcs)
	}
	if f := browseAndDialFromPeer(t, peer); len(f.Rooms) != 0 {
		t.Fatalf("the peer found %+v", f.Rooms)
	}
	run(t, "ip", "addr", "add", peer.LocalAddr+"/24", "dev", peer.Local)
	waitChange(t, ch, "now advertised on "+peer.Local+" ("+peer.LocalAddr+")")
	wantFound(t, browseAndDialFromPeer(t, peer), room.ID, peer.LocalAddr)
	if got := a.Interfaces(); !slices.Equal(got, []string{peer.Local}) {
		t.Fatalf("Interfaces() = %v", got)
	}

	run(t, "ip", "link", "set", peer.Local, "down")
	waitChange(t, ch, "no longer advertised on "+peer.Local+" ("+peer.LocalAddr+")")
}

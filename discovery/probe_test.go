package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"chatroom/discovery/netns"
)

func loopback(t *testing.T) net.Interface {
	t.Helper()
	ifc, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	return *ifc
}

// Probe, which chatroom doctor sends, sees every responder on the link
// and what it offers: a room of ours, and an independent responder
// (python-zeroconf) registering a room beside it on port 5353.
func TestProbeSeesResponders(t *testing.T) {
	netns.Require(t)
	lines := script(t, "zeroconf_register.py", "127.0.0.1")
	select {
	case line := <-lines:
		if line != "registered" {
			t.Fatalf("zeroconf said %q", line)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("zeroconf did not register")
	}
	a := advertise(t, testRoom("Lab 3", "3f9a2c71d0e4b5a6"), onLoopback)

	found, err := Probe(context.Background(), loopback(t), false, 700*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// Both answer from this machine's loopback address: one responder,
	// as far as the link can tell, that names two hosts.
	if len(found) != 1 || found[0].From.String() != "127.0.0.1" || found[0].Iface != "lo" {
		t.Fatalf("found %+v", found)
	}
	r := found[0]
	for _, want := range []string{a.Instance(), "Zeroconf Room"} {
		if !slices.Contains(r.Instances, want) {
			t.Errorf("instances %q lack %q", r.Instances, want)
		}
	}
	if !slices.Contains(r.Hosts, "zc-host.local.") || !slices.Contains(r.Hosts, hostName()) {
		t.Errorf("hosts %q", r.Hosts)
	}
	if !slices.Contains(r.Services, Service) {
		t.Errorf("services %q", r.Services)
	}
}

// A program that holds UDP 5353 without letting others share it leaves
// chatroom out of mDNS altogether: Probe says so in a way doctor can tell
// from other failures.
func TestProbePortHeldAlone(t *testing.T) {
	netns.Require(t)
	// net.ListenUDP sets no SO_REUSEADDR: the port is this socket's alone.
	alone, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero, Port: 5353})
	if err != nil {
		t.Skipf("cannot hold port 5353 for the test: %v", err)
	}
	defer alone.Close()
	_, err = Probe(context.Background(), loopback(t), false, 200*time.Millisecond)
	if !errors.Is(err, ErrPortHeld) {
		t.Fatalf("probe beside a socket holding 5353 alone: %v", err)
	}
}

// Nothing answers: no responders, and no error.
func TestProbeSilence(t *testing.T) {
	netns.Require(t)
	found, err := Probe(context.Background(), loopback(t), false, 200*time.Millisecond)
	if err != nil || len(found) != 0 {
		t.Fatalf("found %+v, %v", found, err)
	}
}

// A responder that answers with a flood of records is kept to a bounded
// summary: the doctor's report stays readable, and its memory small.
func TestResponderBounded(t *testing.T) {
	var r Responder
	msg := new(dns.Msg)
	for i := range 1000 {
		msg.Answer = append(msg.Answer, &dns.PTR{
			Hdr: dns.RR_Header{Name: probeQuestions[0].Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 120},
			Ptr: fmt.Sprintf("_s%d._tcp.local.", i),
		}, &dns.A{Hdr: dns.RR_Header{Name: fmt.Sprintf("h%d.local.", i), Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 120}, A: net.IPv4(10, 0, 0, 1)})
	}
	r.add(msg)
	if len(r.Services) != maxProbeNames || len(r.Hosts) != maxProbeNames {
		t.Errorf("kept %d services and %d hosts", len(r.Services), len(r.Hosts))
	}
}

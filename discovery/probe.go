package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Responder is an mDNS responder that answered a [Probe]: a room, or any
// other program that speaks mDNS on the link (avahi-daemon, mDNSResponder,
// a printer).
type Responder struct {
	From      netip.Addr // where its answers came from
	Iface     string
	Hosts     []string // host names its address records name
	Services  []string // service types it offers ("_ssh._tcp")
	Instances []string // the rooms it answered with, as instance names
}

// Anyone on the link can answer a probe, with as many records as fit:
// what is kept of the answers is bounded.
const (
	maxResponders = 64 // per interface and family
	maxProbeNames = 16 // hosts, services, rooms: each, per responder
)

// ErrPortHeld means another program holds UDP port 5353 alone, without
// letting others share it: nothing beside it can take part in mDNS.
var ErrPortHeld = errors.New("UDP port 5353 is held by another program that does not share it")

// probeQuestions ask for the service types every responder offers (DNS-SD
// service enumeration, RFC 6763 section 9), so that any responder answers,
// and for rooms.
var probeQuestions = []dns.Question{
	{Name: "_services._dns-sd._udp." + domain, Qtype: dns.TypePTR, Qclass: dns.ClassINET},
	{Name: Service + "." + domain, Qtype: dns.TypePTR, Qclass: dns.ClassINET},
}

// Probe asks who speaks mDNS on ifc, over IPv4 (ipv6 false) or IPv6, and
// returns who answered within wait. The query is sent twice, as Browse
// does, from port 5353 like any responder's, so that answers sent by
// multicast and answers sent back to the asker's port 5353 both reach it.
// An error wrapping [ErrPortHeld] means that port could not be shared.
// IPv6 multicast never works on loopback.
func Probe(ctx context.Context, ifc net.Interface, overIPv6 bool, wait time.Duration) ([]Responder, error) {
	network, group := "udp4", mdnsGroup
	if overIPv6 {
		network, group = "udp6", mdnsGroup6
	}
	found, err := probe(ctx, ifc, network, group, wait)
	slices.SortFunc(found, func(a, b Responder) int { return a.From.Compare(b.From) })
	return found, err
}

func probe(ctx context.Context, ifc net.Interface, network string, group *net.UDPAddr, wait time.Duration) ([]Responder, error) {
	family := "IPv4"
	if network == "udp6" {
		family = "IPv6"
	}
	fail := func(what string, err error) ([]Responder, error) {
		return nil, fmt.Errorf("%s over %s on %s: %w", what, family, ifc.Name, err)
	}
	// Two queries: one from port 5353, whose answers come by multicast or
	// back to port 5353, and one from a port of its own (a "legacy" query,
	// RFC 6762 6.7), which every responder answers straight back to that
	// port: on a machine where several programs share port 5353, an answer
	// sent back to it reaches only one of them, maybe not this one.
	shared, err := net.ListenMulticastUDP(network, &ifc, group)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fail("probing", ErrPortHeld)
	}
	if err != nil {
		return fail("probing", err)
	}
	defer shared.Close()
	own, err := net.ListenUDP(network, nil)
	if err != nil {
		return fail("probing", err)
	}
	defer own.Close()
	var src net.IP // the interface's own address, not 0.0.0.0 (which lo gives)
	if addrs, err := ifc.Addrs(); err == nil && network == "udp4" {
		for _, a := range addrs {
			if ipnet, ok := a.(*net.IPNet); ok && ipnet.IP.To4() != nil {
				src = ipnet.IP.To4()
				break
			}
		}
	}
	var writers []func([]byte, *net.UDPAddr) error
	for _, conn := range []*net.UDPConn{shared, own} {
		if network == "udp4" {
			p := ipv4.NewPacketConn(conn)
			p.SetMulticastInterface(&ifc)
			p.SetMulticastTTL(255)
			p.SetMulticastLoopback(true) // rooms on this machine answer too
			writers = append(writers, func(b []byte, dst *net.UDPAddr) error {
				_, err := p.WriteTo(b, &ipv4.ControlMessage{IfIndex: ifc.Index, Src: src}, dst)
				return err
			})
		} else {
			p := ipv6.NewPacketConn(conn)
			p.SetMulticastInterface(&ifc)
			p.SetMulticastHopLimit(255)
			p.SetMulticastLoopback(true)
			writers = append(writers, func(b []byte, dst *net.UDPAddr) error {
				_, err := p.WriteTo(b, &ipv6.ControlMessage{IfIndex: ifc.Index}, dst)
				return err
			})
		}
	}
	multicastQuery, err := (&dns.Msg{Question: probeQuestions}).Pack()
	if err != nil {
		return nil, err
	}
	legacy := &dns.Msg{Question: probeQuestions}
	legacy.Id = dns.Id()
	legacyQuery, err := legacy.Pack()
	if err != nil {
		return nil, err
	}
	dst := *group
	if network == "udp6" {
		dst.Zone = ifc.Name
	}
	send := func() error {
		return errors.Join(writers[0](multicastQuery, &dst), writers[1](legacyQuery, &dst))
	}
	if err := send(); err != nil {
		return fail("sending a query", err)
	}

	var mu sync.Mutex
	byAddr := make(map[netip.Addr]*Responder)
	deadline := time.Now().Add(wait)
	var wg sync.WaitGroup
	for _, conn := range []*net.UDPConn{shared, own} {
		wg.Go(func() {
			packet := make([]byte, 9000)
			conn.SetReadDeadline(deadline)
			for ctx.Err() == nil {
				n, from, err := conn.ReadFromUDPAddrPort(packet)
				if err != nil {
					return // the deadline
				}
				var msg dns.Msg
				if msg.Unpack(packet[:n]) != nil || !msg.Response {
					continue // a query: ours, looped back, or another asker's
				}
				addr := from.Addr().Unmap()
				switch {
				case addr == netip.IPv4Unspecified():
					// Only this machine sends from no address, on
					// loopback (as the probe itself would without src).
					addr = netip.AddrFrom4([4]byte{127, 0, 0, 1})
				case addr == netip.IPv6Unspecified():
					addr = netip.IPv6Loopback()
				case addr.Is6() && addr.IsLinkLocalUnicast():
					addr = addr.WithZone(ifc.Name)
				}
				mu.Lock()
				r := byAddr[addr]
				if r == nil && len(byAddr) >= maxResponders {
					mu.Unlock()
					continue
				}
				if r == nil {
					r = &Responder{From: addr, Iface: ifc.Name}
					byAddr[addr] = r
				}
				r.add(&msg)
				mu.Unlock()
			}
		})
	}
	// Once more, as Browse does: a query lost on Wi-Fi is not the end.
	select {
	case <-time.After(retryAt[1]):
		send()
	case <-ctx.Done():
	}
	wg.Wait()
	found := make([]Responder, 0, len(byAddr))
	for _, r := range byAddr {
		found = append(found, *r)
	}
	return found, nil
}

// add notes what a response says about its responder.
func (r *Responder) add(msg *dns.Msg) {
	records := append(slices.Clone(msg.Answer), msg.Extra...)
	addOnce := func(list *[]string, s string) {
		if s != "" && len(*list) < maxProbeNames && !slices.Contains(*list, s) {
			*list = append(*list, s)
		}
	}
	for _, rr := range records {
		switch rr := rr.(type) {
		case *dns.A:
			addOnce(&r.Hosts, rr.Hdr.Name)
		case *dns.AAAA:
			addOnce(&r.Hosts, rr.Hdr.Name)
		case *dns.SRV:
			addOnce(&r.Hosts, rr.Target)
		case *dns.PTR:
			switch {
			case strings.EqualFold(rr.Hdr.Name, probeQuestions[0].Name):
				addOnce(&r.Services, strings.TrimSuffix(rr.Ptr, "."+domain))
			case strings.EqualFold(rr.Hdr.Name, probeQuestions[1].Name) && len(rr.Ptr) > len(serviceSuffix):
				addOnce(&r.Services, Service)
				addOnce(&r.Instances, unescapeDNS(rr.Ptr[:len(rr.Ptr)-len(serviceSuffix)]))
			}
		}
	}
}

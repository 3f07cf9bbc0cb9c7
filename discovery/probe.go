package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
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

// ErrPortHeld means another program holds UDP port 5353 alone, without
// letting others share it: nothing beside it can take part in mDNS.
var ErrPortHeld = errors.New("UDP port 5353 is held by another program that does not share it")

// mdnsGroup6 is where mDNS is sent over IPv6 (RFC 6762).
var mdnsGroup6 = &net.UDPAddr{IP: net.ParseIP("ff02::fb"), Port: 5353}

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
	conn, err := net.ListenMulticastUDP(network, &ifc, group)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("probing over %s on %s: %w", family, ifc.Name, ErrPortHeld)
	}
	if err != nil {
		return nil, fmt.Errorf("probing over %s on %s: %w", family, ifc.Name, err)
	}
	defer conn.Close()
	if network == "udp4" {
		p := ipv4.NewPacketConn(conn)
		p.SetMulticastInterface(&ifc)
		p.SetMulticastTTL(255)
		p.SetMulticastLoopback(true) // rooms on this machine answer too
	} else {
		p := ipv6.NewPacketConn(conn)
		p.SetMulticastInterface(&ifc)
		p.SetMulticastHopLimit(255)
		p.SetMulticastLoopback(true)
	}
	query := &dns.Msg{Question: probeQuestions}
	buf, err := query.Pack()
	if err != nil {
		return nil, err
	}
	dst := *group
	if network == "udp6" {
		dst.Zone = ifc.Name
	}
	send := func() error {
		_, err := conn.WriteToUDP(buf, &dst)
		return err
	}
	if err := send(); err != nil {
		return nil, fmt.Errorf("sending a query over %s on %s: %w", family, ifc.Name, err)
	}
	deadline := time.Now().Add(wait)
	resent := false
	byAddr := make(map[netip.Addr]*Responder)
	packet := make([]byte, 9000)
	for ctx.Err() == nil {
		next := deadline
		if !resent {
			next = time.Now().Add(retryAfter)
		}
		conn.SetReadDeadline(next)
		n, from, err := conn.ReadFromUDPAddrPort(packet)
		if err != nil {
			var timeout net.Error
			if !errors.As(err, &timeout) || !timeout.Timeout() {
				break
			}
			if !resent {
				resent = true
				send()
				continue
			}
			if !time.Now().Before(deadline) {
				break
			}
			continue
		}
		var msg dns.Msg
		if msg.Unpack(packet[:n]) != nil || !msg.Response {
			continue // a query: ours, looped back, or another asker's
		}
		addr := from.Addr().Unmap()
		if addr.Is6() && addr.IsLinkLocalUnicast() {
			addr = addr.WithZone(ifc.Name)
		}
		r := byAddr[addr]
		if r == nil {
			r = &Responder{From: addr, Iface: ifc.Name}
			byAddr[addr] = r
		}
		r.add(&msg)
	}
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
		if s != "" && !slices.Contains(*list, s) {
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

package discovery

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/mdns"
	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// mdnsGroup is where mDNS is sent (RFC 6762).
var mdnsGroup = &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353}

// recordTTL is the time to live, in seconds, of the records announced:
// that of the records hashicorp/mdns serves (its defaultTTL).
const recordTTL = 120

// announceGap is the time between the two announcements at start; RFC 6762
// (8.3) asks for at least two, one second apart, so that one lost packet
// does not hide the room from browsers that cache.
const announceGap = time.Second

// Advertiser answers mDNS queries for one room, on every interface chosen,
// until Close.
type Advertiser struct {
	instance string
	servers  []*mdns.Server
	zones    []zone
	stop     chan struct{}
	done     sync.WaitGroup
	close    sync.Once
}

// zone is the room's records as served on one interface.
type zone struct {
	link    link
	service *mdns.MDNSService
}

// Advertise makes room findable on the interfaces opts selects. room.Addrs
// is filled in from those interfaces; room.Port must be set.
func Advertise(room Room, opts Options) (*Advertiser, error) {
	if room.Port == 0 || room.ID == "" {
		return nil, errors.New("discovery: a room needs a port and an id to be advertised")
	}
	links, err := links(opts)
	if err != nil {
		return nil, err
	}
	room.Addrs = nil
	for _, l := range links {
		room.Addrs = append(room.Addrs, l.addrs()...)
	}
	txt := encodeTXT(room)
	a := &Advertiser{instance: instanceName(room.Name, room.ID), stop: make(chan struct{})}
	host := hostName()
	for _, l := range links {
		var ips []net.IP
		for _, addr := range l.addrs() {
			ips = append(ips, addr.AsSlice())
		}
		// Each interface's zone names that interface's own addresses in
		// its A records; every address is in the TXT record.
		service, err := mdns.NewMDNSService(a.instance, Service, domain, host, room.Port, ips, txt)
		if err != nil {
			a.shutdown()
			return nil, fmt.Errorf("advertising the room: %w", err)
		}
		ifc := l.iface
		server, err := mdns.NewServer(&mdns.Config{Zone: service, Iface: &ifc, Logger: silentLogger})
		if err != nil {
			a.shutdown()
			return nil, fmt.Errorf("advertising the room on %s: %w", ifc.Name, err)
		}
		a.servers = append(a.servers, server)
		a.zones = append(a.zones, zone{link: l, service: service})
	}

	a.announce(recordTTL)
	a.done.Add(1)
	go func() {
		defer a.done.Done()
		select {
		case <-time.After(announceGap):
			a.announce(recordTTL)
		case <-a.stop:
		}
	}()
	return a, nil
}

// Instance is the room's mDNS instance name.
func (a *Advertiser) Instance() string { return a.instance }

// Interfaces names the interfaces the room is advertised on.
func (a *Advertiser) Interfaces() []string {
	names := make([]string, len(a.zones))
	for i, z := range a.zones {
		names[i] = z.link.iface.Name
	}
	return names
}

// Close stops answering for the room and says goodbye: its records are
// sent once more with a time to live of zero, which tells every browser
// that caches them to forget the room now rather than in two minutes.
func (a *Advertiser) Close() error {
	var err error
	a.close.Do(func() {
		close(a.stop)
		a.done.Wait()
		a.shutdown()
		err = a.announce(0)
	})
	return err
}

func (a *Advertiser) shutdown() {
	for _, s := range a.servers {
		s.Shutdown()
	}
}

// announce multicasts all of the room's records, with the given TTL in
// seconds, on every interface: unasked, as RFC 6762 (8.3, 10.1) has a
// responder do when it starts and when it stops.
func (a *Advertiser) announce(ttl uint32) error {
	var errs []error
	for _, z := range a.zones {
		records := z.service.Records(dns.Question{Name: Service + "." + domain, Qtype: dns.TypePTR, Qclass: dns.ClassINET})
		for _, rr := range records {
			rr.Header().Ttl = ttl
		}
		msg := &dns.Msg{
			MsgHdr:   dns.MsgHdr{Response: true, Authoritative: true},
			Compress: true,
			Answer:   records,
		}
		if err := sendMulticast(z.link.iface, msg); err != nil {
			errs = append(errs, fmt.Errorf("announcing the room on %s: %w", z.link.iface.Name, err))
		}
	}
	return errors.Join(errs...)
}

// sendMulticast sends msg to the mDNS group on ifc, from port 5353 and with
// an IP TTL of 255, as RFC 6762 (11) requires: avahi ignores responses
// from any other port.
func sendMulticast(ifc net.Interface, msg *dns.Msg) error {
	buf, err := msg.Pack()
	if err != nil {
		return err
	}
	// ListenMulticastUDP binds the wildcard address on port 5353 with
	// address reuse, beside the servers that listen there, which is the
	// one portable way to send from that port.
	conn, err := net.ListenMulticastUDP("udp4", &ifc, mdnsGroup)
	if err != nil {
		return err
	}
	defer conn.Close()
	p := ipv4.NewPacketConn(conn)
	if err := p.SetMulticastInterface(&ifc); err != nil {
		return err
	}
	if err := p.SetMulticastTTL(255); err != nil {
		return err
	}
	// Browsers on this machine see the room too.
	p.SetMulticastLoopback(true)
	_, err = conn.WriteToUDP(buf, mdnsGroup)
	return err
}

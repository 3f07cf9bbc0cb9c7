package discovery

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// zoneRecords are the room's records as served on one interface: its
// PTR, SRV and TXT, and the A and AAAA records of that interface's own
// addresses (a link-local address means nothing on another link). The TXT
// record names every address of the room.
type zoneRecords struct {
	servicePTR *dns.PTR // _chatroom._tcp.local. -> the instance
	enumPTR    *dns.PTR // _services._dns-sd._udp.local. -> _chatroom._tcp.local.
	srv        *dns.SRV
	txt        *dns.TXT
	addrs      []dns.RR // A and AAAA of the host name
}

const enumName = "_services._dns-sd._udp." + domain

// newZoneRecords makes the records of instance, served by host on port, on
// an interface with the given addresses; txt is the room's TXT strings.
func newZoneRecords(instance, host string, port int, addrs []netip.Addr, txt []string, ttl uint32) zoneRecords {
	service := Service + "." + domain
	fqdn := instance + "." + service
	hdr := func(name string, rrtype uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: rrtype, Class: dns.ClassINET, Ttl: ttl}
	}
	z := zoneRecords{
		servicePTR: &dns.PTR{Hdr: hdr(service, dns.TypePTR), Ptr: fqdn},
		enumPTR:    &dns.PTR{Hdr: hdr(enumName, dns.TypePTR), Ptr: service},
		srv:        &dns.SRV{Hdr: hdr(fqdn, dns.TypeSRV), Priority: 0, Weight: 0, Port: uint16(port), Target: host},
		txt:        &dns.TXT{Hdr: hdr(fqdn, dns.TypeTXT), Txt: txt},
	}
	for _, a := range addrs {
		if a.Is4() {
			z.addrs = append(z.addrs, &dns.A{Hdr: hdr(host, dns.TypeA), A: a.AsSlice()})
		} else {
			z.addrs = append(z.addrs, &dns.AAAA{Hdr: hdr(host, dns.TypeAAAA), AAAA: a.WithZone("").AsSlice()})
		}
	}
	return z
}

// all is every record of the zone: what an announcement or a goodbye
// carries.
func (z zoneRecords) all() []dns.RR {
	if z.srv == nil {
		return nil
	}
	return append([]dns.RR{z.servicePTR, z.srv, z.txt}, z.addrs...)
}

// answer returns the records that answer q, and the ones that go with
// them in the additional section (RFC 6763, 12): a browser that asks for
// the rooms gets everything it needs to join one in the same packet.
// Names are matched case-insensitively, as DNS names are.
func (z zoneRecords) answer(q dns.Question) (answer, extra []dns.RR) {
	if z.srv == nil || q.Qclass&^qclassUnicast != dns.ClassINET && q.Qclass&^qclassUnicast != dns.ClassANY {
		return nil, nil
	}
	wants := func(rrtype uint16) bool { return q.Qtype == rrtype || q.Qtype == dns.TypeANY }
	switch {
	case strings.EqualFold(q.Name, z.servicePTR.Hdr.Name):
		if wants(dns.TypePTR) {
			return []dns.RR{z.servicePTR}, append([]dns.RR{z.srv, z.txt}, z.addrs...)
		}
	case strings.EqualFold(q.Name, z.enumPTR.Hdr.Name):
		if wants(dns.TypePTR) {
			return []dns.RR{z.enumPTR}, nil
		}
	case strings.EqualFold(q.Name, z.srv.Hdr.Name):
		if wants(dns.TypeSRV) {
			answer = append(answer, z.srv)
			extra = z.addrs
		}
		if wants(dns.TypeTXT) {
			answer = append(answer, z.txt)
		}
		return answer, extra
	case strings.EqualFold(q.Name, z.srv.Target):
		for _, rr := range z.addrs {
			if wants(rr.Header().Rrtype) {
				answer = append(answer, rr)
			}
		}
		return answer, nil
	}
	return nil, nil
}

// unique reports whether rr is a record only this room has (RFC 6762,
// 10.2): its SRV, TXT and addresses, not the shared PTR records. A browser
// that gets a unique record with the cache-flush bit drops the older ones
// of that name and type, so an old address is forgotten even if its
// goodbye was lost.
func unique(rr dns.RR) bool {
	switch rr.Header().Rrtype {
	case dns.TypeSRV, dns.TypeTXT, dns.TypeA, dns.TypeAAAA:
		return true
	}
	return false
}

// qclassUnicast is the top bit of a question's class: the asker prefers a
// unicast answer (RFC 6762, 5.4). In a record's class the same bit is the
// cache-flush bit (10.2).
const qclassUnicast = 1 << 15

package discovery

import (
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// The room answers queries itself rather than with hashicorp/mdns's
// server, which sends every answer by unicast to the asker's address and
// port. An asker on port 5353 is another mDNS responder (avahi, Apple's
// mDNSResponder, python-zeroconf), and on Linux a unicast datagram to a
// port that several sockets share goes to the one bound last: often not
// the asker, which then drops the room when its records expire. RFC 6762
// (5.4, 6) has a responder multicast its answers, unless the question asks
// for unicast or comes from another port than 5353 (a one-shot querier,
// such as hashicorp/mdns's client, which listens only there).

// mdnsPort is the port of mDNS (RFC 6762).
const mdnsPort = 5353

var (
	// mdnsGroup and mdnsGroup6 are where mDNS is sent.
	mdnsGroup  = &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: mdnsPort}
	mdnsGroup6 = &net.UDPAddr{IP: net.ParseIP("ff02::fb"), Port: mdnsPort}
)

// legacyTTL caps the TTL of answers to one-shot queriers (RFC 6762, 6.7),
// which do not get goodbyes.
const legacyTTL = 10

// minMulticastGap is how often at most the records of a zone are
// multicast in answer to queries on one interface (RFC 6762, 6): an asker
// that missed them asks again later.
const minMulticastGap = time.Second

// replies returns how to answer query, from srcPort, with z's records:
// a message to multicast on the interface it came in on, and one to send
// back to its sender alone, either of them nil. since tells how long ago
// a record was last multicast on this interface and family; ttl is the
// TTL of z's records.
func replies(query *dns.Msg, srcPort int, z zoneRecords, since func(dns.RR) time.Duration, ttl uint32) (multicast, unicast *dns.Msg) {
	if query.Response || query.Opcode != dns.OpcodeQuery || query.Rcode != dns.RcodeSuccess {
		return nil, nil
	}
	legacy := srcPort != mdnsPort
	recent := func(d time.Duration) func(dns.RR) bool {
		return func(rr dns.RR) bool { return since(rr) < d }
	}
	var mAnswer, mExtra, uAnswer, uExtra []dns.RR
	for _, q := range query.Question {
		answer, extra := z.answer(q)
		if !legacy {
			// Known-answer suppression (7.1): what the asker already has
			// with at least half its TTL left is not sent again.
			answer = slices.DeleteFunc(answer, func(rr dns.RR) bool { return known(query.Answer, rr, ttl) })
		}
		if len(answer) == 0 {
			continue
		}
		// A question that asks for unicast gets it, unless a record has
		// not been multicast for a quarter of its TTL: then all caches on
		// the link are refreshed at once (5.4).
		quarter := time.Duration(ttl) * time.Second / 4
		if legacy || q.Qclass&qclassUnicast != 0 && !slices.ContainsFunc(answer, func(rr dns.RR) bool { return !recent(quarter)(rr) }) {
			uAnswer, uExtra = append(uAnswer, answer...), append(uExtra, extra...)
		} else {
			mAnswer, mExtra = append(mAnswer, answer...), append(mExtra, extra...)
		}
	}
	// A record multicast less than a second ago is not multicast again
	// (6): the asker heard it, or will ask again.
	mAnswer = slices.DeleteFunc(mAnswer, recent(minMulticastGap))
	mExtra = slices.DeleteFunc(mExtra, recent(minMulticastGap))
	if len(mAnswer) > 0 {
		multicast = response(0, nil, mAnswer, mExtra, ttl, true)
	}
	if len(uAnswer) > 0 {
		if legacy {
			// 6.7: the answer repeats the query's id and question, with
			// short TTLs and no cache-flush bits, as unicast DNS does.
			unicast = response(query.Id, query.Question, uAnswer, uExtra, min(ttl, legacyTTL), false)
		} else {
			unicast = response(query.Id, nil, uAnswer, uExtra, ttl, true)
		}
	}
	return multicast, unicast
}

// recordKey tells records apart whatever their TTL and cache-flush bit.
func recordKey(rr dns.RR) string {
	c := dns.Copy(rr)
	c.Header().Ttl = 0
	c.Header().Class &^= qclassUnicast
	return c.String()
}

// known reports whether the known answers of a query hold rr with at least
// half of ttl left.
func known(answers []dns.RR, rr dns.RR, ttl uint32) bool {
	return slices.ContainsFunc(answers, func(k dns.RR) bool {
		return k.Header().Ttl >= ttl/2 && dns.IsDuplicate(k, rr)
	})
}

// response builds an answer: records (deduplicated, extra ones that are
// answers left out) copied with the given TTL and, if cacheFlush, the
// cache-flush bit on the room's unique records.
func response(id uint16, question []dns.Question, answer, extra []dns.RR, ttl uint32, cacheFlush bool) *dns.Msg {
	var seen []dns.RR
	prepare := func(rrs []dns.RR) []dns.RR {
		var out []dns.RR
		for _, rr := range rrs {
			if slices.ContainsFunc(seen, func(s dns.RR) bool { return dns.IsDuplicate(s, rr) }) {
				continue
			}
			seen = append(seen, rr)
			out = append(out, withTTL(rr, ttl, cacheFlush))
		}
		return out
	}
	return &dns.Msg{
		MsgHdr:   dns.MsgHdr{Id: id, Response: true, Authoritative: true},
		Question: question,
		Answer:   prepare(answer),
		Extra:    prepare(extra),
		Compress: true,
	}
}

// withTTL returns a copy of rr with the given TTL, and the cache-flush bit
// if cacheFlush and rr is unique.
func withTTL(rr dns.RR, ttl uint32, cacheFlush bool) dns.RR {
	c := dns.Copy(rr)
	c.Header().Ttl = ttl
	if cacheFlush && unique(rr) {
		c.Header().Class |= qclassUnicast
	}
	return c
}

// family is the room's mDNS socket of one address family: bound to port
// 5353 beside any other responder on the machine, and a member of the mDNS
// group on each interface the room is advertised on.
type family struct {
	v4   bool
	conn *net.UDPConn
	p4   *ipv4.PacketConn
	p6   *ipv6.PacketConn
	mu   sync.Mutex // held while choosing the interface and sending
}

// openFamily opens the socket of a family, a member of the group on ifc.
func openFamily(v4 bool, ifc net.Interface) (*family, error) {
	network, group := "udp6", mdnsGroup6
	if v4 {
		network, group = "udp4", mdnsGroup
	}
	// ListenMulticastUDP binds port 5353 of the wildcard address with
	// address reuse, which is the portable way to share the port with the
	// machine's other responders.
	conn, err := net.ListenMulticastUDP(network, &ifc, group)
	if err != nil {
		return nil, err
	}
	f := &family{v4: v4, conn: conn}
	// The interface a query came in on tells the zone that answers it;
	// where control messages are not supported (Windows), the sender's
	// address does (zoneFor).
	if v4 {
		f.p4 = ipv4.NewPacketConn(conn)
		f.p4.SetControlMessage(ipv4.FlagInterface|ipv4.FlagDst, true)
		f.p4.SetMulticastTTL(255) // RFC 6762, 11
		f.p4.SetTTL(255)
		// Browsers on this machine see the room too.
		f.p4.SetMulticastLoopback(true)
	} else {
		f.p6 = ipv6.NewPacketConn(conn)
		f.p6.SetControlMessage(ipv6.FlagInterface|ipv6.FlagDst, true)
		f.p6.SetMulticastHopLimit(255)
		f.p6.SetHopLimit(255)
		f.p6.SetMulticastLoopback(true)
	}
	return f, nil
}

func (f *family) join(ifc net.Interface) error {
	if f.v4 {
		return f.p4.JoinGroup(&ifc, mdnsGroup)
	}
	return f.p6.JoinGroup(&ifc, mdnsGroup6)
}

func (f *family) leave(ifc net.Interface) {
	if f.v4 {
		f.p4.LeaveGroup(&ifc, mdnsGroup)
	} else {
		f.p6.LeaveGroup(&ifc, mdnsGroup6)
	}
}

// send sends msg to the group on ifc, or to one address (to) if set.
func (f *family) send(ifc net.Interface, msg *dns.Msg, to *net.UDPAddr) error {
	buf, err := msg.Pack()
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if to != nil {
		_, err = f.conn.WriteToUDP(buf, to)
		return err
	}
	if f.v4 {
		if err := f.p4.SetMulticastInterface(&ifc); err != nil {
			return err
		}
		_, err = f.conn.WriteToUDP(buf, mdnsGroup)
		return err
	}
	if err := f.p6.SetMulticastInterface(&ifc); err != nil {
		return err
	}
	_, err = f.conn.WriteToUDP(buf, &net.UDPAddr{IP: mdnsGroup6.IP, Port: mdnsPort, Zone: ifc.Name})
	return err
}

// packet is a datagram received.
type packet struct {
	data     []byte
	ifindex  int // the interface it came in on; 0 where unknown
	src      *net.UDPAddr
	dstKnown bool // whether dstGroup is known
	dstGroup bool // sent to the mDNS group, not to this machine alone
}

// read receives the next datagram.
func (f *family) read(buf []byte) (packet, error) {
	var p packet
	var n int
	var src net.Addr
	var err error
	if f.v4 {
		var cm *ipv4.ControlMessage
		n, cm, src, err = f.p4.ReadFrom(buf)
		if cm != nil {
			p.ifindex, p.dstKnown, p.dstGroup = cm.IfIndex, cm.Dst != nil, cm.Dst.Equal(mdnsGroup.IP)
		}
	} else {
		var cm *ipv6.ControlMessage
		n, cm, src, err = f.p6.ReadFrom(buf)
		if cm != nil {
			p.ifindex, p.dstKnown, p.dstGroup = cm.IfIndex, cm.Dst != nil, cm.Dst.Equal(mdnsGroup6.IP)
		}
	}
	if err != nil {
		return p, err
	}
	p.data = buf[:n]
	p.src, _ = src.(*net.UDPAddr)
	return p, nil
}

// onLink reports whether addr is on one of the networks of prefixes: a
// query sent to this machine alone, not to the group, is answered only
// then (RFC 6762, 11), so the room cannot be made to send to the world.
func onLink(addr netip.Addr, prefixes []netip.Prefix) bool {
	addr = addr.Unmap().WithZone("")
	return slices.ContainsFunc(prefixes, func(p netip.Prefix) bool { return p.Masked().Contains(addr) })
}

// mayUnicastTo reports whether an answer may be sent to src alone: only
// to an asker on the link (RFC 6762, 11), so that a query with a forged
// source address cannot turn the room into a sender of packets to the
// world. An asker on this machine may send from loopback, or from
// 0.0.0.0 (Linux's source for multicast on lo, whose addresses are
// host-scoped), where an answer stays on this machine too.
func mayUnicastTo(src netip.Addr, prefixes []netip.Prefix) bool {
	src = src.Unmap()
	return onLink(src, prefixes) || src.IsLinkLocalUnicast() || src.IsLoopback() || src.IsUnspecified()
}

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

	"github.com/hashicorp/mdns"
	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Browsing is done in rounds. A round asks on every interface at once, and
// asks again within the round, at each of retryAt, because multicast on
// Wi-Fi is sent without acknowledgement and a query or its answer is
// easily lost: at 20 % loss each way one exchange fails a third of the
// time, and four within a round make a round miss a room about one time
// in sixty (BenchmarkBrowseLossy). A query is not sent again once a room
// has answered on that interface. Answers come within milliseconds on a LAN, so a round is
// short. Browsing stops after the first round that finds a room, or after
// maxRounds (about two seconds) when none answers.
//
// The query is sent, and its answers read, here rather than with
// hashicorp/mdns's client: that one sends a single query per call, and
// keeps one entry per instance name, so that a second machine answering
// for the same instance (a clone of a room, which copies its name and id)
// is either dropped or, worse, mixed into the first answer's entry.
const (
	roundLength = 350 * time.Millisecond
	maxRounds   = 6
	// maxAnswer bounds one answer read: an mDNS message fits in 9000
	// bytes (RFC 6762, 17).
	maxAnswer = 9000
)

// maxRooms and maxRoomAddrs bound what a browse keeps: anyone on the link
// can answer, as fast as the link carries it, with as many made-up rooms,
// or addresses of one room, as fit in its packets. No LAN has a thousand
// rooms, nor a host a hundred addresses.
const (
	maxRooms     = 1000
	maxRoomAddrs = 100
)

// retryAt is when, within a round, the query is sent on each interface.
var retryAt = []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}

// serviceSuffix ends the instance names of rooms, as the library returns
// them.
const serviceSuffix = "." + Service + "." + domain

// Browse finds the rooms on the network, on the interfaces opts selects,
// sorted by name. Answers seen on several interfaces, or with several
// addresses, are one room when they agree on its id and its key's
// fingerprint. Two answers that name one id with different keys are two
// rooms, both returned: anyone on the LAN can advertise a room's id, and
// only the key tells the real room from its clone (the caller decides;
// see join.Pinning). It returns what it found when ctx ends.
func Browse(ctx context.Context, opts Options) ([]Room, error) {
	found, err := Find(ctx, opts)
	return found.Rooms, err
}

// Found is what a browse found.
type Found struct {
	Rooms []Room // as Browse returns them
	// NotRooms counts the answers, for the rooms' service, whose record
	// is not of the form a room makes (its id, key or version; see
	// roomFromTXT), each instance once: they are dropped, as anyone on
	// the LAN can send one, but a person told only "no room found" while
	// something answers would look for the fault in the wrong place. At
	// most maxRooms.
	NotRooms int
}

// NotRoomsText says, in a phrase, that n answers (n > 0) were ignored as
// no room's (Found.NotRooms), for the person to read.
func NotRoomsText(n int) string {
	if n == 1 {
		return "1 answer ignored, as no room's: its id, key or version is not the form a room makes"
	}
	return fmt.Sprintf("%d answers ignored, as no room's: their id, key or version is not the form a room makes", n)
}

// Find is Browse, which it does, and also counts the answers that were
// not a room's.
func Find(ctx context.Context, opts Options) (Found, error) {
	links, err := links(opts)
	if err != nil {
		return Found{}, err
	}
	found := make(map[roomKey]*Room)
	notRooms := make(map[string]bool) // instance names, lowered
	for round := 0; round < maxRounds && ctx.Err() == nil; round++ {
		var mu sync.Mutex
		var wg sync.WaitGroup
		var errs []error
		queries := 0
		for _, l := range links {
			// Over each family the link has an address of: a room on an
			// IPv6-only LAN answers only there. Every link that is up
			// has a link-local IPv6 address, so an IPv4 LAN is asked
			// over IPv6 too; the answers are the same rooms, merged.
			for _, v4 := range []bool{true, false} {
				if !l.has(v4) {
					continue
				}
				queries++
				wg.Go(func() {
					rooms, ignored, err := queryRound(ctx, l, v4, roundLength)
					if !v4 && errors.Is(err, syscall.EADDRNOTAVAIL) {
						// The link-local address of a link just up is
						// tentative for a second or two (duplicate
						// address detection): nothing to ask from yet,
						// which is no failure.
						err = nil
					}
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, fmt.Errorf("browsing on %s over %s: %w", l.iface.Name, familyName(v4), err))
					}
					for _, r := range rooms {
						merge(found, r)
					}
					for _, name := range ignored {
						if len(notRooms) < maxRooms {
							notRooms[name] = true
						}
					}
				})
			}
		}
		wg.Wait()
		if len(errs) == queries && len(found) == 0 {
			// Every query failed: more rounds would only fail again.
			return Found{}, errors.Join(errs...)
		}
		if len(found) > 0 {
			break
		}
	}
	rooms := make([]Room, 0, len(found))
	for _, r := range found {
		rooms = append(rooms, *r)
	}
	sortRooms(rooms)
	return Found{Rooms: rooms, NotRooms: len(notRooms)}, nil
}

// queryRound asks for rooms on one interface, at each of retryAt until one
// answers, and returns every room that answered within length, and the
// instance names (lowered) of answers whose record was not a room's. Each
// answer is read on its own: one machine's answer is one room, never
// mixed with another's.
func queryRound(ctx context.Context, l link, v4 bool, length time.Duration) ([]Room, []string, error) {
	// A socket of its own, on a port other than 5353: a responder answers
	// such a query straight to it (RFC 6762, 6.7), whatever else on this
	// machine listens on 5353.
	ifc := l.iface
	conn, group, err := querySocket(ifc, v4)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	query := new(dns.Msg)
	query.SetQuestion(Service+"."+domain, dns.TypePTR)
	query.RecursionDesired = false
	packed, err := query.Pack()
	if err != nil {
		return nil, nil, err
	}

	start := time.Now()
	end := start.Add(length)
	if d, ok := ctx.Deadline(); ok && d.Before(end) {
		end = d
	}
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Now()) })
	defer stop()

	var rooms []Room
	var ignored []string
	var sendErr error
	next := 0 // the next of retryAt to send
	buf := make([]byte, maxAnswer)
	for {
		now := time.Now()
		if next < len(retryAt) && now.Sub(start) >= retryAt[next] {
			if len(rooms) == 0 || next == 0 {
				if _, err := conn.WriteToUDP(packed, group); err != nil {
					sendErr = err
				}
			}
			next++
			continue
		}
		wait := end
		if next < len(retryAt) && start.Add(retryAt[next]).Before(wait) {
			wait = start.Add(retryAt[next])
		}
		if !now.Before(end) || ctx.Err() != nil {
			break
		}
		conn.SetReadDeadline(wait)
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			var timeout net.Error
			if errors.As(err, &timeout) && timeout.Timeout() {
				continue
			}
			break
		}
		msg := new(dns.Msg)
		if msg.Unpack(buf[:n]) != nil || !msg.Response {
			continue
		}
		answered, notRooms := roomsFromAnswer(msg)
		for _, name := range notRooms {
			if !slices.Contains(ignored, name) && len(ignored) < maxRooms {
				ignored = append(ignored, name)
			}
		}
		for _, r := range answered {
			r.Ifaces = []string{ifc.Name}
			for i, a := range r.Addrs {
				// A link-local address means something only on the
				// link it was heard on.
				if a.Is6() && a.IsLinkLocalUnicast() && a.Zone() == "" {
					r.Addrs[i] = a.WithZone(ifc.Name)
				}
			}
			rooms = append(rooms, r)
		}
	}
	if len(rooms) == 0 && sendErr != nil && ctx.Err() == nil {
		return nil, ignored, sendErr
	}
	return rooms, ignored, nil
}

// querySocket opens the socket a round of queries goes out and comes back
// on, over IPv4 or IPv6 on ifc, and returns it with where to send them.
func querySocket(ifc net.Interface, v4 bool) (*net.UDPConn, *net.UDPAddr, error) {
	if v4 {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
		if err != nil {
			return nil, nil, err
		}
		p := ipv4.NewPacketConn(conn)
		if err := p.SetMulticastInterface(&ifc); err != nil {
			conn.Close()
			return nil, nil, err
		}
		p.SetMulticastTTL(255)
		// A room on this machine answers too.
		p.SetMulticastLoopback(true)
		return conn, mdnsGroup, nil
	}
	conn, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6unspecified})
	if err != nil {
		return nil, nil, err
	}
	p := ipv6.NewPacketConn(conn)
	if err := p.SetMulticastInterface(&ifc); err != nil {
		conn.Close()
		return nil, nil, err
	}
	p.SetMulticastHopLimit(255)
	p.SetMulticastLoopback(true)
	return conn, &net.UDPAddr{IP: mdnsGroup6.IP, Port: mdnsPort, Zone: ifc.Name}, nil
}

func familyName(v4 bool) string {
	if v4 {
		return "IPv4"
	}
	return "IPv6"
}

// roomsFromAnswer reads the rooms one answer describes: each instance with
// its SRV and TXT records, and the A records of the SRV's host, in the
// answer and additional sections alike. notRooms are the instances of the
// rooms' service, lowered, whose TXT record is not a room's (roomFromTXT).
func roomsFromAnswer(msg *dns.Msg) (rooms []Room, notRooms []string) {
	records := append(append([]dns.RR(nil), msg.Answer...), msg.Extra...)
	entries := map[string]*mdns.ServiceEntry{}
	var order []string
	entry := func(name string) *mdns.ServiceEntry {
		key := strings.ToLower(name)
		e, ok := entries[key]
		if !ok {
			e = &mdns.ServiceEntry{Name: name}
			entries[key] = e
			order = append(order, key)
		}
		return e
	}
	hostAddrs := map[string][]netip.Addr{}
	for _, rr := range records {
		switch rr := rr.(type) {
		case *dns.SRV:
			e := entry(rr.Hdr.Name)
			e.Host, e.Port = rr.Target, int(rr.Port)
		case *dns.TXT:
			entry(rr.Hdr.Name).InfoFields = rr.Txt
		case *dns.A:
			if a, ok := netip.AddrFromSlice(rr.A); ok {
				key := strings.ToLower(rr.Hdr.Name)
				hostAddrs[key] = append(hostAddrs[key], a.Unmap())
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(rr.AAAA); ok && a.Is6() && !a.Is4In6() && usableAddr(a) {
				key := strings.ToLower(rr.Hdr.Name)
				hostAddrs[key] = append(hostAddrs[key], a)
			}
		}
	}
	for _, key := range order {
		e := entries[key]
		addrs := hostAddrs[strings.ToLower(e.Host)]
		if i := slices.IndexFunc(addrs, netip.Addr.Is4); i >= 0 {
			e.AddrV4 = addrs[i].AsSlice()
		}
		r, ok := roomFromEntry(e)
		if !ok {
			// Only a TXT record that says what a room's would, and says
			// it wrong, is counted: an answer with no TXT record (a
			// goodbye, a part of an answer) is no claim to be a room.
			if ofService(e.Name) && e.InfoFields != nil {
				if _, room := roomFromTXT(e.InfoFields); !room {
					notRooms = append(notRooms, key)
				}
			}
			continue
		}
		for _, a := range addrs {
			if !slices.Contains(r.Addrs, a) {
				r.Addrs = append(r.Addrs, a)
			}
		}
		rooms = append(rooms, r)
	}
	return rooms, notRooms
}

// roomFromEntry reads a room from an answer, or false for an answer about
// another service or one that lacks what joining needs.
func roomFromEntry(e *mdns.ServiceEntry) (Room, bool) {
	if !ofService(e.Name) {
		return Room{}, false
	}
	r, ok := roomFromTXT(e.InfoFields)
	if !ok || e.Port <= 0 {
		return Room{}, false
	}
	r.Instance = unescapeDNS(e.Name[:len(e.Name)-len(serviceSuffix)])
	r.Host = e.Host
	r.Port = e.Port
	if a, ok := netip.AddrFromSlice(e.AddrV4); ok && a.Unmap().Is4() && !slices.Contains(r.Addrs, a.Unmap()) {
		r.Addrs = append(r.Addrs, a.Unmap())
	}
	return r, true
}

// ofService reports whether name is an instance of the rooms' service.
func ofService(name string) bool {
	return len(name) > len(serviceSuffix) && strings.EqualFold(name[len(name)-len(serviceSuffix):], serviceSuffix)
}

// roomKey is what tells found rooms apart: their id and their key. A
// clone of a room's id, advertised by another machine with a key of its
// own, is another room, never merged with the real one.
type roomKey struct{ id, fingerprint string }

// merge adds r to found, or what is new in it to the room with its id and
// key.
func merge(found map[roomKey]*Room, r Room) {
	k := roomKey{r.ID, r.Fingerprint}
	have, ok := found[k]
	if !ok {
		if len(found) >= maxRooms {
			return
		}
		r.Addrs = slices.Clone(r.Addrs)
		found[k], have = &r, &r
	} else {
		for _, a := range r.Addrs {
			if !slices.Contains(have.Addrs, a) && len(have.Addrs) < maxRoomAddrs {
				have.Addrs = append(have.Addrs, a)
			}
		}
		for _, ifc := range r.Ifaces {
			if !slices.Contains(have.Ifaces, ifc) {
				have.Ifaces = append(have.Ifaces, ifc)
			}
		}
	}
	// IPv4, then IPv6, as Room.Addrs promises, whichever family's answer
	// came first (the rounds over each run at once): otherwise the
	// addresses shown and dialed first changed from one browse to the
	// next.
	slices.SortStableFunc(have.Addrs, func(a, b netip.Addr) int { return ipv6Last(a) - ipv6Last(b) })
}

// ipv6Last orders addresses: IPv4 (0) before IPv6 (1).
func ipv6Last(a netip.Addr) int {
	if a.Is4() {
		return 0
	}
	return 1
}

package discovery

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// recordTTL is the time to live, in seconds, of the records announced: what
// RFC 6762 (10) recommends for records that name a host's addresses.
const recordTTL = 120

// Advertiser answers mDNS queries for one room, on every interface chosen
// as they come and go, until Close.
type Advertiser struct {
	instance string
	host     string
	opts     Options
	ttl      uint32

	mu     sync.Mutex
	room   Room           // with the addresses advertised now
	fams   [2]*family     // the sockets, IPv4 then IPv6, opened when first needed
	zones  []*zone        // by interface, in the order of the links
	failed map[int]string // why an interface could not be used, as last said

	stop  chan struct{}
	done  sync.WaitGroup
	close sync.Once
}

const (
	famV4 = 0
	famV6 = 1
)

// zone is the room as served on one interface.
type zone struct {
	link          link
	records       zoneRecords
	joined        [2]bool                 // by family: a member of the mDNS group there
	lastMulticast [2]map[string]time.Time // by family, then recordKey
	again         bool                    // to be announced once more at the next poll
}

// Advertise makes room findable on the interfaces opts selects, now and as
// they change: room.Addrs is filled in from those interfaces, and
// room.Port must be set. With no interface to advertise on yet, the
// Advertiser waits for one; see [Advertiser.Interfaces].
func Advertise(room Room, opts Options) (*Advertiser, error) {
	return startAdvertiser(room, opts, recordTTL, pollInterval)
}

func startAdvertiser(room Room, opts Options, ttl uint32, poll time.Duration) (*Advertiser, error) {
	if room.Port == 0 || room.ID == "" {
		return nil, errors.New("discovery: a room needs a port and an id to be advertised")
	}
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	// A named interface that does not exist is a mistake to say now; one
	// that is down or has no address yet is waited for.
	for _, name := range opts.Interfaces {
		if !slices.ContainsFunc(all, func(ifc net.Interface) bool { return ifc.Name == name }) {
			return nil, fmt.Errorf("no network interface called %q (there are: %s)", name, interfaceNames(all))
		}
	}
	// A room that listens on a loopback address alone is reached from
	// this machine only: there is nothing to advertise, ever.
	if opts.Bind.IsLoopback() && len(opts.Interfaces) == 0 {
		return nil, ErrNoInterface
	}
	now, err := chooseLinks(opts, all, interfaceAddrs, false)
	if err != nil {
		return nil, err
	}
	room.Addrs = nil
	a := &Advertiser{
		instance: instanceName(room.Name, room.ID),
		host:     hostName(),
		opts:     opts,
		ttl:      ttl,
		room:     room,
		failed:   make(map[int]string),
		stop:     make(chan struct{}),
	}
	var errs []error
	for _, c := range a.update(now) {
		if c.Err != nil {
			errs = append(errs, fmt.Errorf("advertising the room on %s: %w", c.Interface, c.Err))
		}
	}
	if len(errs) > 0 && len(a.zones) == 0 {
		a.shutdown()
		return nil, errors.Join(errs...)
	}
	a.done.Add(1)
	go a.follow(poll)
	return a, nil
}

// Instance is the room's mDNS instance name.
func (a *Advertiser) Instance() string { return a.instance }

// Interfaces names the interfaces the room is advertised on now.
func (a *Advertiser) Interfaces() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	names := make([]string, len(a.zones))
	for i, z := range a.zones {
		names[i] = z.link.iface.Name
	}
	return names
}

// Addrs returns the addresses the room is advertised at now.
func (a *Advertiser) Addrs() []netip.Addr {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.room.Addrs)
}

// Close stops answering for the room and says goodbye: its records are
// sent once more with a time to live of zero, on every interface and
// address family they were announced on, which tells every browser that
// caches them to forget the room now rather than in two minutes.
func (a *Advertiser) Close() error {
	var err error
	a.close.Do(func() {
		close(a.stop)
		a.mu.Lock()
		var errs []error
		for _, z := range a.zones {
			errs = append(errs, a.goodbye(z, z.records.all(), famV4, famV6))
		}
		a.zones = nil
		a.mu.Unlock()
		a.shutdown()
		a.done.Wait()
		err = errors.Join(errs...)
	})
	return err
}

func (a *Advertiser) shutdown() {
	for _, f := range a.fams {
		if f != nil {
			f.conn.Close()
		}
	}
}

// update makes what is advertised match the links now: it joins and
// leaves the mDNS group on interfaces that came and went, announces new
// and changed records and says goodbye to gone ones, and announces once
// more what was announced at the previous update (RFC 6762, 8.3: twice, a
// second apart, as one packet can be lost). It returns what changed.
func (a *Advertiser) update(now []link) []Change {
	a.mu.Lock()
	defer a.mu.Unlock()
	select {
	case <-a.stop:
		return nil // closed: the goodbyes are said
	default:
	}
	old := make([]link, len(a.zones))
	for i, z := range a.zones {
		old[i] = z.link
	}
	var addrs []netip.Addr
	for _, l := range now {
		for _, addr := range l.addrs() {
			if !slices.Contains(addrs, addr) {
				addrs = append(addrs, addr)
			}
		}
	}
	a.room.Addrs = addrs
	if a.opts.Topic != nil {
		a.room.Topic = a.opts.Topic()
	}
	txt := encodeTXT(a.room)

	var changes []Change
	var zones []*zone
	for _, l := range now {
		i := slices.IndexFunc(a.zones, func(z *zone) bool { return z.link.iface.Index == l.iface.Index })
		z := &zone{}
		if i >= 0 {
			z = a.zones[i]
		}
		prev := z.records
		z.link = l
		z.records = newZoneRecords(a.instance, a.host, a.room.Port, l.addrs(), txt, a.ttl)
		if err := a.joinFamilies(z, prev); err != nil {
			if a.failed[l.iface.Index] != err.Error() {
				a.failed[l.iface.Index] = err.Error()
				changes = append(changes, Change{Interface: l.iface.Name, Err: err})
			}
		} else {
			delete(a.failed, l.iface.Index)
		}
		if !z.joined[famV4] && !z.joined[famV6] {
			continue
		}
		switch {
		case !sameRecords(prev, z.records):
			a.announce(z, minus(prev.all(), z.records.all()))
			z.again = true
		case z.again:
			a.announce(z, nil)
			z.again = false
		}
		zones = append(zones, z)
	}
	for _, z := range a.zones {
		if !slices.Contains(zones, z) {
			a.goodbye(z, z.records.all(), famV4, famV6)
			a.leave(z, famV4, famV6)
		}
	}
	a.zones = zones
	advertised := make([]link, len(zones))
	for i, z := range zones {
		advertised[i] = z.link
	}
	return append(changes, diffLinks(old, advertised)...)
}

// joinFamilies makes z's interface a member of the mDNS group in each
// address family it has an address of, and no longer in the others (with
// a goodbye there for prev, the records served before).
func (a *Advertiser) joinFamilies(z *zone, prev zoneRecords) error {
	var errs []error
	for fam, v4 := range []bool{true, false} {
		want := z.link.has(v4)
		switch {
		case want && !z.joined[fam]:
			ifc := z.link.iface
			var err error
			if a.fams[fam] == nil {
				var f *family
				if f, err = openFamily(v4, ifc); err == nil {
					a.fams[fam] = f
					a.done.Add(1)
					go a.serve(f, fam)
				}
			} else {
				err = a.fams[fam].join(ifc)
			}
			if err != nil {
				errs = append(errs, joinError(v4, err))
				continue
			}
			z.joined[fam] = true
			z.lastMulticast[fam] = make(map[string]time.Time)
		case !want && z.joined[fam]:
			a.goodbye(z, prev.all(), fam)
			a.leave(z, fam)
		}
	}
	return errors.Join(errs...)
}

// joinError says in words why the mDNS group could not be joined: the
// system's reason, without Go's socket details.
func joinError(v4 bool, err error) error {
	family := "IPv6"
	if v4 {
		family = "IPv4"
	}
	var sys *os.SyscallError
	if errors.As(err, &sys) {
		err = sys.Err
	}
	hint := ""
	if errors.Is(err, syscall.ENODEV) && v4 {
		hint = " (is there a route for multicast, 224.0.0.0/4?)"
	}
	return fmt.Errorf("cannot join the %s mDNS group there: %v%s", family, err, hint)
}

func (a *Advertiser) leave(z *zone, fams ...int) {
	for _, fam := range fams {
		if z.joined[fam] {
			a.fams[fam].leave(z.link.iface)
			z.joined[fam] = false
		}
	}
}

// announce multicasts all of z's records, unasked, as RFC 6762 (8.3) has a
// responder do when it starts and when its records change, with goodbyes
// (TTL 0) for the records gone before them.
func (a *Advertiser) announce(z *zone, gone []dns.RR) error {
	var answer []dns.RR
	for _, rr := range gone {
		answer = append(answer, withTTL(rr, 0, false))
	}
	for _, rr := range z.records.all() {
		answer = append(answer, withTTL(rr, a.ttl, true))
	}
	return a.multicast(z, answer, famV4, famV6)
}

// goodbye multicasts records with a TTL of 0 on z's interface, in the
// families given that z is a member in (RFC 6762, 10.1): browsers that
// cache them forget them now.
func (a *Advertiser) goodbye(z *zone, records []dns.RR, fams ...int) error {
	if len(records) == 0 {
		return nil
	}
	answer := make([]dns.RR, len(records))
	for i, rr := range records {
		answer[i] = withTTL(rr, 0, false)
	}
	return a.multicast(z, answer, fams...)
}

func (a *Advertiser) multicast(z *zone, answer []dns.RR, fams ...int) error {
	msg := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true, Authoritative: true}, Compress: true, Answer: answer}
	var errs []error
	for _, fam := range fams {
		if !z.joined[fam] {
			continue
		}
		if err := a.fams[fam].send(z.link.iface, msg, nil); err != nil {
			errs = append(errs, fmt.Errorf("announcing the room on %s: %w", z.link.iface.Name, err))
			continue
		}
		z.multicastAt(fam, msg, time.Now())
	}
	return errors.Join(errs...)
}

// serve answers the queries that reach f, until it is closed.
func (a *Advertiser) serve(f *family, fam int) {
	defer a.done.Done()
	buf := make([]byte, 9000)
	for {
		p, err := f.read(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil || p.src == nil {
			continue
		}
		var query dns.Msg
		if query.Unpack(p.data) != nil || query.Response {
			continue
		}
		a.answer(f, fam, p, &query)
	}
}

// answer answers one query, on the interface it came in on.
func (a *Advertiser) answer(f *family, fam int, p packet, query *dns.Msg) {
	a.mu.Lock()
	defer a.mu.Unlock()
	src, _ := netip.AddrFromSlice(p.src.IP)
	var z *zone
	for _, c := range a.zones {
		if c.joined[fam] && (c.link.iface.Index == p.ifindex || p.ifindex == 0 && onLink(src, c.link.prefixes)) {
			z = c
			break
		}
	}
	if z == nil || p.dstKnown && !p.dstGroup && !onLink(src, z.link.prefixes) {
		return
	}
	now := time.Now()
	since := func(rr dns.RR) time.Duration {
		at, ok := z.lastMulticast[fam][recordKey(rr)]
		if !ok {
			return time.Duration(math.MaxInt64)
		}
		return now.Sub(at)
	}
	multicast, unicast := replies(query, p.src.Port, z.records, since, a.ttl)
	if multicast != nil && f.send(z.link.iface, multicast, nil) == nil {
		z.multicastAt(fam, multicast, now)
	}
	if unicast != nil && mayUnicastTo(src, z.link.prefixes) {
		f.send(z.link.iface, unicast, p.src)
	}
}

// multicastAt notes when the records of msg were multicast in family fam:
// records with a TTL, as a goodbye forgets them.
func (z *zone) multicastAt(fam int, msg *dns.Msg, at time.Time) {
	for _, rr := range append(slices.Clone(msg.Answer), msg.Extra...) {
		if rr.Header().Ttl == 0 {
			delete(z.lastMulticast[fam], recordKey(rr))
		} else {
			z.lastMulticast[fam][recordKey(rr)] = at
		}
	}
}

// sameRecords reports whether two zones serve the same records.
func sameRecords(a, b zoneRecords) bool {
	x, y := a.all(), b.all()
	return len(x) == len(y) && len(minus(x, y)) == 0
}

// minus returns the records of a that are not in b.
func minus(a, b []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range a {
		if !slices.ContainsFunc(b, func(o dns.RR) bool { return o.String() == rr.String() }) {
			out = append(out, rr)
		}
	}
	return out
}

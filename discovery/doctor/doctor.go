// Package doctor explains why rooms are not found: it checks what mDNS
// needs on each network interface (up, an address, multicast and a route
// for it), who holds UDP port 5353, whether a firewall rule drops mDNS or
// the room's port, asks who answers on the link, and says what to do, in
// plain words. It is "chatroom doctor".
//
// It is split in two so that the reasoning can be tested without a
// network: [Gather] looks at the machine and the link (and changes
// nothing: firewall rules are only read), and [Diagnose] turns what was
// gathered into findings and advice.
//
// It looks as a client's browsing does, through package discovery, and
// shows a room's addresses in the order join would dial them (join's
// DialAddrs, so that the order lives in one place): it never dials, joins
// or runs a room, and never changes the machine (no interface, route or
// firewall rule), only says what the person could do.
package doctor

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"chatroom/discovery"
	"chatroom/join"
)

// Facts is what Gather saw.
type Facts struct {
	Port int // the room's TCP port, whose firewall rules are checked

	Interfaces []Interface
	Named      bool // the interfaces were named (--iface): each one matters

	Routes    []Route // IPv4 routes; nil with RoutesErr when unreadable
	RoutesErr error
	// IPv6 routes, of every table (the multicast ff00::/8 of each
	// interface is in the local one); nil with Routes6Err when unreadable.
	Routes6    []Route
	Routes6Err error

	// Sockets bound to UDP port 5353 before the probe, by any program.
	Sockets    []Socket
	SocketsErr error

	Firewalls []Ruleset

	Rooms     []discovery.Room
	BrowseErr error // nil, or why rooms could not be looked for

	// Local is this machine's addresses on every interface (named or
	// not): a room's are shown in the order join dials them, and this
	// machine's own among them (an idle docker0's 172.17.0.1, which the
	// room's machine has too) set apart, as join never takes them for
	// the room.
	Local []join.LocalAddr
	// NotRooms counts the answers for the rooms' service that were not a
	// room's (discovery.Found).
	NotRooms int
}

// Interface is one network interface and what was seen on it.
type Interface struct {
	Name      string
	Up        bool
	Running   bool // has a carrier: a cable, or an associated Wi-Fi
	Loopback  bool
	Multicast bool
	Prefixes  []netip.Prefix

	// A query was sent on it over IPv4, IPv6: with what answered, or why
	// it could not be.
	Probed4, Probed6     bool
	Probe4Err, Probe6Err error
	Responders           []discovery.Responder
}

// Route is an IPv4 route: where packets to Dst go.
type Route struct {
	Dst   netip.Prefix
	Iface string
}

// Socket is a UDP socket bound to port 5353.
type Socket struct {
	Local   netip.AddrPort
	Process string // its program's name, "" when it could not be told
	PID     int
}

// Ruleset is a firewall's rules as a tool printed them (nft list ruleset,
// iptables-save), or why they could not be read.
type Ruleset struct {
	Tool string
	Text string
	Err  error
}

// Status is how a finding reads.
type Status string

const (
	OK   Status = "ok"   // what was checked works
	Info Status = "info" // worth knowing, not a problem
	Warn Status = "warn" // may stop rooms being found
	Fail Status = "fail" // stops rooms being found
	Room Status = "room" // a room answered
	Seen Status = "seen" // an mDNS responder answered
	Do   Status = "do"   // what to do
)

// Finding is one line of the report: "STATUS SUBJECT: TEXT". What it says
// may hold names that came from the network (a responder's host and
// services): the caller shows it as it shows any such text.
type Finding struct {
	Status  Status
	Subject string
	Text    string
}

func (f Finding) String() string {
	if f.Subject == "" {
		return fmt.Sprintf("%-4s %s", f.Status, f.Text)
	}
	return fmt.Sprintf("%-4s %s: %s", f.Status, f.Subject, f.Text)
}

// Report is the diagnosis: the findings in order, the advice last.
type Report struct {
	Findings []Finding
	// Healthy is true when a room was found, or when nothing checked
	// stands in the way of finding one (then no room is simply on this
	// link): "chatroom doctor" exits 0, else 1.
	Healthy  bool
	Problems int
}

// Diagnose reasons about what Gather saw. It does no I/O.
func Diagnose(f Facts) Report {
	d := &diagnosis{facts: f}
	d.interfaces()
	d.port5353()
	d.firewalls()
	d.answers()
	d.advise()
	return Report{Findings: append(d.findings, d.advice...), Healthy: len(f.Rooms) > 0 || d.problems == 0, Problems: d.problems}
}

type diagnosis struct {
	facts    Facts
	findings []Finding
	advice   []Finding
	problems int
	usable   int      // interfaces rooms can be found on
	idle     []string // what to do about interfaces that could be, were they connected
}

func (d *diagnosis) add(s Status, subject, format string, args ...any) {
	if s == Warn || s == Fail {
		d.problems++
	}
	d.findings = append(d.findings, Finding{s, subject, oneLine(fmt.Sprintf(format, args...))})
}

// oneLine keeps a finding on its line: errors joined with errors.Join
// have one line each, often the same one for every query.
func oneLine(text string) string {
	var parts []string
	for _, p := range strings.Split(text, "\n") {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "; ")
}

func (d *diagnosis) do(format string, args ...any) {
	line := Finding{Status: Do, Text: fmt.Sprintf(format, args...)}
	if !slices.Contains(d.advice, line) {
		d.advice = append(d.advice, line)
	}
}

func (d *diagnosis) interfaces() {
	if len(d.facts.Interfaces) == 0 {
		d.add(Fail, "interfaces", "none found")
		d.do("this machine has no network interface: connect it to the network the room is on")
		return
	}
	for _, ifc := range d.facts.Interfaces {
		d.checkInterface(ifc)
	}
	if d.usable == 0 || d.facts.Named {
		for _, advice := range d.idle {
			d.do("%s", advice)
		}
	}
	if d.usable == 0 {
		d.problems++
		d.do("no interface here can carry mDNS: connect to the room's network (an interface that is up, can multicast and has an address), or join with --addr HOST:PORT")
	}
}

func (d *diagnosis) checkInterface(ifc Interface) {
	name := ifc.Name
	if ifc.Loopback && !d.facts.Named {
		d.add(Info, name, "loopback, not searched (it reaches only this machine; name it with --iface %s to look there)", name)
		return
	}
	if !ifc.Up {
		if d.facts.Named {
			d.add(Fail, name, "down")
			d.do("%s is down: bring it up (ip link set %s up), or connect it", name, name)
		} else {
			d.add(Info, name, "down, not searched")
		}
		return
	}
	state := "up"
	// An idle interface (an unplugged port, a docker0 with no container)
	// is a problem when it was named, or when nothing else can be used.
	idle := Info
	if d.facts.Named {
		idle = Warn
	}
	if !ifc.Running && !ifc.Loopback {
		d.add(idle, name, "up but not connected (no carrier)")
		d.idle = append(d.idle, fmt.Sprintf("%s has no carrier: plug in its cable or join its Wi-Fi network", name))
		return
	}
	multicast := "can multicast"
	switch {
	case ifc.Multicast:
	case ifc.Loopback:
		// Linux multicasts on loopback whatever its flag says.
		multicast = "loopback"
	case d.facts.Named:
		multicast = "multicast flag off, searched as named"
	default:
		d.add(Warn, name, "%s, but its multicast flag is off: join and list skip it", state)
		d.do("%s says it cannot multicast, so join and list do not look there: name it (--iface %s), or turn it on (ip link set %s multicast on)", name, name, name)
		return
	}
	v4, v6 := split(ifc.Prefixes)
	if len(v4)+len(v6) == 0 {
		d.add(idle, name, "%s, %s, but has no address", state, multicast)
		d.idle = append(d.idle, fmt.Sprintf("%s has no address: wait for DHCP, or give it one; until then no room can be found over it", name))
		return
	}
	d.add(OK, name, "%s, %s, addresses %s", state, multicast, joinPrefixes(ifc.Prefixes))
	if len(v4) > 0 {
		d.checkRoute(name)
	} else {
		d.add(Info, name, "IPv6 only")
	}
	if len(v6) > 0 && !ifc.Loopback {
		d.checkRoute6(name, len(v4) == 0)
	}
	d.usable++
	d.checkProbe(ifc)
}

func split(prefixes []netip.Prefix) (v4, v6 []netip.Prefix) {
	for _, p := range prefixes {
		if p.Addr().Unmap().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	return v4, v6
}

func joinPrefixes(prefixes []netip.Prefix) string {
	s := make([]string, len(prefixes))
	for i, p := range prefixes {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// mdnsIPv4 is the mDNS group: the route that matters covers it.
var mdnsIPv4 = netip.MustParseAddr("224.0.0.251")

// checkRoute says whether IPv4 multicast has a route: the kernel refuses
// to join the mDNS group where no route covers 224.0.0.251 (a default
// route does), with "no such device".
func (d *diagnosis) checkRoute(name string) {
	if d.facts.RoutesErr != nil {
		d.add(Info, name, "multicast route: could not check (%v)", d.facts.RoutesErr)
		return
	}
	var covering []Route
	for _, r := range d.facts.Routes {
		if r.Dst.Contains(mdnsIPv4) {
			covering = append(covering, r)
		}
	}
	// The most specific route wins.
	slices.SortStableFunc(covering, func(a, b Route) int { return b.Dst.Bits() - a.Dst.Bits() })
	switch {
	case len(covering) == 0:
		d.add(Fail, name, "multicast is not routed: no route covers 224.0.0.0/4, and there is no default route")
		d.do("multicast is not routed on %s: add a route for it (ip route add 224.0.0.0/4 dev %s), or join with --addr HOST:PORT", name, name)
	case covering[0].Iface == name:
		what := "route " + covering[0].Dst.String()
		if covering[0].Dst.Bits() == 0 {
			what = "default route"
		}
		d.add(OK, name, "multicast routed (%s dev %s)", what, name)
	default:
		// chatroom names the interface of every query and group it
		// joins, so a route elsewhere is enough for it.
		d.add(OK, name, "multicast routed (through %s by default; chatroom names %s itself)", covering[0].Iface, name)
	}
}

// mdnsIPv6 is the IPv6 mDNS group.
var mdnsIPv6 = netip.MustParseAddr("ff02::fb")

// checkRoute6 says whether IPv6 multicast is routed on the interface:
// Linux gives each interface with IPv6 a route for ff00::/8 (ip -6 route
// show table local), and without it queries to ff02::fb cannot be sent
// there ("network is unreachable"). Named interfaces do not help, as for
// IPv4: the route must be the interface's own. Only where the interface
// has no IPv4 is it a failure: otherwise rooms are found over IPv4.
func (d *diagnosis) checkRoute6(name string, only bool) {
	if d.facts.Routes6Err != nil {
		d.add(Info, name, "IPv6 multicast route: could not check (%v)", d.facts.Routes6Err)
		return
	}
	var best *Route
	for i, r := range d.facts.Routes6 {
		if r.Iface == name && r.Dst.Contains(mdnsIPv6) && (best == nil || r.Dst.Bits() > best.Dst.Bits()) {
			best = &d.facts.Routes6[i]
		}
	}
	switch {
	case best != nil:
		d.add(OK, name, "IPv6 multicast routed (%s dev %s)", best.Dst, name)
	case only:
		d.add(Fail, name, "IPv6 multicast is not routed: no route covers ff00::/8 on %s", name)
		d.do("IPv6 multicast is not routed on %s: add a route for it (ip -6 route add multicast ff00::/8 dev %s table local), or join with --addr [HOST]:PORT", name, name)
	default:
		d.add(Info, name, "IPv6 multicast is not routed (no route covers ff00::/8 on %s): rooms are looked for over IPv4 only", name)
	}
}

func (d *diagnosis) checkProbe(ifc Interface) {
	if errors.Is(ifc.Probe4Err, discovery.ErrPortHeld) || errors.Is(ifc.Probe6Err, discovery.ErrPortHeld) {
		d.add(Fail, ifc.Name, "cannot query: UDP port 5353 is held by another program that does not share it")
		d.do("%s holds UDP port 5353 alone: chatroom cannot use mDNS beside it; stop it, or make it share the port (SO_REUSEADDR), or join with --addr HOST:PORT", holderNames(d.facts.Sockets, "another program"))
		return
	}
	if ifc.Probed4 && ifc.Probe4Err != nil {
		d.add(Warn, ifc.Name, "IPv4 query failed: %v", ifc.Probe4Err)
	}
	if ifc.Probed6 && ifc.Probe6Err != nil {
		// IPv4 alone finds rooms; where IPv6 is all there is, it matters.
		s := Info
		if !ifc.Probed4 {
			s = Warn
		}
		d.add(s, ifc.Name, "IPv6 query failed: %v", ifc.Probe6Err)
	}
}

func holderNames(sockets []Socket, unknown string) string {
	var names []string
	for _, s := range sockets {
		n := s.Process
		if n == "" {
			continue
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return unknown
	}
	return strings.Join(names, " and ")
}

// port5353 says who else speaks mDNS on this machine. They are normal
// (avahi-daemon on most Linux desktops): chatroom shares the port.
func (d *diagnosis) port5353() {
	if d.facts.SocketsErr != nil {
		d.add(Info, "udp 5353", "could not check who holds it (%v)", d.facts.SocketsErr)
		return
	}
	if len(d.facts.Sockets) == 0 {
		d.add(OK, "udp 5353", "no other program holds it")
		return
	}
	byName := map[string][]string{}
	var order []string
	for _, s := range d.facts.Sockets {
		name := s.Process
		if name == "" {
			name = "a program this user cannot see"
		} else if s.PID > 0 {
			name = fmt.Sprintf("%s (pid %d)", name, s.PID)
		}
		if _, ok := byName[name]; !ok {
			order = append(order, name)
		}
		if a := s.Local.Addr().String(); !slices.Contains(byName[name], a) {
			byName[name] = append(byName[name], a)
		}
	}
	for _, name := range order {
		d.add(Info, "udp 5353", "held by %s on %s", name, strings.Join(byName[name], ", "))
	}
	held := slices.ContainsFunc(d.facts.Interfaces, func(i Interface) bool {
		return errors.Is(i.Probe4Err, discovery.ErrPortHeld) || errors.Is(i.Probe6Err, discovery.ErrPortHeld)
	})
	probed := slices.ContainsFunc(d.facts.Interfaces, func(i Interface) bool { return i.Probed4 || i.Probed6 })
	if !held && probed {
		d.add(OK, "udp 5353", "shared: chatroom listens beside them")
		names := holderNames(d.facts.Sockets, "another mDNS program")
		verb := "is"
		if strings.Contains(names, " and ") {
			verb = "are"
		}
		d.do("%s %s on 5353: that is fine, chatroom shares the port", names, verb)
	}
}

func (d *diagnosis) firewalls() {
	if len(d.facts.Firewalls) == 0 {
		d.add(Info, "firewall", "could not check (neither nft nor iptables-save is installed)")
		return
	}
	readable := 0
	var why []string
	for _, fw := range d.facts.Firewalls {
		if fw.Err != nil {
			why = append(why, fmt.Sprintf("%s: %v", fw.Tool, fw.Err))
			continue
		}
		readable++
		var blocks []Block
		switch fw.Tool {
		case "nft":
			blocks = NftBlocks(fw.Text, d.facts.Port)
		default:
			blocks = IptablesBlocks(fw.Text, d.facts.Port)
		}
		if len(blocks) == 0 {
			d.add(OK, "firewall", "%s: no rule drops udp 5353 or tcp %d", fw.Tool, d.facts.Port)
		}
		for _, b := range blocks {
			s := Fail
			if b.Maybe {
				s = Warn
			}
			d.add(s, "firewall", "%s: %s: %s (%s)", fw.Tool, b.What, b.Rule, b.Where)
			switch {
			case b.Maybe:
				d.do("a firewall rule may drop mDNS or the room's port (%s): check it; chatroom doctor never changes rules", b.Rule)
			case b.Port == 5353:
				d.do("a firewall rule drops mDNS (udp 5353) here: allow udp port 5353 from the LAN, or join with --addr HOST:PORT; chatroom doctor never changes rules")
			default:
				d.do("a firewall rule drops tcp port %d, where rooms listen: to host a room here, allow it from the LAN, or members cannot connect", b.Port)
			}
		}
	}
	if readable == 0 {
		d.add(Info, "firewall", "could not check (%s)", strings.Join(why, "; "))
		d.do("the firewall could not be read: run chatroom doctor as root to check it")
	}
}

func (d *diagnosis) answers() {
	if d.facts.BrowseErr != nil {
		d.add(Warn, "rooms", "could not look for rooms: %s", oneLine(d.facts.BrowseErr.Error()))
	}
	if n := d.facts.NotRooms; n > 0 {
		// Not a problem of this machine's, nor one it can fix: something
		// on the LAN answers for the rooms' service with records no room
		// makes (a hostile script, or a broken program).
		d.add(Info, "rooms", "%s (anyone on the network can send such a record)", discovery.NotRoomsText(n))
	}
	for _, r := range d.facts.Rooms {
		d.add(Room, strconv.Quote(r.Name), "on %s at %s, id %s, key %s, seen on %s",
			strings.TrimSuffix(r.Host, "."), d.roomAddrs(r), r.ID, r.Fingerprint, strings.Join(r.Ifaces, ", "))
	}
	for _, ifc := range d.facts.Interfaces {
		for _, r := range ifc.Responders {
			var what []string
			if len(r.Hosts) > 0 {
				what = append(what, "host "+strings.Join(r.Hosts, ", "))
			}
			if len(r.Services) > 0 {
				what = append(what, "offers "+strings.Join(r.Services, ", "))
			}
			if len(r.Instances) > 0 {
				what = append(what, "rooms "+strings.Join(r.Instances, ", "))
			}
			if len(what) == 0 {
				what = append(what, "answered")
			}
			d.add(Seen, r.From.String()+" on "+ifc.Name, "%s", strings.Join(what, "; "))
		}
	}
}

// roomAddrs is where a room is, in the order join dials it, the one it
// dials first first: the address to use with --addr. This machine's own
// addresses among them are said to be so, last.
func (d *diagnosis) roomAddrs(r discovery.Room) string {
	addrs, own := join.DialAddrs(r, d.facts.Local)
	s := strings.Join(addrs, ", ")
	if len(addrs) == 0 {
		s = "port " + strconv.Itoa(r.Port)
	}
	if len(own) > 0 {
		s += fmt.Sprintf(" (and %s: this machine's own, not the room)", strings.Join(own, ", "))
	}
	return s
}

func (d *diagnosis) advise() {
	if n := len(d.facts.Rooms); n > 0 {
		if n == 1 {
			d.do("a room answered: chatroom join finds it")
		} else {
			d.do("%d rooms answered: chatroom join NAME joins one of them", n)
		}
		return
	}
	if d.usable == 0 {
		return
	}
	answered := slices.ContainsFunc(d.facts.Interfaces, func(i Interface) bool { return len(i.Responders) > 0 })
	if d.roomsOnlyProbed() {
		return
	}
	switch {
	case d.problems > 0:
		d.do("no room answered: fix what is above, then run chatroom doctor again")
	case answered:
		d.do("mDNS works here (others answered) but no room did: check that the room's host is on this network and advertised (it says \"advertised on ...\"), or ask its host for the address and use --addr")
	default:
		d.do("no answer: the room may be on another network; ask its host for the address and use --addr")
	}
}

// roomsOnlyProbed speaks of rooms that answered the doctor's own query
// but that join's search did not find: over IPv6, which join does not
// search, or where the search failed.
func (d *diagnosis) roomsOnlyProbed() bool {
	seen := false
	for _, ifc := range d.facts.Interfaces {
		for _, r := range ifc.Responders {
			if len(r.Instances) == 0 {
				continue
			}
			seen = true
			d.add(Warn, "rooms", "%s answered as %s, but join's search found no room", r.From, strings.Join(r.Instances, ", "))
			if r.From.Is6() {
				d.do("a room answers over IPv6 only, where join does not look: join with --addr [%s]:PORT (the port its host printed)", r.From)
			} else {
				d.do("a room at %s answers the doctor but not join's search: fix what is above, or join with --addr %s:PORT (the port its host printed)", r.From, r.From)
			}
		}
	}
	return seen
}

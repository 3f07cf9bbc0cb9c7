package doctor

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"chatroom/discovery"
	"chatroom/join"
)

// The checks are tested here against made-up machines: what Gather would
// have seen, given to Diagnose, which does no I/O.

func pfx(s ...string) []netip.Prefix {
	var p []netip.Prefix
	for _, x := range s {
		p = append(p, netip.MustParsePrefix(x))
	}
	return p
}

func eth0(mods ...func(*Interface)) Interface {
	i := Interface{Name: "eth0", Up: true, Running: true, Multicast: true, Prefixes: pfx("192.168.1.20/24", "fe80::1/64"), Probed4: true, Probed6: true}
	for _, m := range mods {
		m(&i)
	}
	return i
}

var defaultRoute = []Route{{Dst: netip.MustParsePrefix("0.0.0.0/0"), Iface: "eth0"}, {Dst: netip.MustParsePrefix("192.168.1.0/24"), Iface: "eth0"}}

// multicastRoute6 is the route Linux gives each interface with IPv6, in
// its local table.
var multicastRoute6 = []Route{{Dst: netip.MustParsePrefix("ff00::/8"), Iface: "eth0"}, {Dst: netip.MustParsePrefix("fe80::/64"), Iface: "eth0"}}

var emptyNft = []Ruleset{{Tool: "nft", Text: ""}}

// healthyLAN is a machine on a LAN where nothing is wrong and no room is.
func healthyLAN() Facts {
	return Facts{Port: 7465, Interfaces: []Interface{{Name: "lo", Up: true, Running: true, Loopback: true, Prefixes: pfx("127.0.0.1/8")}, eth0()},
		Routes: defaultRoute, Routes6: multicastRoute6, Firewalls: emptyNft}
}

var labRoom = discovery.Room{ID: "3f9a2c71d0e4b5a6", Name: "Lab 3", Fingerprint: "SHA256:" + strings.Repeat("A", 43), Port: 7465,
	Addrs: []netip.Addr{netip.MustParseAddr("192.168.1.30")}, Host: "lab-pc.local.", Ifaces: []string{"eth0"}}

func lines(r Report) []string {
	var s []string
	for _, f := range r.Findings {
		s = append(s, f.String())
	}
	return s
}

func mustHave(t *testing.T, r Report, want ...string) {
	t.Helper()
	got := lines(r)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("no line %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
}

func mustNotHave(t *testing.T, r Report, prefix string) {
	t.Helper()
	for _, l := range lines(r) {
		if strings.HasPrefix(l, prefix) {
			t.Errorf("unexpected line %q", l)
		}
	}
}

func TestHealthyLANWithoutRoom(t *testing.T) {
	r := Diagnose(healthyLAN())
	mustHave(t, r,
		"info lo: loopback, not searched (it reaches only this machine; name it with --iface lo to look there)",
		"ok   eth0: up, can multicast, addresses 192.168.1.20/24, fe80::1/64",
		"ok   eth0: multicast routed (default route dev eth0)",
		"ok   eth0: IPv6 multicast routed (ff00::/8 dev eth0)",
		"ok   udp 5353: no other program holds it",
		"ok   firewall: nft: no rule drops udp 5353 or tcp 7465",
		"do   no answer: the room may be on another network; ask its host for the address and use --addr",
	)
	if !r.Healthy || r.Problems != 0 {
		t.Errorf("healthy %v, %d problems", r.Healthy, r.Problems)
	}
	if last := r.Findings[len(r.Findings)-1]; last.Status != Do {
		t.Errorf("the report ends with %q, not what to do", last)
	}
}

// Beside avahi, the normal case on a Linux desktop: nothing to fix.
func TestAvahiShares5353(t *testing.T) {
	f := healthyLAN()
	f.Sockets = []Socket{
		{Local: netip.MustParseAddrPort("0.0.0.0:5353"), Process: "avahi-daemon", PID: 812},
		{Local: netip.MustParseAddrPort("[::]:5353"), Process: "avahi-daemon", PID: 812},
	}
	f.Interfaces[1].Responders = []discovery.Responder{{From: netip.MustParseAddr("192.168.1.7"), Iface: "eth0", Hosts: []string{"printer.local."}, Services: []string{"_ipp._tcp"}}}
	r := Diagnose(f)
	mustHave(t, r,
		"info udp 5353: held by avahi-daemon (pid 812) on 0.0.0.0, ::",
		"ok   udp 5353: shared: chatroom listens beside them",
		"seen 192.168.1.7 on eth0: host printer.local.; offers _ipp._tcp",
		"do   avahi-daemon is on 5353: that is fine, chatroom shares the port",
		`do   mDNS works here (others answered) but no room did: check that the room's host is on this network and advertised (it says "advertised on ..."), or ask its host for the address and use --addr`,
	)
	if !r.Healthy {
		t.Error("not healthy beside avahi")
	}
}

// A program that holds 5353 without sharing it (some old responders):
// chatroom can do nothing beside it.
func TestPortHeldAlone(t *testing.T) {
	f := healthyLAN()
	f.Sockets = []Socket{{Local: netip.MustParseAddrPort("0.0.0.0:5353"), Process: "mdnsd", PID: 99}}
	f.Interfaces[1].Probe4Err = fmt.Errorf("probing over IPv4 on eth0: %w", discovery.ErrPortHeld)
	r := Diagnose(f)
	mustHave(t, r,
		"fail eth0: cannot query: UDP port 5353 is held by another program that does not share it",
		"do   mdnsd holds UDP port 5353 alone: chatroom cannot use mDNS beside it; stop it, or make it share the port (SO_REUSEADDR), or join with --addr HOST:PORT",
	)
	mustNotHave(t, r, "ok   udp 5353: shared")
	if r.Healthy {
		t.Error("healthy though the port cannot be shared")
	}
}

// No route covers the mDNS group: joining it fails with "no such device".
func TestMulticastNotRouted(t *testing.T) {
	f := healthyLAN()
	f.Routes = []Route{{Dst: netip.MustParsePrefix("192.168.1.0/24"), Iface: "eth0"}}
	r := Diagnose(f)
	mustHave(t, r,
		"fail eth0: multicast is not routed: no route covers 224.0.0.0/4, and there is no default route",
		"do   multicast is not routed on eth0: add a route for it (ip route add 224.0.0.0/4 dev eth0), or join with --addr HOST:PORT",
		"do   no room answered: fix what is above, then run chatroom doctor again",
	)
	if r.Healthy {
		t.Error("healthy without a multicast route")
	}
}

func TestMulticastRouteElsewhere(t *testing.T) {
	f := healthyLAN()
	f.Routes = append(f.Routes, Route{Dst: netip.MustParsePrefix("224.0.0.0/4"), Iface: "wlan0"})
	mustHave(t, Diagnose(f), "ok   eth0: multicast routed (through wlan0 by default; chatroom names eth0 itself)")
}

func TestFirewallDropsMDNS(t *testing.T) {
	f := healthyLAN()
	f.Firewalls = []Ruleset{{Tool: "nft", Text: "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tudp dport 5353 drop\n\t}\n}\n"}}
	r := Diagnose(f)
	mustHave(t, r,
		"fail firewall: nft: drops udp 5353 (mDNS): udp dport 5353 drop (table inet filter, chain input)",
		"do   a firewall rule drops mDNS (udp 5353) here: allow udp port 5353 from the LAN, or join with --addr HOST:PORT; chatroom doctor never changes rules",
	)
	if r.Healthy {
		t.Error("healthy behind a rule that drops mDNS")
	}
	// A room found anyway (on another interface, say) is what counts.
	f.Rooms = []discovery.Room{labRoom}
	r = Diagnose(f)
	mustHave(t, r,
		`room "Lab 3": on lab-pc.local at 192.168.1.30:7465, id 3f9a2c71d0e4b5a6, key SHA256:`+strings.Repeat("A", 43)+", seen on eth0",
		"do   a room answered: chatroom join finds it")
	if !r.Healthy {
		t.Error("not healthy though a room was found")
	}
}

// The docker0 case: the room advertises its idle docker0's 172.17.0.1
// first, and this machine has a docker0 with that address too. The
// doctor showed the room "at 172.17.0.1:7465" first, which a person
// copying it into --addr found to be their own machine. It shows the
// room where join dials it first, and names this machine's own address
// as not the room.
func TestRoomShownWhereJoinDials(t *testing.T) {
	f := healthyLAN()
	room := labRoom
	room.Addrs = []netip.Addr{netip.MustParseAddr("172.17.0.1"), netip.MustParseAddr("10.9.0.5"), netip.MustParseAddr("192.168.1.30")}
	f.Rooms = []discovery.Room{room}
	f.Local = []join.LocalAddr{
		{Iface: "docker0", Prefix: netip.MustParsePrefix("172.17.0.1/16")},
		{Iface: "eth0", Prefix: netip.MustParsePrefix("192.168.1.20/24")},
	}
	mustHave(t, Diagnose(f),
		`room "Lab 3": on lab-pc.local at 192.168.1.30:7465, 10.9.0.5:7465 (and 172.17.0.1:7465: this machine's own, not the room), id 3f9a2c71d0e4b5a6, key SHA256:`+strings.Repeat("A", 43)+", seen on eth0")
}

// IPv6 multicast needs the interface's own ff00::/8 route: without it,
// queries to ff02::fb cannot leave ("network is unreachable"). On an
// IPv6-only LAN that is why no room is found; beside IPv4 it is only worth
// knowing. A route on another interface does not help.
func TestIPv6MulticastRoute(t *testing.T) {
	v6only := func(i *Interface) { i.Prefixes = pfx("fd90::1/64", "fe80::1/64"); i.Probed4 = false }
	other := []Route{{Dst: netip.MustParsePrefix("ff00::/8"), Iface: "wlan0"}}
	for _, tc := range []struct {
		name    string
		ifc     Interface
		routes  []Route
		err     error
		want    []string
		healthy bool
	}{
		{"routed", eth0(), multicastRoute6, nil, []string{"ok   eth0: IPv6 multicast routed (ff00::/8 dev eth0)"}, true},
		{"IPv6 only, routed", eth0(v6only), multicastRoute6, nil, []string{"ok   eth0: IPv6 multicast routed (ff00::/8 dev eth0)"}, true},
		{"IPv6 only, not routed", eth0(v6only), nil, nil, []string{
			"fail eth0: IPv6 multicast is not routed: no route covers ff00::/8 on eth0",
			"do   IPv6 multicast is not routed on eth0: add a route for it (ip -6 route add multicast ff00::/8 dev eth0 table local), or join with --addr [HOST]:PORT"}, false},
		{"IPv6 only, routed elsewhere", eth0(v6only), other, nil, []string{
			"fail eth0: IPv6 multicast is not routed: no route covers ff00::/8 on eth0"}, false},
		{"beside IPv4, not routed", eth0(), nil, nil, []string{
			"info eth0: IPv6 multicast is not routed (no route covers ff00::/8 on eth0): rooms are looked for over IPv4 only"}, true},
		{"unreadable", eth0(v6only), nil, errors.New("this system has no /proc/net/ipv6_route"), []string{
			"info eth0: IPv6 multicast route: could not check (this system has no /proc/net/ipv6_route)"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := healthyLAN()
			f.Interfaces[1] = tc.ifc
			f.Routes6, f.Routes6Err = tc.routes, tc.err
			r := Diagnose(f)
			mustHave(t, r, tc.want...)
			if r.Healthy != tc.healthy {
				t.Errorf("healthy %v, want %v", r.Healthy, tc.healthy)
			}
		})
	}
}

// Without root, nft and iptables-save cannot read the rules: say so, and
// count it as no problem found.
func TestFirewallUnreadable(t *testing.T) {
	f := healthyLAN()
	f.Firewalls = []Ruleset{{Tool: "nft", Err: errors.New("Operation not permitted")}, {Tool: "iptables-save", Err: errors.New("Permission denied (you must be root)")}}
	r := Diagnose(f)
	mustHave(t, r,
		"info firewall: could not check (nft: Operation not permitted; iptables-save: Permission denied (you must be root))",
		"do   the firewall could not be read: run chatroom doctor as root to check it")
	if !r.Healthy {
		t.Error("an unreadable firewall counted as a problem")
	}
	f.Firewalls = nil
	mustHave(t, Diagnose(f), "info firewall: could not check (neither nft nor iptables-save is installed)")
}

func TestInterfaceStates(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ifc   Interface
		named bool
		want  []string
	}{
		{"down", eth0(func(i *Interface) { i.Up = false }), false, []string{"info eth0: down, not searched"}},
		{"down and named", eth0(func(i *Interface) { i.Up = false }), true, []string{"fail eth0: down", "do   eth0 is down: bring it up (ip link set eth0 up), or connect it"}},
		// The only interface: what to do about it.
		{"no carrier", eth0(func(i *Interface) { i.Running = false }), false, []string{
			"info eth0: up but not connected (no carrier)", "do   eth0 has no carrier: plug in its cable or join its Wi-Fi network"}},
		{"no carrier, named", eth0(func(i *Interface) { i.Running = false }), true, []string{"warn eth0: up but not connected (no carrier)"}},
		{"no address", eth0(func(i *Interface) { i.Prefixes = nil }), false, []string{
			"info eth0: up, can multicast, but has no address", "do   eth0 has no address: wait for DHCP, or give it one; until then no room can be found over it"}},
		// --iface helps here, and only here: join and list skip it.
		{"multicast flag off", eth0(func(i *Interface) { i.Multicast = false }), false, []string{
			"warn eth0: up, but its multicast flag is off: join and list skip it",
			"do   eth0 says it cannot multicast, so join and list do not look there: name it (--iface eth0), or turn it on (ip link set eth0 multicast on)"}},
		{"IPv6 only", eth0(func(i *Interface) { i.Prefixes = pfx("fd90::1/64", "fe80::1/64"); i.Probed4 = false }), false, []string{
			"ok   eth0: up, can multicast, addresses fd90::1/64, fe80::1/64", "info eth0: IPv6 only"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := healthyLAN()
			f.Interfaces[1] = tc.ifc
			f.Named = tc.named
			mustHave(t, Diagnose(f), tc.want...)
		})
	}
}

// An IPv6 query that fails beside IPv4 is worth knowing; with no IPv4 it
// is a problem.
func TestIPv6ProbeFailed(t *testing.T) {
	f := healthyLAN()
	f.Interfaces[1].Probe6Err = errors.New("sending a query over IPv6 on eth0: cannot assign requested address")
	r := Diagnose(f)
	mustHave(t, r, "info eth0: IPv6 query failed: sending a query over IPv6 on eth0: cannot assign requested address")
	if !r.Healthy {
		t.Error("an IPv6 failure beside IPv4 counted as a problem")
	}
	f.Interfaces[1].Prefixes = pfx("fe80::1/64")
	f.Interfaces[1].Probed4 = false
	if r := Diagnose(f); r.Healthy {
		t.Errorf("healthy though the only query failed:\n%s", strings.Join(lines(r), "\n"))
	}
}

func TestNoInterfaceAtAll(t *testing.T) {
	r := Diagnose(Facts{Port: 7465, Interfaces: []Interface{{Name: "lo", Up: true, Running: true, Loopback: true, Prefixes: pfx("127.0.0.1/8")}}, Routes: nil, Firewalls: emptyNft})
	mustHave(t, r, "do   no interface here can carry mDNS: connect to the room's network (an interface that is up, can multicast and has an address), or join with --addr HOST:PORT")
	if r.Healthy {
		t.Error("healthy with no interface to search")
	}
}

// Every finding is one line, whatever an error said.
func TestOneLinePerFinding(t *testing.T) {
	f := healthyLAN()
	f.BrowseErr = errors.Join(errors.New("browsing on eth0: failed to bind to any multicast udp port"), errors.New("browsing on eth0: failed to bind to any multicast udp port"))
	r := Diagnose(f)
	for _, l := range lines(r) {
		if strings.Contains(l, "\n") {
			t.Errorf("line %q has a newline", l)
		}
	}
	mustHave(t, r, "warn rooms: could not look for rooms: browsing on eth0: failed to bind to any multicast udp port")
}

// A room that answers the doctor's query but that join's search misses
// (it answers over IPv6 only, say) is not "no answer".
func TestRoomOnlyProbed(t *testing.T) {
	f := healthyLAN()
	f.Interfaces[1].Responders = []discovery.Responder{{From: netip.MustParseAddr("fe80::1").WithZone("eth0"), Iface: "eth0", Hosts: []string{"lab-pc.local."}, Services: []string{"_chatroom._tcp"}, Instances: []string{"lab-3-3f9a2c"}}}
	r := Diagnose(f)
	mustHave(t, r,
		"seen fe80::1%eth0 on eth0: host lab-pc.local.; offers _chatroom._tcp; rooms lab-3-3f9a2c",
		"warn rooms: fe80::1%eth0 answered as lab-3-3f9a2c, but join's search found no room",
		"do   a room answers over IPv6 only, where join does not look: join with --addr [fe80::1%eth0]:PORT (the port its host printed)")
	mustNotHave(t, r, "do   no answer")
	if r.Healthy {
		t.Error("healthy though join cannot find the room that answered")
	}
}

// An idle docker0 (up, no carrier, as with no container running) beside a
// working LAN is no problem, and no advice.
func TestIdleInterfaceBesideLAN(t *testing.T) {
	f := healthyLAN()
	f.Interfaces = append(f.Interfaces, Interface{Name: "docker0", Up: true, Multicast: true, Prefixes: pfx("172.17.0.1/16")})
	r := Diagnose(f)
	mustHave(t, r, "info docker0: up but not connected (no carrier)")
	mustNotHave(t, r, "do   docker0")
	if !r.Healthy || r.Problems != 0 {
		t.Errorf("healthy %v, %d problems", r.Healthy, r.Problems)
	}
}

// A script on the LAN answers for the rooms' service with records whose
// id is not the form a room makes: join drops them, and doctor says that
// something answered and was ignored, rather than nothing at all. It is
// no problem of this machine's: doctor still finds it healthy.
func TestNotRoomsReported(t *testing.T) {
	f := healthyLAN()
	f.NotRooms = 2
	r := Diagnose(f)
	mustHave(t, r, "info rooms: 2 answers ignored, as no room's: their id, key or version is not the form a room makes (anyone on the network can send such a record)")
	if !r.Healthy || r.Problems != 0 {
		t.Errorf("healthy %v, %d problems", r.Healthy, r.Problems)
	}
	f.NotRooms = 0
	mustNotHave(t, Diagnose(f), "info rooms:")
}

package discovery

import (
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Table tests of the plain functions behind the advertisement: how a query
// is answered (RFC 6762), what changed in the network, which addresses of
// an interface are advertised.

func testZone() zoneRecords {
	addrs := []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("fd00::5"), netip.MustParseAddr("fe80::5")}
	return newZoneRecords("lab-3-3f9a2c", "lab-pc.local.", 7465, addrs, []string{"v=1"}, 120)
}

func query(qclass uint16, qtype uint16, name string, known ...dns.RR) *dns.Msg {
	m := &dns.Msg{Question: []dns.Question{{Name: name, Qtype: qtype, Qclass: qclass}}, Answer: known}
	m.Id = 4242
	return m
}

const servicePTR = Service + "." + domain

// The answer rule. What it stands against: avahi (or mDNSResponder, or
// python-zeroconf) on port 5353 asking, and the answer sent by unicast to
// port 5353, where Linux hands it to whichever socket bound last: the
// asker never hears it and drops the live room when its TTL runs out.
func TestRepliesFollowRFC6762(t *testing.T) {
	z := testZone()
	long := time.Hour
	cases := []struct {
		name           string
		query          *dns.Msg
		srcPort        int
		sinceMulticast time.Duration
		multicast      bool
		unicast        bool
		legacy         bool
	}{
		{"a responder asks from 5353: multicast", query(dns.ClassINET, dns.TypePTR, servicePTR), 5353, long, true, false, false},
		{"asked for unicast, multicast recently: unicast", query(dns.ClassINET|qclassUnicast, dns.TypePTR, servicePTR), 5353, 10 * time.Second, false, true, false},
		{"asked for unicast, not multicast for a quarter TTL: multicast", query(dns.ClassINET|qclassUnicast, dns.TypePTR, servicePTR), 5353, 31 * time.Second, true, false, false},
		{"a one-shot querier on another port: legacy unicast", query(dns.ClassINET, dns.TypePTR, servicePTR), 40000, long, false, true, true},
		{"a one-shot querier asking for unicast: legacy unicast", query(dns.ClassINET|qclassUnicast, dns.TypePTR, servicePTR), 40000, long, false, true, true},
		{"multicast less than a second ago: not again", query(dns.ClassINET, dns.TypePTR, servicePTR), 5353, 500 * time.Millisecond, false, false, false},
		{"names match whatever their case", query(dns.ClassINET, dns.TypePTR, strings.ToUpper(servicePTR)), 5353, long, true, false, false},
		{"another service: no answer", query(dns.ClassINET, dns.TypePTR, "_http._tcp.local."), 5353, long, false, false, false},
		{"the host's addresses", query(dns.ClassINET, dns.TypeAAAA, "lab-pc.local."), 5353, long, true, false, false},
		{"known answer with most of its TTL: suppressed", query(dns.ClassINET, dns.TypePTR, servicePTR, withTTL(z.servicePTR, 100, false)), 5353, long, false, false, false},
		{"known answer about to expire: answered", query(dns.ClassINET, dns.TypePTR, servicePTR, withTTL(z.servicePTR, 30, false)), 5353, long, true, false, false},
		{"a response is not a query", func() *dns.Msg { m := query(dns.ClassINET, dns.TypePTR, servicePTR); m.Response = true; return m }(), 5353, long, false, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, u := replies(c.query, c.srcPort, z, func(dns.RR) time.Duration { return c.sinceMulticast }, 120)
			if (m != nil) != c.multicast || (u != nil) != c.unicast {
				t.Fatalf("multicast %v unicast %v, want %v %v", m != nil, u != nil, c.multicast, c.unicast)
			}
			if m != nil {
				if m.Id != 0 || len(m.Question) != 0 {
					t.Errorf("multicast answer has id %d, %d questions", m.Id, len(m.Question))
				}
				checkTTLs(t, m, 120, true)
			}
			if u != nil {
				if c.legacy {
					// RFC 6762, 6.7: id and question repeated, TTL at
					// most 10 s, no cache-flush bit.
					if u.Id != 4242 || len(u.Question) != 1 {
						t.Errorf("legacy answer has id %d, %d questions", u.Id, len(u.Question))
					}
					checkTTLs(t, u, legacyTTL, false)
				} else {
					checkTTLs(t, u, 120, true)
				}
			}
		})
	}
}

func checkTTLs(t *testing.T, m *dns.Msg, ttl uint32, cacheFlush bool) {
	t.Helper()
	if len(m.Answer) == 0 {
		t.Fatal("no answer")
	}
	for _, rr := range append(slices.Clone(m.Answer), m.Extra...) {
		h := rr.Header()
		if h.Ttl != ttl {
			t.Errorf("%v: TTL %d, want %d", rr, h.Ttl, ttl)
		}
		if flush := h.Class&qclassUnicast != 0; flush != (cacheFlush && unique(rr)) {
			t.Errorf("%v: cache-flush %v", rr, flush)
		}
	}
	if _, err := m.Pack(); err != nil {
		t.Fatal(err)
	}
}

// The one-second rule is per record (RFC 6762, 6): a record just
// multicast is not sent again, but one that was not (the list of service
// types, asked for by "avahi-browse -a" just after a room's announcement)
// is.
func TestMulticastGapPerRecord(t *testing.T) {
	z := testZone()
	justSent := map[string]bool{recordKey(z.servicePTR): true, recordKey(z.srv): true, recordKey(z.txt): true}
	for _, rr := range z.addrs {
		justSent[recordKey(rr)] = true
	}
	since := func(rr dns.RR) time.Duration {
		if justSent[recordKey(rr)] {
			return 100 * time.Millisecond
		}
		return time.Hour
	}
	if m, u := replies(query(dns.ClassINET, dns.TypePTR, servicePTR), 5353, z, since, 120); m != nil || u != nil {
		t.Fatalf("the room's PTR, multicast 100 ms ago, multicast again: %v", m)
	}
	m, _ := replies(query(dns.ClassINET, dns.TypePTR, enumName), 5353, z, since, 120)
	if m == nil || len(m.Answer) != 1 || m.Answer[0].(*dns.PTR).Ptr != servicePTR {
		t.Fatalf("the service type list was not answered: %v", m)
	}
}

// A browser asking for rooms gets, in one packet, all it needs to join:
// the PTR, and SRV, TXT, A and AAAA in the additional section.
func TestPTRAnswerCarriesEverything(t *testing.T) {
	m, _ := replies(query(dns.ClassINET, dns.TypePTR, servicePTR), 5353, testZone(), func(dns.RR) time.Duration { return time.Hour }, 120)
	var types []string
	for _, rr := range append(slices.Clone(m.Answer), m.Extra...) {
		types = append(types, dns.TypeToString[rr.Header().Rrtype])
	}
	if want := []string{"PTR", "SRV", "TXT", "A", "AAAA", "AAAA"}; !slices.Equal(types, want) {
		t.Fatalf("answer carries %v, want %v", types, want)
	}
}

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func testLink(index int, name string, a ...string) link {
	l := link{iface: net.Interface{Index: index, Name: name}}
	for _, addr := range addrs(a...) {
		bits := 24
		if addr.Is6() {
			bits = 64
		}
		l.prefixes = append(l.prefixes, netip.PrefixFrom(addr, bits))
	}
	return l
}

func TestDiffLinks(t *testing.T) {
	eth0 := testLink(2, "eth0", "10.0.0.5")
	cases := []struct {
		name     string
		old, now []link
		want     []string
	}{
		{"nothing changed", []link{eth0}, []link{eth0}, nil},
		{"first address (a host started before it had one)", nil, []link{eth0},
			[]string{"now advertised on eth0 (10.0.0.5)"}},
		{"address renewed to another", []link{eth0}, []link{testLink(2, "eth0", "10.0.0.8")},
			[]string{"now advertised on eth0 at 10.0.0.8, no longer at 10.0.0.5"}},
		{"an IPv6 address added", []link{eth0}, []link{testLink(2, "eth0", "10.0.0.5", "fd00::5")},
			[]string{"now advertised on eth0 at fd00::5 too"}},
		{"an address of two removed", []link{testLink(2, "eth0", "10.0.0.5", "10.0.0.6")}, []link{eth0},
			[]string{"no longer advertised on eth0 at 10.0.0.6"}},
		{"a late interface", []link{eth0}, []link{eth0, testLink(3, "eth1", "10.1.0.7")},
			[]string{"now advertised on eth1 (10.1.0.7)"}},
		{"an interface gone", []link{eth0, testLink(3, "wlan0", "192.168.1.4")}, []link{eth0},
			[]string{"no longer advertised on wlan0 (192.168.1.4)"}},
		{"roaming: one gone, one come", []link{testLink(3, "wlan0", "192.168.1.4")}, []link{eth0},
			[]string{"now advertised on eth0 (10.0.0.5)", "no longer advertised on wlan0 (192.168.1.4)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, ch := range diffLinks(c.old, c.now) {
				got = append(got, ch.String())
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func ipnet(s string) *net.IPNet {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	n.IP = ip
	return n
}

func TestUsablePrefixes(t *testing.T) {
	eth := net.Interface{Name: "eth0", Flags: net.FlagUp | net.FlagMulticast}
	lo := net.Interface{Name: "lo", Flags: net.FlagUp | net.FlagLoopback}
	all := []net.Addr{ipnet("fe80::1/64"), ipnet("fd00::1/64"), ipnet("10.0.0.5/24"), ipnet("2001:db8::1/64")}
	cases := []struct {
		name string
		ifc  net.Interface
		bind string
		want []string
	}{
		{"IPv4 first, link-local last", eth, "", []string{"10.0.0.5/24", "fd00::1/64", "2001:db8::1/64", "fe80::1/64"}},
		{"listening on ::: both families", eth, "::", []string{"10.0.0.5/24", "fd00::1/64", "2001:db8::1/64", "fe80::1/64"}},
		{"listening on 0.0.0.0: IPv4 only", eth, "0.0.0.0", []string{"10.0.0.5/24"}},
		{"listening on one address: that one", eth, "fd00::1", []string{"fd00::1/64"}},
		{"no IPv6 on loopback, where it cannot multicast", lo, "", []string{"10.0.0.5/24"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var bind netip.Addr
			if c.bind != "" {
				bind = netip.MustParseAddr(c.bind)
			}
			var got []string
			for _, p := range usablePrefixes(c.ifc, all, bind) {
				got = append(got, p.String())
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

// BenchmarkCurrentLinks measures what following the network costs each
// second: listing the interfaces and their addresses. Run:
//
//	go test -run '^$' -bench CurrentLinks ./discovery/
func BenchmarkCurrentLinks(b *testing.B) {
	for b.Loop() {
		if _, err := currentLinks(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// Why an interface cannot be advertised on is said in words, without Go's
// socket details ("listen udp4 224.0.0.251:5353: setsockopt: ...").
func TestJoinErrorInWords(t *testing.T) {
	err := joinError(true, &net.OpError{Op: "listen", Net: "udp4", Err: os.NewSyscallError("setsockopt", syscall.ENODEV)})
	if want := "cannot join the IPv4 mDNS group there: no such device (is there a route for multicast, 224.0.0.0/4?)"; err.Error() != want {
		t.Fatalf("got %q, want %q", err, want)
	}
	c := Change{Interface: "eth1", Err: err}
	if !strings.HasPrefix(c.String(), "not advertised on eth1: cannot join") {
		t.Fatalf("said %q", c)
	}
}

// What it stands against: a query to the mDNS group with a forged source
// address off the link, which would have the room send its answer, by
// unicast, to a stranger on the Internet.
func TestUnicastOnlyOnTheLink(t *testing.T) {
	prefixes := []netip.Prefix{netip.MustParsePrefix("10.0.0.5/24"), netip.MustParsePrefix("fd00::5/64"), netip.MustParsePrefix("fe80::5/64")}
	for src, want := range map[string]bool{
		"10.0.0.9":         true,
		"fd00::9":          true,
		"fe80::9%eth0":     true,
		"169.254.3.4":      true, // a link-local asker in no subnet of ours
		"::ffff:10.0.0.9":  true,
		"127.0.0.1":        true, // this machine
		"0.0.0.0":          true, // this machine, asking on lo
		"::1":              true,
		"192.0.2.1":        false,
		"2001:db8::1":      false,
		"::ffff:192.0.2.1": false,
	} {
		if got := mayUnicastTo(netip.MustParseAddr(src), prefixes); got != want {
			t.Errorf("answer %s alone: %v, want %v", src, got, want)
		}
	}
}

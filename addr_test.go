package main

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// What people type after reading "ip addr": an IPv6 address and a port
// with no brackets. What broke: "not HOST:PORT", with no word of brackets.
func TestCheckAddrIPv6(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"fd90::1:7465", `--addr "fd90::1:7465" is not HOST:PORT: an IPv6 address goes in brackets, as in [fd90::1]:7465`},
		{"fe80::1%lo:7465", `--addr "fe80::1%lo:7465" is not HOST:PORT: an IPv6 address goes in brackets, as in [fe80::1%lo]:7465`},
		{"fd90::1", `--addr "fd90::1" is not HOST:PORT: an IPv6 address goes in brackets, as in [fd90::1]:7465`},
		{"::1", `--addr "::1" is not HOST:PORT: an IPv6 address goes in brackets, as in [::1]:7465`},
		{"nonsense", `--addr "nonsense" is not HOST:PORT (for example 192.168.1.20:7465, or [fd90::1]:7465)`},
		{":7465", `--addr ":7465" names no host: give the room's address, as in 192.168.1.20:7465`},
		{"[fd90::1]:http", `--addr "[fd90::1]:http": the port must be a number from 1 to 65535`},
		{"[fe80::1%nosuch9]:7465", `--addr "[fe80::1%nosuch9]:7465": a link-local address needs this machine's interface after the %, and there is no interface called "nosuch9" here`},
		{"[fe80::1]:7465", `--addr "[fe80::1]:7465": a link-local address needs your interface on the room's network after a %, as in [fe80::1%eth0]:7465`},
		{"[fd90::1]:7465", ""},
		{"[fe80::1%lo]:7465", ""},
		{"192.168.1.20:7465", ""},
		{"lab-pc.local:7465", ""},
	} {
		got := ""
		if err := checkAddr(tc.addr); err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("checkAddr(%q) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

// A room listening on every interface used to print 0.0.0.0:7465, which
// tells no one where to connect, and nothing of IPv6.
func TestReachableAt(t *testing.T) {
	ifaces := []interfaceAddrs{
		{name: "lo", loopback: true, addrs: addrs("127.0.0.1", "::1")},
		{name: "eth0", addrs: addrs("192.168.1.20", "fd90::1", "fe80::1c2:3ff:fe4a:5b6c")},
		{name: "wlan0", addrs: addrs("10.0.0.7")},
	}
	lines, linkLocal := reachableAt(netip.MustParseAddrPort("[::]:7465"), ifaces)
	want := []string{"eth0 at 192.168.1.20:7465, [fd90::1]:7465, [fe80::1c2:3ff:fe4a:5b6c%IFACE]:7465", "wlan0 at 10.0.0.7:7465"}
	if !slices.Equal(lines, want) || !linkLocal {
		t.Errorf("dual-stack: %q %v, want %q", lines, linkLocal, want)
	}
	// 0.0.0.0 takes IPv4 only.
	lines, linkLocal = reachableAt(netip.MustParseAddrPort("0.0.0.0:7465"), ifaces)
	if want := []string{"eth0 at 192.168.1.20:7465", "wlan0 at 10.0.0.7:7465"}; !slices.Equal(lines, want) || linkLocal {
		t.Errorf("IPv4: %q %v, want %q", lines, linkLocal, want)
	}
	// Loopback only when there is nothing else.
	lines, _ = reachableAt(netip.MustParseAddrPort("[::]:7465"), ifaces[:1])
	if want := []string{"lo at 127.0.0.1:7465, [::1]:7465"}; !slices.Equal(lines, want) {
		t.Errorf("loopback: %q, want %q", lines, want)
	}
	for _, l := range lines {
		if strings.Contains(l, "0.0.0.0") || strings.Contains(l, "[::]") {
			t.Errorf("a wildcard address in %q", l)
		}
	}
}

func addrs(s ...string) []netip.Addr {
	var a []netip.Addr
	for _, x := range s {
		a = append(a, netip.MustParseAddr(x))
	}
	return a
}

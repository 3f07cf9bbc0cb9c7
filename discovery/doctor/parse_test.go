package doctor

import (
	"net/netip"
	"slices"
	"testing"
)

// As /proc/net/udp and udp6 print them (Linux, little-endian): avahi on
// 0.0.0.0:5353, [::]:5353 and [::1]:5353, a resolver on 127.0.0.53:53.
const procUDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  591: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000   107        0 21511 2 0000000000000000 0
  794: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   102        0 20120 2 0000000000000000 0
`

const procUDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  591: 00000000000000000000000000000000:14E9 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   107        0 21512 2 0000000000000000 0
  600: 00000000000000000000000001000000:14E9 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   107        0 21513 2 0000000000000000 0
`

func TestProcUDPSockets(t *testing.T) {
	local, inodes := ProcUDPSockets(procUDP, 5353)
	if !slices.Equal(local, []netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:5353")}) || !slices.Equal(inodes, []string{"21511"}) {
		t.Errorf("udp: %v %v", local, inodes)
	}
	local, inodes = ProcUDPSockets(procUDP6, 5353)
	want := []netip.AddrPort{netip.MustParseAddrPort("[::]:5353"), netip.MustParseAddrPort("[::1]:5353")}
	if !slices.Equal(local, want) || !slices.Equal(inodes, []string{"21512", "21513"}) {
		t.Errorf("udp6: %v %v, want %v", local, inodes, want)
	}
}

const procRoute = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	0101A8C0	0003	0	0	100	00000000	0	0	0
eth0	0001A8C0	00000000	0001	0	0	100	00FFFFFF	0	0	0
lo	000000E0	00000000	0001	0	0	0	000000F0	0	0	0
dead0	000000E0	00000000	0000	0	0	0	000000F0	0	0	0
`

func TestProcRoutes(t *testing.T) {
	got := ProcRoutes(procRoute)
	want := []Route{
		{netip.MustParsePrefix("0.0.0.0/0"), "eth0"},
		{netip.MustParsePrefix("192.168.1.0/24"), "eth0"},
		{netip.MustParsePrefix("224.0.0.0/4"), "lo"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("routes %v, want %v", got, want)
	}
}

// From a machine with eth0 (fd00::2/64) and lo: the multicast route is
// in the local table, which /proc/net/ipv6_route lists too; lo's
// "unreachable" default is not a route.
const procRoute6 = `fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000000     down0
garbage
`

func TestProcRoutes6(t *testing.T) {
	got := ProcRoutes6(procRoute6)
	want := []Route{
		{netip.MustParsePrefix("fd00::/64"), "eth0"},
		{netip.MustParsePrefix("::/0"), "eth0"},
		{netip.MustParsePrefix("::1/128"), "lo"},
		{netip.MustParsePrefix("ff00::/8"), "eth0"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("routes %v, want %v", got, want)
	}
}

func TestNftBlocks(t *testing.T) {
	for _, tc := range []struct {
		name, ruleset string
		want          []Block
	}{
		{"nothing", "", nil},
		{"a drop of mDNS", `table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
		ct state invalid drop
		udp dport { 53, 5353 } drop
	}
}`, []Block{{Port: 5353, What: "drops udp 5353 (mDNS)", Rule: "udp dport { 53, 5353 } drop", Where: "table inet filter, chain input"}}},
		{"the room's port rejected", `table ip f {
	chain in {
		type filter hook input priority 0; policy accept;
		tcp dport 7465 reject with tcp reset
		tcp dport 17465 drop
	}
}`, []Block{{Port: 7465, What: "drops tcp 7465 (the room's port)", Rule: "tcp dport 7465 reject with tcp reset", Where: "table ip f, chain in"}}},
		// A desktop firewall that lets mDNS in: nothing to say.
		{"policy drop, mDNS accepted", `table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		udp dport 5353 accept
		tcp dport 7465 accept
	}
}`, nil},
		{"policy drop, mDNS not accepted", `table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		tcp dport 22 accept
	}
}`, []Block{
			{Port: 5353, What: "drops udp 5353 (mDNS) by policy: no rule accepts it", Rule: "policy drop", Where: "table inet filter, chain input"},
			{Port: 7465, What: "drops tcp 7465 (the room's port) by policy: no rule accepts it", Rule: "policy drop", Where: "table inet filter, chain input", Maybe: true},
		}},
		// The packet-loss recipe of the tests: it drops some of mDNS.
		{"random loss", `table inet lossy {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iifname "vl1" numgen random mod 100 < 20 drop
	}
}`, []Block{{Port: 5353, What: "may drop mDNS", Rule: `iifname "vl1" numgen random mod 100 < 20 drop`, Where: "table inet lossy, chain pre", Maybe: true}}},
		// What goes out is not what comes in: a drop of another host's
		// address says nothing of mDNS.
		{"address drops", `table inet f {
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr 203.0.113.9 drop
	}
	chain output {
		type filter hook output priority 0; policy drop;
	}
}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NftBlocks(tc.ruleset, 7465); !slices.Equal(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestIptablesBlocks(t *testing.T) {
	saved := `# Generated by iptables-save v1.8.9
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -p udp -m udp --dport 5353 -j DROP
-A INPUT -p tcp -m tcp --dport 7465 -j REJECT --reject-with tcp-reset
COMMIT
`
	want := []Block{
		{Port: 5353, What: "drops udp 5353 (mDNS)", Rule: "-A INPUT -p udp -m udp --dport 5353 -j DROP", Where: "table filter, chain INPUT"},
		{Port: 7465, What: "drops tcp 7465 (the room's port)", Rule: "-A INPUT -p tcp -m tcp --dport 7465 -j REJECT --reject-with tcp-reset", Where: "table filter, chain INPUT"},
	}
	if got := IptablesBlocks(saved, 7465); !slices.Equal(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	policy := "*filter\n:INPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -p udp --dport 5353 -j ACCEPT\n-A INPUT -p tcp --dport 7465 -j ACCEPT\nCOMMIT\n"
	if got := IptablesBlocks(policy, 7465); len(got) != 0 {
		t.Errorf("policy drop with mDNS and the room accepted: %+v", got)
	}
}

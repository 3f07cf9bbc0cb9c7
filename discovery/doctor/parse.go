package doctor

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Block is a firewall rule, or a chain's policy, that drops mDNS or the
// room's port.
type Block struct {
	Port  int    // 5353 for mDNS, else the room's port
	What  string // "drops udp 5353"
	Rule  string // the rule as the tool printed it
	Where string // "table inet filter, chain input"
	Maybe bool   // it may: it drops more than it names (loss, a whole interface)
}

// chain is a firewall chain, for either tool.
type chain struct {
	table, name, hook string
	policyDrop        bool
	rules             []string
}

// NftBlocks finds what drops mDNS or tcp port in the output of
// "nft list ruleset".
func NftBlocks(ruleset string, port int) []Block {
	var chains []*chain
	var table string
	var cur *chain
	sc := bufio.NewScanner(strings.NewReader(ruleset))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "table "):
			table = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "table "), "{"))
		case strings.HasPrefix(line, "chain "):
			cur = &chain{table: table, name: strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "chain "), "{"))}
			chains = append(chains, cur)
		case line == "}":
			cur = nil
		case cur == nil:
			// sets, maps, flowtables: not rules
		case strings.HasPrefix(line, "type ") && strings.Contains(line, " hook "):
			f := strings.Fields(strings.NewReplacer(";", " ").Replace(line))
			for i := range f {
				if f[i] == "hook" && i+1 < len(f) {
					cur.hook = f[i+1]
				}
				if f[i] == "policy" && i+1 < len(f) {
					cur.policyDrop = f[i+1] == "drop"
				}
			}
		default:
			cur.rules = append(cur.rules, line)
		}
	}
	return blocks(chains, port, func(c *chain) string { return fmt.Sprintf("table %s, chain %s", c.table, c.name) })
}

// IptablesBlocks finds what drops mDNS or tcp port in the output of
// iptables-save or ip6tables-save.
func IptablesBlocks(saved string, port int) []Block {
	var chains []*chain
	byName := map[string]*chain{}
	var table string
	get := func(name string) *chain {
		key := table + "/" + name
		if c, ok := byName[key]; ok {
			return c
		}
		c := &chain{table: table, name: name}
		switch name {
		case "INPUT", "PREROUTING", "FORWARD", "OUTPUT", "POSTROUTING":
			c.hook = strings.ToLower(name)
		}
		byName[key] = c
		chains = append(chains, c)
		return c
	}
	sc := bufio.NewScanner(strings.NewReader(saved))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		switch {
		case len(f) == 0 || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "*"):
			table = line[1:]
		case strings.HasPrefix(line, ":") && len(f) >= 2:
			get(f[0][1:]).policyDrop = f[1] == "DROP"
		case f[0] == "-A" && len(f) >= 2:
			c := get(f[1])
			c.rules = append(c.rules, line)
		}
	}
	return blocks(chains, port, func(c *chain) string { return fmt.Sprintf("table %s, chain %s", c.table, c.name) })
}

var (
	dropWord   = regexp.MustCompile(`(?i)(^|\s)(drop|reject|-j\s+(DROP|REJECT))(\s|$)`)
	acceptWord = regexp.MustCompile(`(?i)(^|\s)(accept|-j\s+ACCEPT)(\s|$)`)
	portMatch  = regexp.MustCompile(`(?i)(dport|sport|--dports?|--sports?)`)
	mdnsGroups = regexp.MustCompile(`224\.0\.0\.251|ff02::fb`)
	// Drops that leave mDNS alone: broken connections, and addresses.
	harmless = regexp.MustCompile(`(?i)ct state|--ctstate|--state|saddr|daddr|(^|\s)-[sd]\s|tcp flags|--tcp-flags`)
)

func mentions(rule string, port int) bool {
	return regexp.MustCompile(`(^|[^0-9])` + strconv.Itoa(port) + `([^0-9]|$)`).MatchString(rule)
}

func blocks(chains []*chain, port int, where func(*chain) string) []Block {
	var found []Block
	for _, c := range chains {
		accepts5353, acceptsPort, acceptsAll := false, false, false
		for _, rule := range c.rules {
			hasPort := portMatch.MatchString(rule)
			switch {
			case dropWord.MatchString(rule):
				switch {
				case hasPort && mentions(rule, 5353), mdnsGroups.MatchString(rule):
					found = append(found, Block{Port: 5353, What: "drops udp 5353 (mDNS)", Rule: rule, Where: where(c)})
				case hasPort && mentions(rule, port):
					found = append(found, Block{Port: port, What: fmt.Sprintf("drops tcp %d (the room's port)", port), Rule: rule, Where: where(c)})
				case !hasPort && !harmless.MatchString(rule) && (c.hook == "" || c.hook == "input" || c.hook == "prerouting"):
					found = append(found, Block{Port: 5353, What: "may drop mDNS", Rule: rule, Where: where(c), Maybe: true})
				}
			case acceptWord.MatchString(rule):
				switch {
				case hasPort && mentions(rule, 5353):
					accepts5353 = true
				case hasPort && mentions(rule, port):
					acceptsPort = true
				case !hasPort && !harmless.MatchString(rule):
					acceptsAll = true // an interface, say: mDNS may come in there
				}
			}
		}
		if !c.policyDrop || (c.hook != "input" && c.hook != "prerouting") {
			continue
		}
		if !accepts5353 {
			found = append(found, Block{Port: 5353, What: "drops udp 5353 (mDNS) by policy: no rule accepts it", Rule: "policy drop", Where: where(c), Maybe: acceptsAll})
		}
		if !acceptsPort {
			found = append(found, Block{Port: port, What: fmt.Sprintf("drops tcp %d (the room's port) by policy: no rule accepts it", port), Rule: "policy drop", Where: where(c), Maybe: true})
		}
	}
	return found
}

// ProcUDPSockets reads /proc/net/udp or /proc/net/udp6 and returns the
// sockets bound to port, with their inodes.
func ProcUDPSockets(table string, port int) (local []netip.AddrPort, inodes []string) {
	sc := bufio.NewScanner(strings.NewReader(table))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[0] == "sl" {
			continue
		}
		hexAddr, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		p, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil || int(p) != port {
			continue
		}
		a, ok := procAddr(hexAddr)
		if !ok {
			continue
		}
		local = append(local, netip.AddrPortFrom(a, uint16(p)))
		inodes = append(inodes, f[9])
	}
	return local, inodes
}

// procAddr reads an address as /proc/net prints it: 32-bit words in hex,
// each in the machine's byte order (little-endian on the machines this
// runs on).
func procAddr(s string) (netip.Addr, bool) {
	b, err := hex.DecodeString(s)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return netip.Addr{}, false
	}
	for i := 0; i < len(b); i += 4 {
		binary.BigEndian.PutUint32(b[i:], binary.LittleEndian.Uint32(b[i:]))
	}
	a, _ := netip.AddrFromSlice(b)
	return a.Unmap(), true
}

// ProcRoutes reads the IPv4 routes in /proc/net/route that are up.
func ProcRoutes(table string) []Route {
	var routes []Route
	sc := bufio.NewScanner(strings.NewReader(table))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[0] == "Iface" {
			continue
		}
		flags, err := strconv.ParseUint(f[3], 16, 32)
		if err != nil || flags&1 == 0 {
			continue
		}
		dst, ok1 := procAddr(f[1])
		mask, ok2 := procAddr(f[7])
		if !ok1 || !ok2 {
			continue
		}
		m := mask.As4()
		ones := bits.OnesCount32(binary.BigEndian.Uint32(m[:]))
		routes = append(routes, Route{Dst: netip.PrefixFrom(dst, ones).Masked(), Iface: f[0]})
	}
	return routes
}

// ProcRoutes6 reads the IPv6 routes in /proc/net/ipv6_route (every table:
// the multicast ones are in the local table) that are up and not
// unreachable.
func ProcRoutes6(table string) []Route {
	const up, reject = 0x1, 0x200
	var routes []Route
	sc := bufio.NewScanner(strings.NewReader(table))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || len(f[0]) != 32 {
			continue
		}
		flags, err1 := strconv.ParseUint(f[8], 16, 32)
		bits, err2 := strconv.ParseUint(f[1], 16, 8)
		raw, err3 := hex.DecodeString(f[0])
		if err1 != nil || err2 != nil || err3 != nil || bits > 128 || flags&up == 0 || flags&reject != 0 {
			continue
		}
		dst, _ := netip.AddrFromSlice(raw)
		routes = append(routes, Route{Dst: netip.PrefixFrom(dst, int(bits)).Masked(), Iface: f[9]})
	}
	return routes
}

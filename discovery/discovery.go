// Package discovery finds chat rooms on the local network and lets a room
// be found, over multicast DNS (DNS-SD service "_chatroom._tcp").
//
// A room is advertised with [Advertise] until [Advertiser.Close]; rooms are
// found with [Browse]. What a member needs to join and check a room travels
// in the TXT record: protocol version, room id, display name, key
// fingerprint and every IPv4 address of the room.
//
// The engine is github.com/hashicorp/mdns v1.0.7. This package is where its
// known pitfalls are handled, so that nothing else needs to know them:
//
//   - Query blocks for its whole timeout and sends one query: Browse queries
//     every interface at once, in a few short rounds, and merges the
//     answers by room id.
//   - Entries are sent without blocking, and the library writes to an entry
//     after sending it: the channel is buffered, and read only after Query
//     has returned.
//   - Answers for other services arrive too: they are filtered by name.
//   - Only the last A record of an answer is kept: the TXT record carries all
//     IPv4 addresses.
//   - Instance names are neither escaped nor matched case-insensitively, and
//     a dot hides a service from avahi: instance names are ASCII slugs with
//     a short id, and the display name travels in TXT. Names that come back
//     are unescaped.
//   - A TXT string over 255 bytes makes every response fail to pack: every
//     string is cut to fit.
//   - With an empty host name the library uses os.Hostname() without
//     ".local.", and with no addresses it asks unicast DNS: both are always
//     given.
//   - It logs to the standard logger unless given one: it is given a silent
//     one, so nothing prints over the prompt.
//   - Its server never announces and never says goodbye, so other browsers
//     would keep a closed room for 120 s: Advertise announces the room and
//     Close sends the goodbye (records with TTL 0) itself, with
//     github.com/miekg/dns.
//   - A server listens on the default interface unless told otherwise: there
//     is one server per interface.
package discovery

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
)

// Service is the DNS-SD service type of chat rooms.
const Service = "_chatroom._tcp"

// domain is where rooms are advertised: the link-local mDNS domain.
const domain = "local."

// Room is a room as it is advertised and found.
type Room struct {
	ID          string       // the room's id, stable while its state directory is
	Name        string       // display name
	Fingerprint string       // the room key's fingerprint, "SHA256:..."
	Version     int          // the protocol version the room speaks
	Port        int          // TCP port
	Addrs       []netip.Addr // IPv4 addresses of the room

	// Set by Browse only.
	Host     string   // host name, e.g. "lab-pc.local."
	Instance string   // mDNS instance name
	Ifaces   []string // the interfaces it was found on
}

// Options choose the interfaces to use.
type Options struct {
	// Interfaces names the interfaces to use; none means every interface
	// that is up, can multicast, is not loopback, and has an IPv4 address.
	// A named interface is used even if it is a loopback one.
	Interfaces []string

	// Bind, when set to a specific address, limits the interfaces to those
	// holding it: a room listening only on 10.0.0.5 is advertised where
	// 10.0.0.5 is, and one listening on 127.0.0.1 nowhere (unless its
	// loopback interface is named).
	Bind netip.Addr
}

// ErrNoInterface means there is no interface to advertise or browse on.
var ErrNoInterface = errors.New("no network interface that is up, can multicast and has an IPv4 address")

// link is one interface with its IPv4 addresses.
type link struct {
	iface    net.Interface
	prefixes []netip.Prefix // IPv4 only
}

func (l link) addrs() []netip.Addr {
	addrs := make([]netip.Addr, len(l.prefixes))
	for i, p := range l.prefixes {
		addrs[i] = p.Addr()
	}
	return addrs
}

// links returns the interfaces opts selects.
func links(opts Options) ([]link, error) {
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	byName := make(map[string]net.Interface, len(all))
	for _, ifc := range all {
		byName[ifc.Name] = ifc
	}
	var chosen []net.Interface
	if len(opts.Interfaces) > 0 {
		for _, name := range opts.Interfaces {
			ifc, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("no network interface called %q (there are: %s)", name, interfaceNames(all))
			}
			if ifc.Flags&net.FlagUp == 0 {
				return nil, fmt.Errorf("network interface %s is down", name)
			}
			chosen = append(chosen, ifc)
		}
	} else {
		for _, ifc := range all {
			if ifc.Flags&net.FlagUp != 0 && ifc.Flags&net.FlagMulticast != 0 && ifc.Flags&net.FlagLoopback == 0 {
				chosen = append(chosen, ifc)
			}
		}
	}

	var result []link
	for _, ifc := range chosen {
		l := link{iface: ifc}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		l.prefixes = ipv4Prefixes(addrs)
		if len(l.prefixes) == 0 {
			if len(opts.Interfaces) > 0 {
				return nil, fmt.Errorf("network interface %s has no IPv4 address", ifc.Name)
			}
			continue
		}
		if opts.Bind.IsValid() && !opts.Bind.IsUnspecified() &&
			!slices.ContainsFunc(l.prefixes, func(p netip.Prefix) bool { return p.Addr() == opts.Bind.Unmap() }) {
			continue
		}
		result = append(result, l)
	}
	if len(result) == 0 {
		return nil, ErrNoInterface
	}
	return result, nil
}

func interfaceNames(all []net.Interface) string {
	names := make([]string, len(all))
	for i, ifc := range all {
		names[i] = ifc.Name
	}
	return strings.Join(names, ", ")
}

// silentLogger is given to hashicorp/mdns, which otherwise logs to the
// standard logger and would print over the person's prompt.
var silentLogger = log.New(io.Discard, "", 0)

// hostName is this machine's name as an mDNS host name: its first label,
// made a DNS label, in ".local.".
func hostName() string {
	h, _ := os.Hostname()
	h, _, _ = strings.Cut(h, ".")
	return slug(h) + "." + domain
}

// LocalPrefixes returns the IPv4 networks this machine is on, so that a
// member can try a room's addresses on those networks first.
func LocalPrefixes() []netip.Prefix {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	prefixes := ipv4Prefixes(addrs)
	for i, p := range prefixes {
		prefixes[i] = p.Masked()
	}
	return prefixes
}

// ipv4Prefixes returns the IPv4 addresses among an interface's addresses,
// each with its network's prefix length.
func ipv4Prefixes(addrs []net.Addr) []netip.Prefix {
	var prefixes []netip.Prefix
	for _, a := range addrs {
		ipnet, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipnet.IP)
		if !ok || !ip.Unmap().Is4() {
			continue
		}
		ones, _ := ipnet.Mask.Size()
		prefixes = append(prefixes, netip.PrefixFrom(ip.Unmap(), ones))
	}
	return prefixes
}

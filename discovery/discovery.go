// Package discovery finds chat rooms on the local network and lets a room
// be found, over multicast DNS (DNS-SD service "_chatroom._tcp").
//
// A room is advertised with [Advertise] until [Advertiser.Close]; rooms are
// found with [Browse]. What a member needs to join and check a room travels
// in the TXT record: protocol version, room id, display name, key
// fingerprint and the room's addresses, IPv4 then IPv6.
//
// It knows rooms only by their records: of chatroom it imports host/wire
// alone (ids, fingerprints, the protocol version), never host or join. It
// never connects to a room, and it decides no trust: it reports what each
// room advertises, and join's Pinning decides whether that key is the
// room's.
//
// The room answers for itself (responder.go, with github.com/miekg/dns),
// as RFC 6762 says: on IPv4 and IPv6, on every interface chosen, by
// multicast unless a question asks for unicast or comes from a port other
// than 5353, so that avahi, mDNSResponder and other responders sharing
// port 5353 on one machine hear the answers to what they ask. It announces
// the room when it starts and whenever its addresses change, says goodbye
// (records with TTL 0) for what is gone and when it closes, on every
// address family it announced on, and follows the network as interfaces
// and addresses come and go (follow.go).
//
// Browsing (browse.go) sends its own queries and reads each answer on its
// own, over IPv4 and IPv6 on every interface chosen, from a port of its
// own so that responders answer it straight back (RFC 6762, 6.7) whatever
// else holds 5353 here: four times in each short round, as a query or its
// answer is easily lost on Wi-Fi, and rooms are told apart by id and key,
// so that a clone of a room's id is never mixed into the room.
//
// github.com/hashicorp/mdns, which this package used for both sides, does
// neither: its server answers every question by unicast to the asker
// (server.go's sendResponse leaves its unicast flag as a TODO), which
// avahi beside it never hears, and its client keeps one entry per
// instance name, which merges a clone into the room. Its ServiceEntry is
// still what an answer is read into; its pitfalls that shaped the rest
// are kept in mind here: instance names are ASCII slugs with a short id
// (the library neither escapes nor folds case, and a dot hides a service
// from avahi), and every TXT string is cut to 255 bytes (a longer one
// makes every response fail to pack).
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
	Addrs       []netip.Addr // addresses of the room: IPv4, then IPv6 (link-local ones without a zone)
	// Topic is the room's topic, "" for none, cut to fit a TXT string: a
	// browser gets at most maxTopicTXT bytes of it, whole characters. It
	// is the room's text, which anyone on the LAN can send: show it only
	// through join.Sanitize.
	Topic string

	// Set by Browse only.
	Host     string   // host name, e.g. "lab-pc.local."
	Instance string   // mDNS instance name
	Ifaces   []string // the interfaces it was found on
}

// Options choose the interfaces to use.
type Options struct {
	// Interfaces names the interfaces to use; none means every interface
	// that is up, can multicast, is not loopback, and has an address.
	// A named interface is used even if it is a loopback one.
	Interfaces []string

	// Bind, when set to a specific address, limits the interfaces to those
	// holding it: a room listening only on 10.0.0.5 is advertised where
	// 10.0.0.5 is, and one listening on 127.0.0.1 nowhere (unless its
	// loopback interface is named). When set to 0.0.0.0, only IPv4
	// addresses are advertised; to ::, those of both families.
	Bind netip.Addr

	// OnChange, when set, is told of each change in where the room is
	// advertised after Advertise has returned: the advertisement follows
	// the network, as addresses and interfaces come and go. It is called
	// from one goroutine at a time, and must not block for long.
	OnChange func(Change)

	// Topic, when set, is asked for the room's topic whenever the
	// advertiser looks at the network again (every second): a change of
	// topic is announced as a change of address is. It must not block.
	Topic func() string
}

// ErrNoInterface means there is no interface to advertise or browse on.
var ErrNoInterface = errors.New("no network interface that is up, can multicast and has an address")

// link is one interface with the addresses the room is reached at there.
type link struct {
	iface    net.Interface
	prefixes []netip.Prefix // IPv4 first, then IPv6: global and ULA before link-local
}

func (l link) addrs() []netip.Addr {
	addrs := make([]netip.Addr, len(l.prefixes))
	for i, p := range l.prefixes {
		addrs[i] = p.Addr()
	}
	return addrs
}

// has reports whether the link has an address of the family of IPv4 (true)
// or IPv6 (false).
func (l link) has(v4 bool) bool {
	return slices.ContainsFunc(l.prefixes, func(p netip.Prefix) bool { return p.Addr().Is4() == v4 })
}

// links returns the interfaces opts selects, or an error that says why
// there is none or why a named one cannot be used.
func links(opts Options) ([]link, error) {
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	result, err := chooseLinks(opts, all, interfaceAddrs, true)
	if err == nil && len(result) == 0 {
		err = ErrNoInterface
	}
	return result, err
}

// currentLinks is links for an advertisement that follows the network: an
// interface named but absent, down or without an address is not an error
// but one the room is not advertised on yet.
func currentLinks(opts Options) ([]link, error) {
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	return chooseLinks(opts, all, interfaceAddrs, false)
}

func interfaceAddrs(ifc net.Interface) ([]net.Addr, error) { return ifc.Addrs() }

// chooseLinks picks from all the interfaces opts selects, with their
// addresses (addrsOf); strict makes a named interface that cannot be used
// an error.
func chooseLinks(opts Options, all []net.Interface, addrsOf func(net.Interface) ([]net.Addr, error), strict bool) ([]link, error) {
	byName := make(map[string]net.Interface, len(all))
	for _, ifc := range all {
		byName[ifc.Name] = ifc
	}
	var chosen []net.Interface
	if len(opts.Interfaces) > 0 {
		for _, name := range opts.Interfaces {
			ifc, ok := byName[name]
			switch {
			case !ok && strict:
				return nil, fmt.Errorf("no network interface called %q (there are: %s)", name, interfaceNames(all))
			case ok && ifc.Flags&net.FlagUp == 0 && strict:
				return nil, fmt.Errorf("network interface %s is down", name)
			case ok && ifc.Flags&net.FlagUp != 0:
				chosen = append(chosen, ifc)
			}
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
		addrs, err := addrsOf(ifc)
		if err != nil {
			continue
		}
		l := link{iface: ifc, prefixes: usablePrefixes(ifc, addrs, opts.Bind)}
		if len(l.prefixes) == 0 {
			if strict && len(opts.Interfaces) > 0 && !opts.Bind.IsValid() {
				return nil, fmt.Errorf("network interface %s has no address", ifc.Name)
			}
			continue
		}
		result = append(result, l)
	}
	return result, nil
}

// usablePrefixes returns the addresses of ifc a room listening on bind is
// reached at: IPv4 ones, then IPv6 ones (not on a loopback interface,
// where IPv6 multicast does not work), global and ULA before link-local.
// A room listening on 0.0.0.0 is reached over IPv4 only, and one listening
// on a given address only there.
func usablePrefixes(ifc net.Interface, addrs []net.Addr, bind netip.Addr) []netip.Prefix {
	var v4, v6, v6LinkLocal []netip.Prefix
	for _, a := range addrs {
		ipnet, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipnet.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		ones, _ := ipnet.Mask.Size()
		p := netip.PrefixFrom(ip, ones)
		switch {
		case bind.IsValid() && !bind.IsUnspecified() && ip != bind.WithZone(""):
		case ip.Is4():
			v4 = append(v4, p)
		case bind.Is4() || ifc.Flags&net.FlagLoopback != 0 || ip.IsLoopback() || !ip.Is6():
		case ip.IsLinkLocalUnicast():
			v6LinkLocal = append(v6LinkLocal, p)
		case ip.IsGlobalUnicast():
			v6 = append(v6, p)
		}
	}
	return slices.Concat(v4, v6, v6LinkLocal)
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

package discovery

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// The advertisement follows the network: every pollInterval the
// interfaces and their addresses are listed again, and what changed is
// announced (new addresses, new interfaces) or said goodbye to (addresses
// and interfaces gone). Listing is two netlink dumps and a few more per
// interface on Linux, microseconds, and the same code works everywhere;
// golang.org/x/net has no watcher of address changes to wait on instead.
const pollInterval = time.Second

// Change is a change in where a room is advertised.
type Change struct {
	Interface string
	// Added are the addresses the room is now advertised at on Interface,
	// Removed those it no longer is.
	Added, Removed []netip.Addr
	// Gone: the room is no longer advertised on Interface at all; New: it
	// was not advertised there before.
	Gone, New bool
	// Err, when set, is why the room cannot be advertised on Interface.
	Err error
}

// String is the change as the host's screen says it.
func (c Change) String() string {
	switch {
	case c.Err != nil:
		return fmt.Sprintf("not advertised on %s: %v", c.Interface, c.Err)
	case c.Gone:
		return fmt.Sprintf("no longer advertised on %s (%s)", c.Interface, joinAddrs(c.Removed))
	case c.New:
		return fmt.Sprintf("now advertised on %s (%s)", c.Interface, joinAddrs(c.Added))
	case len(c.Removed) == 0:
		return fmt.Sprintf("now advertised on %s at %s too", c.Interface, joinAddrs(c.Added))
	case len(c.Added) == 0:
		return fmt.Sprintf("no longer advertised on %s at %s", c.Interface, joinAddrs(c.Removed))
	}
	return fmt.Sprintf("now advertised on %s at %s, no longer at %s", c.Interface, joinAddrs(c.Added), joinAddrs(c.Removed))
}

func joinAddrs(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// diffLinks says what changed from the links old to the links now: one
// Change per interface whose addresses differ, in the order of now, then
// of old for the interfaces gone. Interfaces are told apart by index.
func diffLinks(old, now []link) []Change {
	var changes []Change
	for _, l := range now {
		i := slices.IndexFunc(old, func(o link) bool { return o.iface.Index == l.iface.Index })
		if i < 0 {
			changes = append(changes, Change{Interface: l.iface.Name, Added: l.addrs(), New: true})
			continue
		}
		before, after := old[i].addrs(), l.addrs()
		c := Change{Interface: l.iface.Name, Added: missingFrom(before, after), Removed: missingFrom(after, before)}
		if len(c.Added) > 0 || len(c.Removed) > 0 {
			changes = append(changes, c)
		}
	}
	for _, o := range old {
		if !slices.ContainsFunc(now, func(l link) bool { return l.iface.Index == o.iface.Index }) {
			changes = append(changes, Change{Interface: o.iface.Name, Removed: o.addrs(), Gone: true})
		}
	}
	return changes
}

// missingFrom returns the addresses of b that are not in a.
func missingFrom(a, b []netip.Addr) []netip.Addr {
	var missing []netip.Addr
	for _, x := range b {
		if !slices.Contains(a, x) {
			missing = append(missing, x)
		}
	}
	return missing
}

// follow updates the advertisement to the network every interval, until
// stop.
func (a *Advertiser) follow(interval time.Duration) {
	defer a.done.Done()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-tick.C:
		}
		now, err := currentLinks(a.opts)
		if err != nil {
			continue // listing failed: keep what is advertised, try again
		}
		for _, c := range a.update(now) {
			if a.opts.OnChange != nil {
				a.opts.OnChange(c)
			}
		}
	}
}

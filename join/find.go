package join

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"chatroom/discovery"
	"chatroom/host/wire"
)

// Finder finds the rooms on the network: discovery.Browse in the program,
// a fake in tests.
type Finder func(ctx context.Context) ([]discovery.Room, error)

// Picker lets the person choose one of several rooms, by index; false when
// there is no one to ask (line mode) or they chose none.
type Picker func(rooms []discovery.Room) (int, bool)

// ErrNoRooms means browsing found no room at all.
var ErrNoRooms = errors.New("no room found on the network")

// AmbiguousError means several rooms match and no one could choose.
type AmbiguousError struct {
	Query string
	Rooms []discovery.Room
}

func (e *AmbiguousError) Error() string {
	what := "several rooms found"
	if e.Query != "" {
		what = fmt.Sprintf("several rooms are called %q", Sanitize(e.Query))
	}
	return what + "; choose one with --addr HOST:PORT (chatroom list shows them)"
}

// FindRoom finds the room to join: the one called query (compared without
// case), or any when query is "". One match is the answer; among several,
// pick chooses.
func FindRoom(ctx context.Context, find Finder, query string, pick Picker) (discovery.Room, error) {
	rooms, err := find(ctx)
	if err != nil {
		return discovery.Room{}, err
	}
	if len(rooms) == 0 {
		return discovery.Room{}, ErrNoRooms
	}
	candidates := rooms
	if query != "" {
		candidates = nil
		for _, r := range rooms {
			if strings.EqualFold(r.Name, query) || r.ID == query {
				candidates = append(candidates, r)
			}
		}
		if len(candidates) == 0 {
			names := make([]string, len(rooms))
			for i, r := range rooms {
				names[i] = strconv.Quote(Sanitize(r.Name))
			}
			return discovery.Room{}, fmt.Errorf("no room called %q; found %s", Sanitize(query), strings.Join(names, ", "))
		}
	}
	if len(candidates) == 1 {
		return candidates[0], nil
	}
	if pick != nil {
		if i, ok := pick(candidates); ok && i >= 0 && i < len(candidates) {
			return candidates[i], nil
		}
	}
	return discovery.Room{}, &AmbiguousError{Query: query, Rooms: candidates}
}

// RoomLine describes a found room on one line, for a list to pick from:
//
//	Lab 3    lab-pc.local.  10.0.0.5:7465  id 3f9a2c71d0e4b5a6
//
// The host and id tell apart rooms with one name.
func RoomLine(r discovery.Room) string {
	return fmt.Sprintf("%s\t%s\t%s\tid %s", Sanitize(r.Name), Sanitize(r.Host), firstAddr(r), Sanitize(r.ID))
}

// DescribeRoom names a found room in a sentence:
//
//	"Lab 3" on lab-pc.local. (10.0.0.5:7465, id 3f9a2c71d0e4b5a6)
func DescribeRoom(r discovery.Room) string {
	return fmt.Sprintf("%q on %s (%s, id %s)", Sanitize(r.Name), Sanitize(r.Host), firstAddr(r), Sanitize(r.ID))
}

func firstAddr(r discovery.Room) string {
	if len(r.Addrs) == 0 {
		return "-"
	}
	return net.JoinHostPort(r.Addrs[0].String(), strconv.Itoa(r.Port))
}

// DialRoom returns a Dialer for a room found on the network. It tries the
// room's addresses, those on a network this machine is on first, and
// checks every one against the fingerprint the room advertised: a
// different key is refused at once, with the loud *KeyMismatchError,
// rather than tried elsewhere. So is a room whose certificate names
// another id than the one advertised. A room whose advertised id or key is
// not of the form a room makes is not dialed at all.
//
// The advertised key is only a claim, which anyone on the LAN can make:
// only once a room has proved it in a handshake may it be pinned
// (Pinning.Dialer).
func DialRoom(room discovery.Room, local []netip.Prefix, opts ...DialOption) Dialer {
	addrs := dialOrder(room.Addrs, local)
	return func(ctx context.Context) (net.Conn, error) {
		if !wire.ValidRoomID(room.ID) || !wire.ValidFingerprint(room.Fingerprint) {
			return nil, fmt.Errorf("the room %q is advertised with an id or key not of the form a room makes", Sanitize(room.Name))
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("the room %q advertises no address", Sanitize(room.Name))
		}
		var errs []error
		for _, a := range addrs {
			addr := net.JoinHostPort(a.String(), strconv.Itoa(room.Port))
			conn, err := dialTLS(addr, room.Fingerprint, nil, func(k RoomKey) error {
				if k.ID != room.ID {
					return fmt.Errorf("the room at %s is not the one advertised: its certificate names room %q, not %q",
						addr, Sanitize(k.ID), Sanitize(room.ID))
				}
				return nil
			}, opts)(ctx)
			if err == nil {
				return conn, nil
			}
			var mismatch *KeyMismatchError
			if errors.As(err, &mismatch) || ctx.Err() != nil {
				return nil, err
			}
			errs = append(errs, err)
		}
		return nil, errors.Join(errs...)
	}
}

// dialOrder puts the addresses on one of the local networks first, keeping
// the advertised order otherwise: an address on another subnet may be
// unreachable, and each unreachable address costs a timeout.
func dialOrder(addrs []netip.Addr, local []netip.Prefix) []netip.Addr {
	onLink := func(a netip.Addr) bool {
		return slices.ContainsFunc(local, func(p netip.Prefix) bool { return p.Contains(a) })
	}
	ordered := slices.Clone(addrs)
	slices.SortStableFunc(ordered, func(a, b netip.Addr) int {
		switch la, lb := onLink(a), onLink(b); {
		case la && !lb:
			return -1
		case lb && !la:
			return 1
		}
		return 0
	})
	return ordered
}

package discovery

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"chatroom/discovery/netns"
	"chatroom/host/wire"
)

// TestCloneKeptApart stands for a machine on the LAN that advertises a
// real room's id with an address and a key of its own. Browse used to
// merge the two into one room: the first answer's key, with both
// addresses, so that about half the joins went to the clone. They are two
// rooms now, one per key, each with its own address only.
func TestCloneKeptApart(t *testing.T) {
	peer := netns.NewPeer(t)
	real := testRoom("Lab 3", "c10e000000000001")
	advertise(t, real, Options{})
	clone := real
	clone.Fingerprint = wire.Fingerprint([]byte("the clone's key"))
	advertiseFromPeer(t, peer, clone)

	rooms := browseUntil(t, Options{}, 2)
	if len(rooms) != 2 {
		t.Fatalf("found %d rooms, want the room and its clone apart: %+v", len(rooms), rooms)
	}
	byKey := map[string][]netip.Addr{}
	for _, r := range rooms {
		if r.ID != real.ID {
			t.Fatalf("found %+v", r)
		}
		byKey[r.Fingerprint] = r.Addrs
	}
	// Each machine's own IPv4 address, and no other machine's: beside it
	// only the link-local IPv6 address of its end of the veth, heard on
	// that link.
	if got, want := ipv4Only(byKey[real.Fingerprint]), []netip.Addr{netip.MustParseAddr(peer.LocalAddr)}; !slices.Equal(got, want) {
		t.Errorf("the real room's addresses: %v, want %v", byKey[real.Fingerprint], want)
	}
	if got, want := ipv4Only(byKey[clone.Fingerprint]), []netip.Addr{netip.MustParseAddr(peer.RemoteAddr)}; !slices.Equal(got, want) {
		t.Errorf("the clone's addresses: %v, want %v", byKey[clone.Fingerprint], want)
	}
	for _, a := range append(byKey[real.Fingerprint], byKey[clone.Fingerprint]...) {
		if a.Is6() && (!a.IsLinkLocalUnicast() || a.Zone() == "") {
			t.Errorf("address %v: an IPv6 address here is a link-local one, with the interface it was heard on", a)
		}
	}
}

// ipv4Only returns the IPv4 addresses among addrs.
func ipv4Only(addrs []netip.Addr) []netip.Addr {
	var v4 []netip.Addr
	for _, a := range addrs {
		if a.Is4() {
			v4 = append(v4, a)
		}
	}
	return v4
}

// browseUntil browses until n rooms are found, or a few times, and returns
// the last answer: the peer's advertiser may take a moment to answer.
func browseUntil(t *testing.T, opts Options, n int) []Room {
	t.Helper()
	var rooms []Room
	for range 5 {
		if rooms = browse(t, opts); len(rooms) >= n {
			break
		}
	}
	return rooms
}

// TestMergeKeepsClonesApart: as TestCloneKeptApart, without the network.
func TestMergeKeepsClonesApart(t *testing.T) {
	found := map[roomKey]*Room{}
	real, clone := "SHA256:"+strings.Repeat("A", 43), wire.Fingerprint([]byte("the clone's key"))
	a1, a2 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.66")
	merge(found, Room{ID: "x", Fingerprint: real, Addrs: []netip.Addr{a1}})
	merge(found, Room{ID: "x", Fingerprint: clone, Addrs: []netip.Addr{a2}})
	if len(found) != 2 {
		t.Fatalf("a room and its clone are %d rooms", len(found))
	}
	if got := found[roomKey{"x", real}].Addrs; !slices.Equal(got, []netip.Addr{a1}) {
		t.Fatalf("the real room's addresses: %v", got)
	}
}

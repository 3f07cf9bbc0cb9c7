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
	if got, want := byKey[real.Fingerprint], []netip.Addr{netip.MustParseAddr(peer.LocalAddr)}; !slices.Equal(got, want) {
		t.Errorf("the real room's addresses: %v, want %v", got, want)
	}
	if got, want := byKey[clone.Fingerprint], []netip.Addr{netip.MustParseAddr(peer.RemoteAddr)}; !slices.Equal(got, want) {
		t.Errorf("the clone's addresses: %v, want %v", got, want)
	}
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

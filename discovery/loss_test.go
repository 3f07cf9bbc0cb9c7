package discovery

import (
	"testing"

	"chatroom/discovery/netns"
)

// TestBrowseOverLossyLink: a room on another machine, one fifth of the
// packets arriving on either side dropped (nftables, inside the test's
// namespaces), as on a poor Wi-Fi. Every browse finds it. How fast is
// measured, not asserted, by BenchmarkBrowseLossy: in 100 browses, found
// in the first round 99 times, where the old Browse, asking twice a
// round, managed 91.
func TestBrowseOverLossyLink(t *testing.T) {
	peer := netns.NewPeer(t)
	room := testRoom("Lab 3", "1055000000000020")
	advertiseFromPeer(t, peer, room)
	dropOnArrival(t, nil, peer.Local, 20)
	dropOnArrival(t, peer, peer.Remote, 20)
	for i := range 10 {
		rooms := browse(t, Options{Interfaces: []string{peer.Local}})
		if len(rooms) != 1 || rooms[0].ID != room.ID {
			t.Fatalf("browse %d found %+v", i+1, rooms)
		}
	}
}

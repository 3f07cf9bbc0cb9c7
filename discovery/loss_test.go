package discovery

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"chatroom/discovery/netns"
)

// TestBrowseOverLossyLink: a room on another machine, one fifth of the
// packets arriving on either side dropped (nftables, inside the test's
// namespaces), as on a poor Wi-Fi. The issue's promise is "found within a
// second almost always": at 20 % loss the old Browse found the room in
// its first round 86 % of the time, and a miss costs a round more
// (350 ms). Now each round asks again within itself while nothing has
// answered. Of 20 browses, every one must find the room, at least 19
// within a second (the promise; one slow browse allowed, for a loaded
// machine), and at least 16 in the first round (generous: with one query
// a round, about 13 are; BenchmarkBrowseLossy measured 99 of 100 with the
// retries).
func TestBrowseOverLossyLink(t *testing.T) {
	peer := netns.NewPeer(t)
	room := testRoom("Lab 3", "1055000000000020")
	advertiseFromPeer(t, peer, room)
	dropOnArrival(t, nil, peer.Local, 20)
	dropOnArrival(t, peer, peer.Remote, 20)
	const browses, inASecondNeeded, firstRoundNeeded = 20, 19, 16
	inASecond, firstRound := 0, 0
	var took []string
	for i := range browses {
		start := time.Now()
		rooms, err := Browse(context.Background(), Options{Interfaces: []string{peer.Local}})
		d := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		if len(rooms) != 1 || rooms[0].ID != room.ID {
			t.Fatalf("browse %d found %+v", i+1, rooms)
		}
		if d <= time.Second {
			inASecond++
		}
		if d < 2*roundLength {
			firstRound++
		}
		took = append(took, d.Round(time.Millisecond).String())
	}
	if inASecond < inASecondNeeded || firstRound < firstRoundNeeded {
		t.Fatalf("at 20 %% loss, of %d browses %d found the room within a second (want %d) and %d in the first round (want %d): %s",
			browses, inASecond, inASecondNeeded, firstRound, firstRoundNeeded, strings.Join(took, ", "))
	}
	t.Logf("of %d browses, %d found the room within a second, %d in the first round: %s", browses, inASecond, firstRound, strings.Join(took, ", "))
}

// TestBrowseAsksAgainWithinARound is the mechanism behind the promise,
// made certain rather than likely: of the IPv4 queries reaching the
// room's machine, nftables drops two in every three, in turn (numgen inc,
// not random), and every IPv6 one (whose answers would come or not as the
// room's link-local address passes its checks). A Browse that asks once a
// round meets the query let through in its third round (a second), and
// did so before the fix; asking again within the round (at 0, 100, 200
// and 300 ms, until an answer comes), one of its first three queries gets
// through, and the room's answer comes within the first round, every
// time.
func TestBrowseAsksAgainWithinARound(t *testing.T) {
	peer := netns.NewPeer(t)
	room := testRoom("Lab 3", "1055000000000021")
	advertiseFromPeer(t, peer, room)
	nft(t, peer, "every3rd", fmt.Sprintf(`table inet every3rd {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iifname %[1]q meta nfproto ipv6 udp dport 5353 drop
		iifname %[1]q meta nfproto ipv4 udp dport 5353 numgen inc mod 3 < 2 drop
	}
}
`, peer.Remote))
	for i := range 10 {
		start := time.Now()
		rooms := browse(t, Options{Interfaces: []string{peer.Local}})
		d := time.Since(start)
		if len(rooms) != 1 || rooms[0].ID != room.ID {
			t.Fatalf("browse %d found %+v", i+1, rooms)
		}
		// The first round ends at roundLength; the second at twice it.
		if d >= roundLength*3/2 {
			t.Fatalf("browse %d found the room after %v: not in its first round (%v)", i+1, d.Round(time.Millisecond), roundLength)
		}
	}
}

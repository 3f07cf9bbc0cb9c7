package discovery

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"chatroom/discovery/netns"
)

// BenchmarkBrowseLossy measures what a person waits for on a lossy LAN: a
// room on another machine (a peer namespace, over a veth pair), with
// nftables dropping that share of the UDP packets arriving on each side,
// inside the namespaces only. It reports the median and slowest browse,
// and how often the room was found in the first round, within one
// second, and at all. Run:
//
//	go test -run '^$' -bench Browse -benchtime 40x ./discovery/
func BenchmarkBrowseLossy(b *testing.B) {
	netns.Require(b)
	for _, loss := range []int{0, 20, 50} {
		b.Run(fmt.Sprintf("loss=%d%%", loss), func(b *testing.B) {
			peer := netns.NewPeer(b)
			advertiseFromPeer(b, peer, testRoom("Lab 3", fmt.Sprintf("be0c01234567%04d", loss)))
			if loss > 0 {
				dropOnArrival(b, nil, peer.Local, loss)
				dropOnArrival(b, peer, peer.Remote, loss)
			}
			var took []time.Duration
			firstRound, inASecond, found := 0, 0, 0
			for b.Loop() {
				start := time.Now()
				rooms, err := Browse(context.Background(), Options{Interfaces: []string{peer.Local}})
				d := time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				took = append(took, d)
				if len(rooms) == 1 {
					found++
					if d <= time.Second {
						inASecond++
					}
					if d < 2*roundLength {
						firstRound++
					}
				}
			}
			slices.Sort(took)
			n := float64(len(took))
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
			b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
			b.ReportMetric(100*float64(firstRound)/n, "%first-round")
			b.ReportMetric(100*float64(inASecond)/n, "%found-in-1s")
			b.ReportMetric(100*float64(found)/n, "%found")
		})
	}
}

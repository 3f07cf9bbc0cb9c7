package room

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkOfferCycle is the room's part of a file's life, without the
// store's disk or a socket: one member offers a file (declared by a store
// that does nothing), it is stored and shown to the room, and taken back,
// with 0 and 500 members present (whose outboxes no one reads: the
// fan-out is handing each its two events).
//
//	go test -run '^$' -bench OfferCycle -benchtime 5000x ./host/room/
func BenchmarkOfferCycle(b *testing.B) {
	for _, present := range []int{0, 500} {
		b.Run(fmt.Sprintf("present=%d", present), func(b *testing.B) {
			r := New(Config{Name: "bench", Limits: testLimits, JoinLimits: unlimitedJoins, Now: time.Now,
				Outbox: 1 << 16, Files: &fakeFiles{}})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { r.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			join := func(name string) *Member {
				m, refusal, err := r.Join(context.Background(), JoinRequest{Name: name, Identity: "SHA256:" + name + "xxxxxxxx"})
				if err != nil || refusal != nil {
					b.Fatalf("join %s: %v %+v", name, err, refusal)
				}
				m.TakeReplay()
				return m
			}
			for i := range present {
				join(fmt.Sprintf("idle%d", i))
			}
			from := join("bob")
			b.ResetTimer()
			for i := range b.N {
				r.Offer(from, "", sized(int64(i+1)), uint64(i+1))
				r.FileStored(fmt.Sprint("id", i+1))
				r.Say(from, fmt.Sprint("/unsend ", i+1), 0)
			}
			synced := make(chan struct{})
			r.send(func(*state) { close(synced) })
			<-synced
		})
	}
}

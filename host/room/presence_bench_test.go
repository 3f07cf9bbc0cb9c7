package room

import (
	"context"
	"fmt"
	"testing"
	"time"

	"chatroom/host/wire"
)

// BenchmarkRoomJoin is the room's own part of a join, without TLS or a
// socket: admitting a member and building its welcome, with none present
// and with 5,000 (idle members whose outboxes no one reads; each joiner
// leaves at once, as in BenchmarkJoinHostCPU). One op is one join and its
// leave; welcome-B is the size of the last welcome. The room's clock is
// real, so that a held batch is told when its window ends.
//
//	go test -run '^$' -bench RoomJoin -benchtime 2000x ./host/room/
func BenchmarkRoomJoin(b *testing.B) {
	for _, present := range []int{0, 5000} {
		b.Run(fmt.Sprintf("present=%d", present), func(b *testing.B) {
			r := New(Config{Name: "bench", Limits: testLimits, JoinLimits: unlimitedJoins, Now: time.Now, Outbox: 1 << 16})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { r.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			join := func(name string) *Member {
				m, refusal, err := r.Join(context.Background(), JoinRequest{Name: name, Identity: "SHA256:" + name + "xxxxxxxx"})
				if err != nil || refusal != nil {
					b.Fatalf("join %s: %v %+v", name, err, refusal)
				}
				return m
			}
			for i := range present {
				join(fmt.Sprintf("idle%d", i)).TakeReplay()
			}
			var welcome int
			b.ResetTimer()
			for i := range b.N {
				m := join(fmt.Sprintf("j%d", i))
				welcome = len(m.TakeReplay()[0])
				r.Leave(m, wire.CodeLost)
			}
			b.StopTimer()
			b.ReportMetric(float64(welcome), "welcome-B")
		})
	}
}

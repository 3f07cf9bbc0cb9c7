package host

// BenchmarkFanOutJournal is the journal's target of issue 16: fan-out at
// 100 members with the journal on at least 0.9 × with it off. The two
// rooms run in the same benchmark, each its own swarm of 100 members, in
// turns of a quarter of the messages each, so that both share whatever
// else the machine does:
//
//	go test -run '^$' -bench 'FanOutJournal' -benchtime 20000x -count 5 ./host/
//
// ratio is the journal's deliveries/s over the other's. The state
// directory is the test's temporary one, on whatever disk holds it; the
// journal is synced every second (DefaultSyncEvery), as by default.

import (
	"testing"
	"time"

	"chatroom/host/wire"
)

// startJournalProto is startRoomProto's room, with its journal or without.
func startJournalProto(tb testing.TB, withoutJournal bool) *roomProto {
	tb.Helper()
	h, err := Start(Config{Name: "bench", StateDir: tb.TempDir(), Listen: "127.0.0.1:0", Limits: benchLimits,
		JoinLimits: benchJoinLimits, MaxConnsPerAddr: 1 << 20, withoutJournal: withoutJournal})
	if err != nil {
		tb.Fatal(err)
	}
	p := &roomProto{h: h, addr: h.Addr().String(), conf: benchClientTLS(h.Fingerprint())}
	sample, err := wire.Encode(&wire.Frame{Type: wire.TypeEvent, Seq: 123456, Time: time.Now(),
		Kind: wire.KindSay, From: "m123", Text: string(benchText(123, benchNow()))})
	if err != nil {
		tb.Fatal(err)
	}
	p.len = len(sample)
	return p
}

func BenchmarkFanOutJournal(b *testing.B) {
	const members, turns = 100, 10
	b.StopTimer()
	on := startSwarm(b, func(tb testing.TB) benchProto { return startJournalProto(tb, false) }, members)
	defer on.close()
	off := startSwarm(b, func(tb testing.TB) benchProto { return startJournalProto(tb, true) }, members)
	defer off.close()
	for _, s := range []*swarm{on, off} {
		if err := s.warmUp(); err != nil {
			b.Fatal(err)
		}
	}
	var took [2]time.Duration
	b.StartTimer()
	for turn := range turns {
		msgs := int64(b.N / turns)
		if turn == turns-1 {
			msgs = int64(b.N - (turns-1)*(b.N/turns))
		}
		if msgs == 0 {
			continue
		}
		for i, s := range []*swarm{on, off} {
			elapsed, err := s.closedLoop(msgs)
			if err != nil {
				b.Fatal(err)
			}
			took[i] += elapsed
		}
	}
	b.StopTimer()
	deliveries := float64(b.N) * members
	onRate, offRate := deliveries/took[0].Seconds(), deliveries/took[1].Seconds()
	b.ReportMetric(onRate, "deliveries/s-journal")
	b.ReportMetric(offRate, "deliveries/s-without")
	b.ReportMetric(onRate/offRate, "ratio")
}

//go:build linux

package host

// BenchmarkFanOutJournal is the journal's target of issue 16: fan-out at
// 100 members with the journal on at least 0.9 × with it off, in
// deliveries per host CPU-second. The two hosts run in child processes
// (as in BenchmarkJoinHostCPU), so that their CPU time is read apart from
// the clients', each with its own swarm of 100 members; they take turns of
// a tenth of the messages each, so that both share whatever else the
// machine does:
//
//	go test -run '^$' -bench 'FanOutJournal' -benchtime 100000x -count 5 ./host/
//
// ratio is the journal's deliveries per host CPU-second over the other's;
// ratio-wall, the same of deliveries/s. The state directories are the
// test's temporary ones, on whatever disk holds them; the journal is
// synced every second (DefaultSyncEvery), as by default. (The benchmark's
// members have no identity key and send no refs: the journal holds their
// events, and the records of keyed members are a few dozen bytes a line
// more.)

import (
	"testing"
	"time"

	"chatroom/host/wire"
)

// childRoomProto is chatroom as roomProto speaks to it, hosted by a child
// process.
type childRoomProto struct {
	roomProto
	p *hostProcess
}

func (c *childRoomProto) close() { c.p.stop() }

func startChildRoomProto(tb testing.TB, kind string) *childRoomProto {
	tb.Helper()
	p := startHostProcess(tb, kind)
	c := &childRoomProto{roomProto: roomProto{addr: p.addr, conf: benchClientTLS(p.fingerprint)}, p: p}
	sample, err := wire.Encode(&wire.Frame{Type: wire.TypeEvent, Seq: 123456, Time: time.Now(),
		Kind: wire.KindSay, From: "m123", Text: string(benchText(123, benchNow()))})
	if err != nil {
		tb.Fatal(err)
	}
	c.len = len(sample)
	return c
}

func BenchmarkFanOutJournal(b *testing.B) {
	const members, turns = 100, 10
	b.StopTimer()
	kinds := [2]string{"bench", "bench-without-journal"} // the journal on, off
	var swarms [2]*swarm
	var hosts [2]*childRoomProto
	for i, kind := range kinds {
		swarms[i] = startSwarm(b, func(tb testing.TB) benchProto {
			hosts[i] = startChildRoomProto(tb, kind)
			return hosts[i]
		}, members)
		defer swarms[i].close()
		if err := swarms[i].warmUp(); err != nil {
			b.Fatal(err)
		}
	}
	var took, cpu [2]time.Duration
	b.StartTimer()
	for turn := range turns {
		msgs := int64(b.N / turns)
		if turn == turns-1 {
			msgs = int64(b.N - (turns-1)*(b.N/turns))
		}
		if msgs == 0 {
			continue
		}
		for i, s := range swarms {
			pid := hosts[i].p.cmd.Process.Pid
			before, err := procCPU(pid)
			if err != nil {
				b.Skip(err)
			}
			elapsed, err := s.closedLoop(msgs)
			if err != nil {
				b.Fatal(err)
			}
			after, err := procCPU(pid)
			if err != nil {
				b.Fatal(err)
			}
			took[i] += elapsed
			cpu[i] += after - before
		}
	}
	b.StopTimer()
	deliveries := float64(b.N) * members
	b.ReportMetric(took[1].Seconds()/took[0].Seconds(), "ratio-wall")
	if cpu[0] > 0 && cpu[1] > 0 { // a short run (-benchtime 1x) takes less than a tick
		perCPU := [2]float64{deliveries / cpu[0].Seconds(), deliveries / cpu[1].Seconds()}
		b.ReportMetric(perCPU[0], "deliveries/host-cpu-s-journal")
		b.ReportMetric(perCPU[1], "deliveries/host-cpu-s-without")
		b.ReportMetric(perCPU[0]/perCPU[1], "ratio")
	}
}

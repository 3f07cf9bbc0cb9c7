//go:build linux

package host

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkFanOutCPU is BenchmarkFanOut's closed loop with the server in
// a child process, chatroom (startHostProcess, kind "bench") and then the
// bare baseline (startBareProcess), each for b.N messages, so that the
// server's CPU time can be read apart from the clients' (from /proc): in
// BenchmarkFanOut the clients share the cores and take much of the CPU,
// and a server that leaves them more of it looks faster than it is.
// Reported, for each: deliveries per second of the server's CPU time
// (chatroom-, bare-deliveries/cpu-s) and their ratio (cpu-ratio), and the
// deliveries a second as measured here, and the write system calls each
// makes per delivery (chatroom-, bare-writes/delivery: every frame queued
// at a time goes in one write). The host process runs with its
// defaults (heartbeats on); the swarm checks every delivery and its order.
//
// A second baseline, the same bare loop over TLS 1.3 (bare-tls-, and
// chatroom's ratio to it, tls-cpu-ratio), shows what the room costs beyond
// the encryption, which the target's baseline does not do. A third, that
// loop over TLS carrying lines as long as the room's frames (bare-tls-long-,
// tls-long-cpu-ratio, and bare-tls-long-to-bare, its own ratio to the bare
// loop), shows what the room costs beyond moving its bytes: a 64-byte
// message is a 171-byte event frame, and the bytes cost in AES and in the
// kernel's copies.
func BenchmarkFanOutCPU(b *testing.B) {
	const n = 100
	b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
		b.StopTimer()
		raiseFileLimit(uint64(2*n + 256))
		var writes float64 // the last measure's, per delivery
		measure := func(proto benchProto, pid int) (perCPU, perSecond float64) {
			perCPU, perSecond = fanOutCPU(b, proto, pid, n, func(*swarm) {
				writes = lastWrites
			})
			return perCPU, perSecond
		}
		hp := startHostProcess(b, "bench")
		hp.startProfile() // CHATROOM_BENCH_HOSTPROFILE=file: the host's own profile, in file.PID
		room := &processRoomProto{roomProto: &roomProto{addr: hp.addr, conf: benchClientTLS(hp.fingerprint), len: roomFrameLen(b)}, proc: hp}
		roomCPU, roomRate := measure(room, hp.cmd.Process.Pid)
		roomWrites := writes
		bp := startBareProcess(b, false)
		bareCPU, bareRate := measure(bp, bp.cmd.Process.Pid)
		bareWrites := writes
		tp := startBareProcess(b, true)
		tlsCPU, _ := measure(tp, tp.cmd.Process.Pid)
		tlsWrites := writes
		lp := startBareProcess(b, true)
		lp.pad = room.len - 1
		longCPU, _ := measure(lp, lp.cmd.Process.Pid)
		b.ReportMetric(writes, "bare-tls-long-writes/delivery")
		b.ReportMetric(longCPU, "bare-tls-long-deliveries/cpu-s")
		b.ReportMetric(roomCPU/longCPU, "tls-long-cpu-ratio")
		b.ReportMetric(longCPU/bareCPU, "bare-tls-long-to-bare")
		b.ReportMetric(roomWrites, "chatroom-writes/delivery")
		b.ReportMetric(bareWrites, "bare-writes/delivery")
		b.ReportMetric(tlsWrites, "bare-tls-writes/delivery")
		b.ReportMetric(tlsCPU, "bare-tls-deliveries/cpu-s")
		b.ReportMetric(roomCPU/tlsCPU, "tls-cpu-ratio")
		b.ReportMetric(roomCPU, "chatroom-deliveries/cpu-s")
		b.ReportMetric(bareCPU, "bare-deliveries/cpu-s")
		b.ReportMetric(roomCPU/bareCPU, "cpu-ratio")
		b.ReportMetric(roomRate, "chatroom-deliveries/s")
		b.ReportMetric(bareRate, "bare-deliveries/s")
	})
}

// fanOutCPU joins n members of proto, the server being process pid, runs
// the closed loop for b.N messages (timed), and returns the deliveries per
// second of that process's CPU time and per second; then, while the
// members are still in, it calls after, if set, with them.
func fanOutCPU(b *testing.B, proto benchProto, pid, n int, after func(*swarm)) (perCPU, perSecond float64) {
	s := newSwarm(proto)
	defer s.close()
	if err := s.join(n); err != nil {
		b.Fatal(err)
	}
	if err := s.warmUp(); err != nil {
		b.Fatal(err)
	}
	cpu0, err := procCPU(pid)
	if err != nil {
		b.Skip(err)
	}
	writes0, _, writesOK := procWrites(pid)
	b.StartTimer()
	elapsed, err := s.closedLoop(int64(b.N))
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	cpu1, err := procCPU(pid)
	if err != nil {
		b.Fatal(err)
	}
	lastWrites = 0
	if writes1, _, ok := procWrites(pid); ok && writesOK {
		lastWrites = float64(writes1-writes0) / (float64(b.N) * float64(n))
	}
	if after != nil {
		after(s)
	}
	deliveries := float64(b.N) * float64(n)
	// The CPU time counts in ticks of 10 ms: one tick at least.
	cpu := max(cpu1-cpu0, 10*time.Millisecond)
	return deliveries / cpu.Seconds(), deliveries / elapsed.Seconds()
}

// lastWrites is the last fanOutCPU's write system calls per delivery, for
// its after to read (the benchmarks run one at a time).
var lastWrites float64

// processRoomProto is chatroom in a host process, as the swarm sees it.
type processRoomProto struct {
	*roomProto
	proc *hostProcess
}

func (p *processRoomProto) close() { p.proc.stop() }

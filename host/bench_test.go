package host

// Benchmarks for the "Fast" targets of issue 6, next to a bare broadcast
// baseline (benchbare_test.go) so that every ratio comes from one run:
//
//	BenchmarkFanOut          deliveries/s, 100 and 500 members, closed loop
//	BenchmarkFanOutCPU       deliveries per second of the server's own CPU
//	                         time, 100 members, each server in a child
//	                         process (Linux)
//	BenchmarkLatency         p50/p99 at 100 members, 1,000 messages/s offered
//	BenchmarkIdleMemory      the host process's RSS per idle TLS member,
//	                         5,000 members, heartbeats on (and its heap and
//	                         stacks after collecting)
//	BenchmarkJoin            joins/s, TLS handshake included, next to a
//	                         server that does the same TLS and nothing else
//	BenchmarkStalledMember   the others' throughput with a member that stops
//	                         reading, and how long until the host cuts it off
//
// Everything runs on 127.0.0.1; clients share the machine with the host
// (in BenchmarkIdleMemory, BenchmarkFanOutCPU and BenchmarkJoinHostCPU the
// server is a child process, so that only its memory or CPU is counted). Each benchmark checks what it
// measures — every member received every message, in the room's order,
// and no one was dropped — and fails otherwise. The figures, as run for
// the issue:
//
//	go test -run '^$' -bench 'FanOut|Latency|Join' -benchtime 3s -count 5 ./host/
//	go test -run '^$' -bench 'StalledMember' -benchtime 40000x -count 3 ./host/
//	go test -run '^$' -bench 'FanOutCPU' -benchtime 3s -count 5 ./host/      (Linux)
//	go test -run '^$' -bench 'IdleMemory' -benchtime 1x -count 3 ./host/
//	go test -run '^$' -bench 'JoinHostCPU' -benchtime 3s -count 3 ./host/   (Linux)
//
// (BenchmarkStalledMember's second phase lasts until the stalled member is
// cut off, and BenchmarkIdleMemory measures once whatever b.N is, so both
// want -benchtime Nx.)
// CPU profiles hold the clients too: `go tool pprof -tagignore bench=client`
// shows the host alone. CHATROOM_BENCH_HEAPPROFILE=file makes
// BenchmarkIdleMemory's host process write its heap profile as it measures
// it, and CHATROOM_BENCH_IDLE=duration sets how long the room idles before
// its RSS is read (30 s).

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chatroom/host/wire"
)

// benchServers are the two sides of every comparison.
var benchServers = []struct {
	name  string
	start func(testing.TB) benchProto
}{
	{"chatroom", func(tb testing.TB) benchProto { return startRoomProto(tb) }},
	{"bare", func(tb testing.TB) benchProto {
		p, err := startBareProto()
		if err != nil {
			tb.Fatal(err)
		}
		return p
	}},
}

// startSwarm starts a server and joins n members to it.
func startSwarm(b *testing.B, start func(testing.TB) benchProto, n int) *swarm {
	b.Helper()
	raiseFileLimit(uint64(2*n + 256)) // both ends of every connection are here
	s := newSwarm(start(b))
	if err := s.join(n); err != nil {
		s.close()
		b.Fatal(err)
	}
	return s
}

// BenchmarkFanOut: every member sends as fast as it can, keeping
// benchInFlight messages of its own in flight; one op is one message,
// delivered to every member (its sender included).
func BenchmarkFanOut(b *testing.B) {
	// chatroom and the baseline run one after the other for each size, so
	// that the pair shares whatever else the machine is doing.
	for _, n := range []int{100, 500} {
		for _, srv := range benchServers {
			b.Run(fmt.Sprintf("members=%d/server=%s", n, srv.name), func(b *testing.B) {
				b.StopTimer()
				s := startSwarm(b, srv.start, n)
				defer s.close()
				if err := s.warmUp(); err != nil {
					b.Fatal(err)
				}
				parks := s.parks.Load()
				w0, r0, ioOK := syscallCounts()
				b.StartTimer()
				elapsed, err := s.closedLoop(int64(b.N))
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				if w1, r1, ok := syscallCounts(); ok && ioOK {
					// The clients write each message once; every other
					// write is the server's. Reads are both sides'.
					deliveries := float64(b.N) * float64(n)
					b.ReportMetric(deliveries/float64(w1-w0-uint64(b.N)), "frames/write")
					b.ReportMetric(float64(r1-r0)/deliveries, "reads/delivery")
				}
				b.ReportMetric(float64(b.N)*float64(n)/elapsed.Seconds(), "deliveries/s")
				b.ReportMetric(float64(s.parks.Load()-parks)/float64(b.N), "parks/op")
				b.ReportMetric(float64(s.proto.frameLen()), "B/delivery")
			})
		}
	}
}

// BenchmarkLatency: 100 members, 1,000 messages/s offered in all, from each
// member in turn (open loop); latency is receive time minus send time at
// every member. One op is one message.
//
// A third server, bare-tls-long, is the bare loop over TLS 1.3 carrying
// lines as long as the room's frames: what moving the room's bytes under
// encryption costs in latency, on these cores, without the room.
func BenchmarkLatency(b *testing.B) {
	const members, rate = 100, 1000
	servers := append(benchServers[:len(benchServers):len(benchServers)], struct {
		name  string
		start func(testing.TB) benchProto
	}{"bare-tls-long", startBareTLSLongProto})
	for _, srv := range servers {
		b.Run(fmt.Sprintf("server=%s/members=%d/rate=%d", srv.name, members, rate), func(b *testing.B) {
			b.StopTimer()
			s := startSwarm(b, srv.start, members)
			defer s.close()
			if err := s.warmUp(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			lat, err := s.openLoop(b.N, rate)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(percentile(lat, 0.50))/1e3, "p50-us")
			b.ReportMetric(float64(percentile(lat, 0.99))/1e3, "p99-us")
			b.ReportMetric(float64(lat[len(lat)-1])/1e3, "max-us")
		})
	}
}

// BenchmarkJoin: joiners dial, handshake (presenting an identity key, as
// join does), say hello and read their welcome, many at once; each then
// hangs up, so the room stays its size. With present=100, a hundred
// members are in the room and see every join and leave. server=bare is
// the baseline: the room's own TLS configuration and a welcome as long as
// its, served by a loop that does nothing else (bareJoinServer), so the
// ratio shows what the room adds to what TLS costs. One op is one join.
func BenchmarkJoin(b *testing.B) {
	const joiners = 32
	run := func(b *testing.B, addr string, conf *tls.Config, s *swarm) {
		b.StartTimer()
		elapsed, err := joinMany(addr, conf, b.N, joiners)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if s != nil {
			select {
			case <-s.failed:
				b.Fatal(s.err)
			default:
			}
		}
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "joins/s")
	}
	for _, present := range []int{0, 100} {
		b.Run(fmt.Sprintf("present=%d/concurrent=%d/server=chatroom", present, joiners), func(b *testing.B) {
			b.StopTimer()
			s := startSwarm(b, func(tb testing.TB) benchProto { return startRoomProto(tb) }, present)
			s.leavesOK.Store(true)
			defer s.close()
			p := s.proto.(*roomProto)
			run(b, p.addr, benchJoinerTLS(b, p.h.Fingerprint()), s)
		})
		if present != 0 {
			continue
		}
		b.Run(fmt.Sprintf("present=%d/concurrent=%d/server=bare", present, joiners), func(b *testing.B) {
			b.StopTimer()
			p := startRoomProto(b) // for its TLS configuration and welcome
			defer p.close()
			conf := benchJoinerTLS(b, p.h.Fingerprint())
			n, err := welcomeLen(p.addr, conf)
			if err != nil {
				b.Fatal(err)
			}
			bare, err := startBareJoinServer(p.h.tlsConfig, n)
			if err != nil {
				b.Fatal(err)
			}
			defer bare.close()
			run(b, bare.addr(), conf, nil)
		})
	}
}

// welcomeLen joins the room at addr once and returns the length of the
// welcome it sends.
func welcomeLen(addr string, conf *tls.Config) (int, error) {
	conn, err := tls.Dial("tcp", addr, conf)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	hello, _ := wire.Encode(&wire.Frame{Type: wire.TypeHello, Version: wire.Version, Name: "measure"})
	if _, err := conn.Write(hello); err != nil {
		return 0, err
	}
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	return len(line), err
}

// joinMany makes n joins to the room at addr, joiners at a time, each a
// TLS handshake, a hello, the welcome, and leaving, and returns how long
// they took, or the first error.
func joinMany(addr string, conf *tls.Config, n, joiners int) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var errOnce sync.Once
	var joinErr error
	start := time.Now()
	for range joiners {
		wg.Go(func() {
			asClient(func() {
				for {
					i := next.Add(1)
					if i > int64(n) {
						return
					}
					conn, _, _, err := dialRoomMember(addr, conf, fmt.Sprintf("j%d", i), 4096)
					if err != nil {
						errOnce.Do(func() { joinErr = err })
						return
					}
					conn.Close()
				}
			})
		})
	}
	wg.Wait()
	return time.Since(start), joinErr
}

// BenchmarkStalledMember: 100 members in the closed loop, first without
// the stalled member (b.N messages), then with it. stall=cold: it joins
// after the first phase and never reads after its welcome, so its socket
// buffers are as small as they start. stall=warm: it joins before the first
// phase and reads all of it (the kernel grows its buffers to the traffic,
// as for a member that was chatting), then stops reading when the second
// phase starts. Reported: the others' deliveries/s without it (the first
// phase) and while it is in the room (second phase, up to its cut-off),
// their ratio, and the seconds from its last read until the room drops it
// (cutoff-s: the others see it leave) and until the host has closed its
// connection (closed-s). The second phase runs until both have happened
// (at most stallBound) and at least b.N messages were sent.
func BenchmarkStalledMember(b *testing.B) {
	const members = 100
	const stallBound = 60 * time.Second
	for _, warm := range []bool{false, true} {
		mode := map[bool]string{false: "cold", true: "warm"}[warm]
		b.Run(fmt.Sprintf("members=%d/stall=%s", members, mode), func(b *testing.B) {
			b.StopTimer()
			p := startRoomProto(b)
			s := newSwarm(p)
			s.stallName = "stalled"
			if err := s.join(members); err != nil {
				s.close()
				b.Fatal(err)
			}
			defer s.close()

			var stalled net.Conn
			var stallStart atomic.Int64 // benchNow of its last read
			var stop atomic.Bool
			stalledDone := make(chan struct{})
			joinStalled := func() {
				var br *bufio.Reader
				var err error
				asClient(func() { stalled, br, _, err = p.dial(s.stallName) })
				if err != nil {
					b.Fatal(err)
				}
				if !warm {
					stallStart.Store(benchNow()) // it has read its welcome, and reads no more
					close(stalledDone)
					return
				}
				go asClient(func() {
					defer close(stalledDone)
					for !stop.Load() {
						if _, err := br.ReadSlice('\n'); err != nil && err != bufio.ErrBufferFull {
							return
						}
					}
					stallStart.Store(benchNow())
				})
			}
			if warm {
				joinStalled()
			}
			if err := s.warmUp(); err != nil {
				b.Fatal(err)
			}

			b.StartTimer()
			elapsed, err := s.closedLoop(int64(b.N))
			if err != nil {
				b.Fatal(err)
			}
			without := float64(b.N) * members / elapsed.Seconds()

			if !warm {
				joinStalled()
			}
			defer stalled.Close()
			if s.stallLeft.Load() != 0 {
				b.Fatal("the stalled member was dropped before it stalled")
			}
			stop.Store(true)

			const unlimited = 1 << 40
			s.phase.Store(&benchPhase{})
			before := s.delivered()
			s.tickets.Store(unlimited)
			start := time.Now()
			if err := s.kick(); err != nil {
				b.Fatal(err)
			}
			var window time.Duration
			var windowDelivered int64
			var closedAt int64
			deadline := start.Add(stallBound)
			for {
				select {
				case <-s.failed:
					b.Fatal(s.err)
				default:
				}
				if _, err := s.pump(); err != nil {
					b.Fatal(err)
				}
				if window == 0 && s.stallLeft.Load() != 0 {
					window = time.Since(start)
					windowDelivered = s.delivered() - before
				}
				if closedAt == 0 && p.hostConns() == members {
					closedAt = benchNow()
				}
				if window != 0 && closedAt != 0 && unlimited-s.tickets.Load() >= int64(b.N) {
					break
				}
				if time.Now().After(deadline) {
					break
				}
				time.Sleep(200 * time.Microsecond)
			}
			sent := unlimited - max(s.tickets.Swap(0), 0)
			s.target += sent
			if err := s.waitCounts(s.target, time.Now().Add(benchPhaseTimeout)); err != nil {
				b.Fatal(err)
			}
			s.unpark()
			b.StopTimer()
			if err := s.checkCounts(s.target); err != nil {
				b.Fatal(err)
			}
			select {
			case <-stalledDone:
			case <-time.After(benchPhaseTimeout):
				b.Fatal("the stalled member's reader did not stop")
			}

			b.ReportMetric(without, "deliveries/s")
			if window == 0 {
				b.Logf("the stalled member was not cut off within %v", stallBound)
				window = time.Since(start)
				windowDelivered = s.delivered() - before
				b.ReportMetric(-1, "cutoff-s")
			} else {
				b.ReportMetric(float64(s.stallLeft.Load()-stallStart.Load())/1e9, "cutoff-s")
			}
			if closedAt == 0 {
				b.Logf("the host had not closed the stalled member's connection within %v", stallBound)
				b.ReportMetric(-1, "closed-s")
			} else {
				b.ReportMetric(float64(closedAt-stallStart.Load())/1e9, "closed-s")
			}
			with := float64(windowDelivered) / window.Seconds()
			b.ReportMetric(with, "stalled-deliveries/s")
			b.ReportMetric(with/without, "stalled-ratio")
		})
	}
}

// syscallCounts returns how many write and read system calls this process
// has made (Linux's /proc/self/io); ok is false where that is not known.
func syscallCounts() (writes, reads uint64, ok bool) {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, 0, false
	}
	var w, r bool
	for line := range bytes.Lines(data) {
		k, v, _ := bytes.Cut(bytes.TrimSpace(line), []byte(": "))
		n, err := strconv.ParseUint(string(v), 10, 64)
		switch {
		case err != nil:
		case string(k) == "syscw":
			writes, w = n, true
		case string(k) == "syscr":
			reads, r = n, true
		}
	}
	return writes, reads, w && r
}

package host

// BenchmarkIdleMemory and its client process. The clients run in a child
// process (this test binary again, which TestMain makes runBenchClients
// when CHATROOM_BENCH_HELPER is set), so that the memory measured in this
// process is the host's alone.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	helperEnv     = "CHATROOM_BENCH_HELPER" // "clients" in the child
	helperAddrEnv = "CHATROOM_BENCH_ADDR"
	helperFPEnv   = "CHATROOM_BENCH_FINGERPRINT"
	helperNEnv    = "CHATROOM_BENCH_MEMBERS"
	helperPrefix  = "bench-helper: "
	// helperTimeout bounds the child's whole life, and the parent's wait.
	helperTimeout = 5 * time.Minute
)

// hostMemory is the live heap and the stack memory in use, after gcs
// collections (runtime.MemStats: HeapAlloc, StackInuse; HeapInuse for
// whole spans in use, fragmentation included).
func hostMemory(gcs int) (heap, stack, inuse uint64) {
	for range gcs {
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.StackInuse, ms.HeapInuse + ms.StackInuse
}

// BenchmarkIdleMemory holds members=N idle TLS members, each welcomed and
// caught up with every join after it, and reports the host's memory per
// member: (heap + stacks with them) - (heap + stacks without), divided by
// N. It measures once, whatever b.N is (run it with -benchtime 1x).
func BenchmarkIdleMemory(b *testing.B) {
	const members = 5000
	b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
		n := members
		// The host holds one descriptor per member, the child another.
		if lim := raiseFileLimit(uint64(n) + 256); lim != 0 && lim < uint64(n)+256 {
			n = int(lim) - 256
			b.Logf("open-file limit %d: holding %d members, not %d", lim, n, members)
		}
		// The helper clients neither ping nor expect pings, and joining
		// them all can take longer than three heartbeat intervals: the
		// first would be taken as gone. (The writer then holds no timer,
		// so this measures a member without a heartbeat.)
		h, err := Start(Config{Name: "bench", StateDir: b.TempDir(), Listen: "127.0.0.1:0", Limits: benchLimits, JoinLimits: benchJoinLimits, MaxConnsPerAddr: 1 << 20, Heartbeat: -1})
		if err != nil {
			b.Fatal(err)
		}
		defer h.Close()
		heap0, stack0, inuse0 := hostMemory(2)

		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			helperEnv+"=clients",
			helperAddrEnv+"="+h.Addr().String(),
			helperFPEnv+"="+h.Fingerprint(),
			helperNEnv+"="+strconv.Itoa(n))
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		exited := make(chan error, 1)
		lines := make(chan string, 1024) // the child says a few lines only
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if s, ok := strings.CutPrefix(sc.Text(), helperPrefix); ok {
					lines <- s
				}
			}
			close(lines)
			exited <- cmd.Wait()
		}()
		var stopOnce sync.Once
		stop := func() {
			stopOnce.Do(func() {
				stdin.Close()
				select {
				case <-exited:
				case <-time.After(30 * time.Second):
					cmd.Process.Kill() // the child we started, by its process
					<-exited
				}
			})
		}
		defer stop()

		timeout := time.After(helperTimeout)
		start := time.Now()
		var joinedIn time.Duration
	wait:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					b.Fatal("the client process ended before its members were ready")
				}
				switch {
				case strings.HasPrefix(l, "joined "):
					joinedIn = time.Since(start)
				case l == fmt.Sprintf("ready %d", n):
					break wait
				default:
					b.Fatalf("client process: %s", l)
				}
			case <-timeout:
				b.Fatalf("the client process was not ready within %v", helperTimeout)
			}
		}
		s := h.server
		s.mu.Lock()
		held := 0
		for _, st := range s.conns {
			if st.joined {
				held++
			}
		}
		s.mu.Unlock()
		if held != n {
			b.Fatalf("the host holds %d members, want %d", held, n)
		}
		heap1, stack1, inuse1 := hostMemory(2)
		goroutines := []metrics.Sample{{Name: "/sched/goroutines:goroutines"}}
		metrics.Read(goroutines)
		if path := os.Getenv("CHATROOM_BENCH_HEAPPROFILE"); path != "" {
			// The heap as measured, for `go tool pprof -sample_index=inuse_space`.
			if f, err := os.Create(path); err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		stop()
		select {
		case l, ok := <-lines:
			if ok && l != "done" {
				b.Fatalf("client process: %s", l)
			}
		default:
		}

		perMember := func(after, before uint64) float64 { return (float64(after) - float64(before)) / float64(n) }
		b.ReportMetric(float64(n), "members")
		b.ReportMetric(perMember(heap1+stack1, heap0+stack0), "B/member")
		b.ReportMetric(perMember(heap1, heap0), "heap-B/member")
		b.ReportMetric(perMember(stack1, stack0), "stack-B/member")
		b.ReportMetric(perMember(inuse1, inuse0), "inuse-B/member")
		b.ReportMetric(float64(n)/joinedIn.Seconds(), "fill-joins/s")
		b.ReportMetric(float64(goroutines[0].Value.Uint64())/float64(n), "goroutines/member")
	})
}

// runBenchClients is BenchmarkIdleMemory's client process (see TestMain).
// It joins the members, reads everything the host sends them, and says
// "ready N" once every member is welcomed and has seen the last join; it
// then holds them until its input ends.
func runBenchClients() {
	say := func(format string, args ...any) { fmt.Printf(helperPrefix+format+"\n", args...) }
	if err := helperClients(say); err != nil {
		say("error: %v", err)
		os.Exit(1)
	}
	say("done")
	os.Exit(0)
}

func helperClients(say func(string, ...any)) error {
	n, err := strconv.Atoi(os.Getenv(helperNEnv))
	if err != nil {
		return err
	}
	addr, fp := os.Getenv(helperAddrEnv), os.Getenv(helperFPEnv)
	raiseFileLimit(uint64(n) + 256)
	deadline := time.Now().Add(helperTimeout)
	conf := benchClientTLS(fp)

	var (
		failOnce  sync.Once
		failure   error
		failed    = make(chan struct{})
		releasing atomic.Bool
		readers   sync.WaitGroup
	)
	fail := func(err error) {
		failOnce.Do(func() { failure = err; close(failed) })
	}
	conns := make([]net.Conn, n)
	lastSeq := make([]atomic.Uint64, n)
	welcomeSeq := make([]uint64, n)
	defer func() {
		releasing.Store(true)
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		readers.Wait()
	}()

	var next atomic.Int64
	var dialers sync.WaitGroup
	for range 32 {
		dialers.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || time.Now().After(deadline) {
					return
				}
				conn, br, seq, err := dialRoomMember(addr, conf, fmt.Sprintf("m%d", i), 4096)
				if err != nil {
					fail(fmt.Errorf("m%d: %v", i, err))
					return
				}
				conns[i], welcomeSeq[i] = conn, seq
				lastSeq[i].Store(seq)
				readers.Add(1)
				go func() {
					defer readers.Done()
					for {
						line, err := readEvent(br)
						if err != nil {
							if !releasing.Load() {
								fail(fmt.Errorf("m%d: read: %v", i, err))
							}
							return
						}
						ev := parseRoomLine(line)
						if ev.kind != lineJoin || !ev.follows(lastSeq[i].Load()) {
							fail(fmt.Errorf("m%d: unexpected %.200s", i, line))
							return
						}
						lastSeq[i].Store(ev.seq)
					}
				}()
			}
		})
	}
	dialers.Wait()
	select {
	case <-failed:
		return failure
	default:
	}
	var last uint64
	for i, c := range conns {
		if c == nil {
			return fmt.Errorf("m%d did not join in time", i)
		}
		last = max(last, welcomeSeq[i])
	}
	say("joined %d", n)
	for i := 0; i < n; {
		select {
		case <-failed:
			return failure
		default:
		}
		if lastSeq[i].Load() >= last {
			i++
			continue
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("m%d has seen event %d of %d", i, lastSeq[i].Load(), last)
		}
		time.Sleep(10 * time.Millisecond)
	}
	say("ready %d", n)
	// Hold the members until told to let go (our input ends), or the
	// deadline.
	released := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(released) }()
	select {
	case <-released:
	case <-failed:
		return failure
	case <-time.After(time.Until(deadline)):
		return fmt.Errorf("not released within %v", helperTimeout)
	}
	return nil
}

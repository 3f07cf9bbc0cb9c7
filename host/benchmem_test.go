package host

// BenchmarkIdleMemory and its client process. The host and the clients
// each run in a child process (this test binary again, which TestMain
// makes a host, runHostProcess, or runBenchClients when
// CHATROOM_BENCH_HELPER is set), so that the memory measured is the
// host's alone, as the system counts it.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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

// memStatsEnv names the file to which a host process writes its own
// figures (hostMemory's, and its goroutines) when it receives
// memStatsSignal; when it is unset, the host process does not listen for
// the signal.
const memStatsEnv = "CHATROOM_BENCH_MEMSTATS"

// idleFor is how long BenchmarkIdleMemory lets the room idle before it
// reads the host's RSS: a few heartbeats, time for the runtime to return
// what the fill left behind as it would on its own. CHATROOM_BENCH_IDLE
// (a duration) changes it.
const idleFor = 30 * time.Second

// hostProcessMemStats are the figures of answerMemStats.
type hostProcessMemStats struct {
	heap, stack, inuse, goroutines uint64
}

// answerMemStats runs in a host process started with memStatsEnv set:
// each time the process receives memStatsSignal it writes its figures
// to that file (through a temporary file, so that the reader sees it
// whole), and its heap profile to CHATROOM_BENCH_HEAPPROFILE if that is
// set. It does nothing until asked: the benchmark reads the host's RSS
// first, and only then has it collect.
func answerMemStats(path string, asked <-chan os.Signal) {
	for range asked {
		heap, stack, inuse := hostMemory(2)
		tmp := path + ".tmp"
		data := fmt.Sprintf("%d %d %d %d\n", heap, stack, inuse, runtime.NumGoroutine())
		if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
			continue
		}
		if prof := os.Getenv("CHATROOM_BENCH_HEAPPROFILE"); prof != "" {
			// The heap as measured, for `go tool pprof -sample_index=inuse_space`.
			if f, err := os.Create(prof); err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		os.Rename(tmp, path)
	}
}

// askMemStats has host process p write its figures (answerMemStats) and
// returns them.
func askMemStats(p *hostProcess, path string) (hostProcessMemStats, error) {
	var st hostProcessMemStats
	os.Remove(path)
	if err := signalMemStats(p.cmd.Process); err != nil {
		return st, err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		data, err := os.ReadFile(path)
		if err == nil {
			_, err = fmt.Sscan(string(data), &st.heap, &st.stack, &st.inuse, &st.goroutines)
			return st, err
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("the host process did not write its memory figures: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkIdleMemory holds members=N idle TLS members of a host process
// (startHostProcess, kind "bench": heartbeats on, at the default
// interval), each welcomed and caught up with every join after it, whose
// clients ping as join's do, from a second child process, so that the
// host's process holds nothing but the host. Once every member is in, the
// room idles for idleFor, and the figure is what `top` shows: the growth
// of the host's resident memory (VmRSS, Linux only) over the empty room,
// divided by N (rss-B/member; rss-peak-B/member is the highest it
// reached on the way, sampled each second). The benchmark does nothing to
// the host's process but connect and idle until it has read it; then it
// has the host collect twice and report its live heap and stacks, as
// before the change to RSS (B/member, heap-, stack-, inuse-B/member,
// against the same figures before the members came) and goroutines per
// member. It measures once, whatever b.N is (run it with -benchtime 1x).
func BenchmarkIdleMemory(b *testing.B) {
	const members = 5000
	b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
		n := members
		// The host process holds one descriptor per member, the client
		// process another; both inherit this process's limit.
		if lim := raiseFileLimit(uint64(n) + 256); lim != 0 && lim < uint64(n)+256 {
			n = int(lim) - 256
			b.Logf("open-file limit %d: holding %d members, not %d", lim, n, members)
		}
		idle := idleFor
		if d, err := time.ParseDuration(os.Getenv("CHATROOM_BENCH_IDLE")); err == nil {
			idle = d
		}
		statsPath := filepath.Join(b.TempDir(), "memstats")
		b.Setenv(memStatsEnv, statsPath)
		p := startHostProcess(b, "bench")
		defer p.stop()
		pid := p.cmd.Process.Pid
		time.Sleep(time.Second) // the host's start is done with
		rss0, rssErr := procRSS(pid)
		if rssErr != nil {
			b.Logf("no RSS figure: %v", rssErr)
		}
		before, err := askMemStats(p, statsPath)
		if err != nil {
			b.Fatal(err)
		}

		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			helperEnv+"=clients",
			helperAddrEnv+"="+p.addr,
			helperFPEnv+"="+p.fingerprint,
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

		var peak uint64
		sample := func() {
			if rss, err := procRSS(pid); err == nil {
				peak = max(peak, rss)
			}
		}
		timeout := time.After(helperTimeout)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
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
			case <-tick.C:
				sample()
			case <-timeout:
				b.Fatalf("the client process was not ready within %v", helperTimeout)
			}
		}
		idleUntil := time.After(idle)
	idling:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					b.Fatal("the client process ended while the room idled")
				}
				b.Fatalf("client process: %s", l)
			case <-tick.C:
				sample()
			case <-idleUntil:
				break idling
			}
		}
		rss1, err := procRSS(pid)
		if rssErr == nil && err != nil {
			b.Fatal(err)
		}
		peak = max(peak, rss1)
		after, err := askMemStats(p, statsPath)
		if err != nil {
			b.Fatal(err)
		}
		if held := int(after.goroutines) - int(before.goroutines); held < n {
			// Each member holds its reader at least: fewer means members
			// were lost, and the figures would flatter the host.
			b.Fatalf("the host runs %d more goroutines than empty, for %d members", held, n)
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
		if rssErr == nil {
			b.ReportMetric(perMember(rss1, rss0), "rss-B/member")
			b.ReportMetric(perMember(peak, rss0), "rss-peak-B/member")
		}
		b.ReportMetric(perMember(after.heap+after.stack, before.heap+before.stack), "B/member")
		b.ReportMetric(perMember(after.heap, before.heap), "heap-B/member")
		b.ReportMetric(perMember(after.stack, before.stack), "stack-B/member")
		b.ReportMetric(perMember(after.inuse, before.inuse), "inuse-B/member")
		b.ReportMetric(float64(n)/joinedIn.Seconds(), "fill-joins/s")
		b.ReportMetric(perMember(after.goroutines, before.goroutines), "goroutines/member")
	})
}

// procRSS returns the resident memory of process pid, in bytes, as top
// shows it (VmRSS in /proc/PID/status, Linux only).
func procRSS(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("unexpected /proc/%d/status line %q", pid, line)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// runBenchClients is BenchmarkIdleMemory's client process (see TestMain).
// It joins the members, reads everything the host sends them, pings as
// join's clients do, and says "ready N" once every member is welcomed and
// has seen the last join; it then holds them until its input ends.
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
				// A member pings after every heartbeat in which it sent
				// nothing, as join's clients do; these never send
				// anything else.
				var ping func()
				ping = func() {
					if releasing.Load() {
						return
					}
					if _, err := conn.Write(pingFrame); err != nil {
						if !releasing.Load() {
							fail(fmt.Errorf("m%d: ping: %v", i, err))
						}
						return
					}
					time.AfterFunc(defaultHeartbeat, ping)
				}
				time.AfterFunc(defaultHeartbeat, ping)
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
						if bytes.Equal(line, pingFrame) {
							continue // the host's heartbeat
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

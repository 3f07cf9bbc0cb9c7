//go:build linux

package host

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkJoinHostCPU makes joins as BenchmarkJoin does (32 at a time,
// each a TLS handshake, a hello, the welcome, and leaving) against a host
// in a child process, so that the host's CPU time can be read apart from
// the joiners' (from /proc). In BenchmarkJoin the joiners run on the same
// cores as the host and take most of the CPU; on a LAN each runs on its own
// machine.
//
// It runs twice in one go: with no one else in the room (present=0), and
// in a room that already holds joinCPUPresent idle members (present=5000),
// each reading everything the room sends it, on a host of its own that is
// filled before either is measured. Reported: joins/s as measured here,
// the host's CPU time per join (host-cpu-us/join), the joins a second the
// host's work allows on this machine's cores (host-joins/s = cores / CPU
// time per join) and, for present=5000, ratio: its CPU time per join over
// present=0's, from the same run (the target is at most 1.5).
//
// A room of idle members costs its host CPU with no one joining: each
// member's ping, read every 5 s, and the host's own to those it has sent
// nothing for as long. idle-host-cpu-ms/s is that, measured on each host
// for idleMeasure before the joins; host-cpu-us/join-net and ratio-net
// are the figures above without it, the cost of the joins alone.
//
// CHATROOM_BENCH_HOSTPROFILE=file has each host write its CPU profile of
// the joins (not of the filling) to file.PID: the parent's -cpuprofile
// holds only the joiners.
func BenchmarkJoinHostCPU(b *testing.B) {
	const joiners = 32
	raiseFileLimit(2*joinCPUPresent + 1024) // the child host inherits it
	empty := startHostProcess(b, "bench")
	defer empty.stop()
	full := startHostProcess(b, "bench")
	defer full.stop()
	present, err := fillRoom(full.addr, benchClientTLS(full.fingerprint), joinCPUPresent)
	if err != nil {
		b.Fatal(err)
	}
	defer present.close()

	idle := make(map[*hostProcess]float64) // CPU seconds a second
	for _, p := range []*hostProcess{empty, full} {
		before, err := procCPU(p.cmd.Process.Pid)
		if err != nil {
			b.Skip(err)
		}
		time.Sleep(idleMeasure)
		after, err := procCPU(p.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		idle[p] = float64(after-before) / float64(idleMeasure)
	}

	var emptyPerJoin, emptyNet float64 // seconds of CPU
	// Each host's profile (CHATROOM_BENCH_HOSTPROFILE) starts with its
	// first run, after the filling.
	profileOnce := map[*hostProcess]*sync.Once{empty: new(sync.Once), full: new(sync.Once)}
	for _, run := range []struct {
		present int
		p       *hostProcess
	}{{0, empty}, {joinCPUPresent, full}} {
		b.Run(fmt.Sprintf("present=%d", run.present), func(b *testing.B) {
			addr, conf := run.p.addr, benchJoinerTLS(b, run.p.fingerprint)
			pid := run.p.cmd.Process.Pid
			profileOnce[run.p].Do(run.p.startProfile)
			before, err := procCPU(pid)
			if err != nil {
				b.Skip(err)
			}
			writes0, wrote0, ioOK := procWrites(pid)
			b.ResetTimer()
			elapsed, err := joinMany(addr, conf, b.N, joiners)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			after, err := procCPU(pid)
			if err != nil {
				b.Fatal(err)
			}
			if err := present.failure(); err != nil {
				b.Fatal(err)
			}
			if writes1, wrote1, ok := procWrites(pid); ok && ioOK {
				// Idle members' pings among them, as in the CPU time.
				b.ReportMetric(float64(writes1-writes0)/float64(b.N), "host-writes/join")
				b.ReportMetric(float64(wrote1-wrote0)/float64(b.N), "host-bytes/join")
			}
			perJoin := (after - before).Seconds() / float64(b.N)
			net := ((after - before).Seconds() - idle[run.p]*elapsed.Seconds()) / float64(b.N)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "joins/s")
			b.ReportMetric(perJoin*1e6, "host-cpu-us/join")
			b.ReportMetric(net*1e6, "host-cpu-us/join-net")
			b.ReportMetric(idle[run.p]*1e3, "idle-host-cpu-ms/s")
			if perJoin > 0 {
				b.ReportMetric(float64(runtime.NumCPU())/perJoin, "host-joins/s")
			}
			if run.present == 0 {
				emptyPerJoin, emptyNet = perJoin, net
			} else if emptyPerJoin > 0 && emptyNet > 0 {
				b.ReportMetric(perJoin/emptyPerJoin, "ratio")
				b.ReportMetric(net/emptyNet, "ratio-net")
			}
		})
	}
}

// joinCPUPresent is how many idle members BenchmarkJoinHostCPU's full room
// holds, as the target says.
const joinCPUPresent = 5000

// idleMeasure is how long BenchmarkJoinHostCPU watches each host idle: a
// few of /proc's 10 ms ticks would not do.
const idleMeasure = 5 * time.Second

// idleRoom is members who joined a room and read everything it sends
// them, checking that its events come in order, until closed. They send
// a ping every idlePing, as a client does on the room's heartbeat (5 s by
// default), so that the host does not take them as gone.
type idleRoom struct {
	mu      sync.Mutex // guards conns, which the pinger reads as they join
	conns   []net.Conn
	stop    chan struct{}
	pinger  sync.WaitGroup
	readers sync.WaitGroup
	closing atomic.Bool
	errOnce sync.Once
	err     atomic.Pointer[error]
}

// fillRoom joins n idle members, named idle0 … idle<n-1>, 32 at a time,
// within a bound of time.
func fillRoom(addr string, conf *tls.Config, n int) (*idleRoom, error) {
	r := &idleRoom{conns: make([]net.Conn, n), stop: make(chan struct{})}
	r.pinger.Go(r.ping)
	deadline := time.Now().Add(5 * time.Minute)
	var next atomic.Int64
	var dialers sync.WaitGroup
	for range 32 {
		dialers.Go(func() {
			asClient(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= n || r.failure() != nil {
						return
					}
					if time.Now().After(deadline) {
						r.fail(fmt.Errorf("the room was not filled with %d members within 5 minutes", n))
						return
					}
					conn, br, seq, err := dialRoomMember(addr, conf, fmt.Sprintf("idle%d", i), 4096)
					if err != nil {
						r.fail(fmt.Errorf("idle%d: %v", i, err))
						return
					}
					r.mu.Lock()
					r.conns[i] = conn
					r.mu.Unlock()
					r.readers.Add(1)
					go r.read(i, br, seq)
				}
			})
		})
	}
	dialers.Wait()
	if err := r.failure(); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// read reads member i's frames until its connection closes, checking
// that each event is numbered one after the last it had.
func (r *idleRoom) read(i int, br *bufio.Reader, seq uint64) {
	defer r.readers.Done()
	for {
		line, err := readEvent(br)
		if err != nil {
			if !r.closing.Load() {
				r.fail(fmt.Errorf("idle%d: read: %v", i, err))
			}
			return
		}
		ev := parseRoomLine(line)
		if ev.seq == 0 {
			continue // a ping
		}
		if !ev.follows(seq) {
			r.fail(fmt.Errorf("idle%d: event %d after %d: the order has a gap", i, ev.seq, seq))
			return
		}
		seq = ev.seq
	}
}

func (r *idleRoom) fail(err error) { r.errOnce.Do(func() { r.err.Store(&err) }) }

func (r *idleRoom) failure() error {
	if p := r.err.Load(); p != nil {
		return *p
	}
	return nil
}

const idlePing = 2 * time.Second

// ping writes a ping (the host's own frame, server.go) to every member
// every idlePing, until close.
func (r *idleRoom) ping() {
	t := time.NewTicker(idlePing)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
		r.mu.Lock()
		conns := slices.Clone(r.conns)
		r.mu.Unlock()
		for _, c := range conns {
			if c != nil {
				c.Write(pingFrame) // a failure shows in its reader
			}
		}
	}
}

func (r *idleRoom) close() {
	r.closing.Store(true)
	close(r.stop)
	r.pinger.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		if c != nil {
			c.Close()
		}
	}
	r.readers.Wait()
}

// procWrites returns how many write system calls process pid has made,
// and how many bytes it has written, from /proc/PID/io; ok is false when
// that cannot be read.
func procWrites(pid int) (calls, bytes uint64, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, 0, false
	}
	var found int
	for _, line := range strings.Split(string(data), "\n") {
		key, value, _ := strings.Cut(line, ": ")
		n, err := strconv.ParseUint(value, 10, 64)
		switch {
		case err != nil:
		case key == "syscw":
			calls = n
			found++
		case key == "wchar":
			bytes = n
			found++
		}
	}
	return calls, bytes, found == 2
}

// procCPU returns the CPU time (user and system) process pid has used, from
// /proc/PID/stat, in clock ticks of 10 ms (USER_HZ is 100 on Linux).
func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after it. utime and stime are fields 14 and 15 of the line, so the
	// 12th and 13th after the name.
	s := string(data)
	rest := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(rest) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, s)
	}
	utime, err1 := strconv.ParseInt(rest[11], 10, 64)
	stime, err2 := strconv.ParseInt(rest[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, s)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

//go:build linux

package host

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkJoinHostCPU makes joins as BenchmarkJoin does (32 at a time,
// each a TLS handshake, a hello, the welcome, and leaving) against a host
// in a child process, so that the host's CPU time can be read apart from
// the joiners' (from /proc). In BenchmarkJoin the joiners run on the same
// cores as the host and take most of the CPU; on a LAN each runs on its own
// machine. Reported: joins/s as measured here, the host's CPU time per join
// (host-cpu-us/join), and the joins a second the host's work allows on
// this machine's cores (host-joins/s = cores / CPU time per join).
func BenchmarkJoinHostCPU(b *testing.B) {
	const joiners = 32
	p := startHostProcess(b, "bench")
	defer p.stop()
	addr, conf := p.addr, benchJoinerTLS(b, p.fingerprint)
	pid := p.cmd.Process.Pid

	before, err := procCPU(pid)
	if err != nil {
		b.Skip(err)
	}
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
	perJoin := (after - before) / time.Duration(b.N)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "joins/s")
	b.ReportMetric(float64(perJoin.Microseconds()), "host-cpu-us/join")
	if perJoin > 0 {
		b.ReportMetric(float64(runtime.NumCPU())*float64(time.Second)/float64(perJoin), "host-joins/s")
	}
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

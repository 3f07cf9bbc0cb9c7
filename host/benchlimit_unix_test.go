//go:build unix

package host

import (
	"os"
	"os/signal"
	"syscall"
)

// raiseFileLimit raises the soft limit on open files to at least n, within
// the hard limit, and returns the soft limit in force (0 if unknown).
func raiseFileLimit(n uint64) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur < n {
		lim.Cur = min(n, lim.Max)
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	return uint64(lim.Cur)
}

// A host process started by BenchmarkIdleMemory (memStatsEnv set) writes
// its memory figures when it receives SIGUSR1 (answerMemStats). It is
// set up before TestMain runs, so that runHostProcess needs no part in it.
func init() {
	if path := os.Getenv(memStatsEnv); path != "" && os.Getenv(hostProcessEnv) != "" {
		asked := make(chan os.Signal, 1)
		signal.Notify(asked, syscall.SIGUSR1)
		go answerMemStats(path, asked)
	}
}

// signalMemStats asks a host process for its memory figures.
func signalMemStats(p *os.Process) error { return p.Signal(syscall.SIGUSR1) }

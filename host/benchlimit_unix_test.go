//go:build unix

package host

import "syscall"

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

//go:build !unix

package host

import (
	"errors"
	"os"
)

// raiseFileLimit has no limit to raise here; 0 means unknown.
func raiseFileLimit(n uint64) uint64 { return 0 }

// signalMemStats cannot ask a host process for its memory figures here:
// BenchmarkIdleMemory needs a signal to do it.
func signalMemStats(p *os.Process) error {
	return errors.New("no signal to ask a host process for its memory figures on this system")
}

//go:build !linux

package netns

import (
	"errors"
	"os/exec"
	"testing"
)

func rerunIsolated() (int, error) {
	return 0, errors.New("network namespaces exist only on Linux")
}

func interfaceNames() ([]string, error) { return nil, errors.New("not on Linux") }

// Peer is a second network namespace; see the Linux version.
type Peer struct {
	PID                   int
	Local, Remote         string
	LocalAddr, RemoteAddr string
}

// NewPeer skips: there are no namespaces here.
func NewPeer(t testing.TB) *Peer {
	t.Helper()
	Require(t)
	t.Skip("network namespaces exist only on Linux")
	return nil
}

// StartPeer fails: there are no namespaces here.
func StartPeer() (*Peer, func(), error) {
	return nil, nil, errors.New("network namespaces exist only on Linux")
}

// Command is never reached: NewPeer skips.
func (p *Peer) Command(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }

// Package netns lets tests that multicast run where multicast cannot leave
// the machine: in a network namespace of their own, whose only interface at
// the start is loopback. It is for tests only.
//
// A test package calls [Main] from its TestMain. Main runs the tests again
// in a new network namespace (inside a new user namespace where the kernel
// allows it, so that no root is needed); tests that multicast call
// [Require] first, which skips them, with the reason, wherever that could
// not be done. They never fall back to the machine's real network.
//
// [NewPeer] makes a second namespace joined to the test's by a veth pair:
// two machines on one LAN.
//
// It knows nothing of chatroom (it imports none of its packages), and only
// test files import it: the program itself never makes a namespace.
package netns

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// env tells a test process where it runs: envInside when Main has put it in
// a new namespace that it has yet to set up, envReady once it has (or
// envPeer in a peer's), or the reason it could not.
//
// The test process's children inherit envReady: they run in the namespace
// already set up, and must not set it up again. They include the workers
// of go test -fuzz, which the fuzzing test process starts as copies of
// itself and talks to over inherited file descriptors 3 to 5; a worker that
// set the namespace up again would fail (its multicast route exists) and
// exit before a word to its coordinator, which then reports "fuzzing
// process terminated without fuzzing: EOF".
const (
	envState     = "CHATROOM_TEST_NETNS"
	envInside    = "inside"
	envReady     = "ready"
	envPeer      = "peer"
	reasonPrefix = "unavailable: "
)

// Main runs m in a network namespace of its own, and returns the exit code
// for TestMain to pass to os.Exit.
func Main(m *testing.M) int {
	switch state := os.Getenv(envState); {
	case state == envInside:
		if err := setUp(); err != nil {
			fmt.Fprintf(os.Stderr, "netns: setting up the test namespace: %v\n", err)
			return 1
		}
		os.Setenv(envState, envReady)
		return m.Run()
	case state == envReady, state == envPeer, strings.HasPrefix(state, reasonPrefix):
		return m.Run()
	}
	code, err := rerunIsolated()
	if err == nil {
		return code
	}
	os.Setenv(envState, reasonPrefix+err.Error())
	return m.Run()
}

// Require skips the test unless it runs in a namespace made by Main.
func Require(t testing.TB) {
	t.Helper()
	switch state := os.Getenv(envState); {
	case Isolated():
		return
	case strings.HasPrefix(state, reasonPrefix):
		t.Skip("needs a network namespace of its own, and " + strings.TrimPrefix(state, reasonPrefix))
	default:
		t.Skip("needs a network namespace of its own: call netns.Main from TestMain")
	}
}

// Isolated reports whether this process runs in a namespace made by Main
// or in a peer's: where multicast cannot leave the machine.
func Isolated() bool {
	switch os.Getenv(envState) {
	case envInside, envReady, envPeer:
		return true
	}
	return false
}

// InPeer reports whether this process is a helper running in a peer
// namespace (see Peer.Command).
func InPeer() bool { return os.Getenv(envState) == envPeer }

// setUp checks that the namespace is new (loopback only: never the real
// network) and makes multicast work on loopback.
func setUp() error {
	names, err := interfaceNames()
	if err != nil {
		return err
	}
	if len(names) != 1 || names[0] != "lo" {
		return fmt.Errorf("expected a new namespace with only lo, found %v: refusing to multicast here", names)
	}
	// Without a route for 224.0.0.0/4, joining a multicast group fails with
	// "no such device"; lo needs no multicast flag.
	if err := ip("link", "set", "lo", "up"); err != nil {
		return err
	}
	return ip("route", "add", "224.0.0.0/4", "dev", "lo")
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

package join

import (
	"os"
	"testing"

	"chatroom/discovery/netns"
)

// The tests run in a network namespace of their own (package netns), so
// that the one that finds a room again over mDNS multicasts where no real
// network can hear; it skips where that cannot be done.
func TestMain(m *testing.M) {
	os.Exit(netns.Main(m))
}

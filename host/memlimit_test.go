package host

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// A host keeps the soft memory limit half above what the process
// holds, never below minMemoryLimit, and sets it again after each
// collection.
func TestHostSetsMemoryLimit(t *testing.T) {
	if got := memoryLimitFor(1 << 20); got != minMemoryLimit {
		t.Errorf("limit for 1 MiB held: %d, want the floor %d", got, minMemoryLimit)
	}
	if got := memoryLimitFor(400 << 20); got != 600<<20 {
		t.Errorf("limit for 400 MiB held: %d, want 600 MiB", got)
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOMEMLIMIT is set: the host leaves it alone")
	}
	startHost(t, Config{})
	// Hold more than the floor, so that the limit follows what is held.
	ballast := make([]*[1 << 20]byte, 96)
	for i := range ballast {
		ballast[i] = new([1 << 20]byte)
	}
	deadline := time.Now().Add(testDeadline)
	for {
		runtime.GC()
		held := heldMemory()
		limit := debug.SetMemoryLimit(-1)
		if held > 96<<20 && limit >= int64(held) && limit <= memoryLimitFor(held)+8<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("memory limit %d with %d held, want about %d", limit, held, memoryLimitFor(held))
		}
		time.Sleep(10 * time.Millisecond)
	}
	runtime.KeepAlive(ballast)
}

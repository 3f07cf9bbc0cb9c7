package host

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
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

// A host gone idle gives back what its heap holds free, rather than keep
// it resident until the runtime's own scavenger, paced to a sliver of one
// core, gets round to it (tens of seconds for a few hundred MiB).
func TestIdleHostGivesMemoryBack(t *testing.T) {
	free := func() uint64 {
		s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	// Without a limit the runtime keeps what it freed for a while; the
	// host's own limit (set by startHost in other tests) is put back after.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	garbage := make([][]byte, 256<<4)
	for i := range garbage {
		garbage[i] = make([]byte, 64<<10)
	}
	garbage = nil
	runtime.GC()
	if f := free(); f < 128<<20 {
		t.Skipf("only %d bytes free after dropping 256 MiB: the runtime gave them back at once", f)
	}
	stop := make(chan struct{})
	defer close(stop)
	go trimWhenIdle(20*time.Millisecond, stop)
	deadline := time.Now().Add(testDeadline)
	for free() >= idleTrimAbove {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes still free and not given back after %v idle", free(), testDeadline)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

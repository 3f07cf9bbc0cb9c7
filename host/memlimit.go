package host

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// The host keeps the Go runtime's soft memory limit (debug.SetMemoryLimit)
// half above what it holds, and at least minMemoryLimit: after every
// collection it sets the limit anew from what is held then. Without a
// limit the collector lets the heap grow to twice what is live before it
// collects, and the memory it frees stays with the process: an idle room
// of 5,000 members showed about 2.5 times its live memory as resident
// (BenchmarkIdleMemory). With it, the collector runs once the host has
// allocated half of what it holds (in a small room, once it reaches
// minMemoryLimit, which only a large room does), and gives back what lies
// above the limit. Since the limit follows what is held, it never sits
// below it: a room that grows raises it at its next collection, and the
// collector never runs flat out to stay under it.
//
// Why half and not less: each collection walks everything the host holds
// (every member's state, and the stacks of its goroutines), so in a big
// room the collector's share of the host's work is about that over the
// headroom. A quarter had it take 17 % of the host's CPU while 5,000
// members came back after a restart (BenchmarkReconnectStorm's profile),
// half 7 %; an idle room of 5,000 then shows 27-28 KiB a member resident
// rather than 24 (BenchmarkIdleMemory). Giving the free heap back once
// the room went quiet (debug.FreeOSMemory) took that to 23, but left 1.9
// to 2.0 goroutines a member awake when measured, against 1.35: most
// likely its pause lined up the members' heartbeats, so that all their
// writers woke together. Not done.
//
// A limit the person set (GOMEMLIMIT) is left alone.
const (
	minMemoryLimit = 64 << 20
	// memoryHeadroom is the share of what is held that the host may
	// allocate before the collector runs: 1/2.
	memoryHeadroomDiv = 2
)

// memoryLimitFor is the limit for a host that holds held bytes.
func memoryLimitFor(held uint64) int64 {
	return int64(max(minMemoryLimit, held+held/memoryHeadroomDiv))
}

var limitMemoryOnce sync.Once

// limitMemory starts keeping the memory limit, for the whole process, once.
func limitMemory() {
	limitMemoryOnce.Do(func() {
		if debug.SetMemoryLimit(-1) != math.MaxInt64 {
			return // GOMEMLIMIT
		}
		debug.SetMemoryLimit(memoryLimitFor(heldMemory()))
		afterCollections(func() { debug.SetMemoryLimit(memoryLimitFor(heldMemory())) })
	})
}

// heldMemory is the memory the process holds from the Go runtime, as the
// memory limit counts it, less the garbage of the last collection: what
// would be left if the collector ran now and gave back what is free.
func heldMemory() uint64 {
	samples := []metrics.Sample{
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"}, // live and not yet swept
		{Name: "/gc/heap/live:bytes"},                // live at the last collection
	}
	metrics.Read(samples)
	v := func(i int) uint64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return samples[i].Value.Uint64()
	}
	other := v(0) - min(v(0), v(1)+v(2)+v(3))
	return other + v(4)
}

// collectionCanary is what afterCollections lets the collector find
// unreachable; its pointer keeps the allocator from packing it with other
// small objects, which could keep it alive.
type collectionCanary struct{ _ *int }

// afterCollections calls f after each garbage collection, on a goroutine
// of the runtime's for cleanups: f must be quick.
func afterCollections(f func()) {
	runtime.AddCleanup(new(collectionCanary), func(struct{}) {
		f()
		afterCollections(f)
	}, struct{}{})
}

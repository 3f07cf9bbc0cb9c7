package host

import (
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The heavy side of a transfer (a fetch's encryption, an upload's sha256
// and disk; see pipeline) runs on a thread the kernel puts after the
// room's: when the cores are busy, chat goes first and the file takes what
// is left. Go has no priorities of its own, but Linux keeps a nice value
// per thread, so a goroutine locked to its thread can have one. That alone
// is not enough: a low thread holding one of Go's processors (GOMAXPROCS)
// while the kernel runs something else keeps the room's goroutines from
// that processor, so for each goroutine at the low priority the process
// gets a processor more (up to a limit), taken back a while after the
// transfers end.
//
// BenchmarkChatDuringTransfer/fetch=unpaced measures it: chat's p99 beside
// a fetch at loopback speed, on the same two cores as the room, its
// members and the fetching client, went from 7.5–10.7 × the idle room's
// to 1.3–1.5 ×, the fetch from 1.2 GB/s to 0.87–0.95 GB/s; without the
// added processor it was 3.2–3.5 ×.

// backgroundNice is the nice value of a transfer's threads, the lowest
// there is: when both want a core, the kernel gives a thread of nice 0
// about 70 times the CPU of one of nice 19, so that chat hardly waits for
// a file (beside an unpaced fetch, chat's p99 was 1.17-1.86 × the idle
// room's in 8 runs at nice 10, 1.28-1.50 × in 5 at 19, the fetch as fast);
// a transfer on a machine doing nothing else is not slowed at all, and
// one on a machine busy with something else is, as background work.
const backgroundNice = 19

// background.release is how long after a transfer goroutine ends the
// processor added for it is taken back: changing GOMAXPROCS stops the
// world for a moment, so one that comes and goes at each small fetch is
// not wanted.
var background = struct {
	mu      sync.Mutex
	release time.Duration
	running int // goroutines at the low priority
	base    int // GOMAXPROCS before any processor was added; 0 when none is
	added   int
	timer   *time.Timer
}{release: time.Second}

// setBackgroundRelease sets background.release, for a test, and returns
// what it was.
func setBackgroundRelease(d time.Duration) time.Duration {
	background.mu.Lock()
	defer background.mu.Unlock()
	old := background.release
	background.release = d
	return old
}

// goBackground runs f on a goroutine of its own, at the low priority.
func goBackground(f func()) { runBackground(f, nil) }

// runBackground is goBackground, closing started, if set, once f's
// goroutine has a thread of its own.
func runBackground(f func(), started chan struct{}) {
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// The process's first thread never ends (Go parks it for good
			// instead), so it is never lowered: f goes to another one,
			// which it must be since this one is held until then.
			moved := make(chan struct{})
			runBackground(f, moved)
			<-moved
			runtime.UnlockOSThread()
			if started != nil {
				close(started)
			}
			return
		}
		if started != nil {
			close(started)
		}
		// The goroutine ends locked: its thread ends with it, so nothing
		// else ever runs at the lowered priority (which the thread could
		// not raise again without privilege).
		if unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), backgroundNice) == nil {
			addBackground(1)
			defer addBackground(-1)
		}
		f()
	}()
}

// addBackground counts delta goroutines started (1) or ended (-1) at the
// low priority, adding a processor at once for one started, and taking
// back those no longer needed background.release after one ended.
func addBackground(delta int) {
	b := &background
	b.mu.Lock()
	defer b.mu.Unlock()
	b.running += delta
	if delta > 0 {
		if b.added == 0 {
			b.base = runtime.GOMAXPROCS(0)
		}
		if want := min(b.running, maxBackgroundProcs(b.base)); want > b.added {
			b.added = want
			runtime.GOMAXPROCS(b.base + b.added)
		}
		return
	}
	if b.timer == nil {
		b.timer = time.AfterFunc(b.release, releaseBackground)
	} else {
		b.timer.Reset(b.release)
	}
}

// releaseBackground takes back the processors no longer needed.
func releaseBackground() {
	b := &background
	b.mu.Lock()
	defer b.mu.Unlock()
	want := min(b.running, maxBackgroundProcs(b.base))
	if want >= b.added {
		return
	}
	b.added = want
	if b.added > 0 {
		runtime.GOMAXPROCS(b.base + b.added)
		return
	}
	if os.Getenv("GOMAXPROCS") != "" {
		runtime.GOMAXPROCS(b.base)
	} else {
		// The runtime's own choice again, which it keeps up to date as
		// the CPUs the process may use change (a call to GOMAXPROCS
		// stops that).
		runtime.SetDefaultGOMAXPROCS()
	}
	b.base = 0
}

// maxBackgroundProcs is how many processors are added at most, to base:
// twice the room's own, two transfers' worth on two cores. More transfers
// at once share them; the collector's workers, a quarter of GOMAXPROCS,
// stay few.
func maxBackgroundProcs(base int) int { return 2 * base }

// yieldToRoom does nothing here: the kernel runs the room's threads before
// a transfer's, and a goroutine locked to its thread that yields costs two
// thread switches.
func yieldToRoom() {}

// backgroundAdded is the number of processors added now.
func backgroundAdded() int {
	background.mu.Lock()
	defer background.mu.Unlock()
	return background.added
}

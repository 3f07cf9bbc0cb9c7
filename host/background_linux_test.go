package host

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// threadNice reads the nice value of thread tid of this process.
func threadNice(t *testing.T, tid int) int {
	t.Helper()
	nice, err := readNice(tid)
	if err != nil {
		t.Fatal(err)
	}
	return nice
}

func readNice(tid int) (int, error) {
	stat, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command, field 2, is in parentheses and may hold spaces: the
	// fields counted are after it; nice is field 19.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return strconv.Atoi(fields[19-3])
}

// TestBackgroundRunsLowAndLeavesNoLowThread: a transfer's goroutine runs
// on a thread of lower priority, with a processor added while it runs;
// once it ends, its thread is gone (no other goroutine can ever run at
// that priority) and the processor is taken back. The room's goroutines,
// on the other threads, keep theirs.
func TestBackgroundRunsLowAndLeavesNoLowThread(t *testing.T) {
	defer setBackgroundRelease(setBackgroundRelease(10 * time.Millisecond))
	base := runtime.GOMAXPROCS(0)

	type seen struct {
		tid, nice, procs int
		lowering         error // what lowering this thread again gives
	}
	const n = 2
	inside := make(chan seen, n)
	release := make(chan struct{})
	for range n {
		goBackground(func() {
			tid := unix.Gettid()
			nice, err := readNice(tid)
			if err != nil {
				nice = -100 // not a nice value: reported below
			}
			inside <- seen{tid, nice, runtime.GOMAXPROCS(0), unix.Setpriority(unix.PRIO_PROCESS, tid, backgroundNice)}
			<-release
		})
	}
	var tids []int
	for i := range n {
		s := <-inside
		if s.lowering != nil {
			close(release)
			t.Skipf("this machine does not let a thread lower its priority (%v): transfers run as any goroutine", s.lowering)
		}
		if s.tid == os.Getpid() {
			t.Errorf("a transfer goroutine runs lowered on the process's first thread, which never ends")
		}
		if s.nice != backgroundNice {
			t.Errorf("a transfer's thread has nice %d, want %d", s.nice, backgroundNice)
		}
		if s.procs < base+i+1 {
			t.Errorf("GOMAXPROCS %d with %d transfer goroutines running, want %d", s.procs, i+1, base+i+1)
		}
		tids = append(tids, s.tid)
	}
	if tids[0] == tids[1] {
		t.Errorf("two transfer goroutines on one thread %d", tids[0])
	}
	runtime.LockOSThread()
	if nice := threadNice(t, unix.Gettid()); nice != 0 {
		t.Errorf("another goroutine's thread has nice %d", nice)
	}
	runtime.UnlockOSThread()
	close(release)

	deadline := time.Now().Add(5 * time.Second)
	for _, tid := range tids {
		for {
			_, err := os.Stat("/proc/self/task/" + strconv.Itoa(tid))
			if errors.Is(err, fs.ErrNotExist) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the thread %d of an ended transfer goroutine is still there (nice %d)", tid, threadNice(t, tid))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for runtime.GOMAXPROCS(0) != base {
		if time.Now().After(deadline) {
			t.Fatalf("GOMAXPROCS is %d after the transfers ended, want %d again", runtime.GOMAXPROCS(0), base)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

package host

import (
	"sync"
	"time"
)

// A host moves at most maxTransfers files at once, so that they cannot
// take its disk and its cores from the room. That bound is also a thing
// to take: a peer that fetches and then reads a byte now and then (just
// inside the transfer silence) holds a place for as long as the file
// lasts, and a few addresses' worth of them hold every place. So each
// transfer's progress is sampled as it goes (transferMeter), and when
// every place is taken, a newcomer takes the place of the transfer that
// moved least over the last slowWindow, if that was below slowRate: the
// one cut off resumes later, from where it was, as a transfer cut by the
// network does.
const (
	// defaultSlowWindow is how long a transfer is watched before it can
	// be found slow, and how far back its rate is taken.
	defaultSlowWindow = 30 * time.Second
	// defaultSlowRate is the least a transfer must move to keep its
	// place when every place is wanted: 64 KiB/s, far below any LAN, and
	// above what a peer that only holds a place moves.
	defaultSlowRate = 64 << 10
)

// transferMeter is what a transfer has moved, sampled as it goes. The
// transfer's goroutine adds; beginTransfer reads, under the server's lock.
type transferMeter struct {
	mu      sync.Mutex
	moved   int64
	last    time.Time     // when it last moved something (or began)
	samples []meterSample // oldest first
	window  time.Duration
}

type meterSample struct {
	at    time.Time
	moved int64
}

func newTransferMeter(now time.Time, window time.Duration) *transferMeter {
	return &transferMeter{last: now, samples: []meterSample{{at: now}}, window: window}
}

// add counts n bytes moved at now.
func (m *transferMeter) add(now time.Time, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.moved += int64(n)
	m.last = now
	// A sample every tenth of the window is enough to take the rate over
	// the window to within a tenth; those older than needed go.
	if now.Sub(m.samples[len(m.samples)-1].at) >= m.window/10 {
		m.samples = append(m.samples, meterSample{now, m.moved})
	}
	for len(m.samples) > 2 && now.Sub(m.samples[1].at) >= m.window {
		m.samples = m.samples[1:]
	}
}

// rate gives the bytes a second moved over the last window (or a little
// more) up to now, and false for a transfer younger than the window.
func (m *transferMeter) rate(now time.Time) (float64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	// The newest sample at least a window old.
	from := -1
	for i, s := range m.samples {
		if now.Sub(s.at) >= m.window {
			from = i
		}
	}
	if from < 0 {
		return 0, false
	}
	if now.Sub(m.last) >= m.window {
		// Nothing moved in the whole window: a peer that stopped reading
		// after the kernel's buffers took a burst, whose write waits.
		return 0, true
	}
	s := m.samples[from]
	return float64(m.moved-s.moved) / now.Sub(s.at).Seconds(), true
}

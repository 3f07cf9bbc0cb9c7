//go:build linux

package host

// BenchmarkReconnectStorm: a room of members connected over TLS, each
// with its identity key and from one of many addresses (eight members to
// an address, 127.0.x.y, which Linux routes to loopback), to a host in a
// child process (startHostProcess "storm"). The host restarts cleanly
// (Close, then Start on the same state directory and address), and every
// member comes back as `chatroom join` does: its waits between tries are
// join.ReconnectWait's, and it asks to resume where it was. Measured in
// the same run, the baseline: a server that does only the room's TLS
// handshake (bareJoinServer, with the room's tls.Config: its kind of key,
// X25519MLKEM768, the client's certificate asked for) and sends a short
// welcome, taking the same clients, from the same addresses with the same
// keys, all dialing at once.
//
// Reported: storm-s, from the restart command to the last member resumed;
// bare-s, from the first dial to the last welcome read at the baseline;
// storm/bare, their ratio (the target is 1.3 at most); the members' wait
// from the restart command to their resume (wait-mean-s, wait-p50-s,
// wait-p99-s); restart-s, how long the host took to close and start again
// (inside storm-s); how many members resumed and how many were welcomed
// back as newcomers (not-resumed); the tries that failed, because the host
// was not listening yet (tries-not-listening), refused as too busy
// (tries-busy) or cut the handshake or hello short (tries-cut); the
// members the host cut off once back (dropped: they come back again, as
// join does); the host's CPU time per member taken back
// (host-cpu-us/member), and the clients', this process's
// (client-cpu-us/member); and the size of the welcomes they came back
// with (welcome-KiB/member) and of the events each read from the restart
// to the last one back (event-KiB/member: the others' returns, and what
// was replayed).
//
// Each member checks what it receives: a resume with the room's epoch and
// nothing missed, events in the room's order after the replay, and every
// message of the room, the last one said after everyone was back. One
// storm per op; run it with -benchtime 1x (or Nx for N restarts of one
// room):
//
//	go test -run '^$' -bench 'ReconnectStorm' -benchtime 1x -count 3 ./host/
//
// (client-handshakes=N bounds the clients' handshakes in progress at once,
// at the room and at the baseline alike: see stormClientHandshakes.)
//
// CHATROOM_STORM_CPUPROFILE=file profiles the host process during each
// storm (the last one is kept).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"chatroom/host/wire"
	"chatroom/join"
)

const (
	// stormPerAddr is how many members share an address, as behind a
	// home router or a classroom's NAT.
	stormPerAddr = 8
	// stormPhase bounds each phase of the benchmark.
	stormPhase = 3 * time.Minute
	// stormReadBuffer is each member's read buffer: events are short, and
	// the welcome, which can be long, is read apart.
	stormReadBuffer = 4096
	// stormPing is how often a member pings the host, as join does after
	// a heartbeat of silence (the host's default heartbeat is 5 s).
	stormPing = 4 * time.Second
	// stormClientHandshakes is how many of the clients' handshakes run at
	// once in the client-handshakes=64 runs, at the room and at the
	// baseline alike. On a LAN each member does its handshake on its own
	// machine, in a few milliseconds; here thousands share the host's two
	// cores with it, and at a fair share of them each takes seconds, past
	// the host's handshake timeout (5 s), so the host cuts them off for
	// the clients' slowness. A member waits for a slot before it dials,
	// so the host sees what it would on a LAN: a client that goes at full
	// speed once it connects. The client-handshakes=all run does not
	// wait: it shows what a host does when its members are slow.
	stormClientHandshakes = 64
)

func BenchmarkReconnectStorm(b *testing.B) {
	for _, tc := range []struct {
		members, handshakes int
	}{
		{500, stormClientHandshakes},
		{5000, stormClientHandshakes},
		{5000, 0},
	} {
		handshakes := "all"
		if tc.handshakes > 0 {
			handshakes = strconv.Itoa(tc.handshakes)
		}
		b.Run(fmt.Sprintf("members=%d/client-handshakes=%s", tc.members, handshakes), func(b *testing.B) {
			// Both ends of every connection are on this machine, and the
			// baseline's clients are dialed while the room's still hold
			// theirs.
			n := tc.members
			if lim := raiseFileLimit(uint64(3*n + 1024)); lim < uint64(3*n+1024) {
				b.Skipf("open-file limit %d, want %d", lim, 3*n+1024)
			}
			runStorm(b, n, tc.handshakes)
		})
	}
}

func runStorm(b *testing.B, n, handshakes int) {
	b.StopTimer()
	p := startHostProcess(b, "storm")
	defer p.stop()
	st := newStorm(b, n, p)
	if handshakes > 0 {
		st.handshakes = make(chan struct{}, handshakes)
	}
	defer st.close()
	began := time.Now()
	if err := st.fill(); err != nil {
		b.Fatal(err)
	}
	filled := time.Now()
	bare, err := st.bareBaseline(b)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d members joined in %v; the baseline took them in %v", n, filled.Sub(began).Round(time.Millisecond), bare.Round(time.Millisecond))
	var storms, restarts []time.Duration
	var waits []time.Duration
	var total stormResult
	var cpu, clientCPU time.Duration
	for range b.N {
		before, err := procCPU(p.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		clientsBefore, err := procCPU(os.Getpid())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		r, err := st.restart()
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		after, err := procCPU(p.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		clientsAfter, err := procCPU(os.Getpid())
		if err != nil {
			b.Fatal(err)
		}
		clientCPU += clientsAfter - clientsBefore
		if err := st.checkAfter(); err != nil {
			b.Fatal(err)
		}
		cpu += after - before
		storms = append(storms, r.storm)
		restarts = append(restarts, r.restart)
		waits = append(waits, r.waits...)
		total.resumed += r.resumed
		total.notResumed += r.notResumed
		total.notListening += r.notListening
		total.busy += r.busy
		total.cut += r.cut
		total.dropped += r.dropped
		total.welcomeBytes += r.welcomeBytes
		total.eventBytes += r.eventBytes
	}
	slices.Sort(waits)
	var sum time.Duration
	for _, w := range waits {
		sum += w
	}
	storm := mean(storms)
	b.ReportMetric(storm.Seconds(), "storm-s")
	b.ReportMetric(bare.Seconds(), "bare-s")
	b.ReportMetric(storm.Seconds()/bare.Seconds(), "storm/bare")
	b.ReportMetric((sum / time.Duration(len(waits))).Seconds(), "wait-mean-s")
	b.ReportMetric(waits[len(waits)/2].Seconds(), "wait-p50-s")
	b.ReportMetric(waits[min(len(waits)-1, len(waits)*99/100)].Seconds(), "wait-p99-s")
	b.ReportMetric(mean(restarts).Seconds(), "restart-s")
	perStorm := func(v int64, unit string) { b.ReportMetric(float64(v)/float64(b.N), unit) }
	perStorm(total.resumed, "resumed")
	perStorm(total.notResumed, "not-resumed")
	perStorm(total.notListening, "tries-not-listening")
	perStorm(total.busy, "tries-busy")
	perStorm(total.cut, "tries-cut")
	perStorm(total.dropped, "dropped")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*n), "host-cpu-us/member")
	b.ReportMetric(float64(clientCPU.Microseconds())/float64(b.N*n), "client-cpu-us/member")
	b.ReportMetric(float64(total.welcomeBytes)/float64(b.N*n)/1024, "welcome-KiB/member")
	b.ReportMetric(float64(total.eventBytes)/float64(b.N*n)/1024, "event-KiB/member")
}

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

// stormMember is one client of the storm. Its goroutine (run) owns its
// connection and reader; the driver reads the atomics.
type stormMember struct {
	idx   int
	name  string
	local *net.TCPAddr // the address it dials from
	conf  *tls.Config  // with its identity key
	conn  atomic.Pointer[tls.Conn]

	// Owned by run.
	br        *bufio.Reader
	replaying bool      // events up to welcomeSeq are a replay
	skipping  bool      // events up to welcomeSeq are a newcomer's backlog
	arrived   bool      // the event numbered as its welcome came (see event)
	resumes   int       // restarts it has come back from
	since     time.Time // when its session began
	tries     int       // the tries of its last round of coming back, as join counts them

	welcomeSeq atomic.Uint64 // the seq of its last welcome

	lastSeq  atomic.Uint64 // the last event read, in the room's order
	messages atomic.Int64  // message events read
	back     atomic.Int64  // restarts it has come back from, for the driver
}

// storm is the room's members and what they tell the driver.
type storm struct {
	tb      testing.TB
	n       int
	host    *hostProcess
	members []*stormMember
	wg      sync.WaitGroup
	ctx     context.Context // ends when the benchmark does
	cancel  context.CancelFunc
	// handshakes holds a slot for each client handshake in progress;
	// nil for no bound (see stormClientHandshakes).
	handshakes chan struct{}

	epoch      string
	restartAt  atomic.Int64 // benchNow of the last restart command
	resumed    atomic.Int64 // members back with their place, this storm
	notResumed atomic.Int64 // members back as newcomers, this storm
	// The tries that failed, this storm: the host not listening, a
	// refusal (too many), and a handshake or hello cut short; and the
	// members the host cut off once back.
	notListening, busy, cut, dropped atomic.Int64
	droppedOnce                      sync.Once // logs the first
	welcomeBytes                     atomic.Int64
	eventBytes                       atomic.Int64 // events read, from the restart to the storm's end
	waitsMu                          sync.Mutex
	waits                            []time.Duration // this storm's, from restartAt
	lastBack                         atomic.Int64    // benchNow of the last member back

	errOnce sync.Once
	err     error
	failed  chan struct{}
}

func newStorm(tb testing.TB, n int, p *hostProcess) *storm {
	st := &storm{tb: tb, n: n, host: p, failed: make(chan struct{})}
	st.ctx, st.cancel = context.WithCancel(context.Background())
	for i := range n {
		cert, err := newTestCert("chatroom member", x509.ExtKeyUsageClientAuth)
		if err != nil {
			tb.Fatal(err)
		}
		conf := benchClientTLS(p.fingerprint)
		join.WithIdentity(cert)(conf)
		st.members = append(st.members, &stormMember{idx: i, name: fmt.Sprintf("m%d", i), local: stormAddr(i), conf: conf})
	}
	go st.pinger()
	return st
}

// stormAddr is the address member i dials from: 127.0.x.y, stormPerAddr
// members to each.
func stormAddr(i int) *net.TCPAddr {
	a := i / stormPerAddr
	return &net.TCPAddr{IP: net.IPv4(127, byte(1+a/250), byte(1+a%250), 1)}
}

func (st *storm) fail(err error) {
	st.errOnce.Do(func() {
		st.err = err
		close(st.failed)
	})
}

// pinger pings the host on every member's behalf, as join does when it
// has sent nothing for a heartbeat: the host takes a member from which
// nothing came for three heartbeats as gone.
func (st *storm) pinger() {
	asClient(func() {
		t := time.NewTicker(stormPing)
		defer t.Stop()
		for {
			select {
			case <-st.ctx.Done():
				return
			case <-t.C:
			}
			for _, m := range st.members {
				if c := m.conn.Load(); c != nil {
					c.SetWriteDeadline(time.Now().Add(time.Second))
					c.Write(pingFrame) // a member reconnecting has nothing to ping
				}
			}
		}
	})
}

// dialMember connects m to addr and says hello, resuming from resume
// (nil for none), and returns the connection and its welcome.
func (st *storm) dialMember(m *stormMember, addr string, resume *wire.Resume) (*tls.Conn, []byte, error) {
	if !st.handshake() {
		return nil, nil, st.ctx.Err()
	}
	defer st.handshook()
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 30 * time.Second, LocalAddr: m.local}, Config: m.conf}
	ctx, cancel := context.WithTimeout(st.ctx, 30*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	conn := c.(*tls.Conn)
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	hello, _ := wire.Encode(&wire.Frame{Type: wire.TypeHello, Version: wire.Version, Name: m.name, Resume: resume, KeepsRoster: true, AsksMembers: true})
	if _, err := conn.Write(hello); err != nil {
		conn.Close()
		return nil, nil, err
	}
	m.br = bufio.NewReaderSize(conn, stormReadBuffer)
	line, err := m.br.ReadBytes('\n') // a welcome may be longer than the buffer
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("reading the welcome: %w", err)
	}
	if !bytes.HasPrefix(line, []byte(`{"type":"welcome"`)) {
		conn.Close()
		if bytes.Contains(line, []byte(`"code":"`+wire.CodeTooMany+`"`)) {
			return nil, nil, &busyError{string(bytes.TrimSpace(line))}
		}
		return nil, nil, &permanentStormError{fmt.Sprintf("%s: not welcomed: %.300s", m.name, line)}
	}
	conn.SetDeadline(time.Time{})
	return conn, line, nil
}

// busyError is a refusal that join retries: the room is busy.
type busyError struct{ msg string }

func (e *busyError) Error() string { return "refused: " + e.msg }

// handshake waits for a slot for a client's handshake, if they are
// bounded; it reports false if the benchmark ended first.
func (st *storm) handshake() bool {
	if st.handshakes == nil {
		return true
	}
	select {
	case st.handshakes <- struct{}{}:
		return true
	case <-st.ctx.Done():
		return false
	}
}

// handshook gives back the slot that handshake took.
func (st *storm) handshook() {
	if st.handshakes != nil {
		<-st.handshakes
	}
}

// permanentStormError is a refusal that trying again does not mend.
type permanentStormError struct{ msg string }

func (e *permanentStormError) Error() string { return e.msg }

// welcomeFields picks out of a welcome what the members check: its seq,
// epoch, whether it resumed, and what it says was missed. They follow the
// members' list, which is the bulk of it, so they are looked for from the
// end; no quote can appear unescaped in a string, so a key is found only
// as a key.
func welcomeFields(line []byte) (seq uint64, epoch string, resumed bool, missed uint64) {
	if i := bytes.LastIndex(line, []byte(`"epoch":"`)); i >= 0 {
		rest := line[i+len(`"epoch":"`):]
		if j := bytes.IndexByte(rest, '"'); j >= 0 {
			epoch = string(rest[:j])
		}
	}
	resumed = bytes.Contains(line, []byte(`"resumed":true`))
	if i := bytes.LastIndex(line, []byte(`"missed":`)); i >= 0 {
		missed, _ = parseUint(line[i+len(`"missed":`):])
	}
	if i := bytes.LastIndex(line, []byte(`"seq":`)); i >= 0 {
		seq, _ = parseUint(line[i+len(`"seq":`):])
	}
	return seq, epoch, resumed, missed
}

// fill joins every member, benchDialers at a time, and waits until each
// has seen every join.
func (st *storm) fill() error {
	err := inTurns(st.n, benchDialers, func(i int) error {
		m := st.members[i]
		conn, welcome, err := st.dialMember(m, st.host.addr, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		seq, epoch, _, _ := welcomeFields(welcome)
		if i == 0 {
			st.epoch = epoch
		}
		m.welcomeSeq.Store(seq)
		m.lastSeq.Store(seq)
		m.since = time.Now()
		m.conn.Store(conn)
		st.wg.Add(1)
		go asClient(func() { st.run(m) })
		return nil
	})
	if err != nil {
		return err
	}
	return st.waitSeq(st.lastWelcome(), 0)
}

// lastWelcome is the latest seq any member was welcomed at: with no one
// speaking, the room's last event (the last member's join).
func (st *storm) lastWelcome() uint64 {
	var last uint64
	for _, m := range st.members {
		last = max(last, m.welcomeSeq.Load())
	}
	return last
}

// waitSeq waits until every member has read the room's events up to seq,
// and messages messages.
func (st *storm) waitSeq(seq uint64, messages int64) error {
	deadline := time.Now().Add(stormPhase)
	for {
		select {
		case <-st.failed:
			return st.err
		default:
		}
		behind := 0
		var example *stormMember
		for _, m := range st.members {
			// A member's own join is its welcome, not an event it reads.
			if max(m.lastSeq.Load(), m.welcomeSeq.Load()) < seq || m.messages.Load() < messages {
				behind++
				example = m
			}
		}
		if behind == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v, %d members have not read up to event %d and message %d (%s at %d and %d)",
				stormPhase, behind, seq, messages, example.name, example.lastSeq.Load(), example.messages.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// run reads m's frames until the benchmark ends, checking the room's
// order, and comes back when the room closes.
func (st *storm) run(m *stormMember) {
	defer st.wg.Done()
	for {
		line, err := m.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long event (many arrivals told together), read whole.
			var rest []byte
			line = slices.Clone(line)
			rest, err = m.br.ReadBytes('\n')
			line = append(line, rest...)
		}
		if err != nil {
			if st.ctx.Err() != nil {
				return
			}
			// The host cut the member off (it did not read for a write's
			// timeout, or the host took it for gone): join comes back.
			st.dropped.Add(1)
			st.droppedOnce.Do(func() { st.tb.Logf("%s cut off: %v", m.name, err) })
			if err := st.comeBack(m); err != nil {
				if st.ctx.Err() == nil {
					st.fail(err)
				}
				return
			}
			continue
		}
		switch {
		case bytes.HasPrefix(line, eventPrefix):
			st.eventBytes.Add(int64(len(line)))
			if err := m.event(line); err != nil {
				st.fail(err)
				return
			}
		case bytes.Equal(line, pingFrame):
		case bytes.HasPrefix(line, []byte(`{"type":"closed"`)) && bytes.Contains(line, []byte(`"code":"`+wire.CodeRoomClosed+`"`)):
			if err := st.comeBack(m); err != nil {
				if st.ctx.Err() == nil {
					st.fail(err)
				}
				return
			}
		default:
			st.fail(fmt.Errorf("%s: unexpected frame: %.300s", m.name, bytes.TrimSpace(line)))
			return
		}
	}
}

// event takes one event: in a replay, each later than the last; after it,
// each the next.
func (m *stormMember) event(line []byte) error {
	ev := parseRoomLine(line)
	last := m.lastSeq.Load()
	welcomeSeq := m.welcomeSeq.Load()
	switch {
	case ev.seq == 0:
		return fmt.Errorf("%s: an event without a number: %.300s", m.name, bytes.TrimSpace(line))
	case m.skipping && ev.seq <= welcomeSeq:
		return nil // the backlog of messages it had read before
	case m.replaying && ev.seq <= welcomeSeq:
		// A replay may skip joins and leaves (the room keeps only the
		// latest of a flood of them), never a message: the welcome
		// would have said so.
		if ev.seq <= last {
			return fmt.Errorf("%s: replayed event %d after %d", m.name, ev.seq, last)
		}
	default:
		if m.replaying || m.skipping {
			m.replaying, m.skipping = false, false
			last = max(last, welcomeSeq)
		}
		if ev.seq == welcomeSeq && last == welcomeSeq && !m.arrived {
			// A room that tells of arrivals together sends the joiner the
			// event that tells of its own, numbered as its welcome.
			m.arrived = true
			break
		}
		if ev.seq != last+1 {
			return fmt.Errorf("%s: event %d after %d: the order has a gap", m.name, ev.seq, last)
		}
	}
	if ev.kind == lineMessage {
		m.messages.Add(1)
	}
	m.lastSeq.Store(ev.seq)
	return nil
}

// comeBack brings m back after it lost the room, as join does: the waits
// between tries are join.ReconnectWait's for a room of st.n members, going
// on from the last round's tries after a session shorter than
// join.HealthySession, and it asks to resume after the last event it
// read.
func (st *storm) comeBack(m *stormMember) error {
	m.conn.Swap(nil).Close()
	resume := &wire.Resume{Epoch: st.epoch, Seq: m.lastSeq.Load()}
	deadline := time.Now().Add(stormPhase)
	if time.Since(m.since) >= join.HealthySession {
		m.tries = 0
	}
	for try := m.tries; ; try++ {
		if d := join.ReconnectWait(st.n, try, mrand.Float64); d > 0 {
			select {
			case <-time.After(d):
			case <-st.ctx.Done():
				return st.ctx.Err()
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not back after %v", m.name, stormPhase)
		}
		conn, welcome, err := st.dialMember(m, st.host.addr, resume)
		var permanent *permanentStormError
		if errors.As(err, &permanent) {
			return err
		}
		if err != nil {
			var busy *busyError
			switch {
			case errors.Is(err, syscall.ECONNREFUSED):
				st.notListening.Add(1)
			case errors.As(err, &busy):
				st.busy.Add(1)
			default:
				st.cut.Add(1)
			}
			continue
		}
		m.tries = try + 1
		m.since = time.Now()
		at := benchNow()
		st.welcomeBytes.Add(int64(len(welcome)))
		seq, epoch, resumed, missed := welcomeFields(welcome)
		switch {
		case !resumed:
			st.notResumed.Add(1)
			// Welcomed as a newcomer: its backlog is below the
			// welcome's seq, and what follows is the room's order.
			m.replaying, m.skipping = false, true
			m.lastSeq.Store(seq)
		case epoch != st.epoch:
			return fmt.Errorf("%s: resumed in epoch %q, want %q", m.name, epoch, st.epoch)
		case missed != 0:
			return fmt.Errorf("%s: resumed with %d messages missed", m.name, missed)
		default:
			st.resumed.Add(1)
			m.replaying, m.skipping = true, false
		}
		m.welcomeSeq.Store(seq)
		m.arrived = false
		m.conn.Store(conn)
		st.waitsMu.Lock()
		st.waits = append(st.waits, time.Duration(at-st.restartAt.Load()))
		st.waitsMu.Unlock()
		for {
			old := st.lastBack.Load()
			if at <= old || st.lastBack.CompareAndSwap(old, at) {
				break
			}
		}
		m.resumes++
		m.back.Store(int64(m.resumes))
		return nil
	}
}

// stormResult is one storm's figures.
type stormResult struct {
	storm, restart                   time.Duration
	waits                            []time.Duration
	resumed, notResumed              int64
	notListening, busy, cut, dropped int64
	welcomeBytes                     int64 // the welcomes the members came back with
	eventBytes                       int64 // the events they read meanwhile
}

// restart restarts the host and waits until every member is back.
func (st *storm) restart() (stormResult, error) {
	for _, c := range []*atomic.Int64{&st.resumed, &st.notResumed, &st.notListening, &st.busy, &st.cut, &st.dropped, &st.welcomeBytes, &st.eventBytes} {
		c.Store(0)
	}
	st.waits = nil
	profile := os.Getenv("CHATROOM_STORM_CPUPROFILE")
	if profile != "" {
		if err := st.command("profile-start "+profile, "profiling"); err != nil {
			return stormResult{}, err
		}
		defer func() {
			if err := st.command("profile-stop", "profiled"); err != nil {
				st.tb.Error(err)
			}
		}()
	}
	round := st.members[0].back.Load() + 1
	st.restartAt.Store(benchNow())
	if _, err := fmt.Fprintln(st.host.stdin, "restart"); err != nil {
		return stormResult{}, err
	}
	answer := make(chan string, 1)
	go func() {
		line, _ := st.host.out.ReadString('\n')
		answer <- line
	}()
	var r stormResult
	deadline := time.After(stormPhase)
	listening := false
	for {
		select {
		case <-st.failed:
			return r, st.err
		case line := <-answer:
			f := strings.Fields(line)
			if len(f) != 4 || f[0] != "listening" || f[1] != st.host.addr {
				return r, fmt.Errorf("the host process said %q after restart", line)
			}
			closed, err1 := time.ParseDuration(f[2])
			started, err2 := time.ParseDuration(f[3])
			if err1 != nil || err2 != nil {
				return r, fmt.Errorf("the host process said %q after restart", line)
			}
			r.restart = closed + started
			listening = true
			answer = nil
		case <-deadline:
			return r, fmt.Errorf("after %v, %d of %d members back (failed tries: %d not listening, %d busy, %d cut; %d dropped once back)",
				stormPhase, st.resumed.Load()+st.notResumed.Load(), st.n, st.notListening.Load(), st.busy.Load(), st.cut.Load(), st.dropped.Load())
		case <-time.After(5 * time.Millisecond):
		}
		if listening && st.allBack(round) {
			break
		}
	}
	r.storm = time.Duration(st.lastBack.Load() - st.restartAt.Load())
	st.waitsMu.Lock()
	r.waits = slices.Clone(st.waits)
	st.waitsMu.Unlock()
	r.resumed, r.notResumed = st.resumed.Load(), st.notResumed.Load()
	r.notListening, r.busy, r.cut, r.dropped = st.notListening.Load(), st.busy.Load(), st.cut.Load(), st.dropped.Load()
	r.welcomeBytes, r.eventBytes = st.welcomeBytes.Load(), st.eventBytes.Load()
	return r, nil
}

// allBack reports whether every member has come back from restart round.
func (st *storm) allBack(round int64) bool {
	for _, m := range st.members {
		if m.back.Load() < round {
			return false
		}
	}
	return true
}

// command sends the host process a command and waits for its answer.
func (st *storm) command(command, want string) error {
	if _, err := fmt.Fprintln(st.host.stdin, command); err != nil {
		return err
	}
	line, err := st.host.out.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != want {
		return fmt.Errorf("the host process answered %q to %q (%v)", line, command, err)
	}
	return nil
}

// checkAfter checks that every member is caught up with the room after a
// storm: one member says a message, and everyone reads it as the room's
// next event after all it read, with every message said before.
func (st *storm) checkAfter() error {
	last := st.lastWelcome()
	// The joins of the storm are still reaching some members: wait for
	// the room to be quiet, then for the message.
	if err := st.waitSeq(last, 0); err != nil {
		return err
	}
	messages := st.members[0].messages.Load() + 1
	say, _ := wire.Encode(&wire.Frame{Type: wire.TypeSay, Text: string(benchText(0, benchNow()))})
	conn := st.members[0].conn.Load()
	conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write(say); err != nil {
		return err
	}
	return st.waitSeq(last+1, messages)
}

// bareBaseline joins every member, all at once, to a server that does only
// the room's TLS handshake and a short welcome, and returns how long that
// took, from the first dial to the last welcome.
func (st *storm) bareBaseline(tb testing.TB) (time.Duration, error) {
	// An in-process host for its TLS configuration: a key of the same
	// kind as the room's, and the room's settings.
	h, err := Start(Config{Name: "baseline", StateDir: tb.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		return 0, err
	}
	conf := h.tlsConfig
	fingerprint := h.Fingerprint()
	h.Close()
	bare, err := startBareJoinServer(conf, 0)
	if err != nil {
		return 0, err
	}
	defer bare.close()
	confs := make([]*tls.Config, st.n)
	for i, m := range st.members {
		confs[i] = benchClientTLS(fingerprint)
		confs[i].Certificates = m.conf.Certificates
	}
	var wg sync.WaitGroup
	var errOnce sync.Once
	var bareErr error
	conns := make([]net.Conn, st.n)
	begin := make(chan struct{})
	var last atomic.Int64
	for i, m := range st.members {
		wg.Go(func() {
			asClient(func() {
				<-begin
				if !st.handshake() {
					return
				}
				defer st.handshook()
				d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 30 * time.Second, LocalAddr: m.local}, Config: confs[i]}
				ctx, cancel := context.WithTimeout(st.ctx, stormPhase)
				defer cancel()
				c, err := d.DialContext(ctx, "tcp", bare.addr())
				if err == nil {
					conns[i] = c
					c.SetDeadline(time.Now().Add(stormPhase))
					hello, _ := wire.Encode(&wire.Frame{Type: wire.TypeHello, Version: wire.Version, Name: m.name, AsksMembers: true})
					if _, err = c.Write(hello); err == nil {
						_, err = bufio.NewReaderSize(c, 512).ReadSlice('\n')
					}
				}
				if err != nil {
					errOnce.Do(func() { bareErr = fmt.Errorf("%s at the baseline: %w", m.name, err) })
					return
				}
				for {
					old, now := last.Load(), benchNow()
					if now <= old || last.CompareAndSwap(old, now) {
						break
					}
				}
			})
		})
	}
	start := benchNow()
	close(begin)
	wg.Wait()
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	return time.Duration(last.Load() - start), bareErr
}

// close ends every member's connection and waits for their goroutines.
func (st *storm) close() {
	st.cancel()
	for _, m := range st.members {
		if c := m.conn.Load(); c != nil {
			c.Close()
		}
	}
	st.wg.Wait()
}

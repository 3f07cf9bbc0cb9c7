package host

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"chatroom/host/wire"
)

// Attack on the room's memory: the host is killed with SIGKILL while
// lines stream into a room of a few hundred members, each with its
// identity key, and started again on the same state directory and
// address. Every member comes back with its resume point and is resumed
// in the same epoch; across its two connections it receives exactly the
// room's sequence of events from its join on, as the room itself kept
// them (no gap, no event twice, the same order and bytes); and the bots
// among them, sending again the lines the room had not taken by its
// welcome's Taken, have every line in the room exactly once.
func TestJournalSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills host processes, with hundreds of members")
	}
	needBootID(t)
	const (
		members = 200
		bots    = 8  // the first members, who stream lines
		before  = 60 // lines each bot has had confirmed when the host is killed
		joiners = 8  // members joining at once
	)
	raiseFileLimit(4*members + 256)
	dir := t.TempDir()
	p := startHostProcessOn(t, "journal", dir, "")
	addr := p.addr

	ms := make([]*crashMember, members)
	for i := range ms {
		m, err := newCrashMember(fmt.Sprintf("m%d", i), i < bots)
		if err != nil {
			t.Fatal(err)
		}
		ms[i] = m
	}
	if err := forEachMember(ms, joiners, func(m *crashMember) error { return m.connect(addr, nil) }); err != nil {
		t.Fatal(err)
	}
	// The bots stream until the host is gone; it is killed once each
	// has had before of its lines confirmed, with more on their way.
	var streaming sync.WaitGroup
	for _, m := range ms[:bots] {
		streaming.Go(m.stream)
	}
	for _, m := range ms[:bots] {
		if err := m.waitConfirmed(before); err != nil {
			t.Fatal(err)
		}
	}
	p.kill()
	streaming.Wait()
	for _, m := range ms {
		m.waitGone()
	}

	p = startHostProcessOn(t, "journal", dir, addr)
	defer p.kill()
	if err := forEachMember(ms, joiners, func(m *crashMember) error {
		point := m.resumePoint()
		if err := m.connect(addr, point); err != nil {
			return err
		}
		if w := m.welcome(); !w.Resumed || w.Epoch != point.Epoch {
			return fmt.Errorf("%s not resumed after the kill: resumed %v, epoch %q (was %q)", m.name, w.Resumed, w.Epoch, point.Epoch)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// One bot after the other, so that the burst of lines sent again
	// stays within what a member's outbox takes.
	for i, m := range ms[:bots] {
		if err := m.resend(); err != nil {
			t.Fatal(err)
		}
		if err := m.waitFins(i + 1); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range ms {
		if err := m.waitFins(bots); err != nil {
			t.Fatal(err)
		}
	}
	// A clean close saves the room's history, which holds every event.
	for _, m := range ms {
		m.close()
	}
	p.stop()
	past, found, err := savedHistory(dir, newTestLogger(&strings.Builder{}))
	if err != nil || !found {
		t.Fatalf("no history after the clean close: %v", err)
	}
	bySeq := make(map[uint64][]byte, len(past.Events))
	for _, e := range past.Events {
		f, _ := wire.Parse(e)
		bySeq[f.Seq] = e
	}
	for _, m := range ms {
		if err := m.check(bySeq); err != nil {
			t.Error(err)
		}
	}
	// Each bot's lines are in the room once each: those the room took
	// before the kill were not sent again, and the others were.
	said := map[string]int{}
	for _, e := range past.Events {
		if f, _ := wire.Parse(e); f.Kind == wire.KindSay {
			said[f.From+" "+f.Text]++
		}
	}
	for _, m := range ms[:bots] {
		for _, text := range m.lines {
			if n := said[m.name+" "+text]; n != 1 {
				t.Errorf("%s's line %q is in the room %d times; want once", m.name, text, n)
			}
		}
	}
	t.Logf("%d members, %d events; bots resent %d lines the room had not taken", members, past.Seq, totalResent(ms))
}

// crashMember is one member of TestJournalSurvivesKill, speaking the
// protocol directly, across its connections.
type crashMember struct {
	name string
	bot  bool
	conf *tls.Config

	mu      sync.Mutex
	changed *sync.Cond
	conn    net.Conn
	open    bool       // its connection is being read
	last    wire.Frame // welcome of the current connection
	epoch   string
	since   uint64 // the number its first welcome stands for
	// welcomes are the numbers its later welcomes stand for: its joins
	// again, which it is not sent as events.
	welcomes []uint64
	events   [][]byte // every event received, in order, across connections
	seq      uint64   // of the last one
	fins     int
	err      error
	said     string // the last notice or closed frame, for a failure to show
	// A bot's lines: lines[i] has ref i+1; confirmed counts those the
	// room is known to have taken (their event came back, or a welcome's
	// Taken says so); resent, how many it sent again.
	lines     []string
	confirmed int
	resent    int
}

func newCrashMember(name string, bot bool) (*crashMember, error) {
	cert, err := newTestCert("chatroom member", x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	// X25519 alone, which the host takes from a client that offers
	// nothing else: the test makes 400 handshakes, and is not about them.
	conf := &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{cert}, CurvePreferences: []tls.CurveID{tls.X25519}}
	m := &crashMember{name: name, bot: bot, conf: conf}
	m.changed = sync.NewCond(&m.mu)
	return m, nil
}

// forEachMember runs f for every member, n at a time, and returns the
// first error.
func forEachMember(ms []*crashMember, n int, f func(*crashMember) error) error {
	return inTurns(len(ms), n, func(i int) error { return f(ms[i]) })
}

// connect joins the room at addr, resuming from point if it is set, and
// reads what comes on a goroutine of its own.
func (m *crashMember) connect(addr string, point *wire.Resume) error {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: testDeadline}, Config: m.conf}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	conn.SetDeadline(time.Now().Add(5 * time.Minute))
	hello, _ := wire.Encode(&wire.Frame{Type: wire.TypeHello, Version: wire.Version, Name: m.name, Resume: point})
	if _, err := conn.Write(hello); err != nil {
		conn.Close()
		return err
	}
	br := bufio.NewReaderSize(conn, 64<<10)
	line, err := br.ReadBytes('\n')
	if err != nil {
		conn.Close()
		return fmt.Errorf("%s: reading the welcome: %w", m.name, err)
	}
	w, err := wire.Parse(line)
	if err != nil || w.Type != wire.TypeWelcome {
		conn.Close()
		return fmt.Errorf("%s not welcomed: %.200s", m.name, line)
	}
	m.mu.Lock()
	if m.epoch == "" {
		m.epoch, m.since, m.seq = w.Epoch, w.Seq, w.Seq
	} else if w.Resumed {
		m.taken(w.Taken)
		m.welcomes = append(m.welcomes, w.Seq)
	}
	m.conn, m.open, m.last = conn, true, w
	m.mu.Unlock()
	go m.read(br)
	return nil
}

// taken notes that the room took the bot's lines up to ref taken, which
// a resumed welcome says.
func (m *crashMember) taken(taken uint64) {
	m.confirmed = max(m.confirmed, int(min(taken, uint64(len(m.lines)))))
}

func (m *crashMember) welcome() wire.Frame {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

func (m *crashMember) read(br *bufio.Reader) {
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			m.mu.Lock()
			m.said = err.Error()
			m.open = false
			m.changed.Broadcast()
			m.mu.Unlock()
			return
		}
		f, err := wire.Parse(line)
		if err == nil && (f.Type == wire.TypeClosed || f.Type == wire.TypeNotice) {
			m.mu.Lock()
			m.said = string(line)
			m.mu.Unlock()
		}
		if err != nil || f.Type != wire.TypeEvent {
			continue // private frames and notices are not what is checked here
		}
		m.mu.Lock()
		m.events = append(m.events, line)
		m.seq = f.Seq
		if f.Kind == wire.KindSay && f.From == m.name && f.Ref > 0 {
			m.confirmed = max(m.confirmed, int(f.Ref))
		}
		if f.Kind == wire.KindSay && strings.HasPrefix(f.Text, "fin ") {
			m.fins++
		}
		m.changed.Broadcast()
		m.mu.Unlock()
	}
}

// stream sends the bot's numbered lines, each with its ref, until a write
// fails (the host is gone), keeping up to a hundred in flight: the eight
// bots' 800 stay below the 1,024 frames of a member's outbox, so that a
// member reading slowly (the test's 200 readers share two cores with the
// host, under -race) is not dropped as too slow, which the test is not
// about (it was, in CI, at 200 in flight each).
func (m *crashMember) stream() {
	for i := 0; ; i++ {
		m.mu.Lock()
		for len(m.lines)-m.confirmed > 100 && m.open {
			m.changed.Wait()
		}
		text := fmt.Sprintf("%s line %d", m.name, i)
		m.lines = append(m.lines, text)
		conn := m.conn
		m.mu.Unlock()
		b, _ := wire.Encode(&wire.Frame{Type: wire.TypeSay, Text: text, Ref: uint64(i + 1)})
		if _, err := conn.Write(b); err != nil {
			return
		}
	}
}

// waitConfirmed waits until n of the bot's lines came back as events.
func (m *crashMember) waitConfirmed(n int) error {
	return m.waitFor(func() bool { return m.confirmed >= n }, fmt.Sprintf("%d lines confirmed", n))
}

// waitGone waits until the member's connection has ended.
func (m *crashMember) waitGone() {
	m.waitFor(func() bool { return !m.open }, "the connection to end")
}

// waitFins waits until the member has the last line of every bot.
func (m *crashMember) waitFins(n int) error {
	return m.waitFor(func() bool { return m.fins >= n }, fmt.Sprintf("the %d bots' last lines", n))
}

// waitFor waits, at most two minutes (a hang, not a pace), until done
// holds (called locked).
func (m *crashMember) waitFor(done func() bool, what string) error {
	deadline := time.AfterFunc(2*time.Minute, func() {
		m.mu.Lock()
		m.err = errors.New("timed out")
		m.changed.Broadcast()
		m.mu.Unlock()
	})
	defer deadline.Stop()
	m.mu.Lock()
	defer m.mu.Unlock()
	for !done() {
		if m.err != nil {
			return fmt.Errorf("%s: waiting for %s: %v (%d events, connection open %v, %d lines, %d confirmed, last said %q)", m.name, what, m.err, len(m.events), m.open, len(m.lines), m.confirmed, m.said)
		}
		m.changed.Wait()
	}
	return nil
}

func (m *crashMember) resumePoint() *wire.Resume {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &wire.Resume{Epoch: m.epoch, Seq: m.seq}
}

// resend sends again, as a client does after a resume, the bot's lines
// that the room had not taken by its welcome, then its last line.
func (m *crashMember) resend() error {
	m.mu.Lock()
	from := int(min(m.last.Taken, uint64(len(m.lines))))
	again := m.lines[from:]
	m.resent = len(again)
	m.lines = append(m.lines, "fin "+m.name)
	conn, fin := m.conn, len(m.lines)
	m.mu.Unlock()
	var batch bytes.Buffer
	for i, text := range again {
		b, _ := wire.Encode(&wire.Frame{Type: wire.TypeSay, Text: text, Ref: uint64(from + i + 1)})
		batch.Write(b)
	}
	b, _ := wire.Encode(&wire.Frame{Type: wire.TypeSay, Text: "fin " + m.name, Ref: uint64(fin)})
	batch.Write(b)
	_, err := conn.Write(batch.Bytes())
	return err
}

func (m *crashMember) close() {
	m.mu.Lock()
	conn := m.conn
	m.mu.Unlock()
	conn.Close()
}

// check compares what the member received with the room's events: each
// from its join on, once, in order, byte for byte.
func (m *crashMember) check(room map[uint64][]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	// Each event is the one after the last, but for the numbers of the
	// member's own joins, which its welcomes stand for; in a big room a
	// member's arrival is told in a presence event numbered as its
	// welcome, which it is sent too.
	next := m.since + 1
	for i, got := range m.events {
		f, err := wire.Parse(got)
		if err != nil {
			return fmt.Errorf("%s's event %d does not parse: %s", m.name, i, got)
		}
		if i == 0 && f.Seq == m.since {
			next = f.Seq
		}
		for next < f.Seq && slices.Contains(m.welcomes, next) {
			next++
		}
		if f.Seq != next {
			return fmt.Errorf("%s's event %d is number %d, want %d: %s", m.name, i, f.Seq, next, got)
		}
		want, ok := room[f.Seq]
		if !ok {
			return fmt.Errorf("%s's event %d is number %d, which the room does not have: %s", m.name, i, f.Seq, got)
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("%s's event %d is not the room's event %d:\n got: %s\nwant: %s", m.name, i, f.Seq, got, want)
		}
		next++
	}
	if len(m.events) == 0 {
		return fmt.Errorf("%s received nothing", m.name)
	}
	return nil
}

func totalResent(ms []*crashMember) int {
	n := 0
	for _, m := range ms {
		n += m.resent
	}
	return n
}

package host

// The client side of the benchmarks in bench_test.go: a swarm of members
// that speak either the chatroom protocol over TLS (roomProto) or the bare
// baseline's newline protocol over plain TCP (bareProto, in
// benchbare_test.go), driven the same way, so that the two differ only in
// the server and its wire format.
//
// Clients read lines with bufio.Reader.ReadSlice and pick out the few
// fields they need with bytes.Index rather than decoding JSON, so that the
// clients, which share the machine's cores with the host, cost as little as
// the baseline's. Every client goroutine carries the pprof label
// bench=client, so that a CPU profile can be cut down to the host with
// `go tool pprof -tagignore bench=client`.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chatroom/host/room"
	"chatroom/host/wire"
	"chatroom/join"
)

const (
	// benchTextLen is the length of every message's text, for chatroom and
	// the baseline alike: "<member> <send time> " padded with 'x'.
	benchTextLen = 64
	// benchInFlight is how many of its own messages each member keeps in
	// flight in the closed loop. With 500 members that is 500 frames in
	// every outbox at most, below the room's 1024, so no member is dropped
	// for being slow: the loop measures the host's pace, not its policing.
	benchInFlight = 1
	// benchPhaseTimeout bounds any one phase: a benchmark that cannot
	// finish fails instead of hanging.
	benchPhaseTimeout = 90 * time.Second
	// benchMaxLag bounds, in the closed loop, how many messages the slowest
	// member may be behind the last one sent: a member whose own message
	// came back waits (is parked) while anyone is that far behind. The
	// per-sender window alone does not bound what a receiver has queued: the
	// scheduler can leave one member's goroutines waiting while the others
	// lap it, and the room (and the baseline) then rightly drop it as too
	// slow at 1024 queued frames. benchMaxLag is below that and above the
	// 500 frames the largest swarm has in flight.
	benchMaxLag = 900
	// benchDialers is how many members join at once while a swarm is set up.
	benchDialers = 16
)

// benchEpoch is the origin of the send times that messages carry; clients
// and the driver share the process, so its monotonic clock.
var benchEpoch = time.Now()

func benchNow() int64 { return int64(time.Since(benchEpoch)) }

// benchLabels marks client-side goroutines in CPU profiles.
var benchLabels = pprof.Labels("bench", "client")

// asClient runs f with the client label (goroutines it starts inherit it).
func asClient(f func()) {
	pprof.Do(context.Background(), benchLabels, func(context.Context) { f() })
}

// benchText is the text of a message from member `from`, sent at `sent`.
func benchText(from int, sent int64) []byte {
	t := strconv.AppendInt(nil, int64(from), 10)
	t = append(t, ' ')
	t = strconv.AppendInt(t, sent, 10)
	t = append(t, ' ')
	for len(t) < benchTextLen {
		t = append(t, 'x')
	}
	return t
}

// parseBenchText reads back what benchText wrote.
func parseBenchText(t []byte) (from int, sent int64, ok bool) {
	a, n := parseUint(t)
	if n == 0 || n >= len(t) || t[n] != ' ' {
		return 0, 0, false
	}
	t = t[n+1:]
	s, m := parseUint(t)
	if m == 0 || m >= len(t) || t[m] != ' ' {
		return 0, 0, false
	}
	return int(a), int64(s), true
}

func parseUint(b []byte) (uint64, int) {
	var v uint64
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' && i < 19 {
		v = v*10 + uint64(b[i]-'0')
		i++
	}
	return v, i
}

// lineKind is what a received line is.
type lineKind int

const (
	lineBad     lineKind = iota // not something this benchmark expects
	lineMessage                 // a message (a "say" event)
	lineJoin                    // someone joined
	lineLeave                   // someone left
)

type lineEvent struct {
	kind lineKind
	seq  uint64 // the room's sequence number; 0 for the baseline
	from int    // message: the member that sent it
	sent int64  // message: its send time (benchNow)
	name []byte // join, leave: who
	// presence: the joins (lineJoin) or leaves too (lineLeave, name the
	// first who left) of a big room, told together (see follows).
	presence bool
}

// follows reports whether ev comes in order after the event numbered
// last: the next, or, for a presence event, the number of the member's
// welcome, which a held arrival is given and then sent.
func (ev lineEvent) follows(last uint64) bool {
	return ev.seq == last+1 || (ev.presence && ev.seq == last)
}

// readEvent reads the next line from br, or, for a line longer than br's
// buffer (a presence event of many joins), its first buffer's worth, which
// holds its number and kind, reading the rest to its end. The line is
// valid until the next read, or for a long one, a copy.
func readEvent(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	line = append([]byte(nil), line...)
	for err == bufio.ErrBufferFull {
		_, err = br.ReadSlice('\n')
	}
	return line, err
}

// benchProto is one server and its wire format, as the swarm sees them.
type benchProto interface {
	// dial connects a member called name and waits for its welcome. It
	// returns the reader to go on with and the welcome's sequence number.
	dial(name string) (net.Conn, *bufio.Reader, uint64, error)
	// encode returns what a member sends to say text.
	encode(text []byte) []byte
	// parse classifies one received line.
	parse(line []byte) lineEvent
	// frameLen is the number of bytes one delivery of a message carries.
	frameLen() int
	close()
}

// benchMember is one client of a swarm.
type benchMember struct {
	idx     int
	name    string
	conn    net.Conn
	br      *bufio.Reader
	loopMsg []byte // what it sends in the closed loop, fixed
	count   atomic.Int64
	lastSeq uint64 // owned by the reader goroutine
}

// benchPhase is what readers need to know about the current phase. The
// driver publishes a new one (atomically) before it sends anything.
type benchPhase struct {
	openLoop bool      // readers do not send; the driver does
	lat      [][]int64 // per member, latencies in ns, when measured
}

// swarm is a set of members of one server.
type swarm struct {
	proto   benchProto
	members []*benchMember
	wg      sync.WaitGroup

	phase   atomic.Pointer[benchPhase]
	tickets atomic.Int64 // messages the closed loop may still send
	target  int64        // messages every member should have received so far (driver only)
	sent    atomic.Int64 // messages sent so far, all phases
	minRecv atomic.Int64 // the fewest messages any member had received, lately
	parked  chan *benchMember
	parks   atomic.Int64 // times a member was parked, for the record

	leavesOK  atomic.Bool // leave events are expected (join benchmark)
	stallName string      // the member whose leave is awaited (stall benchmark)
	stallLeft atomic.Int64

	closing atomic.Bool
	errOnce sync.Once
	err     error
	failed  chan struct{}
}

func newSwarm(proto benchProto) *swarm {
	s := &swarm{proto: proto, failed: make(chan struct{}), parked: make(chan *benchMember, 1<<16)}
	s.phase.Store(&benchPhase{})
	return s
}

func (s *swarm) fail(err error) {
	s.errOnce.Do(func() {
		s.err = err
		close(s.failed)
	})
}

// join connects n members, named m0 … m<n-1>, benchDialers at a time, and
// starts their readers.
func (s *swarm) join(n int) error {
	base := len(s.members)
	members := make([]*benchMember, n)
	err := inTurns(n, benchDialers, func(i int) error {
		m := &benchMember{idx: base + i, name: fmt.Sprintf("m%d", base+i)}
		conn, br, seq, err := s.proto.dial(m.name)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		m.conn, m.br, m.lastSeq = conn, br, seq
		m.loopMsg = s.proto.encode(benchText(m.idx, 0))
		members[i] = m
		s.wg.Add(1)
		go s.read(m)
		return nil
	})
	for _, m := range members {
		if m != nil {
			s.members = append(s.members, m)
		}
	}
	return err
}

// inTurns calls f for 0 … n-1, at most `at` at a time, each on a client
// goroutine (asClient), and returns the first error; a goroutine whose f
// fails takes no more.
func inTurns(n, at int, f func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, at)
	for range at {
		wg.Go(func() {
			asClient(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					if err := f(i); err != nil {
						errs <- err
						return
					}
				}
			})
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// read is a member's reader: it counts messages, checks the room's order,
// records latencies, and in the closed loop sends the member's next message
// when its own comes back.
func (s *swarm) read(m *benchMember) {
	defer s.wg.Done()
	for {
		line, err := m.br.ReadSlice('\n')
		if err != nil {
			if !s.closing.Load() {
				s.fail(fmt.Errorf("%s: read: %v", m.name, err))
			}
			return
		}
		ev := s.proto.parse(line)
		if ev.seq != 0 {
			if !ev.follows(m.lastSeq) {
				s.fail(fmt.Errorf("%s: event %d after %d: the order has a gap", m.name, ev.seq, m.lastSeq))
				return
			}
			m.lastSeq = ev.seq
		}
		switch ev.kind {
		case lineMessage:
			p := s.phase.Load()
			if p.lat != nil {
				p.lat[m.idx] = append(p.lat[m.idx], benchNow()-ev.sent)
			}
			m.count.Add(1)
			if ev.from == m.idx && !p.openLoop {
				if s.sent.Load()-s.minRecv.Load() >= benchMaxLag {
					s.parks.Add(1)
					s.parked <- m // the driver sends for it (pump)
				} else if err := s.send(m); err != nil {
					s.fail(err)
					return
				}
			}
		case lineJoin:
		case lineLeave:
			switch {
			case s.stallName != "" && string(ev.name) == s.stallName:
				s.stallLeft.CompareAndSwap(0, benchNow())
			case s.leavesOK.Load():
			default:
				s.fail(fmt.Errorf("%s: %s left the room unexpectedly: %s", m.name, ev.name, bytes.TrimSpace(line)))
				return
			}
		default:
			s.fail(fmt.Errorf("%s: unexpected line: %.300s", m.name, bytes.TrimSpace(line)))
			return
		}
	}
}

// send sends m's closed-loop message, if a ticket is left.
func (s *swarm) send(m *benchMember) error {
	if s.tickets.Add(-1) < 0 {
		return nil
	}
	s.sent.Add(1)
	if _, err := m.conn.Write(m.loopMsg); err != nil && !s.closing.Load() {
		return fmt.Errorf("%s: write: %v", m.name, err)
	}
	return nil
}

// pump updates minRecv and sends for parked members while the slowest
// member is less than benchMaxLag behind. It returns minRecv.
func (s *swarm) pump() (int64, error) {
	least := int64(1 << 62)
	for _, m := range s.members {
		least = min(least, m.count.Load())
	}
	s.minRecv.Store(least)
	for s.sent.Load()-least < benchMaxLag {
		select {
		case m := <-s.parked:
			var err error
			asClient(func() { err = s.send(m) })
			if err != nil {
				return least, err
			}
			continue
		default:
		}
		break
	}
	return least, nil
}

// unpark forgets parked members at the end of a phase (they have no
// tickets left to send with).
func (s *swarm) unpark() {
	for {
		select {
		case <-s.parked:
		default:
			return
		}
	}
}

// waitCounts waits until every member has received target messages,
// pumping the closed loop meanwhile.
func (s *swarm) waitCounts(target int64, deadline time.Time) error {
	for {
		select {
		case <-s.failed:
			return s.err
		default:
		}
		least, err := s.pump()
		if err != nil {
			return err
		}
		if least >= target {
			return nil
		}
		if time.Now().After(deadline) {
			var behind []string
			for _, m := range s.members {
				if c := m.count.Load(); c < target {
					behind = append(behind, fmt.Sprintf("%s:%d", m.name, c))
				}
			}
			return fmt.Errorf("after %v, %d members have not received all %d messages: %.200v", benchPhaseTimeout, len(behind), target, behind)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// checkCounts fails unless every member received exactly target messages:
// none lost, none twice.
func (s *swarm) checkCounts(target int64) error {
	for _, m := range s.members {
		if c := m.count.Load(); c != target {
			return fmt.Errorf("%s received %d messages, want %d", m.name, c, target)
		}
	}
	return nil
}

// kick starts the closed loop: every member sends benchInFlight messages,
// while tickets last.
func (s *swarm) kick() error {
	var err error
	asClient(func() {
		for range benchInFlight {
			for _, m := range s.members {
				if err = s.send(m); err != nil {
					return
				}
			}
		}
	})
	return err
}

// closedLoop runs the closed loop for msgs messages in all and returns how
// long it took for every member to receive all of them.
func (s *swarm) closedLoop(msgs int64) (time.Duration, error) {
	s.phase.Store(&benchPhase{})
	s.target += msgs
	s.tickets.Store(msgs)
	start := time.Now()
	if err := s.kick(); err != nil {
		return 0, err
	}
	if err := s.waitCounts(s.target, start.Add(benchPhaseTimeout)); err != nil {
		return 0, err
	}
	elapsed := time.Since(start)
	s.unpark()
	return elapsed, s.checkCounts(s.target)
}

// warmUp runs the closed loop until every connection has carried more than
// 128 KiB: crypto/tls writes small records (one TCP segment each) until a
// connection has sent that much, and the kernel sizes socket buffers to the
// traffic. What is measured after it is the steady state.
func (s *swarm) warmUp() error {
	msgs := int64(max(5*len(s.members), (160<<10)/s.proto.frameLen()))
	_, err := s.closedLoop(msgs)
	return err
}

// openLoop sends msgs messages at rate per second, from each member in
// turn, each stamped with its send time, and returns every latency seen
// at every member (receive time - send time), sorted.
func (s *swarm) openLoop(msgs int, rate int) ([]int64, error) {
	p := &benchPhase{openLoop: true, lat: make([][]int64, len(s.members))}
	for i := range p.lat {
		p.lat[i] = make([]int64, 0, msgs)
	}
	s.phase.Store(p)
	s.target += int64(msgs)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	var err error
	asClient(func() {
		for k := range msgs {
			// Open loop: message k goes at start+k*interval, however late
			// the ones before it came back.
			if d := time.Until(start.Add(time.Duration(k) * interval)); d > 0 {
				time.Sleep(d)
			}
			m := s.members[k%len(s.members)]
			msg := s.proto.encode(benchText(m.idx, benchNow()))
			s.sent.Add(1)
			if _, werr := m.conn.Write(msg); werr != nil {
				err = fmt.Errorf("%s: write: %v", m.name, werr)
				return
			}
			select {
			case <-s.failed:
				return
			default:
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if err := s.waitCounts(s.target, start.Add(benchPhaseTimeout)); err != nil {
		return nil, err
	}
	if err := s.checkCounts(s.target); err != nil {
		return nil, err
	}
	var all []int64
	for i, l := range p.lat {
		if len(l) != msgs {
			return nil, fmt.Errorf("%s: %d latencies, want %d", s.members[i].name, len(l), msgs)
		}
		all = append(all, l...)
	}
	slices.Sort(all)
	return all, nil
}

// delivered is the number of messages received by all members together.
func (s *swarm) delivered() int64 {
	var n int64
	for _, m := range s.members {
		n += m.count.Load()
	}
	return n
}

// close ends every member's connection, waits for the readers, and stops
// the server.
func (s *swarm) close() {
	s.closing.Store(true)
	for _, m := range s.members {
		m.conn.Close()
	}
	s.wg.Wait()
	s.proto.close()
}

func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)) * p)
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

// roomProto is chatroom: a real Host on 127.0.0.1, TLS as the join client
// does it, and the wire protocol.
type roomProto struct {
	h    *Host
	addr string
	conf *tls.Config
	len  int // bytes in one delivered message
}

func startRoomProto(tb testing.TB) *roomProto {
	tb.Helper()
	h, err := Start(Config{Name: "bench", StateDir: tb.TempDir(), Listen: "127.0.0.1:0", Limits: benchLimits, JoinLimits: benchJoinLimits, MaxConnsPerAddr: 1 << 20})
	if err != nil {
		tb.Fatal(err)
	}
	return &roomProto{h: h, addr: h.Addr().String(), conf: benchClientTLS(h.Fingerprint()), len: roomFrameLen(tb)}
}

// roomFrameLen is the length of what members receive for one message, as
// the room encodes it, with a sequence number and a name as long as the
// benchmark's typical ones.
func roomFrameLen(tb testing.TB) int {
	sample, err := wire.Encode(&wire.Frame{Type: wire.TypeEvent, Seq: 123456, Time: time.Now(),
		Kind: wire.KindSay, From: "m123", Text: string(benchText(123, benchNow()))})
	if err != nil {
		tb.Fatal(err)
	}
	return len(sample)
}

// benchClientTLS is the TLS configuration of join's dialer: TLS 1.3, the
// chain not verified, the key checked against the fingerprint.
func benchClientTLS(fingerprint string) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no certificate")
			}
			if got := wire.Fingerprint(cs.PeerCertificates[0].RawSubjectPublicKeyInfo); got != fingerprint {
				return fmt.Errorf("key %s, want %s", got, fingerprint)
			}
			return nil
		},
	}
}

// benchJoinerTLS is benchClientTLS with an identity key presented as a
// client certificate, as `chatroom join` always does: the host then checks
// one more signature per join, and the joiner makes it.
func benchJoinerTLS(tb testing.TB, fingerprint string) *tls.Config {
	tb.Helper()
	identity, err := join.LoadOrCreateIdentity(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	conf := benchClientTLS(fingerprint)
	join.WithIdentity(identity)(conf)
	return conf
}

func (p *roomProto) dial(name string) (net.Conn, *bufio.Reader, uint64, error) {
	return dialRoomMember(p.addr, p.conf, name, 64<<10)
}

// dialRoomMember joins the room at addr as name, over TLS, and returns the
// connection, a reader of readSize bytes to go on with, and the welcome's
// sequence number.
func dialRoomMember(addr string, conf *tls.Config, name string, readSize int) (net.Conn, *bufio.Reader, uint64, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 30 * time.Second}, Config: conf}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, 0, err
	}
	// One deadline for the benchmark's whole life, rather than one per
	// read or write: it turns a hang into a failure at no cost per frame.
	conn.SetDeadline(time.Now().Add(5 * time.Minute))
	hello, _ := wire.Encode(&wire.Frame{Type: wire.TypeHello, Version: wire.Version, Name: name, AsksMembers: true}) // as join's clients do
	if _, err := conn.Write(hello); err != nil {
		conn.Close()
		return nil, nil, 0, err
	}
	br := bufio.NewReaderSize(conn, readSize)
	line, err := br.ReadBytes('\n') // a welcome may be longer than readSize
	if err != nil {
		conn.Close()
		return nil, nil, 0, fmt.Errorf("reading the welcome: %w", err)
	}
	f, err := wire.Parse(line)
	if err != nil {
		conn.Close()
		return nil, nil, 0, err
	}
	if f.Type != wire.TypeWelcome || f.You == nil || f.You.Name != name {
		conn.Close()
		return nil, nil, 0, fmt.Errorf("not welcomed: %.300s", line)
	}
	return conn, br, f.Seq, nil
}

func (p *roomProto) encode(text []byte) []byte {
	b, err := wire.Encode(&wire.Frame{Type: wire.TypeSay, Text: string(text)})
	if err != nil {
		panic(err)
	}
	return b
}

var (
	eventPrefix = []byte(`{"type":"event",`)
	seqKey      = []byte(`"seq":`)
	kindKey     = []byte(`"kind":"`)
	textKey     = []byte(`"text":"`)
	nameKey     = []byte(`"name":"`)
	leftKey     = []byte(`"left":[`)
)

// parse picks the fields the benchmarks need out of an event frame. The
// room writes the fields in the order of wire.Frame: type, name, seq,
// time, kind, from, ..., text.
func (p *roomProto) parse(line []byte) lineEvent {
	return parseRoomLine(line)
}

func parseRoomLine(line []byte) lineEvent {
	bad := lineEvent{kind: lineBad}
	if !bytes.HasPrefix(line, eventPrefix) {
		return bad
	}
	if ev, ok := parseSayLine(line); ok {
		return ev
	}
	i := bytes.Index(line, seqKey)
	if i < 0 {
		return bad
	}
	seq, n := parseUint(line[i+len(seqKey):])
	if n == 0 {
		return bad
	}
	rest := line[i+len(seqKey)+n:]
	j := bytes.Index(rest, kindKey)
	if j < 0 {
		return bad
	}
	rest = rest[j+len(kindKey):]
	switch {
	case bytes.HasPrefix(rest, []byte(`say"`)):
		k := bytes.Index(rest, textKey)
		if k < 0 {
			return bad
		}
		from, sent, ok := parseBenchText(rest[k+len(textKey):])
		if !ok {
			return bad
		}
		return lineEvent{kind: lineMessage, seq: seq, from: from, sent: sent}
	case bytes.HasPrefix(rest, []byte(`join"`)):
		return lineEvent{kind: lineJoin, seq: seq, name: nameIn(line)}
	case bytes.HasPrefix(rest, []byte(`leave"`)):
		return lineEvent{kind: lineLeave, seq: seq, name: nameIn(line)}
	case bytes.HasPrefix(rest, []byte(`presence"`)):
		if i := bytes.Index(rest, leftKey); i >= 0 {
			return lineEvent{kind: lineLeave, seq: seq, name: nameIn(rest[i:]), presence: true}
		}
		return lineEvent{kind: lineJoin, seq: seq, presence: true}
	}
	return lineEvent{kind: lineBad, seq: seq}
}

// A message frame has its kind between its time and its sender, and ends
// with its text, the last field, which in the benchmarks is benchTextLen
// bytes that need no escaping.
var (
	sayKind = []byte(`,"kind":"say",`)
	sayEnd  = []byte("\"}\n")
)

// parseSayLine reads a message frame at fixed places, since in the
// closed loop the clients' parsing shares the cores with the host: the
// sequence number right after the type, the text at the end, and the
// kind between them. It reports false for anything else (joins and leaves
// carry a name before the sequence number), which parseRoomLine then reads
// the slow way.
func parseSayLine(line []byte) (lineEvent, bool) {
	rest, ok := bytes.CutPrefix(line[len(eventPrefix):], seqKey)
	if !ok {
		return lineEvent{}, false
	}
	seq, n := parseUint(rest)
	rest = rest[n:]
	textAt := len(rest) - len(sayEnd) - benchTextLen
	if n == 0 || textAt < len(textKey) || !bytes.HasSuffix(rest, sayEnd) ||
		!bytes.Equal(rest[textAt-len(textKey):textAt], textKey) ||
		!bytes.Contains(rest[:textAt], sayKind) {
		return lineEvent{}, false
	}
	from, sent, ok := parseBenchText(rest[textAt:])
	if !ok {
		return lineEvent{}, false
	}
	return lineEvent{kind: lineMessage, seq: seq, from: from, sent: sent}, true
}

func nameIn(line []byte) []byte {
	i := bytes.Index(line, nameKey)
	if i < 0 {
		return nil
	}
	name := line[i+len(nameKey):]
	if j := bytes.IndexByte(name, '"'); j >= 0 {
		return name[:j]
	}
	return nil
}

func (p *roomProto) frameLen() int { return p.len }

func (p *roomProto) close() { p.h.Close() }

// hostConns is the number of connections the host is serving.
func (p *roomProto) hostConns() int {
	p.h.server.mu.Lock()
	defer p.h.server.mu.Unlock()
	return len(p.h.server.conns)
}

// benchLimits lift the per-member rate limit: the benchmarks measure
// fan-out, with members sending far faster than people type.
var benchLimits = wire.Limits{Burst: 1 << 20, PerSecond: 1 << 20}

// benchJoinLimits lift the limits on joins likewise: the benchmarks join
// thousands of members from one address as fast as the host takes them.
var benchJoinLimits = room.JoinLimits{PerAddress: benchLimits, PerKey: benchLimits, Newcomers: benchLimits}

// TestParseRoomLine checks the benchmark clients' reading of frames as the
// room encodes them: a message through the fast path, a join and a leave
// through the slow one, and anything else refused.
func TestParseRoomLine(t *testing.T) {
	encode := func(f *wire.Frame) []byte {
		f.Type, f.Time = wire.TypeEvent, time.Now()
		b, err := wire.Encode(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sent := benchNow()
	say := encode(&wire.Frame{Seq: 77, Kind: wire.KindSay, From: "m12", Text: string(benchText(12, sent))})
	if ev, ok := parseSayLine(say); !ok || ev.kind != lineMessage || ev.seq != 77 || ev.from != 12 || ev.sent != sent {
		t.Errorf("parseSayLine(%s) = %+v, %v", say, ev, ok)
	}
	if ev := parseRoomLine(say); ev.kind != lineMessage || ev.seq != 77 || ev.from != 12 || ev.sent != sent {
		t.Errorf("parseRoomLine(%s) = %+v", say, ev)
	}
	join := encode(&wire.Frame{Seq: 78, Kind: wire.KindJoin, Name: "m13"})
	if ev := parseRoomLine(join); ev.kind != lineJoin || ev.seq != 78 || string(ev.name) != "m13" {
		t.Errorf("parseRoomLine(%s) = %+v", join, ev)
	}
	leave := encode(&wire.Frame{Seq: 79, Kind: wire.KindLeave, Name: "m13"})
	if ev := parseRoomLine(leave); ev.kind != lineLeave || ev.seq != 79 || string(ev.name) != "m13" {
		t.Errorf("parseRoomLine(%s) = %+v", leave, ev)
	}
	presence := encode(&wire.Frame{Seq: 82, Kind: wire.KindPresence, Joined: []wire.Member{{Name: "m14", Role: wire.RoleMember}}})
	if ev := parseRoomLine(presence); ev.kind != lineJoin || ev.seq != 82 || !ev.presence || !ev.follows(81) || !ev.follows(82) || ev.follows(80) {
		t.Errorf("parseRoomLine(%s) = %+v", presence, ev)
	}
	presence = encode(&wire.Frame{Seq: 83, Kind: wire.KindPresence, Joined: []wire.Member{{Name: "m14", Role: wire.RoleMember}}, Left: []wire.Departure{{Name: "m15", Code: wire.CodeLost}}})
	if ev := parseRoomLine(presence); ev.kind != lineLeave || ev.seq != 83 || string(ev.name) != "m15" {
		t.Errorf("parseRoomLine(%s) = %+v", presence, ev)
	}
	me := encode(&wire.Frame{Seq: 80, Kind: wire.KindMe, From: "m12", Text: string(benchText(12, sent))})
	other := encode(&wire.Frame{Seq: 81, Kind: wire.KindSay, From: "m12", Text: "hello"})
	for _, line := range [][]byte{me, other, []byte(`{"type":"pong"}` + "\n")} {
		if ev := parseRoomLine(line); ev.kind != lineBad {
			t.Errorf("parseRoomLine(%s) = %+v, want lineBad", line, ev)
		}
	}
}

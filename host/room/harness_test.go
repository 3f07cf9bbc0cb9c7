package room

import (
	"context"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// testTime is the room's clock in tests, so that expected frames can be
// written out whole.
var testTime = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// stuck bounds how long a test waits for something that should happen at
// once. It only turns a hang (a bug) into a failure; no test relies on it
// to order anything.
const stuck = 10 * time.Second

// testRoom is a running room driven only through its API, plus sync, which
// lets a test know the room has done all it was asked.
type testRoom struct {
	t      *testing.T
	r      *Room
	cancel context.CancelFunc
	ended  chan struct{} // closed when Run has returned
	saves  *banSaver
}

// banSaver is a Store's SaveBans that records what it was given and fails
// while err is set. It is called on the room goroutine; tests read it after
// sync, whose channel round trip orders the two.
type banSaver struct {
	err   error
	calls [][]Ban
}

func (b *banSaver) save(bans []Ban) error {
	b.calls = append(b.calls, bans)
	return b.err
}

// testStore is a Store of functions; a nil one saves nothing and succeeds.
type testStore struct {
	bans     func([]Ban) error
	ops      func([]Op) error
	mutes    func([]Mute) error
	modEntry func(ModEntry) error
	topic    func(Topic) error
}

func (st testStore) SaveBans(b []Ban) error        { return callSave(st.bans, b) }
func (st testStore) SaveOps(o []Op) error          { return callSave(st.ops, o) }
func (st testStore) SaveMutes(m []Mute) error      { return callSave(st.mutes, m) }
func (st testStore) SaveModEntry(e ModEntry) error { return callSave(st.modEntry, e) }
func (st testStore) SaveTopic(t Topic) error       { return callSave(st.topic, t) }

func callSave[T any](save func(T) error, v T) error {
	if save == nil {
		return nil
	}
	return save(v)
}

// unlimitedJoins lifts the join limits for tests that join many at a
// standing clock and are not about the limits.
var unlimitedJoins = JoinLimits{
	PerAddress: wire.Limits{Burst: 1 << 20, PerSecond: 1},
	PerKey:     wire.Limits{Burst: 1 << 20, PerSecond: 1},
	Newcomers:  wire.Limits{Burst: 1 << 20, PerSecond: 1},
}

func startRoom(t *testing.T, cfg Config) *testRoom {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testTime }
	}
	if cfg.Name == "" {
		cfg.Name = "lan"
	}
	if cfg.Past.Epoch == "" {
		cfg.Past.Epoch = testEpoch
	}
	if cfg.Limits == (wire.Limits{}) {
		// The test clock stands still, so tokens never come back: give
		// tests that are not about the rate limit all they could use.
		cfg.Limits = testLimits
	}
	// Unless the test gives a Store of its own, the bans saved are
	// recorded in tr.saves.
	saves := &banSaver{}
	if cfg.Store == nil {
		cfg.Store = testStore{}
	}
	if st, ok := cfg.Store.(testStore); ok && st.bans == nil {
		st.bans = saves.save
		cfg.Store = st
	}
	ctx, cancel := context.WithCancel(context.Background())
	tr := &testRoom{t: t, r: New(cfg), cancel: cancel, ended: make(chan struct{}), saves: saves}
	go func() {
		defer close(tr.ended)
		tr.r.Run(ctx)
	}()
	t.Cleanup(tr.close)
	return tr
}

// close ends the room and waits for Run to return.
func (tr *testRoom) close() {
	tr.cancel()
	select {
	case <-tr.ended:
	case <-time.After(stuck):
		tr.t.Fatal("Run did not return after its context ended")
	}
}

// sync returns once the room goroutine has done all the work sent to it
// before, so that every frame that work produced is in the outboxes.
func (tr *testRoom) sync() {
	tr.t.Helper()
	done := make(chan struct{})
	tr.r.send(func(s *state) {
		s.settle() // what the work before handed out is the members'
		close(done)
	})
	select {
	case <-done:
	case <-tr.r.done:
	case <-time.After(stuck):
		tr.t.Fatal("the room goroutine is stuck")
	}
}

// client is a member as a test sees it: its outbox, read without waiting.
type client struct {
	tr      *testRoom
	m       *Member
	welcome wire.Frame
	// replay is what followed the welcome ahead of the outbox: the
	// backlog, or the events since the resume point.
	replay  []wire.Frame
	closed  bool     // Out was seen closed
	pending [][]byte // taken from Out, not yet looked at
}

// next returns the next frame queued for c without waiting: ok is false
// when there is none, and then closed says whether Out is closed.
func (c *client) next() (frame []byte, ok bool) {
	if len(c.pending) == 0 {
		var open bool
		c.pending, open = c.m.Out().Take()
		c.closed = c.closed || (!open && len(c.pending) == 0)
	}
	if len(c.pending) == 0 {
		return nil, false
	}
	frame, c.pending = c.pending[0], c.pending[1:]
	return frame, true
}

func (tr *testRoom) join(name string) *client {
	tr.t.Helper()
	return tr.joinReq(JoinRequest{Name: name})
}

func (tr *testRoom) joinReq(req JoinRequest) *client {
	tr.t.Helper()
	m, refusal, err := tr.r.Join(context.Background(), req)
	if err != nil || refusal != nil || m == nil {
		tr.t.Fatalf("Join(%+v) = %v, %+v, %v; want a member", req, m, refusal, err)
	}
	// The welcome is ready when Join returns: no sync needed.
	replay := m.TakeReplay()
	if len(replay) == 0 {
		tr.t.Fatalf("%s has no replay after Join; want the welcome", req.Name)
	}
	c := &client{tr: tr, m: m, welcome: parse(tr.t, replay[0])}
	if c.welcome.Type != wire.TypeWelcome {
		tr.t.Fatalf("%s's first frame is %s, want the welcome", req.Name, replay[0])
	}
	for _, b := range replay[1:] {
		c.replay = append(c.replay, parse(tr.t, b))
	}
	return c
}

// joinUndrained joins like join, for members whose outbox is never read
// from. The welcome no longer takes a place in the outbox (it goes ahead of
// it, see Member.TakeReplay), so this is join under a name that says how
// the member is used.
func (tr *testRoom) joinUndrained(name string) *client {
	tr.t.Helper()
	return tr.join(name)
}

// refused joins, expecting a refusal, and returns it.
func (tr *testRoom) refused(req JoinRequest) *wire.Frame {
	tr.t.Helper()
	m, refusal, err := tr.r.Join(context.Background(), req)
	if err != nil || m != nil || refusal == nil {
		tr.t.Fatalf("Join(%+v) = %v, %+v, %v; want a refusal", req, m, refusal, err)
	}
	return refusal
}

func (c *client) say(line string) { c.tr.r.Say(c.m, line, 0) }

// sayRef says line with the say frame's ref.
func (c *client) sayRef(line string, ref uint64) { c.tr.r.Say(c.m, line, ref) }

// frames returns, after a sync, the frames queued for c since the last
// call, and notes whether Out was closed.
func (c *client) frames() []wire.Frame {
	c.tr.t.Helper()
	c.tr.sync()
	var frames []wire.Frame
	for {
		b, ok := c.next()
		if !ok {
			return frames
		}
		frames = append(frames, parse(c.tr.t, b))
	}
}

// expect checks that exactly want is queued for c.
func (c *client) expect(want ...wire.Frame) {
	c.tr.t.Helper()
	got := c.frames()
	if len(got) != len(want) {
		c.tr.t.Fatalf("%s got %d frames, want %d:\n got: %s\nwant: %s", c.m.name, len(got), len(want), lines(got), lines(want))
	}
	for i := range want {
		if g, w := encodeString(got[i]), encodeString(want[i]); g != w {
			c.tr.t.Errorf("%s frame %d:\n got: %s\nwant: %s", c.m.name, i, g, w)
		}
	}
}

// expectNothing checks that nothing is queued for c and it is still in.
func (c *client) expectNothing() {
	c.tr.t.Helper()
	c.expect()
	if c.closed {
		c.tr.t.Errorf("%s was removed; want it still in the room", c.m.name)
	}
}

// expectFinal checks that c's outbox is closed, holds nothing more, and
// that its Final is want (nil for none).
func (c *client) expectFinal(want *wire.Frame) {
	c.tr.t.Helper()
	c.expect()
	if !c.closed {
		c.tr.t.Fatalf("%s's outbox is still open; want it closed", c.m.name)
	}
	final := c.m.Final()
	switch {
	case want == nil && final != nil:
		c.tr.t.Errorf("%s's Final = %s, want none", c.m.name, final)
	case want != nil && final == nil:
		c.tr.t.Errorf("%s's Final is nil, want %s", c.m.name, encodeString(*want))
	case want != nil:
		if g, w := string(final), encodeString(*want)+"\n"; g != w {
			c.tr.t.Errorf("%s's Final:\n got: %s\nwant: %s", c.m.name, g, w)
		}
	}
}

func parse(t *testing.T, b []byte) wire.Frame {
	t.Helper()
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("frame %q does not end in a newline", b)
	}
	f, err := wire.Parse(b)
	if err != nil {
		t.Fatalf("parse %s: %v", b, err)
	}
	return f
}

// encodeString is how frames are compared: as the host would send them.
func encodeString(f wire.Frame) string {
	b, err := wire.Encode(&f)
	if err != nil {
		return "unencodable: " + err.Error()
	}
	return strings.TrimSuffix(string(b), "\n")
}

func lines(frames []wire.Frame) string {
	var b strings.Builder
	for _, f := range frames {
		b.WriteString("\n\t" + encodeString(f))
	}
	return b.String()
}

// Frames the room sends, as tests expect them.

func sayEvent(seq uint64, from, text string) wire.Frame {
	return wire.Frame{Type: wire.TypeEvent, Seq: seq, Time: testTime, Kind: wire.KindSay, From: from, Text: text}
}

func meEvent(seq uint64, from, text string) wire.Frame {
	return wire.Frame{Type: wire.TypeEvent, Seq: seq, Time: testTime, Kind: wire.KindMe, From: from, Text: text}
}

func joinEvent(seq uint64, name, role string) wire.Frame {
	return wire.Frame{Type: wire.TypeEvent, Seq: seq, Time: testTime, Kind: wire.KindJoin, Name: name, Role: role}
}

func leaveEvent(seq uint64, name, code, by, text string) wire.Frame {
	return wire.Frame{Type: wire.TypeEvent, Seq: seq, Time: testTime, Kind: wire.KindLeave, Name: name, Code: code, By: by, Text: text}
}

func roleEvent(seq uint64, name, role, by string) wire.Frame {
	return wire.Frame{Type: wire.TypeEvent, Seq: seq, Time: testTime, Kind: wire.KindRole, Name: name, Role: role, By: by}
}

func notice(text string) wire.Frame {
	return wire.Frame{Type: wire.TypeNotice, Text: text}
}

func errorNotice(text string) wire.Frame {
	return wire.Frame{Type: wire.TypeNotice, Text: text, Error: true}
}

func closedFrame(code, by, text string) *wire.Frame {
	return &wire.Frame{Type: wire.TypeClosed, Code: code, By: by, Text: text}
}

// within fails the test if f does not return promptly: for calls that must
// not block.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(stuck):
		t.Fatalf("%s blocked", what)
	}
}

// testEpoch is the epoch of rooms in tests that do not set one.
const testEpoch = "e0"

// testLimits are the rate limits of rooms in tests not about them.
var testLimits = wire.Limits{Burst: 1 << 20, PerSecond: 1}

package room

import (
	"cmp"
	"slices"
	"time"

	"chatroom/host/wire"
)

// Joins and leaves in a big room. Every member is told of every join and
// every leave, and every joiner is sent everyone present: in a room of
// thousands, filling it (or refilling it after the host restarts) would
// cost the host the square of its size. So:
//
//   - while at least Config.PresenceAbove members (100 by default) are
//     present, a plain join or leave (one the member chose or a broken
//     connection, not a kick, a ban or a member too slow, which say who
//     did it or why) is held, and the room tells everything held at once,
//     in one presence event, a window after the first (see
//     presenceWindow: 1 s by default, 1 s more for every 1,000 members
//     present, at most 5 s), or as soon as any other event is to be made,
//     which then follows it: every member sees one order, and the roster
//     it folds from the events is the room's at every event, and no one
//     reads a message from someone not yet announced. A member who comes
//     and goes within one window is in none.
//   - the welcome's list of members is the roster as the events have
//     announced it, kept encoded: each member's entry is encoded again
//     only when its name, role, away mark or key changes, and the whole
//     list only when the announced roster changes, which with held joins
//     is once a window, not once a joiner.
//
// A joiner whose arrival is held is welcomed with the number of the
// presence event that will announce it (the room's next event), and its
// welcome lists the members before that event, which it is sent (a joiner
// is not sent its own join event). So the numbers go on as they always
// have: a replay holds only events below the welcome's Seq, and the
// member's next event is Seq. A held joiner that leaves again before it
// is told of holds that number, which another event may then take: it
// resumes from the number before (Resumable.Untold).

const (
	defaultPresenceAbove  = 100
	defaultPresenceWindow = time.Second
	// windowPer is how many members present make the window one
	// Config.PresenceWindow longer, and maxWindows how many windows it
	// is at most: a presence event costs a delivery to every member, so
	// the longer window keeps those to about windowPer a second (5,000
	// members, a window of 5 s) however big the room.
	windowPer  = 1000
	maxWindows = 5
	// maxPresenceBatch bounds the joins and leaves in one presence event,
	// which is then told at once: at most some 120 bytes each, far under
	// wire.MaxHostFrame, and a bound on what a member must take in one
	// frame.
	maxPresenceBatch = 1000
)

// presence is what the room holds of joins and leaves not yet told, and
// its announced roster's encoding.
type presence struct {
	// above is how many members must be present for joins and leaves to
	// be held; 0 for never.
	above  int
	window time.Duration
	// timer fires a window after the first change held (armed); nil
	// until one was. Run waits on it beside the room's work, rather than
	// the timer sending work on Room.events: a timer's goroutine could
	// then block on a full queue, and the host need know nothing of
	// presence. It is armed only while something is held.
	timer *time.Timer
	armed bool

	joined  []wire.Member // the held arrivals, as they were when they came
	joiners []*Member     // the members of joined, in the same order
	left    []wire.Departure
	leavers []*Member // the members of left: removed, still announced
	// returners are the members back from before a restart whose
	// welcome gave the number of the presence event to come, which is
	// made for them even with nothing else to tell (see ghosts.go).
	returners []*Member

	// list is the announced roster encoded as a welcome's "members",
	// valid while listValid (see rosterList).
	list      []byte
	listValid bool
	listCount int // how many members list holds
	// joins numbers the members as they are added, so that the
	// announced roster keeps the room's join order across the held
	// leaves, which are no longer among its members.
	joins uint64
}

func newPresence(above int, window time.Duration) presence {
	switch {
	case above == 0:
		above = defaultPresenceAbove
	case above < 0:
		above = 0
	}
	if window <= 0 {
		window = defaultPresenceWindow
	}
	return presence{above: above, window: window}
}

// holding reports whether a plain join or leave is held now: whether the
// room has at least p.above members (counted before a joiner is added,
// and after a leaver is removed).
func (s *state) holding() bool {
	return s.presence.above > 0 && len(s.members) >= s.presence.above
}

// holdsLeave reports whether a departure with code, told to the others as
// leave, may be held: one the member chose, or a broken connection.
func holdsLeave(leave *wire.Frame) bool {
	return (leave.Code == wire.CodeLeft || leave.Code == wire.CodeLost) && leave.By == "" && leave.Text == ""
}

// untoldResume returns resume as the room can honour it for a member
// that left while its arrival was held (prior.Untold): it holds the
// events before the number its welcome gave, not the event that may have
// taken the number since.
func untoldResume(resume *wire.Resume, prior Resumable) *wire.Resume {
	if resume == nil || prior.Untold == 0 || resume.Seq < prior.Untold {
		return resume
	}
	r := *resume
	r.Seq = prior.Untold - 1
	return &r
}

// holdJoin holds m's arrival, which its welcome has given the number of
// the presence event to come.
func (s *state) holdJoin(m *Member) {
	p := &s.presence
	m.held, m.untold = true, s.seq+1
	p.joined = append(p.joined, m.wireMember())
	p.joiners = append(p.joiners, m)
	s.heldOne()
}

// holdLeave holds m's departure with code. A member whose arrival is held
// too was never announced: it is taken out of the arrivals, and nothing
// is told (what it may resume from was kept with m.untold).
func (s *state) holdLeave(m *Member, code string) {
	p := &s.presence
	if m.held {
		i := slices.Index(p.joiners, m)
		p.joiners = slices.Delete(p.joiners, i, i+1)
		p.joined = slices.Delete(p.joined, i, i+1)
		m.held = false
		return
	}
	p.left = append(p.left, wire.Departure{Name: m.name, Code: code})
	p.leavers = append(p.leavers, m)
	s.heldOne()
}

// heldOne arms the window after a change is held, or tells what is held
// at once when there is enough of it for one event.
func (s *state) heldOne() {
	p := &s.presence
	if len(p.joined)+len(p.left) >= maxPresenceBatch {
		s.flushPresence()
		return
	}
	if p.armed {
		return
	}
	p.armed = true
	window := presenceWindow(p.window, len(s.members))
	if p.timer == nil {
		p.timer = time.NewTimer(window)
	} else {
		p.timer.Reset(window)
	}
}

// presenceWindow is how long a change is held at most in a room of n
// members: base, and base more for every windowPer members beyond the
// first windowPer, up to maxWindows times base.
func presenceWindow(base time.Duration, n int) time.Duration {
	return base * time.Duration(min(max(1, (n+windowPer-1)/windowPer), maxWindows))
}

// presenceDue is the channel on which Run learns that the window is over;
// nil (never ready) before any change was held.
func (s *state) presenceDue() <-chan time.Time {
	if s.presence.timer == nil {
		return nil
	}
	return s.presence.timer.C
}

// flushPresence makes what is held the room's next event and hands it to
// every member.
func (s *state) flushPresence() {
	p := &s.presence
	if p.armed {
		p.timer.Stop() // from Go 1.23 on, no stale tick is left to read
		p.armed = false
	}
	if len(p.joined) == 0 && len(p.left) == 0 && len(p.returners) == 0 {
		return
	}
	f := &wire.Frame{Kind: wire.KindPresence, Joined: p.joined, Left: p.left}
	for _, m := range p.joiners {
		m.held, m.untold = false, 0
	}
	for _, m := range p.returners {
		m.untold = 0
	}
	clear(p.joiners) // let the members be collected once they leave
	clear(p.leavers)
	clear(p.returners)
	p.joined, p.joiners, p.left, p.leavers, p.returners = nil, p.joiners[:0], nil, p.leavers[:0], p.returners[:0]
	s.broadcast(f)
}

// rosterChanged is called for every event made: one that may change who
// is announced, or how, makes the list be encoded again when next asked
// for.
func (s *state) rosterChanged(kind string) {
	switch kind {
	case wire.KindSay, wire.KindMe, wire.KindTopic, wire.KindOffer, wire.KindUnsend:
	default:
		s.presence.listValid = false
	}
}

// rosterList returns the announced roster encoded as a welcome's
// "members" (see wire.EncodeWithMembers), nil for none: in join order,
// every member the events have told of, which is everyone present and
// not hidden, but for those whose arrival is held, and those whose
// departure is, and the members present when the room last closed who
// are not back yet (see ghosts.go). It is the same bytes until the
// announced roster changes.
func (s *state) rosterList() []byte {
	p := &s.presence
	if p.listValid {
		return p.list
	}
	var list []byte
	if p.list != nil {
		list = p.list[:0]
	}
	n := 0
	add := func(m *Member) {
		if n == 0 {
			list = append(list, '[')
		} else {
			list = append(list, ',')
		}
		list = append(list, m.rosterEntry()...)
		n++
	}
	// Those no longer among the members, in the order they joined, as the
	// room's members are.
	leavers := p.leavers
	if len(s.ghosts.byKey) > 0 {
		leavers = append(slices.Clone(p.leavers), s.ghosts.live()...)
	}
	slices.SortFunc(leavers, func(a, b *Member) int { return cmp.Compare(a.order, b.order) })
	for _, m := range s.members {
		for len(leavers) > 0 && leavers[0].order < m.order {
			add(leavers[0])
			leavers = leavers[1:]
		}
		if !m.hidden && !m.held {
			add(m)
		}
	}
	for _, m := range leavers {
		add(m)
	}
	if n > 0 {
		list = append(list, ']')
	} else {
		list = nil
	}
	// Each welcome copies the list, so the next one may be built in the
	// same memory.
	p.list, p.listValid, p.listCount = list, true, n
	return list
}

// rosterCount is how many members rosterList lists.
func (s *state) rosterCount() int {
	s.rosterList()
	return s.presence.listCount
}

// sendMembers sends m the announced roster, in a members frame, once per
// connection: at this point of m's frames, so that the events m is sent
// after it change it as they change everyone's. A client keeps it up to
// date from the events, so has no need to ask twice; a second ask is
// answered with an error, not with another list, which would let one
// member make the host send the whole room again and again. Each ask
// after the first costs a line from m's budgets, as a blank line does:
// the error is small, but every ask is a turn of the room and a frame
// out, and a client asking in a loop is flooding the room like any other
// (past the budget it is refused, then kicked for flooding).
func (s *state) sendMembers(m *Member) {
	if m.gone {
		return
	}
	if m.membersSent {
		if err := s.allow(m); err != nil {
			s.reportError(call{from: m}, err)
			return
		}
		s.notifyError(m, 0, "the members were sent already: the events since then keep that list up to date")
		return
	}
	m.membersSent = true
	b, err := wire.EncodeWithMembers(&wire.Frame{Type: wire.TypeMembers}, s.rosterList())
	if err != nil {
		panic("room: " + err.Error())
	}
	s.deliver(m, b)
}

// wireMember is m as a welcome lists it.
func (m *Member) wireMember() wire.Member {
	return wire.Member{Name: m.name, Role: m.role, Away: m.away != "", Key: m.keyTag()}
}

// rosterEntry is m encoded as an element of a welcome's members, encoded
// again only when what it says has changed.
func (m *Member) rosterEntry() []byte {
	w := m.wireMember()
	if m.entry == nil || w != m.entryOf {
		b, err := wire.AppendMember(nil, w)
		if err != nil {
			panic("room: " + err.Error()) // strings and a bool always encode
		}
		m.entry, m.entryOf = b, w
	}
	return m.entry
}

// encodeWelcome encodes welcome with the announced roster as its members.
func (s *state) encodeWelcome(welcome *wire.Frame) []byte {
	b, err := wire.EncodeWithMembers(welcome, s.rosterList())
	if err != nil {
		panic("room: " + err.Error())
	}
	return b
}

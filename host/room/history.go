package room

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"time"

	"chatroom/host/wire"
)

// Defaults of Config.History and Config.Backlog.
const (
	// defaultHistory is enough to carry a member over a dropped Wi-Fi
	// connection in a busy room, and costs a few hundred kilobytes of
	// chat, once per room, not per member.
	defaultHistory = 2000
	// defaultBacklog is about a screenful and a half: enough for a
	// newcomer to see what the room is talking about.
	defaultBacklog = 50
)

// History is the room's latest events as the host saves them at a clean
// shutdown and gives back to [New] (as Config.Past) to continue the same
// run of numbers.
type History struct {
	Epoch string
	// Seq is the number of the room's last event; Events end with it,
	// unless the room keeps none.
	Seq uint64
	// Events are the events the room holds (see history), oldest first,
	// each exactly as members were sent it (one JSON line with its '\n'):
	// numbered in increasing order up to Seq, with gaps where a flood of
	// joins and leaves pushed some of those out, so that no message a
	// newcomer's backlog or a resume needs is lost to a restart.
	Events [][]byte
	// LostMessage is the number of the newest message the room no longer
	// holds, 0 if it has lost none: every message after it is in Events,
	// and a resume from before it is told that it missed some.
	LostMessage uint64
	// Resumable are the members who may resume, the oldest departed
	// first: those the connection was lost to, and those present when the
	// room closed.
	Resumable []Resumable
	// Present counts the last of Resumable that were in the room when
	// the history was taken for a checkpoint of its journal (see
	// Journal): a restart takes them, too, as members who may resume.
	// It is 0 in a history the room closed with.
	Present int
	// RosterKept is set by a room that closed cleanly, listing among
	// Resumable (with Name) every member present and listed that has a
	// key; RosterLost is then the number of the newest event that may
	// have changed who is present and that the room no longer holds: a
	// dropped join or leave, or, one after Seq, a close with a member
	// without a key present, whose going no one was told. A resume from
	// before it is
	// sent the list of members, whatever its client keeps; so is every
	// resume in a history without RosterKept (a crash, an older file).
	RosterKept bool   `json:",omitempty"`
	RosterLost uint64 `json:",omitempty"`
}

// Resumable is what the room keeps of a member with an identity key whose
// connection it lost, so that the member can resume: only that member,
// and only from when it was in the room. A member who quit, or was kicked
// or banned, is not kept, and one without a key cannot be told apart from
// anyone else; a resume point from any of them gets the backlog, as a
// newcomer does, rather than what was said while they were not there.
type Resumable struct {
	NameKey  string // NameKey of the member's name
	Identity string
	// Since is the number of the member's join event: it was in the room
	// for the events after it.
	Since uint64
	// Taken is the ref of the last line the room handled from the member.
	Taken uint64
	// PrivateSeq is the number of the last private frame the member was
	// sent, and Privates the latest of them, oldest first, to send again
	// those it did not get.
	PrivateSeq uint64
	Privates   []PrivateCopy
	// Untold is the number its welcome gave the presence event that was
	// to announce the member, when it left before the room told of it
	// (see presence.go); 0 otherwise. The room may have given the number
	// to another event since, which the member does not hold.
	Untold uint64 `json:",omitempty"`
	// Name, Role and Away are the member as the room listed it when it
	// closed with the member present (its name as shown, its role and
	// its away text), for the room that opens again to go on listing it
	// for a while (see ghosts.go); Name is "" for a member that had left.
	Name string `json:",omitempty"`
	Role string `json:",omitempty"`
	Away string `json:",omitempty"`

	// joined and left are when the member joined (first) and left, on the
	// room's clock, to tell a brief stay (see briefStay); a saved history
	// does not hold them.
	joined, left time.Time
	// order is its place in the room's departedOrder, which names it
	// while the two agree (see state.departed).
	order uint64
}

// PrivateCopy is a private frame as a member was sent it, kept for the
// member's resume: no history holds it, since no one else may see it.
type PrivateCopy struct {
	After uint64 // the number of the room's last event when it was sent (its Seq)
	Seq   uint64 // its number among the member's private frames (its PrivateSeq)
	Frame []byte
}

// maxPrivatesKept bounds the private frames kept for each member: enough
// for the private messages of an outage, at a few kilobytes a member.
// Those sent before the oldest event the history holds go sooner: a
// member away that long has missed events anyway.
const maxPrivatesKept = 20

// withPrivates places, among the public events of a replay (events the
// history holds, oldest first), the private frames the member has not got
// (numbered above seen), each right after the event that came before it,
// so that the member sees them where it would have.
func withPrivates(public []entry, privates []PrivateCopy, seen uint64) [][]byte {
	i := 0
	for i < len(privates) && privates[i].Seq <= seen {
		i++
	}
	out := make([][]byte, 0, len(public)+len(privates)-i)
	for _, e := range public {
		for ; i < len(privates) && privates[i].After < e.seq; i++ {
			out = append(out, privates[i].Frame)
		}
		out = append(out, e.frame)
	}
	for ; i < len(privates); i++ {
		out = append(out, privates[i].Frame)
	}
	return out
}

// entry is one event in the history.
type entry struct {
	frame []byte
	// message marks say and me events, which make up a newcomer's
	// backlog; joins, leaves and role changes are old news to one.
	message bool
	seq     uint64 // its number, set by history.add
}

// fifo is a queue of entries, oldest first.
type fifo struct {
	items []entry
	head  int // items[:head] are gone
}

func (q *fifo) len() int       { return len(q.items) - q.head }
func (q *fifo) at(i int) entry { return q.items[q.head+i] }
func (q *fifo) push(e entry)   { q.items = append(q.items, e) }

// front returns the number of the oldest entry, if there is one.
func (q *fifo) front() (uint64, bool) {
	if q.len() == 0 {
		return 0, false
	}
	return q.at(0).seq, true
}

// pop drops the oldest entry. The array is compacted once half of it is
// gone, so that a queue holds at most about twice its length.
func (q *fifo) pop() {
	q.items[q.head] = entry{} // let its frame be collected
	q.head++
	if q.head >= 32 && 2*q.head >= len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
}

// search returns the index of the first entry numbered seq or later.
func (q *fifo) search(seq uint64) int {
	i, _ := slices.BinarySearchFunc(q.items[q.head:], seq, func(e entry, seq uint64) int { return cmp.Compare(e.seq, seq) })
	return i
}

// history is the room's latest events: the latest limit messages (say and
// me), and the latest limit other events (joins, leaves, role changes)
// not older than the oldest message held, each bounded on its own. So
// joins and leaves, however many, push out only joins and leaves: the
// messages a newcomer's backlog and a resuming member need stay. Without a
// flood of them the history holds every event since the oldest message it
// holds; after one it has gaps where joins and leaves were dropped, which a
// replay skips (a client takes the events of a replay as they come, in
// increasing order, and the welcome lists who is present).
type history struct {
	limit    int // messages, and other events, held at most; 0: none
	messages fifo
	others   fifo
	// next is the number the next event added gets; lostMessage the
	// number of the newest message no longer held (0: none), so that a
	// resume from before it is told it missed something.
	next        uint64
	lostMessage uint64
	// lostRoster is the number of the newest event no longer held that
	// may have changed who is present (any but a message), 0 for none:
	// a resume from before it cannot rebuild the roster from the replay.
	lostRoster uint64
}

func (h *history) len() int { return h.messages.len() + h.others.len() }

// add makes e, the room's next event, the newest held.
func (h *history) add(e entry) {
	e.seq = h.next
	h.next++
	switch {
	case h.limit == 0:
		if e.message {
			h.lostMessage = e.seq
		} else {
			h.lostRoster = e.seq
		}
	case !e.message:
		h.others.push(e)
		if h.others.len() > h.limit {
			h.lostRoster = max(h.lostRoster, h.others.at(0).seq)
			h.others.pop()
		}
	default:
		h.messages.push(e)
		if h.messages.len() > h.limit {
			h.lostMessage = h.messages.at(0).seq
			h.messages.pop()
			// Joins and leaves from before the oldest message held are
			// of no use: a resume from there has missed messages anyway.
			oldest, _ := h.messages.front()
			for h.others.len() > 0 && h.others.at(0).seq < oldest {
				h.lostRoster = max(h.lostRoster, h.others.at(0).seq)
				h.others.pop()
			}
		}
	}
}

// oldest returns the number of the oldest event held, or the next event's
// when none is.
func (h *history) oldest() uint64 {
	oldest := h.next
	if seq, ok := h.messages.front(); ok {
		oldest = min(oldest, seq)
	}
	if seq, ok := h.others.front(); ok {
		oldest = min(oldest, seq)
	}
	return oldest
}

// since returns the events held numbered seq or later, oldest first.
func (h *history) since(seq uint64) []entry {
	i, j := h.messages.search(seq), h.others.search(seq)
	out := make([]entry, 0, h.messages.len()-i+h.others.len()-j)
	for i < h.messages.len() || j < h.others.len() {
		if j == h.others.len() || (i < h.messages.len() && h.messages.at(i).seq < h.others.at(j).seq) {
			out = append(out, h.messages.at(i))
			i++
		} else {
			out = append(out, h.others.at(j))
			j++
		}
	}
	return out
}

// isMessage reports whether events of kind are messages (say and me), which
// make up a newcomer's backlog.
func isMessage(kind string) bool {
	return kind == wire.KindSay || kind == wire.KindMe
}

// newEpoch returns a fresh epoch name: random, so that two runs of the room
// that lost their history never share one.
func newEpoch() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// loadHistory fills the history with saved events (see History): in
// increasing order, the last of which is number s.seq, and all after
// lostMessage. Each goes back to the list it was held in, under its own
// number, so that the room replays and sends the backlog as the room that
// saved them would have.
func (s *state) loadHistory(events [][]byte, lostMessage uint64) {
	s.history.lostMessage = lostMessage
	last := lostMessage
	// Every number missing from the events saved is an event dropped,
	// which may have changed who is present.
	s.history.lostRoster = lostMessage
	for _, b := range events {
		f, err := wire.Parse(b)
		if err != nil || f.Seq <= last || f.Seq > s.seq {
			// The host checked the file; were an event out of place or
			// unreadable here all the same, it is left out rather than
			// given a number it may not have had.
			continue
		}
		if f.Seq > last+1 {
			s.history.lostRoster = f.Seq - 1
		}
		last = f.Seq
		if f.Kind == wire.KindOffer && f.File != nil {
			// Numbers once shown are not given again (see offers.last).
			s.offers.last = max(s.offers.last, f.File.Number)
		}
		s.history.next = f.Seq
		s.history.add(entry{frame: b, message: isMessage(f.Kind)})
	}
	if last < s.seq {
		s.history.lostRoster = s.seq
	}
	s.history.next = s.seq + 1
}

// rosterReplayed reports whether a member resuming from resume (in this
// epoch), which the room lost as prior, is replayed every event that
// changed who is present since: then the roster its client held at the
// resume point, with the replay, is the room's.
func (s *state) rosterReplayed(resume *wire.Resume, prior Resumable) bool {
	return resume != nil && resume.Seq >= prior.Since && resume.Seq >= s.history.lostRoster
}

// catchUp returns the frames a joiner is sent right after its welcome, as
// the room stands before its join event: for a resume point in this epoch,
// every event held after it, with the private frames prior (the member as
// the room lost it) did not get among them (resumed); otherwise the
// backlog. missed counts the events between the point and the first one
// replayed when messages are among those no longer held. Joins and
// leaves that a flood of them pushed out from between messages are
// skipped and not counted: the welcome's list of members sums them up.
//
// A resume point beyond the room's last event cannot come from this epoch's
// room: only a broken client sends one. It is treated as no resume point at
// all, so that the member gets the backlog rather than a refusal it cannot
// act on, and its welcome does not say resumed, which tells a client that
// its numbering starts anew.
//
// Nothing before prior.Since, the number of the resuming member's first
// join, is replayed, whatever the resume point says.
func (s *state) catchUp(resume *wire.Resume, prior Resumable) (frames [][]byte, resumed bool, missed uint64) {
	if resume != nil && resume.Epoch == s.epoch && resume.Seq <= s.seq {
		from := max(resume.Seq, prior.Since) + 1
		held := s.history.since(from)
		if s.history.lostMessage >= from {
			next := s.seq + 1
			if len(held) > 0 {
				next = held[0].seq
			}
			missed = next - from
		}
		return withPrivates(held, prior.Privates, resume.Private), true, missed
	}
	if s.backlog <= 0 {
		return nil, false, 0
	}
	// The latest messages, oldest first.
	msgs := &s.history.messages
	n := min(s.backlog, msgs.len())
	frames = make([][]byte, 0, n)
	for i := msgs.len() - n; i < msgs.len(); i++ {
		frames = append(frames, msgs.at(i).frame)
	}
	return frames, false, 0
}

// snapshot returns the history as it can be saved: every event held, gaps
// and all, for a room given it to hold the same (see loadHistory).
func (s *state) snapshot() History {
	held := s.history.since(0)
	events := make([][]byte, 0, len(held))
	for _, e := range held {
		events = append(events, e.frame)
	}
	resumable := make([]Resumable, 0, len(s.departed))
	for _, k := range s.departedOrder {
		r, ok := s.departedAt(k)
		if !ok {
			continue
		}
		r.joined, r.left, r.order = time.Time{}, time.Time{}, 0
		resumable = append(resumable, r)
	}
	return History{Epoch: s.epoch, Seq: s.seq, Events: events, LostMessage: s.history.lostMessage, Resumable: resumable,
		RosterKept: s.rosterKept, RosterLost: s.history.lostRoster}
}

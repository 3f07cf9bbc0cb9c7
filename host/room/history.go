package room

import (
	"crypto/rand"
	"encoding/hex"

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
// shutdown and gives them back to [New] (as Config.Epoch, Config.Seq and
// Config.Events) to continue the same run of numbers.
type History struct {
	Epoch string
	// Seq is the number of the room's last event; Events end with it.
	Seq uint64
	// Events are the latest encoded events, oldest first, each exactly as
	// members were sent it (one JSON line with its '\n'), numbered
	// Seq-len(Events)+1 to Seq.
	Events [][]byte
	// Resumable are the members who may resume, the oldest departed
	// first: those the connection was lost to, and those present when the
	// room closed.
	Resumable []Resumable
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

// withPrivates places, among the public events of a replay that starts at
// event first, the private frames the member has not got (numbered above
// seen), each right after the event that came before it, so that the
// member sees them where it would have.
func withPrivates(public [][]byte, first uint64, privates []PrivateCopy, seen uint64) [][]byte {
	i := 0
	for i < len(privates) && privates[i].Seq <= seen {
		i++
	}
	if i == len(privates) {
		return public
	}
	out := make([][]byte, 0, len(public)+len(privates)-i)
	for i < len(privates) && privates[i].After < first {
		out = append(out, privates[i].Frame) // after events the member holds
		i++
	}
	for k, frame := range public {
		out = append(out, frame)
		for seq := first + uint64(k); i < len(privates) && privates[i].After <= seq; i++ {
			out = append(out, privates[i].Frame)
		}
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
}

// history is a ring of the room's latest events. The n-th oldest held is
// ring[(start+n)%len(ring)], and the newest is the room's event number
// state.seq, so an entry's number follows from its place.
type history struct {
	limit int // how many events it holds at most; 0: none
	ring  []entry
	start int
}

func (h *history) len() int { return len(h.ring) }

// at returns the i-th oldest entry held.
func (h *history) at(i int) entry {
	return h.ring[(h.start+i)%len(h.ring)]
}

func (h *history) add(e entry) {
	switch {
	case h.limit == 0:
	case len(h.ring) < h.limit:
		// Grown as events come, so a quiet room holds little.
		h.ring = append(h.ring, e)
	default:
		h.ring[h.start] = e
		h.start = (h.start + 1) % len(h.ring)
	}
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

// loadHistory fills the history with saved events, the last of which is
// number seq; only the latest limit are kept.
func (s *state) loadHistory(events [][]byte) {
	events = events[max(0, len(events)-s.history.limit):]
	for _, b := range events {
		f, err := wire.Parse(b)
		// The host checked the file; an event that does not parse here is
		// at worst left out of a backlog, never sent differently.
		s.history.add(entry{frame: b, message: err == nil && isMessage(f.Kind)})
	}
}

// catchUp returns the frames a joiner is sent right after its welcome, as
// the room stands before its join event: for a resume point in this epoch,
// every event after it (resumed), with missed counting those older than the
// history; otherwise the backlog.
//
// A resume point beyond the room's last event cannot come from this epoch's
// room: only a broken client sends one. It is treated as no resume point at
// all, so that the member gets the backlog rather than a refusal it cannot
// act on, and its welcome does not say resumed, which tells a client that
// its numbering starts anew.
//
// since is the number of the resuming member's first join: nothing before it
// is replayed, whatever the resume point says.
func (s *state) catchUp(resume *wire.Resume, since uint64) (frames [][]byte, resumed bool, missed uint64) {
	held := uint64(s.history.len())
	oldest := s.seq - held + 1 // the number of the oldest event held
	if resume != nil && resume.Epoch == s.epoch && resume.Seq <= s.seq {
		from := max(resume.Seq, since) + 1
		if from < oldest {
			missed = oldest - from
			from = oldest
		}
		for seq := from; seq <= s.seq; seq++ {
			frames = append(frames, s.history.at(int(seq-oldest)).frame)
		}
		return frames, true, missed
	}
	if s.backlog <= 0 {
		return nil, false, 0
	}
	// The latest messages, found from the newest back, sent oldest first.
	first := s.history.len()
	n := 0
	for i := s.history.len() - 1; i >= 0 && n < s.backlog; i-- {
		if s.history.at(i).message {
			first = i
			n++
		}
	}
	frames = make([][]byte, 0, n)
	for i := first; i < s.history.len(); i++ {
		if e := s.history.at(i); e.message {
			frames = append(frames, e.frame)
		}
	}
	return frames, false, 0
}

// snapshot returns the history as it can be saved.
func (s *state) snapshot() History {
	events := make([][]byte, s.history.len())
	for i := range events {
		events[i] = s.history.at(i).frame
	}
	resumable := make([]Resumable, 0, len(s.departedOrder))
	for _, k := range s.departedOrder {
		resumable = append(resumable, s.departed[k])
	}
	return History{Epoch: s.epoch, Seq: s.seq, Events: events, Resumable: resumable}
}

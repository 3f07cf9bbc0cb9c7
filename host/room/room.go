// Package room is a chat room's state and rules: who is in it, with which
// role, who is banned, and what each line a member types does.
//
// # Boundary
//
// The package does no I/O: it imports no net and opens no files. The host
// reads frames from connections and hands the room what members type
// ([Room.Say]) and when they go ([Room.Leave]); the room hands back, for each
// member, the frames to write first ([Member.TakeReplay]: the welcome and the
// backlog or the events it missed), a queue of encoded frames to write after
// them ([Member.Out]) and a last frame ([Member.Final]). What the room must
// remember across restarts (bans, ops, mutes, the moderation log, the
// topic) is
// loaded by the host ([Config.Bans] and its siblings) and saved through the
// [Store] it implements; the history of events is given to
// [New] and taken back after Run ([Room.History]) for the host to keep,
// and, as it happens, written through the [Journal] the host implements,
// before any member is handed it, so that a crash loses none of it.
// Files members offer are the host's to keep ([Files]): the room checks
// and numbers the offers, tells who may fetch what and when, and never
// touches a file's bytes (see files.go).
//
// # Concurrency
//
// One goroutine, the one running [Room.Run], owns all of the room's state and
// is the only one to read or change it; there are no locks around it. The
// methods called from connection goroutines send that goroutine a function
// to run on one channel, and Join waits for its answer. (Each member's
// [Outbox] has a mutex of its own, shared only by the room goroutine and
// that member's writer; the room's state is not behind it.) Because one
// goroutine numbers the events and appends each to the one log every
// member's outbox reads (see [Outbox]), every member sees the same events
// in the same order. The room does the work already queued in the same
// turn and publishes what the turn made at its end, once the journal has
// it (see state.publish).
//
// The room never waits for a member. Each member has a bounded outbox; a
// member whose outbox is full when the room hands it a frame has fallen too
// far behind and is removed (code "too-slow"), so one stalled connection
// cannot hold up the room or let its memory grow without bound.
package room

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"chatroom/host/wire"
)

// Config says how to run a room.
type Config struct {
	Name string // room's display name, shown in the welcome
	ID   string // room's id, shown in the welcome (see wire.Room)

	// Store keeps the lists and the moderation log across restarts; nil
	// means nothing is kept.
	Store Store
	// Bans, Ops, Mutes and ModLog are what Store kept, loaded at start.
	// Ops are the members made admins with /op, by identity key: each is
	// an admin again whenever it joins with that key. Mutes are the
	// members who may read but not speak. ModLog is the moderation log,
	// oldest first; the room keeps its last modLogKept entries for
	// /modlog.
	Bans   []Ban
	Ops    []Op
	Mutes  []Mute
	ModLog []ModEntry
	// Topic is the room's topic as Store kept it; one that the room would
	// not take from a member (see CheckTopic) is left out.
	Topic Topic
	// TopicByAnyone lets every member who may speak set the topic; without
	// it only admins may.
	TopicByAnyone bool

	// Outbox is the number of frames a member may have queued before it
	// is dropped as too slow; 0 means 1024. An outbox holds memory only
	// for the frames in it.
	Outbox int

	Now func() time.Time // the host's clock, for event times; nil means time.Now

	// Limits is how fast a member may send lines; zero means
	// DefaultLimits. A pasted block of Burst lines goes through at once.
	// The budget is kept by identity key (and, for a member without one,
	// by connection), and each address has one of addressShare times as
	// much, shared by everyone on it: reconnecting does not refill either.
	Limits wire.Limits
	// JoinLimits is how fast people may come in; a zero field means
	// DefaultJoinLimits'.
	JoinLimits JoinLimits

	// History is how many of the latest messages (say and me events) the
	// room keeps, to send a member that resumes what it missed and a
	// newcomer the backlog, and how many of the latest other events
	// (joins, leaves, role changes) since the oldest of them: each
	// bounded on its own, so that no number of joins and leaves pushes a
	// message out. 0 means 2000, and a negative number none.
	History int
	// Backlog is how many of the latest messages (say and me events) a
	// newcomer is sent after its welcome; 0 means 50, and a negative
	// number none.
	Backlog int

	// Past is the history the room continues, as [Room.History] returned
	// it: the host gives it back after a clean restart so that members
	// can resume across it, and newcomers get the same backlog; after a
	// crash, it is what [ReplayJournal] made of the journal. Its Epoch
	// names the run of event numbers (see wire.Resume); "" means a new
	// random one, and then its Resumable are ignored, having no run to
	// resume in. The host checks that its Events are events numbered in
	// increasing order, with gaps where joins and leaves were dropped,
	// the last one Seq and all after LostMessage; the room relies on it.
	Past History

	// PresenceAbove is how many members must be present for plain joins
	// and leaves to be held and told together, in one presence event
	// (see presence.go); 0 means 100, and a negative number never.
	// PresenceWindow is how long the first of them is held at most in a
	// room of up to 1,000 members, and how much longer for every 1,000
	// more, up to five times as long; 0 means a second.
	PresenceAbove  int
	PresenceWindow time.Duration

	// Journal, when set, is given every event and what a resume rests on
	// before any member is handed it, so that a restart after a crash can
	// continue Past's epoch (see Journal); nil means nothing is written
	// as it happens, and only a clean close keeps the history.
	Journal Journal

	// Files is the host's store of offered files; nil means the room
	// takes no files ("this room does not take files"). Offers are what
	// it holds at start, stored or not: the room knows them again, and
	// numbers new ones after the highest of them.
	Files  Files
	Offers []Offer

	// GhostGrace is how long the members present when the room last
	// closed (Past) are still listed as present, for them to come back
	// silently (see ghosts.go); 0 means 30 seconds.
	GhostGrace time.Duration
}

// ModEntry is one act of moderation: who did what to whom, and why.
type ModEntry struct {
	Time     time.Time `json:"time"`
	Action   string    `json:"action"` // kick, ban, unban, mute, unmute, op, deop
	By       string    `json:"by"`
	Target   string    `json:"target"`
	Identity string    `json:"identity,omitempty"` // the target's key, if known
	Reason   string    `json:"reason,omitempty"`
	Until    time.Time `json:"until,omitzero"`
}

// Topic is the room's topic: what it is about, shown to everyone who joins.
type Topic struct {
	Text string    `json:"text"`
	By   string    `json:"by,omitempty"`
	Time time.Time `json:"time,omitzero"`
}

// MaxTopic is the longest topic, in bytes: a line of a terminal or two,
// as IRC servers allow, and far under what an mDNS record can carry whole
// (the host cuts it there to fit).
const MaxTopic = 300

// CheckTopic returns, in words, why text may not be a topic, or "": the
// rules of a message (no control or misplaced invisible characters) and
// at most MaxTopic bytes.
func CheckTopic(text string) string {
	if len(text) > MaxTopic {
		return fmt.Sprintf("longer than %d bytes", MaxTopic)
	}
	cleaned, problem := cleanText(text)
	if problem == "" && cleaned != text {
		problem = "it contains a tab" // which the room would have made a space
	}
	return problem
}

// modLogKept bounds the entries the room holds for /modlog.
const modLogKept = 200

// DefaultLimits lets a pasted block of ten lines through at once, and then
// a line every half second, which no one typing reaches.
var DefaultLimits = wire.Limits{Burst: 10, PerSecond: 2}

// floodStrikes is how many lines refused for speed a member may send in a
// row before it is kicked for flooding: a client that paces itself never
// gets one, so strikes mean a client that ignores the limit.
const floodStrikes = 20

// Ban is one entry of the ban list. A member is refused if its name has the
// same [NameKey] as a ban's Name, if it connects from a ban's Addr, or if
// it presents a ban's Identity: a new name, or a new address, is not enough
// to come back.
type Ban struct {
	Name     string `json:"name"`               // the name as it was displayed
	Addr     string `json:"addr,omitempty"`     // IP address the member connected from ("" = name only)
	Identity string `json:"identity,omitempty"` // fingerprint of the member's identity key, if it had one
	// Expires ends the ban; zero means it lasts until an /unban.
	Expires time.Time `json:"expires,omitzero"`
	By      string    `json:"by"`
	Reason  string    `json:"reason,omitempty"`
	Time    time.Time `json:"time"`
}

// Op is a member made an admin with /op, remembered by its identity key.
type Op struct {
	Identity string    `json:"identity"` // fingerprint of the member's identity key
	Name     string    `json:"name"`     // its name when it was made an admin, to show
	By       string    `json:"by"`
	Time     time.Time `json:"time"`
}

// Mute is a member who may read but not speak. It matches the name it was
// made against (by [NameKey]), the member's identity key, and, as a ban
// does, the address it was made from when no one else in the room shared
// it, so that leaving and coming back, under a new name or without the
// key (a key costs nothing), does not lift it. The address never catches
// an admin or the owner (see state.muteCatches).
type Mute struct {
	Name     string    `json:"name"`
	Identity string    `json:"identity,omitempty"`
	Addr     string    `json:"addr,omitempty"` // IP address the member connected from ("" = name and key only)
	Until    time.Time `json:"until,omitzero"` // zero: until /unmute
	By       string    `json:"by"`
	Reason   string    `json:"reason,omitempty"`
	Time     time.Time `json:"time"`

	// nameKey is NameKey(Name), worked out once when the room takes the
	// mute (withNameKey): a muted member's every line is checked against
	// every mute.
	nameKey string
}

// withNameKey returns u with its name key worked out.
func (u Mute) withNameKey() Mute {
	u.nameKey = NameKey(u.Name)
	return u
}

// matches reports whether u holds against m by its name or key; its
// address is for state.muteCatches, which knows who is exempt from it.
func (u Mute) matches(m *Member) bool {
	return u.nameKey == m.key || (u.Identity != "" && u.Identity == m.identity)
}

const (
	// defaultOutbox is Config.Outbox's default: room enough for a burst of
	// a busy room, and a bound on what a stalled member can cost (about
	// 1024 short frames).
	defaultOutbox = 1024

	// eventQueue is how many requests (lines typed, joins, leaves) may wait
	// for the room goroutine before their senders block. Blocking there is
	// the backpressure on members who type faster than the room can serve.
	eventQueue = 256
)

// roomClosedText is the text of the closed frame every member is sent
// when the room closes, and of the refusal of a join after that.
const roomClosedText = "the room was closed by its host"

// departure is why the room sends a member away, as the two frames that
// say it (see state.sendAway): the closed frame the member's connection
// ends with, and the leave event the others get. Both carry code, by and
// reason; text, when set, is the closed frame's text in place of the
// reason, for the member alone.
type departure struct {
	code   string // wire.Code*
	by     string // the admin who sent the member away, if one did
	reason string
	text   string
}

// The ways a member is sent away with a fixed text. The others are told
// that a replaced connection was lost (see state.sendAway).
var (
	quitting   = departure{code: wire.CodeLeft, text: "you left the room"}
	fellBehind = departure{code: wire.CodeTooSlow, text: "you fell too far behind the room"}
	flooding   = departure{code: wire.CodeKicked, reason: "flooding"}
	replaced   = departure{code: wire.CodeReplaced, text: "you joined this room again from another connection, with the same name and key"}
)

// Room is a chat room. Create it with [New] and run it with [Room.Run]; its
// other methods may be called from any goroutine.
type Room struct {
	// events carries work for the room goroutine. Each function runs
	// there, alone, with the room's state.
	events chan func(*state)
	// done is closed when Run has returned, so that no method waits for a
	// room goroutine that is gone.
	done chan struct{}
	// state is touched only by the goroutine running Run.
	state *state
	// final is the history as Run left it, written before done is closed.
	final History
}

// New returns a room configured by cfg. It does nothing until [Room.Run].
func New(cfg Config) *Room {
	return &Room{
		events: make(chan func(*state), eventQueue),
		done:   make(chan struct{}),
		state:  newState(cfg),
	}
}

// Run owns the room until ctx is done. Then every member is closed with
// [wire.CodeRoomClosed] ("the room was closed by its host"), and Run
// returns. After that Join refuses with CodeRoomClosed and Say and Leave do
// nothing. Run must be called once.
func (r *Room) Run(ctx context.Context) {
	defer close(r.done)
	s := r.state
	s.startJournal()
	for {
		select {
		case <-ctx.Done():
			// What is held is told first, so that the history saved
			// holds the number a welcome gave.
			s.flushPresence()
			s.closeAll()
			r.final = s.snapshot()
			return
		case work := <-r.events:
			s.doWork(work, r.events)
		case <-s.presenceDue():
			s.flushPresence()
			s.endTurn()
		case <-s.ghostDue():
			s.endGrace()
			s.endTurn()
		}
	}
}

// maxWorkInTurn bounds the pieces of work the room does in one turn, so
// that the members' writers, and the journal, hear of them before long.
const maxWorkInTurn = 16

// doWork does work, and then whatever work is already queued, up to
// maxWorkInTurn in all, in one turn: what they hand out is published
// together (see publish), so that a busy room writes the journal and
// offers each member its events once for several messages, not once a
// message. Nothing waits for more work to come.
func (s *state) doWork(work func(*state), queued <-chan func(*state)) {
	for done := 1; ; done++ {
		work(s)
		// Members found too slow while handing out this work's frames are
		// removed only now, so that no fan-out loop sees the member list
		// change under it.
		s.dropTooSlow()
		if done == maxWorkInTurn {
			break
		}
		select {
		case work = <-queued:
			continue
		default:
		}
		break
	}
	s.endTurn()
}

// JoinRequest asks to admit a member.
type JoinRequest struct {
	Name string // requested name
	Addr string // IP address the connection came from (no port); "" for the host's own in-process member
	// Identity is the fingerprint of the member's identity key (its TLS
	// client certificate), "" when it presented none.
	Identity string
	Admin    bool // the host already verified the admin password
	// Owner marks the person running the host: role wire.RoleOwner; never
	// refused by bans; cannot be kicked, banned or deopped.
	Owner bool
	// Resume is the hello's resume point, nil when it had none. One in
	// another epoch, or beyond the room's last event (which only a broken
	// client can send), is taken as none: the member is a newcomer.
	Resume *wire.Resume
	// HeartbeatMS is the heartbeat interval the host keeps on this
	// connection, for the welcome to announce; 0 for none.
	HeartbeatMS int
	// KeepsRoster says the client keeps its roster across a resume
	// (wire.Frame.KeepsRoster): its welcome may leave the members out.
	KeepsRoster bool
	// AsksMembers says the client asks for the members when it needs them
	// (wire.Frame.AsksMembers): a big room's welcome leaves them out.
	AsksMembers bool
	// Removed, if set, is called once, on the room goroutine, when the room
	// removes the member (too slow, kicked, banned, left, lost, room
	// closed), just after its outbox is closed. It must not block. The host
	// uses it to bound how long the member's writer may still spend on its
	// last frames, even when it is stuck writing to a peer that has stopped
	// reading.
	Removed func()
}

// Join asks the room to admit a member. On success the member's first
// frames, the welcome and what follows it at once (the backlog, or the
// events since its resume point), are ready in [Member.TakeReplay], and its
// outbox holds what came after. On refusal it returns nil and the
// refusal frame (Type wire.TypeRefused, Code and Text) for the host to
// send. err is non-nil only when ctx ends first.
func (r *Room) Join(ctx context.Context, req JoinRequest) (*Member, *wire.Frame, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	type answer struct {
		member  *Member
		refusal *wire.Frame
		err     error
	}
	// Buffered, so the room goroutine never waits for a Join that gave up.
	reply := make(chan answer, 1)
	work := func(s *state) {
		if err := ctx.Err(); err != nil {
			// The joiner has given up: admitting it would only make the
			// others see a join and a leave of someone who never came.
			reply <- answer{err: err}
			return
		}
		m, refusal := s.join(req)
		// The welcome names the join's event: it is in the journal
		// before the joiner can read it.
		s.appendJournal()
		reply <- answer{member: m, refusal: refusal}
	}
	select {
	case r.events <- work:
	case <-r.done:
		return nil, roomClosedRefusal(), nil
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	select {
	case a := <-reply:
		return a.member, a.refusal, a.err
	case <-r.done:
		// The room may have answered just before it closed; an admitted
		// member is then already closed, with the room-closed Final, which
		// is the truth and what the host should send.
		select {
		case a := <-reply:
			return a.member, a.refusal, a.err
		default:
			return nil, roomClosedRefusal(), nil
		}
	case <-ctx.Done():
		// The room will still answer. If it admits the member, no one is
		// left to serve it: take it out again rather than leave a ghost.
		go func() {
			select {
			case a := <-reply:
				if a.member != nil {
					r.Leave(a.member, wire.CodeLost)
				}
			case <-r.done:
			}
		}()
		return nil, nil, ctx.Err()
	}
}

// Topic returns the room's topic as it is now, "" for none. It may be
// called from any goroutine.
func (r *Room) Topic() string { return *r.state.shownTopic.Load() }

// History returns the room's history as Run left it, for the host to save;
// ok is false while Run has not returned, when the history may still
// change. The events are shared with no one who changes them.
func (r *Room) History() (h History, ok bool) {
	select {
	case <-r.done:
		return r.final, true
	default:
		return History{}, false
	}
}

func roomClosedRefusal() *wire.Frame {
	return &wire.Frame{Type: wire.TypeRefused, Code: wire.CodeRoomClosed, Text: roomClosedText}
}

// Say hands the room one line the member typed (the text of a "say" frame)
// with the frame's ref, which the message event, private message or
// notices that answer the line carry back (0: none). It blocks only while
// the room's event channel is full, which slows the member's reader down to
// the room's pace, and returns at once when the room is gone. Lines from a
// member the room has removed are ignored.
func (r *Room) Say(m *Member, text string, ref uint64) {
	r.send(func(s *state) { s.say(m, text, ref) })
}

// AskMembers asks the room to send m the members it lists, which its
// welcome left out (wire.Frame.MembersOnRequest): once per connection,
// in m's order of frames, as they are at that point among the events.
func (r *Room) AskMembers(m *Member) {
	r.send(func(s *state) { s.sendMembers(m) })
}

// Leave tells the room that the member's connection ended; code is
// [wire.CodeLost], [wire.CodeLeft] or [wire.CodeProtocol], and is what the
// other members are told. The member gets no Final. Leave does nothing when
// the room has already removed the member.
func (r *Room) Leave(m *Member, code string) {
	r.send(func(s *state) { s.leave(m, code) })
}

// send queues work for the room goroutine, or drops it when the room is
// gone: the room's state no longer matters then.
func (r *Room) send(work func(*state)) {
	select {
	case r.events <- work:
	case <-r.done:
	}
}

// Member is someone in the room, as the host serving its connection sees
// it.
type Member struct {
	// Set at join and never changed, so safe to read anywhere.
	addr     string
	identity string
	out      *Outbox
	removed  func() // JoinRequest.Removed

	// replay is the welcome and the frames sent right after it, set by
	// the room goroutine before Join returns and then only taken by the
	// member's writer (see TakeReplay).
	replay [][]byte

	// final is written by the room goroutine before it closes out; the
	// outbox's lock is what makes it safe to read once Take reports out
	// closed.
	final []byte

	// shownName is name, for Name to read from any goroutine: /nick
	// changes name on the room goroutine while the host may be logging.
	shownName atomic.Pointer[string]

	// Owned by the room goroutine.
	name string
	key  string // NameKey(name)
	role string
	// away says why the member is away (/away); "" when it is not.
	away string
	// changes is the member's budget of changes the others are told of:
	// its name, its away text, the topic (see changeLimits).
	changes bucket
	// lines is the member's line budget when it has no identity key (see
	// Config.Limits); strikes, its lines refused in a row.
	lines   bucket
	strikes int
	// taken is the ref of the last line the room handled from the member;
	// since, the number of its join event (of its first connection, when
	// it resumed).
	taken uint64
	since uint64
	// privateSeq numbers the private frames the member is sent; privates
	// are the latest of them (see Resumable).
	privateSeq uint64
	privates   []PrivateCopy
	// hidden is set for a member who joined while muted: the others were
	// not told it joined, are not told it leaves, and do not have it in
	// their welcome's members or /who (admins see it there), so that
	// reconnecting under chosen names is no way for a muted member to put
	// words on everyone's screen. Every member is sent every event, in
	// order (a client takes a gap for a broken room), so there is no event
	// for admins alone: a hidden member is shown to everyone, with a join
	// event, only once it may speak (its mute lifted or over) or is given
	// a role. Its own welcome then stands for the room's latest event
	// rather than for its join, which its client takes as held: the one
	// cost, to a muted member, is that event when it would have been the
	// last of its backlog or of what it missed.
	hidden bool
	// joined is when the member joined (first, when it resumed), on the
	// room's clock; zero when the room does not know.
	joined time.Time
	// gone is set when the room stops handing the member frames: when it
	// is removed, or, for a member found too slow, as soon as it is found,
	// so that it gets nothing more while it waits to be removed.
	gone bool
	// held is set while the member's arrival waits to be told in a
	// presence event; order is its place in the room's join order (see
	// presence.go).
	held  bool
	order uint64
	// membersSent: the member was sent the members on its connection,
	// in its welcome or when it asked (sendMembers).
	membersSent bool
	// untold is, while held, the number its welcome gave the presence
	// event to come (see Resumable.Untold).
	untold uint64
	// entry is the member as a welcome lists it, encoded, for what
	// entryOf says (see rosterEntry).
	entry   []byte
	entryOf wire.Member
}

// Name returns the member's name as it is displayed now (see /nick).
func (m *Member) Name() string {
	if p := m.shownName.Load(); p != nil {
		return *p
	}
	return ""
}

// Out is the member's outbox: its encoded frames, each one JSON line
// including its '\n', in order. The same []byte is shared by all members
// that get a frame: never modify it. The outbox is closed when the room
// removes the member.
func (m *Member) Out() *Outbox { return m.out }

// TakeReplay returns the frames to write before any from Out: the welcome,
// then the backlog or the events since the member's resume point, oldest
// first. They are handed over apart from the outbox so that a replay of the
// whole history never counts against the outbox's bound, and they are
// shared with the room's history: never modify them. It returns them once,
// and nil after, so that the member holds them no longer than its writer
// needs; call it from one goroutine, after Join returned the member.
func (m *Member) TakeReplay() [][]byte {
	r := m.replay
	m.replay = nil
	return r
}

// Final returns the encoded frame to write after Out is drained and closed
// (a wire.TypeClosed frame: kicked, banned, too-slow, room-closed, left), or
// nil when the member's connection simply ended. It may be shared: never
// modify it. Call it only after Out's Take has reported it closed.
func (m *Member) Final() []byte { return m.final }

package room

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"chatroom/host/wire"
)

// state is everything the room knows. Only the goroutine running Room.Run
// touches it, so none of it is locked.
type state struct {
	name   string
	id     string
	now    func() time.Time
	store  Store
	outbox int
	// events is the log every member's outbox reads the room's events
	// from (see Outbox).
	events *broadcastLog
	limits wire.Limits // as the welcome announces them
	held   wire.Limits // as the line budgets keep them: HeldLimits(limits)

	seq     uint64             // number of the last event
	members []*Member          // in join order, which the welcome and /who show
	byKey   map[string]*Member // by NameKey
	bans    []Ban

	// tooSlow holds members whose outbox was full when a frame was handed
	// to them, in the order they were found, until Run removes them after
	// the work at hand (see dropTooSlow).
	tooSlow []*Member

	topic         Topic
	topicByAnyone bool // see Config.TopicByAnyone
	// shownTopic is topic's text, for Room.Topic to read from any
	// goroutine (the host advertises it).
	shownTopic atomic.Pointer[string]
	// ownerKey is the NameKey of the owner's name since it first joined,
	// "" before: no one else may take it with /nick, even while the owner
	// is away.
	ownerKey string

	ops    []Op // admins by key (see Config.Ops)
	mutes  []Mute
	modLog []ModEntry // the latest entries, oldest first

	epoch   string
	history history
	backlog int // messages a newcomer is sent; 0: none

	// departed holds the members who may resume (by departedKey), and
	// departedOrder the order they left in, so that the oldest are
	// forgotten past maxDeparted. A member forgotten (back, or pushed
	// out) leaves departed at once and departedOrder only once a good
	// share of it has (departedStale), so that thousands resuming after a
	// restart cost the room no more than one each: an entry of
	// departedOrder stands for its member while its order is the one
	// departed holds (departedAt).
	departed      map[string]Resumable
	departedOrder []departedEntry
	departedStale int
	departedNext  uint64
	// departedBound is how many of them the room keeps: maxDeparted, or
	// more when the room closes or opens again with more members who may
	// resume (see closeAll and newState).
	departedBound int

	mod moderation // what moderation keeps beyond the lists (see notice.go)

	presence presence    // joins and leaves held in a big room, and the welcome's list (see presence.go)
	journal  *journaling // see Journal
	ghosts   ghosts      // the members present when the room last closed, not back yet (see ghosts.go)
	// rosterKept is set when the room has closed (History.RosterKept).
	rosterKept bool

	budgets    budgets // of lines and joins, across connections
	joinLimits JoinLimits

	// keptPrivateBytes is the size of the private frames kept for members
	// to resume with (Member.privates, Resumable.Privates), present and
	// departed, which MaxKeptPrivateBytes bounds; privatesCursor is the
	// present member that boundKeptPrivates last took them from.
	keptPrivateBytes int
	privatesCursor   int

	files  Files  // nil: the room takes no files
	offers offers // the files on offer (see files.go)
}

// maxDeparted bounds what the room remembers of members who left: a
// member resumes within minutes, and by then few others have left.
const maxDeparted = 1024

func departedKey(nameKey, identity string) string { return nameKey + "\x00" + identity }

// mayResume keeps m as a member who may resume (see Resumable).
func (s *state) mayResume(m *Member) {
	if m.identity == "" {
		return // a member without a key cannot be told apart from another
	}
	s.keepResumable(Resumable{NameKey: m.key, Identity: m.identity, Since: m.since, Taken: m.taken,
		PrivateSeq: m.privateSeq, Privates: m.privates, Untold: m.untold, joined: m.joined, left: s.now()})
	s.journalResumable(m)
}

func (s *state) keepResumable(r Resumable) {
	if s.departed == nil {
		s.departed = make(map[string]Resumable)
	}
	k := departedKey(r.NameKey, r.Identity)
	if old, ok := s.departed[k]; ok {
		s.keptPrivateBytes -= privatesSize(old.Privates)
		r.order = old.order // it keeps its place
	} else {
		s.departedNext++
		r.order = s.departedNext
		s.departedOrder = append(s.departedOrder, departedEntry{k, r.order})
	}
	s.departed[k] = r
	s.keptPrivateBytes += privatesSize(r.Privates)
	for len(s.departed) > s.departedBound {
		s.forgetOneDeparted()
	}
	s.boundKeptPrivates(nil)
}

// departedEntry is a place in departedOrder: the key of a member who may
// resume, and its order, which tells it from a later one under the key.
type departedEntry struct {
	key   string
	order uint64
}

// departedAt returns the member that e stands for, if it still does.
func (s *state) departedAt(e departedEntry) (Resumable, bool) {
	r, ok := s.departed[e.key]
	return r, ok && r.order == e.order
}

// takeResumable returns, and forgets, the member with nameKey and identity
// who may resume.
func (s *state) takeResumable(nameKey, identity string) (Resumable, bool) {
	k := departedKey(nameKey, identity)
	r, ok := s.departed[k]
	if !ok || identity == "" {
		return Resumable{}, false
	}
	s.forgetDeparted(k)
	return r, true
}

func newState(cfg Config) *state {
	s := &state{
		name:       cfg.Name,
		id:         cfg.ID,
		now:        cfg.Now,
		store:      cfg.Store,
		outbox:     cfg.Outbox,
		byKey:      make(map[string]*Member),
		bans:       slices.Clone(cfg.Bans),
		ops:        slices.Clone(cfg.Ops),
		mutes:      make([]Mute, len(cfg.Mutes)),
		modLog:     slices.Clone(cfg.ModLog[max(0, len(cfg.ModLog)-modLogKept):]),
		budgets:    newBudgets(),
		joinLimits: cfg.JoinLimits.withDefaults(),

		topicByAnyone: cfg.TopicByAnyone,
		presence:      newPresence(cfg.PresenceAbove, cfg.PresenceWindow),
		files:         cfg.Files,
		offers:        newOffers(cfg.Offers),
	}
	if CheckTopic(cfg.Topic.Text) == "" {
		s.topic = cfg.Topic
	}
	shown := s.topic.Text // a copy: s.topic changes on the room goroutine
	s.shownTopic.Store(&shown)
	if s.now == nil {
		s.now = time.Now
	}
	if s.store == nil {
		s.store = unsaved{}
	}
	s.limits = cfg.Limits
	if s.limits.Burst <= 0 || s.limits.PerSecond <= 0 {
		s.limits = DefaultLimits
	}
	s.held = HeldLimits(s.limits)
	if s.outbox <= 0 {
		s.outbox = defaultOutbox
	}
	s.events = newBroadcastLog(s.outbox)
	for i, u := range cfg.Mutes {
		s.mutes[i] = u.withNameKey()
	}
	s.epoch = cfg.Past.Epoch
	if s.epoch == "" {
		s.epoch = newEpoch()
	}
	s.seq = cfg.Past.Seq
	switch {
	case cfg.History == 0:
		s.history.limit = defaultHistory
	case cfg.History > 0:
		s.history.limit = cfg.History
	}
	switch {
	case cfg.Backlog == 0:
		s.backlog = defaultBacklog
	case cfg.Backlog > 0:
		s.backlog = cfg.Backlog
	}
	s.loadHistory(cfg.Past.Events, cfg.Past.LostMessage)
	s.journal = newJournaling(cfg.Journal, s.history.limit)
	// Every member the last run kept may resume, however many were in the
	// room when it closed: they all come back at once after a restart. The
	// host bounds what it loads.
	s.departedBound = maxDeparted
	if cfg.Past.Epoch != "" {
		s.departedBound = max(maxDeparted, len(cfg.Past.Resumable))
		for _, r := range cfg.Past.Resumable {
			s.keepResumable(r)
		}
		lost := cfg.Past.RosterLost
		if !cfg.Past.RosterKept {
			lost = s.seq + 1 // who was present at the end may have left untold
		}
		s.history.lostRoster = max(s.history.lostRoster, min(lost, s.seq+1))
		s.loadGhosts(cfg.Past.Resumable, cfg.GhostGrace)
	}
	return s
}

// join admits a member, or returns the refusal to send it.
func (s *state) join(req JoinRequest) (*Member, *wire.Frame) {
	if err := ValidateName(req.Name); err != nil {
		return nil, refusal(wire.CodeNameInvalid, err.Error())
	}
	key := NameKey(req.Name)
	if !req.Owner {
		// An address ban never shuts out an admin (the host checked the
		// password) or a key made an admin with /op: it is for strangers
		// behind the address, and an admin's own address may be one.
		addr := req.Addr
		if req.Admin || s.isOp(req.Identity) {
			addr = ""
		}
		switch ban, how := s.banAtJoin(req.Name, key, addr, req.Identity); how {
		case banTheirs:
			return nil, refusal(wire.CodeBanned, withReason("you are banned from this room"+untilText(s.now(), ban.Expires), shortText(ban.Reason, maxReason)))
		case banLookAlike:
			// Someone else's ban: its reason and end are not this
			// person's to read, and a "banned" code would have a client
			// give up rather than ask for another name.
			return nil, refusal(wire.CodeNameTaken, lookAlikeOfBannedText(req.Name))
		}
	}
	// A name held for a member coming back after a restart is that
	// member's alone, by its key (see ghosts.go).
	ghost, ghostHolds := s.ghostHolding(key)
	if ghostHolds && !ghostFor(ghost, req) {
		return nil, refusal(wire.CodeNameTaken, nameTakenText(req.Name, ghost.name))
	}
	if tooMany := s.admit(req, key); tooMany != nil {
		return nil, tooMany
	}
	if old, taken := s.byKey[key]; taken {
		if req.Identity == "" || old.identity != req.Identity {
			return nil, refusal(wire.CodeNameTaken, nameTakenText(req.Name, old.name))
		}
		// The same person, by key, under the same name: a member whose
		// connection broke and who reconnects before the host noticed
		// (which can take a heartbeat timeout). The new connection takes
		// the place of the old one, which is told why and not to come
		// back by itself, so two clients of one person cannot keep
		// replacing each other.
		s.sendAway(old, replaced)
	}

	m := &Member{
		name:     req.Name,
		key:      key,
		addr:     req.Addr,
		identity: req.Identity,
		out:      newLoggedOutbox(s.outbox, s.events),
		removed:  req.Removed,
		role:     wire.RoleMember,
		joined:   s.now(),
	}
	m.setName(req.Name, key)
	switch {
	case req.Owner:
		m.role = wire.RoleOwner
		s.ownerKey = key
	case req.Admin, s.isOp(req.Identity):
		m.role = wire.RoleAdmin
	}
	m.hidden = s.hiddenAtJoin(m)
	// A member back after a restart takes its place silently, as the
	// others still list it; one that comes back under another spelling
	// of its name, or hidden, is told as gone first, and joins as anyone.
	returning := ghostHolds && returns(ghost, m)
	if returning {
		s.takeGhost(ghost)
		m.away = ghost.away
	} else if ghostHolds {
		s.ghostLeaves(ghost)
	}
	// In a big room the arrival is held, to be told with others in one
	// presence event (see presence.go); otherwise what is held is told
	// first, so that the replay and the welcome come after it.
	held := !m.hidden && !returning && s.holding()
	if !m.hidden && !held && !returning {
		s.flushPresence()
	}

	// A resume point is honoured only from a member the room lost (see
	// Resumable), and only from when it was in the room; anyone else is a
	// newcomer, and gets the backlog.
	prior, known := s.takeResumable(key, req.Identity)
	resume := untoldResume(req.Resume, prior)
	if !known {
		resume = nil
	}

	// What the joiner missed or should see first is everything before its
	// join event, so it is taken before that event is made, which could
	// push the oldest event out of the history.
	replay, resumed, missed := s.catchUp(resume, prior)
	if m.hidden {
		replay = s.withoutLatestEvent(replay)
	}

	// The join is event N for the others and the welcome's Seq for the
	// joiner, which is not sent the event: the welcome stands for it, and
	// the joiner's next event is N+1. The welcome lists the room as it is
	// at N, so it is built before the fan-out can find anyone too slow.
	//
	// A muted member joins hidden (see Member.hidden): there is no join
	// event, and the welcome stands for the room's last event instead. A
	// held arrival has no join event either: its welcome has the number
	// of the presence event to come, which it is sent; so has a member
	// back after a restart.
	var join []byte
	if !m.hidden && !held && !returning {
		join = s.event(&wire.Frame{Kind: wire.KindJoin, Name: m.name, Role: m.role, Key: m.keyTag()})
	}
	m.since = s.seq
	welcomeSeq := s.seq
	if held || returning {
		welcomeSeq = s.seq + 1
	}
	if resumed {
		m.since, m.taken = prior.Since, prior.Taken
		s.resumeFrom(m, prior)
	}
	s.journalJoin(m, resumed)
	s.addMember(m)
	welcome := &wire.Frame{
		Type:     wire.TypeWelcome,
		Version:  wire.Version,
		Room:     &wire.Room{Name: s.name, ID: s.id, Topic: s.topic.Text},
		You:      &wire.Member{Name: m.name, Role: m.role, Away: m.away != "", Key: m.keyTag()},
		Seq:      welcomeSeq,
		Commands: Commands(),
		Limits:   &s.limits,

		Epoch:       s.epoch,
		Resumed:     resumed,
		Missed:      missed,
		HeartbeatMS: req.HeartbeatMS,
	}
	if resumed {
		welcome.Taken = prior.Taken
	} else {
		welcome.Backlog = len(replay) // a backlog is events only
	}
	if isAdminRole(m.role) {
		welcome.Bans = s.banNames()
	}
	// A client that keeps its roster across a resume holds the room's
	// when every event that changed it since its resume point is in the
	// replay: the list is left out.
	omitMembers := req.KeepsRoster && resumed && !m.hidden && s.rosterReplayed(resume, prior)
	// The welcome and the replay go to the writer ahead of the outbox:
	// the replay can be the whole history, more than an outbox holds, and
	// must not get the member dropped as too slow before it has read a
	// thing. Everything later goes through the outbox, so the member gets
	// all of it in the room's order.
	var welcomeFrame []byte
	switch {
	case omitMembers:
		welcome.MembersOmitted = true
		welcomeFrame = encode(welcome)
	case req.AsksMembers && s.rosterCount() > wire.MembersInWelcome:
		// In a big room, sending every joiner everyone would be most of
		// what a join costs (see wire.MembersInWelcome): the client asks
		// when it needs them (sendMembers).
		welcome.MembersOnRequest = true
		welcome.MemberCount = s.rosterCount()
		welcomeFrame = encode(welcome)
	default:
		welcomeFrame = s.encodeWelcome(welcome)
		m.membersSent = true
	}
	m.replay = append(make([][]byte, 0, 1+len(replay)), welcomeFrame)
	m.replay = append(m.replay, replay...)
	if join != nil {
		s.fanOutExcept(join, m)
	}
	if held {
		s.holdJoin(m)
	}
	if returning {
		s.returnGhost(m)
		if m.role != ghost.role {
			// Told after the presence event its welcome stands for; by
			// no one: it came back as it now is.
			s.broadcast(&wire.Frame{Kind: wire.KindRole, Name: m.name, Role: m.role})
		}
	}
	return m, nil
}

func refusal(code, text string) *wire.Frame {
	return &wire.Frame{Type: wire.TypeRefused, Code: code, Text: text}
}

// withReason appends "(reason)" to text when there is a reason.
func withReason(text, reason string) string {
	if reason == "" {
		return text
	}
	return text + " (" + reason + ")"
}

func (s *state) addMember(m *Member) {
	s.presence.joins++
	m.order = s.presence.joins
	s.publish()          // what came before its join is not its
	m.out.readFromHere() // it is handed the events from now on
	s.members = append(s.members, m)
	s.byKey[m.key] = m
}

// keyTag is the tag of m's identity key, as /whois shows it, or "" for a
// member without one. The welcome and the join and nick events carry it,
// so that a member can tell the same person under another name.
func (m *Member) keyTag() string {
	if m.identity == "" {
		return ""
	}
	return wire.KeyTag(m.identity)
}

// setName gives m name, whose NameKey is key. It does not touch the
// room's index of names (see state.rename).
func (m *Member) setName(name, key string) {
	m.name, m.key = name, key
	m.shownName.Store(&name)
}

// lookup finds the member called name (compared by NameKey).
func (s *state) lookup(name string) (*Member, bool) {
	m, ok := s.byKey[NameKey(name)]
	if !ok || m.gone {
		return nil, false
	}
	return m, true
}

// How a ban meets someone joining (see banAtJoin).
const (
	banNone      = iota
	banTheirs    // the ban is on them: their name as typed, key or address
	banLookAlike // their name only looks like a banned name
)

// banAtJoin returns the ban that keeps out someone joining as name (whose
// NameKey is key) from addr with identity, and whether it is theirs: it
// holds their key or their address, or their name as they typed it (but
// for case and width, see sameName). A name that only looks like a banned
// one is refused as a look-alike, so that an innocent Ian, when lan is
// banned, is not told he is banned nor shown the other's reason; a ban
// that is theirs comes first.
func (s *state) banAtJoin(name, key, addr, identity string) (Ban, int) {
	s.pruneBans()
	how, found := banNone, Ban{}
	for _, b := range s.bans {
		switch {
		case identity != "" && b.Identity == identity, addr != "" && b.Addr == addr,
			NameKey(b.Name) == key && sameName(b.Name, name):
			return b, banTheirs
		case how == banNone && NameKey(b.Name) == key:
			how, found = banLookAlike, b
		}
	}
	return found, how
}

// lookAlikeOfBannedText is the refusal of name, which looks like a banned
// name: which one is not said, as bans are the admins' knowledge.
func lookAlikeOfBannedText(name string) string {
	return fmt.Sprintf("the name %q looks like a banned name", name)
}

// banFor returns the ban that keeps out a member with name key key
// connecting from addr with the identity key identity, if any.
func (s *state) banFor(key, addr, identity string) (Ban, bool) {
	s.pruneBans()
	for _, b := range s.bans {
		if NameKey(b.Name) == key || (addr != "" && b.Addr == addr) || (identity != "" && b.Identity == identity) {
			return b, true
		}
	}
	return Ban{}, false
}

// say handles one line member m typed, whose say frame had the given ref.
func (s *state) say(m *Member, line string, ref uint64) {
	if m.gone {
		return // removed while its reader was still reading
	}
	s.journalTaken(m, ref)
	m.taken = max(m.taken, ref)
	c := call{from: m, ref: ref}
	if err := s.handle(c, line); err != nil {
		s.reportError(c, err)
	}
}

// handle does line, typed by c.from, or returns why not.
func (s *state) handle(c call, line string) error {
	// A blank line too: an empty frame costs the room as much.
	if err := s.allow(c.from); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(line) == "":
		// An empty line is a slip of the finger, not something to show.
		return nil
	case strings.HasPrefix(line, "//"):
		return s.message(c, wire.KindSay, line[1:])
	case strings.HasPrefix(line, "/"):
		return s.command(c, line[1:])
	default:
		return s.message(c, wire.KindSay, line)
	}
}

// reportError tells the member whose line c was why it was not done: the
// one place where a line's failure reaches the member. A userError is
// shown as it reads; any other error was not written for the member (it
// may hold what only the host should know), and is not shown.
func (s *state) reportError(c call, err error) {
	if c.from.gone {
		return // the line sent its member away (see allow): no one to tell
	}
	var ue userError
	if !errors.As(err, &ue) {
		ue = "the room could not do that"
	}
	s.notifyError(c.from, c.ref, string(ue))
}

// message posts text from c.from to everyone as an event of the given kind
// (say or me), or returns why not.
func (s *state) message(c call, kind, text string) error {
	if err := s.maySpeak(c.from); err != nil {
		return err
	}
	text, problem := cleanText(text)
	if problem != "" {
		return userError("message not sent: " + problem)
	}
	s.broadcast(&wire.Frame{Kind: kind, From: c.from.name, Text: text, Ref: c.ref})
	return nil
}

// cleanText returns text as it may be shown to others, or, when it may not,
// the problem in words. Tabs become spaces (a pasted tab is harmless, and
// terminals expand it unpredictably); any other control character is
// refused rather than removed, since it could move a reader's cursor or
// hide part of the line, and a silent change would show something other
// than what was typed. Invisible characters are refused likewise, but
// where they belong (see invisibleProblem).
func cleanText(text string) (string, string) {
	if len(text) > wire.MaxText {
		return "", fmt.Sprintf("longer than %d bytes", wire.MaxText)
	}
	if !utf8.ValidString(text) {
		// Frames from the network are checked by wire; the host's own
		// member is not, and JSON would turn bad bytes into U+FFFD.
		return "", "it is not valid UTF-8"
	}
	text = strings.ReplaceAll(text, "\t", " ")
	if strings.IndexFunc(text, unicode.IsControl) >= 0 {
		return "", "it contains control characters"
	}
	if problem := invisibleProblem(text); problem != "" {
		return "", problem
	}
	return text, ""
}

// leave removes m, whose connection ended, and tells the others why.
func (s *state) leave(m *Member, code string) {
	if m.gone {
		return
	}
	s.depart(m, nil, wire.Frame{Kind: wire.KindLeave, Code: code})
}

// event turns f into the room's next event: numbered, stamped with the
// host's time and encoded once, for every member to get the same bytes,
// and kept in the history as those bytes.
func (s *state) event(f *wire.Frame) []byte {
	if f.Kind != wire.KindPresence {
		s.flushPresence() // what is held happened first
	}
	s.rosterChanged(f.Kind)
	s.seq++
	f.Type = wire.TypeEvent
	f.Seq = s.seq
	f.Time = s.now()
	b := encode(f)
	s.history.add(entry{frame: b, message: isMessage(f.Kind)})
	s.journalEvent(b)
	return b
}

// broadcast makes f the room's next event and hands it to every member.
func (s *state) broadcast(f *wire.Frame) {
	s.fanOut(s.event(f))
}

// fanOut hands frame to every member: appended once to the room's log,
// which every outbox reads (see Outbox), and published with whatever else
// the room hands out in the same turn (see publish).
func (s *state) fanOut(frame []byte) {
	if s.events.append(frame) >= s.maxUnpublished() {
		s.publish()
	}
}

// maxUnpublished bounds the events a turn holds back: a member that was
// just under its outbox's limit when they were appended must not find the
// log's ring (twice the limit) overtaken when they are published.
func (s *state) maxUnpublished() int { return max(s.outbox/2, 1) }

// endTurn ends the room's turn: the room is settled, and the journal may
// take a checkpoint (endWork).
func (s *state) endTurn() {
	s.settle()
	s.endWork()
}

// settle removes the members found too slow and publishes what the room
// has handed out: every member then holds everything the work so far
// made (a test's sync settles before it answers).
func (s *state) settle() {
	for {
		s.dropTooSlow() // whose leave events are then published
		s.publish()
		if len(s.tooSlow) == 0 { // the publish found none too slow
			return
		}
	}
}

// publish hands the members what the room's log holds since the last
// publish, after the journal has it (see Journal), with one offer to each
// member however many events it is. It must come before anything else
// reaches an outbox (its own frames, its close, a new member's start),
// so that each comes in the room's order; the room publishes at the end
// of every turn.
func (s *state) publish() {
	if s.events.unpublished() == 0 {
		return
	}
	s.appendJournal() // before anyone can have it (see Journal)
	from, to := s.events.publish()
	for _, m := range s.members {
		if m.gone {
			continue
		}
		if m.out.log != s.events {
			// An outbox a test built, of its own frames only.
			frames, _ := s.events.read(nil, from, to)
			for _, f := range frames {
				s.deliverNow(m, f)
			}
			continue
		}
		if !m.out.offer(from, to) {
			m.gone = true
			s.tooSlow = append(s.tooSlow, m)
		}
	}
}

// fanOutExcept hands frame to every member but skip. It never changes the
// member list: a member found too slow is only marked (see deliver).
func (s *state) fanOutExcept(frame []byte, skip *Member) {
	for _, m := range s.members {
		if m != skip {
			s.deliver(m, frame)
		}
	}
}

// sendFrame encodes f and hands it to m alone.
func (s *state) sendFrame(m *Member, f *wire.Frame) {
	s.deliver(m, encode(f))
}

// sendPrivate sends m its copy of private message f: numbered among the
// private frames m was sent, placed after the room's last event, and kept
// for m's resume.
func (s *state) sendPrivate(m *Member, f wire.Frame) {
	m.privateSeq++
	f.Type, f.Seq, f.PrivateSeq = wire.TypePrivate, s.seq, m.privateSeq
	frame := encode(&f)
	oldest := s.history.oldest()
	drop := 0
	for drop < len(m.privates) && (m.privates[drop].After < oldest || len(m.privates)-drop >= maxPrivatesKept) {
		drop++
	}
	s.keptPrivateBytes += len(frame) - privatesSize(m.privates[:drop])
	m.privates = slices.Delete(m.privates, 0, drop)
	m.privates = append(m.privates, PrivateCopy{After: s.seq, Seq: m.privateSeq, Frame: frame})
	s.boundKeptPrivates(m)
	s.journalPrivate(m, frame)
	s.deliver(m, frame)
}

// notify and notifyError send m a notice with ref (see call.refFor), in
// as many frames as it takes (see sendNotice).
func (s *state) notify(m *Member, ref uint64, text string) {
	s.sendNotice(m, &wire.Frame{Type: wire.TypeNotice, Text: text, Ref: ref})
}

func (s *state) notifyError(m *Member, ref uint64, text string) {
	s.sendNotice(m, &wire.Frame{Type: wire.TypeNotice, Text: text, Error: true, Ref: ref})
}

// reply sends the member whose line c is a notice that answers it.
func (s *state) reply(c call, text string) { s.notify(c.from, c.ref, text) }

// deliver queues frame in m's outbox without waiting. If the outbox is full
// the member has fallen too far behind: it is marked gone at once, so it is
// handed nothing more (and so never sees a gap it could mistake for the
// room's order), and queued to be removed once the current work is done.
// Removing it here could change the member list while a fan-out is walking
// it, and its leave event would interleave with the event being handed out.
func (s *state) deliver(m *Member, frame []byte) {
	if m.gone {
		return
	}
	s.publish() // what the room handed out before comes first
	s.deliverNow(m, frame)
}

// deliverNow is deliver with nothing unpublished.
func (s *state) deliverNow(m *Member, frame []byte) {
	if m.gone {
		return
	}
	s.appendJournal() // before m can have it (see Journal)
	if !m.out.push(frame) {
		m.out.stopAt(m.out.head()) // nor the room's events from now on
		m.gone = true
		s.tooSlow = append(s.tooSlow, m)
	}
}

// dropTooSlow removes the members found too slow, telling the others. Each
// leave event may find more; they are queued behind and removed in turn.
func (s *state) dropTooSlow() {
	for i := 0; i < len(s.tooSlow); i++ {
		m := s.tooSlow[i]
		s.sendAway(m, fellBehind)
	}
	clear(s.tooSlow) // let the removed members be collected
	s.tooSlow = s.tooSlow[:0]
}

// sendAway removes m from the room, ending its connection with a closed
// frame that says why, and tells the others with a leave event.
func (s *state) sendAway(m *Member, d departure) {
	closed := &wire.Frame{Type: wire.TypeClosed, Code: d.code, By: d.by, Text: d.reason}
	if d.text != "" {
		closed.Text = d.text
	}
	leave := wire.Frame{Kind: wire.KindLeave, Code: d.code, By: d.by, Text: d.reason}
	if d.code == wire.CodeReplaced {
		// To the others, the member's old connection was lost: they see it
		// come back at once, and it resumes where that one was.
		leave.Code = wire.CodeLost
	}
	s.depart(m, closed, leave)
}

// depart removes m from the room and broadcasts leave (a leave event, to
// which depart adds m's name). final is the last frame for m's connection,
// or nil when there is nothing more to tell it.
func (s *state) depart(m *Member, final *wire.Frame, leave wire.Frame) {
	s.remove(m, final)
	switch leave.Code {
	case wire.CodeLost, wire.CodeTooSlow:
		s.mayResume(m) // it did not choose to go, nor was it sent away
	}
	s.mod.keepRecent(m, s.now()) // for a /ban just after it left
	if m.hidden {
		return // the others never saw it join (see Member.hidden)
	}
	leave.Name = m.name
	if holdsLeave(&leave) && s.holding() {
		s.holdLeave(m, leave.Code) // see presence.go
		return
	}
	s.broadcast(&leave)
}

// remove takes m out of the room and closes its outbox, after which its
// writer sends what is queued and then final. Never called during a fan-out.
func (s *state) remove(m *Member, final *wire.Frame) {
	s.publish() // it is owed what came before
	m.gone = true
	s.journalLeave(m)
	if i := slices.Index(s.members, m); i >= 0 {
		s.members = slices.Delete(s.members, i, i+1)
		s.keptPrivateBytes -= privatesSize(m.privates) // kept again if it may resume
	}
	delete(s.byKey, m.key)
	if final != nil {
		m.final = encode(final)
	}
	m.close()
}

// closeAll ends every member's connection when the room closes. No events
// are sent: every member is told the same thing by its Final.
func (s *state) closeAll() {
	final := encode(&wire.Frame{Type: wire.TypeClosed, Code: wire.CodeRoomClosed, Text: roomClosedText})
	// Every member present may resume when the room opens again, besides
	// those who had left: a room of thousands comes back whole.
	s.departedBound += len(s.members)
	s.rosterKept = true
	s.publish() // what came before is theirs
	for _, m := range s.members {
		// Its private frames are counted again if it may resume.
		s.keptPrivateBytes -= privatesSize(m.privates)
		s.mayResume(m) // in the saved history, for when the room opens again
		s.keepPresentAtClose(m)
		m.gone = true
		m.final = final
		m.close()
	}
}

// close closes m's outbox and tells the host. The room publishes first
// (see publish).
func (m *Member) close() {
	m.out.close()
	if m.removed != nil {
		m.removed()
	}
}

// encode encodes a frame the room built. Such a frame holds only strings,
// numbers and a time from the host's clock, so encoding fails only if that
// clock is broken beyond the year 9999: a bug, not a condition to handle.
func encode(f *wire.Frame) []byte {
	b, err := wire.Encode(f)
	if err != nil {
		panic("room: " + err.Error())
	}
	return b
}

// allow takes a token for one line from m's budgets (see takeLine), or
// returns why the line is refused, for m alone; and kicks m when it keeps
// sending regardless.
func (s *state) allow(m *Member) error {
	ok, why := s.takeLine(m)
	if ok {
		m.strikes = 0
		return nil
	}
	m.strikes++
	if m.strikes >= floodStrikes {
		s.sendAway(m, flooding)
		return errFlooding
	}
	return userError("not sent: " + why)
}

// errFlooding ends a line whose member allow has just kicked for flooding:
// its closed frame has told it why.
var errFlooding = errors.New("kicked for flooding")

// pruneBans forgets the bans whose time is up. The file keeps them until
// the next change, and they are ignored when it is read again.
func (s *state) pruneBans() {
	now := s.now()
	s.bans = slices.DeleteFunc(s.bans, func(b Ban) bool { return !b.Expires.IsZero() && !now.Before(b.Expires) })
}

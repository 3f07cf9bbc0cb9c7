package room

import (
	"container/list"
	"fmt"
	"math"
	"slices"
	"time"

	"chatroom/host/wire"
)

// Budgets: how fast lines and joins may come, kept by who sends them (an
// identity key, an address) rather than by connection, so that
// reconnecting does not start a budget afresh.

// bucket is a token bucket: tokens left as of filled. The zero bucket is
// full.
//
// It is not a rate.Limiter (as the host's ping budget is), for what the
// room's budgets do and a Limiter does not: the zero bucket is full (a
// Member's own, a table's new entry), where a zero Limiter refuses all;
// it holds no limits, so the thousands in the tables are two fields each
// under the room's limits of the moment; a line takes a token from every
// bucket it draws on or from none (takeLine); a clock set back refills
// nothing, where a Limiter refills that span again once the clock is
// forward; and it needs no lock, the room's state being one goroutine's.
// The time is always the room's (state.now), never read here.
type bucket struct {
	tokens float64
	filled time.Time
}

// refill brings b up to now under limits.
func (b *bucket) refill(now time.Time, limits wire.Limits) {
	switch {
	case b.filled.IsZero():
		b.tokens = float64(limits.Burst)
	case now.After(b.filled):
		b.tokens = min(float64(limits.Burst), b.tokens+now.Sub(b.filled).Seconds()*limits.PerSecond)
	default:
		return // a clock set back gives nothing back
	}
	b.filled = now
}

// wait is how long b, refilled, needs for its next token.
func (b *bucket) wait(limits wire.Limits) time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / limits.PerSecond * float64(time.Second))
}

// bucketTable holds the buckets of up to max senders, by key. It forgets
// the one used least recently when it must make room; a sender not used
// for Burst/PerSecond is back to full anyway, so what is forgotten is, in
// all but a flood of new senders (which the join budgets slow), a full
// bucket. It is never cleared.
type bucketTable struct {
	max   int
	byKey map[string]*list.Element // of *tableEntry
	order list.List                // most recently used at the front
}

type tableEntry struct {
	key string
	bucket
}

// maxBudgetKeys bounds each table of budgets: a few hundred bytes an
// entry, so a table costs at most about a megabyte.
const maxBudgetKeys = 4096

func newBucketTable(max int) *bucketTable {
	return &bucketTable{max: max, byKey: make(map[string]*list.Element)}
}

// get returns key's bucket, refilled to now, making it (full) if the
// table has none; the pointer is good until the next get.
func (t *bucketTable) get(key string, now time.Time, limits wire.Limits) *bucket {
	if e, ok := t.byKey[key]; ok {
		t.order.MoveToFront(e)
		b := &e.Value.(*tableEntry).bucket
		b.refill(now, limits)
		return b
	}
	for t.order.Len() >= t.max {
		oldest := t.order.Back()
		delete(t.byKey, oldest.Value.(*tableEntry).key)
		t.order.Remove(oldest)
	}
	entry := &tableEntry{key: key}
	t.byKey[key] = t.order.PushFront(entry)
	entry.refill(now, limits)
	return &entry.bucket
}

func (t *bucketTable) len() int { return t.order.Len() }

// addressShare is how many members' worth of lines one address may send:
// a classroom behind one NAT, or one terminal server, shares an address,
// and its people must not silence each other; one machine opening many
// connections is still held to a few members' worth.
const addressShare = 8

// addressLimits are the line budget of one address.
func addressLimits(member wire.Limits) wire.Limits {
	return wire.Limits{Burst: addressShare * member.Burst, PerSecond: addressShare * member.PerSecond}
}

// budgets are the room's budgets kept across connections.
type budgets struct {
	// Lines, by identity key and by address. A member with a key draws
	// on its key's bucket, shared by all its connections; one without a
	// key on its connection's own; every member with an address also on
	// the address's.
	lineKeys, lineAddrs *bucketTable
	// Joins, by identity key and by address (a resume counts), and of
	// newcomers in all (a resume does not).
	joinKeys, joinAddrs *bucketTable
	joinRoom            bucket
}

func newBudgets() budgets {
	return budgets{
		lineKeys:  newBucketTable(maxBudgetKeys),
		lineAddrs: newBucketTable(maxBudgetKeys),
		joinKeys:  newBucketTable(maxBudgetKeys),
		joinAddrs: newBucketTable(maxBudgetKeys),
	}
}

// lineSlack is how late, at most, lines may reach the room and still be
// counted as sent at the pace the welcome announced. A client paces its
// lines as they leave it (join's outgoing queue, the IRC gateway's), but
// they arrive as the network and the host's scheduling let them: on a
// busy machine, a few lines sent apart are handled together, and a
// bucket exactly as big as the announced burst refused the last of them
// (one line in about ten restarts of TestBotLosesNothingAcrossRestarts
// under load), whose refusal could then be lost with the connection. So
// each bucket holds, beyond the announced burst, what the announced rate
// gives in lineSlack: a line or two at a person's pace.
const lineSlack = 250 * time.Millisecond

// HeldLimits are the limits the room keeps a member's lines to when it
// announces announced: the same rate, and lineSlack's worth of lines more
// (at least one) in the bucket, so that a client pacing to announced is
// never refused for lines that arrive together.
func HeldLimits(announced wire.Limits) wire.Limits {
	extra := max(1, int(math.Ceil(announced.PerSecond*lineSlack.Seconds())))
	return wire.Limits{Burst: announced.Burst + extra, PerSecond: announced.PerSecond}
}

// takeLine takes a token for one line from m from every budget it draws
// on, or, when one of them is empty, takes none and says which one in
// words for m's notice (in the announced limits, which clients pace to).
func (s *state) takeLine(m *Member) (ok bool, why string) {
	now, held := s.now(), s.held
	own := &m.lines
	if m.identity != "" {
		own = s.budgets.lineKeys.get(m.identity, now, held)
	} else {
		own.refill(now, held)
	}
	var addr *bucket
	if m.addr != "" {
		// Another table than own's, so own's pointer stays good.
		addr = s.budgets.lineAddrs.get(m.addr, now, addressLimits(held))
	}
	switch {
	case own.tokens < 1:
		why = fmt.Sprintf("you are sending faster than the room allows (%d lines at once, then %g a second)",
			s.limits.Burst, s.limits.PerSecond)
	case addr != nil && addr.tokens < 1:
		a := addressLimits(s.limits)
		why = fmt.Sprintf("your address is sending faster than the room allows, counting everyone on it (%d lines at once, then %g a second)",
			a.Burst, a.PerSecond)
	default:
		own.tokens--
		if addr != nil {
			addr.tokens--
		}
		ok = true
	}
	return ok, why
}

// JoinLimits are how fast people may come into a room (see
// [DefaultJoinLimits]).
type JoinLimits struct {
	// PerAddress bounds the joins from one address, resumes included.
	PerAddress wire.Limits
	// PerKey bounds the joins with one identity key, resumes included:
	// it is what slows a member that drops its connection and resumes
	// over and over, which the room-wide budget does not count.
	PerKey wire.Limits
	// Newcomers bounds the joins in all, of everyone but the owner,
	// admins (by password or by key) and members who resume (those the
	// room lost, coming back with the same name and key), so that a storm
	// of reconnections after a restart of the host is never slowed, and
	// a flood of newcomers does not keep out those who can stop it.
	Newcomers wire.Limits
}

// DefaultJoinLimits let a classroom arrive at once (200 newcomers, then
// 20 a second) and a classroom behind one NAT too (40 from one address,
// then one a second), and a member whose Wi-Fi keeps dropping reconnect
// (5 joins with one key, then one every 12 seconds); a flood of joins
// from one machine is then at most a join a second, and with any number
// of addresses and keys 20 newcomers a second, each of them then held to
// its own key's budget.
var DefaultJoinLimits = JoinLimits{
	PerAddress: wire.Limits{Burst: 40, PerSecond: 1},
	PerKey:     wire.Limits{Burst: 5, PerSecond: 1.0 / 12},
	Newcomers:  wire.Limits{Burst: 200, PerSecond: 20},
}

// withDefaults fills in the limits left zero from DefaultJoinLimits.
func (l JoinLimits) withDefaults() JoinLimits {
	fill := func(l *wire.Limits, d wire.Limits) {
		if l.Burst <= 0 || l.PerSecond <= 0 {
			*l = d
		}
	}
	fill(&l.PerAddress, DefaultJoinLimits.PerAddress)
	fill(&l.PerKey, DefaultJoinLimits.PerKey)
	fill(&l.Newcomers, DefaultJoinLimits.Newcomers)
	return l
}

// admit takes a join from each budget req draws on, or, when one is empty,
// takes none and returns the refusal (wire.CodeTooMany, which clients
// retry later) saying when to try again. key is NameKey(req.Name). The
// owner is never slowed. A join that will be refused for its name is not
// charged: it makes no notice for anyone.
func (s *state) admit(req JoinRequest, key string) *wire.Frame {
	if req.Owner {
		return nil
	}
	present, taken := s.byKey[key]
	if taken && (req.Identity == "" || present.identity != req.Identity) {
		return nil // refused as taken next: nothing to charge
	}
	// Not newcomers: someone the room lost, coming back, or replacing a
	// connection the host has not yet seen break; nor admins, who must
	// get in to deal with a flood of newcomers.
	_, departed := s.departed[departedKey(key, req.Identity)]
	uncounted := req.Identity != "" && (departed || taken) || req.Admin || s.isOp(req.Identity)

	now := s.now()
	var byKey, byAddr *bucket
	if req.Identity != "" {
		byKey = s.budgets.joinKeys.get(req.Identity, now, s.joinLimits.PerKey)
	}
	if req.Addr != "" {
		byAddr = s.budgets.joinAddrs.get(req.Addr, now, s.joinLimits.PerAddress)
	}
	room := &s.budgets.joinRoom
	room.refill(now, s.joinLimits.Newcomers)
	switch {
	case byKey != nil && byKey.tokens < 1:
		return tooManyJoins("you have joined this room too often just now", byKey.wait(s.joinLimits.PerKey))
	case byAddr != nil && byAddr.tokens < 1:
		return tooManyJoins("too many people have joined from your address just now", byAddr.wait(s.joinLimits.PerAddress))
	case !uncounted && room.tokens < 1:
		return tooManyJoins("too many people are joining the room at once", room.wait(s.joinLimits.Newcomers))
	}
	if byKey != nil {
		byKey.tokens--
	}
	if byAddr != nil {
		byAddr.tokens--
	}
	if !uncounted {
		room.tokens--
	}
	return nil
}

func tooManyJoins(what string, wait time.Duration) *wire.Frame {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	unit := "seconds"
	if secs == 1 {
		unit = "second"
	}
	return refusal(wire.CodeTooMany, fmt.Sprintf("%s: try again in %d %s", what, secs, unit))
}

// MaxKeptPrivateBytes bounds, in bytes, the private frames the room keeps
// for members to resume with, present and departed members together: in
// memory, and so in the saved history, which holds them. A member's own
// are bounded too (maxPrivatesKept); this bounds what many members, or
// many departed keys, hold in all.
const MaxKeptPrivateBytes = 4 << 20

func privatesSize(privates []PrivateCopy) int {
	n := 0
	for _, p := range privates {
		n += len(p.Frame)
	}
	return n
}

// boundKeptPrivates drops kept private frames until their total is within
// MaxKeptPrivateBytes: first those of departed members, who left first
// first, then those of present members in turn (which matter only should
// they be lost), but never those of keep, the member just sent one, whose
// own are bounded far below the total.
func (s *state) boundKeptPrivates(keep *Member) {
	for i := 0; s.keptPrivateBytes > MaxKeptPrivateBytes && i < len(s.departedOrder); i++ {
		e := s.departedOrder[i]
		r, ok := s.departedAt(e)
		if !ok || len(r.Privates) == 0 {
			continue
		}
		s.keptPrivateBytes -= privatesSize(r.Privates)
		r.Privates = nil
		s.departed[e.key] = r
	}
	for n := 0; s.keptPrivateBytes > MaxKeptPrivateBytes && n < len(s.members); n++ {
		s.privatesCursor = (s.privatesCursor + 1) % len(s.members)
		m := s.members[s.privatesCursor]
		if m == keep || len(m.privates) == 0 {
			continue
		}
		s.keptPrivateBytes -= privatesSize(m.privates)
		m.privates = nil
	}
}

// briefStay is how long a member must have been in the room for the room
// to prefer keeping its resume over that of members who came and went:
// when the table of departed members is full, those who stayed less go
// first, so that a flood of short joins (each a new key, lost at once)
// cannot push out the resume of someone who was away all along.
const briefStay = time.Minute

// brief reports whether r's member was in the room less than briefStay; a
// member loaded from a saved history, whose times are not saved, was not.
func (r Resumable) brief() bool {
	return !r.joined.IsZero() && r.left.Sub(r.joined) < briefStay
}

// forgetDeparted forgets the member under departedKey k, if any. Its
// place in departedOrder goes once half of them are such (see
// state.departed).
func (s *state) forgetDeparted(k string) {
	r, ok := s.departed[k]
	if !ok {
		return
	}
	s.keptPrivateBytes -= privatesSize(r.Privates)
	delete(s.departed, k)
	s.departedStale++
	if s.departedStale > len(s.departedOrder)/2 {
		s.departedOrder = slices.DeleteFunc(s.departedOrder, func(e departedEntry) bool {
			_, ok := s.departedAt(e)
			return !ok
		})
		s.departedStale = 0
	}
}

// forgetOneDeparted makes room in the table of departed members: the
// first to leave of those with a brief stay, or else the first to leave.
func (s *state) forgetOneDeparted() {
	first := ""
	for _, e := range s.departedOrder {
		r, ok := s.departedAt(e)
		if !ok {
			continue
		}
		if r.brief() {
			s.forgetDeparted(e.key)
			return
		}
		if first == "" {
			first = e.key
		}
	}
	s.forgetDeparted(first)
}

// resumeFrom gives m, resuming, what the room kept of it in prior.
func (s *state) resumeFrom(m *Member, prior Resumable) {
	m.joined = prior.joined
	m.privateSeq, m.privates = prior.PrivateSeq, prior.Privates
	s.keptPrivateBytes += privatesSize(m.privates)
}

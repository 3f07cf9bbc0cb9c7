package room

import (
	"time"

	"chatroom/host/wire"
)

// Presence across a clean restart. When the host restarts, every member
// comes back at once; were each return a join event to everyone, and
// each joiner sent everyone back so far, the storm would cost the host
// the square of the room's size. So the room does not tell the others
// that anyone left when it closes (closeAll sends no events), and the
// room that starts again from its history goes on listing the members
// present at the close, as every member's roster still holds them, for
// a grace period (Config.GhostGrace, 30 s by default):
//
//   - a member who comes back under the same name and key takes its
//     place silently: no join event. Its welcome has the number of the
//     room's next event, as a held arrival's has (see presence.go), and
//     that event is a presence event, empty if nothing else is held: its
//     client takes it as the event the welcome stood for. A role that is
//     not the one listed is told after it, as a role event.
//   - a name held this way is taken: anyone else asking for it is
//     refused as for a present member. Commands treat such a member as
//     not here (it is in no member list, only in the welcome's).
//   - those not back when the grace ends are told as lost, together, in
//     presence events.
//
// The grace is longer than join's reconnect spread (at most 10 s, 2.5 s
// for 5,000 members: join's stormSpread) plus its first four backoff
// waits (0.5 + 1 + 2 + 4 s), so that a member whose first tries met a
// host still starting is back in time; and short enough that a member
// who is not coming back is not shown as present for long.
const defaultGhostGrace = 30 * time.Second

// ghosts is what the room holds of the members present when it last
// closed that are not back yet.
type ghosts struct {
	// list holds them in the order the room listed them, and byKey by
	// name key: a ghost taken (back, or told as gone) leaves byKey at
	// once and list only when a good share of it has (see live), so that
	// thousands coming back after a restart cost the room no more than
	// one each.
	list  []*Member
	byKey map[string]*Member
	taken int // how many of list are no longer in byKey
	grace time.Duration
	// timer fires when the grace is over; nil when there were none.
	timer *time.Timer
}

// loadGhosts makes a ghost of every member the history says was present
// at the close (Resumable.Name), if what it says of it could be so.
func (s *state) loadGhosts(past []Resumable, grace time.Duration) {
	if grace <= 0 {
		grace = defaultGhostGrace
	}
	g := &s.ghosts
	g.grace = grace
	for _, r := range past {
		if !presentAtClose(r) {
			continue
		}
		if _, twice := g.byKey[r.NameKey]; twice {
			continue
		}
		m := &Member{name: r.Name, key: r.NameKey, identity: r.Identity, role: r.Role, away: r.Away}
		s.presence.joins++
		m.order = s.presence.joins
		if g.byKey == nil {
			g.byKey = make(map[string]*Member)
		}
		g.list = append(g.list, m)
		g.byKey[r.NameKey] = m
	}
	if len(g.list) > 0 {
		g.timer = time.NewTimer(grace)
		s.presence.listValid = false
	}
}

// presentAtClose reports whether r says its member was in the room, and
// shown, when it closed: with a name of its NameKey, a role and an away
// text such as the room gives.
func presentAtClose(r Resumable) bool {
	if r.Name == "" || ValidateName(r.Name) != nil || NameKey(r.Name) != r.NameKey {
		return false
	}
	if r.Identity == "" && r.Role != wire.RoleOwner {
		return false // see keepPresentAtClose
	}
	switch r.Role {
	case wire.RoleMember, wire.RoleAdmin, wire.RoleOwner:
	default:
		return false
	}
	text, problem := cleanText(r.Away)
	return problem == "" && text == r.Away && len(r.Away) <= maxAway
}

// ghostDue is the channel on which Run learns that the grace is over;
// nil (never ready) when there were no ghosts.
func (s *state) ghostDue() <-chan time.Time {
	if s.ghosts.timer == nil {
		return nil
	}
	return s.ghosts.timer.C
}

// ghostFor reports whether req is ghost g's member: by its key, or, for
// the host's own member, which has none, by being the owner (which only
// the host's in-process connection can be).
func ghostFor(g *Member, req JoinRequest) bool {
	if g.identity == "" {
		return req.Owner
	}
	return req.Identity == g.identity
}

// ghostHolding returns the ghost holding key, if any.
func (s *state) ghostHolding(key string) (*Member, bool) {
	m, ok := s.ghosts.byKey[key]
	return m, ok
}

// takeGhost forgets ghost g, whose member is back or told as gone.
func (s *state) takeGhost(g *Member) {
	gs := &s.ghosts
	delete(gs.byKey, g.key)
	if g.identity == "" {
		// The owner's entry is kept for listing it alone: it cannot resume.
		s.forgetDeparted(departedKey(g.key, ""))
	}
	gs.taken++
	if gs.taken > len(gs.list)/2 {
		gs.list = gs.live()
		gs.taken = 0
	}
	if len(gs.byKey) == 0 && gs.timer != nil {
		gs.timer.Stop()
		gs.timer = nil
	}
}

// live returns the ghosts not taken, in their order, in a new slice.
func (gs *ghosts) live() []*Member {
	kept := make([]*Member, 0, len(gs.byKey))
	for _, g := range gs.list {
		if gs.byKey[g.key] == g {
			kept = append(kept, g)
		}
	}
	return kept
}

// returns reports whether m, about to be added, takes ghost g's place
// silently: the same name as listed, and shown (not joining hidden).
func returns(g, m *Member) bool {
	return g.name == m.name && !m.hidden
}

// returnGhost holds the number m's welcome gave, as a member back in
// its ghost's place, for the room's next event, a presence event.
func (s *state) returnGhost(m *Member) {
	m.untold = s.seq + 1
	s.presence.returners = append(s.presence.returners, m)
	s.heldOne()
}

// ghostLeaves tells ghost g as lost, with what presence holds.
func (s *state) ghostLeaves(g *Member) {
	s.takeGhost(g)
	s.notPresentAtClose(g)
	p := &s.presence
	p.left = append(p.left, wire.Departure{Name: g.name, Code: wire.CodeLost})
	p.leavers = append(p.leavers, g)
	s.heldOne()
}

// notPresentAtClose forgets that g's member was present when the room
// last closed: it may still resume, but no longer as listed.
func (s *state) notPresentAtClose(g *Member) {
	k := departedKey(g.key, g.identity)
	if r, ok := s.departed[k]; ok {
		r.Name, r.Role, r.Away = "", "", ""
		s.departed[k] = r
	}
}

// endGrace tells every ghost still not back as lost, together.
func (s *state) endGrace() {
	// Taken off the list at once, in its order, rather than one by one
	// from its front, which for thousands of ghosts is quadratic.
	gone := s.ghosts.live()
	s.ghosts.list, s.ghosts.taken = nil, 0
	for _, g := range gone {
		s.ghostLeaves(g)
	}
	s.flushPresence()
}

// keepPresentAtClose saves, for the room that opens again, that m was
// present and listed as it is, as the room closes. A member without a
// key cannot be told apart from anyone else, and so cannot be listed
// until it is back: its going is a change of who is present that no
// event tells, and a resume from before it is sent the whole list
// (History.RosterKept). The host's own member, which has no key, is
// told apart by being the owner: it is kept to be listed (it does not
// resume).
func (s *state) keepPresentAtClose(m *Member) {
	if m.hidden {
		return // the others never listed it
	}
	if m.identity == "" && m.role == wire.RoleOwner {
		s.keepResumable(Resumable{NameKey: m.key, Since: m.since, Name: m.name, Role: m.role, Away: m.away})
		return
	}
	k := departedKey(m.key, m.identity)
	r, ok := s.departed[k]
	if m.identity == "" || !ok {
		// After the last event: as if the next one, which no resume
		// point before it holds, had been dropped.
		s.history.lostRoster = s.seq + 1
		return
	}
	r.Name, r.Role, r.Away = m.name, m.role, m.away
	s.departed[k] = r
}

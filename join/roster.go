package join

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"chatroom/host/wire"
)

// What the client keeps of a room is bounded, each bound well above what a
// real room sends, so that a room that announces a million members, or a
// name of a megabyte, cannot make the client hold it: the room is broken
// (*BrokenRoomError) and the session ends instead.
const (
	// maxRosterMembers is twice the most members a host lets in (10,000,
	// host/server.go), leaving room for joins and leaves that cross.
	maxRosterMembers = 20_000
	// maxNameRunes is the longest name a host accepts (room.MaxNameRunes),
	// in characters; maxNameBytes the most bytes such a name can take.
	maxNameRunes = 24
	maxNameBytes = maxNameRunes * utf8.UTFMax
	// maxRoleBytes bounds a role's name; the host's are "member", "admin"
	// and "owner", and a later host may add others.
	maxRoleBytes = 32
	// maxBans bounds the ban list a room sends; the host's is at most
	// 32 KiB of names (room.maxBanNames), some 8,000 of the shortest.
	maxBans = 20_000
	// maxCommands, maxCommandName and maxCommandText bound the commands of
	// a welcome: the host has 23, named in at most 6 bytes, with usage and
	// help lines under 200.
	maxCommands    = 256
	maxCommandName = 64
	maxCommandText = 1024
	// maxRecent is how many of the latest speakers Names puts first: the
	// few one is likely answering, not the whole room.
	maxRecent = 64
	// maxTopicBytes and maxAwayBytes bound the topic and an away text: the
	// host's are at most 300 and 200 bytes (room.MaxTopic, room.maxAway).
	// A longer one is cut rather than taken for a broken room: the text is
	// only shown.
	maxTopicBytes = 1024
	maxAwayBytes  = 512
	// minKeyTag and maxKeyTag bound a key tag: the host's are 8
	// characters (wire.KeyTag), and none is longer than a whole
	// fingerprint's 43.
	minKeyTag = 8
	maxKeyTag = 43
)

// ValidKeyTag reports whether tag has the form of a key tag
// (wire.KeyTag): 8 to 43 characters of base64, as a fingerprint is
// written. A room may send anything in a member's "key"; what is not a
// tag is taken as no key at all.
func ValidKeyTag(tag string) bool {
	if len(tag) < minKeyTag || len(tag) > maxKeyTag {
		return false
	}
	for _, c := range []byte(tag) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// Roster is the client's picture of the room: who is in it with which
// role and key tag, who is away, who spoke last, the room's topic, which commands the
// host offers and, for an admin, who is banned. It starts from the
// welcome and follows the frames Session.Next returns (members who change
// their name with /nick, the person included), so a UI can complete names
// and commands without asking the host.
//
// Its methods are safe to call from the UI's goroutine while another
// goroutine reads frames: the lock guards only this client's copy, the
// room's state lives in the host.
type Roster struct {
	commands []wire.Command // fixed at the welcome: every command the host knows

	mu     sync.Mutex
	me     string            // the person's name now, which /nick changes
	topic  string            // the room's topic, "" for none
	roles  map[string]string // name -> role, for everyone present
	away   map[string]string // name -> why, for those present and away
	keys   map[string]string // name -> key tag, for those present whose key the room told
	recent []string          // present members who spoke, most recent first
	bans   []string          // banned names, as the host last sent them to this admin

	// In a big room the welcome leaves the members out
	// (wire.Frame.MembersOnRequest): the roster then knows only those the
	// events have told of since, until the room sends them all, which it
	// does when asked (WaitWhole). partial is set until then; count is
	// how many the welcome said the room lists.
	partial bool
	count   int
	// wanted holds a token once WaitWhole was called on a partial roster:
	// the session's owner takes it and asks the room (Session.askMembers).
	wanted chan struct{}
	// whole is closed once the roster holds every member (never, for one
	// that did from the start: WaitWhole does not wait on it then).
	whole chan struct{}
	// waitedInVain: a WaitWhole ran out of time. A room that is there
	// answers the ask at once; one that did not in all that time is not
	// waited for again, so that it cannot stall every Tab of the prompt.
	waitedInVain bool
}

// WaitWhole makes sure the roster holds every member before a UI lists or
// completes them: when a big room's welcome left them out and they have
// not come yet, it asks for them, and waits for them at most d, once: if
// they have not come by then, later calls do not wait (the room does not
// answer, and each Tab would freeze the prompt for d). It reports whether
// the roster is whole. It is for the UI's goroutine; the owner of the
// session sends the ask (client.membersWanted).
func (r *Roster) WaitWhole(d time.Duration) bool {
	r.mu.Lock()
	partial, whole, inVain := r.partial, r.whole, r.waitedInVain
	r.mu.Unlock()
	if !partial {
		return true
	}
	r.Ask()
	if inVain {
		select {
		case <-whole:
			return true
		default:
			return false
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-whole:
		return true
	case <-t.C:
		r.mu.Lock()
		r.waitedInVain = true
		r.mu.Unlock()
		return false
	}
}

// Ask asks for the members a big room's welcome left out, without
// waiting for them (WaitWhole waits); it does nothing for a roster that
// has them, or once asked. Safe on any goroutine: the session's owner
// takes the wish and sends the ask.
func (r *Roster) Ask() {
	r.mu.Lock()
	partial := r.partial
	r.mu.Unlock()
	if !partial {
		return
	}
	select {
	case r.wanted <- struct{}{}:
	default: // asked already
	}
}

// Partial reports whether the roster lacks members the room has (a big
// room's welcome left them out, and they have not been asked for and
// sent yet), and how many the welcome said the room lists.
func (r *Roster) Partial() (bool, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.partial, r.count
}

// applyMembers takes the room's list of members (a members frame, sent
// when asked): the roster is then whole, and the events after it keep it
// so. Those the person knew spoke, and are still here, stay first.
func (r *Roster) applyMembers(f wire.Frame) error {
	if len(f.Members) > maxRosterMembers {
		return brokenf("it listed more than %d members", maxRosterMembers)
	}
	for _, m := range f.Members {
		if err := checkMember(m.Name, m.Role); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	roles := make(map[string]string, len(f.Members)+1)
	away := make(map[string]string)
	keys := make(map[string]string)
	for _, m := range f.Members {
		roles[m.Name] = m.Role
		if why, ok := r.away[m.Name]; ok && m.Away {
			away[m.Name] = why // the event's why, which the list does not carry
		} else if m.Away {
			away[m.Name] = ""
		}
		if ValidKeyTag(m.Key) {
			keys[m.Name] = m.Key
		}
	}
	if role, ok := r.roles[r.me]; ok {
		// The person is in the room whether or not the list says so
		// (a big room may hold its arrival for a moment).
		if _, listed := roles[r.me]; !listed {
			roles[r.me] = role
			if why, ok := r.away[r.me]; ok {
				away[r.me] = why
			}
			if tag, ok := r.keys[r.me]; ok {
				keys[r.me] = tag
			}
		}
	}
	r.roles, r.away, r.keys = roles, away, keys
	r.recent = slices.DeleteFunc(r.recent, func(n string) bool { _, here := roles[n]; return !here })
	if r.partial {
		r.partial = false
		close(r.whole)
	}
	return nil
}

// checkWelcome returns a *BrokenRoomError when the welcome holds more than
// a real room sends: more members, longer names, more commands or bans.
func checkWelcome(w wire.Frame) error {
	if len(w.Members) > maxRosterMembers {
		return brokenf("its welcome lists more than %d members", maxRosterMembers)
	}
	if w.You != nil {
		if err := checkMember(w.You.Name, w.You.Role); err != nil {
			return err
		}
	}
	for _, m := range w.Members {
		if err := checkMember(m.Name, m.Role); err != nil {
			return err
		}
	}
	if len(w.Commands) > maxCommands {
		return brokenf("its welcome offers more than %d commands", maxCommands)
	}
	for _, c := range w.Commands {
		switch {
		case c.Name == "" || len(c.Name) > maxCommandName:
			return brokenf("its welcome offers a command whose name is empty or longer than %d bytes", maxCommandName)
		case len(c.Usage) > maxCommandText || len(c.Help) > maxCommandText || len(c.Target) > maxCommandName:
			return brokenf("its welcome describes a command in more than %d bytes", maxCommandText)
		}
	}
	if len(w.Bans) > maxBans {
		return brokenf("it announced more than %d banned names", maxBans)
	}
	return nil
}

// checkMember returns a *BrokenRoomError for a member no host lets in: a
// name that is empty or longer than the host's longest, or a role longer
// than any role's name.
func checkMember(name, role string) error {
	switch {
	case name == "":
		return brokenf("it announced a member with no name")
	case len(name) > maxNameBytes || utf8.RuneCountInString(name) > maxNameRunes:
		return brokenf("it announced a member name longer than %d characters", maxNameRunes)
	case len(role) > maxRoleBytes:
		return brokenf("it announced a role longer than %d bytes", maxRoleBytes)
	}
	return nil
}

// brokenf is a *BrokenRoomError with the client's own words; args are the
// client's numbers, never the room's text.
func brokenf(format string, args ...any) error {
	return &BrokenRoomError{Why: fmt.Sprintf(format, args...)}
}

// completableBans is the part of a ban list a completion can offer: the
// names a host lets in. A real room's list may hold others (an address
// ban has no name; a bans file may be older than the name rules or edited
// by hand), so they are left out rather than taken for a broken room.
func completableBans(bans []string) []string {
	kept := make([]string, 0, len(bans))
	for _, n := range bans {
		if checkMember(n, "") == nil {
			kept = append(kept, n)
		}
	}
	return slices.Clip(kept)
}

// newRoster is the roster of a welcome that checkWelcome passed.
func newRoster(welcome wire.Frame) *Roster {
	r := &Roster{
		commands: slices.Clone(welcome.Commands),
		roles:    make(map[string]string, len(welcome.Members)+1),
		away:     make(map[string]string),
		keys:     make(map[string]string),
		bans:     completableBans(welcome.Bans),
		wanted:   make(chan struct{}, 1),
		whole:    make(chan struct{}),
	}
	if welcome.MembersOnRequest {
		r.partial = true
		r.count = max(0, welcome.MemberCount)
	}
	if welcome.Room != nil {
		r.topic = cutText(welcome.Room.Topic, maxTopicBytes)
	}
	for _, m := range welcome.Members {
		r.roles[m.Name] = m.Role
		r.setWelcomeAway(m)
		r.setKey(m.Name, m.Key)
	}
	if welcome.You != nil {
		r.me = welcome.You.Name
		r.roles[r.me] = welcome.You.Role
		r.setWelcomeAway(*welcome.You)
		r.setKey(r.me, welcome.You.Key)
	}
	return r
}

// keptFor is the roster of welcome, which left the members out
// (wire.Frame.MembersOmitted), for a session that resumed from where r,
// the roster of the session before, stands: r's members, and the rest
// from welcome. The replay that follows brings it to the room's.
func (r *Roster) keptFor(welcome wire.Frame) *Roster {
	welcome.Members = nil // a room that sent some all the same is not listened to
	kept := newRoster(welcome)
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, role := range r.roles {
		if name != kept.me {
			kept.roles[name] = role
		}
	}
	for name, why := range r.away {
		if name != kept.me {
			kept.away[name] = why
		}
	}
	for name, tag := range r.keys {
		if name != kept.me {
			kept.keys[name] = tag
		}
	}
	kept.recent = slices.DeleteFunc(slices.Clone(r.recent), func(n string) bool { return n == kept.me })
	if r.partial {
		// What the session before lacked, this one lacks too: it may ask.
		kept.partial, kept.count = true, r.count
	}
	return kept
}

// listed returns everyone in the roster as a welcome lists them, sorted
// by name.
func (r *Roster) listed() []wire.Member {
	r.mu.Lock()
	ms := make([]wire.Member, 0, len(r.roles))
	for name, role := range r.roles {
		_, away := r.away[name]
		ms = append(ms, wire.Member{Name: name, Role: role, Away: away, Key: r.keys[name]})
	}
	r.mu.Unlock()
	sortByName(ms, func(m wire.Member) string { return m.Name })
	return ms
}

// Me is the person's own name in the room, as it is now: it follows the
// person's /nick.
func (r *Roster) Me() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.me
}

// Topic is the room's topic as the room last set it, "" for none. It is
// the room's text: show it only through Sanitize.
func (r *Roster) Topic() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.topic
}

// Away returns whether name is away (as the room last said), and why: ""
// when the room has not said, as for those already away when the person
// joined (/whois says). The text is the room's: show it only through
// Sanitize.
func (r *Roster) Away(name string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	why, ok := r.away[name]
	return why, ok
}

// KeyTag returns the tag of name's identity key as the room last told
// it, or "" when name is not here or the room told none (a member
// without a key, an older host, or something that is not a tag).
func (r *Roster) KeyTag(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keys[name]
}

// setKey records name's key tag, or that it has none when tag is not
// one (ValidKeyTag).
func (r *Roster) setKey(name, tag string) {
	if ValidKeyTag(tag) {
		r.keys[name] = tag
	} else {
		delete(r.keys, name)
	}
}

// setWelcomeAway records m as away when the welcome says so: without why,
// which the welcome does not carry (the next away event does, and
// /whois).
func (r *Roster) setWelcomeAway(m wire.Member) {
	if m.Away {
		r.away[m.Name] = ""
	}
}

// setAway records name as away for why, or as back when why is "".
func (r *Roster) setAway(name, why string) {
	if why == "" {
		delete(r.away, name)
		return
	}
	r.away[name] = cutText(why, maxAwayBytes)
}

// cutText returns s cut to at most max bytes, on a character boundary.
func cutText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	s = s[:max]
	// Drop what is left of a character cut in two.
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size != 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}

// members returns everyone in the room, the person included, sorted by
// name.
func (r *Roster) members() []wire.Member {
	r.mu.Lock()
	ms := make([]wire.Member, 0, len(r.roles))
	for name, role := range r.roles {
		ms = append(ms, wire.Member{Name: name, Role: role})
	}
	r.mu.Unlock()
	sortByName(ms, func(m wire.Member) string { return m.Name })
	return ms
}

// size is how many are in the room, as far as the roster knows: for a
// partial one, the welcome's count, or those known if more.
func (r *Roster) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.partial {
		return max(r.count, len(r.roles))
	}
	return len(r.roles)
}

// role returns the role of name, and whether name is in the room.
func (r *Roster) role(name string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	role, ok := r.roles[name]
	return role, ok
}

// Names returns everyone in the room in the order a completion should
// offer them: those who spoke most recently first (the person one is
// answering), then the others by name, and the person themself last.
func (r *Roster) Names() []string {
	r.mu.Lock()
	names := make([]string, 0, len(r.roles))
	spoke := make(map[string]bool, len(r.recent))
	for _, n := range r.recent {
		names = append(names, n)
		spoke[n] = true
	}
	rest := make([]string, 0, len(r.roles)-len(names))
	for n := range r.roles {
		if !spoke[n] && n != r.me {
			rest = append(rest, n)
		}
	}
	_, present := r.roles[r.me]
	r.mu.Unlock()
	sortByName(rest, func(n string) string { return n })
	names = append(names, rest...)
	if present {
		names = append(names, r.me)
	}
	return names
}

// Commands returns the commands the person may use now: those the
// host's welcome listed, without the admin ones unless the person is an
// admin at present, so that completion follows /op and /deop.
func (r *Roster) Commands() []wire.Command {
	r.mu.Lock()
	admin := isAdmin(r.roles[r.me])
	r.mu.Unlock()
	var cmds []wire.Command
	for _, c := range r.commands {
		if !c.Admin || admin {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

// Banned returns the names on the room's ban list, sorted, as the host
// last told this person; none unless the person is an admin.
func (r *Roster) Banned() []string {
	r.mu.Lock()
	if !isAdmin(r.roles[r.me]) {
		r.mu.Unlock()
		return nil
	}
	names := slices.Clone(r.bans)
	r.mu.Unlock()
	sortByName(names, func(n string) string { return n })
	return names
}

func isAdmin(role string) bool {
	return role == wire.RoleAdmin || role == wire.RoleOwner
}

// apply updates the roster from one frame from the host. It returns a
// *BrokenRoomError, and changes nothing, for a frame that would take the
// roster past its bounds.
func (r *Roster) apply(f wire.Frame) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch f.Type {
	case wire.TypeEvent:
		switch f.Kind {
		case wire.KindJoin, wire.KindRole:
			if err := checkMember(f.Name, f.Role); err != nil {
				return err
			}
			if _, present := r.roles[f.Name]; !present && len(r.roles) >= maxRosterMembers {
				return brokenf("it announced more than %d members", maxRosterMembers)
			}
			r.roles[f.Name] = f.Role
			if f.Kind == wire.KindJoin {
				r.setKey(f.Name, f.Key)
			}
		case wire.KindLeave:
			if f.Name != r.me {
				r.forget(f.Name)
			}
		case wire.KindNick:
			role, present := r.roles[f.Name]
			if !present {
				return nil // crossed the member's leave
			}
			if err := checkMember(f.NewName, role); err != nil {
				return err
			}
			r.rename(f.Name, f.NewName, role)
			if f.Key != "" {
				r.setKey(f.NewName, f.Key) // the event's word is the latest
			}
		case wire.KindAway:
			if _, present := r.roles[f.From]; present {
				r.setAway(f.From, f.Text)
			}
		case wire.KindTopic:
			r.topic = cutText(f.Text, maxTopicBytes)
		case wire.KindPresence:
			return r.applyPresence(f)
		case wire.KindSay, wire.KindMe:
			r.spoke(f.From)
		}
	case wire.TypeBans:
		if len(f.Bans) > maxBans {
			return brokenf("it announced more than %d banned names", maxBans)
		}
		r.bans = completableBans(f.Bans)
	case wire.TypePrivate:
		// Whoever one exchanges private messages with is the likeliest
		// next name to type, whichever way the message went.
		if f.From == r.me {
			r.spoke(f.To)
		} else {
			r.spoke(f.From)
		}
	}
	return nil
}

// applyPresence follows a presence event: first everyone who left, then
// everyone who came, as wire's Presence says. It checks the whole event
// first, so that one past the roster's bounds changes nothing.
func (r *Roster) applyPresence(f wire.Frame) error {
	if len(f.Joined) > maxRosterMembers || len(f.Left) > maxRosterMembers {
		return brokenf("it announced more than %d members at once", maxRosterMembers)
	}
	for _, m := range f.Joined {
		if err := checkMember(m.Name, m.Role); err != nil {
			return err
		}
	}
	gone := make(map[string]bool, len(f.Left))
	for _, d := range f.Left {
		if _, present := r.roles[d.Name]; present && d.Name != r.me {
			gone[d.Name] = true
		}
	}
	n := len(r.roles) - len(gone)
	came := make(map[string]bool, len(f.Joined))
	for _, m := range f.Joined {
		if _, present := r.roles[m.Name]; (!present || gone[m.Name]) && !came[m.Name] {
			came[m.Name] = true
			n++
		}
	}
	if n > maxRosterMembers {
		return brokenf("it announced more than %d members", maxRosterMembers)
	}
	for name := range gone {
		r.forget(name)
	}
	for _, m := range f.Joined {
		r.roles[m.Name] = m.Role
		r.setKey(m.Name, m.Key)
		delete(r.away, m.Name)
		r.setWelcomeAway(m)
	}
	return nil
}

// forget takes name out of the roster: a member who left.
func (r *Roster) forget(name string) {
	delete(r.roles, name)
	delete(r.away, name)
	delete(r.keys, name)
	r.recent = slices.DeleteFunc(r.recent, func(n string) bool { return n == name })
}

// rename follows a member's change of name from old to name: its role, its
// key tag, its away text, its place among the recent speakers and, when it is the
// person, Me.
func (r *Roster) rename(old, name, role string) {
	why, away := r.away[old]
	key, keyed := r.keys[old]
	delete(r.roles, old)
	delete(r.away, old)
	delete(r.keys, old)
	r.roles[name] = role
	delete(r.keys, name) // a host that renames onto a name already there
	if away {
		r.away[name] = why
	}
	if keyed {
		r.keys[name] = key
	}
	// A host that renames onto a name already there (no real host does)
	// must not leave it twice among the recent speakers.
	if i := slices.Index(r.recent, name); i >= 0 {
		r.recent = slices.Delete(r.recent, i, i+1)
	}
	if i := slices.Index(r.recent, old); i >= 0 {
		r.recent[i] = name
	}
	if old == r.me {
		r.me = name
	}
}

// spoke moves name to the front of the recent speakers, of which it keeps
// maxRecent. The person themself is always last in Names, so is not
// tracked, nor is anyone not in the room (a message can cross its
// sender's leave).
func (r *Roster) spoke(name string) {
	if name == r.me {
		return
	}
	if _, ok := r.roles[name]; !ok {
		return
	}
	if i := slices.Index(r.recent, name); i >= 0 {
		r.recent = slices.Delete(r.recent, i, i+1)
	}
	if len(r.recent) >= maxRecent {
		r.recent = r.recent[:maxRecent-1]
	}
	r.recent = slices.Insert(r.recent, 0, name)
}

// sortByName sorts xs as compareNames orders their names, lowering each
// name once rather than at every comparison: a room may hold thousands,
// and completion sorts them all on each Tab.
func sortByName[T any](xs []T, name func(T) string) {
	type keyed struct {
		lower string
		x     T
	}
	ks := make([]keyed, len(xs))
	for i, x := range xs {
		ks[i] = keyed{strings.ToLower(name(x)), x}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if c := strings.Compare(a.lower, b.lower); c != 0 {
			return c
		}
		return strings.Compare(name(a.x), name(b.x))
	})
	for i := range ks {
		xs[i] = ks[i].x
	}
}

// compareNames orders names as a person reads a list: ignoring case first,
// then by bytes so that the order is total.
func compareNames(a, b string) int {
	if c := strings.Compare(strings.ToLower(a), strings.ToLower(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

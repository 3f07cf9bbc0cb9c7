package room

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"chatroom/host/wire"
)

// command is one "/name args" command: what a member is told about it (in
// the welcome and /help) and what it does.
type command struct {
	wire.Command
	// minArgs is how many words must follow the name; with fewer, the
	// caller is shown the usage and nothing runs.
	minArgs int
	// run does the command, and returns why not when it may not be done:
	// the member is told in one place (state.reportError), never by run.
	run func(s *state, c call) error
}

// call is one line a member typed, being handled: a message, or one use of
// a command.
type call struct {
	from *Member
	// ref is the line's ref (see Room.Say), which the frames answering the
	// line carry back.
	ref  uint64
	cmd  *command // nil for a message
	args string   // what followed the command's name, trimmed
}

// refFor returns the ref that a frame to m carries when c makes it: c's
// when m typed the line, so that only the answers to a line carry its
// ref, never what the line makes others get.
func (c call) refFor(m *Member) uint64 {
	if m == c.from {
		return c.ref
	}
	return 0
}

// userError is why a line was not done, written for the member who typed
// it: the room sends it as an error notice, in the words it holds. Any
// other error a line ends in is not for the member to read (see
// state.reportError).
type userError string

func (e userError) Error() string { return string(e) }

func refusef(format string, args ...any) error {
	return userError(fmt.Sprintf(format, args...))
}

// notSaved is why an act (a "ban", an "op") was not done when its record
// or its list could not be saved: what the store said, for the admin to
// put right.
func notSaved(act string, err error) error {
	return userError(act + " not saved: " + err.Error())
}

// Targets of commands, in wire.Command.Target.
const (
	targetMember = "member"
	targetBanned = "banned"
)

// commands is the one table of commands: parsing, permissions, the
// welcome's list and /help all read it. It is filled in by init because
// /help reads the table, which a variable's own initializer may not do.
var commands []command

func init() {
	commands = []command{
		{Command: wire.Command{Name: "help", Usage: "/help", Help: "list the commands you may use"},
			run: (*state).help},
		{Command: wire.Command{Name: "who", Usage: "/who", Help: "list who is here"},
			run: (*state).who},
		{Command: wire.Command{Name: "whois", Usage: "/whois NAME", Help: "who NAME is: role and key (and, to admins, address)", Target: targetMember},
			minArgs: 1, run: (*state).whois},
		{Command: wire.Command{Name: "me", Usage: "/me TEXT", Help: "tell the room what you are doing (/me waves)"},
			minArgs: 1, run: (*state).me},
		{Command: wire.Command{Name: "msg", Usage: "/msg NAME TEXT", Help: "send TEXT to NAME alone", Target: targetMember},
			minArgs: 2, run: (*state).msg},
		{Command: wire.Command{Name: "query", Usage: "/query NAME TEXT", Help: "the same as /msg", Target: targetMember},
			minArgs: 2, run: (*state).msg},
		{Command: wire.Command{Name: "w", Usage: "/w NAME TEXT", Help: "the same as /msg", Target: targetMember},
			minArgs: 2, run: (*state).msg},
		{Command: wire.Command{Name: "names", Usage: "/names", Help: "the same as /who"},
			run: (*state).who},
		{Command: wire.Command{Name: "nick", Usage: "/nick NAME", Help: "take the name NAME in this room (you come back by it too)"},
			minArgs: 1, run: (*state).nick},
		{Command: wire.Command{Name: "away", Usage: "/away [TEXT]", Help: "say you are away, and why (shown in /who, /whois and to whoever writes to you); with no text, that you are back"},
			run: (*state).away},
		{Command: wire.Command{Name: "topic", Usage: "/topic [TEXT|-delete]", Help: "show the room's topic, or set it to TEXT, or clear it (admins may; everyone, if the host allows)"},
			run: (*state).setTopic},
		{Command: wire.Command{Name: "files", Usage: "/files", Help: "list the files on offer to you"},
			run: (*state).listFiles},
		{Command: wire.Command{Name: "get", Usage: "/get N [DIR]", Help: "fetch file N (into DIR, or your download directory)"},
			minArgs: 1, run: (*state).getFile},
		{Command: wire.Command{Name: "unsend", Usage: "/unsend N", Help: "take back file N, which you offered (admins: any file)"},
			minArgs: 1, run: (*state).unsend},
		{Command: wire.Command{Name: "quit", Usage: "/quit", Help: "leave the room"},
			run: (*state).quit},
		{Command: wire.Command{Name: "kick", Usage: "/kick NAME [REASON]", Help: "send NAME out of the room; they may come back", Admin: true, Target: targetMember},
			minArgs: 1, run: (*state).kick},
		{Command: wire.Command{Name: "ban", Usage: "/ban NAME [--addr] [DURATION] [REASON]", Help: "send NAME out and keep their name and key out, and their address unless someone else here shares it (--addr: even then); for 10m, 1h30m, 2d, 1w, or until /unban", Admin: true, Target: targetMember},
			minArgs: 1, run: (*state).ban},
		{Command: wire.Command{Name: "unban", Usage: "/unban NAME|KEY", Help: "let a banned NAME (or key, as /bans shows it) back in", Admin: true, Target: targetBanned},
			minArgs: 1, run: (*state).unban},
		{Command: wire.Command{Name: "bans", Usage: "/bans [PAGE]", Help: "list who is banned, 50 to a page", Admin: true},
			run: (*state).listBans},
		{Command: wire.Command{Name: "op", Usage: "/op NAME", Help: "make NAME an admin, again whenever they come back with the same key", Admin: true, Target: targetMember},
			minArgs: 1, run: (*state).op},
		{Command: wire.Command{Name: "deop", Usage: "/deop NAME|KEY", Help: "make admin NAME (or key, as /ops shows it) a plain member again", Admin: true, Target: targetMember},
			minArgs: 1, run: (*state).deop},
		{Command: wire.Command{Name: "ops", Usage: "/ops", Help: "list the admins made with /op, remembered by key", Admin: true},
			run: (*state).listOps},
		{Command: wire.Command{Name: "modlog", Usage: "/modlog [N]", Help: "the last N acts of moderation (20 unless told)", Admin: true},
			run: (*state).showModLog},
		{Command: wire.Command{Name: "mute", Usage: "/mute NAME [--addr] [DURATION] [REASON]", Help: "let NAME read but not speak, and /msg only admins, by name, key and address unless someone else here shares it (--addr: even then); for 10m, 1h30m, 2d, 1w, or until /unmute", Admin: true, Target: targetMember},
			minArgs: 1, run: (*state).mute},
		{Command: wire.Command{Name: "unmute", Usage: "/unmute NAME|KEY", Help: "let NAME (or key, as /mutes shows it) speak again", Admin: true, Target: targetMember},
			minArgs: 1, run: (*state).unmute},
		{Command: wire.Command{Name: "mutes", Usage: "/mutes [PAGE]", Help: "list who is muted, 50 to a page", Admin: true},
			run: (*state).listMutes},
	}
}

// Commands returns every command, as the welcome lists them: each with
// Admin set when only admins may use it. The welcome lists them all, not
// only the member's, so that a client can follow the member's role as it
// changes (/op, /deop) without being told the commands again.
func Commands() []wire.Command {
	list := make([]wire.Command, len(commands))
	for i, c := range commands {
		list[i] = c.Command
	}
	return list
}

// commandsFor returns the commands a member with the given role
// (wire.Role*) may use, as /help lists them.
func commandsFor(role string) []wire.Command {
	var list []wire.Command
	for _, c := range commands {
		if !c.Admin || isAdminRole(role) {
			list = append(list, c.Command)
		}
	}
	return list
}

func findCommand(name string) (*command, bool) {
	for i := range commands {
		if commands[i].Name == name {
			return &commands[i], true
		}
	}
	return nil, false
}

func isAdminRole(role string) bool {
	return role == wire.RoleAdmin || role == wire.RoleOwner
}

// command runs the line "/"+line of c.
func (s *state) command(c call, line string) error {
	line, problem := cleanText(line)
	if problem != "" {
		return userError("command not run: " + problem)
	}
	// The name is what follows the slash up to the first space: "/ who"
	// is no command, as "/who" is.
	name, args := line, ""
	if i := strings.IndexFunc(line, unicode.IsSpace); i >= 0 {
		name, args = line[:i], line[i:]
	}
	cmd, ok := findCommand(strings.ToLower(name))
	switch {
	case !ok:
		return refusef("unknown command %q; /help lists the commands", "/"+name)
	case cmd.Admin && !isAdminRole(c.from.role):
		return refusef("not allowed: /%s is for admins", cmd.Name)
	case len(strings.Fields(args)) < cmd.minArgs:
		return userError("usage: " + cmd.Usage)
	}
	c.cmd, c.args = cmd, strings.TrimSpace(args)
	return cmd.run(s, c)
}

// cutWord splits s into its first word and the rest, both without the
// spaces around them.
func cutWord(s string) (word, rest string) {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

func (s *state) help(c call) error {
	var lines []string
	for _, cmd := range commandsFor(c.from.role) {
		lines = append(lines, cmd.Usage+" — "+cmd.Help)
	}
	s.reply(c, strings.Join(lines, "\n"))
	return nil
}

func (s *state) who(c call) error {
	// A muted member who joined while muted is not in the others' roster
	// (see Member.hidden): only admins are told it is here.
	var names, hidden []string
	for _, m := range s.members {
		if m.hidden && m != c.from {
			if isAdminRole(c.from.role) {
				hidden = append(hidden, m.name)
			}
			continue
		}
		name := m.name
		switch m.role {
		case wire.RoleOwner:
			name += " (host)"
		case wire.RoleAdmin:
			name += " (admin)"
		}
		if m.away != "" {
			name += " (away)"
		}
		names = append(names, name)
	}
	text := fmt.Sprintf("%d here: %s", len(names), strings.Join(names, ", "))
	if len(hidden) > 0 {
		text += fmt.Sprintf("; and %d muted, whom only admins see: %s", len(hidden), strings.Join(hidden, ", "))
	}
	s.reply(c, text)
	return nil
}

// whois tells who a member is: its role and the tag of its identity key,
// which outlasts any name; admins also see the address it connects from.
func (s *state) whois(c call) error {
	name, _ := cutWord(c.args)
	m, ok := s.lookup(name)
	if ok && m.hidden && m != c.from && !isAdminRole(c.from.role) {
		ok = false // as in /who (see Member.hidden)
	}
	if !ok {
		return noSuchMember(name)
	}
	role := "a member"
	switch m.role {
	case wire.RoleOwner:
		role = "the host"
	case wire.RoleAdmin:
		role = "an admin"
	}
	key := "no key"
	if m.identity != "" {
		key = "key " + wire.KeyTag(m.identity)
	}
	text := fmt.Sprintf("%s is %s, %s", m.name, role, key)
	if isAdminRole(c.from.role) && m.addr != "" {
		text += ", from " + m.addr
	}
	if m.away != "" {
		text += "; away: " + m.away
	}
	s.reply(c, text)
	return nil
}

func (s *state) me(c call) error {
	return s.message(c, wire.KindMe, c.args)
}

// msg sends a private message to its recipient and back to the sender, as
// the record of what was sent; no one else sees it. A muted member may
// write to an admin (to appeal), and to no one else.
func (s *state) msg(c call) error {
	name, text := cutWord(c.args)
	to, ok := s.lookup(name)
	if ok && to.hidden && to != c.from && !isAdminRole(c.from.role) {
		ok = false // as in /who and /whois (see Member.hidden)
	}
	if !ok {
		return noSuchMember(name)
	}
	switch u, muted := s.muteFor(c.from); {
	case muted && !isAdminRole(to.role):
		return mutedError(s.now(), u)
	case !muted:
		s.reveal(c.from) // as maySpeak does: it is about to speak
	}
	// The recipient sees the sender's ref too, as every member sees the
	// ref of a message event.
	f := wire.Frame{From: c.from.name, To: to.name, Text: text, Time: s.now(), Ref: c.ref}
	s.sendPrivate(to, f)
	if to != c.from {
		s.sendPrivate(c.from, f)
		if to.away != "" {
			s.reply(c, fmt.Sprintf("%s is away: %s", to.name, to.away))
		}
	}
	return nil
}

func noSuchMember(name string) error {
	return refusef("no one here is called %q", name)
}

func (s *state) quit(c call) error {
	s.sendAway(c.from, quitting)
	return nil
}

// removable finds the member an admin wants to send out with verb ("kick",
// "ban"), or returns why it may not be done.
func (s *state) removable(c call, name, verb string) (*Member, error) {
	target, ok := s.lookup(name)
	switch {
	case !ok:
		return nil, noSuchMember(name)
	case target == c.from:
		return nil, refusef("not allowed: you cannot %s yourself (/quit leaves the room)", verb)
	case target.role == wire.RoleOwner:
		return nil, notTheHost(target)
	}
	return target, nil
}

func notTheHost(owner *Member) error {
	return refusef("not allowed: %s is the room's host", owner.name)
}

func (s *state) kick(c call) error {
	name, reason := cutWord(c.args)
	target, err := s.removable(c, name, "kick")
	if err != nil {
		return err
	}
	if err := checkReason(reason); err != nil {
		return userError("not kicked: " + err.Error())
	}
	if err := s.logMod(c.from, ModEntry{Action: "kick", Target: target.name, Identity: target.identity, Reason: reason}); err != nil {
		return notSaved("kick", err)
	}
	s.sendAway(target, departure{code: wire.CodeKicked, by: c.from.name, reason: reason})
	if target.hidden {
		// No leave event tells the admin it was done.
		s.reply(c, fmt.Sprintf("kicked %s, whom the others did not see: muted", target.name))
	}
	return nil
}

// addrFlag, as the word after the name in /ban, bans the address even when
// others here share it.
const addrFlag = "--addr"

// ban adds a ban and sends out everyone here it keeps out. The ban takes
// effect only once it is saved: a ban that would be forgotten at the next
// start is not one an admin should be told was made.
//
// It holds against the name and the key of the member (here, or one who
// left a moment ago: see recentMember), and against its address only when
// no one else here shares that address, or the admin asks for it with
// --addr: a shared machine, a NAT or a classroom's terminal server should
// not lock out everyone behind it. An address ban never keeps out an admin
// or the owner (see join).
func (s *state) ban(c call) error {
	name, rest := cutWord(c.args)
	if name == addrFlag {
		// "/ban --addr NAME" would ban the name "--addr".
		return refusef("usage: %s (%s comes after the name)", c.cmd.Usage, addrFlag)
	}
	forceAddr := false
	if word, after := cutWord(rest); word == addrFlag {
		forceAddr, rest = true, after
	}
	expires, reason, err := s.cutUntil(rest)
	if err != nil {
		return userError("not banned: " + err.Error())
	}
	s.pruneBans()
	who, err := s.banTarget(c, name)
	if err != nil {
		return err
	}
	key := NameKey(who.name)
	if i := slices.IndexFunc(s.bans, func(b Ban) bool { return NameKey(b.Name) == key }); i >= 0 {
		if forceAddr {
			return s.banAddrToo(c, i, who)
		}
		return refusef("%s is already banned", s.bans[i].Name)
	}

	now := s.now()
	ban := Ban{Name: who.name, Identity: who.identity, By: c.from.name, Reason: reason, Time: now, Expires: expires}
	sharers := s.sharing(who)
	if who.addr != "" && (len(sharers) == 0 || forceAddr) {
		ban.Addr = who.addr
	}
	out := s.keptOut(ban, c.from)
	// The log is written first, as the list is before the confirmation:
	// an act on the list with no record of who did it must never be, while
	// a record of a ban whose list could not then be saved says no more
	// than what the admin tried (and was told failed).
	if err := s.logMod(c.from, ModEntry{Action: "ban", Target: ban.Name, Identity: ban.Identity, Reason: reason, Until: expires}); err != nil {
		return notSaved("ban", err)
	}
	if err := commitList(&s.bans, s.store.SaveBans, func(bans []Ban) []Ban { return append(bans, ban) }); err != nil {
		return notSaved("ban", err)
	}

	// The admins' copies of the list follow the confirmation, so that an
	// admin reads the answer to its command first.
	defer s.sendBansToAdmins()
	s.sendOut(out, c.from, ban)

	held := until(now, expires, "/unban")
	var text string
	switch {
	case who.here != nil:
		text = fmt.Sprintf("banned %s %s: %s", ban.Name, held, banParts(ban))
	case !who.left.IsZero():
		text = fmt.Sprintf("%s left %s: banned %s %s", ban.Name, ago(now, who.left), banParts(ban), held)
	default:
		text = fmt.Sprintf("%s is not here: banned the name only, %s", ban.Name, held)
	}
	if who.addr != "" && ban.Addr == "" {
		text += fmt.Sprintf("; not the address %s, which %s %s (/ban %s %s bans it too)",
			who.addr, joinAnd(sharers), shareVerb(sharers), ban.Name, addrFlag)
	}
	text += sentOutToo(out, ban.Name)
	s.reply(c, text)
	return nil
}

// banTarget finds whom an admin's /ban NAME is about: the member here, or
// else the one who left under that name a moment ago, or else only a name
// to keep out; or why not, when it may not be done.
func (s *state) banTarget(c call, name string) (banned, error) {
	if target, here := s.lookup(name); here {
		if _, err := s.removable(c, name, "ban"); err != nil {
			return banned{}, err
		}
		if err := s.mayBanKey(c, target.identity); err != nil {
			return banned{}, err
		}
		return banned{name: target.name, identity: target.identity, addr: target.addr, here: target}, nil
	}
	if err := ValidateName(name); err != nil {
		return banned{}, refusef("no one here is called %q, and it cannot be banned by name: %v", name, err)
	}
	if r, ok := s.mod.recentFor(NameKey(name), s.now()); ok {
		if err := s.mayBanKey(c, r.identity); err != nil {
			return banned{}, err
		}
		return banned{name: r.name, identity: r.identity, addr: r.addr, left: r.left}, nil
	}
	return banned{name: name}, nil
}

// mayBanKey returns why not when banning identity would ban the admin's own
// key or the owner's: a ban on it would send them out.
func (s *state) mayBanKey(c call, identity string) error {
	if identity == "" {
		return nil
	}
	if identity == c.from.identity {
		return refusef("not allowed: that is your own key (%s); you cannot ban yourself", wire.KeyTag(identity))
	}
	for _, m := range s.members {
		if m.role == wire.RoleOwner && m.identity == identity {
			return notTheHost(m)
		}
	}
	return nil
}

// banAddrToo adds the address of whom the ban at i keeps out (here, or
// recently left), for /ban NAME --addr after a ban that spared it.
func (s *state) banAddrToo(c call, i int, who banned) error {
	old := s.bans[i]
	switch {
	case old.Addr != "":
		return refusef("%s is already banned, with the address %s", old.Name, old.Addr)
	case who.addr == "":
		return refusef("%s is already banned, and no address is known for them", old.Name)
	}
	ban := old
	ban.Addr = who.addr
	out := s.keptOut(ban, c.from)
	if err := s.logMod(c.from, ModEntry{Action: "ban", Target: ban.Name, Identity: ban.Identity, Reason: withReason("the address "+ban.Addr+" too", ban.Reason), Until: ban.Expires}); err != nil {
		return notSaved("ban", err)
	}
	if err := commitList(&s.bans, s.store.SaveBans, func(bans []Ban) []Ban { bans[i] = ban; return bans }); err != nil {
		return notSaved("ban", err)
	}
	s.sendOut(out, c.from, ban)
	s.reply(c, fmt.Sprintf("banned the address %s too, with %s %s", ban.Addr, ban.Name, until(s.now(), ban.Expires, "/unban"))+
		sentOutToo(out, ban.Name))
	return nil
}

// banned is whom a /ban is about.
type banned struct {
	name, identity, addr string
	here                 *Member   // the member, when it is here
	left                 time.Time // when it left, when it is a recent member
}

// sharing returns the names of the members here, other than those the ban
// on who sends out anyway, who connect from who's address.
func (s *state) sharing(who banned) []string {
	if who.addr == "" {
		return nil
	}
	var names []string
	for _, m := range s.members {
		if m.addr == who.addr && m.key != NameKey(who.name) && (who.identity == "" || m.identity != who.identity) {
			names = append(names, m.name)
		}
	}
	return names
}

// keptOut returns the members here whom ban keeps out, who are sent out
// with it: under its name, with its key, and, when it holds the address,
// from it, but for those an address ban spares (see addrBanExempt). The
// owner and the admin banning are never among them.
func (s *state) keptOut(ban Ban, by *Member) []*Member {
	key := NameKey(ban.Name)
	var out []*Member
	for _, m := range s.members {
		if m.role == wire.RoleOwner || m == by || m.gone {
			continue
		}
		if m.key == key || (ban.Identity != "" && m.identity == ban.Identity) ||
			(ban.Addr != "" && m.addr == ban.Addr && !s.addrBanExempt(m)) {
			out = append(out, m)
		}
	}
	return out
}

// addrBanExempt reports whether m is spared by an address ban: an admin,
// the owner, or a member whose key was made an admin with /op, as at join.
func (s *state) addrBanExempt(m *Member) bool {
	return isAdminRole(m.role) || s.isOp(m.identity)
}

// sendOut closes the connections of the members a ban keeps out.
func (s *state) sendOut(out []*Member, by *Member, ban Ban) {
	ban.Reason = shortText(ban.Reason, maxReason) // it may be from a file
	closedText := strings.TrimPrefix(untilText(s.now(), ban.Expires), " ")
	if ban.Reason != "" {
		closedText += ": " + ban.Reason
	}
	for _, m := range out {
		if m.gone {
			continue // dropped as too slow by an earlier one's leave event
		}
		s.sendAway(m, departure{code: wire.CodeBanned, by: by.name, reason: ban.Reason, text: closedText})
	}
}

// banParts says what a ban holds against: "the name, the key K and the
// address A".
func banParts(b Ban) string {
	parts := []string{"the name"}
	if b.Identity != "" {
		parts = append(parts, "the key "+wire.KeyTag(b.Identity))
	}
	if b.Addr != "" {
		parts = append(parts, "the address "+b.Addr)
	}
	if len(parts) == 1 {
		return "the name only"
	}
	return joinAnd(parts)
}

// sentOutToo names, for a ban's confirmation, the members it sent out
// besides the one named.
func sentOutToo(out []*Member, name string) string {
	var others []string
	for _, m := range out {
		if m.key != NameKey(name) {
			others = append(others, m.name)
		}
	}
	if len(others) == 0 {
		return ""
	}
	return "; sent out too: " + joinAnd(others)
}

// joinAnd lists words as a sentence does: "a", "a and b", "a, b and c";
// past namesShown of them, "a, b, ... and 12 others".
func joinAnd(words []string) string {
	if len(words) > namesShown {
		return strings.Join(words[:namesShown], ", ") + fmt.Sprintf(" and %d others", len(words)-namesShown)
	}
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// namesShown bounds the names a confirmation lists (those who share an
// address, those sent out with a ban): a NAT may hide a whole room.
const namesShown = 10

func shareVerb(names []string) string {
	if len(names) == 1 {
		return "shares"
	}
	return "share"
}

func (s *state) unban(c call) error {
	name, _ := cutWord(c.args)
	key := NameKey(name)
	s.pruneBans()
	matches := func(b Ban) bool {
		return NameKey(b.Name) == key || (b.Identity != "" && wire.KeyTag(b.Identity) == name)
	}
	i := slices.IndexFunc(s.bans, matches)
	if i < 0 {
		return refusef("%q is not banned", name)
	}
	shown := s.bans[i].Name // as it was displayed, which the admin may have typed otherwise
	if err := s.logMod(c.from, ModEntry{Action: "unban", Target: shown}); err != nil {
		return notSaved("unban", err)
	}
	// Bans loaded from a file could hold the name twice; unban removes it
	// entirely.
	if err := commitList(&s.bans, s.store.SaveBans, func(bans []Ban) []Ban { return slices.DeleteFunc(bans, matches) }); err != nil {
		return notSaved("unban", err)
	}
	s.reply(c, "unbanned "+shown)
	s.sendBansToAdmins()
	return nil
}

// banNames returns the names on the ban list, each once, for clients to
// complete "/unban" with, in the list's order: the latest of them, up to
// maxBanNames bytes, so that the bans frame (and the welcome, which
// carries them too) stays far under what a client reads however long the
// list grows.
func (s *state) banNames() []string {
	names := make([]string, 0, len(s.bans))
	seen := make(map[string]bool, len(s.bans))
	for _, b := range s.bans {
		if key := NameKey(b.Name); !seen[key] {
			seen[key] = true
			names = append(names, b.Name)
		}
	}
	size, first := 0, len(names)
	for first > 0 {
		size += jsonSize(names[first-1]) + 3 // quotes and a comma
		if size > maxBanNames {
			break
		}
		first--
	}
	return names[first:]
}

// maxBanNames bounds the encoded size of the names banNames returns.
const maxBanNames = 32 << 10

// sendBans gives m the ban list; only admins are given it.
func (s *state) sendBans(m *Member) {
	s.sendFrame(m, &wire.Frame{Type: wire.TypeBans, Bans: s.banNames()})
}

// sendBansToAdmins gives every admin the ban list after it changed. It is
// encoded once, as events are.
func (s *state) sendBansToAdmins() {
	frame := encode(&wire.Frame{Type: wire.TypeBans, Bans: s.banNames()})
	for _, m := range s.members {
		if isAdminRole(m.role) {
			s.deliver(m, frame)
		}
	}
}

func (s *state) listBans(c call) error {
	s.pruneBans()
	if len(s.bans) == 0 {
		s.reply(c, "no one is banned")
		return nil
	}
	return s.listPage(c, len(s.bans), "banned", func(i int) string {
		b := s.bans[i]
		return s.describeSanction(b.Name, b.Addr, b.Identity, b.By, b.Time, b.Expires, b.Reason)
	})
}

// describeSanction is one line of /bans or /mutes: whom (name, address,
// key), who did it and when, until when, and why. Each field is cut to a
// bound, so that a list loaded from a file written by hand, or before
// reasons were bounded, still makes lines of a reasonable size.
func (s *state) describeSanction(name, addr, identity, by string, at, until time.Time, reason string) string {
	line := shortText(name, maxNameShown)
	if addr != "" {
		line += " (" + shortText(addr, maxNameShown) + ")"
	}
	if identity != "" {
		line += " key " + wire.KeyTag(identity)
	}
	line += fmt.Sprintf(", by %s on %s", shortText(by, maxNameShown), s.stamp(at))
	if !until.IsZero() {
		line += ", until " + s.stamp(until)
	}
	if reason != "" {
		line += ": " + shortText(reason, maxReason)
	}
	return line
}

// op makes a member an admin. Besides the role event, which everyone gets,
// the new admin gets a notice naming the commands it may now use (a role
// event does not say what a role may do) and the ban list, which only
// admins are given. A member with an identity key is remembered as an
// admin by that key, and the op takes effect only once that is saved, as a
// ban does; a member without one is an admin for this visit only.
func (s *state) op(c call) error {
	name, _ := cutWord(c.args)
	target, ok := s.lookup(name)
	switch {
	case !ok:
		return noSuchMember(name)
	case target.role == wire.RoleOwner:
		return notTheHost(target)
	case target.role == wire.RoleAdmin:
		return refusef("%s is already an admin", target.name)
	}
	if err := s.logMod(c.from, ModEntry{Action: "op", Target: target.name, Identity: target.identity}); err != nil {
		return notSaved("op", err)
	}
	if target.identity != "" {
		op := Op{Identity: target.identity, Name: target.name, By: c.from.name, Time: s.now()}
		if err := commitList(&s.ops, s.store.SaveOps, func(ops []Op) []Op { return append(withoutOp(ops, op.Identity), op) }); err != nil {
			return notSaved("op", err)
		}
	}
	s.setRole(target, wire.RoleAdmin, c.from)
	s.notify(target, c.refFor(target), fmt.Sprintf("%s made you an admin: you may now use %s (/help explains them)",
		c.from.name, strings.Join(adminCommandNames(), ", ")))
	s.sendBans(target)
	if target.identity == "" {
		s.reply(c, fmt.Sprintf("%s has no identity key: an admin for this visit only", target.name))
	}
	return nil
}

// withoutOp returns ops without identity's.
func withoutOp(ops []Op, identity string) []Op {
	return slices.DeleteFunc(ops, func(o Op) bool { return o.Identity == identity })
}

// isOp reports whether identity was made an admin with /op.
func (s *state) isOp(identity string) bool {
	return identity != "" && slices.ContainsFunc(s.ops, func(o Op) bool { return o.Identity == identity })
}

// deop makes an admin a plain member again, and forgets its key as an
// admin's. An admin who is not here is named by the name it was made an
// admin under, or by its key tag. The owner's rights come from running the
// host, so no one can take them.
func (s *state) deop(c call) error {
	name, _ := cutWord(c.args)
	target, here := s.lookup(name)
	if !here {
		key := NameKey(name)
		i := slices.IndexFunc(s.ops, func(o Op) bool { return NameKey(o.Name) == key || wire.KeyTag(o.Identity) == name })
		if i < 0 {
			return refusef("no one here is called %q, and no admin is remembered by that name or key (/ops lists them)", name)
		}
		op := s.ops[i]
		if err := s.logMod(c.from, ModEntry{Action: "deop", Target: op.Name, Identity: op.Identity}); err != nil {
			return notSaved("deop", err)
		}
		if err := commitList(&s.ops, s.store.SaveOps, func(ops []Op) []Op { return slices.Delete(ops, i, i+1) }); err != nil {
			return notSaved("deop", err)
		}
		s.reply(c, fmt.Sprintf("%s (key %s) is no longer an admin", op.Name, wire.KeyTag(op.Identity)))
		return nil
	}
	switch {
	case target.role == wire.RoleOwner:
		return notTheHost(target)
	case target.role != wire.RoleAdmin:
		return refusef("%s is not an admin", target.name)
	}
	if err := s.logMod(c.from, ModEntry{Action: "deop", Target: target.name, Identity: target.identity}); err != nil {
		return notSaved("deop", err)
	}
	if s.isOp(target.identity) {
		if err := commitList(&s.ops, s.store.SaveOps, func(ops []Op) []Op { return withoutOp(ops, target.identity) }); err != nil {
			return notSaved("deop", err)
		}
	}
	s.setRole(target, wire.RoleMember, c.from)
	s.notify(target, c.refFor(target), fmt.Sprintf("%s made you a plain member: the admin commands are no longer yours", c.from.name))
	return nil
}

func (s *state) listOps(c call) error {
	if len(s.ops) == 0 {
		s.reply(c, "no one is an admin by key (/op makes one)")
		return nil
	}
	lines := []string{fmt.Sprintf("%d admins by key:", len(s.ops))}
	for _, o := range s.ops {
		lines = append(lines, fmt.Sprintf("%s key %s, by %s on %s", shortText(o.Name, maxNameShown), wire.KeyTag(o.Identity), shortText(o.By, maxNameShown), s.stamp(o.Time)))
	}
	s.reply(c, strings.Join(lines, "\n"))
	return nil
}

// setRole gives m role and tells everyone. A member the others do not see
// (see Member.hidden) is shown first, so that no one's roster gets a role
// for a name it does not hold.
func (s *state) setRole(m *Member, role string, by *Member) {
	s.reveal(m)
	m.role = role
	s.broadcast(&wire.Frame{Kind: wire.KindRole, Name: m.name, Role: role, By: by.name})
}

func adminCommandNames() []string {
	var names []string
	for _, c := range commands {
		if c.Admin {
			names = append(names, "/"+c.Name)
		}
	}
	return names
}

// muteFor returns the mute on m that is still in force, if any.
func (s *state) muteFor(m *Member) (Mute, bool) {
	s.pruneMutes()
	i := slices.IndexFunc(s.mutes, func(u Mute) bool { return s.muteCatches(u, m) })
	if i < 0 {
		return Mute{}, false
	}
	return s.mutes[i], true
}

// muteCatches reports whether u holds against m: by name or key, or by
// address under the rule of an address ban, which spares admins and the
// owner (see addrBanExempt).
func (s *state) muteCatches(u Mute, m *Member) bool {
	return u.matches(m) || (u.Addr != "" && m.addr == u.Addr && !s.addrBanExempt(m))
}

// pruneMutes forgets the mutes whose time is up; like bans, the file keeps
// them until the next change.
func (s *state) pruneMutes() {
	now := s.now()
	s.mutes = slices.DeleteFunc(s.mutes, func(u Mute) bool { return !u.Until.IsZero() && !now.Before(u.Until) })
}

// maySpeak returns, for a muted member alone, that what it said was not
// sent.
//
// A member the others do not see (see Member.hidden) whose mute has ended
// is shown to them when it is about to speak, so that no one gets a line
// from a name not in its roster.
func (s *state) maySpeak(m *Member) error {
	u, muted := s.muteFor(m)
	if !muted {
		s.reveal(m)
		return nil
	}
	return mutedError(s.now(), u)
}

func mutedError(now time.Time, u Mute) error {
	return userError("not sent: you are muted" + untilText(now, u.Until))
}

// mute lets a member read but not speak. Like a ban, it takes effect only
// once it is saved, and its log entry is written first; and like a ban it
// holds against the member's address too when no one else here shares it,
// so that the muted cannot come back without its key under a new name and
// speak (see Mute). --addr mutes a shared address too, as it bans one:
// everyone on it who is not an admin, the owner or an /op key.
func (s *state) mute(c call) error {
	name, rest := cutWord(c.args)
	if name == addrFlag {
		// "/mute --addr NAME" would mute the name "--addr".
		return refusef("usage: %s (%s comes after the name)", c.cmd.Usage, addrFlag)
	}
	forceAddr := false
	if word, after := cutWord(rest); word == addrFlag {
		forceAddr, rest = true, after
	}
	target, err := s.removable(c, name, "mute")
	if err != nil {
		return err
	}
	end, reason, err := s.cutUntil(rest)
	if err != nil {
		return userError("not muted: " + err.Error())
	}
	if _, muted := s.muteFor(target); muted {
		return refusef("%s is already muted", target.name)
	}
	now := s.now()
	u := Mute{Name: target.name, Identity: target.identity, Until: end, By: c.from.name, Reason: reason, Time: now, nameKey: target.key}
	sharers := s.sharing(banned{name: target.name, identity: target.identity, addr: target.addr})
	if len(sharers) == 0 || forceAddr {
		u.Addr = target.addr
	}
	if err := s.logMod(c.from, ModEntry{Action: "mute", Target: target.name, Identity: target.identity, Reason: reason, Until: end}); err != nil {
		return notSaved("mute", err)
	}
	if err := commitList(&s.mutes, s.store.SaveMutes, func(mutes []Mute) []Mute { return append(mutes, u) }); err != nil {
		return notSaved("mute", err)
	}
	s.notify(target, c.refFor(target), withReason(fmt.Sprintf("%s muted you%s: you can read, not speak", c.from.name, untilText(now, end)), reason))
	text := fmt.Sprintf("muted %s %s", target.name, until(now, end, "/unmute"))
	if target.addr != "" && u.Addr == "" {
		text += fmt.Sprintf("; not the address %s, which %s %s (/mute %s %s mutes it too)",
			target.addr, joinAnd(sharers), shareVerb(sharers), target.name, addrFlag)
	} else if u.Addr != "" && len(sharers) > 0 {
		text += fmt.Sprintf("; the address %s too, which %s %s", target.addr, joinAnd(sharers), shareVerb(sharers))
	}
	s.reply(c, text)
	return nil
}

// unmute lifts a mute. A member who is not here is named by the name it
// was muted under, or by its key tag.
func (s *state) unmute(c call) error {
	name, _ := cutWord(c.args)
	s.pruneMutes()
	target, here := s.lookup(name)
	key := NameKey(name)
	matches := func(u Mute) bool {
		return u.nameKey == key || (u.Identity != "" && wire.KeyTag(u.Identity) == name)
	}
	if here {
		matches = func(u Mute) bool { return s.muteCatches(u, target) }
	}
	i := slices.IndexFunc(s.mutes, matches)
	if i < 0 {
		if here {
			name = target.name
		}
		return refusef("%s is not muted", name)
	}
	shown := s.mutes[i].Name
	if here {
		shown = target.name
	}
	if err := s.logMod(c.from, ModEntry{Action: "unmute", Target: shown}); err != nil {
		return notSaved("unmute", err)
	}
	if err := commitList(&s.mutes, s.store.SaveMutes, func(mutes []Mute) []Mute { return slices.DeleteFunc(mutes, matches) }); err != nil {
		return notSaved("unmute", err)
	}
	if here {
		s.notify(target, c.refFor(target), c.from.name+" unmuted you: you can speak again")
		s.reveal(target)
	}
	s.reply(c, "unmuted "+shown)
	return nil
}

func (s *state) listMutes(c call) error {
	s.pruneMutes()
	if len(s.mutes) == 0 {
		s.reply(c, "no one is muted")
		return nil
	}
	return s.listPage(c, len(s.mutes), "muted", func(i int) string {
		u := s.mutes[i]
		return s.describeSanction(u.Name, u.Addr, u.Identity, u.By, u.Time, u.Until, u.Reason)
	})
}

// logMod records an act of moderation by by, keeping the latest entries
// for /modlog and handing each to the Store. It is called before
// the act is done and confirmed, as the lists are saved before: when the
// entry cannot be saved it returns the error, and the act is not done, so
// that no act is ever confirmed whose record a crash could lose.
func (s *state) logMod(by *Member, e ModEntry) error {
	e.Time, e.By = s.now(), by.name
	if err := s.store.SaveModEntry(e); err != nil {
		return err
	}
	s.modLog = append(s.modLog, e)
	if over := len(s.modLog) - modLogKept; over > 0 {
		s.modLog = slices.Delete(s.modLog, 0, over)
	}
	return nil
}

func (s *state) showModLog(c call) error {
	n := 20
	if word, _ := cutWord(c.args); word != "" {
		v, err := strconv.Atoi(word)
		if err != nil || v <= 0 {
			return userError("usage: " + c.cmd.Usage)
		}
		n = min(v, modLogKept)
	}
	if len(s.modLog) == 0 {
		s.reply(c, "the moderation log is empty")
		return nil
	}
	entries := s.modLog[max(0, len(s.modLog)-n):]
	lines := make([]string, len(entries))
	for i, e := range entries {
		line := fmt.Sprintf("%s %s: %s %s", s.stamp(e.Time), shortText(e.By, maxNameShown), shortText(e.Action, maxNameShown), shortText(e.Target, maxNameShown))
		if e.Identity != "" {
			line += " (key " + wire.KeyTag(e.Identity) + ")"
		}
		if !e.Until.IsZero() {
			line += " until " + s.stamp(e.Until)
		}
		if e.Reason != "" {
			line += ": " + shortText(e.Reason, maxReason)
		}
		lines[i] = line
	}
	// However long the log's lines, notify splits the answer into frames a
	// client reads (see sendNotice).
	s.reply(c, strings.Join(lines, "\n"))
	return nil
}

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
	run     func(s *state, c call)
}

// call is one use of a command.
type call struct {
	from *Member
	cmd  *command
	args string // what followed the command's name, trimmed
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
		{Command: wire.Command{Name: "quit", Usage: "/quit", Help: "leave the room"},
			run: (*state).quit},
		{Command: wire.Command{Name: "kick", Usage: "/kick NAME [REASON]", Help: "send NAME out of the room; they may come back", Admin: true, Target: targetMember},
			minArgs: 1, run: (*state).kick},
		{Command: wire.Command{Name: "ban", Usage: "/ban NAME [DURATION] [REASON]", Help: "send NAME out and keep their name, address and key out (for 10m, 2h, 3d, or until /unban)", Admin: true, Target: targetMember},
			minArgs: 1, run: (*state).ban},
		{Command: wire.Command{Name: "unban", Usage: "/unban NAME|KEY", Help: "let a banned NAME (or key, as /bans shows it) back in", Admin: true, Target: targetBanned},
			minArgs: 1, run: (*state).unban},
		{Command: wire.Command{Name: "bans", Usage: "/bans", Help: "list who is banned", Admin: true},
			run: (*state).listBans},
		{Command: wire.Command{Name: "op", Usage: "/op NAME", Help: "make NAME an admin, again whenever they come back with the same key", Admin: true, Target: targetMember},
			minArgs: 1, run: (*state).op},
		{Command: wire.Command{Name: "deop", Usage: "/deop NAME|KEY", Help: "make admin NAME (or key, as /ops shows it) a plain member again", Admin: true, Target: targetMember},
			minArgs: 1, run: (*state).deop},
		{Command: wire.Command{Name: "ops", Usage: "/ops", Help: "list the admins made with /op, remembered by key", Admin: true},
			run: (*state).listOps},
		{Command: wire.Command{Name: "modlog", Usage: "/modlog [N]", Help: "the last N acts of moderation (20 unless told)", Admin: true},
			run: (*state).showModLog},
		{Command: wire.Command{Name: "mute", Usage: "/mute NAME [DURATION] [REASON]", Help: "let NAME read but not speak (for 10m, 2h, 3d, or until /unmute)", Admin: true, Target: targetMember},
			minArgs: 1, run: (*state).mute},
		{Command: wire.Command{Name: "unmute", Usage: "/unmute NAME|KEY", Help: "let NAME (or key, as /mutes shows it) speak again", Admin: true, Target: targetMember},
			minArgs: 1, run: (*state).unmute},
		{Command: wire.Command{Name: "mutes", Usage: "/mutes", Help: "list who is muted", Admin: true},
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

// command runs the line "/"+line that m typed.
func (s *state) command(m *Member, line string) {
	line, problem := cleanText(line)
	if problem != "" {
		s.notifyError(m, "command not run: "+problem)
		return
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
		s.notifyError(m, fmt.Sprintf("unknown command %q; /help lists the commands", "/"+name))
	case cmd.Admin && !isAdminRole(m.role):
		s.notifyError(m, fmt.Sprintf("not allowed: /%s is for admins", cmd.Name))
	case len(strings.Fields(args)) < cmd.minArgs:
		s.notifyError(m, "usage: "+cmd.Usage)
	default:
		cmd.run(s, call{from: m, cmd: cmd, args: strings.TrimSpace(args)})
	}
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

func (s *state) help(c call) {
	var lines []string
	for _, cmd := range commandsFor(c.from.role) {
		lines = append(lines, cmd.Usage+" — "+cmd.Help)
	}
	s.notify(c.from, strings.Join(lines, "\n"))
}

func (s *state) who(c call) {
	names := make([]string, len(s.members))
	for i, m := range s.members {
		names[i] = m.name
		switch m.role {
		case wire.RoleOwner:
			names[i] += " (host)"
		case wire.RoleAdmin:
			names[i] += " (admin)"
		}
	}
	s.notify(c.from, fmt.Sprintf("%d here: %s", len(names), strings.Join(names, ", ")))
}

// whois tells who a member is: its role and the tag of its identity key,
// which outlasts any name; admins also see the address it connects from.
func (s *state) whois(c call) {
	name, _ := cutWord(c.args)
	m, ok := s.lookup(name)
	if !ok {
		s.notifyError(c.from, noSuchMember(name))
		return
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
	s.notify(c.from, text)
}

func (s *state) me(c call) {
	s.message(c.from, wire.KindMe, c.args)
}

// msg sends a private message to its recipient and back to the sender, as
// the record of what was sent; no one else sees it.
func (s *state) msg(c call) {
	if s.refuseMuted(c.from) {
		return
	}
	name, text := cutWord(c.args)
	to, ok := s.lookup(name)
	if !ok {
		s.notifyError(c.from, noSuchMember(name))
		return
	}
	// The recipient sees the sender's ref too, as every member sees the
	// ref of a message event.
	f := wire.Frame{From: c.from.name, To: to.name, Text: text, Time: s.now(), Ref: s.refFor(c.from)}
	s.sendPrivate(to, f)
	if to != c.from {
		s.sendPrivate(c.from, f)
	}
}

func noSuchMember(name string) string {
	return fmt.Sprintf("no one here is called %q", name)
}

func (s *state) quit(c call) {
	s.depart(c.from,
		&wire.Frame{Type: wire.TypeClosed, Code: wire.CodeLeft, Text: leftText},
		wire.Frame{Kind: wire.KindLeave, Code: wire.CodeLeft})
}

// removable finds the member an admin wants to send out with verb ("kick",
// "ban"), or tells the admin why it may not be done.
func (s *state) removable(c call, name, verb string) (*Member, bool) {
	target, ok := s.lookup(name)
	switch {
	case !ok:
		s.notifyError(c.from, noSuchMember(name))
	case target == c.from:
		s.notifyError(c.from, fmt.Sprintf("not allowed: you cannot %s yourself (/quit leaves the room)", verb))
	case target.role == wire.RoleOwner:
		s.notifyError(c.from, notTheHost(target))
	default:
		return target, true
	}
	return nil, false
}

func notTheHost(owner *Member) string {
	return fmt.Sprintf("not allowed: %s is the room's host", owner.name)
}

func (s *state) kick(c call) {
	name, reason := cutWord(c.args)
	target, ok := s.removable(c, name, "kick")
	if !ok {
		return
	}
	s.depart(target,
		&wire.Frame{Type: wire.TypeClosed, Code: wire.CodeKicked, By: c.from.name, Text: reason},
		wire.Frame{Kind: wire.KindLeave, Code: wire.CodeKicked, By: c.from.name, Text: reason})
	s.logMod(c.from, ModEntry{Action: "kick", Target: target.name, Identity: target.identity, Reason: reason})
}

// ban adds a ban and, when the banned member is here, sends it out. The ban
// takes effect only once it is saved: a ban that would be forgotten at the
// next start is not one an admin should be told was made.
func (s *state) ban(c call) {
	name, reason := cutWord(c.args)
	expires, reason := s.cutUntil(reason)
	s.pruneBans()
	target, here := s.lookup(name)
	if here {
		if _, ok := s.removable(c, name, "ban"); !ok {
			return
		}
		name = target.name
	} else if err := ValidateName(name); err != nil {
		s.notifyError(c.from, fmt.Sprintf("no one here is called %q, and it cannot be banned by name: %v", name, err))
		return
	}
	key := NameKey(name)
	for _, b := range s.bans {
		if NameKey(b.Name) == key {
			s.notifyError(c.from, fmt.Sprintf("%s is already banned", b.Name))
			return
		}
	}

	ban := Ban{Name: name, By: c.from.name, Reason: reason, Time: s.now(), Expires: expires}
	if here {
		ban.Addr, ban.Identity = target.addr, target.identity
	}
	// A new slice, so that s.bans is untouched if saving fails.
	bans := append(slices.Clip(s.bans), ban)
	if err := saveList(s.saveBans, bans); err != nil {
		s.notifyError(c.from, "ban not saved: "+err.Error())
		return
	}
	s.bans = bans
	s.logMod(c.from, ModEntry{Action: "ban", Target: name, Identity: ban.Identity, Reason: reason, Until: expires})

	// The admins' copies of the list follow the confirmation, so that an
	// admin reads the answer to its command first.
	defer s.sendBansToAdmins()
	if !here {
		s.notify(c.from, fmt.Sprintf("%s is not here: banned the name only", name))
		return
	}
	s.depart(target,
		&wire.Frame{Type: wire.TypeClosed, Code: wire.CodeBanned, By: c.from.name, Text: reason},
		wire.Frame{Kind: wire.KindLeave, Code: wire.CodeBanned, By: c.from.name, Text: reason})
	switch {
	case ban.Addr == "":
		s.notify(c.from, fmt.Sprintf("banned %s (the name only: no address is known)", name))
	case ban.Identity == "":
		s.notify(c.from, fmt.Sprintf("banned %s and the address %s", name, ban.Addr))
	default:
		s.notify(c.from, fmt.Sprintf("banned %s, the address %s and the key %s", name, ban.Addr, wire.KeyTag(ban.Identity)))
	}
}

func (s *state) unban(c call) {
	name, _ := cutWord(c.args)
	key := NameKey(name)
	s.pruneBans()
	matches := func(b Ban) bool {
		return NameKey(b.Name) == key || (b.Identity != "" && wire.KeyTag(b.Identity) == name)
	}
	i := slices.IndexFunc(s.bans, matches)
	if i < 0 {
		s.notifyError(c.from, fmt.Sprintf("%q is not banned", name))
		return
	}
	shown := s.bans[i].Name // as it was displayed, which the admin may have typed otherwise
	// A new slice, so that s.bans is untouched if saving fails. Bans loaded
	// from a file could hold the name twice; unban removes it entirely.
	bans := slices.DeleteFunc(slices.Clone(s.bans), matches)
	if err := saveList(s.saveBans, bans); err != nil {
		s.notifyError(c.from, "unban not saved: "+err.Error())
		return
	}
	s.bans = bans
	s.notify(c.from, "unbanned "+shown)
	s.logMod(c.from, ModEntry{Action: "unban", Target: shown})
	s.sendBansToAdmins()
}

// banNames returns the names on the ban list, each once, for clients to
// complete "/unban" with.
func (s *state) banNames() []string {
	names := make([]string, 0, len(s.bans))
	seen := make(map[string]bool, len(s.bans))
	for _, b := range s.bans {
		if key := NameKey(b.Name); !seen[key] {
			seen[key] = true
			names = append(names, b.Name)
		}
	}
	return names
}

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

func (s *state) listBans(c call) {
	s.pruneBans()
	if len(s.bans) == 0 {
		s.notify(c.from, "no one is banned")
		return
	}
	lines := []string{fmt.Sprintf("%d banned:", len(s.bans))}
	for _, b := range s.bans {
		lines = append(lines, describeSanction(b.Name, b.Addr, b.Identity, b.By, b.Time, b.Expires, b.Reason))
	}
	s.notify(c.from, strings.Join(lines, "\n"))
}

// describeSanction is one line of /bans or /mutes: whom (name, address,
// key), who did it and when, until when, and why.
func describeSanction(name, addr, identity, by string, at, until time.Time, reason string) string {
	line := name
	if addr != "" {
		line += " (" + addr + ")"
	}
	if identity != "" {
		line += " key " + wire.KeyTag(identity)
	}
	line += fmt.Sprintf(", by %s on %s", by, at.Format("2006-01-02 15:04"))
	if !until.IsZero() {
		line += ", until " + until.Format("2006-01-02 15:04")
	}
	if reason != "" {
		line += ": " + reason
	}
	return line
}

// op makes a member an admin. Besides the role event, which everyone gets,
// the new admin gets a notice naming the commands it may now use (a role
// event does not say what a role may do) and the ban list, which only
// admins are given. A member with an identity key is remembered as an
// admin by that key, and the op takes effect only once that is saved, as a
// ban does; a member without one is an admin for this visit only.
func (s *state) op(c call) {
	name, _ := cutWord(c.args)
	target, ok := s.lookup(name)
	switch {
	case !ok:
		s.notifyError(c.from, noSuchMember(name))
		return
	case target.role == wire.RoleOwner:
		s.notifyError(c.from, notTheHost(target))
		return
	case target.role == wire.RoleAdmin:
		s.notifyError(c.from, fmt.Sprintf("%s is already an admin", target.name))
		return
	}
	if target.identity != "" {
		ops := slices.DeleteFunc(slices.Clone(s.ops), func(o Op) bool { return o.Identity == target.identity })
		ops = append(ops, Op{Identity: target.identity, Name: target.name, By: c.from.name, Time: s.now()})
		if err := saveList(s.saveOps, ops); err != nil {
			s.notifyError(c.from, "op not saved: "+err.Error())
			return
		}
		s.ops = ops
	}
	s.setRole(target, wire.RoleAdmin, c.from)
	s.notify(target, fmt.Sprintf("%s made you an admin: you may now use %s (/help explains them)",
		c.from.name, strings.Join(adminCommandNames(), ", ")))
	s.sendBans(target)
	if target.identity == "" {
		s.notify(c.from, fmt.Sprintf("%s has no identity key: an admin for this visit only", target.name))
	}
}

// isOp reports whether identity was made an admin with /op.
func (s *state) isOp(identity string) bool {
	return identity != "" && slices.ContainsFunc(s.ops, func(o Op) bool { return o.Identity == identity })
}

// deop makes an admin a plain member again, and forgets its key as an
// admin's. An admin who is not here is named by the name it was made an
// admin under, or by its key tag. The owner's rights come from running the
// host, so no one can take them.
func (s *state) deop(c call) {
	name, _ := cutWord(c.args)
	target, here := s.lookup(name)
	if !here {
		key := NameKey(name)
		i := slices.IndexFunc(s.ops, func(o Op) bool { return NameKey(o.Name) == key || wire.KeyTag(o.Identity) == name })
		if i < 0 {
			s.notifyError(c.from, fmt.Sprintf("no one here is called %q, and no admin is remembered by that name or key (/ops lists them)", name))
			return
		}
		op := s.ops[i]
		ops := slices.Delete(slices.Clone(s.ops), i, i+1)
		if err := saveList(s.saveOps, ops); err != nil {
			s.notifyError(c.from, "deop not saved: "+err.Error())
			return
		}
		s.ops = ops
		s.notify(c.from, fmt.Sprintf("%s (key %s) is no longer an admin", op.Name, wire.KeyTag(op.Identity)))
		s.logMod(c.from, ModEntry{Action: "deop", Target: op.Name, Identity: op.Identity})
		return
	}
	switch {
	case target.role == wire.RoleOwner:
		s.notifyError(c.from, notTheHost(target))
		return
	case target.role != wire.RoleAdmin:
		s.notifyError(c.from, fmt.Sprintf("%s is not an admin", target.name))
		return
	}
	if s.isOp(target.identity) {
		ops := slices.DeleteFunc(slices.Clone(s.ops), func(o Op) bool { return o.Identity == target.identity })
		if err := saveList(s.saveOps, ops); err != nil {
			s.notifyError(c.from, "deop not saved: "+err.Error())
			return
		}
		s.ops = ops
	}
	s.setRole(target, wire.RoleMember, c.from)
	s.notify(target, fmt.Sprintf("%s made you a plain member: the admin commands are no longer yours", c.from.name))
}

func (s *state) listOps(c call) {
	if len(s.ops) == 0 {
		s.notify(c.from, "no one is an admin by key (/op makes one)")
		return
	}
	lines := []string{fmt.Sprintf("%d admins by key:", len(s.ops))}
	for _, o := range s.ops {
		lines = append(lines, fmt.Sprintf("%s key %s, by %s on %s", o.Name, wire.KeyTag(o.Identity), o.By, o.Time.Format("2006-01-02 15:04")))
	}
	s.notify(c.from, strings.Join(lines, "\n"))
}

func (s *state) setRole(m *Member, role string, by *Member) {
	m.role = role
	s.broadcast(&wire.Frame{Kind: wire.KindRole, Name: m.name, Role: role, By: by.name})
	action := "op"
	if role == wire.RoleMember {
		action = "deop"
	}
	s.logMod(by, ModEntry{Action: action, Target: m.name, Identity: m.identity})
}

// saveList saves a changed list (bans, ops, mutes) through its Config
// callback, if there is one, giving it a copy of its own.
func saveList[T any](save func([]T) error, list []T) error {
	if save == nil {
		return nil
	}
	return save(slices.Clone(list))
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

// maxBan is the longest ban with a duration; longer is until /unban.
const maxBan = 365 * 24 * time.Hour

// parseBanDuration reads a ban's duration: Go's "10m", "2h", "1h30m", or
// whole days, "3d". Anything else is not a duration but the reason's
// first word.
func parseBanDuration(s string) (time.Duration, bool) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 365 {
			return 0, false
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, false
		}
	}
	return d, d > 0 && d <= maxBan
}

// muteFor returns the mute on m that is still in force, if any.
func (s *state) muteFor(m *Member) (Mute, bool) {
	s.pruneMutes()
	i := slices.IndexFunc(s.mutes, func(u Mute) bool { return u.matches(m) })
	if i < 0 {
		return Mute{}, false
	}
	return s.mutes[i], true
}

// pruneMutes forgets the mutes whose time is up; like bans, the file keeps
// them until the next change.
func (s *state) pruneMutes() {
	now := s.now()
	s.mutes = slices.DeleteFunc(s.mutes, func(u Mute) bool { return !u.Until.IsZero() && !now.Before(u.Until) })
}

// refuseMuted tells a muted member, and only it, that what it said was not
// sent.
func (s *state) refuseMuted(m *Member) bool {
	u, muted := s.muteFor(m)
	if !muted {
		return false
	}
	s.notifyError(m, "not sent: you are muted"+untilText(u.Until))
	return true
}

func untilText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " until " + t.Format("15:04")
}

// mute lets a member read but not speak. Like a ban, it takes effect only
// once it is saved.
func (s *state) mute(c call) {
	name, reason := cutWord(c.args)
	until, reason := s.cutUntil(reason)
	target, ok := s.removable(c, name, "mute")
	if !ok {
		return
	}
	if _, muted := s.muteFor(target); muted {
		s.notifyError(c.from, fmt.Sprintf("%s is already muted", target.name))
		return
	}
	u := Mute{Name: target.name, Identity: target.identity, Until: until, By: c.from.name, Reason: reason, Time: s.now(), nameKey: target.key}
	mutes := append(slices.Clip(s.mutes), u)
	if err := saveList(s.saveMutes, mutes); err != nil {
		s.notifyError(c.from, "mute not saved: "+err.Error())
		return
	}
	s.mutes = mutes
	s.notify(target, withReason(fmt.Sprintf("%s muted you%s: you can read, not speak", c.from.name, untilText(until)), reason))
	s.notify(c.from, fmt.Sprintf("muted %s%s", target.name, untilText(until)))
	s.logMod(c.from, ModEntry{Action: "mute", Target: target.name, Identity: target.identity, Reason: reason, Until: until})
}

// unmute lifts a mute. A member who is not here is named by the name it
// was muted under, or by its key tag.
func (s *state) unmute(c call) {
	name, _ := cutWord(c.args)
	s.pruneMutes()
	target, here := s.lookup(name)
	key := NameKey(name)
	matches := func(u Mute) bool {
		return u.nameKey == key || (u.Identity != "" && wire.KeyTag(u.Identity) == name)
	}
	if here {
		matches = func(u Mute) bool { return u.matches(target) }
	}
	i := slices.IndexFunc(s.mutes, matches)
	if i < 0 {
		if here {
			name = target.name
		}
		s.notifyError(c.from, fmt.Sprintf("%s is not muted", name))
		return
	}
	shown := s.mutes[i].Name
	mutes := slices.DeleteFunc(slices.Clone(s.mutes), matches)
	if err := saveList(s.saveMutes, mutes); err != nil {
		s.notifyError(c.from, "unmute not saved: "+err.Error())
		return
	}
	s.mutes = mutes
	if here {
		shown = target.name
		s.notify(target, c.from.name+" unmuted you: you can speak again")
	}
	s.notify(c.from, "unmuted "+shown)
	s.logMod(c.from, ModEntry{Action: "unmute", Target: shown})
}

func (s *state) listMutes(c call) {
	s.pruneMutes()
	if len(s.mutes) == 0 {
		s.notify(c.from, "no one is muted")
		return
	}
	lines := []string{fmt.Sprintf("%d muted:", len(s.mutes))}
	for _, u := range s.mutes {
		lines = append(lines, describeSanction(u.Name, "", u.Identity, u.By, u.Time, u.Until, u.Reason))
	}
	s.notify(c.from, strings.Join(lines, "\n"))
}

// logMod records an act of moderation by by, keeping the latest entries
// for /modlog and handing each to Config.SaveModEntry. A log that cannot
// be saved does not undo the act; the admin is told.
func (s *state) logMod(by *Member, e ModEntry) {
	e.Time, e.By = s.now(), by.name
	s.modLog = append(s.modLog, e)
	if over := len(s.modLog) - modLogKept; over > 0 {
		s.modLog = slices.Delete(s.modLog, 0, over)
	}
	if s.saveModEntry != nil {
		if err := s.saveModEntry(e); err != nil {
			s.notifyError(by, "moderation log not saved: "+err.Error())
		}
	}
}

func (s *state) showModLog(c call) {
	n := 20
	if word, _ := cutWord(c.args); word != "" {
		v, err := strconv.Atoi(word)
		if err != nil || v <= 0 {
			s.notifyError(c.from, "usage: "+c.cmd.Usage)
			return
		}
		n = min(v, modLogKept)
	}
	if len(s.modLog) == 0 {
		s.notify(c.from, "the moderation log is empty")
		return
	}
	entries := s.modLog[max(0, len(s.modLog)-n):]
	lines := make([]string, len(entries))
	for i, e := range entries {
		line := fmt.Sprintf("%s %s: %s %s", e.Time.Format("2006-01-02 15:04"), e.By, e.Action, e.Target)
		if e.Identity != "" {
			line += " (key " + wire.KeyTag(e.Identity) + ")"
		}
		if !e.Until.IsZero() {
			line += " until " + e.Until.Format("2006-01-02 15:04")
		}
		if e.Reason != "" {
			line += ": " + e.Reason
		}
		lines[i] = line
	}
	s.notify(c.from, strings.Join(lines, "\n"))
}

// cutUntil reads an optional duration at the start of args (as /ban and
// /mute take it) and returns when it ends (zero for none) and the rest.
func (s *state) cutUntil(args string) (time.Time, string) {
	word, rest := cutWord(args)
	if d, ok := parseBanDuration(word); ok {
		return s.now().Add(d), rest
	}
	return time.Time{}, args
}

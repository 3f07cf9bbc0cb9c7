package irc

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"chatroom/host/wire"
)

// maxChannelBytes is the longest channel name the gateway gives, "#"
// included, as RFC 2812 allows.
const maxChannelBytes = 50

// ChannelName returns the one IRC channel that stands for the room called
// roomName: "#" and the name, with what a channel name may not hold
// (spaces, commas, BEL, colons, control characters) made "-", at most 50
// bytes, never empty.
func ChannelName(roomName string) string {
	var b strings.Builder
	b.WriteByte('#')
	for _, r := range roomName {
		switch {
		case r == ' ' || r == ',' || r == ':' || r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r):
			r = '-'
		}
		if b.Len()+utf8.RuneLen(r) > maxChannelBytes {
			break
		}
		b.WriteRune(r)
	}
	if b.Len() == 1 {
		return "#chatroom"
	}
	return b.String()
}

// badNickRune reports whether r may not stand anywhere in a nick: it
// would break a "nick!user@host" prefix, a list of targets, a mask or a
// line.
func badNickRune(r rune) bool {
	switch r {
	case ' ', ',', '*', '?', '!', '@', '.', utf8.RuneError:
		return true
	}
	return unicode.IsControl(r) || unicode.IsSpace(r)
}

// badNickStart reports whether r may not begin a nick: a channel's or a
// parameter's mark, or a membership prefix.
func badNickStart(r rune) bool {
	switch r {
	case ':', '#', '&', '$', '~', '+', '%', '-':
		return true
	}
	return false
}

// validNick reports whether s may be used as an IRC nick as it is.
func validNick(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	first, _ := utf8.DecodeRuneInString(s)
	if badNickStart(first) {
		return false
	}
	for _, r := range s {
		if badNickRune(r) {
			return false
		}
	}
	return true
}

// safeNick is name made a valid nick: itself when it is one, else with
// each character a nick may not hold made "_", and a leading "_" before
// a first character that may not begin one.
func safeNick(name string) string {
	if validNick(name) {
		return name
	}
	var b strings.Builder
	for i, r := range name {
		if i == 0 && badNickStart(r) {
			b.WriteByte('_')
		}
		if badNickRune(r) {
			r = '_'
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// foldNick is the form of a nick that lookups compare: ASCII letters
// lower-cased, as CASEMAPPING=ascii announces. The room compares its
// names more widely; the gateway sends it the room's own name and lets
// it decide.
func foldNick(nick string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, nick)
}

// member is one member of the room as this session knows it.
type member struct {
	name string // the room's name for it
	nick string // its nick in this session
	role string
	key  string // its key tag, "" for none
	away bool
	// awayText is why it is away, when an away event said so (the
	// welcome only says that it is).
	awayText string
}

// prefix is the member's "nick!user@host": the user made from its name,
// the host from its key tag (never its address, which the room shows to
// admins alone).
func (m *member) prefix() string {
	return m.nick + "!" + m.user() + "@" + m.host()
}

func (m *member) user() string {
	u := []rune(safeUser(m.name))
	if len(u) > 9 {
		u = u[:9]
	}
	return "~" + string(u)
}

func (m *member) host() string {
	if m.key == "" {
		return "chatroom"
	}
	return safeUser(m.key) + ".key"
}

// safeUser keeps the ASCII letters, digits, '-' and '_' of s, which a user
// or host part always may hold, and makes the rest "_".
func safeUser(s string) string {
	out := strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
	if out == "" {
		return "_"
	}
	return out
}

// roster is the room's members as this session knows them, with the two
// way map between room names and nicks.
type roster struct {
	byName map[string]*member // by room name
	byNick map[string]*member // by folded nick
	order  []string           // room names, in the order they came
}

func newRoster() *roster {
	return &roster{byName: map[string]*member{}, byNick: map[string]*member{}}
}

// add puts in a member the room announced and gives it a nick, returning
// it; a member already in is updated.
func (r *roster) add(m wire.Member) *member {
	if old, ok := r.byName[m.Name]; ok {
		old.role, old.key, old.away = m.Role, m.Key, m.Away
		return old
	}
	mem := &member{name: m.Name, role: m.Role, key: m.Key, away: m.Away}
	mem.nick = r.freeNick(m.Name)
	r.byName[m.Name] = mem
	r.byNick[foldNick(mem.nick)] = mem
	r.order = append(r.order, m.Name)
	return mem
}

// freeNick is the nick for name that no other member of the session has:
// its safe form, or that with "_2", "_3"... after it.
func (r *roster) freeNick(name string) string {
	base := clampNick(safeNick(name))
	nick := base
	for i := 2; ; i++ {
		if _, taken := r.byNick[foldNick(nick)]; !taken {
			return nick
		}
		nick = base + "_" + strconv.Itoa(i)
	}
}

func (r *roster) remove(name string) *member {
	m, ok := r.byName[name]
	if !ok {
		return nil
	}
	delete(r.byName, name)
	delete(r.byNick, foldNick(m.nick))
	for i, n := range r.order {
		if n == name {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
	return m
}

// rename follows a member's new name, and returns it with its old nick.
func (r *roster) rename(oldName, newName, key string) (m *member, oldNick string) {
	m, ok := r.byName[oldName]
	if !ok {
		return nil, ""
	}
	oldNick = m.nick
	delete(r.byName, oldName)
	delete(r.byNick, foldNick(m.nick))
	m.name = newName
	if key != "" {
		m.key = key
	}
	m.nick = r.freeNick(newName)
	r.byName[newName] = m
	r.byNick[foldNick(m.nick)] = m
	for i, n := range r.order {
		if n == oldName {
			r.order[i] = newName
		}
	}
	return m, oldNick
}

// byNickOf finds the member a client means by nick.
func (r *roster) byNickOf(nick string) (*member, bool) {
	m, ok := r.byNick[foldNick(nick)]
	return m, ok
}

// members returns the members in the order they came.
func (r *roster) members() []*member {
	list := make([]*member, 0, len(r.order))
	for _, n := range r.order {
		list = append(list, r.byName[n])
	}
	return list
}

// channelPrefix is the member's mark in NAMES and WHO: "@" for admins and
// the owner.
func (m *member) channelPrefix() string {
	if m.role == wire.RoleAdmin || m.role == wire.RoleOwner {
		return "@"
	}
	return ""
}

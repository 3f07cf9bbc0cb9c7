package irc

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Ban and mute masks. IRC clients ban by a mask of "nick!user@host", which
// they build from what the channel shows of the member: irssi's "/ban bob"
// sends "*!*bob@*.key", weechat's "*!~bob@3f9a1cB2.key", HexChat's
// "*!*@chatroom". The room bans and mutes one member by name, so the
// gateway matches the mask against the prefixes it shows for the members
// present (member.prefix) and names the one it matches; a mask that matches
// several is refused, so that a "*!*@*" typo cannot ban the room.

// maxMaskBytes bounds a mask: a member's whole prefix is well under it,
// and a longer one would only make matching it against every member of a
// big room cost more.
const maxMaskBytes = 128

// matchStepsPerToken is how much matching a mask against the members costs
// a token of the session's bucket, so that a client that sends costly
// masks again and again is slowed as one flooding WHO is.
const matchStepsPerToken = 1 << 18

// maxRememberedMasks bounds the masks a session remembers banning and
// muting by.
const maxRememberedMasks = 32

// maskedName is a mask the session banned or muted a member by, with the
// member's room name, so that the client's own "-b" of the same mask lifts
// that ban: an IRC client unbans by the mask it banned with.
type maskedName struct {
	mask string // canonical (fullMask), folded
	name string
}

// fullMask is mask as IRC servers read one, as a whole "nick!user@host": a
// bare nick is "nick!*@*", "user@host" is "*!user@host", and a part left
// out or empty is "*".
func fullMask(mask string) (full, nick string) {
	nick, rest, hasBang := strings.Cut(mask, "!")
	if !hasBang {
		if strings.Contains(mask, "@") {
			nick, rest = "*", mask
		} else {
			rest = ""
		}
	}
	user, host, _ := strings.Cut(rest, "@")
	nick, user, host = orStar(nick), orStar(user), orStar(host)
	return nick + "!" + user + "@" + host, nick
}

func orStar(part string) string {
	if part == "" {
		return "*"
	}
	return part
}

// hasWildcard says whether a mask's part stands for more than one string.
func hasWildcard(part string) bool {
	return strings.ContainsAny(part, "*?")
}

// glob is a mask made ready for matching: its characters, ASCII letters
// lower-cased.
type glob []rune

func newGlob(mask string) glob {
	return glob([]rune(foldNick(mask)))
}

// match reports whether s matches the mask, in which "*" stands for any
// characters and "?" for one, with ASCII letters compared in any case (as
// CASEMAPPING=ascii announces), and how many steps it took. It goes back
// only to the last "*" when a character does not match, and each time one
// character further on, so that it takes at most about len(s) squared
// steps, never exponentially many.
func (g glob) match(s string) (ok bool, steps int) {
	gi, si := 0, 0
	star, resume := -1, 0
	for si < len(s) {
		steps++
		r, size := utf8.DecodeRuneInString(s[si:])
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		switch {
		case gi < len(g) && g[gi] == '*':
			star, resume = gi, si
			gi++
		case gi < len(g) && (g[gi] == '?' || g[gi] == r):
			gi++
			si += size
		case star >= 0:
			// What followed the last "*" did not match from here: it
			// takes one character more.
			_, n := utf8.DecodeRuneInString(s[resume:])
			resume += n
			gi, si = star+1, resume
		default:
			return false, steps
		}
	}
	for gi < len(g) && g[gi] == '*' {
		gi++
	}
	return gi == len(g), steps
}

// membersMatching counts the members present whose prefix the mask
// matches, and returns the first; the work costs from the session's
// bucket.
func (c *conn) membersMatching(full string) (first *member, count int) {
	g := newGlob(full)
	steps := 0
	for _, m := range c.roster.members() {
		ok, n := g.match(m.prefix())
		steps += n
		if ok {
			if count == 0 {
				first = m
			}
			count++
		}
	}
	c.lag(steps / matchStepsPerToken)
	return first, count
}

// remember keeps the mask a member was banned or muted by, the latest
// first, a bounded number of them.
func remember(list *[]maskedName, full, name string) {
	folded := foldNick(full)
	kept := []maskedName{{mask: folded, name: name}}
	for _, mn := range *list {
		if mn.mask != folded && len(kept) < maxRememberedMasks {
			kept = append(kept, mn)
		}
	}
	*list = kept
}

func remembered(list []maskedName, full string) (string, bool) {
	folded := foldNick(full)
	for _, mn := range list {
		if mn.mask == folded {
			return mn.name, true
		}
	}
	return "", false
}

// badMask answers, and reports true for, a mask that can be no member's:
// longer than any prefix, or holding a space (which a last parameter may,
// and which would pass the room more than a name: "/ban bob --addr").
func (c *conn) badMask(mode, mask string) bool {
	switch {
	case len(mask) > maxMaskBytes:
		c.serviceNotice("MODE " + mode + ": the mask is too long to be a member's; name the member (MODE " + mode + " NICK)")
	case strings.IndexFunc(mask, unicode.IsSpace) >= 0:
		c.serviceNotice("MODE " + mode + ": a mask holds no spaces; name the member (MODE " + mode + " NICK)")
	default:
		return false
	}
	return true
}

// banByMask is MODE +b: the one member present the mask matches is banned
// (the room decides whether the client may). A nick of no one here is
// sent as it is, for the room to ban someone who has just left, as /ban
// does.
func (c *conn) banByMask(mask string) {
	c.actOnMask(maskAct{mode: "+b", verb: "ban", does: "bans", masks: &c.bannedMasks,
		absent: func(nick string) { c.roomSay("/ban " + nick) }}, mask)
}

// maskAct is what MODE +b or +q does with a mask (see actOnMask).
type maskAct struct {
	mode       string        // "+b"
	verb, does string        // the room command ("ban") and what it does ("bans")
	masks      *[]maskedName // the masks this session acted by, for the -b or -q to come
	// absent is what a plain nick of no one here comes to.
	absent func(nick string)
}

// actOnMask does act to the one member present that mask matches: a
// mask that matches several is refused, so that a typo (*!*@*) acts on
// no one, as the room acts on one member at a time.
func (c *conn) actOnMask(act maskAct, mask string) {
	if c.badMask(act.mode, mask) {
		return
	}
	full, nick := fullMask(mask)
	m, n := c.membersMatching(full)
	switch {
	case n == 1:
		remember(act.masks, full, m.name)
		c.roomSay("/" + act.verb + " " + m.name)
	case n == 0 && !hasWildcard(nick) && full == nick+"!*@*":
		act.absent(nick)
	case n == 0:
		c.serviceNotice("no one here matches " + full + ": MODE " + act.mode + " " + act.does + " the one member a mask matches, or the member a nick names")
	default:
		c.serviceNotice(itoa(n) + " members match " + full + ": name the one to " + act.verb + " (MODE " + act.mode + " NICK), as the room " + act.does + " one member at a time")
	}
}

// unbanByMask is MODE -b. The room's ban list holds names, which the
// gateway shows as "NICK!*@*" (367): a mask this session banned by lifts
// that ban, a mask with a nick lifts the ban of the name it stands for,
// and another mask lifts the one ban on the list it matches.
func (c *conn) unbanByMask(mask string) {
	if c.badMask("-b", mask) {
		return
	}
	full, nick := fullMask(mask)
	if name, ok := remembered(c.bannedMasks, full); ok {
		c.roomSay("/unban " + name)
		return
	}
	if !hasWildcard(nick) {
		if name, ok := c.bannedName(nick); ok {
			c.roomSay("/unban " + name)
		}
		return
	}
	g := newGlob(full)
	var found []string
	for _, name := range c.bans {
		if ok, _ := g.match(banListMask(name)); ok {
			found = append(found, name)
		}
	}
	if len(found) == 1 {
		c.roomSay("/unban " + found[0])
		return
	}
	what := "no banned member shows as " + full
	if len(found) > 1 {
		what = itoa(len(found)) + " banned members show as " + full
	}
	c.serviceNotice(what + ": name the banned member (MODE -b NICK, or /msg " + serviceNick + " unban NAME)")
}

// banListMask is how a banned name shows in the ban list (367).
func banListMask(name string) string {
	return clampNick(safeNick(name)) + "!*@*"
}

// bannedName is the name on the ban list that nick stands for: the name
// itself, or the one whose nick it is; a nick that is on the list neither
// way (a key tag, a name the list does not hold yet) is sent as it is, for
// the room to decide. Two names with the same nick are not guessed
// between.
func (c *conn) bannedName(nick string) (string, bool) {
	var same []string
	for _, name := range c.bans {
		if foldNick(name) == foldNick(nick) {
			return name, true
		}
		if foldNick(clampNick(safeNick(name))) == foldNick(nick) {
			same = append(same, name)
		}
	}
	switch len(same) {
	case 0:
		return nick, true
	case 1:
		return same[0], true
	}
	c.serviceNotice(itoa(len(same)) + " banned members show as " + nick + ": name the one to unban (/msg " + serviceNick + " unban NAME)")
	return "", false
}

// muteByMask is MODE +q: the one member present the mask matches is
// muted, as banByMask bans; a nick of no one here is answered 401, no
// such nick.
func (c *conn) muteByMask(mask string) {
	c.actOnMask(maskAct{mode: "+q", verb: "mute", does: "mutes", masks: &c.mutedMasks,
		absent: func(nick string) { c.numeric("401", nick, "No such nick/channel") }}, mask)
}

// unmuteByMask is MODE -q: a mask this session muted by lifts that mute,
// a nick names the member (present, or by the name it was muted under or
// its key tag, for the room to find), and another mask the one member
// present it matches. The room sends no list of mutes to match against.
func (c *conn) unmuteByMask(mask string) {
	if c.badMask("-q", mask) {
		return
	}
	full, nick := fullMask(mask)
	if name, ok := remembered(c.mutedMasks, full); ok {
		c.roomSay("/unmute " + name)
		return
	}
	if !hasWildcard(nick) {
		name := nick
		if m, ok := c.roster.byNickOf(nick); ok {
			name = m.name
		}
		c.roomSay("/unmute " + name)
		return
	}
	m, n := c.membersMatching(full)
	if n == 1 {
		c.roomSay("/unmute " + m.name)
		return
	}
	what := "no one here matches " + full
	if n > 1 {
		what = itoa(n) + " members match " + full
	}
	c.serviceNotice(what + ": name the muted member (MODE -q NICK; /msg " + serviceNick + " mutes lists them)")
}

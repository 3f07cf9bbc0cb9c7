package irc

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"chatroom/host/wire"
	"github.com/ergochat/irc-go/ircmsg"
)

// render turns one frame from the room into IRC lines.
func (c *conn) render(f wire.Frame) {
	if f.Type != wire.TypeEvent {
		// Only the backlog's events are in its batch.
		c.closeBatch()
	}
	switch f.Type {
	case wire.TypeEvent:
		c.event(f)
	case wire.TypePrivate:
		c.private(f)
	case wire.TypeNotice:
		for _, line := range strings.Split(f.Text, "\n") {
			c.serviceNotice(line)
		}
		if f.File != nil && f.File.ID != "" {
			// The answer to a "/get": an IRC client cannot fetch it.
			c.serviceNotice(fetchElsewhere)
		}
	case wire.TypeBans:
		c.bans = f.Bans
	case wire.TypeClosed:
		c.closed(f)
	case wire.TypeError:
		c.fail("the room ended the connection: " + ircText(f.Text))
	}
}

// serviceNotice sends text to the client as a NOTICE from *room.
func (c *conn) serviceNotice(text string) {
	c.splitSend(nil, servicePrefix, "NOTICE", c.nick, text, false)
}

// event renders one room event. The backlog, the events that follow the
// welcome with numbers below its own, goes in a chathistory batch with
// its times, or with its times written in the text for a client that
// takes no time tags.
func (c *conn) event(f wire.Frame) {
	backlog := false
	if c.backlogLeft > 0 {
		if f.Seq != 0 && f.Seq < c.welcomeSeq {
			backlog = true
			c.backlogLeft--
		} else {
			c.backlogLeft = 0
		}
	}
	if !backlog {
		c.closeBatch()
	} else if c.caps[capBatch] && c.batchID == "" {
		c.batchSeq++
		c.batchID = "backlog" + strconv.Itoa(c.batchSeq)
		c.send(ircmsg.MakeMessage(nil, serverName, "BATCH", "+"+c.batchID, "chathistory", c.channel))
	}
	tags := c.eventTags(f)
	switch f.Kind {
	case wire.KindSay, wire.KindMe:
		from := c.sender(f.From)
		if f.From == c.me && !backlog && !c.caps[capEcho] {
			break // IRC clients show their own lines as they send them
		}
		c.addAccount(tags, from)
		text := f.Text
		if backlog && !c.caps[capServerTime] && !f.Time.IsZero() {
			text = "[" + f.Time.UTC().Format("15:04") + "] " + text
		}
		c.splitSend(tags, c.prefixOf(from), "PRIVMSG", c.channel, text, f.Kind == wire.KindMe)
	case wire.KindJoin:
		c.joined(tags, wire.Member{Name: f.Name, Role: f.Role, Key: f.Key})
	case wire.KindLeave:
		c.left(tags, f.Name, f.Code, f.By, f.Text)
	case wire.KindRole:
		m, ok := c.roster.byName[f.Name]
		if !ok {
			break
		}
		wasOp := m.channelPrefix() != ""
		m.role = f.Role
		source := serverName
		if by, ok := c.roster.byName[f.By]; ok {
			source = by.prefix()
		}
		switch isOp := m.channelPrefix() != ""; {
		case isOp && !wasOp:
			c.send(ircmsg.MakeMessage(tags, source, "MODE", c.channel, "+o", m.nick))
		case !isOp && wasOp:
			c.send(ircmsg.MakeMessage(tags, source, "MODE", c.channel, "-o", m.nick))
		}
	case wire.KindNick:
		old, ok := c.roster.byName[f.Name]
		if !ok {
			break
		}
		oldPrefix := old.prefix()
		m, _ := c.roster.rename(f.Name, f.NewName, f.Key)
		if f.Name == c.me {
			c.me = f.NewName
			c.nick = m.nick
		}
		c.addAccount(tags, m)
		c.send(ircmsg.MakeMessage(tags, oldPrefix, "NICK", m.nick))
	case wire.KindAway:
		m, ok := c.roster.byName[f.From]
		if !ok {
			break
		}
		m.away, m.awayText = f.Text != "", ircText(f.Text)
		if f.From == c.me {
			if m.away {
				c.numeric("306", "You have been marked as being away")
			} else {
				c.numeric("305", "You are no longer marked as being away")
			}
			break
		}
		if c.caps[capAwayNotify] {
			c.addAccount(tags, m)
			if m.away {
				c.sendText(ircmsg.MakeMessage(tags, m.prefix(), "AWAY", oneLine(m.awayText)))
			} else {
				c.send(ircmsg.MakeMessage(tags, m.prefix(), "AWAY"))
			}
		}
	case wire.KindTopic:
		c.topic, c.topicBy, c.topicTime = f.Text, f.From, f.Time
		from := c.sender(f.From)
		c.sendText(ircmsg.MakeMessage(tags, from.prefix(), "TOPIC", c.channel, oneLine(ircText(f.Text))))
	case wire.KindOffer:
		if f.File == nil {
			break
		}
		// As an action, "* bob offers slides.pdf …": it is bob's doing,
		// and not a line bob typed, which bots would take it for.
		from := c.sender(f.From)
		c.addAccount(tags, from)
		c.splitSend(tags, c.prefixOf(from), "PRIVMSG", c.channel, offerText(f.File), true)
	case wire.KindUnsend:
		if f.File == nil {
			break
		}
		source := serverName
		if by, ok := c.roster.byName[f.By]; ok {
			source = by.prefix()
		}
		c.splitSend(tags, source, "NOTICE", c.channel, unsendText(f), false)
	case wire.KindPresence:
		for _, d := range f.Left {
			c.left(tags, d.Name, d.Code, "", "")
		}
		for _, m := range f.Joined {
			c.joined(tags, m)
		}
	}
	if backlog && c.backlogLeft == 0 {
		c.closeBatch() // the backlog is over with its last event
	}
}

func (c *conn) closeBatch() {
	if c.batchID != "" {
		c.send(ircmsg.MakeMessage(nil, serverName, "BATCH", "-"+c.batchID))
		c.batchID = ""
	}
}

// eventTags are the tags of an event's lines, as the client's caps ask:
// its time, its number, its batch.
//
// The map is the session's one, emptied: it is read only while the
// event's lines are made (ircmsg copies it), so one serves every event,
// rather than one made for each event and member.
func (c *conn) eventTags(f wire.Frame) map[string]string {
	if c.tags == nil {
		c.tags = map[string]string{}
	}
	tags := c.tags
	clear(tags)
	if c.caps[capServerTime] && !f.Time.IsZero() {
		tags["time"] = string(appendServerTime(c.scratch[:0], f.Time))
	}
	if c.caps[capMessageTags] && f.Seq != 0 {
		tags["msgid"] = strconv.FormatUint(f.Seq, 10)
	}
	if c.batchID != "" {
		tags["batch"] = c.batchID
	}
	return tags
}

// serverTimeLayout is how server-time writes a time: UTC, to the
// millisecond.
const serverTimeLayout = "2006-01-02T15:04:05.000Z"

// appendServerTime appends t as serverTimeLayout writes it, without the
// layout's parsing, which every delivery paid for: the digits of a year
// of four, and time.Format for any other year.
func appendServerTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 1000 || year > 9999 {
		return t.AppendFormat(b, serverTimeLayout)
	}
	hour, minute, second := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, second, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/1e6, 3)
	return append(b, 'Z')
}

// appendDigits appends the last width decimal digits of n (n >= 0),
// leading zeros included.
func appendDigits(b []byte, n, width int) []byte {
	start := len(b)
	for range width {
		b = append(b, 0)
	}
	for i := len(b) - 1; i >= start; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return b
}

// prefixOf is m.prefix(), from the session's memo while m's nick, name
// and key are those it was made from: the sender of every message
// would otherwise have its prefix made again for every line to every
// member. The memo is bounded, and begins again beyond its bound
// (senders who have left, and the made-up members of the backlog, stay
// in it until then).
func (c *conn) prefixOf(m *member) string {
	if p, ok := c.prefixes[m]; ok && p.nick == m.nick && p.name == m.name && p.key == m.key {
		return p.prefix
	}
	if c.prefixes == nil || len(c.prefixes) >= maxPrefixMemo {
		c.prefixes = map[*member]prefixMemo{}
	}
	p := prefixMemo{nick: m.nick, name: m.name, key: m.key, prefix: m.prefix()}
	c.prefixes[m] = p
	return p.prefix
}

// maxPrefixMemo bounds a session's memo of prefixes.
const maxPrefixMemo = 1024

// prefixMemo is a member's prefix, with what it was made from.
type prefixMemo struct {
	nick, name, key, prefix string
}

// addAccount tags a line with its member's key tag, for a client with
// account-tag: the same key is the same person under any name.
//
// The tags of an event serve each of its lines (a presence's JOINs and
// QUITs): a member without a key takes away the account tag another
// line's member left there.
func (c *conn) addAccount(tags map[string]string, m *member) {
	switch {
	case !c.caps[capAccountTag]:
	case m.key != "":
		tags["account"] = safeUser(ircmsg.TruncateUTF8Safe(m.key, 64))
	default:
		delete(tags, "account")
	}
}

// sender is the member who wrote a line: from the roster, or, for one
// no longer here (the backlog), made up from the name alone.
func (c *conn) sender(name string) *member {
	if m, ok := c.roster.byName[name]; ok {
		return m
	}
	return &member{name: name, nick: clampNick(safeNick(name)), role: wire.RoleMember}
}

func (c *conn) joined(tags map[string]string, w wire.Member) {
	if w.Name == c.me {
		return // the client's own JOIN came with the welcome
	}
	if _, ok := c.roster.byName[w.Name]; ok {
		c.roster.add(w)
		return
	}
	m := c.roster.add(w)
	c.addAccount(tags, m)
	c.send(ircmsg.MakeMessage(tags, m.prefix(), "JOIN", c.channel))
	if m.channelPrefix() != "" {
		c.send(ircmsg.MakeMessage(nil, serverName, "MODE", c.channel, "+o", m.nick))
	}
}

func (c *conn) left(tags map[string]string, name, code, by, reason string) {
	if name == c.me {
		return // the room tells the client its own end in a closed frame
	}
	m := c.roster.remove(name)
	if m == nil {
		return
	}
	c.addAccount(tags, m)
	reason = oneLine(ircText(reason))
	switch code {
	case wire.CodeLeft:
		c.sendText(ircmsg.MakeMessage(tags, m.prefix(), "PART", c.channel, "left the room"))
	case wire.CodeKicked, wire.CodeBanned:
		source := serverName
		if admin, ok := c.roster.byName[by]; ok {
			source = admin.prefix()
		}
		why := code
		if reason != "" {
			why += ": " + reason
		}
		c.sendText(ircmsg.MakeMessage(tags, source, "KICK", c.channel, m.nick, why))
	case wire.CodeLost:
		c.sendText(ircmsg.MakeMessage(tags, m.prefix(), "QUIT", "Connection lost"))
	default:
		c.sendText(ircmsg.MakeMessage(tags, m.prefix(), "QUIT", orText(reason, strings.ReplaceAll(code, "-", " "))))
	}
}

// private renders a /msg: from another member to the client, or, with
// echo-message, the client's own to its recipient.
func (c *conn) private(f wire.Frame) {
	tags := c.eventTags(wire.Frame{Time: f.Time})
	from := c.sender(f.From)
	c.addAccount(tags, from)
	text, action := asPrivateAction(f.From, f.Text)
	if f.File != nil {
		// A file offered to one member, or taken back: as the room's
		// offer is shown, to the two of them.
		switch f.Kind {
		case wire.KindOffer:
			text, action = offerText(f.File), true
		case wire.KindUnsend:
			c.serviceNotice(unsendText(f))
			return
		default:
			return
		}
	}
	switch {
	case f.From == c.me && f.To != c.me:
		if c.caps[capEcho] {
			c.splitSend(tags, from.prefix(), "PRIVMSG", c.sender(f.To).nick, text, action)
		}
	default:
		c.splitSend(tags, from.prefix(), "PRIVMSG", c.nick, text, action)
	}
}

// fetchElsewhere follows the answer to a "/get": the file is fetched by
// a chatroom client, over a connection of its own, which IRC has not.
const fetchElsewhere = "files are fetched with chatroom get, not over IRC"

// offerText is a file on offer as an action of its offerer: "offers
// slides.pdf (2.3 MB, sha256 3f9a1c2b…) — /get 7 (fetch with chatroom
// get)". The room checked the name; it is made one line here all the
// same, so that nothing in it can end the line and start another.
func offerText(f *wire.File) string {
	sum := f.SHA256
	if len(sum) > 8 {
		sum = sum[:8] + "…"
	}
	return oneLine(fmt.Sprintf("offers %s (%s, sha256 %s) — /get %d (fetch with chatroom get)",
		f.Name, wire.FormatSize(f.Size), sum, f.Number))
}

// unsendText says, in a notice, that a file is no longer on offer, and why.
func unsendText(f wire.Frame) string {
	what := fmt.Sprintf("file %d (%s)", f.File.Number, f.File.Name)
	var text string
	switch {
	case f.Code == wire.CodeExpired:
		text = what + " is no longer on offer: its time ran out"
	case f.Code != "":
		text = what + " is no longer on offer: " + strings.ReplaceAll(f.Code, "-", " ")
	case f.By != "":
		text = what + " was taken back by " + f.By
	default:
		text = what + " is no longer on offer"
	}
	return oneLine(text)
}

// closed is the room ending the member's connection.
func (c *conn) closed(f wire.Frame) {
	text := oneLine(ircText(f.Text))
	switch f.Code {
	case wire.CodeKicked, wire.CodeBanned:
		source := serverName
		if admin, ok := c.roster.byName[f.By]; ok {
			source = admin.prefix()
		}
		why := f.Code
		if text != "" {
			why += ": " + text
		}
		c.sendText(ircmsg.MakeMessage(nil, source, "KICK", c.channel, c.nick, why))
		c.fail(why)
	default:
		c.fail(orText(text, strings.ReplaceAll(f.Code, "-", " ")))
	}
}

// ircText makes text from the room safe to put in an IRC line: valid
// UTF-8, and no control characters, which the room does not let through
// but which would break a line (CR, LF, NUL) or start a CTCP (\x01) if
// it did. Line breaks are kept, for the caller to split at.
func ircText(s string) string {
	if plainText(s) {
		return s // nearly every text: nothing to scan rune by rune
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r < 0x20 || r == 0x7f:
			return '\uFFFD'
		}
		return r
	}, s)
}

// plainText says whether ircText leaves s as it is: valid UTF-8 and no
// control character but line breaks.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; (b < 0x20 && b != '\n') || b == 0x7f {
			return false
		}
	}
	return utf8.ValidString(s)
}

// oneLine is text on one line, its line breaks made spaces.
func oneLine(s string) string {
	return strings.ReplaceAll(ircText(s), "\n", " ")
}

// clampNick bounds a nick made from a name the room sent, which the
// room bounds itself (24 characters), so that a line always has room for
// its text.
func clampNick(nick string) string {
	return ircmsg.TruncateUTF8Safe(nick, 64)
}

// splitSend sends text as one or more lines of verb to target: one per
// line of the text, each cut at UTF-8 boundaries (at a space where one
// is near) to fit in an IRC line with its prefix. As an action, each
// line is a CTCP ACTION.
func (c *conn) splitSend(tags map[string]string, source, verb, target, text string, action bool) {
	// ":" source " " verb " " target " :" text "\r\n"
	room := maxLineBody - (1 + len(source) + 1 + len(verb) + 1 + len(target) + 2 + 2)
	if action {
		room -= len("\x01ACTION \x01")
	}
	room = max(room, 16)
	for line := range strings.SplitSeq(ircText(text), "\n") {
		for line != "" {
			piece := line
			if len(piece) > room {
				piece = ircmsg.TruncateUTF8Safe(line, room)
				if i := strings.LastIndexByte(piece, ' '); i > room/2 {
					piece = piece[:i+1]
				}
				if piece == "" {
					// Not UTF-8 the truncation could keep whole: cut at a
					// rune boundary anyway.
					_, size := utf8.DecodeRuneInString(line)
					piece = line[:size]
				}
			}
			line = line[len(piece):]
			out := piece
			if action {
				out = "\x01ACTION " + piece + "\x01"
			}
			if c.gone {
				return
			}
			if b, ok := appendTextLine(c.out.AvailableBuffer(), tags, source, verb, target, out); ok {
				c.out.Write(b)
				continue
			}
			c.sendText(ircmsg.MakeMessage(tags, source, verb, target, out))
		}
	}
}

// textLineTags are the tags appendTextLine writes, in the order it
// writes them (their names').
var textLineTags = [...]string{"account", "batch", "msgid", "time"}

// appendTextLine appends to buf the line that sendText writes for
// ircmsg.MakeMessage(tags, source, verb, target, text), and reports
// true; or, for a line that ircmsg would write otherwise than as it is
// given (a tag value to escape, a text to cut, a character it refuses,
// a tag of another name), it appends nothing and reports false, and the
// line goes through ircmsg. It is the one line of every delivery of a
// message, made here without the map, the buffer and the copies that
// ircmsg's general serializer costs for each member. The tags go in the
// order of textLineTags: ircmsg writes them in a map's order, which is
// any, so this is one of the lines it writes too.
func appendTextLine(buf []byte, tags map[string]string, source, verb, target, text string) ([]byte, bool) {
	if verb == "" || target == "" || target[0] == ':' || strings.IndexByte(target, ' ') >= 0 ||
		hasLineBreaker(source) || hasLineBreaker(verb) || hasLineBreaker(target) || hasLineBreaker(text) {
		return buf, false
	}
	body := len(verb) + 1 + len(target) + 2 + len(text)
	if source != "" {
		body += 1 + len(source) + 1
	}
	if body > maxLineBody-2 {
		return buf, false
	}
	start := len(buf)
	if len(tags) > 0 {
		found, tagData := 0, 0
		buf = append(buf, '@')
		for _, name := range textLineTags {
			value, ok := tags[name]
			if !ok {
				continue
			}
			if !plainTagValue(value) {
				return buf[:start], false
			}
			if found > 0 {
				buf = append(buf, ';')
			}
			buf = append(buf, name...)
			if value != "" {
				buf = append(buf, '=')
				buf = append(buf, value...)
			}
			found++
		}
		tagData = len(buf) - start - 1
		if found != len(tags) || tagData > ircmsg.MaxlenServerTagData {
			return buf[:start], false
		}
		buf = append(buf, ' ')
	}
	if source != "" {
		buf = append(buf, ':')
		buf = append(buf, source...)
		buf = append(buf, ' ')
	}
	buf = append(buf, verb...)
	buf = append(buf, ' ')
	buf = append(buf, target...)
	buf = append(buf, " :"...)
	buf = append(buf, text...)
	return append(buf, "\r\n"...), true
}

// hasLineBreaker says whether s holds a character ircmsg refuses in a
// line: NUL, CR or LF.
func hasLineBreaker(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b == 0 || b == '\r' || b == '\n' {
			return true
		}
	}
	return false
}

// plainTagValue says whether ircmsg writes value as it is: valid UTF-8,
// and nothing that tag escaping changes, nor a NUL.
func plainTagValue(value string) bool {
	return utf8.ValidString(value) && !strings.ContainsAny(value, "\\; \r\n\x00")
}

// sendText sends m, whose last parameter is text, with that parameter
// always written after a colon, as IRC's own servers do: some bots read
// the text only there.
func (c *conn) sendText(m ircmsg.Message) {
	m.ForceTrailing()
	c.send(m)
}

func itoa(n int) string { return strconv.Itoa(n) }

package room

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"chatroom/host/wire"
)

// maxNotice bounds the encoded size of one notice frame. A longer answer
// (/who in a full room, a long /bans or /modlog) goes out as several
// notices, each with the same ref, split where its lines end. It is far
// under wire.MaxHostFrame, which a client refuses to read past, so that no
// notice the room builds can end a member's connection, whatever the lists
// hold; and small enough that a long answer does not hold up the member's
// writer in one piece.
const maxNotice = 64 << 10

// maxReason is the longest reason, in characters, that /kick, /ban and
// /mute take. A longer one is refused: the admin sees at once what will be
// kept, rather than a reason cut somewhere they did not choose. Lists and
// logs loaded from disk are shown with their reasons cut to it.
const maxReason = 200

// maxNameShown bounds the other words of a moderation list's line when it
// is shown (names, addresses): the room's own are far shorter, but a file
// edited by hand may hold anything.
const maxNameShown = 64

// listPageSize is how many entries of /bans or /mutes one page shows.
const listPageSize = 50

// checkReason refuses a reason longer than maxReason.
func checkReason(reason string) error {
	if n := utf8.RuneCountInString(reason); n > maxReason {
		return fmt.Errorf("the reason is %d characters long; at most %d", n, maxReason)
	}
	return nil
}

// shortText returns text cut to at most n characters, marked with "…"
// where it was cut.
func shortText(text string, n int) string {
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	i, count := 0, 0
	for i = range text {
		if count == n-1 {
			break
		}
		count++
	}
	return text[:i] + "…"
}

// listPage shows one page of a moderation list of n entries (/bans,
// /mutes): the page the command's argument names, the first by default.
// line(i) is the ith entry's line.
func (s *state) listPage(c call, n int, what string, line func(int) string) error {
	pages := (n + listPageSize - 1) / listPageSize
	page := 1
	if word, _ := cutWord(c.args); word != "" {
		v, err := strconv.Atoi(word)
		if err != nil || v <= 0 {
			return userError("usage: " + c.cmd.Usage)
		}
		if v > pages {
			return refusef("there is no page %d: the list has %d%s", v, pages, plural(pages, " page", " pages"))
		}
		page = v
	}
	header := fmt.Sprintf("%d %s:", n, what)
	if pages > 1 {
		header = fmt.Sprintf("%d %s, page %d of %d", n, what, page, pages)
		if page < pages {
			header += fmt.Sprintf(" (/%s %d for the next)", c.cmd.Name, page+1)
		}
		header += ":"
	}
	lines := []string{header}
	for i := (page - 1) * listPageSize; i < min(n, page*listPageSize); i++ {
		lines = append(lines, line(i))
	}
	s.reply(c, strings.Join(lines, "\n"))
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// sendNotice hands m a notice, as one frame when its encoding fits in
// maxNotice and otherwise as several, split where lines end (or, for a
// line that alone is too long, between words), each with the same ref.
func (s *state) sendNotice(m *Member, f *wire.Frame) {
	b := encode(f)
	if len(b) <= maxNotice {
		s.deliver(m, b)
		return
	}
	text := f.Text
	f.Text = ""
	room := maxNotice - len(encode(f)) - len(`,"text":""`)
	for _, part := range splitText(text, room) {
		f.Text = part
		s.deliver(m, encode(f))
	}
}

// splitText splits text into parts whose JSON encoding (without the
// quotes) is at most room bytes: at line ends where it can, between words
// where one line is too long, anywhere as a last resort.
func splitText(text string, room int) []string {
	var parts []string
	var part strings.Builder
	size := 0 // the encoded size of part
	flush := func() {
		if part.Len() > 0 {
			parts = append(parts, part.String())
			part.Reset()
			size = 0
		}
	}
	for line := range strings.SplitSeq(text, "\n") {
		n := jsonSize(line)
		if part.Len() > 0 && size+2+n <= room { // 2: the escaped newline
			part.WriteString("\n")
			part.WriteString(line)
			size += 2 + n
			continue
		}
		flush()
		for n > room {
			head := cutToSize(line, room)
			parts = append(parts, head)
			line = strings.TrimLeft(line[len(head):], " ")
			n = jsonSize(line)
		}
		part.WriteString(line)
		size = n
	}
	flush()
	return parts
}

// cutToSize returns the longest start of line whose encoding fits in room,
// ended after a space when there is one in its second half.
func cutToSize(line string, room int) string {
	size, end, lastSpace := 0, 0, -1
	for i, r := range line {
		w := runeJSONSize(r)
		if size+w > room {
			break
		}
		size += w
		end = i + utf8.RuneLen(r)
		if r == ' ' && size > room/2 {
			lastSpace = end
		}
	}
	if lastSpace > 0 {
		return line[:lastSpace]
	}
	if end == 0 { // room is smaller than one character: cannot happen
		_, w := utf8.DecodeRuneInString(line)
		return line[:w]
	}
	return line[:end]
}

// jsonSize is the number of bytes text takes in a JSON string as wire
// encodes it (without the quotes), or more: never less.
func jsonSize(text string) int {
	n := 0
	for _, r := range text {
		n += runeJSONSize(r)
	}
	return n
}

func runeJSONSize(r rune) int {
	switch {
	case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t':
		return 2
	case r < 0x20 || r == utf8.RuneError || r == '\u2028' || r == '\u2029' || r == '<' || r == '>' || r == '&':
		return 6 // \uXXXX; '<', '>', '&' only if HTML escaping were on
	default:
		return utf8.RuneLen(r)
	}
}

// moderation is what the room keeps for its admins' acts beyond the lists:
// the members who left a moment ago.
type moderation struct {
	// recent are the members who left lately, oldest first, each name key
	// once, at most recentKept, none older than recentFor: so that /ban of
	// one whose connection dropped a moment ago still bans its key, and
	// its address under the usual rule.
	recent []recentMember
}

type recentMember struct {
	name, key, identity, addr string
	left                      time.Time
}

const (
	recentKept = 256
	recentFor  = 30 * time.Minute
)

// keepRecent remembers m, who is leaving at now, among the recent members.
func (d *moderation) keepRecent(m *Member, now time.Time) {
	d.recent = slices.DeleteFunc(d.recent, func(r recentMember) bool { return r.key == m.key })
	d.recent = append(d.recent, recentMember{name: m.name, key: m.key, identity: m.identity, addr: m.addr, left: now})
	d.prune(now)
}

// recentFor returns the member who left under name key key lately.
func (d *moderation) recentFor(key string, now time.Time) (recentMember, bool) {
	d.prune(now)
	for i := len(d.recent) - 1; i >= 0; i-- {
		if d.recent[i].key == key {
			return d.recent[i], true
		}
	}
	return recentMember{}, false
}

func (d *moderation) prune(now time.Time) {
	drop := max(0, len(d.recent)-recentKept)
	for drop < len(d.recent) && now.Sub(d.recent[drop].left) > recentFor {
		drop++
	}
	if drop > 0 {
		d.recent = append(d.recent[:0], d.recent[drop:]...)
	}
}

// hiddenAtJoin reports whether m, who is joining, is to be hidden from the
// others (see Member.hidden): it is muted, by name or by key.
func (s *state) hiddenAtJoin(m *Member) bool {
	if m.role == wire.RoleOwner {
		return false
	}
	_, muted := s.muteFor(m)
	return muted
}

// withoutLatestEvent returns a hidden joiner's replay without the room's
// latest event, for which its welcome stands (see Member.hidden): the
// protocol sends after the welcome only events numbered below it, and a
// client takes that one as held.
func (s *state) withoutLatestEvent(replay [][]byte) [][]byte {
	for i := len(replay) - 1; i >= 0; i-- {
		f, err := wire.Parse(replay[i])
		if err != nil || f.Type != wire.TypeEvent {
			continue // a private copy, placed after the events
		}
		if f.Seq == s.seq {
			return slices.Delete(replay, i, i+1)
		}
		return replay
	}
	return replay
}

// reveal shows a hidden member to the others, with the join event they
// never had, once it may speak or has a role to be shown with.
func (s *state) reveal(m *Member) {
	if !m.hidden || m.gone {
		return
	}
	m.hidden = false
	s.broadcast(&wire.Frame{Kind: wire.KindJoin, Name: m.name, Role: m.role, Key: m.keyTag()})
}

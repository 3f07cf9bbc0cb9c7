package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"chatroom/host/wire"
	"chatroom/join"
)

// render turns one frame from the host into the lines to show, without
// line endings: events and private messages with their time as HH:MM in
// loc (time.Local when nil), notices line by line. Frames that show nothing
// (a closed frame the caller reports as an error, a type this version does
// not know) give no lines. Every field from the network goes through
// Sanitize.
//
// me is the person's own name. The plain lines are the same for every
// member; a styled rendering (style) uses me to mark what concerns the
// person: their own lines, and mentions of their name.
//
// What a line is can be told from how it starts, and what a member writes
// never decides that: after the time, a member's lines start with "<name> "
// (say), "* name " (/me) or "[from -> to] " (a private message), and the
// room's own events with eventMark, which no member's line can start
// with, whatever its name or text. The host's answers start with "-- ", or
// "!! " for a refusal, and have no time.
func render(f wire.Frame, me string, loc *time.Location) []string {
	var lines []string
	for _, l := range renderLines(f, me, loc) {
		lines = append(lines, l.plain())
	}
	return lines
}

// A rendered line is a run of segments, each with a kind that a styled
// rendering colours. render shows only their text, so plain and styled
// output always say the same words.
type segKind uint8

const (
	segText    segKind = iota // words
	segStamp                  // the time
	segName                   // a member's name
	segMention                // the person's own name in someone else's message
	segMark                   // the mark that starts a continued row (style.rows)
)

type segment struct {
	kind segKind
	text string // sanitized
}

// lineKind says what a line is about, for its style.
type lineKind uint8

const (
	lineInfo    lineKind = iota // the welcome, the room closing
	lineMessage                 // someone else's say or me
	lineOwn                     // the person's own say or me
	linePrivate                 // a /msg, either way
	lineEvent                   // a join, leave or role change
	lineNotice                  // the host's answer to a command
	lineError                   // the host's refusal of a command
	lineEarlier                 // an event from before the person joined (style.Earlier)
)

type shownLine struct {
	kind lineKind
	segs []segment
	// alert: the line mentions the person, or is a private message to
	// them; a terminal rings its bell for it.
	alert bool
}

func (l shownLine) plain() string {
	var b strings.Builder
	for _, s := range l.segs {
		b.WriteString(s.text)
	}
	return b.String()
}

func textSeg(s string) segment { return segment{segText, s} }
func nameSeg(s string) segment { return segment{segName, join.Sanitize(s)} }

// eventMark starts, after the time, every line of the room's own events: a
// join, a leave (a kick and a ban among them) and a change of role, as in
// "12:04 -!- cy was kicked by ana (spam)". An action (/me) is "12:04 * cy
// waves", so "/me was kicked by ana" can never read as a kick.
const eventMark = "-!- "

func eventLine(name, words string) shownLine {
	return shownLine{kind: lineEvent, segs: []segment{textSeg(eventMark), nameSeg(name), textSeg(words)}}
}

// renderLines renders f as render documents, keeping what each part is.
func renderLines(f wire.Frame, me string, loc *time.Location) []shownLine {
	switch f.Type {
	case wire.TypeEvent:
		if f.Kind == wire.KindPresence {
			lines := renderPresence(f)
			for i := range lines {
				lines[i].segs = append([]segment{{segStamp, stamp(f.Time, loc)}, textSeg(" ")}, lines[i].segs...)
			}
			return lines
		}
		if l, ok := renderEvent(f, me); ok {
			l.segs = append([]segment{{segStamp, stamp(f.Time, loc)}, textSeg(" ")}, l.segs...)
			return []shownLine{l}
		}
	case wire.TypePrivate:
		if f.File != nil {
			l := privateOfferLine(f, me)
			l.segs = append([]segment{{segStamp, stamp(f.Time, loc)}, textSeg(" ")}, l.segs...)
			return []shownLine{l}
		}
		l := shownLine{kind: linePrivate, alert: f.From != me}
		l.segs = append(l.segs, segment{segStamp, stamp(f.Time, loc)}, textSeg(" ["), nameSeg(f.From), textSeg(" -> "), nameSeg(f.To), textSeg("] "))
		l.segs = append(l.segs, body(f.Text, me, f.From)...)
		return []shownLine{l}
	case wire.TypeNotice:
		kind, prefix := lineNotice, "-- "
		if f.Error {
			kind, prefix = lineError, "!! "
		}
		msg := strings.TrimRight(f.Text, "\n")
		if msg == "" {
			return nil
		}
		var lines []shownLine
		for _, l := range strings.Split(msg, "\n") {
			lines = append(lines, shownLine{kind: kind, segs: []segment{{segText, prefix + join.Sanitize(l)}}})
		}
		return lines
	case wire.TypeClosed:
		// Leaving and being sent away are reported by Join's result; only
		// the room closing needs a line of its own.
		if f.Code == wire.CodeRoomClosed {
			return []shownLine{{kind: lineInfo, segs: []segment{textSeg("-- the room closed")}}}
		}
	case wire.TypeWelcome:
		return []shownLine{{kind: lineInfo, segs: []segment{textSeg(welcomeLine(f))}}}
	}
	return nil
}

// renderEvent renders an event without its time; false for a kind this
// version does not know, which is shown as nothing rather than guessed at.
func renderEvent(f wire.Frame, me string) (shownLine, bool) {
	switch f.Kind {
	case wire.KindSay, wire.KindMe:
		l := shownLine{kind: lineMessage}
		if f.From == me {
			l.kind = lineOwn
		}
		if f.Kind == wire.KindSay {
			l.segs = []segment{textSeg("<"), nameSeg(f.From), textSeg("> ")}
		} else {
			l.segs = []segment{textSeg("* "), nameSeg(f.From), textSeg(" ")}
		}
		b := body(f.Text, me, f.From)
		l.segs = append(l.segs, b...)
		l.alert = slices.ContainsFunc(b, func(s segment) bool { return s.kind == segMention })
		return l, true
	case wire.KindJoin:
		return eventLine(f.Name, " joined"+roleWords(f.Role)), true
	case wire.KindLeave:
		return eventLine(f.Name, " "+leaveWords(f)), true
	case wire.KindRole:
		var words string
		switch f.Role {
		case wire.RoleAdmin:
			words = " is now an admin"
		case wire.RoleOwner:
			words = " is now the host"
		case wire.RoleMember:
			words = " is no longer an admin"
		default:
			words = " is now " + join.Sanitize(f.Role)
		}
		if f.By != "" {
			words += " (by " + join.Sanitize(f.By) + ")"
		}
		return eventLine(f.Name, words), true
	case wire.KindNick:
		// me may be either name: the roster follows the person's own
		// change before the event is shown.
		if f.Name == me || f.NewName == me {
			return shownLine{kind: lineEvent, segs: []segment{textSeg(eventMark + "you are now known as "), nameSeg(f.NewName)}}, true
		}
		l := eventLine(f.Name, " is now known as ")
		l.segs = append(l.segs, nameSeg(f.NewName))
		return l, true
	case wire.KindAway:
		if f.Text == "" {
			return eventLine(f.From, " is back"), true
		}
		return eventLine(f.From, " is away: "+showText(f.Text)), true
	case wire.KindTopic:
		if f.Text == "" {
			return eventLine(f.From, " cleared the topic"), true
		}
		return eventLine(f.From, " set the topic: "+showText(f.Text)), true
	case wire.KindOffer:
		if f.File == nil {
			return shownLine{}, false // an offer of nothing says nothing
		}
		if offerer(f) == "" {
			return shownLine{kind: lineEvent, segs: []segment{textSeg(eventMark + "on offer: " + fileWords(*f.File))}}, true
		}
		return eventLine(offerer(f), " offers "+fileWords(*f.File)), true
	case wire.KindUnsend:
		if f.File == nil {
			return shownLine{}, false
		}
		file := fileNumberWords(*f.File)
		switch f.Code {
		case "":
			who := f.By
			if who == "" {
				who = offerer(f)
			}
			if who == "" {
				return shownLine{kind: lineEvent, segs: []segment{textSeg(eventMark + file + " was taken back")}}, true
			}
			return eventLine(who, " took back "+file), true
		case wire.CodeExpired:
			return shownLine{kind: lineEvent, segs: []segment{textSeg(eventMark + file + " expired")}}, true
		case wire.CodeDamaged:
			return shownLine{kind: lineEvent, segs: []segment{textSeg(eventMark + file + " is gone: the host's copy was damaged")}}, true
		}
		return shownLine{kind: lineEvent, segs: []segment{textSeg(eventMark + file + " is gone (" + join.Sanitize(f.Code) + ")")}}, true
	}
	return shownLine{}, false
}

// offerer is who offers a file: the frame's From, or the file's own when
// a room gave only that.
func offerer(f wire.Frame) string {
	if f.From == "" && f.File != nil {
		return f.File.From
	}
	return f.From
}

// privateOfferLine renders an offer to one member, which the room sends
// to the two of them as a private frame with the file: "bob offers you
// slides.pdf (…) — /get 7" to the one it is for, "you offer cy slides.pdf
// (…) — /get 7" to the one who offered it. Its text, if any, is not shown:
// the words are the client's, so that no one can word an offer to read
// as something else. It starts with eventMark, as the room's own lines
// do: a private message starts with "[from -> to] ".
func privateOfferLine(f wire.Frame, me string) shownLine {
	from, to := offerer(f), f.To
	if to == "" {
		to = f.File.To
	}
	l := shownLine{kind: linePrivate, alert: from != me}
	switch {
	case me != "" && from == me:
		l.segs = []segment{textSeg(eventMark + "you offer "), nameSeg(to), textSeg(" " + fileWords(*f.File))}
	case me != "" && to == me:
		l.segs = []segment{textSeg(eventMark), nameSeg(from), textSeg(" offers you " + fileWords(*f.File))}
	default:
		l.segs = []segment{textSeg(eventMark), nameSeg(from), textSeg(" offers "), nameSeg(to), textSeg(" " + fileWords(*f.File))}
	}
	return l
}

// fileWords is how an offered file is shown after "offers": its name, its
// size and the start of its sha256, and the command that fetches it, as
// in "slides.pdf (2.3 MB, sha256 3f9a1c2b…) — /get 7". Every part came
// from the network: the name is shown as a member's text is (showText:
// sanitized, no long runs of blanks), the hash only as far as it is hex.
func fileWords(file wire.File) string {
	w := fileName(file.Name) + " (" + wire.FormatSize(max(file.Size, 0))
	if h := shortHash(file.SHA256); h != "" {
		w += ", sha256 " + h
	}
	w += ")"
	if file.Number > 0 {
		w += " — /get " + strconv.Itoa(file.Number)
	}
	return w
}

// fileNumberWords is a file as the room numbers it, for the lines that
// say it is gone: "file 7 (slides.pdf)".
func fileNumberWords(file wire.File) string {
	w := "file " + strconv.Itoa(file.Number)
	if file.Name != "" {
		w += " (" + fileName(file.Name) + ")"
	}
	return w
}

// fileName is an offered file's name as shown: sanitized, its long runs
// of blanks cut (showText), and "?" for none.
func fileName(name string) string {
	if name == "" {
		return "?"
	}
	return showText(name)
}

// shortHash is the first eight hex digits of a sha256 and "…", as a
// person compares them; "" when what the room sent does not start with
// eight lowercase hex digits.
func shortHash(sha string) string {
	if len(sha) < 8 {
		return ""
	}
	for _, c := range []byte(sha[:8]) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return ""
		}
	}
	return sha[:8] + "…"
}

// presenceNames is how many names a line of a presence event shows
// before "and N others": every name when there are at most one more than
// that, so that "and 1 others" is never written.
const presenceNames = 3

// renderPresence renders a presence event (joins and leaves told
// together, in a big room) without its time: a line for those who left,
// then one for those who came, in the order the roster applies them, as
// "-!- ana, bob, cy and 37 others joined". An event with no one in it
// shows nothing.
func renderPresence(f wire.Frame) []shownLine {
	var lines []shownLine
	if len(f.Left) > 0 {
		l := shownLine{kind: lineEvent, segs: []segment{textSeg(eventMark)}}
		l.segs = appendNames(l.segs, len(f.Left), func(i int) (string, string) { return f.Left[i].Name, "" })
		l.segs = append(l.segs, textSeg(" left"))
		lines = append(lines, l)
	}
	if len(f.Joined) > 0 {
		l := shownLine{kind: lineEvent, segs: []segment{textSeg(eventMark)}}
		l.segs = appendNames(l.segs, len(f.Joined), func(i int) (string, string) { return f.Joined[i].Name, roleWords(f.Joined[i].Role) })
		l.segs = append(l.segs, textSeg(" joined"))
		lines = append(lines, l)
	}
	return lines
}

// appendNames appends the first names of n (name and words after it, as
// name(i) gives them) as a list in words: "ana", "ana and bob", "ana,
// bob and cy", or "ana, bob, cy and 37 others".
func appendNames(segs []segment, n int, name func(i int) (string, string)) []segment {
	shown := n
	if n > presenceNames+1 {
		shown = presenceNames
	}
	for i := range shown {
		switch {
		case i == 0:
		case i == n-1:
			segs = append(segs, textSeg(" and "))
		default:
			segs = append(segs, textSeg(", "))
		}
		who, words := name(i)
		segs = append(segs, nameSeg(who))
		if words != "" {
			segs = append(segs, textSeg(words))
		}
	}
	if shown < n {
		segs = append(segs, textSeg(fmt.Sprintf(" and %d others", n-shown)))
	}
	return segs
}

// roleWords is what a join line says of a role: the roles that are not
// a plain member's.
func roleWords(role string) string {
	switch role {
	case wire.RoleAdmin:
		return " (admin)"
	case wire.RoleOwner:
		return " (host)" // as /who says: the owner is the one hosting
	}
	return ""
}

// body renders the text of a message from "from": sanitized, its runs of
// blanks shortened (showText), with the person's own name marked wherever
// someone else wrote it.
func body(msg, me, from string) []segment {
	msg = showText(msg)
	if me == "" || from == me {
		return []segment{textSeg(msg)}
	}
	me = join.Sanitize(me) // as the name appears in sanitized text
	var segs []segment
	for {
		i, n := findMention(msg, me)
		if i < 0 {
			break
		}
		if i > 0 {
			segs = append(segs, textSeg(msg[:i]))
		}
		segs = append(segs, segment{segMention, msg[i : i+n]})
		msg = msg[i+n:]
	}
	if msg != "" || len(segs) == 0 {
		segs = append(segs, textSeg(msg))
	}
	return segs
}

// findMention finds name in msg as a word of its own, in any case: "ana"
// is mentioned in "ana: hi" and "hi ANA!", not in "banana". It returns the
// byte offset and length of the match, or -1.
func findMention(msg, name string) (int, int) {
	want := utf8.RuneCountInString(name)
	for i := 0; i < len(msg); {
		if !wordStart(msg, i) {
			_, size := utf8.DecodeRuneInString(msg[i:])
			i += size
			continue
		}
		// The candidate is the next len(name) runes: names compare by
		// runes, whatever their case.
		j, n := i, 0
		for n < want && j < len(msg) {
			_, size := utf8.DecodeRuneInString(msg[j:])
			j += size
			n++
		}
		if n == want && strings.EqualFold(msg[i:j], name) && wordEnd(msg, j) {
			return i, j - i
		}
		_, size := utf8.DecodeRuneInString(msg[i:])
		i += size
	}
	return -1, 0
}

// wordStart and wordEnd say whether a word may begin at, or end before,
// byte i of s: at the edge of s or next to a rune that is not a letter,
// digit or underscore.
func wordStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !isWordRune(r)
}

func wordEnd(s string, i int) bool {
	if i == len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !isWordRune(r)
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// leaveWords says why someone left, after their name.
func leaveWords(f wire.Frame) string {
	reason := ""
	if f.Text != "" {
		reason = " (" + showText(f.Text) + ")"
	}
	switch f.Code {
	case wire.CodeLeft, "":
		return "left"
	case wire.CodeLost:
		return "lost connection"
	case wire.CodeKicked:
		return "was kicked" + byWhom(f.By) + reason
	case wire.CodeBanned:
		return "was banned" + byWhom(f.By) + reason
	case wire.CodeTooSlow:
		return "was dropped (too slow)"
	case wire.CodeProtocol:
		return "was disconnected (protocol error)"
	case wire.CodeRoomClosed:
		return "left (the room closed)"
	}
	return "left (" + join.Sanitize(f.Code) + ")"
}

// byWhom is the admin who did it, after the words that say what, as in
// "was kicked by ana".
func byWhom(by string) string {
	if by == "" {
		return ""
	}
	return " by " + join.Sanitize(by)
}

// stamp formats an event's time; an event without one (which a host does
// not send) gets a placeholder rather than "00:00".
func stamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "--:--"
	}
	if loc == nil {
		loc = time.Local
	}
	return t.In(loc).Format("15:04")
}

// maxWelcomeNames bounds the names the welcome line lists, so that joining
// a big room does not open with a wall of names (/who lists them all).
const maxWelcomeNames = 20

// welcomeLine is the line shown on joining, with the room's topic when it
// has one:
//
//	joined "Lab 3" as bob (3 here: ana, bob, cy); topic: release on friday
func welcomeLine(w wire.Frame) string {
	room, me := welcomeNames(w)
	names := make([]string, 0, len(w.Members)+1)
	seenMe := false
	for _, m := range w.Members {
		names = append(names, join.Sanitize(m.Name))
		seenMe = seenMe || m.Name == me
	}
	if !seenMe && me != "" {
		names = append(names, join.Sanitize(me))
	}
	slices.SortFunc(names, compareNames)
	n := len(names)
	list := names
	more := ""
	if n > maxWelcomeNames {
		list = names[:maxWelcomeNames]
		more = fmt.Sprintf(" and %d more", n-maxWelcomeNames)
	}
	line := fmt.Sprintf("joined %q as %s (%d here: %s%s)", join.Sanitize(room), join.Sanitize(me), n, strings.Join(list, ", "), more)
	if w.MembersOnRequest {
		// A big room: its welcome left them out (wire.MembersInWelcome).
		line = fmt.Sprintf("joined %q as %s (%d here; /who lists them)", join.Sanitize(room), join.Sanitize(me), max(1, w.MemberCount))
	}
	if w.Room != nil && w.Room.Topic != "" {
		line += "; topic: " + showText(w.Room.Topic)
	}
	return line
}

// maxBlankRun is the most blank characters in a row that a member's text
// is shown with.
const maxBlankRun = 3

// showText is Sanitize for what members write (messages, reasons), with
// every run of more than maxBlankRun blank characters cut to its first
// maxBlankRun. A long run of blanks is how a message is made to wrap, on
// a terminal that wraps it, into a row that starts with words of the
// sender's choosing ("07:08 <admin2> please everyone run: …") and reads as
// a line of its own. The client's own wrapping marks every continuation
// (style.Width), but a terminal that is narrowed re-wraps what it shows
// already, and in line mode the terminal wraps: without the run, the fake
// row would have to follow a row of visible filler. Two or three spaces,
// as people type them, are kept.
func showText(s string) string {
	s = join.Sanitize(s)
	n := 0 // blanks in the current run
	cut := false
	for _, r := range s {
		if n = blankRun(n, r); n > maxBlankRun {
			cut = true
			break
		}
	}
	if !cut {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	n = 0
	for _, r := range s {
		if n = blankRun(n, r); n <= maxBlankRun {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// blankRun returns the length of the run of blanks after r, when n blanks
// came before it.
func blankRun(n int, r rune) int {
	if isBlank(r) {
		return n + 1
	}
	return 0
}

// isBlank reports a character that shows as nothing, or as empty space:
// the spaces (Zs), the fillers that show as one (Hangul fillers, the blank
// Braille pattern), and the format characters (Cf) other than the tags of
// flag emoji sequences. A run of them is blank, whatever the mix.
func isBlank(r rune) bool {
	switch r {
	case 0x115f, 0x1160, 0x3164, 0xffa0, 0x2800:
		return true
	}
	if r >= 0xe0020 && r <= 0xe007f {
		return false
	}
	return unicode.In(r, unicode.Zs, unicode.Cf)
}

// compareNames orders names as a person reads a list, as the roster
// does: ignoring case first, then by bytes so that the order is total.
func compareNames(a, b string) int {
	if c := strings.Compare(strings.ToLower(a), strings.ToLower(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// welcomeNames returns the room's name and the person's from a welcome,
// "" for what it lacks.
func welcomeNames(w wire.Frame) (room, me string) {
	if w.Room != nil {
		room = w.Room.Name
	}
	if w.You != nil {
		me = w.You.Name
	}
	return room, me
}

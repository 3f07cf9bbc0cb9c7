package join

import (
	"hash/fnv"
	"strings"
	"time"

	"chatroom/host/wire"
)

// Style renders frames for an interactive terminal: the words of Render,
// with SGR attributes that set apart the time, each member's name (in a
// colour of its own, the same every time), the person's own lines, private
// messages, notices and errors, and a mention of the person's name.
//
// Only this code adds escape sequences, and only around text that has been
// through Sanitize, so the only control sequences that reach the terminal
// are "ESC [ n ; … m".
type Style struct {
	// Color allows colours. Without it (NO_COLOR) the attributes that are
	// not colours remain: bold, dim and reverse video, so that what must
	// stand out still does.
	Color bool
}

// nameColors are the SGR foreground colours names are given: the six
// colours and their bright forms, which read on dark and light terminals
// alike (black, white and greys do not).
var nameColors = []string{"31", "32", "33", "34", "35", "36", "91", "92", "93", "94", "95", "96"}

// nameColor returns the SGR colour of name: the same for a name in any
// case, since "Bob" and "bob" are one member.
func nameColor(name string) string {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(name)))
	return nameColors[h.Sum32()%uint32(len(nameColors))]
}

// Lines renders f as lines to show on a terminal, and reports whether any
// of them should ring the bell: one that mentions me, or a private message
// to me.
func (s Style) Lines(f wire.Frame, me string, loc *time.Location) (lines []string, alert bool) {
	for _, l := range renderLines(f, me, loc) {
		lines = append(lines, s.line(l))
		alert = alert || l.alert
	}
	return lines, alert
}

// Earlier renders f, an event from before the person joined, as Render's
// lines after "earlier: ", all dimmed and without alerts: it is not news.
func (s Style) Earlier(f wire.Frame, me string, loc *time.Location) []string {
	var lines []string
	for _, l := range renderLines(f, me, loc) {
		lines = append(lines, "\x1b[2m"+"earlier: "+l.plain()+"\x1b[0m")
	}
	return lines
}

func (s Style) line(l shownLine) string {
	var base []string
	switch l.kind {
	case lineOwn:
		base = []string{"1"}
	case linePrivate:
		base = s.colorOr("35", "")
	case lineEvent:
		base = []string{"2"}
	case lineNotice:
		base = s.colorOr("36", "2")
	case lineError:
		base = append([]string{"1"}, s.colorOr("31", "")...)
	}
	var b strings.Builder
	for _, seg := range l.segs {
		if seg.text == "" {
			continue
		}
		codes := base
		switch seg.kind {
		case segStamp:
			codes = append(codes[:len(codes):len(codes)], "2")
		case segName:
			if s.Color {
				codes = append(codes[:len(codes):len(codes)], nameColor(seg.text))
			}
		case segMention:
			codes = append(codes[:len(codes):len(codes)], "1", "7")
		}
		if len(codes) == 0 {
			b.WriteString(seg.text)
			continue
		}
		b.WriteString("\x1b[" + strings.Join(codes, ";") + "m" + seg.text + "\x1b[0m")
	}
	return b.String()
}

// colorOr returns color when colours are allowed, else fallback (an
// attribute), as a list of SGR codes.
func (s Style) colorOr(color, fallback string) []string {
	switch {
	case s.Color:
		return []string{color}
	case fallback != "":
		return []string{fallback}
	}
	return nil
}

// notice renders one of the client's own notices as the host's are shown:
// "-- text", or "!! text" for an error. text must be fit to show.
func (s Style) notice(text string, isError bool) string {
	if isError {
		return s.line(shownLine{kind: lineError, segs: []segment{{segText, "!! " + text}}})
	}
	return s.line(shownLine{kind: lineNotice, segs: []segment{{segText, "-- " + text}}})
}

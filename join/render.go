package join

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"chatroom/host/wire"
)

// Render turns one frame from the host into the lines to show, without
// line endings: events and private messages with their time as HH:MM in
// loc (time.Local when nil), notices line by line. Frames that show nothing
// (a closed frame the caller reports as an error, a type this version does
// not know) give no lines. Every field from the network goes through
// Sanitize.
//
// me is the person's own name. The lines are the same for every member
// today; me is part of the signature so that a renderer can mark what
// concerns the person (a mention, a /msg to them) without changing callers.
func Render(f wire.Frame, me string, loc *time.Location) []string {
	switch f.Type {
	case wire.TypeEvent:
		if line, ok := renderEvent(f); ok {
			return []string{stamp(f.Time, loc) + " " + line}
		}
	case wire.TypePrivate:
		return []string{fmt.Sprintf("%s [%s -> %s] %s", stamp(f.Time, loc), Sanitize(f.From), Sanitize(f.To), Sanitize(f.Text))}
	case wire.TypeNotice:
		prefix := "-- "
		if f.Error {
			prefix = "!! "
		}
		text := strings.TrimRight(f.Text, "\n")
		if text == "" {
			return nil
		}
		lines := strings.Split(text, "\n")
		for i, l := range lines {
			lines[i] = prefix + Sanitize(l)
		}
		return lines
	case wire.TypeClosed:
		// Leaving and being sent away are reported by Join's result; only
		// the room closing needs a line of its own.
		if f.Code == wire.CodeRoomClosed {
			return []string{"-- the room closed"}
		}
	case wire.TypeWelcome:
		return []string{WelcomeLine(f)}
	}
	return nil
}

// renderEvent renders an event without its time; false for a kind this
// version does not know, which is shown as nothing rather than guessed at.
func renderEvent(f wire.Frame) (string, bool) {
	switch f.Kind {
	case wire.KindSay:
		return "<" + Sanitize(f.From) + "> " + Sanitize(f.Text), true
	case wire.KindMe:
		return "* " + Sanitize(f.From) + " " + Sanitize(f.Text), true
	case wire.KindJoin:
		line := "* " + Sanitize(f.Name) + " joined"
		switch f.Role {
		case wire.RoleAdmin:
			line += " (admin)"
		case wire.RoleOwner:
			line += " (host)" // as /who says: the owner is the one hosting
		}
		return line, true
	case wire.KindLeave:
		return "* " + Sanitize(f.Name) + " " + leaveWords(f), true
	case wire.KindRole:
		line := "* " + Sanitize(f.Name)
		switch f.Role {
		case wire.RoleAdmin:
			line += " is now an admin"
		case wire.RoleOwner:
			line += " is now the host"
		case wire.RoleMember:
			line += " is no longer an admin"
		default:
			line += " is now " + Sanitize(f.Role)
		}
		if f.By != "" {
			line += " (by " + Sanitize(f.By) + ")"
		}
		return line, true
	}
	return "", false
}

// leaveWords says why someone left, after their name.
func leaveWords(f wire.Frame) string {
	reason := ""
	if f.Text != "" {
		reason = " (" + Sanitize(f.Text) + ")"
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
	return "left (" + Sanitize(f.Code) + ")"
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

// WelcomeLine is the line shown on joining:
//
//	joined "Lab 3" as bob (3 here: ana, bob, cy)
func WelcomeLine(w wire.Frame) string {
	room, me := "", ""
	if w.Room != nil {
		room = w.Room.Name
	}
	if w.You != nil {
		me = w.You.Name
	}
	names := make([]string, 0, len(w.Members)+1)
	seenMe := false
	for _, m := range w.Members {
		names = append(names, Sanitize(m.Name))
		seenMe = seenMe || m.Name == me
	}
	if !seenMe && me != "" {
		names = append(names, Sanitize(me))
	}
	slices.SortFunc(names, compareNames)
	n := len(names)
	list := names
	more := ""
	if n > maxWelcomeNames {
		list = names[:maxWelcomeNames]
		more = fmt.Sprintf(" and %d more", n-maxWelcomeNames)
	}
	return fmt.Sprintf("joined %q as %s (%d here: %s%s)", Sanitize(room), Sanitize(me), n, strings.Join(list, ", "), more)
}

// Sanitize makes text from the network safe to show on a terminal: every
// character that a terminal would act on instead of showing becomes a
// visible placeholder. C0 controls (newline and tab included: one field is
// one line) and DEL become caret notation (ESC is "^["), so an escape
// sequence shows as text; C1 controls, Unicode bidi overrides, embeddings,
// isolates and marks, and invalid UTF-8 become U+FFFD. Everything else,
// wide characters and emoji included, passes unchanged.
func Sanitize(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, needsPlaceholder) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s { // invalid bytes arrive as utf8.RuneError
		switch {
		case r < 0x20:
			b.WriteByte('^')
			b.WriteByte(byte(r) + '@')
		case r == 0x7f:
			b.WriteString("^?")
		case needsPlaceholder(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// needsPlaceholder reports a rune that Sanitize replaces.
func needsPlaceholder(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, // LRE, RLE, PDF, LRO, RLO
		r >= 0x2066 && r <= 0x2069, // LRI, RLI, FSI, PDI
		r == 0x200e, r == 0x200f,   // LRM, RLM
		r == 0x061c: // ALM
		return true
	}
	return false
}

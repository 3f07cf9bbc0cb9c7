package join

import (
	"strings"
	"unicode/utf8"
)

// Sanitize makes text from the network safe to show on a terminal: every
// character that a terminal would act on instead of showing becomes a
// visible placeholder. C0 controls (newline and tab included: one field is
// one line) and DEL become caret notation (ESC is "^["), so an escape
// sequence shows as text; C1 controls, Unicode bidi overrides, embeddings,
// isolates and marks, the line and paragraph separators (U+2028, U+2029:
// line breaks to some programs that read the output) and invalid UTF-8
// become U+FFFD. Everything else, wide characters and emoji included,
// passes unchanged.
//
// It is here rather than with the terminal (join/tui) because this
// package's own texts need it too: its errors quote what a room sent, and
// the command line prints them.
func Sanitize(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, NeedsPlaceholder) < 0 {
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
		case NeedsPlaceholder(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// NeedsPlaceholder reports a rune that Sanitize replaces, so that code
// that shows text a rune at a time (the terminal's output, completion)
// draws the line exactly where Sanitize does.
func NeedsPlaceholder(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029: // LINE and PARAGRAPH SEPARATOR
		return true
	case r >= 0x202a && r <= 0x202e, // LRE, RLE, PDF, LRO, RLO
		r >= 0x2066 && r <= 0x2069, // LRI, RLI, FSI, PDI
		r == 0x200e, r == 0x200f,   // LRM, RLM
		r == 0x061c: // ALM
		return true
	}
	return false
}

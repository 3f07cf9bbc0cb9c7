package tui

import (
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"

	"chatroom/host/wire"
)

// style renders frames for an interactive terminal: the words of render,
// with SGR attributes that set apart the time, each member's name (in a
// colour of its own, the same every time), the person's own lines, private
// messages, notices and errors, and a mention of the person's name.
//
// Only this code adds escape sequences, and only around text that has been
// through Sanitize, so the only control sequences that reach the terminal
// are "ESC [ n ; … m".
type style struct {
	// Color allows colours. Without it (NO_COLOR) the attributes that are
	// not colours remain: bold, dim and reverse video, so that what must
	// stand out still does.
	Color bool
	// Width is the terminal's width in columns, 0 when it is not known.
	// Where it is known, a line longer than a row is cut into rows here,
	// not wrapped by the terminal, and every row after the first starts
	// with a continuation mark that no line starts with ("      ↳ "): text
	// that a long message brings to the start of a row can never pass for
	// a line of its own. Where it is not, the terminal wraps as it will.
	Width int
	// Palette256: the terminal shows 256 colours (palette256), and names
	// are given one of nameColors256 rather than of nameColors.
	Palette256 bool
}

// nameColors are the SGR foreground colours names are given on a terminal
// of 16 colours: the six colours and their bright forms, which read on
// dark and light terminals alike (black, white and greys do not).
var nameColors = []string{"31", "32", "33", "34", "35", "36", "91", "92", "93", "94", "95", "96"}

// nameColors256 are the colours names are given on a terminal of 256
// (Palette256): those of its 6×6×6 colour cube (16 to 231) that are
// neither grey nor too dark nor too light to read on a dark background
// and on a light one alike. They are chosen by their relative luminance
// (WCAG's), between 0.08 and 0.32: at least 2.6 times as bright as black
// and 2.8 times darker than white. Twelve colours give four people a
// shared colour nearly half the time; these, 79, about one time in
// fourteen.
var nameColors256 = func() []string {
	levels := [6]float64{0, 95, 135, 175, 215, 255} // xterm's cube
	linear := func(c float64) float64 {
		c /= 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	var colors []string
	for r := range 6 {
		for g := range 6 {
			for b := range 6 {
				if r == g && g == b {
					continue // grey
				}
				l := 0.2126*linear(levels[r]) + 0.7152*linear(levels[g]) + 0.0722*linear(levels[b])
				if l >= 0.08 && l <= 0.32 {
					colors = append(colors, "38;5;"+strconv.Itoa(16+36*r+6*g+b))
				}
			}
		}
	}
	return colors
}()

// palette256 reports whether a terminal described by the environment
// variables TERM and COLORTERM shows 256 colours: it says so in its TERM
// ("xterm-256color"), or says it shows more (COLORTERM=truecolor or
// 24bit). Anything else is taken to show 16.
func palette256(term, colorterm string) bool {
	switch strings.ToLower(colorterm) {
	case "truecolor", "24bit":
		return true
	}
	return strings.Contains(strings.ToLower(term), "256color")
}

// nameColor returns the SGR colour of name among the 16-colour palette:
// the same for a name in any case, since "Bob" and "bob" are one member.
func nameColor(name string) string {
	return nameColors[nameHash(name)%uint32(len(nameColors))]
}

// nameColor256 is nameColor on a terminal of 256 colours.
func nameColor256(name string) string {
	return nameColors256[nameHash(name)%uint32(len(nameColors256))]
}

// nameHash is FNV-1a of name in lower case.
func nameHash(name string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(name)))
	return h.Sum32()
}

// Lines renders f as lines to show on a terminal, and reports whether any
// of them should ring the bell: one that mentions me, or a private message
// to me. With a Width, a line may take several rows, each a string of
// its own.
func (s style) Lines(f wire.Frame, me string, loc *time.Location) (lines []string, alert bool) {
	for _, l := range renderLines(f, me, loc) {
		for _, row := range s.rows(l) {
			lines = append(lines, s.line(row))
		}
		alert = alert || l.alert
	}
	return lines, alert
}

// Earlier renders f, an event from before the person joined, as render's
// lines after "earlier: ", all dimmed and without alerts: it is not news.
func (s style) Earlier(f wire.Frame, me string, loc *time.Location) []string {
	var lines []string
	for _, l := range renderLines(f, me, loc) {
		early := shownLine{kind: lineEarlier, segs: append([]segment{textSeg("earlier: ")}, l.segs...)}
		for _, row := range s.rows(early) {
			lines = append(lines, s.line(row))
		}
	}
	return lines
}

// Plain renders one of the client's own lines, text fit to show, in rows
// as Lines does.
func (s style) Plain(text string) []string {
	var lines []string
	for _, row := range s.rows(shownLine{kind: lineInfo, segs: []segment{textSeg(text)}}) {
		lines = append(lines, s.line(row))
	}
	return lines
}

func (s style) line(l shownLine) string {
	if l.kind == lineEarlier {
		return "\x1b[2m" + l.plain() + "\x1b[0m"
	}
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
				codes = append(codes[:len(codes):len(codes)], s.nameColor(seg.text))
			}
		case segMention:
			codes = append(codes[:len(codes):len(codes)], "1", "7")
		case segMark:
			codes = append(codes[:len(codes):len(codes)], "2")
		}
		if len(codes) == 0 {
			b.WriteString(seg.text)
			continue
		}
		b.WriteString("\x1b[" + strings.Join(codes, ";") + "m" + seg.text + "\x1b[0m")
	}
	return b.String()
}

// nameColor returns the colour of name in the terminal's palette.
func (s style) nameColor(name string) string {
	if s.Palette256 {
		return nameColor256(name)
	}
	return nameColor(name)
}

// colorOr returns color when colours are allowed, else fallback (an
// attribute), as a list of SGR codes.
func (s style) colorOr(color, fallback string) []string {
	switch {
	case s.Color:
		return []string{color}
	case fallback != "":
		return []string{fallback}
	}
	return nil
}

// notice renders one of the client's own notices as the host's are shown:
// "-- text". text must be fit to show.
func (s style) notice(text string) string {
	return s.line(shownLine{kind: lineNotice, segs: []segment{{segText, "-- " + text}}})
}

// warning renders one of the client's own errors and warnings as the
// host's refusals are shown: "!! text". text must be fit to show.
func (s style) warning(text string) string {
	return s.line(shownLine{kind: lineError, segs: []segment{{segText, "!! " + text}}})
}

// contMark starts every row of a line after its first, where the time
// stands on a line's first row. Every line the client shows starts with
// something other than a blank (a time, "-- ", "!! ", a word), so a row
// that starts with contMark continues the row above it, whatever the text
// after it says. contMarkNarrow is the mark on a terminal too narrow to
// give the time's column to it.
const (
	contMark       = "      ↳ "
	contMarkNarrow = "↳ "
)

// Below wrapNarrowWidth columns rows start with contMarkNarrow; below
// minWrapWidth (where no row could hold a wide character after the mark)
// the terminal wraps.
const (
	wrapNarrowWidth = 24
	minWrapWidth    = 8
)

// rows cuts l into the rows it takes on a terminal s.Width columns wide: as
// many of its characters as fit on each, breaking after a blank where one
// is in the second half of the row, and every row after the first after
// the continuation mark. A row takes at most s.Width-1 columns: the last
// one is left empty, because a character written there leaves the cursor
// at the edge, where terminals differ on when they wrap; only a blank
// after a word that ends at the limit may take it, as a space shown there
// shows nothing whatever the terminal does next. Nothing of the line is
// left out: the rows without their marks are the line.
func (s style) rows(l shownLine) []shownLine {
	if s.Width < minWrapWidth {
		return []shownLine{l}
	}
	mark := contMark
	if s.Width < wrapNarrowWidth {
		mark = contMarkNarrow
	}
	limit := s.Width - 1
	rest := limit - runewidth.StringWidth(mark)
	cells := lineCells(l.segs, rest)
	total := 0
	for _, c := range cells {
		total += c.width
	}
	if total <= limit {
		return []shownLine{l}
	}
	spans := breakRows(cells, limit, rest)
	rows := make([]shownLine, 0, len(spans))
	for i, sp := range spans {
		row := shownLine{kind: l.kind, alert: l.alert}
		if i > 0 {
			row.segs = append(row.segs, segment{segMark, mark})
		}
		row.segs = append(row.segs, cellSegs(l.segs, cells[sp[0]:sp[1]])...)
		rows = append(rows, row)
	}
	return rows
}

// A cell is what no row may split: a character with those that join it
// (combining marks, an emoji sequence): bytes [start, end) of segment
// seg's text, width columns wide at most.
type cell struct {
	seg, start, end int
	width           int
	blank           bool // a blank (isBlank): a row may end after it
	runes           int
	last            rune
}

// lineCells cuts segs into cells of at most maxWidth columns: a sequence
// longer than that ("a", a zero-width joiner, "b", a joiner, …) is cut
// into several, so that no cell is wider than a row.
func lineCells(segs []segment, maxWidth int) []cell {
	var cells []cell
	for si, seg := range segs {
		first := len(cells)
		for i, r := range seg.text {
			end := i + utf8.RuneLen(r)
			if len(cells) > first && cells[len(cells)-1].width+runeCols(r) <= maxWidth && joinsCell(cells[len(cells)-1], r) {
				c := &cells[len(cells)-1]
				c.end, c.width, c.runes, c.last = end, c.width+runeCols(r), c.runes+1, r
				continue
			}
			cells = append(cells, cell{seg: si, start: i, end: end, width: runeCols(r), blank: isBlank(r), runes: 1, last: r})
		}
	}
	return cells
}

// joinsCell reports whether r belongs with the character in c: a
// combining mark, a zero-width joiner and the character after it, an
// emoji's skin tone or tag, or the second regional indicator of a flag.
// Their widths are added all the same (cells are measured at their
// widest), since a terminal may show each on its own.
func joinsCell(c cell, r rune) bool {
	regional := func(r rune) bool { return r >= 0x1f1e6 && r <= 0x1f1ff }
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me), r == 0x200d, c.last == 0x200d:
		return true
	case r >= 0x1f3fb && r <= 0x1f3ff, r >= 0xe0020 && r <= 0xe007f:
		return true
	case regional(r) && regional(c.last) && c.runes == 1:
		return true
	}
	return false
}

// runeCols is how many columns r may take on a terminal: go-runewidth's
// count, the one the line editor reckons with, raised where terminals are
// known to differ from it, so that a row cut to fit never overflows into
// a row that the terminal wraps without the mark. Zero only for what joins
// the character before it (combining marks, the zero-width joiner);
// symbols and emoji (U+2300–U+2BFF, and everything beyond the BMP, where
// emoji newer than go-runewidth's tables are) count two.
func runeCols(r rune) int {
	w := runewidth.RuneWidth(r)
	switch {
	case r < 0x300:
		return max(w, 1)
	case r == 0x200d, unicode.In(r, unicode.Mn, unicode.Me):
		return w
	case r >= 0x2300 && r <= 0x2bff, r >= 0x10000:
		return 2
	}
	return max(w, 1)
}

// breakRows returns the cells each row holds, as [start, end) spans:
// first columns on the first row, rest on each after it.
func breakRows(cells []cell, first, rest int) [][2]int {
	var spans [][2]int
	start, col, limit := 0, 0, first
	// brk is the cell after the row's last blank, brkCol the column it
	// starts at; -1 when the row has none.
	brk, brkCol := -1, 0
	for i, c := range cells {
		fits := col+c.width <= limit
		if c.blank && c.width == 1 && c.runes == 1 && col == limit {
			// A blank after a word that ends at the limit takes the last
			// column, so that the next row starts with the next word.
			fits = true
		}
		for !fits && i > start {
			end := i
			if !c.blank && brk > start && brkCol > limit/2 {
				end = brk // the word that does not fit goes to the next row whole
			}
			spans = append(spans, [2]int{start, end})
			start, limit, brk = end, rest, -1
			col = 0
			for _, carried := range cells[start:i] {
				col += carried.width
			}
			fits = col+c.width <= limit
		}
		col += c.width
		if c.blank {
			brk, brkCol = i+1, col
		}
	}
	return append(spans, [2]int{start, len(cells)})
}

// cellSegs returns the segments that cells, consecutive cells of segs,
// cover: one per segment they touch.
func cellSegs(segs []segment, cells []cell) []segment {
	var out []segment
	for i := 0; i < len(cells); {
		j := i
		for j+1 < len(cells) && cells[j+1].seg == cells[i].seg {
			j++
		}
		seg := segs[cells[i].seg]
		out = append(out, segment{seg.kind, seg.text[cells[i].start:cells[j].end]})
		i = j + 1
	}
	return out
}

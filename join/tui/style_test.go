package tui

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/mattn/go-runewidth"

	"chatroom/host/wire"
)

// sgr is the only escape sequence style may write: Select Graphic
// Rendition, with numeric parameters.
var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func TestStyleLines(t *testing.T) {
	loc := time.FixedZone("test", 2*60*60)
	say := func(from, text string) wire.Frame {
		return wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: 1, Time: testTime, From: from, Text: text}
	}
	const (
		dim   = "\x1b[2m"
		reset = "\x1b[0m"
	)
	bob := "\x1b[" + nameColor("bob") + "m"
	tests := []struct {
		name      string
		color     bool
		frame     wire.Frame
		want      []string
		wantAlert bool
	}{
		{"someone's message", true, say("bob", "hi"),
			[]string{dim + "12:04" + reset + " <" + bob + "bob" + reset + "> hi"}, false},
		{"own message is bold", true, say("ana", "hi"),
			[]string{"\x1b[1;2m12:04" + reset + "\x1b[1m " + reset + "\x1b[1m<" + reset + "\x1b[1;" + nameColor("ana") + "mana" + reset + "\x1b[1m> " + reset + "\x1b[1mhi" + reset}, false},
		{"mention", true, say("bob", "ANA: look"),
			[]string{dim + "12:04" + reset + " <" + bob + "bob" + reset + "> " + "\x1b[1;7mANA" + reset + ": look"}, true},
		{"no mention inside a word", true, say("bob", "banana"),
			[]string{dim + "12:04" + reset + " <" + bob + "bob" + reset + "> banana"}, false},
		{"no mention of oneself", true, say("ana", "I am ana"),
			[]string{"\x1b[1;2m12:04" + reset + "\x1b[1m " + reset + "\x1b[1m<" + reset + "\x1b[1;" + nameColor("ana") + "mana" + reset + "\x1b[1m> " + reset + "\x1b[1mI am ana" + reset}, false},
		{"private to me rings", true, wire.Frame{Type: wire.TypePrivate, Time: testTime, From: "cy", To: "ana", Text: "psst"},
			[]string{"\x1b[35;2m12:04" + reset + "\x1b[35m [" + reset + "\x1b[35;" + nameColor("cy") + "mcy" + reset + "\x1b[35m -> " + reset + "\x1b[35;" + nameColor("ana") + "mana" + reset + "\x1b[35m] " + reset + "\x1b[35mpsst" + reset}, true},
		{"private from me does not", false, wire.Frame{Type: wire.TypePrivate, Time: testTime, From: "ana", To: "cy", Text: "psst"},
			[]string{dim + "12:04" + reset + " [ana -> cy] psst"}, false},
		{"event", true, wire.Frame{Type: wire.TypeEvent, Kind: wire.KindJoin, Time: testTime, Name: "cy"},
			[]string{"\x1b[2;2m12:04" + reset + "\x1b[2m " + reset + "\x1b[2m-!- " + reset + "\x1b[2;" + nameColor("cy") + "mcy" + reset + "\x1b[2m joined" + reset}, false},
		{"notice", true, wire.Frame{Type: wire.TypeNotice, Text: "2 here:\nana, cy"},
			[]string{"\x1b[36m-- 2 here:" + reset, "\x1b[36m-- ana, cy" + reset}, false},
		{"notice without colour", false, wire.Frame{Type: wire.TypeNotice, Text: "ok"},
			[]string{dim + "-- ok" + reset}, false},
		{"error", true, wire.Frame{Type: wire.TypeNotice, Text: "not allowed", Error: true},
			[]string{"\x1b[1;31m!! not allowed" + reset}, false},
		{"error without colour is bold", false, wire.Frame{Type: wire.TypeNotice, Text: "not allowed", Error: true},
			[]string{"\x1b[1m!! not allowed" + reset}, false},
		{"mention without colour is still marked", false, say("bob", "hey ana"),
			[]string{dim + "12:04" + reset + " <bob> hey \x1b[1;7mana" + reset}, true},
		{"welcome", true, wire.Frame{Type: wire.TypeWelcome, Room: &wire.Room{Name: "Lab 3"}, You: &wire.Member{Name: "ana"}},
			[]string{`joined "Lab 3" as ana (1 here: ana)`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, alert := style{Color: tt.color}.Lines(tt.frame, "ana", loc)
			if !slices.Equal(got, tt.want) || alert != tt.wantAlert {
				t.Errorf("got %q, alert %v\nwant %q, alert %v", got, alert, tt.want, tt.wantAlert)
			}
			// Without its attributes, a styled line says what render says.
			plain := render(tt.frame, "ana", loc)
			for i := range got {
				if s := sgr.ReplaceAllString(got[i], ""); i >= len(plain) || s != plain[i] {
					t.Errorf("line %d without attributes is %q; render says %q", i, s, plain)
				}
			}
		})
	}
}

// TestStyleIsSafe: whatever a hostile host or member sends — escape
// sequences, C0 and C1 controls, bidi overrides, invalid UTF-8, in names,
// messages, reasons and notices — the only control sequences in a styled
// line are style's own SGR, and wide characters pass as they are.
func TestStyleIsSafe(t *testing.T) {
	hostile := []string{
		"\x1b[2J\x1b[H", "\x1b]0;pwned\x07", "\x1b[31mred", "a\x00b\x07c\x08d\x0d\x0a",
		"\u009b2J", "\u0085", "abc\u202edcba", "\u2066x\u2069", "\u200f", "bad\xffutf8",
		"\x1b[1;7mana", "ana\x1b", "漢字👍🏽 wide",
	}
	var frames []wire.Frame
	for _, h := range hostile {
		frames = append(frames,
			wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, From: h, Text: h + " ana " + h},
			wire.Frame{Type: wire.TypeEvent, Kind: wire.KindMe, From: h, Text: h},
			wire.Frame{Type: wire.TypeEvent, Kind: wire.KindJoin, Name: h, Role: h},
			wire.Frame{Type: wire.TypeEvent, Kind: wire.KindLeave, Name: h, Code: h, By: h, Text: h},
			wire.Frame{Type: wire.TypeEvent, Kind: wire.KindRole, Name: h, Role: h, By: h},
			wire.Frame{Type: wire.TypePrivate, From: h, To: h, Text: h},
			wire.Frame{Type: wire.TypeNotice, Text: h, Error: true},
			wire.Frame{Type: wire.TypeWelcome, Room: &wire.Room{Name: h}, You: &wire.Member{Name: h}},
		)
	}
	for _, color := range []bool{true, false} {
		for _, f := range frames {
			for _, me := range []string{"ana", "\x1b[2J"} {
				lines, _ := style{Color: color}.Lines(f, me, time.UTC)
				for _, l := range lines {
					rest := sgr.ReplaceAllString(l, "")
					if i := strings.IndexFunc(rest, func(r rune) bool {
						return unicode.IsControl(r) || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
					}); i >= 0 {
						t.Errorf("%+v as %q: control or override %q in %q", f, me, rest[i:], l)
					}
				}
			}
		}
	}
	lines, _ := style{Color: true}.Lines(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, From: "bob", Text: "漢字👍🏽"}, "ana", time.UTC)
	if len(lines) != 1 || !strings.HasSuffix(lines[0], "> 漢字👍🏽") {
		t.Errorf("wide characters: %q", lines)
	}
}

func TestNameColor(t *testing.T) {
	if nameColor("Bob") != nameColor("bob") {
		t.Error("a name's colour depends on its case")
	}
	seen := map[string]bool{}
	for _, n := range []string{"ana", "bob", "cy", "dee", "eve", "fay", "gus", "hal", "ivy", "jo"} {
		c := nameColor(n)
		if !slices.Contains(nameColors, c) {
			t.Fatalf("%s: colour %q is not one of the palette", n, c)
		}
		seen[c] = true
	}
	if len(seen) < 4 {
		t.Errorf("ten names share %d colours: names would not stand apart", len(seen))
	}
}

func TestFindMention(t *testing.T) {
	tests := []struct {
		msg, name string
		want      int
	}{
		{"ana: hi", "ana", 0},
		{"hi ANA!", "ana", 3},
		{"banana", "ana", -1},
		{"ana_b", "ana", -1},
		{"ana2", "ana", -1},
		{"hé ana", "ana", 4},
		{"anaana ana", "ana", 7},
		{"José, hi", "josé", 0},
		{"-x- hi", "-x-", 0},
		{"", "ana", -1},
		{"an", "ana", -1},
	}
	for _, tt := range tests {
		if got, _ := findMention(tt.msg, tt.name); got != tt.want {
			t.Errorf("findMention(%q, %q) = %d, want %d", tt.msg, tt.name, got, tt.want)
		}
	}
}

// unrow joins rows back into the line they were cut from: without their
// attributes, and without the continuation mark that starts each row
// after the first.
func unrow(t *testing.T, rows []string) string {
	t.Helper()
	var b strings.Builder
	for i, row := range rows {
		row = sgr.ReplaceAllString(row, "")
		if i > 0 {
			rest, ok := strings.CutPrefix(row, contMark)
			if !ok {
				rest, ok = strings.CutPrefix(row, contMarkNarrow)
			}
			if !ok {
				t.Fatalf("row %d %q does not start with the continuation mark; rows %q", i, row, rows)
			}
			row = rest
		}
		b.WriteString(row)
	}
	return b.String()
}

// rowCols is how many columns a row takes, counted as the client counts
// them (runeCols) and as go-runewidth does, whichever is more.
func rowCols(row string) int {
	row = sgr.ReplaceAllString(row, "")
	n := 0
	for _, c := range lineCells([]segment{textSeg(row)}, 1<<30) {
		n += c.width
	}
	return max(n, runewidth.StringWidth(row))
}

func TestStyleRows(t *testing.T) {
	say := func(text string) wire.Frame {
		return wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Time: testTime, From: "bob", Text: text}
	}
	tests := []struct {
		name  string
		width int
		frame wire.Frame
		want  []string
	}{
		{"fits", 40, say("hi"), []string{"10:04 <bob> hi"}},
		{"fits with the last column empty", 27, say("12345678901234"), []string{"10:04 <bob> 12345678901234"}},
		{"one column too many", 27, say("123456789012345"), []string{"10:04 <bob> 12345678901234", contMark + "5"}},
		{"breaks between words", 40, say("the quick brown fox jumps over the lazy dog, and then the dog wakes up"),
			[]string{"10:04 <bob> the quick brown fox jumps ", contMark + "over the lazy dog, and then the ", contMark + "dog wakes up"}},
		{"a word that ends at the edge keeps its space", 30, say("aaaaaaaaaaaaaaaaa bbbb"),
			[]string{"10:04 <bob> aaaaaaaaaaaaaaaaa ", contMark + "bbbb"}},
		{"a long word is cut", 30, say(strings.Repeat("x", 40)),
			[]string{"10:04 <bob> " + strings.Repeat("x", 17), contMark + strings.Repeat("x", 21), contMark + "xx"}},
		{"wide characters are never cut in half", 30, say(strings.Repeat("漢", 20)),
			[]string{"10:04 <bob> " + strings.Repeat("漢", 8), contMark + strings.Repeat("漢", 10), contMark + strings.Repeat("漢", 2)}},
		{"emoji with skin tones stay whole", 30, say(strings.Repeat("👍🏽", 6)),
			[]string{"10:04 <bob> 👍🏽👍🏽👍🏽👍🏽", contMark + "👍🏽👍🏽"}},
		{"flags stay whole", 30, say(strings.Repeat("🇫🇷", 5)),
			[]string{"10:04 <bob> " + strings.Repeat("🇫🇷", 4), contMark + "🇫🇷"}},
		{"accents stay with their letter", 30, say(strings.Repeat("e\u0301", 18)),
			[]string{"10:04 <bob> " + strings.Repeat("e\u0301", 17), contMark + "e\u0301"}},
		{"a word right after the name is cut where the row ends", 30, say(strings.Repeat("y", 20)),
			[]string{"10:04 <bob> " + strings.Repeat("y", 17), contMark + "yyy"}},
		{"a long word after a short one goes to the next row", 30, say("yes " + strings.Repeat("y", 20)),
			[]string{"10:04 <bob> yes ", contMark + strings.Repeat("y", 20)}},
		{"a sequence joined without end is cut", 30, say(strings.Repeat("a\u200d", 30)),
			[]string{"10:04 <bob> ", contMark + strings.Repeat("a\u200d", 21), contMark + strings.Repeat("a\u200d", 9)}},
		{"narrow terminal", 16, say("hello there, world"), []string{"10:04 <bob> ", contMarkNarrow + "hello there, ", contMarkNarrow + "world"}},
		{"too narrow to cut", 7, say("hello there, world"), []string{"10:04 <bob> hello there, world"}},
		{"width unknown", 0, say(strings.Repeat("x", 200)), []string{"10:04 <bob> " + strings.Repeat("x", 200)}},
		{"each line of a notice", 20, wire.Frame{Type: wire.TypeNotice, Text: "2 here: ana (host), bob\nend"},
			[]string{"-- 2 here: ana ", contMarkNarrow + "(host), bob", "-- end"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := style{Width: tt.width}.Lines(tt.frame, "ana", time.UTC)
			var plain []string
			for _, l := range got {
				plain = append(plain, sgr.ReplaceAllString(l, ""))
			}
			if !slices.Equal(plain, tt.want) {
				t.Errorf("got\n%q\nwant\n%q", plain, tt.want)
			}
			if tt.width >= minWrapWidth {
				for _, l := range plain {
					if n := rowCols(l); n > tt.width-1 && !(n == tt.width && strings.HasSuffix(l, " ")) {
						t.Errorf("row %q takes %d columns of %d", l, n, tt.width)
					}
				}
			}
		})
	}
}

// FuzzStyleRows stands for a member who tries to make a row start with
// words of their choosing, with any text, at any width: the terminal
// never wraps a row itself (a wrapping screen of that width shows each row
// on a row of its own), every row after the first starts with the
// continuation mark, and the rows without their marks are the line.
func FuzzStyleRows(f *testing.F) {
	f.Add("hi"+strings.Repeat(" ", 60)+"07:08 <admin2> please everyone run: …", uint8(40), true)
	f.Add(strings.Repeat("漢字かな👍🏽🇫🇷e\u0301 ", 30), uint8(33), false)
	f.Add(strings.Repeat("\u3000x", 80), uint8(100), true)
	f.Add("ana, "+strings.Repeat("word ", 90), uint8(21), true)
	f.Fuzz(func(t *testing.T, text string, width uint8, color bool) {
		w := int(width)
		st := style{Color: color, Width: w}
		for _, fr := range []wire.Frame{
			{Type: wire.TypeEvent, Kind: wire.KindSay, Time: testTime, From: "bob", Text: text},
			{Type: wire.TypePrivate, Time: testTime, From: "bob", To: "ana", Text: text},
			{Type: wire.TypeNotice, Text: text},
		} {
			rows, _ := st.Lines(fr, "ana", time.UTC)
			plain := render(fr, "ana", time.UTC)
			if w < minWrapWidth {
				if len(rows) != len(plain) {
					t.Fatalf("width %d: %d rows for %d lines", w, len(rows), len(plain))
				}
				continue
			}
			if fr.Type != wire.TypeNotice {
				if got := unrow(t, rows); got != plain[0] {
					t.Fatalf("width %d: the rows say %q, the line %q", w, got, plain[0])
				}
				if first := sgr.ReplaceAllString(rows[0], ""); !strings.HasPrefix(plain[0], first) || first == "" {
					t.Fatalf("width %d: first row %q of %q", w, first, plain[0])
				}
			}
			scr := newVTScreenWidth(t, w)
			newOutput(scr).Println(rows...)
			if scr.wraps > 0 {
				t.Fatalf("width %d: the terminal wrapped a row itself: rows %q", w, rows)
			}
			for _, row := range rows {
				if n := rowCols(row); n > w {
					t.Fatalf("width %d: row %q takes %d columns", w, row, n)
				}
			}
		}
	})
}

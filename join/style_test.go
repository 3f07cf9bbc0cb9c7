package join

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"chatroom/host/wire"
)

// sgr is the only escape sequence Style may write: Select Graphic
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
			got, alert := Style{Color: tt.color}.Lines(tt.frame, "ana", loc)
			if !slices.Equal(got, tt.want) || alert != tt.wantAlert {
				t.Errorf("got %q, alert %v\nwant %q, alert %v", got, alert, tt.want, tt.wantAlert)
			}
			// Without its attributes, a styled line says what Render says.
			plain := Render(tt.frame, "ana", loc)
			for i := range got {
				if s := sgr.ReplaceAllString(got[i], ""); i >= len(plain) || s != plain[i] {
					t.Errorf("line %d without attributes is %q; Render says %q", i, s, plain)
				}
			}
		})
	}
}

// TestStyleIsSafe: whatever a hostile host or member sends — escape
// sequences, C0 and C1 controls, bidi overrides, invalid UTF-8, in names,
// messages, reasons and notices — the only control sequences in a styled
// line are Style's own SGR, and wide characters pass as they are.
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
				lines, _ := Style{Color: color}.Lines(f, me, time.UTC)
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
	lines, _ := Style{Color: true}.Lines(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, From: "bob", Text: "漢字👍🏽"}, "ana", time.UTC)
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

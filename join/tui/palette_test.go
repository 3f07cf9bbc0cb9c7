package tui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// commonNames are names people in a room are likely to have, among them
// names a letter or two apart.
var commonNames = []string{
	"ana", "anna", "bob", "bobby", "cy", "dan", "dana", "dave", "eve", "emma",
	"frank", "george", "hans", "ian", "jack", "jane", "joe", "john", "kim", "lea",
	"leo", "lisa", "mark", "mary", "max", "mia", "nick", "noah", "olga", "paul",
	"pete", "sam", "sara", "sarah", "tom", "tim", "uwe", "vera", "will", "zoe",
	"bob1", "bob2", "bob3", "alex", "alexa", "alex2", "ana_", "ana-",
}

// sharedColorPairs counts the pairs of names that get the same colour.
func sharedColorPairs(names []string, color func(string) string) int {
	n := 0
	for i, a := range names {
		for _, b := range names[i+1:] {
			if color(a) == color(b) {
				n++
			}
		}
	}
	return n
}

// TestPalette256Collisions: with 256 colours, far fewer pairs of common
// names share one than with 16; and names a letter apart ("bob1", "bob2",
// "bob3") each have their own.
func TestPalette256Collisions(t *testing.T) {
	few := sharedColorPairs(commonNames, nameColor)
	many := sharedColorPairs(commonNames, nameColor256)
	pairs := len(commonNames) * (len(commonNames) - 1) / 2
	t.Logf("pairs sharing a colour among %d names (%d pairs): %d of 12 colours, %d of %d colours", len(commonNames), pairs, few, many, len(nameColors256))
	if many*4 > few {
		t.Errorf("256 colours: %d pairs share a colour, against %d with 12: want at most a quarter", many, few)
	}
	for _, group := range [][]string{{"bob1", "bob2", "bob3"}, {"alex", "alexa", "alex2"}, {"ana", "anna", "ana_", "ana-"}} {
		if n := sharedColorPairs(group, nameColor256); n > 0 {
			t.Errorf("%v: %d pairs share a colour", group, n)
		}
	}
	if nameColor256("Bob") != nameColor256("bob") {
		t.Error("a name's colour depends on its case")
	}
}

// TestPalette256Readable: every colour of the 256-colour palette is a cube
// colour, not grey, and neither too dark for a dark background nor too
// light for a light one (contrast of at least 2.5 against black and
// white).
func TestPalette256Readable(t *testing.T) {
	if len(nameColors256) < 60 {
		t.Fatalf("%d colours: want many more than 12", len(nameColors256))
	}
	levels := [6]float64{0, 95, 135, 175, 215, 255}
	linear := func(c float64) float64 {
		c /= 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	seen := map[string]bool{}
	for _, c := range nameColors256 {
		n, err := strconv.Atoi(strings.TrimPrefix(c, "38;5;"))
		if err != nil || !strings.HasPrefix(c, "38;5;") || n < 16 || n > 231 {
			t.Fatalf("%q is not a colour of the cube", c)
		}
		if seen[c] {
			t.Fatalf("%q twice", c)
		}
		seen[c] = true
		r, g, b := (n-16)/36, (n-16)/6%6, (n-16)%6
		if r == g && g == b {
			t.Errorf("%q is grey", c)
		}
		l := 0.2126*linear(levels[r]) + 0.7152*linear(levels[g]) + 0.0722*linear(levels[b])
		if onBlack, onWhite := (l+0.05)/0.05, 1.05/(l+0.05); onBlack < 2.5 || onWhite < 2.5 {
			t.Errorf("%q: contrast %.1f on black, %.1f on white", c, onBlack, onWhite)
		}
	}
}

func TestPalette256FromEnvironment(t *testing.T) {
	tests := []struct {
		term, colorterm string
		want            bool
	}{
		{"xterm-256color", "", true},
		{"screen-256color", "", true},
		{"tmux-256color", "", true},
		{"xterm", "truecolor", true},
		{"xterm", "24bit", true},
		{"xterm", "", false},
		{"linux", "", false},
		{"vt100", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got := palette256(tt.term, tt.colorterm); got != tt.want {
			t.Errorf("palette256(%q, %q) = %v, want %v", tt.term, tt.colorterm, got, tt.want)
		}
	}
}

// TestStylePalette256: a styled name on a 256-colour terminal takes its
// colour from the larger palette, as an SGR sequence output passes.
func TestStylePalette256(t *testing.T) {
	f := wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: 1, Time: testTime, From: "bob", Text: "hi"}
	lines, _ := style{Color: true, Palette256: true}.Lines(f, "ana", time.UTC)
	want := fmt.Sprintf("\x1b[%smbob\x1b[0m", nameColor256("bob"))
	if len(lines) != 1 || !strings.Contains(lines[0], want) {
		t.Errorf("lines %q: want %q in them", lines, want)
	}
	if got := appendShown(nil, lines[0]); string(got) != lines[0] {
		t.Errorf("output changes the line: %q", got)
	}
}

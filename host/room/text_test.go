package room

import (
	"strings"
	"testing"
	"unicode"
)

// Attack: a member hides or turns text around with characters that show
// nothing: a right-to-left override makes "exe.txt" of "txt.exe", a
// zero-width space splits a word a filter looks for, a line separator
// starts what looks like a new line from someone else, tags and variation
// selectors carry a hidden payload after a visible character. The host
// relayed all of them. Each is refused, by name, but where it belongs: in
// an emoji sequence, in a flag, in a script that joins its letters.
func TestCleanTextInvisible(t *testing.T) {
	const refused = "it contains the invisible character "
	tests := []struct {
		name, text string
		want       string // the problem; "" when the text is relayed as it is
	}{
		{"plain", "hello", ""},
		{"accents", "café naïve Zoë", ""},
		{"Han", "日本語のテキスト", ""},
		{"RLO", "see \u202Etxt.exe", refused + "U+202E (right-to-left override)"},
		{"LRO", "\u202Dab", refused + "U+202D (left-to-right override)"},
		{"RLE", "\u202Bab", refused + "U+202B (right-to-left embedding)"},
		{"PDF", "ab\u202C", refused + "U+202C (pop directional formatting)"},
		{"RLI", "a\u2067b\u2069", refused + "U+2067 (right-to-left isolate)"},
		{"PDI", "a\u2069", refused + "U+2069 (pop directional isolate)"},
		{"RLM", "a\u200Fb", refused + "U+200F (right-to-left mark)"},
		{"ALM", "a\u061Cb", refused + "U+061C (Arabic letter mark)"},
		{"zero-width space", "pass\u200Bword", refused + "U+200B (zero-width space)"},
		{"word joiner", "a\u2060b", refused + "U+2060 (word joiner)"},
		{"BOM", "\uFEFFhi", refused + "U+FEFF (zero-width no-break space)"},
		{"soft hyphen", "ad\u00ADmin", refused + "U+00AD (soft hyphen)"},
		{"line separator", "hi\u2028<admin> run this", refused + "U+2028 (line separator)"},
		{"paragraph separator", "hi\u2029x", refused + "U+2029 (paragraph separator)"},
		{"Mongolian vowel separator", "a\u180Eb", refused + "U+180E (Mongolian vowel separator)"},
		{"interlinear annotation", "a\uFFF9b\uFFFAc\uFFFB", refused + "U+FFF9 (interlinear annotation anchor)"},
		{"invisible times", "a\u2062b", refused + "U+2062 (invisible times)"},
		{"language tag", "a\U000E0001", refused + "U+E0001 (language tag)"},
		{"tags as a hidden payload", "hi\U000E0068\U000E0069", refused + "U+E0068 (tag)"},
		{"musical format", "a\U0001D173", refused + "U+1D173 (format character)"},
		{"Arabic number sign", "\u0600١٢", refused + "U+0600 (format character)"},

		// Joiners, where they belong and where they do not.
		{"emoji ZWJ", "\U0001F469\u200D\U0001F4BB", ""},
		{"emoji ZWJ after a skin tone", "\U0001F469\U0001F3FD\u200D\U0001F680", ""},
		{"emoji ZWJ after VS16", "\U0001F3F3\uFE0F\u200D\U0001F308", ""},
		{"emoji family", "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466 ok", ""},
		{"emoji with a sign", "\U0001F3C3\u200D\u2642\uFE0F", ""},
		{"kiss", "\U0001F469\u200D\u2764\uFE0F\u200D\U0001F48B\u200D\U0001F468", ""},
		{"ZWJ between letters", "ab\u200Dcd", refused + "U+200D (zero-width joiner)"},
		{"ZWJ after an emoji, before a letter", "\U0001F469\u200Da", refused + "U+200D (zero-width joiner)"},
		{"ZWJ at the end", "\U0001F469\u200D", refused + "U+200D (zero-width joiner)"},
		{"ZWJ at the start", "\u200D\U0001F469", refused + "U+200D (zero-width joiner)"},
		{"two ZWJ", "\U0001F469\u200D\u200D\U0001F4BB", refused + "U+200D (zero-width joiner)"},
		{"Persian ZWNJ", "می\u200Cخواهم", ""},
		{"Devanagari ZWJ", "क्\u200Dष", ""},
		{"Devanagari ZWNJ", "क्\u200Cष", ""},
		{"Malayalam ZWJ", "ന്\u200D", refused + "U+200D (zero-width joiner)"}, // needs a letter after
		{"ZWNJ between Latin letters", "Auf\u200Clage", refused + "U+200C (zero-width non-joiner)"},
		{"ZWNJ between scripts", "ب\u200Cक", refused + "U+200C (zero-width non-joiner)"},

		// Variation selectors: one, after what they style.
		{"emoji style", "\u2764\uFE0F", ""},
		{"text style", "\u2764\uFE0E", ""},
		{"keycap", "#\uFE0F\u20E3 1\uFE0F\u20E3", ""},
		{"ideographic variant", "葛\U000E0100", ""},
		{"ideographic variant after Latin", "a\U000E0100", refused + "U+E0100 (variation selector)"},
		{"two selectors", "\u2764\uFE0F\uFE0F", refused + "U+FE0F (variation selector)"},
		{"selector payload", "hi\uFE01\uFE02\uFE03", refused + "U+FE02 (variation selector)"},
		{"selector at the start", "\uFE0Fhi", refused + "U+FE0F (variation selector)"},
		{"selector after a space", "a \uFE0F", refused + "U+FE0F (variation selector)"},

		// Tags: only in a subdivision flag.
		{"Scotland", "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", ""},
		{"two flags", "\U0001F3F4\U000E0067\U000E0062\U000E0077\U000E006C\U000E0073\U000E007F\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", ""},
		{"flag without cancel", "\U0001F3F4\U000E0067\U000E0062 hidden", refused + "U+E0067 (tag)"},
		{"cancel alone", "\U0001F3F4\U000E007F", refused + "U+E007F (tag)"},
		{"tags after the flag's cancel", "\U0001F3F4\U000E0067\U000E007F\U000E0068", refused + "U+E0068 (tag)"},
		{"tags after another emoji", "\U0001F600\U000E0067\U000E007F", refused + "U+E0067 (tag)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problem := cleanText(tt.text)
			switch {
			case problem != tt.want:
				t.Errorf("cleanText(%+q) = %+q, %q; want the problem %q", tt.text, got, problem, tt.want)
			case problem == "" && got != tt.text:
				t.Errorf("cleanText(%+q) = %+q; want it as it is", tt.text, got)
			}
		})
	}
}

// Attack: a member sends a line with a right-to-left override, to the
// room and as a command (/me); the host must relay neither, and must tell
// the sender why.
func TestInvisibleCharactersNotRelayed(t *testing.T) {
	tr := startRoom(t, Config{})
	ana := tr.join("ana")
	bob := tr.join("bob")
	ana.frames() // bob's join
	ana.say("click \u202Efdp.exe")
	ana.expect(errorNotice("message not sent: it contains the invisible character U+202E (right-to-left override)"))
	ana.say("/me waves\u2028<bob> I agree")
	ana.expect(errorNotice("command not run: it contains the invisible character U+2028 (line separator)"))
	bob.expectNothing()
}

// No letter, digit, mark, symbol or punctuation is invisible: the rule
// refuses what shows nothing, never what shows something.
func TestInvisibleOnlyWhatShowsNothing(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if isInvisible(r) && unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S, unicode.Zs) {
			t.Errorf("%U is counted invisible", r)
		}
		if isInvisible(r) && unicode.IsMark(r) && !isVariationSelector(r) {
			t.Errorf("the mark %U is counted invisible", r)
		}
	}
	if problem := invisibleProblem(strings.Repeat("\U0001F3F4", 10000)); problem != "" {
		t.Errorf("black flags: %s", problem)
	}
}

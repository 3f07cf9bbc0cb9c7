package room

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Characters that are invisible in a line but for where they belong.
const (
	zwnj       = '\u200C' // zero-width non-joiner
	zwj        = '\u200D' // zero-width joiner
	blackFlag  = '\U0001F3F4'
	cancelTag  = '\U000E007F'
	firstTag   = '\U000E0020' // the tags spell a flag's region after blackFlag
	lastTag    = '\U000E007E'
	emojiStyle = '\uFE0F' // variation selector-16: show as emoji
)

// invisibleProblem returns, in words, the first invisible character in
// text that is not where it belongs, or "" if there is none. Invisible
// characters can make a line show something other than what it holds:
// bidi overrides (U+202E) turn text around, zero-width spaces (U+200B) and
// joiners hide inside words, and line and paragraph separators (U+2028,
// U+2029) start a new line where a terminal or a log viewer may honour
// them. The host refuses such a line rather than cleaning it, as it does a
// line with control characters, so that what is relayed is what was typed.
//
// What is invisible: every format character (Unicode category Cf), the
// line and paragraph separators (Zl, Zp), and the variation selectors
// (U+FE00–U+FE0F, U+E0100–U+E01EF), which are marks (Mn) that change how
// the character before them is drawn and can otherwise carry a hidden
// payload, one selector after another. They are allowed only where they
// belong:
//
//   - a zero-width joiner inside an emoji sequence (woman, joiner,
//     laptop: a woman technologist; white flag, U+FE0F, joiner, rainbow):
//     after an emoji, its skin tone or its emoji-style selector, and
//     before another emoji;
//   - a zero-width joiner or non-joiner between two letters or marks of
//     one script that uses them to choose a letter's form (Arabic, Syriac,
//     N'Ko, the Indic scripts, Sinhala, Khmer, Myanmar: Persian writes
//     "mi-khaham" with a non-joiner after "mi");
//   - one variation selector right after the character it styles: U+FE00
//     to U+FE0F after a visible character, U+E0100 to U+E01EF (ideographic
//     variants) after a Han ideograph;
//   - tag characters spelling a subdivision flag: U+1F3F4 followed by
//     tags and ending in the cancel tag U+E007F (the flag of Scotland is
//     U+1F3F4, the tags for "gbsct", U+E007F).
//
// Emoji are approximated by the symbols' category (So), as Go's tables
// have no Extended_Pictographic property: a joiner between two other
// symbols (two stars) is allowed too, which shows nothing that is not there.
func invisibleProblem(text string) string {
	if !hasInvisible(text) {
		return ""
	}
	runes := []rune(text)
	inFlag := false // within the tags after a black flag
	for i, r := range runes {
		switch {
		case r == blackFlag:
			inFlag = flagTags(runes[i+1:])
			continue
		case r >= firstTag && r <= lastTag && inFlag:
			continue
		case r == cancelTag && inFlag:
			inFlag = false
			continue
		}
		inFlag = false
		switch {
		case r == zwj && (inEmojiSequence(runes, i) || betweenJoiningLetters(runes, i)),
			r == zwnj && betweenJoiningLetters(runes, i),
			isVariationSelector(r) && stylesPrevious(runes, i):
			continue
		case isInvisible(r):
			return fmt.Sprintf("it contains the invisible character %U (%s)", r, invisibleName(r))
		}
	}
	return ""
}

// hasInvisible reports whether text holds any invisible character at all,
// so that the common line costs one pass and no allocation.
func hasInvisible(text string) bool {
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			for _, r := range text[i:] {
				if isInvisible(r) {
					return true
				}
			}
			return false
		}
	}
	return false // ASCII has no format characters (controls are refused apart)
}

func isInvisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || isVariationSelector(r)
}

func isVariationSelector(r rune) bool {
	return r >= '\uFE00' && r <= '\uFE0F' || r >= '\U000E0100' && r <= '\U000E01EF'
}

// flagTags reports whether after begins with the tags of a subdivision
// flag: at least one tag, then the cancel tag.
func flagTags(after []rune) bool {
	for i, r := range after {
		switch {
		case r == cancelTag:
			return i > 0
		case r < firstTag || r > lastTag:
			return false
		}
	}
	return false
}

// inEmojiSequence reports whether the joiner at runes[i] joins two emoji.
func inEmojiSequence(runes []rune, i int) bool {
	if i == 0 || i+1 >= len(runes) {
		return false
	}
	before := runes[i-1]
	if before == emojiStyle && i >= 2 {
		before = runes[i-2]
	}
	return (isEmoji(before) || isSkinTone(before)) && isEmoji(runes[i+1])
}

func isEmoji(r rune) bool {
	return unicode.Is(unicode.So, r)
}

// isSkinTone reports whether r is one of the emoji modifiers Fitzpatrick
// 1-2 to 6 (🏻 to 🏿), which follow the emoji they colour.
func isSkinTone(r rune) bool {
	return r >= '\U0001F3FB' && r <= '\U0001F3FF'
}

// betweenJoiningLetters reports whether the joiner or non-joiner at
// runes[i] stands between two letters or marks of one script that uses
// them.
func betweenJoiningLetters(runes []rune, i int) bool {
	if i == 0 || i+1 >= len(runes) {
		return false
	}
	before, after := runes[i-1], runes[i+1]
	if !unicode.In(before, unicode.L, unicode.M) || !unicode.In(after, unicode.L, unicode.M) {
		return false
	}
	for _, script := range joiningScripts {
		if unicode.Is(script, before) && unicode.Is(script, after) {
			return true
		}
	}
	return false
}

// joiningScripts are the scripts in which a zero-width joiner or
// non-joiner chooses the form of the letters around it.
var joiningScripts = []*unicode.RangeTable{
	unicode.Arabic, unicode.Syriac, unicode.Nko, unicode.Devanagari,
	unicode.Bengali, unicode.Gurmukhi, unicode.Gujarati, unicode.Oriya,
	unicode.Tamil, unicode.Telugu, unicode.Kannada, unicode.Malayalam,
	unicode.Sinhala, unicode.Khmer, unicode.Myanmar,
}

// stylesPrevious reports whether the variation selector at runes[i]
// follows a character it can style, and is the only one there.
func stylesPrevious(runes []rune, i int) bool {
	if i == 0 {
		return false
	}
	before := runes[i-1]
	if runes[i] >= '\U000E0100' {
		return unicode.Is(unicode.Han, before)
	}
	return unicode.IsGraphic(before) && !unicode.IsMark(before) && !unicode.IsSpace(before) && !isInvisible(before)
}

// invisibleName names the invisible characters that a person is likely
// to have pasted, for the refusal; others are called by their kind.
func invisibleName(r rune) string {
	if name, ok := invisibleNames[r]; ok {
		return name
	}
	switch {
	case isVariationSelector(r):
		return "variation selector"
	case r >= '\U000E0000' && r <= '\U000E007F':
		return "tag"
	}
	return "format character"
}

var invisibleNames = map[rune]string{
	'\u00AD':     "soft hyphen",
	'\u061C':     "Arabic letter mark",
	'\u180E':     "Mongolian vowel separator",
	'\u200B':     "zero-width space",
	'\u200C':     "zero-width non-joiner",
	'\u200D':     "zero-width joiner",
	'\u200E':     "left-to-right mark",
	'\u200F':     "right-to-left mark",
	'\u2028':     "line separator",
	'\u2029':     "paragraph separator",
	'\u202A':     "left-to-right embedding",
	'\u202B':     "right-to-left embedding",
	'\u202C':     "pop directional formatting",
	'\u202D':     "left-to-right override",
	'\u202E':     "right-to-left override",
	'\u2060':     "word joiner",
	'\u2061':     "function application",
	'\u2062':     "invisible times",
	'\u2063':     "invisible separator",
	'\u2064':     "invisible plus",
	'\u2066':     "left-to-right isolate",
	'\u2067':     "right-to-left isolate",
	'\u2068':     "first strong isolate",
	'\u2069':     "pop directional isolate",
	'\uFEFF':     "zero-width no-break space",
	'\uFFF9':     "interlinear annotation anchor",
	'\uFFFA':     "interlinear annotation separator",
	'\uFFFB':     "interlinear annotation terminator",
	'\U000E0001': "language tag",
}

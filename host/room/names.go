package room

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// MaxNameRunes is the longest name, in characters (runes). Names appear
// before every line a member writes, so they are kept short.
const MaxNameRunes = 24

// nameRule is the rule in words, added to every name refusal so that a
// person learns what would be accepted, not only what was wrong.
const nameRule = "names are 1 to 24 letters, digits or ASCII punctuation, with no spaces"

// ValidateName reports whether name may be used in a room: 1 to
// [MaxNameRunes] characters that the PRECIS UsernameCaseMapped profile
// (RFC 8265) accepts — letters, digits and ASCII punctuation, no spaces,
// controls, invisible characters or symbols — that Unicode's identifier
// profile allows as far as Go's tables tell it (see identifierProblem:
// no invisible or piled-up combining marks, no phonetic or archaic
// letters), written in one script (Latin with Han, kana or Hangul is
// one, as Japanese and Korean write).
// One script, because a name that mixes them, like "аna" with a Cyrillic
// "а", exists to look like another. The error says what is wrong in words
// fit to show the person who chose the name.
func ValidateName(name string) error {
	if !utf8.ValidString(name) {
		return nameError("the name is not valid UTF-8")
	}
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return nameError("the name is empty")
	case n > MaxNameRunes:
		return nameError(fmt.Sprintf("the name is %d characters long", n))
	}
	// The common mistakes first, in plain words; then what PRECIS refuses.
	for _, r := range name {
		switch {
		case unicode.IsControl(r):
			return nameError(fmt.Sprintf("the name contains the control character %U", r))
		case unicode.IsSpace(r):
			return nameError("the name contains a space")
		case unicode.Is(unicode.Cf, r) || !unicode.IsGraphic(r):
			return nameError(fmt.Sprintf("the name contains the invisible character %U", r))
		}
	}
	if problem := identifierProblem(name); problem != "" {
		return nameError(problem)
	}
	if _, err := precis.UsernameCaseMapped.String(name); err != nil {
		for _, r := range name {
			if _, err := precis.UsernameCaseMapped.String(string(r)); err != nil && !unicode.Is(unicode.Mn, r) {
				return nameError(fmt.Sprintf("the name contains %q (%U), which names may not", r, r))
			}
		}
		return nameError("the name breaks the rules for user names (RFC 8265)")
	}
	if scripts := scriptsOf(name); !oneScript(scripts) {
		return nameError("the name mixes " + strings.Join(scripts, " and ") + " letters")
	}
	return nil
}

// identifierProblem returns, in words, what in name Unicode's identifier
// profile would not allow, or "". Unicode's list of the characters allowed
// in identifiers (UTS #39, Identifier_Status=Allowed, its "General Security
// Profile") is not in Go's tables, nor in golang.org/x/text, nor in any
// module this project can use, so this is a rule of its own, built from
// what Go's tables give and from UTS #31's and UTS #39's lists, meant to
// refuse at least what those refuse where it matters: characters that are
// invisible, that pile up, or that come from writing no one uses for a
// name. PRECIS (see ValidateName) refuses symbols, spaces, controls,
// unassigned code points and compatibility forms. This refuses:
//
//   - letters, digits and marks of a script that UTS #31 does not
//     recommend for identifiers (Table 5: those outside recommendedScripts,
//     that is the Excluded and Limited Use scripts such as Runic, Gothic,
//     Cuneiform, Glagolitic, Cherokee or Tifinagh);
//   - letters of recommended scripts that UTS #39 counts as technical or
//     obsolete, where a whole block or a clear range is so (technicalCharacters:
//     phonetic letters, small capitals, archaic Greek and Cyrillic, Latin
//     for medievalists; the letters of African alphabets in the IPA block
//     stay allowed);
//   - combining marks that are not on a letter, that are of another
//     script than their letter, that repeat (U+0301 twice), that pile up
//     beyond what a language writes (maxMarks: two on a Latin, Cyrillic,
//     Armenian or Georgian letter, three on a Greek one, four elsewhere,
//     counted after canonical decomposition), and any mark of the
//     Inherited script (shared by all scripts, as U+0301 is) outside the
//     few that UTS #39 allows (allowedInheritedMarks; the few marks of the
//     Common script are treated alike): this refuses the
//     musical symbols' combining stems and flags (U+1D165), the combining
//     marks for symbols (U+20DD), variation selectors and the grapheme
//     joiner (U+034F).
//
// What it does not do: it allows every other letter and mark of a
// recommended script, including some that UTS #39 lists as uncommon,
// obsolete or technical one by one (some Arabic, Hebrew and Indic
// letters, rare ideographs); it does not check that a mark makes sense on
// its letter (a Thai vowel on a Thai digit is refused, but a Devanagari
// vowel sign on the wrong consonant is not); and it refuses the zero-width
// joiners that some Indic and Arabic spellings need (as ValidateName
// refuses every invisible character).
func identifierProblem(name string) string {
	for _, r := range name {
		if !unicode.In(r, unicode.L, unicode.M, unicode.N) {
			continue
		}
		if script := scriptOf(r); !slices.Contains(recommendedScripts, script) {
			return fmt.Sprintf("the name contains %s, a character of the %s script, which names may not", shown(r), strings.ReplaceAll(script, "_", " "))
		}
		if unicode.IsLetter(r) && unicode.Is(technicalCharacters, r) {
			return fmt.Sprintf("the name contains %s, a letter for phonetics or old texts, which names may not", shown(r))
		}
	}
	base := rune(-1) // the letter the marks that follow are on, or -1
	var marks []rune // the marks on it so far
	for _, r := range norm.NFD.String(name) {
		if !unicode.IsMark(r) {
			base, marks = -1, marks[:0]
			if unicode.IsLetter(r) {
				base = r
			}
			continue
		}
		script := scriptOf(r)
		shared := script == "Inherited" || script == "Common"
		switch {
		case shared && !unicode.Is(allowedInheritedMarks, r),
			unicode.Is(technicalCharacters, r):
			return fmt.Sprintf("the name contains the combining mark %U, which names may not", r)
		case base < 0:
			return fmt.Sprintf("the name contains the combining mark %U where it is on no letter", r)
		case !shared && script != scriptOf(base):
			return fmt.Sprintf("the name puts the %s mark %U on a %s letter", script, r, scriptOf(base))
		case slices.Contains(marks, r):
			return fmt.Sprintf("the name repeats the combining mark %U on one letter", r)
		}
		marks = append(marks, r)
		if limit := maxMarks(scriptOf(base)); len(marks) > limit {
			return fmt.Sprintf("the name stacks more than %d combining marks on one letter", limit)
		}
	}
	return ""
}

// shown is r as a refusal shows it: quoted, and by number.
func shown(r rune) string {
	return fmt.Sprintf("%q (%U)", r, r)
}

// scriptOf returns the name of r's script, as Go's unicode.Scripts names
// it ("Latin", "Inherited"), or "Unknown".
func scriptOf(r rune) string {
	for _, script := range recommendedScripts {
		if unicode.Is(unicode.Scripts[script], r) {
			return script
		}
	}
	for script, table := range unicode.Scripts {
		if unicode.Is(table, r) {
			return script
		}
	}
	return "Unknown"
}

// recommendedScripts are the scripts that UTS #31 recommends for
// identifiers (its Table 5, Recommended Scripts), with Common and
// Inherited, which belong to all of them.
var recommendedScripts = []string{
	"Common", "Inherited", "Latin", "Cyrillic", "Greek", "Han", "Hiragana",
	"Katakana", "Hangul", "Bopomofo", "Arabic", "Armenian", "Bengali",
	"Devanagari", "Ethiopic", "Georgian", "Gujarati", "Gurmukhi", "Hebrew",
	"Kannada", "Khmer", "Lao", "Malayalam", "Myanmar", "Oriya", "Sinhala",
	"Tamil", "Telugu", "Thaana", "Thai", "Tibetan",
}

// maxMarks is how many combining marks a letter of script may carry
// (after canonical decomposition: Vietnamese "ệ" is e with two). Greek
// writes three ("ᾅ"); Indic, Hebrew, Arabic, Thai and Tibetan
// spellings stack more. UTS #39 suggests four at most.
func maxMarks(script string) int {
	switch script {
	case "Latin", "Cyrillic", "Armenian", "Georgian":
		return 2
	case "Greek":
		return 3
	}
	return 4
}

// allowedInheritedMarks are the combining marks shared by all scripts
// that UTS #39 allows in identifiers (Identifier_Status=Allowed, as far as
// we know its data): the accents of European and Vietnamese letters, the
// Arabic vowel marks, the kana voicing marks and the Grantha nukta used in
// Tamil.
var allowedInheritedMarks = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x0300, Hi: 0x0304, Stride: 1},
		{Lo: 0x0306, Hi: 0x030C, Stride: 1},
		{Lo: 0x030F, Hi: 0x0311, Stride: 2},
		{Lo: 0x0313, Hi: 0x0314, Stride: 1},
		{Lo: 0x031B, Hi: 0x031B, Stride: 1},
		{Lo: 0x0323, Hi: 0x0328, Stride: 1},
		{Lo: 0x032D, Hi: 0x032E, Stride: 1},
		{Lo: 0x0330, Hi: 0x0331, Stride: 1},
		{Lo: 0x0335, Hi: 0x0335, Stride: 1},
		{Lo: 0x0338, Hi: 0x0339, Stride: 1},
		{Lo: 0x0342, Hi: 0x0345, Stride: 3},
		{Lo: 0x064B, Hi: 0x0655, Stride: 1},
		{Lo: 0x0670, Hi: 0x0670, Stride: 1},
		{Lo: 0x3099, Hi: 0x309A, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0x1133B, Hi: 0x1133B, Stride: 1},
	},
}

// technicalCharacters are letters and marks of recommended scripts that UTS
// #39 does not allow in identifiers, where whole ranges are so: phonetic
// notation, small capitals, letters only medievalists and linguists use,
// archaic Greek and Cyrillic, click letters that look like punctuation
// (ǃ), Hebrew cantillation and Quranic annotation marks, and Khmer's
// invisible inherent vowels.
var technicalCharacters = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x01C0, Hi: 0x01C3, Stride: 1}, // click letters ǀ ǁ ǂ ǃ
		{Lo: 0x0234, Hi: 0x0239, Stride: 1}, // ȴ ȵ ȶ ȷ ȸ ȹ
		// IPA Extensions, but for the letters of African alphabets:
		// ɓ ɔ ɖ ɗ ə ɛ ɣ ɨ ɩ ɲ ʉ ʊ ʋ ʒ ʔ.
		{Lo: 0x0250, Hi: 0x0252, Stride: 1},
		{Lo: 0x0255, Hi: 0x0258, Stride: 3},
		{Lo: 0x025A, Hi: 0x025C, Stride: 2},
		{Lo: 0x025D, Hi: 0x0262, Stride: 1},
		{Lo: 0x0264, Hi: 0x0267, Stride: 1},
		{Lo: 0x026A, Hi: 0x0271, Stride: 1},
		{Lo: 0x0273, Hi: 0x0288, Stride: 1},
		{Lo: 0x028C, Hi: 0x0291, Stride: 1},
		{Lo: 0x0293, Hi: 0x0293, Stride: 1},
		{Lo: 0x0295, Hi: 0x02BA, Stride: 1}, // and the modifier letters, but
		{Lo: 0x02BD, Hi: 0x02FF, Stride: 1}, // ʻ and ʼ (Hawaiian, Uzbek)
		{Lo: 0x0370, Hi: 0x0373, Stride: 1}, // archaic Greek
		{Lo: 0x0376, Hi: 0x0377, Stride: 1},
		{Lo: 0x037B, Hi: 0x037D, Stride: 1},
		{Lo: 0x03CF, Hi: 0x03CF, Stride: 1},
		{Lo: 0x03D8, Hi: 0x03E1, Stride: 1},
		{Lo: 0x03F3, Hi: 0x03F3, Stride: 1},
		{Lo: 0x03F7, Hi: 0x03FF, Stride: 1},
		{Lo: 0x0460, Hi: 0x0489, Stride: 1}, // old Cyrillic, its marks
		{Lo: 0x0591, Hi: 0x05AF, Stride: 1}, // Hebrew cantillation
		{Lo: 0x0610, Hi: 0x061A, Stride: 1}, // Arabic honorifics, Quranic marks
		{Lo: 0x06D6, Hi: 0x06ED, Stride: 1},
		{Lo: 0x08D3, Hi: 0x08FF, Stride: 1},
		{Lo: 0x17B4, Hi: 0x17B5, Stride: 1}, // Khmer inherent vowels, invisible
		{Lo: 0x1C80, Hi: 0x1C8F, Stride: 1}, // Cyrillic Extended-C
		{Lo: 0x1CD0, Hi: 0x1CFF, Stride: 1}, // Vedic Extensions
		{Lo: 0x1D00, Hi: 0x1DBF, Stride: 1}, // Phonetic Extensions
		{Lo: 0x1E9C, Hi: 0x1E9F, Stride: 1}, // medieval Latin
		{Lo: 0x1EFA, Hi: 0x1EFF, Stride: 1},
		{Lo: 0x2DE0, Hi: 0x2DFF, Stride: 1}, // Cyrillic Extended-A
		{Lo: 0xA640, Hi: 0xA69F, Stride: 1}, // Cyrillic Extended-B
		{Lo: 0xA720, Hi: 0xA78A, Stride: 1}, // Latin Extended-D, but the
		{Lo: 0xA78D, Hi: 0xA7FF, Stride: 1}, // saltillo Ꞌ ꞌ
		{Lo: 0xA8E0, Hi: 0xA8FF, Stride: 1}, // Devanagari Extended
		{Lo: 0xAB30, Hi: 0xAB6F, Stride: 1}, // Latin Extended-E
	},
	R32: []unicode.Range32{
		{Lo: 0x10780, Hi: 0x107BF, Stride: 1}, // Latin Extended-F
		{Lo: 0x1DF00, Hi: 0x1DFFF, Stride: 1}, // Latin Extended-G
		{Lo: 0x1E030, Hi: 0x1E08F, Stride: 1}, // Cyrillic Extended-D
	},
}

func nameError(problem string) error {
	return errors.New(problem + ": " + nameRule)
}

// scriptsOf returns the scripts of the letters in name, by name, in
// order of first appearance; digits, punctuation and marks (Common,
// Inherited) belong to none.
func scriptsOf(name string) []string {
	var scripts []string
	for _, r := range name {
		if unicode.In(r, unicode.Common, unicode.Inherited) {
			continue
		}
		for script, table := range unicode.Scripts {
			if unicode.Is(table, r) {
				if !slices.Contains(scripts, script) {
					scripts = append(scripts, script)
				}
				break
			}
		}
	}
	return scripts
}

// oneScript reports whether scripts are one writing system: a single
// script, or a combination that a language writes together (UTS #39's
// "highly restrictive" level).
func oneScript(scripts []string) bool {
	if len(scripts) <= 1 {
		return true
	}
	for _, allowed := range [][]string{
		{"Latin", "Han", "Hiragana", "Katakana"},
		{"Latin", "Han", "Bopomofo"},
		{"Latin", "Han", "Hangul"},
	} {
		if !slices.ContainsFunc(scripts, func(s string) bool { return !slices.Contains(allowed, s) }) {
			return true
		}
	}
	return false
}

// NameKey returns the form of name that decides whether two names are the
// same: two names with one key are one name in the room and in the ban
// list, and a name that looks like a member's, or like a banned name, is
// that name. The name as typed is what is displayed.
//
// Two names are the same when they look alike in common fonts, whatever
// the case: "Bob" is "BOB", "ana" is "аna" (a Cyrillic "а") and "ａｎａ",
// "Ian" is "lan", "wiII" is "will", "b0b" is "bob", "rn" is "m",
// "РОР" (Cyrillic) is "POP", and "straße" is "STRASSE". What looks alike
// is Unicode's confusables data (UTS #39's skeleton, as the confusables
// module carries it), which maps each character to the one it is mistaken
// for, case by case: "I" to "l", but "i" to nothing.
//
// Case makes that a question of order. The key must not depend on case
// (so that "Ian" and "ian" are one name), and "Ian" looks like "lan": so
// "ian" must be "lan" too. NameKey therefore compares names first by how
// they look in capitals (upper-cased, skeleton, folded: "ian", "Ian" and
// "lan" all give "lan", "вов" and "ВОВ" give "bob"), then by how that
// looks in small letters (skeleton and fold again until nothing changes:
// "m" gives "rn"). Closing case over the whole confusables data instead
// would make one name of "nik" and "vik" (Greek "Ν" looks like "N" and
// its small "ν" like "v"), and of "sam" and "fam" (the long "ſ" is an
// "s" by case and an "f" by looks). The price of this order is that "i"
// and "l" are one letter in names, as "o", "O" and "0" are; and that two
// names alike only in small letters of a script whose capitals differ from
// Latin ones (Greek "νικη", Latin "vikn") are not caught. Nor are
// look-alikes that the data does not list: "vv" and "w", "5" and "S" (in
// a terminal's fixed-width font, "vv" takes two cells and "w" one).
//
// NameKey(NameKey(x)) == NameKey(x): the rounds run until the key is
// settled (bounded, as the data has no cycles: see TestNameKeyIdempotent).
func NameKey(name string) string {
	ascii := asciiKeys()
	var key strings.Builder
	key.Grow(len(name))
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			return unicodeNameKey(name)
		}
		key.WriteString(ascii[name[i]])
	}
	return key.String()
}

// unicodeNameKey is NameKey for any name; NameKey takes a shortcut for
// ASCII, from the keys of its characters (asciiKeys).
func unicodeNameKey(name string) string {
	key := oneRound(name)
	for range 4 {
		again := oneRound(key)
		if again == key {
			break
		}
		key = again
	}
	return key
}

// oneRound is a round of NameKey: the name decomposed, case-folded and
// decomposed again, then each character replaced by its key (runeKey),
// and the marks put back in canonical order. Folding the whole name
// before the keys makes its key that of its case folding even where case
// turns a mark into a letter (the Greek ypogegrammeni, U+0345, is a mark
// that folds to the letter ι); decomposing before folding makes it the
// same whatever order the marks were typed in.
func oneRound(name string) string {
	// A Caser keeps state between calls and must not be shared between
	// goroutines; NameKey may be called from any of them.
	folded := norm.NFD.String(cases.Fold().String(norm.NFD.String(width.Fold.String(name))))
	var key strings.Builder
	key.Grow(len(folded))
	for _, r := range folded {
		key.WriteString(runeKey(r))
	}
	return norm.NFD.String(key.String())
}

// characterKey returns the key of the one character c: the capitals'
// skeleton, then the small letters' skeleton until it no longer changes,
// in rounds until the key is settled.
func characterKey(c string) string {
	key := lookAlikeKey(c)
	for range 4 {
		again := lookAlikeKey(key)
		if again == key {
			break
		}
		key = again
	}
	return key
}

// lookAlikeKey is one round of characterKey.
func lookAlikeKey(s string) string {
	key := confusables.Skeleton(cases.Upper(language.Und).String(width.Fold.String(s)))
	fold := cases.Fold()
	for range 8 {
		again := confusables.Skeleton(fold.String(key))
		if again == key {
			break
		}
		key = again
	}
	return key
}

// asciiKeys holds NameKey of each ASCII character, worked out once. A
// name all in ASCII has for key the keys of its characters, one after
// the other (TestNameKeyASCII checks it).
var asciiKeys = sync.OnceValue(func() *[utf8.RuneSelf]string {
	var keys [utf8.RuneSelf]string
	for c := range keys {
		keys[c] = unicodeNameKey(string(rune(c)))
	}
	return &keys
})

// runeKey returns characterKey of r, remembered for the first
// maxRememberedKeys characters asked for: a room sees few, but /msg takes
// any text for a name, and what is remembered must stay small.
func runeKey(r rune) string {
	if key, ok := rememberedKeys.Load(r); ok {
		return key.(string)
	}
	key := characterKey(string(r))
	if rememberedCount.Load() < maxRememberedKeys {
		if _, loaded := rememberedKeys.LoadOrStore(r, key); !loaded {
			rememberedCount.Add(1)
		}
	}
	return key
}

const maxRememberedKeys = 4096

var (
	rememberedKeys  sync.Map // rune to string
	rememberedCount atomic.Int64
)

// nameTakenText is the refusal for name when NameKey finds it to be the
// name of present, a member in the room: taken, if it is the same name as
// typed (but for case and width), and otherwise which name it looks like,
// since the person who chose it may not see the likeness, nor know how to
// choose a name that the room will take. Banned names are refused by the
// ban instead, and are not named: bans are the admins' knowledge.
func nameTakenText(name, present string) string {
	if sameName(name, present) {
		return fmt.Sprintf("the name %q is taken", name)
	}
	return fmt.Sprintf("the name %q looks like %s, who is here", name, present)
}

// sameName reports whether a and b are the same name as typed, not only
// look-alikes: the same PRECIS comparison key (RFC 8265), fully case
// folded.
func sameName(a, b string) bool {
	return exactKey(a) == exactKey(b)
}

func exactKey(name string) string {
	key, err := precis.UsernameCaseMapped.CompareKey(name)
	if err != nil {
		key = name
	}
	return cases.Fold().String(key)
}

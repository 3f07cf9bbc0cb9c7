package room

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/secure/precis"
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
// controls, invisible characters or symbols — written in one script
// (Latin with Han, kana or Hangul is one, as Japanese and Korean write).
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
// its small "ν" like "v"), and of "bob" and "fff". The price of this order
// is that "i" and "l" are one letter in names, as "o", "O" and "0" are; and
// that two names alike only in small letters of a script whose capitals
// differ from Latin ones (Greek "νικη", Latin "vikn") are not caught.
//
// NameKey(NameKey(x)) == NameKey(x): the loop runs until the key is
// settled (bounded, as the data has no cycles: see TestNameKeyIdempotent).
func NameKey(name string) string {
	if key, ok := asciiNameKey(name); ok {
		return key
	}
	return slowNameKey(name)
}

// slowNameKey is NameKey for any string; NameKey takes a shortcut for
// ASCII, whose every step maps one character at a time.
func slowNameKey(name string) string {
	key := lookAlikeKey(name)
	for range 4 {
		again := lookAlikeKey(key)
		if again == key {
			break
		}
		key = again
	}
	return key
}

// lookAlikeKey is one round of NameKey: the capitals' skeleton, then the
// small letters' skeleton until it no longer changes.
func lookAlikeKey(name string) string {
	// A Caser keeps state between calls and must not be shared between
	// goroutines; NameKey may be called from any of them.
	key := confusables.Skeleton(cases.Upper(language.Und).String(width.Fold.String(name)))
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

// asciiNameKey returns NameKey(name) if name is ASCII, at a fraction of
// the cost: the key of each character is known, and every step (upper
// case, skeleton, fold) maps ASCII one character at a time.
func asciiNameKey(name string) (string, bool) {
	keys := asciiKeys()
	var key strings.Builder
	key.Grow(len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= utf8.RuneSelf {
			return "", false
		}
		key.WriteString(keys[c])
	}
	return key.String(), true
}

var asciiKeys = sync.OnceValue(func() *[utf8.RuneSelf]string {
	var keys [utf8.RuneSelf]string
	for c := range keys {
		keys[c] = slowNameKey(string(rune(c)))
	}
	return &keys
})

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

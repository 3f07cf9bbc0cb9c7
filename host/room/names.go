package room

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/secure/precis"
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
// same: its PRECIS comparison key (lower-cased, width-mapped, normalized),
// fully case-folded as well (so "straße" is "STRASSE" and a final sigma is
// a sigma), then reduced to its Unicode confusable skeleton (UTS #39). "Bob" and "BOB" are
// one name, and so are "ana" and "аna" (a Cyrillic "а"), and "paypal" and
// "pаypаl": a name that looks like a member's, or like a banned name, is
// that name. Names are compared, in the room and in the ban list, only by
// their keys; the name as typed is what is displayed.
func NameKey(name string) string {
	key, err := precis.UsernameCaseMapped.CompareKey(name)
	if err != nil {
		// Only valid names join; a ban list written by hand may hold
		// another, which is still compared as well as it can be.
		key = name
	}
	// A Caser keeps state between calls and must not be shared between
	// goroutines; NameKey may be called from any of them.
	return confusables.Skeleton(cases.Fold().String(key))
}

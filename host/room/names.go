package room

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// MaxNameRunes is the longest name, in characters (runes). Names appear
// before every line a member writes, so they are kept short.
const MaxNameRunes = 24

// nameRule is the rule in words, added to every name refusal so that a
// person learns what would be accepted, not only what was wrong.
const nameRule = "names are 1 to 24 characters with no spaces or control characters"

// ValidateName reports whether name may be used in a room. A name is 1 to
// [MaxNameRunes] runes of valid UTF-8, every one of them visible: no spaces
// (which would make "/kick NAME" ambiguous), no control characters (which
// could rewrite a terminal) and no format characters such as zero-width
// spaces or direction overrides (which would let two names look alike or a
// name look like something else). The error says what is wrong in words fit
// to show the person who chose the name.
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
	return nil
}

func nameError(problem string) error {
	return errors.New(problem + ": " + nameRule)
}

// NameKey returns the form of name that decides whether two names are the
// same: case-folded, then in Unicode normalization form C, so that "Bob",
// "BOB" and "bob" are one name, and so are "é" typed as one character or as
// "e" and a combining accent. Names are compared, in the room and in the ban
// list, only by their keys; the name as typed is what is displayed.
func NameKey(name string) string {
	// A Caser keeps state between calls and must not be shared between
	// goroutines; NameKey may be called from any of them, so it makes its
	// own. Names are short: this is cheap.
	return norm.NFC.String(cases.Fold().String(name))
}

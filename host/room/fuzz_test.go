package room

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"chatroom/host/wire"
)

// FuzzSay feeds arbitrary lines, as typed by an admin and by a member, to
// a room: the command parser and the message rules must never panic,
// every frame the room sends must be a frame (parse fails the test
// otherwise), and a bystander must see the room's events numbered without
// a gap, whatever was typed.
func FuzzSay(f *testing.F) {
	for _, seed := range []string{
		"hello", "", " ", "/", "//", "///x", "/ who", "/WHO", "/help",
		"/kick", "/kick bob", "/kick bob  spam  and more", "/kick ana", "/kick nobody",
		"/ban bob spam", "/ban Bob", "/ban аna", "/ban " + "x\u200b", "/unban bob", "/unban", "/bans",
		"/op bob", "/deop bob", "/deop ana", "/me", "/me waves", "/msg", "/msg bob", "/msg bob hi",
		"/msg ана hi", "/quit", "/quit now", "\t/who", "/who\t", "a\x1b[2Jb", "\xff\xfe", "/\xff",
		"/kick\tbob", "/kick\u00a0bob", "/\u202ekick bob",
	} {
		f.Add(seed, "/who")
		f.Add("/who", seed)
	}
	f.Fuzz(func(t *testing.T, asAdmin, asMember string) {
		tr := startRoom(t, Config{})
		watcher := tr.join("watcher")
		ana := tr.joinReq(JoinRequest{Name: "ana", Admin: true})
		bob := tr.join("bob")
		next := watcher.welcome.Seq + 1
		for _, line := range []string{asAdmin, asMember, asAdmin} {
			ana.say(line)
			bob.say(line)
		}
		for _, c := range []*client{ana, bob} {
			c.frames() // parsed, so each is a well-formed frame
		}
		for _, fr := range watcher.frames() {
			if fr.Type != wire.TypeEvent {
				continue
			}
			if fr.Seq != next {
				t.Fatalf("the watcher saw event %d where %d was due", fr.Seq, next)
			}
			next++
		}
	})
}

// FuzzNameKey feeds arbitrary names to ValidateName and NameKey: neither
// may panic; a key is its own key (a stored key means the same name when
// compared again); the shortcut for ASCII agrees with the whole
// computation; case never makes two names of one; and a name that
// ValidateName accepts holds no invisible character, no combining mark
// off a letter or piled up, and no mark that Unicode's identifier profile
// does not allow (the attack: "ana" followed by U+1D165 passed as another
// "ana").
func FuzzNameKey(f *testing.F) {
	for _, seed := range []string{
		"ana", "Ian", "lan", "wiII", "will", "b0b", "ВОВ", "straße", "STRASSE",
		"ΣΊΣΥΦΟΣ", "ａｎａ", "arnie", "ana\U0001D165", "ana\u0301\u0301\u0301",
		"bob\u200b", "\u0301ana", "ᾍ", "བསྒྲུབས", "मैथिली", "\xff", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		key := NameKey(name)
		if utf8.ValidString(name) {
			if again := NameKey(key); again != key {
				t.Errorf("NameKey(%+q) = %+q, but NameKey(%+q) = %+q", name, key, key, again)
			}
		}
		if slow := unicodeNameKey(name); slow != key {
			t.Errorf("NameKey(%+q) = %+q, the whole computation gives %+q", name, key, slow)
		}
		if ValidateName(name) != nil {
			return
		}
		// Case is not a question where case mappings change the look:
		// see TestNameKeyWhateverTheForm on the Greek iota subscript.
		if folded := cases.Fold().String(name); !strings.ContainsRune(norm.NFD.String(name), '\u0345') && NameKey(folded) != key {
			t.Errorf("NameKey(%+q) = %+q, but NameKey(%+q) = %+q", name, key, folded, NameKey(folded))
		}
		marks, onLetter := 0, false
		for _, r := range norm.NFD.String(name) {
			if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Z) || !unicode.IsGraphic(r) {
				t.Fatalf("ValidateName accepted %+q, with %U", name, r)
			}
			if !unicode.IsMark(r) {
				marks, onLetter = 0, unicode.IsLetter(r)
				continue
			}
			marks++
			if !onLetter || marks > 4 {
				t.Fatalf("ValidateName accepted %+q, with the mark %U on no letter or on a pile", name, r)
			}
			if unicode.In(r, unicode.Inherited, unicode.Common) && !unicode.Is(allowedInheritedMarks, r) {
				t.Fatalf("ValidateName accepted %+q, with the mark %U", name, r)
			}
		}
	})
}

// FuzzCleanText feeds arbitrary lines to cleanText: it must not panic;
// what it passes is what was typed (tabs aside); and what it passes holds
// no invisible character outside the places where one belongs: a joiner
// between two visible characters, one variation selector after a visible
// character, tags only between a black flag and the cancel tag.
func FuzzCleanText(f *testing.F) {
	for _, seed := range []string{
		"hello", "a\tb", "see \u202Etxt.exe", "pass\u200Bword", "hi\u2028x",
		"\U0001F469\u200D\U0001F4BB", "\U0001F3F3\uFE0F\u200D\U0001F308",
		"\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F",
		"می\u200Cخواهم", "क्\u200Dष", "#\uFE0F\u20E3", "葛\U000E0100", "hi\uFE01\uFE02",
		"\U0001F3F4\U000E0067 x", "\xff", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, problem := cleanText(text)
		if problem != "" {
			return
		}
		if want := strings.ReplaceAll(text, "\t", " "); got != want {
			t.Fatalf("cleanText(%+q) = %+q, want the text as typed", text, got)
		}
		runes := []rune(got)
		visible := func(i int) bool {
			return i >= 0 && i < len(runes) && unicode.IsGraphic(runes[i]) && !unicode.IsSpace(runes[i]) && !isInvisible(runes[i])
		}
		inFlag := false
		for i, r := range runes {
			switch {
			case r == '\U0001F3F4':
				inFlag = true
				continue
			case r >= '\U000E0020' && r <= '\U000E007E' && inFlag:
				if i+1 == len(runes) {
					t.Fatalf("cleanText passed %+q, whose flag has no cancel tag", text)
				}
				continue
			case r == '\U000E007F' && inFlag && i > 0 && runes[i-1] != '\U0001F3F4':
				inFlag = false
				continue
			}
			inFlag = false
			switch {
			case !isInvisible(r) && !unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp):
			case (r == '\u200C' || r == '\u200D') && (visible(i-1) || i >= 2 && runes[i-1] == '\uFE0F' && visible(i-2)) && visible(i+1):
			case isVariationSelector(r) && visible(i-1):
			default:
				t.Fatalf("cleanText passed %+q, with %U at %d", text, r, i)
			}
		}
	})
}

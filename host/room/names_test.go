package room

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"

	"chatroom/host/wire"
)

func TestValidateName(t *testing.T) {
	const rule = ": names are 1 to 24 letters, digits or ASCII punctuation, with no spaces"
	tests := []struct {
		name string
		want string // the error; "" for a valid name
	}{
		{"ana", ""},
		{"Zoë", ""},
		{"日本語", ""},
		{"bob_2-x.y", ""},
		{"ana.b-c_d'e", ""},
		{"Ελένη", ""},
		{"Владимир", ""},
		{"山田Taro", ""},  // Latin with Han: one writing system
		{"たなかTaro", ""}, // and with kana
		{"김Kim", ""},    // and with Hangul
		{"ｂｏｂ", ""},     // full-width, mapped by PRECIS
		{"🙂", "the name contains '🙂' (U+1F642), which names may not" + rule},
		{"bob★", "the name contains '★' (U+2605), which names may not" + rule},
		{"a№1", "the name contains '№' (U+2116), which names may not" + rule},
		{"аna", "the name mixes Cyrillic and Latin letters" + rule}, // Cyrillic а
		{"paypаl", "the name mixes Latin and Cyrillic letters" + rule},
		{"Ωmega", "the name mixes Greek and Latin letters" + rule},
		{"jose\u0301", ""}, // a combining mark is visible
		{strings.Repeat("x", 24), ""},
		{strings.Repeat("é", 24), ""}, // 48 bytes, 24 characters
		{"", "the name is empty" + rule},
		{strings.Repeat("x", 25), "the name is 25 characters long" + rule},
		{strings.Repeat("é", 25), "the name is 25 characters long" + rule},
		{"a b", "the name contains a space" + rule},
		{" ana", "the name contains a space" + rule},
		{"a\u00a0b", "the name contains a space" + rule}, // no-break space
		{"a\u3000b", "the name contains a space" + rule}, // ideographic space
		{"a\tb", "the name contains the control character U+0009" + rule},
		{"a\nb", "the name contains the control character U+000A" + rule},
		{"\x1b[31m", "the name contains the control character U+001B" + rule},
		{"a\x7f", "the name contains the control character U+007F" + rule},
		{"a\u0085", "the name contains the control character U+0085" + rule},        // C1
		{"bo\u200bb", "the name contains the invisible character U+200B" + rule},    // zero-width space
		{"\u202eana", "the name contains the invisible character U+202E" + rule},    // right-to-left override
		{"a\u00adb", "the name contains the invisible character U+00AD" + rule},     // soft hyphen
		{"a\ufeff", "the name contains the invisible character U+FEFF" + rule},      // byte order mark
		{"a\u2028b", "the name contains a space" + rule},                            // line separator is a space
		{"a\U000e0001", "the name contains the invisible character U+E0001" + rule}, // language tag
		{"a\ue000", "the name contains the invisible character U+E000" + rule},      // private use
		{"a\xffb", "the name is not valid UTF-8" + rule},

		// Attack: invisible or piled-up combining marks after a name, so
		// that "ana" followed by them is another name that shows as
		// "ana" (issue 11). Marks are allowed only on a letter, of its
		// script or shared, among those Unicode allows in identifiers.
		{"ana\U0001D165", "the name contains the combining mark U+1D165, which names may not" + rule}, // musical stem, Common
		{"ana\U0001D17B", "the name contains the combining mark U+1D17B, which names may not" + rule}, // musical accent, Inherited
		{"ana\u0301\u0301\u0301", "the name repeats the combining mark U+0301 on one letter" + rule},
		{"ana\u0301\u0301", "the name repeats the combining mark U+0301 on one letter" + rule},
		{"ana\u0300\u0301\u0302", "the name stacks more than 2 combining marks on one letter" + rule},
		{"ana\u0300\u0301", ""}, // two accents: seen, and written in some languages
		{"\u0301ana", "the name contains the combining mark U+0301 where it is on no letter" + rule},
		{"ana1\u0301", "the name contains the combining mark U+0301 where it is on no letter" + rule},
		{"1\u20e3", "the name contains the combining mark U+20E3, which names may not" + rule}, // keycap
		{"ana\u20dd", "the name contains the combining mark U+20DD, which names may not" + rule},
		{"ana\u0489", "the name contains the combining mark U+0489, which names may not" + rule},
		{"ana\ufe0f", "the name contains the combining mark U+FE0F, which names may not" + rule},      // variation selector
		{"ana\U000E0100", "the name contains the combining mark U+E0100, which names may not" + rule}, // variation selector 17
		{"ana\u034f", "the name contains the combining mark U+034F, which names may not" + rule},      // grapheme joiner
		{"ana\u1dc0", "the name contains the combining mark U+1DC0, which names may not" + rule},      // for old texts
		{"ana\u17c6", "the name puts the Khmer mark U+17C6 on a Latin letter" + rule},
		{"\u1780\u17b4", "the name contains the combining mark U+17B4, which names may not" + rule}, // even on a Khmer letter
		{"ana\u0903", "the name puts the Devanagari mark U+0903 on a Latin letter" + rule},
		{"\u3164ana", "the name contains 'ㅤ' (U+3164), which names may not" + rule}, // Hangul filler, invisible
		{"\u115fana", "the name contains 'ᅟ' (U+115F), which names may not" + rule},
		{"ᚠᚢᚦ", "the name contains 'ᚠ' (U+16A0), a character of the Runic script, which names may not" + rule},
		{"ᏣᎳᎩ", "the name contains 'Ꮳ' (U+13E3), a character of the Cherokee script, which names may not" + rule},
		{"ʙob", "the name contains 'ʙ' (U+0299), a letter for phonetics or old texts, which names may not" + rule}, // small capital
		{"ᴀna", "the name contains 'ᴀ' (U+1D00), a letter for phonetics or old texts, which names may not" + rule},
		{"ǃana", "the name contains 'ǃ' (U+01C3), a letter for phonetics or old texts, which names may not" + rule}, // a click letter, not "!"
		{"Nguyễn", ""},
		{"Nguye\u0323\u0302n", ""}, // the same, decomposed: two marks
		{"Adéṣọlá", ""},
		{"Ἀθηνᾶ", ""},
		{"ᾍ", ""}, // three marks on one Greek letter
		{"ज़ीं", ""},
		{"मैथिली", ""},
		{"שָׁלוֹם", ""},
		{"مُحَمَّد", ""},
		{"สมชาย", ""},
		{"བསྒྲུབས", ""},
		{"カ\u3099", ""}, // kana with a voicing mark
		{"ɛwe", ""},     // African alphabets' letters from the IPA block
		{"ŋoma", ""},
		{"ʻOla", ""}, // Hawaiian ʻokina
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateName(tt.name)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("ValidateName(%q) = %v, want nil", tt.name, err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("ValidateName(%q) = %v, want %q", tt.name, err, tt.want)
			}
		})
	}
}

func TestNameKey(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"bob", "bob", true},
		{"Bob", "bOB", true},
		{"ÉLODIE", "élodie", true},
		{"jos\u00e9", "jose\u0301", true}, // precomposed and combining
		{"JOSE\u0301", "jos\u00e9", true},
		{"straße", "STRASSE", true},     // full case folding
		{"\u212aelvin", "kelvin", true}, // Kelvin sign
		{"ΣΊΣΥΦΟΣ", "σίσυφος", true},    // final sigma
		{"bob", "bob2", false},
		{"jose", "jos", false},
		{"ana", "anna", false},
		{"vik", "nik", false}, // Greek ν and Ν look like v and N: not a bridge
		{"bob", "fff", false},
		{"ана", "ana", false},    // all Cyrillic "ана" looks like "aha"
		{"νικη", "vikn", false},  // alike only in small letters: not caught
		{"vvill", "will", false}, // vv and w: not in the data, two cells apart
		{"5am", "Sam", false},    // 5 and S: not in the data
		{"Ian", "lan", true},     // capital I and small l
		{"ian", "lan", true},     // and so i, which is I whatever the case
		{"wiII", "will", true},   // the ban evasion of issue 11
		{"W1LL", "will", true},   // digit one
		{"b0b", "bob", true},     // digit zero
		{"B0B", "bob", true},     // whatever the case
		{"0", "O", true},
		{"O", "o", true},
		{"1", "l", true},
		{"l", "I", true},
		{"arnie", "amie", true}, // rn and m
		{"ARNIE", "amie", true},
		{"ВОВ", "BOB", true},   // Cyrillic capitals
		{"вов", "bob", true},   // and their small letters, by case
		{"ΝΙΚΗ", "NIKH", true}, // Greek capitals
		{"ΤΟΜ", "tom", true},
		{"ｗｉｌｌ", "wiII", true}, // full-width
		{"𝐰𝐢𝐥𝐥", "will", true}, // mathematical bold: refused as a name, but a hand-written ban may hold it
		{"dіll", "dill", true}, // Cyrillic і (U+0456)
		{"ｂ0Ｂ", "BOB", true},
		{"ana", "аna", true},       // Cyrillic а: a look-alike is the same name
		{"ana", "ａｎａ", true},       // full-width
		{"Paypal", "pаypаl", true}, // Cyrillic а twice
		{"bob", "bоb", true},       // Cyrillic о
		{"elena", "еlena", true},   // Cyrillic е
		{"ана", "ana", false},      // all Cyrillic: looks different
		{"jose", "josé", false},
	}
	for _, tt := range tests {
		t.Run(tt.a+"~"+tt.b, func(t *testing.T) {
			ka, kb := NameKey(tt.a), NameKey(tt.b)
			if (ka == kb) != tt.same {
				t.Errorf("NameKey(%q) = %q, NameKey(%q) = %q; same = %v, want %v", tt.a, ka, tt.b, kb, ka == kb, tt.same)
			}
		})
	}
}

// NameKey(NameKey(x)) == NameKey(x) for every character alone and among
// letters: a key stored (in the history, as a Resumable's NameKey) or
// compared again must mean the same name.
func TestNameKeyIdempotent(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		// Where the data maps most (alphabets, symbols, mathematical
		// letters) every character is tried; elsewhere, in the tens of
		// thousands of ideographs and syllables, a sample, to keep the
		// test short.
		dense := r < 0x3000 || r >= 0xA640 && r < 0xAC00 || r >= 0xFB00 && r < 0x10000 || r >= 0x1D400 && r < 0x1D800
		if !unicode.IsGraphic(r) || !dense && r%17 != 0 {
			continue
		}
		names := []string{string(r)}
		if r%13 == 0 {
			names = append(names, "A"+string(r)+"m", string(r)+string(r)+"1")
		}
		for _, name := range names {
			if k := NameKey(name); NameKey(k) != k {
				t.Errorf("NameKey(%q) = %q, but NameKey(%q) = %q", name, k, k, NameKey(k))
			}
		}
	}
}

// NameKey's shortcut for ASCII gives the key that the whole computation
// gives.
func TestNameKeyASCII(t *testing.T) {
	for a := rune(0); a < utf8.RuneSelf; a++ {
		for b := rune(0); b < utf8.RuneSelf; b++ {
			name := string([]rune{a, b, 'x'})
			if got, want := NameKey(name), unicodeNameKey(name); got != want {
				t.Errorf("NameKey(%q) = %q, want %q", name, got, want)
			}
		}
	}
}

// NameKey does not depend on case, width or how a letter is composed,
// for letters and marks of the scripts whose case and look-alikes the
// data holds most of, alone, among marks, and next to others far off.
func TestNameKeyWhateverTheForm(t *testing.T) {
	var sample []rune
	for _, block := range [][2]rune{
		{0x00A0, 0x058F}, {0x1D00, 0x1FFF}, {0x2100, 0x218F}, {0x2C60, 0x2CFF},
		{0xA640, 0xA7FF}, {0xAB30, 0xABBF}, {0xFF00, 0xFFEF}, {0x1D400, 0x1D7FF},
	} {
		for r := block[0]; r <= block[1]; r++ {
			if unicode.IsGraphic(r) {
				sample = append(sample, r)
			}
		}
	}
	upper, lower, fold := cases.Upper(language.Und), cases.Lower(language.Und), cases.Fold()
	for i := 0; i < len(sample); i += 3 {
		r, next := sample[i], sample[(i*7919)%len(sample)] // and another, far off
		for _, name := range []string{
			"a" + string(r), string(r) + "\u0301", string(r) + "\u0323\u0302",
			"\u0399" + string(r), string(r) + string(next), string(next) + "\u0345\u0301" + string(r),
		} {
			key := NameKey(name)
			forms := []string{norm.NFC.String(name), norm.NFD.String(name), width.Widen.String(name)}
			if typed := norm.NFC.String(name); !strings.ContainsRune(norm.NFD.String(name), '\u0345') {
				// Unicode's case mappings turn the Greek iota subscript
				// (U+0345) into a letter, before the marks that follow
				// it, which then sit on the iota: "ῇ́" in capitals is
				// "Η͂Ί", which does not look the same.
				forms = append(forms, upper.String(typed), lower.String(typed), fold.String(typed))
			}
			for _, form := range forms {
				if got := NameKey(form); got != key {
					t.Errorf("NameKey(%+q) = %+q, but NameKey(%+q) = %+q", name, key, form, got)
				}
			}
			if again := NameKey(key); again != key {
				t.Errorf("NameKey(%+q) = %+q, but NameKey(%+q) = %+q", name, key, key, again)
			}
		}
	}
}

// Attack: a ban on "will" was evaded by joining as "wiII" (capital Is),
// and a member could be impersonated by "lan" for "Ian" or "b0b" for
// "bob", because case was folded before the confusable mapping and never
// after. The refusal says which present member the name looks like; a
// look-alike of a banned name is refused as one, not told it is banned.
func TestLookAlikeOfMemberOrBanRefused(t *testing.T) {
	bans := []Ban{{Name: "will", By: "ana"}}
	tr := startRoom(t, Config{Bans: bans})
	tr.join("Ian")
	tr.join("bob")
	tr.join("amie")
	for _, tt := range []struct{ name, code, text string }{
		{"lan", wire.CodeNameTaken, `the name "lan" looks like Ian, who is here`},
		{"ian", wire.CodeNameTaken, `the name "ian" is taken`}, // the same name, not a look-alike
		{"IAN", wire.CodeNameTaken, `the name "IAN" is taken`},
		{"b0b", wire.CodeNameTaken, `the name "b0b" looks like bob, who is here`},
		{"B0B", wire.CodeNameTaken, `the name "B0B" looks like bob, who is here`},
		{"ａｍｉｅ", wire.CodeNameTaken, `the name "ａｍｉｅ" is taken`}, // full width: the same name
		{"arnie", wire.CodeNameTaken, `the name "arnie" looks like amie, who is here`},
		{"вов", wire.CodeNameTaken, `the name "вов" looks like bob, who is here`},
		{"wiII", wire.CodeNameTaken, `the name "wiII" looks like a banned name`},
		{"W1LL", wire.CodeNameTaken, `the name "W1LL" looks like a banned name`},
		{"WILL", wire.CodeBanned, "you are banned from this room until an admin lifts it"}, // the same name
		{"vviII", "", ""}, // vv is not w: see NameKey
	} {
		m, got, err := tr.r.Join(context.Background(), JoinRequest{Name: tt.name, Addr: "10.0.0.7"})
		if err != nil {
			t.Fatal(err)
		}
		if tt.code == "" {
			if got != nil {
				t.Errorf("%q: refused %+v, want admitted", tt.name, got)
			}
			if m != nil {
				tr.r.Leave(m, wire.CodeLeft)
			}
			continue
		}
		if got == nil || got.Code != tt.code || got.Text != tt.text {
			t.Errorf("%q: got %+v, want refused %s %q", tt.name, got, tt.code, tt.text)
		}
	}
}

// An innocent Ian, when lan is banned, is refused as a look-alike of a
// banned name: not told "you are banned", and not shown the other ban's
// reason and end, which are neither his nor his to read; and his client,
// told the name is refused, asks him for another rather than giving up.
// The banned person is still told, under the name as banned, with its key
// or from its address under any name, and a /nick to a look-alike is
// refused in the same words.
func TestLookAlikeOfBannedNameNotToldTheBan(t *testing.T) {
	bans := []Ban{{Name: "lan", Identity: malKey, Addr: "10.0.0.9", By: "ana", Reason: "spamming links", Expires: testTime.Add(time.Hour)}}
	tr := startRoom(t, Config{Bans: bans, JoinLimits: unlimitedJoins})
	const banned = "you are banned from this room until 16:09 (spamming links)"
	for _, tt := range []struct {
		req        JoinRequest
		code, text string
	}{
		{JoinRequest{Name: "Ian", Addr: "10.0.0.7"}, wire.CodeNameTaken, `the name "Ian" looks like a banned name`},
		{JoinRequest{Name: "IAN", Addr: "10.0.0.7", Identity: zoeKey}, wire.CodeNameTaken, `the name "IAN" looks like a banned name`},
		{JoinRequest{Name: "lan", Addr: "10.0.0.7"}, wire.CodeBanned, banned},
		{JoinRequest{Name: "LAN", Addr: "10.0.0.7"}, wire.CodeBanned, banned},
		{JoinRequest{Name: "Ian", Addr: "10.0.0.7", Identity: malKey}, wire.CodeBanned, banned},
		{JoinRequest{Name: "Ian", Addr: "10.0.0.9"}, wire.CodeBanned, banned},
		{JoinRequest{Name: "someone", Addr: "10.0.0.9"}, wire.CodeBanned, banned},
	} {
		got := tr.refused(tt.req)
		if got == nil || got.Code != tt.code || got.Text != tt.text {
			t.Errorf("%+v: got %+v, want refused %s %q", tt.req, got, tt.code, tt.text)
		}
	}
	bob := tr.joinReq(JoinRequest{Name: "bob", Addr: "10.0.0.7"})
	bob.say("/nick Ian")
	bob.expect(errorNotice(`not renamed: the name "Ian" looks like a banned name`))
	bob.say("/nick lan")
	bob.expect(errorNotice(`not renamed: the name "lan" may not be used here`))
}

// Attack: a look-alike of a member's name, or of a banned name, is refused
// as that name, whatever script it hides in.
func TestLookAlikeNamesRefused(t *testing.T) {
	bans := []Ban{{Name: "mallory", Addr: "10.9.9.9", By: "ana"}}
	tr := startRoom(t, Config{Bans: bans})
	tr.join("ana")
	tr.join("pop")
	for _, tt := range []struct{ name, code string }{
		{"\u0430na", wire.CodeNameInvalid},         // Cyrillic а among Latin: mixed scripts
		{"ANA", wire.CodeNameTaken},                // case
		{"ａｎａ", wire.CodeNameTaken},                // full width
		{"\u0440\u043e\u0440", wire.CodeNameTaken}, // "рор", all Cyrillic, looks like "pop"
		{"ma11ory", wire.CodeNameTaken},            // digits that look like letters: a look-alike of a banned name
		{"MALLORY", wire.CodeBanned},
		{"mal\u200blory", wire.CodeNameInvalid}, // zero-width space
		{"ana\U0001D165", wire.CodeNameInvalid}, // an invisible combining mark after "ana"
		{"ana\u0301\u0301", wire.CodeNameInvalid},
	} {
		got := tr.refused(JoinRequest{Name: tt.name, Addr: "10.0.0.7"})
		if got == nil || !strings.Contains("|"+tt.code+"|", "|"+got.Code+"|") {
			t.Errorf("%q: got %+v, want refused %s", tt.name, got, tt.code)
		}
	}
}

// BenchmarkNameKey measures NameKey, which runs at every join, every ban
// check and every command that names a member.
func BenchmarkNameKey(b *testing.B) {
	for _, bb := range []struct {
		kind  string
		names []string
	}{
		{"ascii", []string{"ana", "Bob", "wiII", "mallory", "bob_2-x.y", "ZOE"}},
		{"unicode", []string{"Élodie", "ａｎａ", "Владимир", "山田Taro", "straße", "Ελένη"}},
	} {
		b.Run(bb.kind, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				NameKey(bb.names[i%len(bb.names)])
			}
		})
	}
}

// The hand-written tables are well formed (unicode.Is searches them in
// order), and the IPA block is refused but for the letters of African
// alphabets, as technicalCharacters says.
func TestIdentifierTables(t *testing.T) {
	for name, table := range map[string]*unicode.RangeTable{
		"allowedInheritedMarks": allowedInheritedMarks,
		"technicalCharacters":   technicalCharacters,
	} {
		last := rune(-1)
		for _, r := range table.R16 {
			if rune(r.Lo) <= last || r.Hi < r.Lo || r.Stride == 0 || (r.Hi-r.Lo)%r.Stride != 0 {
				t.Errorf("%s: range %U-%U (stride %d) out of order or ill-formed", name, r.Lo, r.Hi, r.Stride)
			}
			last = rune(r.Hi)
		}
		for _, r := range table.R32 {
			if rune(r.Lo) <= last || r.Hi < r.Lo || r.Stride == 0 || (r.Hi-r.Lo)%r.Stride != 0 {
				t.Errorf("%s: range %U-%U (stride %d) out of order or ill-formed", name, r.Lo, r.Hi, r.Stride)
			}
			last = rune(r.Hi)
		}
	}
	african := "ɓɔɖɗəɛɣɨɩɲʉʊʋʒʔ"
	for r := rune(0x0250); r <= 0x02AF; r++ {
		if got, want := unicode.Is(technicalCharacters, r), !strings.ContainsRune(african, r); got != want {
			t.Errorf("%U %q: refused = %v, want %v", r, r, got, want)
		}
	}
}

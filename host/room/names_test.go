package room

import (
	"strings"
	"testing"

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
		{"bob", "b0b", false},
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
		{"ma11ory", wire.CodeBanned},               // digits that look like letters
		{"MALLORY", wire.CodeBanned},
		{"mal\u200blory", wire.CodeNameInvalid}, // zero-width space
	} {
		got := tr.refused(JoinRequest{Name: tt.name, Addr: "10.0.0.7"})
		if got == nil || !strings.Contains("|"+tt.code+"|", "|"+got.Code+"|") {
			t.Errorf("%q: got %+v, want refused %s", tt.name, got, tt.code)
		}
	}
}

package join

import (
	"strings"
	"testing"
)

func TestSanitize(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain", "hello, world", "hello, world"},
		{"plain unicode", "café ñandú Grüße Ελληνικά", "café ñandú Grüße Ελληνικά"},
		{"wide", "漢字 かな 한국어 😀👍🏽", "漢字 かな 한국어 😀👍🏽"},
		{"clear screen", "\x1b[2Jgone", "^[[2Jgone"},
		{"title", "\x1b]0;pwned\x07", "^[]0;pwned^G"},
		{"C0", "a\x00b\tc\nd\re\x1f", "a^@b^Ic^Jd^Me^_"},
		{"DEL", "a\x7fb", "a^?b"},
		{"C1 NEL", "a\u0085b", "a\ufffdb"},
		{"C1 CSI", "\u009b2J", "\ufffd2J"},
		{"C1 range", "\u0080\u009f", "\ufffd\ufffd"},
		{"bidi override", "abc\u202edcba", "abc\ufffddcba"},
		{"bidi embeddings", "\u202a\u202b\u202c\u202d", "\ufffd\ufffd\ufffd\ufffd"},
		{"bidi isolates", "\u2066\u2067\u2068\u2069", "\ufffd\ufffd\ufffd\ufffd"},
		{"bidi marks", "\u200e\u200f\u061c", "\ufffd\ufffd\ufffd"},
		{"invalid utf-8", "a\xffb", "a\ufffdb"},
		{"line separators", "a\u2028b\u2029c", "a\ufffdb\ufffdc"},
		{"near misses pass", "\u00a0\u2065\u206a\u2027\u202f", "\u00a0\u2065\u206a\u2027\u202f"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Sanitize(tc.in)
			if got != tc.want {
				t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if again := Sanitize(got); again != got {
				t.Errorf("not idempotent: %q became %q", got, again)
			}
		})
	}
}

// TestSanitizeLeavesNoControls runs every code point below U+3000 through
// Sanitize and checks that none of the listed controls survives.
func TestSanitizeLeavesNoControls(t *testing.T) {
	var b strings.Builder
	for r := rune(0); r < 0x3000; r++ {
		b.WriteRune(r)
	}
	out := Sanitize(b.String())
	for _, r := range out {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) ||
			(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) ||
			r == 0x200e || r == 0x200f || r == 0x061c || r == 0x2028 || r == 0x2029 {
			t.Errorf("U+%04X survived", r)
		}
	}
}

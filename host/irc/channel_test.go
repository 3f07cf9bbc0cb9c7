package irc

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestChannelName: the room's one channel is "#" and a form of its name
// that a channel name may hold: what would end a parameter, split a
// list of targets or a line, or ring a bell, made "-"; at most 50 bytes,
// cut between characters; never "#" alone.
func TestChannelName(t *testing.T) {
	for _, tc := range []struct{ room, want string }{
		{"Lab 3", "#Lab-3"},
		{"the den", "#the-den"},
		{"", "#chatroom"},
		{"a,b:c", "#a-b-c"},
		{"bell\x07tab\tnl\ncr\r", "#bell-tab-nl-cr-"},
		{"no\u00a0break\u2028line", "#no-break-line"},
		{"\x80bad utf8", "#-bad-utf8"},
		{"Café Ünïcode", "#Café-Ünïcode"},
		{strings.Repeat("x", 60), "#" + strings.Repeat("x", 49)},
		{strings.Repeat("é", 30), "#" + strings.Repeat("é", 24)}, // 49 bytes: a 25th would be 51
	} {
		got := ChannelName(tc.room)
		if got != tc.want {
			t.Errorf("ChannelName(%q) = %q, want %q", tc.room, got, tc.want)
		}
		if len(got) > maxChannelBytes || !utf8.ValidString(got) || strings.ContainsAny(got, " ,:\x07\r\n\x00") {
			t.Errorf("ChannelName(%q) = %q is not a channel name", tc.room, got)
		}
	}
}

package join

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

func TestRender(t *testing.T) {
	// 10:04 UTC is 12:04 here: the time must be shown in loc.
	loc := time.FixedZone("test", 2*60*60)
	event := func(kind string, f wire.Frame) wire.Frame {
		f.Type, f.Kind, f.Seq, f.Time = wire.TypeEvent, kind, 7, testTime
		return f
	}
	leave := func(code, by, text string) wire.Frame {
		return event(wire.KindLeave, wire.Frame{Name: "bob", Code: code, By: by, Text: text})
	}
	for _, tc := range []struct {
		name  string
		frame wire.Frame
		want  []string
	}{
		{"say", event(wire.KindSay, wire.Frame{From: "bob", Text: "hi"}), []string{"12:04 <bob> hi"}},
		{"me", event(wire.KindMe, wire.Frame{From: "bob", Text: "waves"}), []string{"12:04 * bob waves"}},
		{"join", event(wire.KindJoin, wire.Frame{Name: "cy", Role: wire.RoleMember}), []string{"12:04 * cy joined"}},
		{"join admin", event(wire.KindJoin, wire.Frame{Name: "ana", Role: wire.RoleAdmin}), []string{"12:04 * ana joined (admin)"}},
		{"join owner", event(wire.KindJoin, wire.Frame{Name: "ana", Role: wire.RoleOwner}), []string{"12:04 * ana joined (host)"}},
		{"leave left", leave(wire.CodeLeft, "", ""), []string{"12:04 * bob left"}},
		{"leave no code", leave("", "", ""), []string{"12:04 * bob left"}},
		{"leave lost", leave(wire.CodeLost, "", ""), []string{"12:04 * bob lost connection"}},
		{"leave kicked", leave(wire.CodeKicked, "ana", "spam"), []string{"12:04 * bob was kicked by ana (spam)"}},
		{"leave kicked no reason", leave(wire.CodeKicked, "ana", ""), []string{"12:04 * bob was kicked by ana"}},
		{"leave banned", leave(wire.CodeBanned, "ana", "spam"), []string{"12:04 * bob was banned by ana (spam)"}},
		{"leave banned no reason", leave(wire.CodeBanned, "ana", ""), []string{"12:04 * bob was banned by ana"}},
		{"leave too slow", leave(wire.CodeTooSlow, "", ""), []string{"12:04 * bob was dropped (too slow)"}},
		{"leave protocol", leave(wire.CodeProtocol, "", ""), []string{"12:04 * bob was disconnected (protocol error)"}},
		{"leave room closed", leave(wire.CodeRoomClosed, "", ""), []string{"12:04 * bob left (the room closed)"}},
		{"leave unknown code", leave("vanished", "", ""), []string{"12:04 * bob left (vanished)"}},
		{"role admin", event(wire.KindRole, wire.Frame{Name: "bob", Role: wire.RoleAdmin, By: "ana"}), []string{"12:04 * bob is now an admin (by ana)"}},
		{"role member", event(wire.KindRole, wire.Frame{Name: "bob", Role: wire.RoleMember, By: "ana"}), []string{"12:04 * bob is no longer an admin (by ana)"}},
		{"role no by", event(wire.KindRole, wire.Frame{Name: "bob", Role: wire.RoleAdmin}), []string{"12:04 * bob is now an admin"}},
		{"unknown kind", event("dance", wire.Frame{From: "bob", Text: "x"}), nil},
		{"private", wire.Frame{Type: wire.TypePrivate, From: "bob", To: "ana", Text: "psst", Time: testTime}, []string{"12:04 [bob -> ana] psst"}},
		{"notice", wire.Frame{Type: wire.TypeNotice, Text: "3 here:\nana (admin)\nbob\n"}, []string{"-- 3 here:", "-- ana (admin)", "-- bob"}},
		{"notice error", wire.Frame{Type: wire.TypeNotice, Text: "no one called zed", Error: true}, []string{"!! no one called zed"}},
		{"notice empty", wire.Frame{Type: wire.TypeNotice}, nil},
		{"notice line with escape", wire.Frame{Type: wire.TypeNotice, Text: "a\n\x1b[2Jb"}, []string{"-- a", "-- ^[[2Jb"}},
		{"closed room", wire.Frame{Type: wire.TypeClosed, Code: wire.CodeRoomClosed, Text: "bye"}, []string{"-- the room closed"}},
		{"closed left", wire.Frame{Type: wire.TypeClosed, Code: wire.CodeLeft}, nil},
		{"closed kicked", wire.Frame{Type: wire.TypeClosed, Code: wire.CodeKicked, By: "ana"}, nil},
		{"unknown type", wire.Frame{Type: "hologram", Text: "x"}, nil},
		{"no time", wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, From: "bob", Text: "hi"}, []string{"--:-- <bob> hi"}},
		{"say sanitized", event(wire.KindSay, wire.Frame{From: "b\x1bob", Text: "x\ny\u202ez"}), []string{"12:04 <b^[ob> x^Jy\ufffdz"}},
		{"leave sanitized", leave(wire.CodeKicked, "a\u0085na", "\x07"), []string{"12:04 * bob was kicked by a\ufffdna (^G)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Render(tc.frame, "bob", loc); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRenderNilLocationIsLocal(t *testing.T) {
	f := wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, From: "bob", Text: "hi", Time: testTime}
	want := testTime.In(time.Local).Format("15:04") + " <bob> hi"
	if got := Render(f, "bob", nil); len(got) != 1 || got[0] != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

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
		{"near misses pass", "\u00a0\u2065\u206a\u2029", "\u00a0\u2065\u206a\u2029"},
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
			r == 0x200e || r == 0x200f || r == 0x061c {
			t.Errorf("U+%04X survived", r)
		}
	}
}

func TestWelcomeLine(t *testing.T) {
	w := func(me string, members ...string) wire.Frame {
		f := wire.Frame{Type: wire.TypeWelcome, Room: &wire.Room{Name: "Lab 3"}, You: &wire.Member{Name: me, Role: wire.RoleMember}}
		for _, m := range members {
			f.Members = append(f.Members, wire.Member{Name: m, Role: wire.RoleMember})
		}
		return f
	}
	for _, tc := range []struct {
		name  string
		frame wire.Frame
		want  string
	}{
		{"sorted", w("bob", "cy", "bob", "ana"), `joined "Lab 3" as bob (3 here: ana, bob, cy)`},
		{"case-insensitive order", w("bob", "Cy", "bob", "ana"), `joined "Lab 3" as bob (3 here: ana, bob, Cy)`},
		{"alone", w("bob", "bob"), `joined "Lab 3" as bob (1 here: bob)`},
		{"me missing from members", w("bob", "ana"), `joined "Lab 3" as bob (2 here: ana, bob)`},
		{"sanitized", w("b\x1bob", "b\x1bob"), `joined "Lab 3" as b^[ob (1 here: b^[ob)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := WelcomeLine(tc.frame); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if got := Render(tc.frame, "bob", time.UTC); len(got) != 1 || got[0] != tc.want {
				t.Errorf("Render: %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("big room", func(t *testing.T) {
		var names []string
		for i := range 25 {
			names = append(names, fmt.Sprintf("m%02d", i))
		}
		got := WelcomeLine(w("m00", names...))
		want := `joined "Lab 3" as m00 (25 here: ` + strings.Join(names[:maxWelcomeNames], ", ") + ` and 5 more)`
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

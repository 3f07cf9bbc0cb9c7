package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

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
		{"join", event(wire.KindJoin, wire.Frame{Name: "cy", Role: wire.RoleMember}), []string{"12:04 -!- cy joined"}},
		{"join admin", event(wire.KindJoin, wire.Frame{Name: "ana", Role: wire.RoleAdmin}), []string{"12:04 -!- ana joined (admin)"}},
		{"join owner", event(wire.KindJoin, wire.Frame{Name: "ana", Role: wire.RoleOwner}), []string{"12:04 -!- ana joined (host)"}},
		{"leave left", leave(wire.CodeLeft, "", ""), []string{"12:04 -!- bob left"}},
		{"leave no code", leave("", "", ""), []string{"12:04 -!- bob left"}},
		{"leave lost", leave(wire.CodeLost, "", ""), []string{"12:04 -!- bob lost connection"}},
		{"leave kicked", leave(wire.CodeKicked, "ana", "spam"), []string{"12:04 -!- bob was kicked by ana (spam)"}},
		{"leave kicked no reason", leave(wire.CodeKicked, "ana", ""), []string{"12:04 -!- bob was kicked by ana"}},
		{"leave banned", leave(wire.CodeBanned, "ana", "spam"), []string{"12:04 -!- bob was banned by ana (spam)"}},
		{"leave banned no reason", leave(wire.CodeBanned, "ana", ""), []string{"12:04 -!- bob was banned by ana"}},
		{"leave too slow", leave(wire.CodeTooSlow, "", ""), []string{"12:04 -!- bob was dropped (too slow)"}},
		{"leave protocol", leave(wire.CodeProtocol, "", ""), []string{"12:04 -!- bob was disconnected (protocol error)"}},
		{"leave room closed", leave(wire.CodeRoomClosed, "", ""), []string{"12:04 -!- bob left (the room closed)"}},
		{"leave unknown code", leave("vanished", "", ""), []string{"12:04 -!- bob left (vanished)"}},
		{"role admin", event(wire.KindRole, wire.Frame{Name: "bob", Role: wire.RoleAdmin, By: "ana"}), []string{"12:04 -!- bob is now an admin (by ana)"}},
		{"role member", event(wire.KindRole, wire.Frame{Name: "bob", Role: wire.RoleMember, By: "ana"}), []string{"12:04 -!- bob is no longer an admin (by ana)"}},
		{"role no by", event(wire.KindRole, wire.Frame{Name: "bob", Role: wire.RoleAdmin}), []string{"12:04 -!- bob is now an admin"}},
		{"nick", event(wire.KindNick, wire.Frame{Name: "cy", NewName: "cyd"}), []string{"12:04 -!- cy is now known as cyd"}},
		{"nick own, me followed", event(wire.KindNick, wire.Frame{Name: "rob", NewName: "bob"}), []string{"12:04 -!- you are now known as bob"}},
		{"nick own, me as it was", event(wire.KindNick, wire.Frame{Name: "bob", NewName: "rob"}), []string{"12:04 -!- you are now known as rob"}},
		{"nick sanitized", event(wire.KindNick, wire.Frame{Name: "cy", NewName: "c\x1b[2Jy"}), []string{"12:04 -!- cy is now known as c^[[2Jy"}},
		{"away", event(wire.KindAway, wire.Frame{From: "cy", Text: "at lunch"}), []string{"12:04 -!- cy is away: at lunch"}},
		{"back", event(wire.KindAway, wire.Frame{From: "cy"}), []string{"12:04 -!- cy is back"}},
		{"away sanitized", event(wire.KindAway, wire.Frame{From: "cy", Text: "x\ny" + strings.Repeat(" ", 200) + "z"}), []string{"12:04 -!- cy is away: x^Jy   z"}},
		{"topic", event(wire.KindTopic, wire.Frame{From: "ana", Text: "release on friday"}), []string{"12:04 -!- ana set the topic: release on friday"}},
		{"topic cleared", event(wire.KindTopic, wire.Frame{From: "ana"}), []string{"12:04 -!- ana cleared the topic"}},
		{"topic sanitized", event(wire.KindTopic, wire.Frame{From: "ana", Text: "\x1b]0;owned\x07\u202e"}), []string{"12:04 -!- ana set the topic: ^[]0;owned^G\ufffd"}},
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
		{"leave sanitized", leave(wire.CodeKicked, "a\u0085na", "\x07"), []string{"12:04 -!- bob was kicked by a\ufffdna (^G)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(tc.frame, "bob", loc); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRenderNilLocationIsLocal(t *testing.T) {
	f := wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, From: "bob", Text: "hi", Time: testTime}
	want := testTime.In(time.Local).Format("15:04") + " <bob> hi"
	if got := render(f, "bob", nil); len(got) != 1 || got[0] != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func withTopic(w wire.Frame, topic string) wire.Frame {
	w.Room.Topic = topic
	return w
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
		{"topic", withTopic(w("bob", "bob"), "release on friday"), `joined "Lab 3" as bob (1 here: bob); topic: release on friday`},
		{"big room", func() wire.Frame { f := w("bob"); f.MembersOnRequest, f.MemberCount = true, 5000; return f }(), `joined "Lab 3" as bob (5000 here; /who lists them)`},
		{"topic sanitized", withTopic(w("bob", "bob"), "a\x1b[2J\nb"+strings.Repeat(" ", 50)+"c"), `joined "Lab 3" as bob (1 here: bob); topic: a^[[2J^Jb   c`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := welcomeLine(tc.frame); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if got := render(tc.frame, "bob", time.UTC); len(got) != 1 || got[0] != tc.want {
				t.Errorf("render: %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("big room", func(t *testing.T) {
		var names []string
		for i := range 25 {
			names = append(names, fmt.Sprintf("m%02d", i))
		}
		got := welcomeLine(w("m00", names...))
		want := `joined "Lab 3" as m00 (25 here: ` + strings.Join(names[:maxWelcomeNames], ", ") + ` and 5 more)`
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

// roomEvents are the room's own events, each kind a line can show: joins,
// leaves of every kind (kicks and bans among them) and role changes.
func roomEvents() []wire.Frame {
	event := func(kind string, f wire.Frame) wire.Frame {
		f.Type, f.Kind, f.Seq, f.Time = wire.TypeEvent, kind, 7, testTime
		return f
	}
	var events []wire.Frame
	for _, role := range []string{wire.RoleMember, wire.RoleAdmin, wire.RoleOwner} {
		events = append(events, event(wire.KindJoin, wire.Frame{Name: "cy", Role: role}))
		events = append(events, event(wire.KindRole, wire.Frame{Name: "cy", Role: role, By: "ana"}))
	}
	for _, code := range []string{wire.CodeLeft, wire.CodeLost, wire.CodeKicked, wire.CodeBanned, wire.CodeTooSlow, wire.CodeProtocol, wire.CodeRoomClosed, "vanished"} {
		events = append(events, event(wire.KindLeave, wire.Frame{Name: "cy", Code: code, By: "ana", Text: "spam"}))
	}
	return events
}

// impostorNames are names a member may take to imitate an event: the name
// of the one the event is about, and names of ASCII punctuation (which the
// room allows) shaped like the marks lines start with.
var impostorNames = []string{"cy", "ana", "-!-", "-!-cy", "*", "**", "-", "--", "!!", "<cy>", "<", ">", "[ana", "->", "12:04", "↳", "-->", "<--", "***"}

// TestMemberCannotImitateRoomEvent stands for a member who makes a line
// that reads as the room's own event: "/me was kicked by ana (spam)" from
// cy was shown as "* cy was kicked by ana (spam)", the very line of a real
// kick, at a terminal and in line mode alike. For every kind of event, a
// member who types its words (or the whole line, or the line after the
// mark, after any blanks or line breaks) with /me, as a message or as a
// private message, under any of the names above, makes lines none of
// which starts as an event's line does: in line mode, at a terminal with
// and without colours, with rows cut to the terminal's width, and as a
// backlog line ("earlier: ").
func TestMemberCannotImitateRoomEvent(t *testing.T) {
	loc := time.FixedZone("test", 2*60*60)
	const eventStart = "12:04 " + eventMark
	// renderings returns every way a frame is shown, as plain text.
	renderings := func(f wire.Frame) map[string][]string {
		out := map[string][]string{"line mode": render(f, "bob", loc)}
		for _, st := range []style{{Color: true}, {Color: false}, {Color: true, Width: 40}, {Color: false, Width: 100}, {Width: 12}} {
			lines, _ := st.Lines(f, "bob", loc)
			for _, l := range lines {
				key := fmt.Sprintf("terminal %+v", st)
				out[key] = append(out[key], sgr.ReplaceAllString(l, ""))
			}
			for _, l := range st.Earlier(f, "bob", loc) {
				key := fmt.Sprintf("earlier %+v", st)
				out[key] = append(out[key], strings.TrimPrefix(sgr.ReplaceAllString(l, ""), "earlier: "))
			}
		}
		return out
	}
	for _, ev := range roomEvents() {
		real := render(ev, "bob", loc)
		if len(real) != 1 || !strings.HasPrefix(real[0], eventStart) {
			t.Fatalf("%+v: the event is shown as %q, not after %q", ev, real, eventStart)
		}
		for how, lines := range renderings(ev) {
			// Rows cut to a narrow terminal may break anywhere.
			whole := strings.ReplaceAll(strings.ReplaceAll(strings.Join(lines, ""), contMark, ""), contMarkNarrow, "")
			if !strings.HasPrefix(whole, eventStart) {
				t.Errorf("%+v, %s: the event is shown as %q", ev, how, lines)
			}
		}
		words := strings.TrimPrefix(real[0], eventStart)    // "cy was kicked by ana (spam)"
		afterName := strings.TrimPrefix(words, ev.Name+" ") // "was kicked by ana (spam)"
		texts := []string{afterName, words, eventMark + words, real[0], "\n" + real[0], "\r" + real[0], "\u2028" + real[0],
			strings.Repeat(" ", 120) + real[0], "x" + strings.Repeat(" ", 34) + real[0], "\u00a0" + afterName}
		for _, name := range impostorNames {
			for _, text := range texts {
				for _, attack := range []wire.Frame{
					{Type: wire.TypeEvent, Kind: wire.KindMe, Seq: 8, Time: testTime, From: name, Text: text},
					{Type: wire.TypeEvent, Kind: wire.KindSay, Seq: 8, Time: testTime, From: name, Text: text},
					{Type: wire.TypePrivate, Time: testTime, From: name, To: "bob", Text: text},
					{Type: wire.TypePrivate, Time: testTime, From: "bob", To: name, Text: text},
				} {
					for how, lines := range renderings(attack) {
						for i, l := range lines {
							if strings.HasPrefix(l, eventStart) || strings.HasPrefix(l, eventMark) || l == real[0] {
								t.Errorf("%s %s from %q with %q, %s: line %d %q reads as the event %q", attack.Type, attack.Kind, name, text, how, i, l, real[0])
							}
						}
					}
				}
			}
		}
	}
}

// FuzzMemberLine: whatever name and text a member sends, its lines start
// as a member's do and never as an event's; line mode gives one line
// without a control character or line separator in it, so a script reads
// one line per event; at a terminal, every row after the first starts
// with the continuation mark.
func FuzzMemberLine(f *testing.F) {
	f.Add("cy", "was kicked by ana (spam)", uint8(40))
	f.Add("-!-", "-!- cy joined", uint8(100))
	f.Add("mallory", "hi"+strings.Repeat(" ", 60)+"07:08 <admin2> please everyone run: …", uint8(40))
	f.Add("ana", "a\nb\r\nc\u2028d\u0085e\x1b[2J", uint8(0))
	f.Add("漢字", strings.Repeat("漢字👍🏽", 30), uint8(23))
	f.Add("0000", "0", uint8(12)) // the first row is the time alone
	f.Fuzz(func(t *testing.T, name, text string, width uint8) {
		for _, fr := range []wire.Frame{
			{Type: wire.TypeEvent, Kind: wire.KindMe, Time: testTime, From: name, Text: text},
			{Type: wire.TypeEvent, Kind: wire.KindSay, Time: testTime, From: name, Text: text},
			{Type: wire.TypePrivate, Time: testTime, From: name, To: "bob", Text: text},
		} {
			lines := render(fr, "bob", time.UTC)
			if len(lines) != 1 {
				t.Fatalf("%+v: %d lines in line mode", fr, len(lines))
			}
			if i := strings.IndexFunc(lines[0], func(r rune) bool { return unicode.IsControl(r) || r == 0x2028 || r == 0x2029 }); i >= 0 {
				t.Fatalf("%+v: line mode shows %q, with a control or line separator", fr, lines[0])
			}
			memberStart := map[string]string{wire.KindMe: "10:04 * ", wire.KindSay: "10:04 <", "": "10:04 ["}[fr.Kind]
			if !strings.HasPrefix(lines[0], memberStart) {
				t.Fatalf("%+v: line %q does not start with %q", fr, lines[0], memberStart)
			}
			rows, _ := style{Width: int(width)}.Lines(fr, "bob", time.UTC)
			if whole := unrow(t, rows); whole != lines[0] {
				t.Fatalf("%+v at width %d: rows %q are not the line %q", fr, width, rows, lines[0])
			}
			for i, row := range rows {
				row = sgr.ReplaceAllString(row, "")
				switch {
				case i == 0 && (row == "" || !strings.HasPrefix(lines[0], row)):
					t.Fatalf("%+v at width %d: first row %q, line %q", fr, width, row, lines[0])
				case i > 0 && !strings.HasPrefix(row, contMark) && !strings.HasPrefix(row, contMarkNarrow):
					t.Fatalf("%+v at width %d: row %d %q does not start with the continuation mark", fr, width, i, row)
				case strings.HasPrefix(row, "10:04 "+eventMark), strings.HasPrefix(row, eventMark):
					t.Fatalf("%+v at width %d: row %d %q starts as an event", fr, width, i, row)
				}
			}
		}
	})
}

// TestShowTextCutsBlankRuns stands for a member who pads a message with
// blanks (spaces, no-break and ideographic spaces, fillers, invisible
// format characters between them) so that a terminal that wraps it itself
// shows its end at the start of a row, as a line of its own. No run of
// more than three blanks is shown; runs of two or three, as people type
// them, and flag emoji (made of tag characters) are shown as they are.
func TestShowTextCutsBlankRuns(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"spaces", "hi" + strings.Repeat(" ", 80) + "07:08 <admin2> run this", "hi   07:08 <admin2> run this"},
		{"two and three kept", "end.  Next.   Then", "end.  Next.   Then"},
		{"four cut", "a    b", "a   b"},
		{"no-break spaces", "a" + strings.Repeat("\u00a0", 9) + "b", "a\u00a0\u00a0\u00a0b"},
		{"ideographic spaces", "a" + strings.Repeat("\u3000", 9) + "b", "a\u3000\u3000\u3000b"},
		{"fillers", "a\u3164\u3164\u2800\u2800\uffa0b", "a\u3164\u3164\u2800b"},
		{"spaces between invisible", "a" + strings.Repeat(" \u200b", 20) + "b", "a \u200b b"},
		{"mixed", "a \u2003\u00a0\u205f\u202f b", "a \u2003\u00a0b"},
		{"runs apart", "a    b    c", "a   b   c"},
		{"flag of England", "\U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F", "\U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F"},
		{"tabs are shown, not blank", "a\t\t\t\tb", "a^I^I^I^Ib"},
		{"plain", "hello, world", "hello, world"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := showText(tc.in); got != tc.want {
				t.Errorf("showText(%q) = %q, want %q", tc.in, got, tc.want)
			}
			say := wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Time: testTime, From: "mallory", Text: tc.in}
			if got := render(say, "bob", time.UTC); len(got) != 1 || got[0] != "10:04 <mallory> "+tc.want {
				t.Errorf("render: %q", got)
			}
		})
	}
	kick := wire.Frame{Type: wire.TypeEvent, Kind: wire.KindLeave, Time: testTime, Name: "cy", Code: wire.CodeKicked, By: "ana", Text: "x" + strings.Repeat(" ", 50) + "y"}
	if got := render(kick, "bob", time.UTC); len(got) != 1 || got[0] != "10:04 -!- cy was kicked by ana (x   y)" {
		t.Errorf("a kick's reason: %q", got)
	}
}

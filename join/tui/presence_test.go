package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
	"chatroom/join"
)

func presenceOf(joined []string, left []string) wire.Frame {
	f := wire.Frame{Type: wire.TypeEvent, Kind: wire.KindPresence, Seq: 7, Time: testTime}
	for _, n := range joined {
		f.Joined = append(f.Joined, wire.Member{Name: n, Role: wire.RoleMember})
	}
	for _, n := range left {
		f.Left = append(f.Left, wire.Departure{Name: n, Code: wire.CodeLost})
	}
	return f
}

func manyNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("m%d", i)
	}
	return names
}

// A presence event shows as one line for those who left and one for those
// who came, each naming up to three and counting the rest (all four when
// there are four), marked as the room's own events; the names are the
// room's text, sanitized; a role other than a member's is said as a join
// says it; and a line is the same in the log.
func TestRenderPresence(t *testing.T) {
	loc := time.FixedZone("test", 2*60*60)
	admin := presenceOf([]string{"ana", "bob"}, nil)
	admin.Joined[0].Role = wire.RoleAdmin
	for _, tc := range []struct {
		name  string
		frame wire.Frame
		want  []string
	}{
		{"one", presenceOf([]string{"ana"}, nil), []string{"12:04 -!- ana joined"}},
		{"two", presenceOf([]string{"ana", "bob"}, nil), []string{"12:04 -!- ana and bob joined"}},
		{"three", presenceOf([]string{"ana", "bob", "cy"}, nil), []string{"12:04 -!- ana, bob and cy joined"}},
		{"four", presenceOf([]string{"ana", "bob", "cy", "dee"}, nil), []string{"12:04 -!- ana, bob, cy and dee joined"}},
		{"five", presenceOf([]string{"ana", "bob", "cy", "dee", "eve"}, nil), []string{"12:04 -!- ana, bob, cy and 2 others joined"}},
		{"forty", presenceOf(manyNames(40), nil), []string{"12:04 -!- m0, m1, m2 and 37 others joined"}},
		{"leaves, then joins", presenceOf([]string{"cy"}, []string{"ana", "bob"}), []string{"12:04 -!- ana and bob left", "12:04 -!- cy joined"}},
		{"many leave", presenceOf(nil, manyNames(1000)), []string{"12:04 -!- m0, m1, m2 and 997 others left"}},
		{"an admin", admin, []string{"12:04 -!- ana (admin) and bob joined"}},
		{"sanitized", presenceOf([]string{"c\x1b[2Jy", "\u202eana"}, nil), []string{"12:04 -!- c^[[2Jy and \ufffdana joined"}},
		{"no one", presenceOf(nil, nil), nil},
	} {
		if got := render(tc.frame, "zed", loc); !slices.Equal(got, tc.want) {
			t.Errorf("%s: render = %q, want %q", tc.name, got, tc.want)
		}
	}

	l, b := testLog()
	l.frame(presenceOf(manyNames(40), []string{"zed"}), join.Live, "ana")
	want := "2024-03-01 12:04 -!- zed left\n2024-03-01 12:04 -!- m0, m1, m2 and 37 others joined\n"
	if b.String() != want {
		t.Errorf("the log:\n%s\nwant\n%s", b.String(), want)
	}
}

// Attack: a presence event of a million names takes one line to show,
// however long the names.
func TestRenderPresenceBounded(t *testing.T) {
	names := manyNames(1_000_000)
	names[0] = strings.Repeat("x", 1<<16)
	got := render(presenceOf(names, nil), "zed", time.UTC)
	if len(got) != 1 || len(got[0]) > 3<<16 || !strings.HasSuffix(got[0], " and 999997 others joined") {
		t.Errorf("render = %d lines, the first %d bytes", len(got), len(firstLine(got)))
	}
}

func firstLine(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return lines[0]
}

// The JSON line of a presence event (an addition to version 1): its own
// type, every member who came as a welcome lists them (a key that is no
// tag left out), and who left with the code.
func TestJSONPresence(t *testing.T) {
	f := presenceOf([]string{"ana", "bob"}, []string{"cy"})
	f.Joined[0].Key, f.Joined[0].Away = "abcdefgh", true
	f.Joined[1].Key = "not a tag"
	want := `{"v":1,"type":"presence","phase":"live","seq":7,"time":"2024-03-01T10:04:00Z","joined":[{"name":"ana","role":"member","away":true,"key":"abcdefgh"},{"name":"bob","role":"member"}],"left":[{"name":"cy","code":"lost"}]}` + "\n"
	if got := showJSON(f, join.Live, "zed"); got != want {
		t.Errorf("JSON:\n got: %s\nwant: %s", got, want)
	}
}

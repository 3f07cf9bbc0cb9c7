package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"chatroom/host/wire"
	"chatroom/join"
)

// pathDir makes a directory to complete paths in: files, a directory, a
// name with spaces, a hidden file, a link to a directory, and a name that
// would not show as itself.
func pathDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"slides.pdf", "slides-v2.pdf", "notes.txt", "my talk.pdf", ".hidden", "Report.odt", "bad\x1b]0;pwned\x07.txt", "bidi\u202etxt.exe", `say "hi".txt`} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"docs", "docs/old", "with space"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "docs", "plan.md"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "with space", "a b.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "docs"), filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCompleteSendPath(t *testing.T) {
	dir := pathDir(t)
	home := t.TempDir()
	if err := os.Mkdir(filepath.Join(home, "Downloads"), 0o700); err != nil {
		t.Fatal(err)
	}
	c := testCompletions()
	c.Dir, c.Home = dir, home
	tests := []struct {
		name     string
		line     string
		pos      int // -1: the end of the line
		wantHead string
		want     []string
		wantTail string
	}{
		{"every visible name", "/send ", -1, "/send ", []string{`"Report.odt`, `"docs/`, `"linked/`, `"my talk.pdf`, `"notes.txt`, `"slides-v2.pdf`, `"slides.pdf`, `"with space/`}, ""},
		{"by prefix", "/send sl", -1, "/send ", []string{"slides-v2.pdf", "slides.pdf"}, ""},
		{"a unique file gets a space", "/send no", -1, "/send ", []string{"notes.txt "}, ""},
		{"a directory gets a slash", "/send do", -1, "/send ", []string{"docs/"}, ""},
		{"a link to a directory too", "/send li", -1, "/send ", []string{"linked/"}, ""},
		{"inside a directory", "/send docs/", -1, "/send ", []string{"docs/old/", "docs/plan.md"}, ""},
		{"inside, unique", "/send docs/p", -1, "/send ", []string{"docs/plan.md "}, ""},
		{"hidden when a dot is typed", "/send .h", -1, "/send ", []string{".hidden "}, ""},
		{"in any case when nothing matches exactly", "/send rep", -1, "/send ", []string{"Report.odt "}, ""},
		{"a name with a space is quoted", "/send my", -1, "/send ", []string{`"my talk.pdf" `}, ""},
		{"quoted already", `/send "my`, -1, "/send ", []string{`"my talk.pdf" `}, ""},
		{"quoted directory", `/send "with`, -1, "/send ", []string{`"with space/`}, ""},
		{"inside a quoted directory", `/send "with space/`, -1, "/send ", []string{`"with space/a b.txt" `}, ""},
		{"home", "/send ~", -1, "/send ", []string{"~/"}, ""},
		{"inside home", "/send ~/Do", -1, "/send ", []string{"~/Downloads/"}, ""},
		{"an absolute path", "/send " + dir + "/no", -1, "/send ", []string{dir + "/notes.txt "}, ""},
		{"no such directory", "/send nowhere/x", -1, "/send ", nil, ""},
		{"the command in capitals", "/SEND no", -1, "/SEND ", []string{"notes.txt "}, ""},
		{"in the middle of the line", "/send no cy", 8, "/send ", []string{"notes.txt"}, " cy"},
		// After the path, the name of whom it is for.
		{"the member after the path", "/send notes.txt a", -1, "/send notes.txt ", []string{"alice", "alan", "ana"}, ""},
		{"the member after a quoted path", `/send "my talk.pdf" b`, -1, `/send "my talk.pdf" `, []string{"Bob "}, ""},
		// Not /send.
		{"the command itself", "/sen", -1, "", []string{"/send "}, ""},
		{"another command", "/sendx no", -1, "/sendx ", nil, ""},
	}
	c.Commands = append(c.Commands, clientCommands...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pos := tc.pos
			if pos < 0 {
				pos = utf8.RuneCountInString(tc.line)
			}
			head, got, tail := c.Complete(tc.line, pos)
			if head != tc.wantHead || !slices.Equal(got, tc.want) || tail != tc.wantTail {
				t.Errorf("Complete(%q, %d) = %q, %q, %q; want %q, %q, %q", tc.line, pos, head, got, tail, tc.wantHead, tc.want, tc.wantTail)
			}
		})
	}
}

// TestCompleteSendPathShowsItself: a local name that would not show as
// itself (a control, a bidi override) is never typed into the line.
func TestCompleteSendPathShowsItself(t *testing.T) {
	c := completions{Dir: pathDir(t)}
	for _, prefix := range []string{"/send b", "/send ", `/send "`} {
		_, got, _ := c.Complete(prefix, utf8.RuneCountInString(prefix))
		for _, cand := range got {
			if !pathShows(cand) || strings.Contains(cand, "bad") || strings.Contains(cand, "bidi") {
				t.Errorf("%q offers %q", prefix, cand)
			}
		}
	}
}

// TestCompleteSendPathBounded: a directory of many files offers at most
// maxPathCandidates of them.
func TestCompleteSendPathBounded(t *testing.T) {
	dir := t.TempDir()
	for i := range maxPathCandidates + 50 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d", i)), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, got, _ := completions{Dir: dir}.Complete("/send f", 7)
	if len(got) != maxPathCandidates || got[0] != "f0000" {
		t.Errorf("%d candidates, the first %q", len(got), got[0])
	}
}

// TestCompleteFileNumbers: after "/get " and "/unsend ", Tab offers the
// numbers of the files the room told of and has not said are gone; a file
// offered by someone ignored, whose offer is hidden, is not offered.
func TestCompleteFileNumbers(t *testing.T) {
	v, _ := newTestView(t)
	offer := func(n int) wire.Frame {
		return wire.Frame{Type: wire.TypeEvent, Kind: wire.KindOffer, Time: testTime, From: "bob", File: &wire.File{Number: n, Name: "a", Size: 1}}
	}
	v.Show(offer(7), join.Live)
	v.Show(offer(12), join.Live)
	v.Show(offer(-3), join.Live) // no number a room gives
	v.Show(wire.Frame{Type: wire.TypePrivate, Time: testTime, From: "bob", To: "ana", File: &wire.File{Number: 9, Name: "b", Size: 1}}, join.Live)
	v.Show(wire.Frame{Type: wire.TypeNotice, Text: "1 file", Files: []wire.File{{Number: 30, Name: "c", Size: 1}}}, join.Live)
	v.Show(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindUnsend, Time: testTime, By: "bob", File: &wire.File{Number: 12}}, join.Live)
	if !v.local("/ignore bob") {
		t.Fatal("/ignore not taken as the client's own")
	}
	v.Show(wire.Frame{Type: wire.TypePrivate, Time: testTime, From: "bob", To: "ana", File: &wire.File{Number: 44, Name: "d", Size: 1}}, join.Live)
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"/get ", []string{"7", "9", "30"}},
		{"/get 3", []string{"30 "}},
		{"/unsend ", []string{"7", "9", "30"}},
		{"/get 12", nil},
		{"/get 4", nil}, // 44 came from bob, ignored
	} {
		if _, got, _ := v.complete(tc.line, utf8.RuneCountInString(tc.line)); !slices.Equal(got, tc.want) {
			t.Errorf("%q completes to %q, want %q", tc.line, got, tc.want)
		}
	}
	var o offersSeen
	for n := range maxOffersSeen + 10 {
		o.add(n + 1)
	}
	if w := o.words(); len(w) != maxOffersSeen || w[0] != "11" {
		t.Errorf("%d numbers kept, the first %q", len(w), w[0])
	}
}

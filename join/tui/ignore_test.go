package tui

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
	"chatroom/join"
)

func TestParseIgnores(t *testing.T) {
	tests := []struct {
		name         string
		data         string
		want         []string
		wantWarnings []string
	}{
		{"empty", "", nil, nil},
		{"names", "bob\ncy\n", []string{"bob", "cy"}, nil},
		{"the header, blank lines and CRLF", ignoreHeader + "\nbob\r\n\n  \ncy", []string{"bob", "cy"}, nil},
		{"twice in another case", "bob\nBOB\nbob\n", []string{"bob"}, nil},
		{"not UTF-8", "bob\nb\xffd\ncy\n", []string{"bob", "cy"}, []string{"1 damaged line skipped (the first is line 2)"}},
		{"controls", "\x1b]0;pwned\a\nbob\nev\u202ee\n", []string{"bob"}, []string{"2 damaged lines skipped (the first is line 1)"}},
		{"a blank inside", "bob smith\ncy\n", []string{"cy"}, []string{"1 damaged line skipped (the first is line 1)"}},
		{"too long", strings.Repeat("x", maxCompletion+1) + "\n" + strings.Repeat("y", maxCompletion) + "\n", []string{strings.Repeat("y", maxCompletion)}, []string{"1 damaged line skipped (the first is line 1)"}},
		{"a NUL", "bo\x00b\n", nil, []string{"1 damaged line skipped (the first is line 1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings := parseIgnores([]byte(tt.data))
			if !slices.Equal(got, tt.want) || !slices.Equal(warnings, tt.wantWarnings) {
				t.Errorf("parseIgnores(%q) = %q, %q; want %q, %q", tt.data, got, warnings, tt.want, tt.wantWarnings)
			}
		})
	}
}

func TestParseIgnoresBounded(t *testing.T) {
	var b strings.Builder
	for i := range maxIgnored + 5 {
		b.WriteString("n" + strconv.Itoa(i) + "\n")
	}
	got, warnings := parseIgnores([]byte(b.String()))
	if len(got) != maxIgnored || !slices.Equal(warnings, []string{"more than 1000 names: the last 5 skipped"}) {
		t.Errorf("%d names, warnings %q", len(got), warnings)
	}
}

func TestIgnoreFileKept(t *testing.T) {
	dir := t.TempDir()
	file := IgnoreFile(HistoryFile(dir, "Ana"))
	if file != filepath.Join(dir, "history", "ana.ignore") {
		t.Errorf("IgnoreFile = %q", file)
	}
	if IgnoreFile("") != "" {
		t.Error("no history, yet an ignore file")
	}
	if names, warnings, err := loadIgnores(file); names != nil || warnings != nil || err != nil {
		t.Fatalf("a missing list: %q, %q, %v", names, warnings, err)
	}
	if err := saveIgnores(file, []string{"bob", "émile"}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the list's mode: %v, %v", fi, err)
	}
	names, warnings, err := loadIgnores(file)
	if !slices.Equal(names, []string{"bob", "émile"}) || warnings != nil || err != nil {
		t.Errorf("read back: %q, %q, %v", names, warnings, err)
	}
}

// TestLoadIgnoresHuge: a list far longer than any could be is read only
// up to its bound, and says so.
func TestLoadIgnoresHuge(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ignore")
	data := "bob\n" + strings.Repeat(strings.Repeat("x", 100)+"\n", maxIgnoreFile/100+10)
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	names, warnings, err := loadIgnores(file)
	if err != nil || !slices.Equal(names, []string{"bob"}) || len(warnings) != 2 || !strings.HasPrefix(warnings[0], "longer than") {
		t.Errorf("%q, %q, %v", names, warnings, err)
	}
}

func FuzzParseIgnores(f *testing.F) {
	f.Add([]byte("bob\ncy\n"))
	f.Add([]byte(ignoreHeader + "bob\r\nBOB\n\x1b[2J\n"))
	f.Add([]byte("b\xffd\n\n#x\n  a b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		names, _ := parseIgnores(data)
		if len(names) > maxIgnored {
			t.Fatalf("%d names", len(names))
		}
		for i, n := range names {
			if !completable(n) || join.Sanitize(n) != n || strings.HasPrefix(n, "#") {
				t.Fatalf("name %q kept", n)
			}
			if ignoredIndex(names[:i], n) >= 0 {
				t.Fatalf("name %q twice", n)
			}
		}
		again, warnings := parseIgnores(encodeIgnores(names))
		if !slices.Equal(again, names) || warnings != nil {
			t.Fatalf("written and read again: %q, %q; was %q", again, warnings, names)
		}
	})
}

// TestViewIgnore: /ignore hides a member's messages, /me lines and
// private messages, in the backlog too, and never joins, leaves, the
// room's answers or the person's own lines; a mention from them rings no
// bell. The list is kept, and a prompt started later hides the same.
func TestViewIgnore(t *testing.T) {
	v, scr := newTestView(t)
	file := filepath.Join(t.TempDir(), "history", "ana.ignore")
	v.loadIgnored(file)
	v.now = func() time.Time { return testTime.Add(time.Hour) }

	ev := func(kind, from, text string) wire.Frame {
		return wire.Frame{Type: wire.TypeEvent, Kind: kind, Time: testTime, From: from, Name: from, Text: text}
	}
	showAll := func(v *roomView) {
		v.Show(ev(wire.KindSay, "bob", "ana: spam"), join.Live)
		v.Show(ev(wire.KindMe, "Bob", "spams"), join.Live)
		v.Show(wire.Frame{Type: wire.TypePrivate, Time: testTime, From: "bob", To: "ana", Text: "psst"}, join.Live)
		v.Show(ev(wire.KindSay, "bob", "old spam"), join.Backlog)
		v.Show(ev(wire.KindSay, "cy", "hello"), join.Live)
		v.Show(ev(wire.KindSay, "ana", "bob: stop"), join.Live)
		v.Show(wire.Frame{Type: wire.TypePrivate, Time: testTime, From: "ana", To: "bob", Text: "please"}, join.Live)
		v.Show(ev(wire.KindLeave, "bob", ""), join.Live)
		v.Show(wire.Frame{Type: wire.TypeNotice, Text: "2 here: ana, bob"}, join.Live)
	}

	for _, line := range []string{"/ignore bob", "/IGNORE BOB", "/ignore ana", "/ignore a b", "/ignore \x1b[2J", "/ignore"} {
		if !v.local(line) {
			t.Fatalf("%q was not taken as the client's own", line)
		}
	}
	before := len(scr.lines())
	bells := scr.bells
	showAll(v)
	got := plainLines(scr)[before-1:]
	want := []string{
		"10:04 <cy> hello",
		"10:04 <ana> bob: stop",
		"10:04 [ana -> bob] please",
		"10:04 -!- bob left",
		"-- 2 here: ana, bob",
		"",
	}
	if !slices.Equal(got, want) {
		t.Errorf("shown with bob ignored:\n%q\nwant\n%q", got, want)
	}
	if scr.bells != bells {
		t.Error("an ignored member's mention rang the bell")
	}
	answers := strings.Join(plainLines(scr)[:before], "\n")
	for _, want := range []string{
		"-- ignoring bob: their messages, /me lines and private messages are hidden on this terminal; joins, leaves and admins' actions still show. By name",
		"-- already ignoring BOB",
		"!! you cannot ignore yourself",
		"!! usage: /ignore NAME",
		`!! "\x1b[2J" is not a name anyone can have`,
		"-- ignoring 1: bob.",
	} {
		if !strings.Contains(answers, want) {
			t.Errorf("the answers do not say %q:\n%s", want, answers)
		}
	}
	if data, err := os.ReadFile(file); err != nil || string(data) != ignoreHeader+"bob\n" {
		t.Errorf("the list kept: %q, %v", data, err)
	}

	// A prompt started later reads the list and hides the same.
	v2, scr2 := newTestView(t)
	v2.loadIgnored(file)
	before = len(scr2.lines())
	showAll(v2)
	if got := plainLines(scr2)[before-1:]; !slices.Equal(got, want) {
		t.Errorf("after a restart:\n%q\nwant\n%q", got, want)
	}

	// /unignore shows them again, and is kept.
	for _, line := range []string{"/unignore Bob", "/unignore bob", "/unignore"} {
		if !v2.local(line) {
			t.Fatalf("%q was not taken as the client's own", line)
		}
	}
	answers = strings.Join(plainLines(scr2), "\n")
	for _, want := range []string{"-- no longer ignoring bob", `!! "bob" is not ignored`, "!! usage: /unignore NAME"} {
		if !strings.Contains(answers, want) {
			t.Errorf("the answers do not say %q:\n%s", want, answers)
		}
	}
	before = len(scr2.lines())
	v2.Show(ev(wire.KindSay, "bob", "back"), join.Live)
	if got := plainLines(scr2)[before-1]; got != "10:04 <bob> back" {
		t.Errorf("after /unignore: %q", got)
	}
	if names, _, _ := loadIgnores(file); names != nil {
		t.Errorf("the list kept after /unignore: %q", names)
	}
}

// TestViewIgnoreDamagedList: a list with a damaged line is read without
// it, and the person is told which.
func TestViewIgnoreDamagedList(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ana.ignore")
	if err := os.WriteFile(file, []byte("bob\nb\xffd\ncy\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v, scr := newTestView(t)
	v.loadIgnored(file)
	if !slices.Equal(v.ignored, []string{"bob", "cy"}) {
		t.Errorf("ignored: %q", v.ignored)
	}
	if got := strings.Join(plainLines(scr), "\n"); !strings.Contains(got, "!! the ignore list "+file+": 1 damaged line skipped (the first is line 2)") {
		t.Errorf("the warning:\n%s", got)
	}
}

// TestViewIgnoreCompletes: /unignore completes the names ignored.
func TestViewIgnoreCompletes(t *testing.T) {
	v, _ := newTestView(t)
	v.local("/ignore bob")
	v.local("/ignore bea")
	if _, got, _ := v.complete("/unignore b", 11); !slices.Equal(got, []string{"bob", "bea"}) {
		t.Errorf("/unignore b completes to %q", got)
	}
	if _, got, _ := v.complete("/unignore c", 11); got != nil {
		t.Errorf("/unignore c completes to %q", got)
	}
}

// TestViewClear: /clear clears the screen through the output, and the
// prompt's row, drawn again, stays where the editor expects it.
func TestViewClear(t *testing.T) {
	v, scr := newTestView(t)
	v.Show(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Time: testTime, From: "bob", Text: "hi"}, join.Live)
	v.out.Write([]byte("Lab 3 ana> ab\b"))
	if !v.local("/clear") {
		t.Fatal("/clear was not taken as the client's own")
	}
	if got := plainLines(scr); !slices.Equal(got, []string{"Lab 3 ana> ab"}) {
		t.Errorf("after /clear: %q", got)
	}
	if y, x := scr.cursor(); y != 0 || x != len("Lab 3 ana> a") {
		t.Errorf("the cursor at %d,%d", y, x)
	}
	v.Show(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Time: testTime, From: "bob", Text: "again"}, join.Live)
	if got := plainLines(scr); !slices.Equal(got, []string{"10:04 <bob> again", "Lab 3 ana> ab"}) {
		t.Errorf("a line after /clear: %q", got)
	}
	if !v.local("/clear now") || !strings.Contains(strings.Join(plainLines(scr), "\n"), "!! usage: /clear") {
		t.Errorf("/clear with words: %q", plainLines(scr))
	}
}

// TestViewHelpAddsLocalCommands: the host's answer to /help gets the
// client's own commands after it, once per /help; other notices do not.
func TestViewHelpAddsLocalCommands(t *testing.T) {
	v, scr := newTestView(t)
	help := wire.Frame{Type: wire.TypeNotice, Text: "/help — list the commands you may use\n/who — list who is here"}
	v.Show(help, join.Live) // not asked for: a room may send anything
	if v.local("/help") {
		t.Fatal("/help was not sent to the host")
	}
	v.Show(wire.Frame{Type: wire.TypeNotice, Text: "2 here: ana, bob"}, join.Live)
	v.Show(help, join.Live)
	v.Show(help, join.Live)
	got := strings.Join(plainLines(scr), "\n")
	if n := strings.Count(got, "-- /bell on|off — ring the terminal bell"); n != 1 {
		t.Errorf("the client's commands shown %d times:\n%s", n, got)
	}
	for _, want := range []string{
		"-- /who — list who is here\n-- /bell on|off — ring the terminal bell when someone mentions you (this terminal only)\n-- /clear — clear the screen (this terminal only)\n-- /ignore [NAME] — hide NAME's messages",
		"-- /unignore NAME — show NAME's messages again",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the help does not say %q:\n%s", want, got)
		}
	}
}

// TestViewIgnoreUnsaved: a list that cannot be saved is said, in plain
// words, and holds for the session.
func TestViewIgnoreUnsaved(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "history")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil { // a file where the directory should be
		t.Fatal(err)
	}
	v, scr := newTestView(t)
	v.loadIgnored(filepath.Join(blocker, "ana.ignore"))
	v.local("/ignore bob")
	got := strings.Join(plainLines(scr), "\n")
	if !strings.Contains(got, "!! cannot save the ignore list "+filepath.Join(blocker, "ana.ignore")+": not a directory; the list holds until you leave") {
		t.Errorf("the answers:\n%s", got)
	}
	if !v.hides(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, From: "bob"}) {
		t.Error("bob is not ignored for the session")
	}
}

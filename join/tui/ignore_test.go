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

// byName is an ignore list of names alone, as lists were written before
// keys were kept.
func byName(names ...string) []ignoredMember {
	var list []ignoredMember
	for _, n := range names {
		list = append(list, ignoredMember{Name: n})
	}
	return list
}

func TestParseIgnores(t *testing.T) {
	tests := []struct {
		name         string
		data         string
		want         []ignoredMember
		wantWarnings []string
	}{
		{"empty", "", nil, nil},
		{"names", "bob\ncy\n", byName("bob", "cy"), nil},
		{"the header, blank lines and CRLF", ignoreHeader + "\nbob\r\n\n  \ncy", byName("bob", "cy"), nil},
		{"twice in another case", "bob\nBOB\nbob\n", byName("bob"), nil},
		{"not UTF-8", "bob\nb\xffd\ncy\n", byName("bob", "cy"), []string{"1 damaged line skipped (the first is line 2)"}},
		{"controls", "\x1b]0;pwned\a\nbob\nev\u202ee\n", byName("bob"), []string{"2 damaged lines skipped (the first is line 1)"}},
		{"a blank inside", "bob smith\ncy\n", byName("cy"), []string{"1 damaged line skipped (the first is line 1)"}},
		{"too long", strings.Repeat("x", maxCompletion+1) + "\n" + strings.Repeat("y", maxCompletion) + "\n", byName(strings.Repeat("y", maxCompletion)), []string{"1 damaged line skipped (the first is line 1)"}},
		{"a NUL", "bo\x00b\n", nil, []string{"1 damaged line skipped (the first is line 1)"}},
		{"names and keys", ignoreHeader + "bob bobkey01\r\ncy\ndee AZaz09+/\n", []ignoredMember{{"bob", "bobkey01"}, {"cy", ""}, {"dee", "AZaz09+/"}}, nil},
		{"a key that is not one", "bob bobkey0\ncy cy\x1b[2Jkey\ndee deekey01 more\neve  evekey01\nfay \nbea beakey01\n", []ignoredMember{{"bea", "beakey01"}}, []string{"5 damaged lines skipped (the first is line 1)"}},
		{"one key under two names", "bob bobkey01\nrob bobkey01\n", []ignoredMember{{"bob", "bobkey01"}}, nil},
		{"one name with two keys", "bob bobkey01\nBob bobkey02\n", []ignoredMember{{"bob", "bobkey01"}, {"Bob", "bobkey02"}}, nil},
		{"a name, then the same with a key", "bob\nbob bobkey01\n", byName("bob"), nil},
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
	if err := saveIgnores(file, []ignoredMember{{"bob", "bobkey01"}, {"émile", ""}}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the list's mode: %v, %v", fi, err)
	}
	names, warnings, err := loadIgnores(file)
	if !slices.Equal(names, []ignoredMember{{"bob", "bobkey01"}, {"émile", ""}}) || warnings != nil || err != nil {
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
	if err != nil || !slices.Equal(names, byName("bob")) || len(warnings) != 2 || !strings.HasPrefix(warnings[0], "longer than") {
		t.Errorf("%q, %q, %v", names, warnings, err)
	}
}

func FuzzParseIgnores(f *testing.F) {
	f.Add([]byte("bob\ncy\n"))
	f.Add([]byte(ignoreHeader + "bob\r\nBOB\n\x1b[2J\n"))
	f.Add([]byte("b\xffd\n\n#x\n  a b\n"))
	f.Add([]byte("bob bobkey01\nrob bobkey01\ncy cykey01+/=\nBob bobkey02\ndee \x1b[2Jdeekey\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, _ := parseIgnores(data)
		if len(list) > maxIgnored {
			t.Fatalf("%d names", len(list))
		}
		for i, e := range list {
			if !completable(e.Name) || join.Sanitize(e.Name) != e.Name || strings.HasPrefix(e.Name, "#") {
				t.Fatalf("name %q kept", e.Name)
			}
			if e.Key != "" && (!join.ValidKeyTag(e.Key) || join.Sanitize(e.Key) != e.Key) {
				t.Fatalf("key %q kept", e.Key)
			}
			if ignoredIndex(list[:i], e.Name, e.Key) >= 0 {
				t.Fatalf("%+v twice", e)
			}
		}
		again, warnings := parseIgnores(encodeIgnores(list))
		if !slices.Equal(again, list) || warnings != nil {
			t.Fatalf("written and read again: %q, %q; was %q", again, warnings, list)
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
		"-- ignoring bob by name (the room tells no key for them): whoever has the name is ignored; their messages, /me lines and private messages are hidden on this terminal; joins, leaves and admins' actions still show; /unignore bob to undo",
		"-- already ignoring bob", // as the room spells the name

		"!! you cannot ignore yourself",
		"!! usage: /ignore NAME",
		`!! "\x1b[2J" is not a name anyone can have`,
		"-- ignoring 1: bob (by name).",
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
	if !slices.Equal(v.ignored, byName("bob", "cy")) {
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

// TestViewIgnoreByKey: someone ignored while the room tells their key
// stays hidden under any name, by /nick or by joining again, in messages,
// /me lines and private messages; someone else who takes the name with
// another key is not hidden; someone the room tells no key for is ignored
// by name, and the answers say which. The list keeps the key, and an old
// entry by name gets it when its member is ignored again.
func TestViewIgnoreByKey(t *testing.T) {
	welcome := wire.Frame{
		Type: wire.TypeWelcome, Room: &wire.Room{Name: "Lab 3"},
		You: &wire.Member{Name: "ana", Role: wire.RoleMember, Key: "anakey01"},
		Members: []wire.Member{
			{Name: "ana", Role: wire.RoleMember, Key: "anakey01"},
			{Name: "bob", Role: wire.RoleMember, Key: "bobkey01"},
			{Name: "cy", Role: wire.RoleMember},
			{Name: "dee", Role: wire.RoleMember, Key: "deekey01"},
			{Name: "mimic", Role: wire.RoleMember, Key: "anakey01"},
		},
	}
	roster, apply := liveRoster(t, welcome)
	scr := newVTScreen(t)
	v := newRoomView(newOutput(scr), style{})
	v.loc = time.UTC
	v.Enter(welcome, roster)
	file := filepath.Join(t.TempDir(), "ana.ignore")
	if err := os.WriteFile(file, []byte("dee\n"), 0o600); err != nil { // written before keys were kept
		t.Fatal(err)
	}
	v.loadIgnored(file)

	for _, line := range []string{"/ignore BOB", "/ignore cy", "/ignore zed", "/ignore dee", "/ignore mimic"} {
		v.local(line)
	}
	event := func(kind, name, newName, key string) wire.Frame {
		return wire.Frame{Type: wire.TypeEvent, Kind: kind, Time: testTime, Name: name, NewName: newName, Key: key, Role: wire.RoleMember}
	}
	say := func(from string) wire.Frame {
		return wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Time: testTime, From: from, Text: "hi from " + from}
	}
	steps := []struct {
		what   string
		change wire.Frame // applied to the roster first, if any
		frame  wire.Frame
		hidden bool
	}{
		{"bob", wire.Frame{}, say("bob"), true},
		{"bob after /nick", event(wire.KindNick, "bob", "rob", "bobkey01"), say("rob"), true},
		{"bob's /me", wire.Frame{}, wire.Frame{Type: wire.TypeEvent, Kind: wire.KindMe, Time: testTime, From: "rob", Text: "waves"}, true},
		{"someone else as bob", event(wire.KindJoin, "bob", "", "evekey01"), say("bob"), false},
		{"bob, joined again as bobby", event(wire.KindJoin, "bobby", "", "bobkey01"), say("bobby"), true},
		{"bobby's private message", wire.Frame{}, wire.Frame{Type: wire.TypePrivate, Time: testTime, From: "bobby", To: "ana", Text: "psst"}, true},
		{"cy, by name", wire.Frame{}, say("cy"), true},
		{"cy under another name", event(wire.KindNick, "cy", "cyd", ""), say("cyd"), false},
		{"someone as cy", event(wire.KindJoin, "cy", "", ""), say("cy"), true},
		{"dee, by key now", event(wire.KindNick, "dee", "dot", "deekey01"), say("dot"), true},
		{"zed, never here", wire.Frame{}, say("zed"), true},
	}
	for _, s := range steps {
		if s.change.Type != "" {
			apply(s.change)
		}
		if got := v.hides(s.frame); got != s.hidden {
			t.Errorf("%s: hides = %v, want %v", s.what, got, s.hidden)
		}
	}
	v.local("/ignore bobby")
	v.local("/ignore")
	answers := strings.Join(plainLines(scr), "\n")
	for _, want := range []string{
		"-- ignoring bob by key bobkey01, under any name they take; their messages, /me lines and private messages are hidden on this terminal; joins, leaves and admins' actions still show; /unignore bob to undo",
		"-- ignoring cy by name (the room tells no key for them): whoever has the name is ignored;",
		"-- ignoring zed by name (the room tells no key for them)",
		"-- ignoring dee by key deekey01, under any name they take;",
		"!! mimic has your own key (anakey01): you cannot ignore yourself",
		"-- already ignoring bobby: by key bobkey01, as bob",
		"-- ignoring 4: dee (key deekey01), bob (key bobkey01), cy (by name), zed (by name).",
	} {
		if !strings.Contains(answers, want) {
			t.Errorf("the answers do not say %q:\n%s", want, answers)
		}
	}
	if data, err := os.ReadFile(file); err != nil || string(data) != ignoreHeader+"dee deekey01\nbob bobkey01\ncy\nzed\n" {
		t.Errorf("the list kept: %q, %v", data, err)
	}

	// /unignore takes the name someone ignored by key has now.
	v.local("/unignore bobby")
	if !strings.Contains(strings.Join(plainLines(scr), "\n"), "-- no longer ignoring bob") || v.hides(say("bobby")) {
		t.Errorf("after /unignore bobby:\n%s", strings.Join(plainLines(scr), "\n"))
	}
}

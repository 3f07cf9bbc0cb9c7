package tui

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
	"chatroom/join"
)

// testLog is a log into a buffer, in a zone two hours east of UTC, whose
// clock says 2026-12-01 14:30 there.
func testLog() (*ChatLog, *bytes.Buffer) {
	var b bytes.Buffer
	l := newChatLog(&b, "chat.log")
	l.loc = time.FixedZone("test", 2*60*60)
	l.now = func() time.Time { return time.Date(2026, 12, 1, 12, 30, 0, 0, time.UTC) }
	return l, &b
}

func TestChatLogLines(t *testing.T) {
	l, b := testLog()
	at := time.Date(2026, 12, 1, 12, 4, 0, 0, time.UTC)
	welcome := wire.Frame{Type: wire.TypeWelcome, Room: &wire.Room{Name: "Lab 3"}, You: &wire.Member{Name: "ana"}, Members: []wire.Member{{Name: "ana"}, {Name: "bob"}}}
	l.welcome(welcome)
	l.frame(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Time: at.Add(-24 * time.Hour), From: "bob", Text: "yesterday"}, join.Backlog, "ana")
	l.note(join.Note{Kind: join.Info, Text: "end of earlier messages"})
	l.frame(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Time: at, From: "bob", Text: "hi"}, join.Live, "ana")
	l.frame(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindMe, Time: at, From: "ana", Text: "waves"}, join.Live, "ana")
	l.frame(wire.Frame{Type: wire.TypePrivate, Time: at, From: "bob", To: "ana", Text: "psst"}, join.Live, "ana")
	l.frame(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindJoin, Time: at, Name: "cy"}, join.Live, "ana")
	l.frame(wire.Frame{Type: wire.TypeNotice, Text: "2 here:\nana, bob"}, join.Live, "ana")
	l.frame(wire.Frame{Type: wire.TypeNotice, Text: "not allowed", Error: true}, join.Live, "ana")
	l.frame(wire.Frame{Type: "future"}, join.Live, "ana")
	l.frame(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, From: "cy", Text: "no time"}, join.Live, "ana")
	l.note(join.Note{Kind: join.Progress, Text: "connection lost; reconnecting"})
	l.note(join.Note{Kind: join.Progress, Text: "retrying in 2s"})
	l.note(join.Note{Kind: join.Settled, Text: "back in the room"})
	l.welcome(welcome) // a reconnect: not again
	l.note(join.Note{Kind: join.Warning, Text: "2 lines not sent"})
	l.frame(wire.Frame{Type: wire.TypeClosed, Code: wire.CodeRoomClosed}, join.Live, "ana")

	want := `2026-12-01 14:30 joined "Lab 3" as ana (2 here: ana, bob)
2026-11-30 14:04 earlier: <bob> yesterday
2026-12-01 14:30 -- end of earlier messages
2026-12-01 14:04 <bob> hi
2026-12-01 14:04 * ana waves
2026-12-01 14:04 [bob -> ana] psst
2026-12-01 14:04 -!- cy joined
2026-12-01 14:30 -- 2 here:
2026-12-01 14:30 -- ana, bob
2026-12-01 14:30 !! not allowed
2026-12-01 14:30 <cy> no time
2026-12-01 14:30 -- connection lost; reconnecting
2026-12-01 14:30 -- back in the room
2026-12-01 14:30 !! 2 lines not sent
2026-12-01 14:30 -- the room closed
`
	if b.String() != want {
		t.Errorf("the log:\n%s\nwant\n%s", b.String(), want)
	}
}

// TestChatLogSanitized: what a hostile room sends reaches the log as
// Sanitize shows it: no control of any kind, and no line of its own.
func TestChatLogSanitized(t *testing.T) {
	l, b := testLog()
	for _, p := range hostilePayloads {
		l.frame(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Time: testTime, From: hostile(p), Text: p}, join.Live, "ana")
		l.frame(wire.Frame{Type: wire.TypeNotice, Text: p}, join.Live, "ana")
		l.note(join.Note{Kind: join.Warning, Text: p})
	}
	for i, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if !dated.MatchString(line) {
			t.Errorf("line %d does not start with a date: %.80q", i, line)
		}
		if join.Sanitize(line) != line {
			t.Errorf("line %d holds what Sanitize would replace: %.80q", i, line)
		}
	}
}

var dated = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d `)

type failingWriter struct{ writes int }

func (w *failingWriter) Write(p []byte) (int, error) {
	w.writes++
	return 0, errors.New("no space left on device")
}

// TestChatLogFailsOnce: a log that cannot be written is said once, and
// later lines are still tried.
func TestChatLogFailsOnce(t *testing.T) {
	w := &failingWriter{}
	l := newChatLog(w, "/mnt/full/chat.log")
	first := l.note(join.Note{Text: "one"})
	if first != "the log /mnt/full/chat.log cannot be written (no space left on device); the chat goes on, and the log may miss lines" {
		t.Errorf("first failure: %q", first)
	}
	if again := l.frame(wire.Frame{Type: wire.TypeNotice, Text: "two"}, join.Live, "ana"); again != "" {
		t.Errorf("second failure said again: %q", again)
	}
	if w.writes != 2 {
		t.Errorf("%d writes tried, want 2", w.writes)
	}
}

func TestOpenChatLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.log")
	for _, text := range []string{"one", "two"} {
		l, err := OpenChatLog(path)
		if err != nil {
			t.Fatal(err)
		}
		l.note(join.Note{Text: text})
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the log's mode: %v, %v", fi, err)
	}
	data, _ := os.ReadFile(path)
	if lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n"); len(lines) != 2 || !strings.HasSuffix(lines[0], " -- one") || !strings.HasSuffix(lines[1], " -- two") {
		t.Errorf("the log, opened twice: %q", data)
	}

	// What cannot be opened is said in words, with what to do, never in
	// the system's ("no such file or directory") or Go's ("open …").
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "chat.log")
	if _, err := OpenChatLog(missing); err == nil || err.Error() != "cannot write the log "+missing+": the directory "+filepath.Join(dir, "no")+" does not exist: make it first, or give a file in one that does" {
		t.Errorf("a log in no directory: %v", err)
	}
	if _, err := OpenChatLog(dir); err == nil || err.Error() != "cannot write the log "+dir+": "+dir+" is a directory, not a file" {
		t.Errorf("a log that is a directory: %v", err)
	}
}

// TestWithLog: a line UI with a log shows exactly what it showed without
// one, and the log gets the same lines with their dates; a log that fails
// is said once, on the UI.
func TestWithLog(t *testing.T) {
	l, b := testLog()
	var plain, logged bytes.Buffer
	roster, _ := liveRoster(t, wire.Frame{You: &wire.Member{Name: "ana"}, Members: []wire.Member{{Name: "bob"}}})
	welcome := wire.Frame{Type: wire.TypeWelcome, Room: &wire.Room{Name: "Lab 3"}, You: &wire.Member{Name: "ana"}, Members: []wire.Member{{Name: "ana"}, {Name: "bob"}}}
	say := wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Time: time.Date(2026, 12, 1, 12, 4, 0, 0, time.UTC), From: "bob", Text: "hi"}
	for _, ui := range []join.UI{newLineUI(strings.NewReader(""), &plain), WithLog(newLineUI(strings.NewReader(""), &logged), l)} {
		ui.Enter(welcome, roster)
		ui.Show(say, join.Live)
		ui.Note(join.Note{Kind: join.Warning, Text: "1 line not sent"})
	}
	if plain.String() != logged.String() {
		t.Errorf("with a log the UI shows\n%s\nwithout\n%s", logged.String(), plain.String())
	}
	want := "2026-12-01 14:30 joined \"Lab 3\" as ana (2 here: ana, bob)\n2026-12-01 14:04 <bob> hi\n2026-12-01 14:30 !! 1 line not sent\n"
	if b.String() != want {
		t.Errorf("the log:\n%s\nwant\n%s", b.String(), want)
	}
	if WithLog(&lineUI{}, nil) == nil {
		t.Error("no log, no UI")
	}

	var out bytes.Buffer
	ui := WithLog(newLineUI(strings.NewReader(""), &out), newChatLog(&failingWriter{}, "chat.log"))
	ui.Enter(welcome, roster)
	ui.Show(say, join.Live)
	ui.Show(say, join.Live)
	if n := strings.Count(out.String(), "!! the log chat.log cannot be written"); n != 1 || !strings.Contains(out.String(), "<bob> hi") {
		t.Errorf("a failing log said %d times:\n%s", n, out.String())
	}
}

// TestViewLog: the prompt logs what it shows of the room, and not what
// /ignore hides.
func TestViewLog(t *testing.T) {
	l, b := testLog()
	v, _ := newTestView(t)
	v.log = l
	v.local("/ignore bob")
	v.Show(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Time: testTime, From: "bob", Text: "spam"}, join.Live)
	v.Show(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Time: testTime, From: "cy", Text: "hi"}, join.Live)
	v.Note(join.Note{Kind: join.Info, Text: "end of earlier messages"})
	if got := b.String(); strings.Contains(got, "spam") || !strings.Contains(got, " <cy> hi\n") || !strings.HasSuffix(got, " -- end of earlier messages\n") {
		t.Errorf("the prompt's log:\n%s", got)
	}
}

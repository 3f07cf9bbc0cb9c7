package tui

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

const testPrompt = "Lab 3 ana> "

// linerRefresh is what liner writes to redraw its row: the prompt and the line,
// the rest of the row erased, the cursor put at pos (columns into the
// line). cha says the terminal is an xterm, where liner moves the cursor
// with ESC[nG instead of CR and ESC[nC.
func linerRefresh(prompt, line string, pos int, cha bool) string {
	col := len([]rune(prompt)) + pos
	if cha {
		return "\x1b[1G" + prompt + line + "\x1b[0K" + fmt.Sprintf("\x1b[%dG", col+1)
	}
	s := "\r" + prompt + line + "\x1b[0K\r"
	if col > 0 {
		s += fmt.Sprintf("\x1b[%dC", col)
	}
	return s
}

// linerTyping is what liner writes for a prompt and text typed at its end: the
// prompt, then each character as it is typed.
func linerTyping(prompt, text string) string { return prompt + text }

// editorStreams are rows as liner draws them, each ending with the row on
// screen: moving, erasing and overwriting, with wide and combining
// characters, as a person editing makes it do.
var editorStreams = []struct{ name, stream string }{
	{"typing", linerTyping(testPrompt, "hello there")},
	{"cursor moved back", linerTyping(testPrompt, "hello there") + linerRefresh(testPrompt, "hello there", 5, false)},
	{"cursor moved back, xterm", linerTyping(testPrompt, "hello") + linerRefresh(testPrompt, "hello", 2, true)},
	{"deleted to the end", linerTyping(testPrompt, "hello there") + "\r\x1b[16C\x1b[0K"},
	{"backspace", linerTyping(testPrompt, "helo") + "\b\b" + "lo"},
	{"wide characters", linerTyping(testPrompt, "漢字かな") + linerRefresh(testPrompt, "漢字かな", 3, false)},
	{"wide character overwritten in half", linerTyping(testPrompt, "漢字") + "\r\x1b[12Cx"},
	{"combining accents", linerTyping(testPrompt, "cafe\u0301 ñ") + linerRefresh(testPrompt, "cafe\u0301 ñ", 2, false)},
	{"emoji", linerTyping(testPrompt, "ok 👍 🎉")},
	{"bell at the start of history", linerTyping(testPrompt, "x") + "\a"},
	{"whole row erased", linerTyping(testPrompt, "abc") + "\x1b[2K\r" + testPrompt},
	{"reverse search", linerTyping(testPrompt, "he") + linerRefresh("(reverse-i-search)`he': ", "hello there", 0, false)},
	{"long line scrolled", testPrompt + "{" + strings.Repeat("x", 60) + "}" + "\x1b[0K\r\x1b[40C"},
}

// TestOutputPrintKeepsTheRow puts a line above the prompt at every point of
// every editor stream, even inside an escape sequence or a character: the
// row must end exactly as the editor drew it, the cursor where the editor
// left it, and the line above it, whole.
func TestOutputPrintKeepsTheRow(t *testing.T) {
	for _, tc := range editorStreams {
		t.Run(tc.name, func(t *testing.T) {
			ref := newVTScreen(t)
			ref.Write([]byte(tc.stream))
			wantRow, wantX := ref.last()

			for k := 0; k <= len(tc.stream); k++ {
				scr := newVTScreen(t)
				o := newOutput(scr)
				o.Write([]byte(tc.stream[:k]))
				o.Println("12:04 <bob> hi")
				o.Write([]byte(tc.stream[k:]))
				got := scr.lines()
				y, x := scr.cursor()
				if !slices.Equal(got, []string{"12:04 <bob> hi", wantRow}) || y != 1 || x != wantX {
					t.Fatalf("printed after byte %d of %q:\n got %q, cursor at %d,%d\nwant %q, cursor at 1,%d",
						k, tc.stream, got, y, x, []string{"12:04 <bob> hi", wantRow}, wantX)
				}
			}
		})
	}
}

// TestOutputChunked feeds each stream a byte at a time and in random
// pieces, printing between pieces: what reaches the terminal is the same.
func TestOutputChunked(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range editorStreams {
		t.Run(tc.name, func(t *testing.T) {
			ref := newVTScreen(t)
			ref.Write([]byte(tc.stream))
			wantRow, wantX := ref.last()
			for round := range 50 {
				scr := newVTScreen(t)
				o := newOutput(scr)
				var want []string
				for rest := tc.stream; rest != ""; {
					n := 1
					if round > 0 {
						n = 1 + rng.IntN(8)
					}
					n = min(n, len(rest))
					o.Write([]byte(rest[:n]))
					rest = rest[n:]
					if rng.IntN(3) == 0 {
						msg := fmt.Sprintf("line %d", len(want))
						o.Println(msg)
						want = append(want, msg)
					}
				}
				want = append(want, wantRow)
				y, x := scr.cursor()
				if got := scr.lines(); !slices.Equal(got, want) || y != len(want)-1 || x != wantX {
					t.Fatalf("round %d: got %q, cursor %d,%d; want %q, cursor %d,%d", round, got, y, x, want, len(want)-1, wantX)
				}
			}
		})
	}
}

// TestOutputConcurrent has the editor draw a long session while several
// goroutines print at once, as the room's receiver and logs do, under
// -race: every line arrives whole and once, each goroutine's in order,
// and the row is as the editor left it.
func TestOutputConcurrent(t *testing.T) {
	const printers, perPrinter = 4, 150
	var stream strings.Builder
	line := ""
	for i := range 300 {
		if i%40 == 0 {
			stream.WriteString(linerRefresh(testPrompt, line, len([]rune(line))/2, false))
		}
		line += string([]rune("abcdefghij漢é ")[i%13])
		stream.WriteString(linerRefresh(testPrompt, line, len([]rune(line)), i%2 == 0))
	}
	ref := newVTScreen(t)
	ref.Write([]byte(linerTyping(testPrompt, "") + stream.String()))
	wantRow, wantX := ref.last()

	scr := newVTScreen(t)
	o := newOutput(scr)
	var wg sync.WaitGroup
	wg.Add(1 + printers)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(3, 4))
		data := []byte(linerTyping(testPrompt, "") + stream.String())
		for len(data) > 0 {
			n := min(len(data), 1+rng.IntN(40))
			o.Write(data[:n])
			data = data[n:]
		}
	}()
	for p := range printers {
		go func() {
			defer wg.Done()
			for i := range perPrinter {
				o.Println(fmt.Sprintf("printer %d line %d", p, i))
			}
		}()
	}
	wg.Wait()

	got := scr.lines()
	y, x := scr.cursor()
	if y != len(got)-1 || got[y] != wantRow || x != wantX {
		t.Fatalf("the row is %q with the cursor at %d (row %d of %d); want %q at %d", got[y], x, y, len(got), wantRow, wantX)
	}
	next := make([]int, printers)
	for _, l := range got[:y] {
		var p, i int
		if _, err := fmt.Sscanf(l, "printer %d line %d", &p, &i); err != nil || l != fmt.Sprintf("printer %d line %d", p, i) {
			t.Fatalf("garbled line %q", l)
		}
		if i != next[p] {
			t.Fatalf("printer %d: line %d came where line %d was due", p, i, next[p])
		}
		next[p]++
	}
	for p, n := range next {
		if n != perPrinter {
			t.Errorf("printer %d: %d lines shown, want %d", p, n, perPrinter)
		}
	}
}

// TestOutputNewlines covers the editor's newlines: a Tab listing goes on
// below the row; a finished row (Enter, Ctrl-C) is cleared when the prompt
// says it ended, so the room's echo of the line is what stays; a line
// printed in between goes above either way.
func TestOutputNewlines(t *testing.T) {
	listing := linerTyping(testPrompt, "/kick al") + "\n" + "alan  alice  \n" + linerRefresh(testPrompt, "/kick al", 8, false)
	tests := []struct {
		name, stream string
		want         []string // the screen, without the printed line
		wantX        int
		end          *rowEnd // what the prompt learns, if the stream ends the row
	}{
		{"tab listing", listing,
			[]string{testPrompt + "/kick al", "alan  alice", testPrompt + "/kick al"}, 19, nil},
		{"enter", linerTyping(testPrompt, "hello") + "\n" + endMarker,
			[]string{""}, 0, &rowEnd{text: testPrompt + "hello", beforeLastTwo: testPrompt + "hel"}},
		{"ctrl-c on an empty line", linerTyping(testPrompt, "") + "^C\n" + endMarker,
			[]string{""}, 0, &rowEnd{text: testPrompt + "^C", beforeLastTwo: testPrompt}},
		{"ctrl-c with the cursor at the start of a short line", linerTyping(testPrompt, "ab") + linerRefresh(testPrompt, "ab", 0, false) + "^C\n" + endMarker,
			[]string{""}, 0, &rowEnd{text: testPrompt + "^C", beforeLastTwo: testPrompt + "ab"}},
		{"ctrl-d on an empty line", linerTyping(testPrompt, "") + endMarker,
			[]string{""}, 0, &rowEnd{text: testPrompt, beforeLastTwo: "Lab 3 ana"}},
		{"listing, then enter", listing + "ice \n" + endMarker,
			[]string{testPrompt + "/kick al", "alan  alice", ""}, 0, &rowEnd{text: testPrompt + "/kick alice ", beforeLastTwo: testPrompt + "/kick alic"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k := 0; k <= len(tc.stream); k++ {
				scr := newVTScreen(t)
				o := newOutput(scr)
				o.Write([]byte(tc.stream[:k]))
				o.Println("12:04 <bob> hi")
				o.Write([]byte(tc.stream[k:]))

				got := scr.lines()
				i := slices.Index(got, "12:04 <bob> hi")
				if i < 0 {
					t.Fatalf("printed after byte %d: the line is missing from %q", k, got)
				}
				rest := slices.Delete(slices.Clone(got), i, i+1)
				y, x := scr.cursor()
				if !slices.Equal(rest, tc.want) || y != len(got)-1 || x != tc.wantX {
					t.Fatalf("printed after byte %d: got %q, cursor %d,%d; want %q and the line, cursor on the last row at %d", k, got, y, x, tc.want, tc.wantX)
				}
				if tc.end != nil {
					end, ok := o.waitEnd()
					if !ok || end != *tc.end {
						t.Fatalf("printed after byte %d: the prompt learns %+v, %v; want %+v", k, end, ok, *tc.end)
					}
				}
			}
		})
	}
}

// TestOutputEndMarkerCutUp: the marker arrives in pieces, as a pipe may
// deliver it, and is still recognized and never shown.
func TestOutputEndMarkerCutUp(t *testing.T) {
	scr := newVTScreen(t)
	o := newOutput(scr)
	o.Write([]byte(linerTyping(testPrompt, "hi") + "\n"))
	for i := range len(endMarker) {
		o.Write([]byte(endMarker[i : i+1]))
	}
	if end, ok := o.waitEnd(); !ok || end.text != testPrompt+"hi" {
		t.Errorf("waitEnd = %+v, %v", end, ok)
	}
	if got := scr.lines(); !slices.Equal(got, []string{""}) {
		t.Errorf("screen %q, want the row cleared", got)
	}
}

// TestOutputUnfinishedSequence: an escape sequence that never ends is not
// held back for ever: once longer than any of the editor's, it is shown as
// text, from its ESC on, rather than passed on to a terminal that would
// wait for its end.
func TestOutputUnfinishedSequence(t *testing.T) {
	var b strings.Builder
	o := newOutput(&b)
	o.Write([]byte("\x1b["))
	if b.Len() != 0 {
		t.Fatalf("wrote %q before the sequence ended", b.String())
	}
	o.Write([]byte(strings.Repeat("1", 256)))
	if got := b.String(); got != "^[["+strings.Repeat("1", 256) {
		t.Errorf("wrote %q, want the unfinished sequence shown as text", got)
	}
}

func TestOutputBell(t *testing.T) {
	scr := newVTScreen(t)
	o := newOutput(scr)
	o.Write([]byte(linerTyping(testPrompt, "abc")))
	o.Bell()
	if row, x := scr.last(); scr.bells != 1 || row != testPrompt+"abc" || x != 14 {
		t.Errorf("bells %d, row %q at %d", scr.bells, row, x)
	}
}

// TestOutputLogWriter: log lines are shown above the prompt once whole,
// however they are cut up, sanitized, and never longer than maxLogLine.
func TestOutputLogWriter(t *testing.T) {
	scr := newVTScreen(t)
	o := newOutput(scr)
	o.Write([]byte(linerTyping(testPrompt, "typing")))
	w := o.LogWriter()
	logs := "level=WARN msg=\"handshake failed\" addr=10.0.0.9\nlevel=WARN msg=\"name \x1b[2Jbad\"\r\n" + strings.Repeat("x", maxLogLine+10) + "\nunfinished"
	for i := 0; i < len(logs); i += 7 {
		w.Write([]byte(logs[i:min(i+7, len(logs))]))
	}
	want := []string{
		`level=WARN msg="handshake failed" addr=10.0.0.9`,
		`level=WARN msg="name ^[[2Jbad"`,
		strings.Repeat("x", maxLogLine),
		strings.Repeat("x", 10),
		testPrompt + "typing",
	}
	if got := scr.lines(); !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	o.Close()
	want = append(want[:4], "unfinished", "")
	if got := scr.lines(); !slices.Equal(got, want) {
		t.Errorf("after Close: got %q\nwant %q", got, want)
	}
}

// TestOutputClose: Close clears the row, releases a prompt waiting for its
// row to end, and leaves a terminal that later output reaches plainly.
func TestOutputClose(t *testing.T) {
	scr := newVTScreen(t)
	o := newOutput(scr)
	o.Write([]byte(linerTyping(testPrompt, "half a th")))
	o.Write([]byte("\x1b[")) // cut off: dropped, never sent alone
	done := make(chan bool)
	go func() {
		_, ok := o.waitEnd()
		done <- ok
	}()
	o.Close()
	if ok := <-done; ok {
		t.Error("waitEnd reported a row after Close")
	}
	o.Println("-- bye")
	o.Write([]byte("x"))
	if got := scr.lines(); !slices.Equal(got, []string{"-- bye", "x"}) {
		t.Errorf("got %q", got)
	}
	if err := o.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestOutputStatusReplaces: a status line is replaced by the next status,
// in place, with the prompt row kept; a line shown after it ends that, so
// the next status goes below.
func TestOutputStatusReplaces(t *testing.T) {
	for _, tc := range editorStreams {
		t.Run(tc.name, func(t *testing.T) {
			ref := newVTScreen(t)
			ref.Write([]byte(tc.stream))
			wantRow, wantX := ref.last()

			scr := newVTScreen(t)
			o := newOutput(scr)
			o.Write([]byte(tc.stream))
			o.Status("-- connection lost — retrying in 1s")
			o.Status("-- reconnecting…")
			o.Status("-- back in the room")
			o.Println("12:04 <bob> hi")
			o.Status("-- connection lost — retrying in 1s")
			o.Status("-- reconnecting…")
			want := []string{"-- back in the room", "12:04 <bob> hi", "-- reconnecting…", wantRow}
			got := scr.lines()
			y, x := scr.cursor()
			if !slices.Equal(got, want) || y != 3 || x != wantX {
				t.Fatalf("got %q, cursor at %d,%d\nwant %q, cursor at 3,%d", got, y, x, want, wantX)
			}
		})
	}
}

// countingScreen counts the writes that reach a screen.
type countingScreen struct {
	*vtScreen
	writes int
}

func (c *countingScreen) Write(p []byte) (int, error) {
	c.writes++
	return c.vtScreen.Write(p)
}

// TestOutputPrintlnRows: the rows of one long line are written in one
// write, above the prompt's row, so that no other line (a log, a notice)
// can come between a row and its continuation and seem to be continued
// by it. After Close they are plain lines.
func TestOutputPrintlnRows(t *testing.T) {
	scr := &countingScreen{vtScreen: newVTScreen(t)}
	o := newOutput(scr)
	o.Write([]byte(linerTyping(testPrompt, "hello")))
	scr.writes = 0
	rows := []string{"12:04 <bob> a long", contMark + "line", contMark + "of text"}
	o.Println(rows...)
	if scr.writes != 1 {
		t.Errorf("%d writes for one line's rows", scr.writes)
	}
	want := append(slices.Clone(rows), testPrompt+"hello")
	if got := scr.lines(); !slices.Equal(got, want) {
		t.Errorf("screen %q, want %q", got, want)
	}
	o.Close()
	o.Println("a", "b")
	if got := scr.lines(); !slices.Equal(got[len(got)-3:], []string{"a", "b", ""}) {
		t.Errorf("after Close: screen %q", got)
	}
}

// TestOutputCursorFarRight moves the cursor far past any right margin, as
// an editor's stream (or text that got into it) can ask, then writes: the
// row model stays within maxRowCols. Before the bound, "ESC[999999999C"
// and one character had it allocate a cell per column up to there, and the
// fuzzer's worker died out of memory.
func TestOutputCursorFarRight(t *testing.T) {
	for _, stream := range []string{
		testPrompt + "\x1b[10000000Cx",
		testPrompt + "\x1b[10000000Gx",
		testPrompt + strings.Repeat("\x1b[4000C", 3000) + "漢",
	} {
		var term strings.Builder
		o := newOutput(&term)
		o.Write([]byte(stream))
		o.Println("12:04 <bob> hi")
		if n := len(o.row.cells); n > maxRowCols || o.row.col > maxRowCols {
			t.Errorf("%.40q: the row model holds %d cells, its cursor at column %d; want both at most %d", stream, n, o.row.col, maxRowCols)
		}
		o.Close()
	}
}

package tui

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"chatroom/host/wire"
	"chatroom/join"
)

// TestOutputBarsKeepTheRow: at every point of every editor stream, even
// inside an escape sequence or a character, bars are set, updated and
// ended while the room's lines arrive: the lines stay in order above the
// bars, the bars stay right above the prompt row with their last text,
// the row is exactly as the editor drew it and the cursor where the
// editor left it; an ended bar leaves its last line in its place.
func TestOutputBarsKeepTheRow(t *testing.T) {
	for _, tc := range editorStreams {
		t.Run(tc.name, func(t *testing.T) {
			ref := newVTScreen(t)
			ref.Write([]byte(tc.stream))
			wantRow, wantX := ref.last()
			for k := 0; k <= len(tc.stream); k++ {
				scr := newVTScreen(t)
				o := newOutput(scr)
				o.Write([]byte(tc.stream[:k]))
				o.SetBar(1, "↓ a.iso  10%")
				o.Println("12:04 <bob> hi")
				o.SetBar(2, "↑ b.txt  hashing…")
				o.SetBar(1, "↓ a.iso  50%")
				o.Write([]byte(tc.stream[k:]))
				o.Println("12:05 <cy> a line", "      ↳ of two rows")
				o.SetBar(1, "↓ a.iso  90%")
				check := func(when string, want []string) {
					t.Helper()
					got := scr.lines()
					y, x := scr.cursor()
					if !slices.Equal(got, want) || y != len(want)-1 || x != wantX {
						t.Fatalf("split at byte %d, %s:\n got %q, cursor at %d,%d\nwant %q, cursor at %d,%d", k, when, got, y, x, want, len(want)-1, wantX)
					}
				}
				lines := []string{"12:04 <bob> hi", "12:05 <cy> a line", "      ↳ of two rows"}
				check("with two bars", append(slices.Clone(lines), "↓ a.iso  90%", "↑ b.txt  hashing…", wantRow))
				o.EndBar(1, "-- fetched a.iso")
				check("one ended", append(slices.Clone(lines), "-- fetched a.iso", "↑ b.txt  hashing…", wantRow))
				o.EndBar(2, "!! could not send b.txt: refused")
				check("both ended", append(slices.Clone(lines), "-- fetched a.iso", "!! could not send b.txt: refused", wantRow))
				o.EndBar(3, "-- a bar never shown ends as a line")
				check("a bar never shown", append(slices.Clone(lines), "-- fetched a.iso", "!! could not send b.txt: refused", "-- a bar never shown ends as a line", wantRow))
			}
		})
	}
}

// TestOutputBarsAndStatus: the client's status line goes above the bars
// and is replaced there in place; a line after it ends that, as without
// bars.
func TestOutputBarsAndStatus(t *testing.T) {
	scr := newVTScreen(t)
	o := newOutput(scr)
	o.Write([]byte(linerTyping(testPrompt, "half typed")))
	o.SetBar(1, "↓ a.iso  10%")
	o.Status("-- connection lost — retrying in 1s")
	o.SetBar(1, "↓ a.iso  waiting: the connection broke")
	o.Status("-- reconnecting…")
	o.Status("-- back in the room")
	o.Println("12:04 <bob> hi")
	o.Status("-- connection lost — retrying in 1s")
	want := []string{"-- back in the room", "12:04 <bob> hi", "-- connection lost — retrying in 1s", "↓ a.iso  waiting: the connection broke", testPrompt + "half typed"}
	y, x := scr.cursor()
	if got := scr.lines(); !slices.Equal(got, want) || y != 4 || x != len(testPrompt)+10 {
		t.Fatalf("got %q, cursor %d,%d\nwant %q", got, y, x, want)
	}
}

// TestOutputBarsConcurrent: the editor draws a long session while the
// room's lines are printed and two transfers update their bars, all from
// goroutines of their own, under -race: every line arrives whole, once and
// in order, the bars end right above the row with their last text, and the
// row is as the editor left it.
func TestOutputBarsConcurrent(t *testing.T) {
	const perPrinter, updates = 200, 300
	var stream strings.Builder
	line := ""
	for i := range 200 {
		line += string([]rune("abcdefghij漢é ")[i%13])
		stream.WriteString(linerRefresh(testPrompt, line, len([]rune(line)), i%2 == 0))
	}
	ref := newVTScreen(t)
	ref.Write([]byte(stream.String()))
	wantRow, wantX := ref.last()

	scr := newVTScreen(t)
	o := newOutput(scr)
	var wg sync.WaitGroup
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(5, 6))
		data := []byte(stream.String())
		for len(data) > 0 {
			n := min(len(data), 1+rng.IntN(40))
			o.Write(data[:n])
			data = data[n:]
		}
	})
	wg.Go(func() {
		for i := range perPrinter {
			o.Println(fmt.Sprintf("printer line %d", i))
		}
	})
	for key := 1; key <= 2; key++ {
		wg.Go(func() {
			for i := range updates {
				o.SetBar(key, fmt.Sprintf("bar %d at %d", key, i))
			}
		})
	}
	wg.Wait()
	got := scr.lines()
	y, x := scr.cursor()
	if y != len(got)-1 || got[y] != wantRow || x != wantX {
		t.Fatalf("the row is %q at %d (row %d of %d); want %q at %d", got[y], x, y, len(got), wantRow, wantX)
	}
	bars := got[y-2 : y]
	slices.Sort(bars)
	if want := []string{fmt.Sprintf("bar 1 at %d", updates-1), fmt.Sprintf("bar 2 at %d", updates-1)}; !slices.Equal(bars, want) {
		t.Errorf("the bars above the row are %q, want %q", bars, want)
	}
	for i, l := range got[:y-2] {
		if want := fmt.Sprintf("printer line %d", i); l != want {
			t.Fatalf("row %d is %q, want %q", i, l, want)
		}
	}
	if len(got) != perPrinter+3 {
		t.Errorf("%d rows, want %d", len(got), perPrinter+3)
	}
}

// TestOutputBarsFitOneRow: a bar wider than the terminal is cut to fit
// one row, so that going up over the bars lands where they start.
func TestOutputBarsFitOneRow(t *testing.T) {
	scr := newVTScreenWidth(t, 40)
	o := newOutput(scr)
	o.width = func() int { return 40 }
	o.Write([]byte(linerTyping(testPrompt, "hi")))
	o.SetBar(1, strings.Repeat("x", 100))
	o.SetBar(1, strings.Repeat("漢", 100))
	// A bar's controls (which its maker should have sanitized) show as
	// text, measured as they show: "^[" is two columns.
	o.SetBar(2, strings.Repeat("\x1b]0;x\x07", 10))
	o.Println("12:04 <bob> hi")
	if scr.wraps != 0 {
		t.Errorf("the terminal wrapped %d rows: %q", scr.wraps, scr.lines())
	}
	want := []string{"12:04 <bob> hi", strings.Repeat("漢", 19) + "…", strings.Repeat("^[]0;x^G", 4) + "^[]0;x…", testPrompt + "hi"}
	if got := scr.lines(); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestOutputBarsAfterClearAndListing: after the editor clears the screen
// (Ctrl-L), /clear, and a Tab listing that goes on below the row, the bars
// are drawn again right above the row.
func TestOutputBarsAfterClearAndListing(t *testing.T) {
	scr := newVTScreen(t)
	o := newOutput(scr)
	o.Write([]byte(linerTyping(testPrompt, "abc")))
	o.SetBar(1, "↓ a.iso  10%")
	o.Write([]byte(eraseScreen + linerRefresh(testPrompt, "abc", 3, false)))
	if got, want := scr.lines(), []string{"↓ a.iso  10%", testPrompt + "abc"}; !slices.Equal(got, want) {
		t.Fatalf("after Ctrl-L: %q, want %q", got, want)
	}
	o.Clear()
	if got, want := scr.lines(), []string{"↓ a.iso  10%", testPrompt + "abc"}; !slices.Equal(got, want) {
		t.Fatalf("after /clear: %q, want %q", got, want)
	}
	o.Write([]byte("\n" + "alan  alice  \n" + linerRefresh(testPrompt, "/kick al", 8, false)))
	o.SetBar(1, "↓ a.iso  20%")
	o.Println("12:04 <bob> hi")
	got := scr.lines()
	if want := []string{"12:04 <bob> hi", "↓ a.iso  20%", testPrompt + "/kick al"}; !slices.Equal(got[len(got)-3:], want) {
		t.Fatalf("after a listing: %q, want it to end with %q", got, want)
	}
	if y, x := scr.cursor(); y != len(got)-1 || x != len(testPrompt)+8 {
		t.Errorf("cursor at %d,%d", y, x)
	}
}

// TestOutputCloseClearsBars: Close takes the bars away with the row; no
// one would update them.
func TestOutputCloseClearsBars(t *testing.T) {
	scr := newVTScreen(t)
	o := newOutput(scr)
	o.Println("12:04 <bob> hi")
	o.Write([]byte(linerTyping(testPrompt, "abc")))
	o.SetBar(1, "↓ a.iso  10%")
	o.SetBar(2, "↓ b.iso  10%")
	o.Close()
	o.SetBar(1, "↓ a.iso  20%") // nothing after Close
	o.EndBar(2, "-- fetched b.iso")
	if got, want := scr.lines(), []string{"12:04 <bob> hi", "-- fetched b.iso", "", ""}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestFollowResizeWithBars: narrowed under bars that no longer fit one
// row, on a terminal that wraps its rows anew, the first thing written
// goes up over the rows the bars take now and erases from there down.
func TestFollowResizeWithBars(t *testing.T) {
	var term bytes.Buffer
	width := 80
	o := newOutput(&term)
	o.width = func() int { return width }
	o.reflows = true
	o.Write([]byte(testPrompt + "hello"))
	bar := strings.Repeat("b", 60)
	o.SetBar(1, bar)
	o.SetBar(2, "short")
	term.Reset()
	width = 30
	o.Println("hi")
	if want := "\r\x1b[3A\x1b[J" + "hi\r\n\x1b[K" + bar[:28] + "…\r\n\x1b[K" + "short\r\n\x1b[K"; term.String() != want {
		t.Errorf("written %q\nwant    %q", term.String(), want)
	}
}

// TestViewTransfer: the prompt shows a transfer as a bar that follows its
// states, paced, and its end as a line in the bar's place, with the
// room's lines above and the typed line kept.
func TestViewTransfer(t *testing.T) {
	v, scr := newTestView(t)
	scr.width = 80
	v.width = func() int { return 80 }
	clock := testTime
	v.gate.now = func() time.Time { return clock }
	v.out.Write([]byte(linerTyping(testPrompt, "typing")))
	file := wire.File{Number: 7, Name: "slides.pdf", Size: 1000}
	v.Transfer(join.Transfer{Key: 1, File: file, State: join.Waiting})
	v.Transfer(join.Transfer{Key: 1, File: file, State: join.Moving, Done: 100, Rate: 100})
	clock = clock.Add(time.Millisecond)
	v.Transfer(join.Transfer{Key: 1, File: file, State: join.Moving, Done: 300, Rate: 100}) // too soon: not drawn
	v.Show(wire.Frame{Type: wire.TypeEvent, Kind: wire.KindSay, Time: testTime, From: "bob", Text: "hi"}, join.Live)
	want := []string{welcomed, "10:04 <bob> hi", "↓ slides.pdf  [##------------------]  10%  100 bytes/s  9s left", testPrompt + "typing"}
	if got := plainLines(scr); !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	clock = clock.Add(transferGap)
	v.Transfer(join.Transfer{Key: 1, File: file, State: join.Moving, Done: 400, Rate: 100})
	want[2] = "↓ slides.pdf  [########------------]  40%  100 bytes/s  6s left"
	if got := plainLines(scr); !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	v.Transfer(join.Transfer{Key: 1, File: file, State: join.Finished, Done: 1000, Path: "/d/slides.pdf"})
	want[2] = "-- fetched slides.pdf (1 kB) to /d/slides.pdf, sha256 checked"
	if got := plainLines(scr); !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if y, x := scr.cursor(); y != 3 || x != len(testPrompt)+6 {
		t.Errorf("cursor at %d,%d", y, x)
	}
	if scr.wraps != 0 {
		t.Errorf("%d rows wrapped", scr.wraps)
	}
}

// TestOutputManyBars: more transfers than maxBars take maxBars rows, the
// last saying how many are not drawn; as bars end, the ones held back
// are drawn in their turn.
func TestOutputManyBars(t *testing.T) {
	scr := newVTScreen(t)
	o := newOutput(scr)
	o.Write([]byte(linerTyping(testPrompt, "abc")))
	for key := 1; key <= maxBars+2; key++ {
		o.SetBar(key, fmt.Sprintf("bar %d", key))
	}
	o.SetBar(maxBars+1, "bar 7, not drawn") // changes nothing on the screen
	want := []string{"bar 1", "bar 2", "bar 3", "bar 4", "bar 5", "+ 3 more transfers", testPrompt + "abc"}
	if got := scr.lines(); !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	o.EndBar(2, "-- done 2")
	o.EndBar(3, "-- done 3")
	want = []string{"-- done 2", "-- done 3", "bar 1", "bar 4", "bar 5", "bar 6", "bar 7, not drawn", "bar 8", testPrompt + "abc"}
	if got := scr.lines(); !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if y, x := scr.cursor(); y != len(want)-1 || x != len(testPrompt)+3 {
		t.Errorf("cursor at %d,%d", y, x)
	}
}

// BenchmarkBarUpdate is one state of a transfer at the prompt: its bar
// made and drawn again in place, above a prompt row with text on it, as
// the client tells it four times a second for each transfer.
func BenchmarkBarUpdate(b *testing.B) {
	o := newOutput(io.Discard)
	o.Write([]byte(linerTyping(testPrompt, "the quick brown fox")))
	o.SetBar(2, "↑ other.iso  [####----------------]  20%  80 MB/s  12s left")
	tr := join.Transfer{Key: 1, File: wire.File{Number: 7, Name: "slides.pdf", Size: 200_000_000}, State: join.Moving, Rate: 123_456_789}
	b.ReportAllocs()
	for i := range b.N {
		tr.Done = int64(i) % tr.File.Size
		o.SetBar(1, progressLine(tr, 120))
	}
}

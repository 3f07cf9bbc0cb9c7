package tui

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
	"chatroom/join"
)

func moving(name string, size, done int64, rate float64) join.Transfer {
	return join.Transfer{Key: 1, File: wire.File{Number: 7, Name: name, Size: size}, State: join.Moving, Done: done, Rate: rate}
}

// TestProgressLine pins the bar: its parts, the rate and the time left
// known and not, huge sizes, every state, and widths from wide to too
// narrow for anything but a cut line.
func TestProgressLine(t *testing.T) {
	const eb = int64(math.MaxInt64) // about 9.2 EB
	for _, tc := range []struct {
		name  string
		tr    join.Transfer
		width int
		want  string
	}{
		{"moving", moving("slides.pdf", 1_000_000_000, 400_000_000, 12_500_000), 0,
			"↓ slides.pdf  [########------------]  40%  12.5 MB/s  48s left"},
		{"up", func() join.Transfer { tr := moving("slides.pdf", 100, 50, 10); tr.Up = true; return tr }(), 0,
			"↑ slides.pdf  [##########----------]  50%  10 bytes/s  5s left"},
		{"rate not known yet", moving("a.iso", 100, 0, 0), 0,
			"↓ a.iso  [--------------------]  0%"},
		{"minutes left", moving("a.iso", 1_000_000_000, 0, 5_000_000), 0,
			"↓ a.iso  [--------------------]  0%  5 MB/s  3m 20s left"},
		{"hours left", moving("a.iso", 100_000_000_000, 0, 10_000_000), 0,
			"↓ a.iso  [--------------------]  0%  10 MB/s  2h 46m left"},
		{"days left", moving("a.iso", eb, 0, 1), 0,
			"↓ a.iso  [--------------------]  0%  1 byte/s  days left"},
		{"huge, nearly done", moving("a.iso", eb, eb-1, 1e9), 0,
			"↓ a.iso  [###################-]  99%  1 GB/s  1s left"},
		{"done past the size", moving("a.iso", 10, 20, 5), 0,
			"↓ a.iso  [####################]  100%  5 bytes/s"},
		{"size unknown or wrong", moving("a.iso", -5, 20, 5), 0,
			"↓ a.iso  [--------------------]  0%  5 bytes/s"},
		{"an infinite rate", moving("a.iso", 10, 5, math.Inf(1)), 0,
			"↓ a.iso  [##########----------]  50%"},
		{"hashing", join.Transfer{Up: true, File: wire.File{Size: 10}, Path: "/tmp/x/notes.txt", State: join.Hashing, Done: 3}, 0,
			"↑ notes.txt  [######--------------]  30%  hashing…"},
		{"connecting", join.Transfer{File: wire.File{Name: "a", Size: 10}, State: join.Waiting}, 0,
			"↓ a  [--------------------]  0%  connecting…"},
		{"waiting after a break", join.Transfer{File: wire.File{Name: "a", Size: 10}, State: join.Waiting, Done: 5, Err: "the connection broke"}, 0,
			"↓ a  [##########----------]  50%  waiting: the connection broke"},
		{"fits 80", moving("slides.pdf", 1_000_000_000, 400_000_000, 12_500_000), 80,
			"↓ slides.pdf  [########------------]  40%  12.5 MB/s  48s left"},
		{"long name cut", moving(strings.Repeat("long-name-", 10)+".pdf", 1000, 400, 100), 80,
			"↓ long-name-long-name-long-…  [########------------]  40%  100 bytes/s  6s left"},
		{"wide characters cut whole", moving(strings.Repeat("漢", 40), 1000, 400, 100), 70,
			"↓ " + strings.Repeat("漢", 7) + "…  [########------------]  40%  100 bytes/s  6s left"},
		{"narrow: the bar goes", moving("slides-for-friday.pdf", 1000, 400, 100), 50,
			"↓ slides-for-friday.p…  40%  100 bytes/s  6s left"},
		{"narrower: name cut, no bar", moving("slides-for-friday.pdf", 1000, 400, 100), 45,
			"↓ slides-for-fri…  40%  100 bytes/s  6s left"},
		{"too narrow for all: cut", moving("slides-for-friday.pdf", 1000, 400, 100), 30,
			"↓ slides-for-…  40%  100 byt…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := progressLine(tc.tr, tc.width)
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			if tc.width > 0 && textCols(got) > tc.width-1 {
				t.Errorf("%q takes %d columns of %d", got, textCols(got), tc.width)
			}
		})
	}
}

// TestProgressLineFitsEveryWidth: at every width, with any name, the bar
// takes at most the width less one column, so that it stays one row.
func TestProgressLineFitsEveryWidth(t *testing.T) {
	names := []string{"a", "slides.pdf", strings.Repeat("x", 300), strings.Repeat("漢", 100), "e\u0301" + strings.Repeat("👍", 50), hostile("\x1b[2J\u202e")}
	for _, name := range names {
		for w := 2; w <= 200; w++ {
			tr := moving(name, 1<<40, 1<<39, 123456789)
			tr.State = join.TransferState(w % 3) // hashing, waiting, moving
			tr.Err = "the host restarted"
			if got := progressLine(tr, w); textCols(got) > w-1 {
				t.Fatalf("width %d: %q takes %d columns", w, got, textCols(got))
			}
		}
	}
}

// TestProgressLineOfHostileNames: a file name the room sent (or a path,
// whose name did) with terminal controls in it is shown with them as text.
func TestProgressLineOfHostileNames(t *testing.T) {
	for _, p := range hostilePayloads {
		tr := moving(hostile(p), 100, 50, 10)
		tr.Err = hostile(p)
		for _, state := range []join.TransferState{join.Hashing, join.Waiting, join.Moving} {
			tr.State = state
			for _, w := range []int{0, 40, 120} {
				if r, ok := controlIn(progressLine(tr, w), false); ok {
					t.Errorf("payload %q, width %d: the bar holds %U", p, w, r)
				}
			}
		}
		for _, state := range []join.TransferState{join.Finished, join.Failed} {
			tr.State = state
			tr.Path = "/home/x/" + hostile(p)
			if text, _ := transferResult(tr); strings.ContainsFunc(text, func(r rune) bool { _, bad := controlIn(string(r), false); return bad }) {
				t.Errorf("payload %q: the result holds a control: %q", p, text)
			}
		}
	}
}

// TestTransferResult pins the lines that end a transfer.
func TestTransferResult(t *testing.T) {
	home := homeDir()
	file := wire.File{Number: 7, Name: "slides.pdf", Size: 2_300_000}
	for _, tc := range []struct {
		name       string
		tr         join.Transfer
		want       string
		wantFailed bool
	}{
		{"fetched", join.Transfer{File: file, State: join.Finished, Path: filepath.Join(home, "Downloads", "slides.pdf")},
			"fetched slides.pdf (2.3 MB) to ~/Downloads/slides.pdf, sha256 checked", false},
		{"fetched elsewhere", join.Transfer{File: file, State: join.Finished, Path: "/srv/in/slides (1).pdf"},
			"fetched slides.pdf (2.3 MB) to /srv/in/slides (1).pdf, sha256 checked", false},
		{"sent", join.Transfer{Up: true, File: file, State: join.Finished, Path: "/x/slides.pdf"},
			"sent slides.pdf (2.3 MB) to the room, sha256 checked by the host — /get 7", false},
		{"sent to one", join.Transfer{Up: true, File: wire.File{Number: 8, Name: "a.txt", Size: 3, To: "cy"}, State: join.Finished},
			"sent a.txt (3 bytes) to cy, sha256 checked by the host — /get 8", false},
		{"fetch failed", join.Transfer{File: file, State: join.Failed, Err: "the host's copy is damaged"},
			"could not fetch slides.pdf: the host's copy is damaged", true},
		{"fetch failed before the room named it", join.Transfer{File: wire.File{Number: 9}, State: join.Failed, Err: "the room's answer names no file"},
			"could not fetch file 9: the room's answer names no file", true},
		{"send failed before the room named it", join.Transfer{Up: true, Path: "/x/big.iso", State: join.Failed, Err: "big.iso is 3.1 GB, more than the 2 GB the host takes for one file"},
			"could not send big.iso: big.iso is 3.1 GB, more than the 2 GB the host takes for one file", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if home == "" && strings.Contains(tc.want, "~") {
				t.Skip("no home directory")
			}
			got, failed := transferResult(tc.tr)
			if got != tc.want || failed != tc.wantFailed {
				t.Errorf("got %q, %v; want %q, %v", got, failed, tc.want, tc.wantFailed)
			}
		})
	}
}

// TestTransferGateTenths: line mode's gate passes the first state, each
// tenth once, each change and the end.
func TestTransferGateTenths(t *testing.T) {
	var g transferGate
	var passed []string
	show := func(tr join.Transfer) {
		if g.byTenth(tr) {
			passed = append(passed, fmt.Sprintf("%d:%d", tr.State, percent(tr.Done, tr.File.Size)))
		}
	}
	tr := join.Transfer{Key: 2, File: wire.File{Size: 1000}, State: join.Waiting}
	show(tr)
	tr.State = join.Moving
	for done := int64(0); done <= 450; done += 7 {
		tr.Done = done
		show(tr)
	}
	tr.State, tr.Err = join.Waiting, "broke"
	show(tr)
	show(tr)
	tr.State, tr.Err = join.Moving, ""
	for done := int64(450); done <= 1000; done += 50 {
		tr.Done = done
		show(tr)
	}
	tr.State = join.Finished
	show(tr)
	want := []string{"1:0", "2:0", "2:10", "2:20", "2:30", "2:40", "1:44", "2:45", "2:50", "2:60", "2:70", "2:80", "2:90", "2:100", "3:100"}
	if !slices.Equal(passed, want) {
		t.Errorf("passed %q\nwant   %q", passed, want)
	}
	if len(g.seen) != 0 {
		t.Errorf("the gate still holds %d transfers after they ended", len(g.seen))
	}
}

// TestLineUITransfer: in line mode the progress goes to stderr, a line at
// the start, each tenth, each break and the end, and never to stdout,
// where the room's lines go; the result goes to stdout. Without a stderr
// only the result is shown.
func TestLineUITransfer(t *testing.T) {
	run := func(withStderr bool) (stdout, stderr string) {
		var out, errOut strings.Builder
		ui := NewLineUI(strings.NewReader(""), &out)
		if withStderr {
			ui = WithStderr(ui, &errOut)
		}
		tr := join.Transfer{Key: 1, File: wire.File{Number: 7, Name: "slides.pdf", Size: 1000}, State: join.Waiting}
		ui.Transfer(tr)
		tr.State = join.Moving
		for done := int64(0); done <= 1000; done += 100 {
			tr.Done, tr.Rate = done, 100
			ui.Transfer(tr)
			if done == 500 {
				ui.Transfer(join.Transfer{Key: 1, File: tr.File, State: join.Waiting, Done: done, Err: "the connection broke"})
			}
		}
		tr.State, tr.Path = join.Finished, "/d/slides.pdf"
		ui.Transfer(tr)
		return out.String(), errOut.String()
	}
	stdout, stderr := run(true)
	if want := "-- fetched slides.pdf (1 kB) to /d/slides.pdf, sha256 checked\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	want := []string{
		"chatroom: ↓ slides.pdf  [--------------------]  0%  connecting…",
		"chatroom: ↓ slides.pdf  [--------------------]  0%  100 bytes/s  10s left",
		"chatroom: ↓ slides.pdf  [##------------------]  10%  100 bytes/s  9s left",
		"chatroom: ↓ slides.pdf  [####----------------]  20%  100 bytes/s  8s left",
		"chatroom: ↓ slides.pdf  [######--------------]  30%  100 bytes/s  7s left",
		"chatroom: ↓ slides.pdf  [########------------]  40%  100 bytes/s  6s left",
		"chatroom: ↓ slides.pdf  [##########----------]  50%  100 bytes/s  5s left",
		"chatroom: ↓ slides.pdf  [##########----------]  50%  waiting: the connection broke",
		"chatroom: ↓ slides.pdf  [############--------]  60%  100 bytes/s  4s left",
		"chatroom: ↓ slides.pdf  [##############------]  70%  100 bytes/s  3s left",
		"chatroom: ↓ slides.pdf  [################----]  80%  100 bytes/s  2s left",
		"chatroom: ↓ slides.pdf  [##################--]  90%  100 bytes/s  1s left",
		"chatroom: ↓ slides.pdf  [####################]  100%  100 bytes/s",
		"chatroom: ↓ slides.pdf  [####################]  100%  done",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("stderr:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	stdout, stderr = run(false)
	if stderr != "" || !strings.HasPrefix(stdout, "-- fetched") || strings.Count(stdout, "\n") != 1 {
		t.Errorf("without a stderr: stdout %q, stderr %q", stdout, stderr)
	}
}

// TestLineUIRefusedTransfer: a request the room refused ends with the
// room's notice alone, on stdout; the client does not say it again.
func TestLineUIRefusedTransfer(t *testing.T) {
	var out, errOut strings.Builder
	ui := WithStderr(NewLineUI(strings.NewReader(""), &out), &errOut)
	ui.Show(wire.Frame{Type: wire.TypeNotice, Error: true, Text: "there is no file 9 on offer (/files lists them)"}, join.Live)
	ui.Transfer(join.Transfer{Key: 1, File: wire.File{Number: 9}, State: join.Failed, Refused: true,
		Err: "the room refused: there is no file 9 on offer (/files lists them)"})
	if got, want := out.String(), "!! there is no file 9 on offer (/files lists them)\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr %q, want nothing: no transfer began", errOut.String())
	}
}

// TestChatLogTransfers: the log keeps a transfer's end only.
func TestChatLogTransfers(t *testing.T) {
	var b strings.Builder
	l := newChatLog(&b, "test.log")
	l.loc = time.UTC
	l.now = func() time.Time { return testTime }
	var shown []join.Transfer
	ui := WithLog(&transferUI{shown: &shown}, l)
	tr := join.Transfer{Key: 1, File: wire.File{Name: "a.txt", Size: 3}, State: join.Moving, Done: 1}
	ui.Transfer(tr)
	tr.State, tr.Done, tr.Path = join.Finished, 3, "/d/a.txt"
	ui.Transfer(tr)
	ui.Transfer(join.Transfer{Key: 2, Up: true, Path: "/x/b.iso", State: join.Failed, Err: "the host takes no files"})
	want := "2024-03-01 10:04 -- fetched a.txt (3 bytes) to /d/a.txt, sha256 checked\n" +
		"2024-03-01 10:04 !! could not send b.iso: the host takes no files\n"
	if b.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", b.String(), want)
	}
	if len(shown) != 3 {
		t.Errorf("the UI under the log was shown %d states, want 3", len(shown))
	}
}

// transferUI is a UI that only keeps the transfers it is shown.
type transferUI struct {
	join.UI
	shown *[]join.Transfer
}

func (u *transferUI) Transfer(t join.Transfer) { *u.shown = append(*u.shown, t) }

//go:build linux || darwin || freebsd || openbsd || netbsd

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"chatroom/host"
	"chatroom/host/wire"
)

// promptFileSize is the file TestPromptFiles offers and fetches at the
// prompt: 200 MB, big enough that its bar is on the screen for a while
// even over loopback.
const promptFileSize = 200_000_000

// TestPromptFiles runs "chatroom join" at a terminal (tmux) in a busy
// room, a bot saying a line every 50 ms, and shares a file of 200 MB
// there as a person would: "/send bi" and Tab complete the path, Enter
// offers it (its bar goes up above the prompt, then the room's offer
// line and the client's "sent" line appear); then "/get N in" fetches it
// while the person types a sentence. All along, a watcher looks at the
// screen every few tens of milliseconds: every row must be one the
// session shows whole (a bot's line, the offer, a bar, a note, the
// prompt with a prefix of what was typed), the bars right above the
// prompt row; a row that is none of these, or a bar anywhere else, seen
// in three looks in a row, is a garbled screen. At the end the typed
// sentence is still on the prompt row, the fetched file matches, and
// every line the bot said is in the scrollback, whole, once and in order,
// with no bar left among them.
func TestPromptFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 200 MB twice through a terminal session")
	}
	bin := buildChatroom(t)
	tmuxOK(t)
	h, err := host.Start(host.Config{Name: "Lab 3", StateDir: t.TempDir(), Listen: "127.0.0.1:0",
		Limits: wire.Limits{Burst: 1 << 20, PerSecond: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	addr, fp := h.Addr().String(), h.Fingerprint()
	bot := startTalker(t, addr, fp, "bot")

	work := t.TempDir()
	sum := writeRandomFile(t, filepath.Join(work, "big.bin"), promptFileSize)
	if err := os.Mkdir(filepath.Join(work, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	tm := startTmux(t, fmt.Sprintf("cd %s && %s join --addr %s --fingerprint %s --user ana --state %s; echo \"[exited $?]\"; sleep 600",
		work, bin, addr, fp, t.TempDir()))
	const prompt = "Lab 3 ana> "
	tm.waitLines(`^joined "Lab 3" as ana \(2 here: ana, bot\)$`)
	tm.waitRow(prompt, -1)
	bot.talk(50 * time.Millisecond)

	const sentence = "the quick brown fox jumps over the lazy dog"
	typed := []string{"/send big.bin ", "/get 1 in", sentence} // the prompt rows allowed, and their prefixes
	rows := newRowKinds(prompt, typed)
	w := watchScreen(tm, rows)
	defer w.halt()

	// Offered with Tab completion of its path.
	tm.typeSlowly("/send bi")
	tm.keys("Tab")
	tm.waitRow(prompt+"/send big.bin ", -1)
	tm.keys("Enter")
	lines := tm.waitLines(`^\d\d:\d\d -!- ana offers big\.bin \(200 MB, sha256 ` + sum[:8] + `…\) — /get 1$`)
	if !matchesAny(lines, `^-- sent big\.bin \(200 MB\) to the room, sha256 checked by the host — /get 1$`) {
		tm.waitLines(`^-- sent big\.bin \(200 MB\) to the room, sha256 checked by the host — /get 1$`)
	}
	tm.waitRow(prompt, -1)

	// Fetched while the person types.
	tm.typeSlowly("/get 1 in")
	tm.keys("Enter")
	tm.typeSlowly(sentence)
	tm.waitLines(`^-- fetched big\.bin \(200 MB\) to in/big\.bin, sha256 checked$`)
	tm.waitRow(prompt+sentence, -1)
	tm.keys("Enter")
	tm.waitLines(`^\d\d:\d\d <ana> ` + sentence + `$`)
	tm.waitRow(prompt, -1)

	said := bot.halt()
	seen := w.halt()
	if seen.garbled != "" {
		t.Errorf("a garbled screen (row %q, in %d looks in a row):\n%s", seen.badRow, garbledLooks, seen.garbled)
	}
	if seen.bars == 0 {
		t.Errorf("no bar above the prompt in %d looks at the screen", seen.looks)
	}
	t.Logf("%d looks at the screen, %d with a bar right above the prompt row; the last of them:\n%s", seen.looks, seen.bars, seen.example)
	if got := fileSHA256(t, filepath.Join(work, "in", "big.bin")); got != sum {
		t.Errorf("the fetched file's sha256 is %s, want %s", got, sum)
	}

	// Every line the bot said, whole, once and in order; nothing that is
	// not a line of the session, and no bar left behind.
	back := tm.waitLines(`^\d\d:\d\d <bot> ` + regexp.QuoteMeta(said[len(said)-1]) + `$`)
	next := 0
	for _, l := range back {
		l = strings.TrimRight(l, " ")
		switch {
		case l == "" || rows.prompt(l):
		case rows.bar.MatchString(l):
			t.Errorf("a bar left in the scrollback: %q", l)
		case !rows.line(l):
			t.Errorf("a line that is no line of the session: %q", l)
		}
		if m := botSays.FindStringSubmatch(l); m != nil {
			if next >= len(said) || m[1] != said[next] {
				t.Fatalf("bot line %q where %q was due (of %d)", m[1], said[min(next, len(said)-1)], len(said))
			}
			next++
		}
	}
	if next != len(said) {
		t.Errorf("%d of the bot's %d lines in the scrollback", next, len(said))
	}
}

// tmuxOK skips the test where there is no tmux, before a file is written.
func tmuxOK(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed: the prompt's end-to-end tests need a real terminal (.ci/run installs tmux)")
	}
}

var botSays = regexp.MustCompile(`^\d\d:\d\d <bot> (bot says \d+)$`)

// rowKinds tells the rows of the session's screen: the lines it shows
// (line), a transfer's bar (bar), and the prompt with a prefix of one of
// the lines typed (prompt).
type rowKinds struct {
	promptText string
	typed      []string
	lines      []*regexp.Regexp
	bar        *regexp.Regexp
}

func newRowKinds(prompt string, typed []string) *rowKinds {
	return &rowKinds{
		promptText: prompt,
		typed:      typed,
		lines: []*regexp.Regexp{
			botSays,
			regexp.MustCompile(`^joined "Lab 3" as ana \(2 here: ana, bot\)$`),
			regexp.MustCompile(`^\d\d:\d\d -!- ana offers big\.bin \(200 MB, sha256 [0-9a-f]{8}…\) — /get 1$`),
			regexp.MustCompile(`^\d\d:\d\d <ana> the quick brown fox jumps over the lazy dog$`),
			regexp.MustCompile(`^-- sent big\.bin \(200 MB\) to the room, sha256 checked by the host — /get 1$`),
			regexp.MustCompile(`^-- fetched big\.bin \(200 MB\) to in/big\.bin, sha256 checked$`),
			// The client's and the room's words on the way, which are
			// theirs to change: only that they are whole lines is checked.
			regexp.MustCompile(`^-- .*\bbig\.bin\b.*[^ ]$`),
			regexp.MustCompile(`^chatroom: first visit to room [0-9a-f]+: .*checked from now on$`),
		},
		bar: regexp.MustCompile(`^[↑↓] big\.bin  (\[[#-]{20}\]  )?\d{1,3}%(  .*)?$`),
	}
}

func (k *rowKinds) line(row string) bool {
	for _, re := range k.lines {
		if re.MatchString(row) {
			return true
		}
	}
	return false
}

// wrappedTail reports whether row, the screen's top one, can be the end
// of the session's one line that wraps (the first visit's, with the
// room's id), whose start has scrolled off the screen; capture-pane joins
// a wrapped line's rows only when all of them are on it.
func (k *rowKinds) wrappedTail(row string) bool {
	return strings.HasSuffix(row, "checked from now on")
}

func (k *rowKinds) prompt(row string) bool {
	rest, ok := strings.CutPrefix(row, k.promptText[:len(k.promptText)-1]) // the row is trimmed: "Lab 3 ana>"
	if !ok {
		return false
	}
	rest = strings.TrimPrefix(rest, " ")
	for _, s := range k.typed {
		if strings.HasPrefix(s, rest) || strings.HasPrefix(strings.TrimRight(s, " "), rest) {
			return true
		}
	}
	return false
}

// garbledLooks is how many looks in a row must see a row that is none of
// the session's for the screen to count as garbled: one look may catch
// the terminal between two parts of one write.
const garbledLooks = 3

// screenWatch looks at a tmux pane's screen over and over until halted.
type screenWatch struct {
	tm    *tmuxTerm
	kinds *rowKinds
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once

	mu   sync.Mutex
	seen watchSeen
}

type watchSeen struct {
	looks, bars int
	garbled     string // the first screen garbled for garbledLooks looks
	badRow      string
	example     string // a screen with a bar on it, the last seen, for the log
}

func watchScreen(tm *tmuxTerm, kinds *rowKinds) *screenWatch {
	w := &screenWatch{tm: tm, kinds: kinds, stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *screenWatch) run() {
	defer close(w.done)
	run := 0
	deadline := time.Now().Add(10 * time.Minute) // bounded, whatever happens to the test
	for time.Now().Before(deadline) {
		select {
		case <-w.stop:
			return
		default:
		}
		out, err := w.tm.cmd("capture-pane", "-p", "-J").Output() // a line wrapped before the prompt began, joined
		if err != nil {
			return
		}
		screen := strings.TrimRight(string(out), "\n")
		rows := strings.Split(screen, "\n")
		bad, bar := "", false
		for i, row := range rows {
			row = strings.TrimRight(row, " ")
			switch {
			case row == "" || w.kinds.line(row) || w.kinds.prompt(row):
			case i == 0 && w.kinds.wrappedTail(row):
			case w.kinds.bar.MatchString(row):
				// A bar: the rows below it up to the prompt are bars too.
				j := i + 1
				for j < len(rows) && w.kinds.bar.MatchString(strings.TrimRight(rows[j], " ")) {
					j++
				}
				if j < len(rows) && w.kinds.prompt(strings.TrimRight(rows[j], " ")) {
					bar = true
				} else if bad == "" {
					bad = row // a bar anywhere but right above the prompt was left behind
				}
			default:
				if bad == "" {
					bad = row
				}
			}
		}
		w.mu.Lock()
		w.seen.looks++
		if bar {
			w.seen.bars++
			w.seen.example = screen
		}
		if bad != "" {
			run++
			if run >= garbledLooks && w.seen.garbled == "" {
				w.seen.garbled, w.seen.badRow = screen, bad
			}
		} else {
			run = 0
		}
		w.mu.Unlock()
		time.Sleep(15 * time.Millisecond)
	}
}

// halt stops the watcher and returns what it saw.
func (w *screenWatch) halt() watchSeen {
	w.once.Do(func() { close(w.stop) })
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen
}

func matchesAny(lines []string, pattern string) bool {
	re := regexp.MustCompile(pattern)
	for _, l := range lines {
		if re.MatchString(l) {
			return true
		}
	}
	return false
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

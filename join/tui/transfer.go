package tui

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"chatroom/host/wire"
	"chatroom/join"
)

// The file transfers' states, as each UI shows them. The client tells a
// UI every state of a transfer (join.Transfer) from the goroutine that
// moves its bytes; each UI shows them its own way:
//
//   - at the prompt, one bar per running transfer, kept right above the
//     prompt row and replaced in place (output.SetBar), and at its end one
//     line in its place: "-- fetched slides.pdf (2.3 MB) to
//     ~/Downloads/slides.pdf, sha256 checked" or "!! could not fetch …";
//   - in line mode, the bar as a line on stderr (WithStderr) at the start,
//     at each tenth, at each change of state and at the end, never on
//     stdout, where the room's lines go; the last line, the result, on
//     stdout, as the client's own notes are;
//   - in JSON mode, a "transfer" line at each change of state and, while
//     it moves, at most about four a second;
//   - in the chat log, the last line only.
//
// Everything in a transfer that came from the room (the file's name, who
// offered it) is shown through Sanitize, as the room's lines are; so is
// the local path, whose name came from the room too.

// progressLine is a transfer's bar as a person reads it, cut to fit width
// columns (0: as long as it is):
//
//	↓ slides.pdf  [########------------]  40%  12.5 MB/s  8s left
//
// ↑ for the person's own file on its way, ↓ for a fetch; while it is
// hashed "hashing…", and between tries "waiting: " and why. Where it does
// not fit, the name is cut first (with "…"), then the bar goes, then the
// end of the line.
func progressLine(t join.Transfer, width int) string {
	arrow := "↓ "
	if t.Up {
		arrow = "↑ "
	}
	name := transferName(t)
	pct := fmt.Sprintf("%d%%", percent(t.Done, t.File.Size))
	bar := "  [" + barCells(t.Done, t.File.Size, barWidth) + "]  " + pct
	tail := ""
	switch t.State {
	case join.Hashing:
		tail = "hashing…"
	case join.Waiting:
		tail = "connecting…"
		if t.Err != "" {
			tail = "waiting: " + join.Sanitize(t.Err)
		}
	case join.Moving:
		var parts []string
		if rate := knownRate(t.Rate); rate > 0 {
			parts = append(parts, wire.FormatSize(int64(rate))+"/s")
			if left := t.File.Size - t.Done; left > 0 && t.File.Size > 0 {
				parts = append(parts, timeLeft(float64(left)/rate)+" left")
			}
		}
		tail = strings.Join(parts, "  ")
	case join.Finished:
		tail = "done"
	case join.Failed:
		tail = "failed"
	}
	if tail != "" {
		tail = "  " + tail
	}
	if width <= 0 {
		return arrow + name + bar + tail
	}
	limit := width - 1 // the last column is left empty, as style's rows leave it
	fixed := textCols(arrow) + textCols(tail)
	if room := limit - fixed - textCols(bar); room >= minBarName || room >= textCols(name) {
		return arrow + cutToCols(name, room) + bar + tail
	}
	bar = "  " + pct // no room for the bar: the percentage alone
	if room := limit - fixed - textCols(bar); room >= minBarName || room >= textCols(name) {
		return arrow + cutToCols(name, room) + bar + tail
	}
	return cutToCols(arrow+cutToCols(name, minBarName)+bar+tail, limit)
}

// knownRate is a rate fit to show: 0 (unknown) for one that is not a
// finite number of bytes a second at most the largest int64.
func knownRate(r float64) float64 {
	if !(r > 0) || r >= math.MaxInt64 {
		return 0
	}
	return r
}

// barWidth is the cells of a bar; minBarName the columns a name is cut
// to at the least before the bar goes.
const (
	barWidth   = 20
	minBarName = 12
)

// percent is done of size in whole per cent, 0 to 100 whatever the
// numbers (a size of 0, more done than the size), without overflow for
// sizes near the largest int64.
func percent(done, size int64) int {
	if size <= 0 || done <= 0 {
		return 0
	}
	if done >= size {
		return 100
	}
	// Never 100 before the end: float64 rounds a byte short of a huge
	// size up to the whole.
	return min(99, int(float64(done)/float64(size)*100))
}

// barCells is a bar of cells cells, as full as done is of size.
func barCells(done, size int64, cells int) string {
	full := 0
	switch {
	case size <= 0 || done <= 0:
	case done >= size:
		full = cells
	default:
		full = min(cells-1, int(float64(done)/float64(size)*float64(cells)))
	}
	return strings.Repeat("#", full) + strings.Repeat("-", cells-full)
}

// timeLeft says seconds as a person reads a time left: "8s", "3m 20s",
// "2h 5m", and beyond four days "days".
func timeLeft(seconds float64) string {
	switch {
	case seconds != seconds || seconds < 0: // NaN, a rate gone wrong
		return "?"
	case seconds < 1:
		return "1s"
	case seconds < 60:
		return strconv.Itoa(int(seconds+0.5)) + "s"
	case seconds < 3600:
		s := int(seconds)
		return fmt.Sprintf("%dm %ds", s/60, s%60)
	case seconds < 96*3600:
		s := int(seconds)
		return fmt.Sprintf("%dh %dm", s/3600, s/60%60)
	}
	return "days"
}

// transferName is the name a transfer is shown by: the file's as the room
// gave it, or its local file's before the room has one.
func transferName(t join.Transfer) string {
	name := t.File.Name
	if name == "" && t.Path != "" {
		name = filepath.Base(t.Path)
	}
	if name == "" && t.File.Number > 0 {
		// A "/get N" that ended before the room named the file.
		return "file " + strconv.Itoa(t.File.Number)
	}
	return fileName(name)
}

// transferResult is the line that says how a transfer ended, and whether
// it failed:
//
//	fetched slides.pdf (2.3 MB) to ~/Downloads/slides.pdf, sha256 checked
//	sent slides.pdf (2.3 MB) to the room, sha256 checked by the host — /get 7
//	could not fetch slides.pdf: the host's copy is damaged
func transferResult(t join.Transfer) (string, bool) {
	name := transferName(t)
	size := wire.FormatSize(max(t.File.Size, 0))
	if t.State == join.Failed {
		verb := "fetch"
		if t.Up {
			verb = "send"
		}
		why := join.Sanitize(t.Err)
		if why == "" {
			why = "it stopped"
		}
		return "could not " + verb + " " + name + ": " + why, true
	}
	if t.Up {
		to := "the room"
		if t.File.To != "" {
			to = join.Sanitize(t.File.To)
		}
		line := "sent " + name + " (" + size + ") to " + to + ", sha256 checked by the host"
		if t.File.Number > 0 {
			line += " — /get " + strconv.Itoa(t.File.Number)
		}
		return line, false
	}
	return "fetched " + name + " (" + size + ") to " + showPath(t.Path) + ", sha256 checked", false
}

// homeDir is the person's home directory, "" where there is none.
var homeDir = sync.OnceValue(func() string {
	h, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Clean(h)
})

// showPath is a local path as the person reads it: their home as "~",
// sanitized (the file's name in it came from the room).
func showPath(p string) string {
	if h := homeDir(); h != "" && h != string(filepath.Separator) {
		if rest, ok := strings.CutPrefix(p, h+string(filepath.Separator)); ok {
			p = "~" + string(filepath.Separator) + rest
		}
	}
	return join.Sanitize(p)
}

// textCols is how many columns s takes on a terminal, measured as style
// measures its rows (runeCols), at its widest.
func textCols(s string) int {
	n := 0
	for _, r := range s {
		n += runeCols(r)
	}
	return n
}

// cutToCols cuts s to cols columns at most, with "…" at its end when
// something was cut.
func cutToCols(s string, cols int) string {
	if textCols(s) <= cols {
		return s
	}
	if cols <= 0 {
		return ""
	}
	n := 0
	for i, r := range s {
		if n+runeCols(r) > cols-1 {
			return s[:i] + "…"
		}
		n += runeCols(r)
	}
	return s
}

// transferGate picks the states of transfers a UI shows: the first of
// each, every change of state (a new reason to wait among them), the
// end, and between them, while bytes move, one every transferGap at most
// (byTime) or one at each tenth of the file (byTenth). The client calls
// a UI a few times a second anyway; the gate keeps a UI to its own pace
// whatever the client does. Its zero value is ready.
type transferGate struct {
	mu   sync.Mutex
	now  func() time.Time // nil: time.Now
	seen map[int]gateSeen
}

type gateSeen struct {
	state join.TransferState
	err   string
	at    time.Time
	tenth int
}

// transferGap is the least time between two states shown of one
// transfer, where nothing but its count changed: at most five a second.
const transferGap = 200 * time.Millisecond

// maxGateKeys bounds the transfers a gate remembers: each is forgotten
// when it ends, so only a client that never ends them could reach it.
const maxGateKeys = 1024

func (g *transferGate) byTime(t join.Transfer) bool {
	return g.pass(t, func(last gateSeen, now time.Time) bool { return now.Sub(last.at) >= transferGap })
}

func (g *transferGate) byTenth(t join.Transfer) bool {
	return g.pass(t, func(last gateSeen, _ time.Time) bool { return percent(t.Done, t.File.Size)/10 > last.tenth })
}

func (g *transferGate) pass(t join.Transfer, due func(last gateSeen, now time.Time) bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t.State == join.Finished || t.State == join.Failed {
		delete(g.seen, t.Key)
		return true
	}
	now := time.Now()
	if g.now != nil {
		now = g.now()
	}
	last, ok := g.seen[t.Key]
	if ok && last.state == t.State && last.err == t.Err && !due(last, now) {
		return false
	}
	if g.seen == nil {
		g.seen = make(map[int]gateSeen)
	}
	if !ok && len(g.seen) >= maxGateKeys {
		for k := range g.seen {
			delete(g.seen, k)
			break
		}
	}
	g.seen[t.Key] = gateSeen{state: t.State, err: t.Err, at: now, tenth: percent(t.Done, t.File.Size) / 10}
	return true
}

// Transfer shows a transfer as a bar above the prompt, and its end as a
// line in the bar's place (logged, when there is a log).
func (v *roomView) Transfer(t join.Transfer) {
	if t.State == join.Failed && t.Refused {
		// The room's refusal is on the screen already, as a notice.
		v.gate.pass(t, nil)
		v.out.EndBar(t.Key)
		return
	}
	if t.State == join.Finished || t.State == join.Failed {
		v.gate.pass(t, nil)
		text, failed := transferResult(t)
		lines, _ := v.rowStyle().Lines(wire.Frame{Type: wire.TypeNotice, Text: text, Error: failed}, "", v.loc)
		v.out.EndBar(t.Key, lines...)
		v.logged(v.log.transfer(t))
		return
	}
	if !v.gate.byTime(t) {
		return
	}
	width := 0
	if v.width != nil {
		width = v.width()
	}
	v.out.SetBar(t.Key, progressLine(t, width))
}

// Transfer shows a transfer in line mode: its bar as a line on stderr at
// its start, each tenth, each change and its end, when there is a stderr
// (WithStderr; without one, none), and the result on stdout, as a note.
func (u *lineUI) Transfer(t join.Transfer) {
	if u.errOut != nil && u.gate.byTenth(t) && !(t.State == join.Failed && t.Refused) {
		u.printTo(u.errOut, "chatroom: "+progressLine(t, 0))
	}
	if t.State == join.Finished || t.State == join.Failed && !t.Refused {
		text, failed := transferResult(t)
		if failed {
			u.print("!! " + text)
		} else {
			u.print("-- " + text)
		}
	}
}

// Transfer writes a "transfer" line (jsonTransfer) at each change of
// state and, while the bytes move, about four a second at most.
func (u *jsonUI) Transfer(t join.Transfer) {
	if !u.gate.byTime(t) {
		return
	}
	u.writeLine(jsonFromTransfer(t))
}

// transfer logs a transfer's end, as line mode shows it on stdout; the
// states before it are not kept.
func (l *ChatLog) transfer(t join.Transfer) (warning string) {
	if l == nil || t.State != join.Finished && t.State != join.Failed {
		return ""
	}
	text, failed := transferResult(t)
	prefix := "-- "
	if failed {
		prefix = "!! "
	}
	return l.write(l.stamped(time.Time{}, prefix+text))
}

func (u *loggedUI) Transfer(t join.Transfer) {
	u.UI.Transfer(t)
	u.warn(u.log.transfer(t))
}

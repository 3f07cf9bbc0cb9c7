package tui

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"

	"chatroom/join"
)

// output is the one way to a terminal while a line editor owns its last
// row, the prompt. Everything that prints goes through it: the editor's own
// drawing (Write), the room's lines (Println), the bell, and logs
// (LogWriter). It keeps a model of the prompt row — the text on it and the
// cursor's column — built from what the editor writes, so that a line from
// the room can be put above the prompt at any moment: clear the row, write
// the line, draw the row again and put the cursor back where it was. The
// editor is never told; it goes on drawing on a row that looks, and is,
// exactly as it left it. That is why a Tab listing, a Ctrl-R search or
// history browsing survive a message arriving in the middle of them.
//
// The editor's stream may be cut anywhere (a pipe gives no message
// boundaries): an escape sequence or a UTF-8 character cut in two is held
// back until its end arrives, so nothing is ever printed inside one.
//
// output is also the last guard of the terminal: nothing reaches it but
// text and the controls output knows (editorControls from the editor,
// "ESC [ n ; … m" in Println's lines, its own moves and erasures). The
// editor draws text that came from elsewhere, and is not to be trusted
// with it: completion candidates come from the room, the history from a
// file. So any other control in the editor's stream or in a line (an OSC
// that sets the title, a C1 control, a bidi override) is shown as Sanitize
// shows it, whatever code forgot to sanitize it first.
//
// A newline from the editor is held back too, until the editor writes more
// (a Tab listing goes on below) or says that its prompt has ended (the
// private sequence endMarker, written by the prompt after the editor
// returns): then the finished row is cleared instead, and the line as the
// room echoes it is what stays on the screen.
//
// The methods may be called from any goroutine; each writes to the
// terminal in one call, under one lock, so writes never interleave.
type output struct {
	mu   sync.Mutex
	term io.Writer

	row     promptRow
	partial []byte // the start of an escape sequence or character cut off at the end of a Write
	held    bool   // a newline from the editor, not yet written
	closed  bool
	// status: the line right above the block of bars (right above the
	// row when there are none) is a status line (Status).
	status bool

	// bars are the keyed status lines that stay right above the prompt
	// row, one per file transfer, each replaced in place as it changes
	// (SetBar) until it ends (EndBar); barsDrawn is how many rows of them
	// are on the screen right above the row now, 0 when they have to be
	// drawn anew (the editor went on below its row, the screen was
	// cleared).
	bars      []bar
	barsDrawn int

	// undo holds the row's text before each of the last two characters
	// the editor wrote: liner answers Ctrl-C by writing "^C" at the
	// cursor, so undo[0] is what the row showed when Ctrl-C was pressed.
	undo [2]string

	ends chan rowEnd   // one per endMarker read; the prompt waits for it
	done chan struct{} // closed by Close

	logBuf []byte // a log line not yet ended
	out    []byte // what one call writes to the terminal

	// width tells the terminal's width in columns now (0 when it cannot
	// be told; nil: never told), and reflows that the terminal wraps its
	// rows anew when it is resized; drawnWidth is the width last seen.
	// See followResize.
	width      func() int
	reflows    bool
	drawnWidth int
}

// bar is one of the status lines kept above the prompt row.
type bar struct {
	key  int
	text string
}

// maxBars bounds the rows of bars drawn: each is a row the room's lines
// do not get, and going up over them must stay on the screen. When there
// are more bars, the last row says how many are not drawn ("+ 3 more
// transfers"); they are drawn when bars before them end.
const maxBars = 6

// endMarker, in the editor's stream, says that the editor has returned and
// its row is finished. It is an APC string, which the editor never writes
// and a terminal would ignore anyway; output does not pass it on.
const endMarker = "\x1b_chatroom:end\x1b\\"

// rowEnd is the prompt row as the editor left it, when endMarker arrives.
type rowEnd struct {
	text          string // the row's text
	beforeLastTwo string // the row before the editor's last two characters (see output.undo)
}

// editorControls are the final bytes of the control sequences the editor
// draws its row with, "ESC [ n ; … X": moving the cursor up, down, right,
// left and to a column, erasing the line. Besides them it clears the
// screen (Ctrl-L) with eraseScreen, passed only as that whole. Every other
// sequence in its stream is shown as text: a cursor sent to any other row
// could write over lines shown there.
const editorControls = "ABCDGK"

// eraseScreen is how the editor clears the screen: home, then erase.
const eraseScreen = "\x1b[H\x1b[2J"

// maxParams bounds the parameters of a control sequence passed on: the
// editor's and style's are a few bytes. A longer one is shown as text, so
// that nothing is held back for long.
const maxParams = 32

// maxLogLine bounds a log line held back for want of its newline.
const maxLogLine = 4096

// newOutput returns an output writing to term, the terminal, whose prompt
// row starts empty with the cursor at the start of a line.
func newOutput(term io.Writer) *output {
	return &output{term: term, ends: make(chan rowEnd, 1), done: make(chan struct{})}
}

// Write takes the line editor's output: text, and the control sequences
// it uses to draw its row. It always accepts all of p.
func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.out = o.out[:0]
	o.followResize()
	data := p
	if len(o.partial) > 0 {
		data = append(o.partial, p...)
		o.partial = nil
	}
	for len(data) > 0 {
		n := o.token(data)
		if n == 0 { // cut off: wait for the rest, a few bytes at most
			o.partial = append([]byte(nil), data...)
			break
		}
		data = data[n:]
	}
	o.flush()
	return len(p), nil
}

// token handles the editor's token at the start of data and returns its
// length, or 0 when data ends inside it.
func (o *output) token(data []byte) int {
	b := data[0]
	if b == 0x1b {
		return o.escape(data)
	}
	if b < 0x20 || b == 0x7f {
		switch b {
		case '\n':
			if o.closed {
				o.out = append(o.out, b) // the terminal is the editor's no more
				return 1
			}
			o.flushHeld()
			o.held = true
			return 1
		case '\r':
			o.row.col = 0
		case '\b':
			o.row.col = max(0, o.row.col-1)
		case '\a':
		default:
			// No control of the editor's: it came with the text it
			// draws.
			o.show(join.Sanitize(string(b)))
			return 1
		}
		o.flushHeld()
		o.out = append(o.out, b)
		return 1
	}
	if !utf8.FullRune(data) {
		return 0
	}
	r, n := utf8.DecodeRune(data)
	if r == utf8.RuneError || join.NeedsPlaceholder(r) {
		r = utf8.RuneError // never a C1 control, which some terminals obey, nor a bidi control
	}
	o.show(string(r))
	return n
}

// show writes text that holds no control, as the editor's, at the cursor.
func (o *output) show(text string) {
	o.flushHeld()
	for _, r := range text {
		o.undo[0], o.undo[1] = o.undo[1], o.undoText()
		o.row.put(r)
		o.out = utf8.AppendRune(o.out, r)
	}
}

// maxUndoRow bounds the row whose text undo keeps: copying it for each
// character would make a long row (a paste, a room's long name) cost the
// square of its length. A longer row is never a prompt alone, which is all
// that undo is compared with, so noRow stands for it.
const maxUndoRow = 256

// noRow is undo's text for a row too long to keep: no row reads so.
const noRow = "\x00"

func (o *output) undoText() string {
	if len(o.row.cells) > maxUndoRow {
		return noRow
	}
	return o.row.text()
}

// escape handles an escape sequence at the start of data: one of the
// editor's controls, or endMarker. Any other is shown as text, from its
// ESC ("^[") on, so that it does nothing.
func (o *output) escape(data []byte) int {
	if len(data) < 2 {
		return 0
	}
	switch data[1] {
	case '[': // CSI: parameters, a final byte
		if bytes.HasPrefix(data, []byte(eraseScreen)) {
			o.flushHeld()
			o.csi(nil, 'H')
			o.csi([]byte("2"), 'J')
			o.out = append(o.out, eraseScreen...)
			// The editor draws its row again where the cursor is, from
			// its first column: the bars go first, at the top.
			o.status = false
			o.barsDrawn = 0
			o.drawBars()
			return len(eraseScreen)
		}
		if bytes.HasPrefix([]byte(eraseScreen), data) {
			return 0 // cut off
		}
		for i := 2; i < len(data) && i <= 2+maxParams; i++ {
			c := data[i]
			if c >= '0' && c <= '9' || c == ';' {
				continue
			}
			if strings.IndexByte(editorControls, c) < 0 {
				break
			}
			o.flushHeld()
			o.csi(data[2:i], c)
			o.out = append(o.out, data[:i+1]...)
			return i + 1
		}
		if len(data) <= 2+maxParams && isParams(data[2:]) {
			return 0 // cut off
		}
	case '_':
		if bytes.HasPrefix(data, []byte(endMarker)) {
			if !o.closed {
				o.endRow()
			}
			return len(endMarker)
		}
		if bytes.HasPrefix([]byte(endMarker), data) {
			return 0 // cut off
		}
	}
	o.show("^[")
	return 1
}

// isParams reports whether b is all parameter bytes of the editor's
// control sequences.
func isParams(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && c != ';' {
			return false
		}
	}
	return true
}

// csi applies a control sequence's effect on the row: the ones a line
// editor uses to move along its row and erase it. Others (colours, modes)
// do not change the row's text or the cursor's column.
func (o *output) csi(params []byte, final byte) {
	if len(params) > 0 && (params[0] < '0' || params[0] > ';') {
		return // private ("?25l") or unknown
	}
	arg := func(i, def int) int {
		fields := bytes.Split(params, []byte(";"))
		if i >= len(fields) {
			return def
		}
		n, err := strconv.Atoi(string(fields[i]))
		if err != nil || n == 0 {
			return def
		}
		return n
	}
	r := &o.row
	switch final {
	case 'C':
		r.col = min(r.col+arg(0, 1), maxRowCols)
	case 'D':
		r.col = max(0, r.col-arg(0, 1))
	case 'G':
		r.col = min(arg(0, 1)-1, maxRowCols)
	case 'H', 'f':
		// To another row; a line editor does this only to clear the
		// screen ("ESC[H ESC[2J"), after which its row is empty.
		r.col = arg(1, 1) - 1
	case 'K':
		switch arg(0, 0) {
		case 0:
			r.eraseRight()
		case 1:
			r.eraseLeft()
		case 2:
			r.cells = nil
		}
	case 'J':
		switch arg(0, 0) {
		case 0:
			r.eraseRight()
		case 1:
			r.eraseLeft()
		default:
			r.cells = nil
		}
	}
}

// flushHeld writes a held newline, ending the row: the editor has gone on
// below it.
func (o *output) flushHeld() {
	if !o.held {
		return
	}
	o.held = false
	o.status = false
	o.barsDrawn = 0 // above the finished row, no longer right above the next: drawn again below
	o.out = append(o.out, "\r\n"...)
	o.row = promptRow{}
	o.undo = [2]string{}
}

// followResize clears what is left of the prompt's row after the
// terminal was narrowed. Most terminals wrap their rows anew at the new
// width: a row wider than that becomes several, and the cursor goes with
// its cell, rows below the first when it was past the new width. The
// editor, told of the resize, draws its row again on the cursor's row
// only, so the rows above would keep a copy of the prompt for good, and
// those below a piece of the line. So, before anything else is written
// after the resize, the cursor goes to the first of those rows and
// everything from there down is erased, and the row is empty until the
// editor draws it again (which it does on a resize). A terminal that cuts
// its rows instead (xterm) needs none of it, and must not have it: the
// rows above are the room's lines there; reflows says which it is.
func (o *output) followResize() {
	if o.width == nil || o.closed {
		return
	}
	w := o.width()
	if w <= 0 {
		return
	}
	old := o.drawnWidth
	o.drawnWidth = w
	if old == 0 || w >= old || !o.reflows || !o.rowDrawn() && o.barsDrawn == 0 {
		return
	}
	// The bars, drawn to fit the old width, may take several rows each
	// now.
	barRows, barsWrap := 0, false
	for _, text := range o.barRows() {
		n := max(1, (textCols(text)+w-1)/w)
		barRows += n
		barsWrap = barsWrap || n > 1
	}
	if len(o.row.cells) <= w && o.row.col < w && !barsWrap {
		return // the row and the bars still fit on one row each
	}
	o.out = append(o.out, '\r')
	up := barRows
	if o.rowDrawn() {
		up += o.row.col / w
	}
	if up > 0 {
		o.out = fmt.Appendf(o.out, "\x1b[%dA", up)
	}
	o.out = append(o.out, "\x1b[J"...)
	o.held = false
	o.status = false
	o.barsDrawn = 0 // erased: drawn again by the next line or bar
	o.row = promptRow{}
	o.undo = [2]string{}
}

// reflowsOnResize reports whether the terminal that getenv describes is
// one known to wrap its rows anew when it is resized: tmux, and terminals
// that say who they are in the environment (VTE's, such as GNOME
// Terminal; Konsole; kitty; alacritty; foot; WezTerm, iTerm2, Apple's
// Terminal and VS Code's; Windows Terminal; ghostty). Any other is taken
// to cut its rows, as xterm does: followResize then does nothing, and a
// narrowed terminal may keep a copy of the prompt, which is better than
// erasing the room's lines on one that cuts.
func reflowsOnResize(getenv func(string) string) bool {
	for _, v := range []string{"TMUX", "VTE_VERSION", "KONSOLE_VERSION", "KITTY_WINDOW_ID", "ALACRITTY_WINDOW_ID", "WT_SESSION"} {
		if getenv(v) != "" {
			return true
		}
	}
	switch getenv("TERM_PROGRAM") {
	case "iTerm.app", "Apple_Terminal", "WezTerm", "vscode", "ghostty":
		return true
	}
	term := getenv("TERM")
	for _, prefix := range []string{"tmux", "xterm-kitty", "alacritty", "foot", "wezterm", "xterm-ghostty"} {
		if strings.HasPrefix(term, prefix) {
			return true
		}
	}
	return false
}

// endRow handles endMarker: the editor is done with its row, which is
// cleared; the prompt learns what it held.
func (o *output) endRow() {
	end := rowEnd{text: o.row.text(), beforeLastTwo: o.undo[0]}
	if o.rowDrawn() {
		o.out = append(o.out, "\r\x1b[K"...)
	}
	o.held = false
	o.row = promptRow{}
	o.undo = [2]string{}
	select {
	case o.ends <- end:
	default: // no one waits for it; a prompt waits for each of its own
	}
}

// waitEnd waits for the endMarker the caller wrote into the editor's
// stream to be read, and returns the row it ended; false once the output
// is closed.
func (o *output) waitEnd() (rowEnd, bool) {
	select {
	case end := <-o.ends:
		return end, true
	case <-o.done:
		return rowEnd{}, false
	}
}

// Println shows lines above the prompt row, one after the other in one
// write, so that nothing else is shown among them: the rows of one long
// line stay together. Each is shown as it is, with its SGR sequences
// (style's colours); any other control in it is shown as Sanitize shows
// it (see output), though text from the network must have been through
// Sanitize already (style's lines have).
func (o *output) Println(lines ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.out = o.out[:0]
	o.followResize()
	o.println(lines...)
	o.flush()
}

func (o *output) println(lines ...string) {
	o.status = false
	if o.closed {
		for _, line := range lines {
			o.out = appendShown(o.out, line)
			o.out = append(o.out, "\r\n"...)
		}
		return
	}
	o.clearUp(o.barsDrawn)
	o.printlnNoClear(lines...)
}

// clearUp clears the prompt row and goes up rows rows above it, clearing
// the one it lands on, where the caller draws again from: its lines, then
// everything below them (printlnNoClear), each row cleared before it is
// written.
func (o *output) clearUp(rows int) {
	if o.rowDrawn() || rows > 0 {
		o.out = append(o.out, "\r\x1b[K"...)
	}
	if rows > 0 {
		o.out = fmt.Appendf(o.out, "\x1b[%dA\r\x1b[K", rows)
	}
}

// Status shows line above the prompt row (and the bars) as Println does,
// but in place of the previous status line when nothing was shown after
// it: one line that changes ("retrying in 2s", "reconnecting…") rather
// than one per change. line must fit on one row of the terminal.
func (o *output) Status(line string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.out = o.out[:0]
	o.followResize()
	if o.status && !o.closed {
		// Up to the status line, over the bars, clear it; the new one
		// goes there, the bars and the row below it again.
		o.clearUp(o.barsDrawn + 1)
		o.printlnNoClear(line)
	} else {
		o.println(line)
	}
	o.status = true
	o.flush()
}

// SetBar shows text as the bar of key: a status line that stays right
// above the prompt row, below the room's lines, and is replaced in place
// by the next SetBar of the same key. A new key's bar goes below the
// others. text is plain (see drawBars), cut to fit one row. After Close
// nothing is shown: there is no row to keep bars above.
func (o *output) SetBar(key int, text string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	o.out = o.out[:0]
	o.followResize()
	i := slices.IndexFunc(o.bars, func(b bar) bool { return b.key == key })
	if i < 0 {
		o.bars = append(o.bars, bar{key: key, text: text})
	} else {
		if o.bars[i].text == text && o.barsDrawn == len(o.barRows()) {
			return // as it is on the screen
		}
		o.bars[i].text = text
		if i >= maxBars-1 && len(o.bars) > maxBars && o.barsDrawn == len(o.barRows()) {
			return // not drawn: counted in the last row, which stays as it is
		}
	}
	o.clearUp(o.barsDrawn)
	o.printlnNoClear()
	o.flush()
}

// EndBar takes the bar of key away and shows lines in its place, as
// Println shows them (above the bars that remain). lines should not be
// empty: a bar that leaves no line would leave its row behind; with none,
// an empty line stands for it.
func (o *output) EndBar(key int, lines ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.out = o.out[:0]
	o.followResize()
	if i := slices.IndexFunc(o.bars, func(b bar) bool { return b.key == key }); i >= 0 {
		// The rows to go up are the ones drawn before it went.
		drawn := o.barsDrawn
		o.bars = slices.Delete(o.bars, i, i+1)
		if len(lines) == 0 {
			lines = []string{""}
		}
		if !o.closed {
			o.status = false
			o.clearUp(drawn)
			o.printlnNoClear(lines...)
			o.flush()
			return
		}
	}
	if len(lines) > 0 {
		o.println(lines...)
	}
	o.flush()
}

// barRows are the rows the bars take: one per bar, at most maxBars, the
// last of them counting the bars not drawn when there are more.
func (o *output) barRows() []string {
	rows := make([]string, 0, min(len(o.bars), maxBars))
	for i, b := range o.bars {
		if i == maxBars-1 && len(o.bars) > maxBars {
			rows = append(rows, fmt.Sprintf("+ %d more transfers", len(o.bars)-i))
			break
		}
		rows = append(rows, b.text)
	}
	return rows
}

// drawBars writes the bars at the cursor, at the start of a cleared row,
// each on a row of its own, leaving the cursor at the start of the
// cleared row below them. Each is cut to fit one row of the terminal as
// wide as it was last seen, so that one row each is what they take; so
// bars are plain text, measured as they show: any control in one,
// colours' too, is shown as Sanitize shows it. After Close there are no
// bars to draw.
func (o *output) drawBars() {
	if o.closed {
		return
	}
	shown := o.barRows()
	for _, text := range shown {
		text = join.Sanitize(text)
		if o.drawnWidth > 1 {
			text = cutToCols(text, o.drawnWidth-1)
		}
		o.out = appendShown(o.out, text)
		o.out = append(o.out, "\r\n\x1b[K"...)
	}
	o.barsDrawn = len(shown)
}

// rowDrawn reports whether the prompt's row shows something (or a newline
// is held after it), which a line shown above it must clear and draw again.
func (o *output) rowDrawn() bool { return !o.row.empty() || o.held }

// printlnNoClear is println after the row was cleared already: the lines,
// then the row drawn again as it was.
func (o *output) printlnNoClear(lines ...string) {
	for _, line := range lines {
		o.out = appendShown(o.out, line)
		o.out = append(o.out, "\r\n\x1b[K"...)
	}
	o.drawBars()
	if o.rowDrawn() {
		o.out = append(o.out, o.row.text()...)
		o.out = append(o.out, '\r')
		if o.row.col > 0 {
			o.out = fmt.Appendf(o.out, "\x1b[%dC", o.row.col)
		}
	}
}

// appendShown appends line to out as the terminal is to get it: its SGR
// sequences ("ESC [ n ; … m") as they are, every other control as Sanitize
// shows it.
func appendShown(out []byte, line string) []byte {
	for line != "" {
		i := strings.IndexByte(line, 0x1b)
		if i < 0 {
			return append(out, join.Sanitize(line)...)
		}
		out = append(out, join.Sanitize(line[:i])...)
		if n := sgrLen(line[i:]); n > 0 {
			out = append(out, line[i:i+n]...)
			line = line[i+n:]
			continue
		}
		out = append(out, "^["...)
		line = line[i+1:]
	}
	return out
}

// sgrLen returns the length of the SGR sequence at the start of s, or 0.
func sgrLen(s string) int {
	if len(s) < 3 || s[0] != 0x1b || s[1] != '[' {
		return 0
	}
	for i := 2; i < len(s) && i <= 2+maxParams; i++ {
		switch c := s[i]; {
		case c == 'm':
			return i + 1
		case (c < '0' || c > '9') && c != ';':
			return 0
		}
	}
	return 0
}

// Clear clears the screen, as the editor's Ctrl-L does, and draws the
// prompt's row again at its top, where the editor, which is not told, goes
// on drawing. Only what is on the screen goes: the terminal's scrollback
// keeps what scrolled off it.
func (o *output) Clear() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	o.out = o.out[:0]
	o.followResize()
	o.flushHeld()
	o.status = false
	o.out = append(o.out, eraseScreen...)
	o.printlnNoClear()
	o.flush()
}

// Bell rings the terminal's bell.
func (o *output) Bell() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.term.Write([]byte{0x07})
}

// LogWriter returns a writer for log output: each line written to it is
// shown through Sanitize above the prompt, as Println shows lines; a line
// is held back until its newline arrives (or it grows too long).
func (o *output) LogWriter() io.Writer { return outputLog{o} }

type outputLog struct{ o *output }

func (w outputLog) Write(p []byte) (int, error) {
	o := w.o
	o.mu.Lock()
	defer o.mu.Unlock()
	o.out = o.out[:0]
	o.followResize()
	o.logBuf = append(o.logBuf, p...)
	for {
		end, next := bytes.IndexByte(o.logBuf, '\n'), 0
		switch {
		case end >= 0:
			next = end + 1
		case len(o.logBuf) >= maxLogLine:
			end, next = maxLogLine, maxLogLine
		}
		if next == 0 {
			break
		}
		o.println(join.Sanitize(string(bytes.TrimSuffix(o.logBuf[:end], []byte("\r")))))
		o.logBuf = o.logBuf[next:]
	}
	if len(o.logBuf) == 0 {
		o.logBuf = nil
	}
	o.flush()
	return len(p), nil
}

// Close clears the prompt row, shows any log line still unfinished, and
// ends the model: from then on the editor's newlines go to the terminal as
// they are (with only its controls, as before), and Println writes plain
// lines. It releases a prompt waiting
// for its row to end.
func (o *output) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	o.out = o.out[:0]
	if o.rowDrawn() || o.barsDrawn > 0 {
		o.out = append(o.out, "\r\x1b[K"...)
	}
	// The bars, which no one updates from now on, go too: up over each,
	// clearing it, so that what follows is written where they were.
	for range o.barsDrawn {
		o.out = append(o.out, "\x1b[A\r\x1b[K"...)
	}
	o.barsDrawn = 0
	// An escape sequence cut off is dropped: written alone it would leave
	// the terminal waiting for its end.
	o.partial = nil
	o.closed = true
	if len(o.logBuf) > 0 {
		o.println(join.Sanitize(string(o.logBuf)))
		o.logBuf = nil
	}
	close(o.done)
	o.flush()
	return nil
}

// flush writes what the current call produced. A terminal that fails has
// no one to tell: the editor and the room go on.
func (o *output) flush() {
	if len(o.out) > 0 {
		o.term.Write(o.out)
	}
	if cap(o.out) > 64<<10 {
		o.out = nil // one big paste should not keep its buffer forever
	}
}

// promptRow is the model of the row the editor draws on: its cells, as
// the terminal shows them, and the cursor's column.
type promptRow struct {
	cells []rowCell
	col   int
}

// rowCell is one column of the row. A wide character takes two: its own and
// a continuation (s == "") for its right half.
type rowCell struct {
	s    string // the character, with any zero-width ones after it
	wide bool
}

var blankCell = rowCell{s: " "}

// maxRowCols bounds the columns the row model keeps, and so the cursor's
// column in it. A terminal stops its cursor at the right margin; the model
// has no margin when the width cannot be told, and one "ESC [ 999999999 C"
// and a character would otherwise have it allocate a cell for every
// column up to there (the fuzzer's out-of-memory crash). No terminal is
// this wide, and liner scrolls a longer line within the width it is told.
const maxRowCols = 4096

func (r *promptRow) empty() bool { return len(r.cells) == 0 && r.col == 0 }

func (r *promptRow) text() string {
	var b []byte
	for _, c := range r.cells {
		b = append(b, c.s...)
	}
	return string(b)
}

// put writes a character at the cursor, as a terminal does: over what was
// there, moving the cursor by the character's width. The width is the one
// liner reckons with (go-runewidth), so the two agree on where the cursor
// is.
func (r *promptRow) put(ch rune) {
	w := 1
	if ch >= 127 {
		w = runewidth.RuneWidth(ch)
	}
	if w == 0 {
		// A combining character joins the one before the cursor.
		i := r.col - 1
		if i >= 0 && i < len(r.cells) && r.cells[i].s == "" && i > 0 {
			i-- // the right half of a wide character: join the character
		}
		if i >= 0 && i < len(r.cells) {
			r.cells[i].s += string(ch)
		}
		return
	}
	if r.col+w > maxRowCols {
		return // past any terminal's right margin: not kept
	}
	r.split(r.col)
	if w == 2 {
		r.split(r.col + 1)
	}
	for len(r.cells) < r.col+w {
		r.cells = append(r.cells, blankCell)
	}
	r.cells[r.col] = rowCell{s: string(ch), wide: w == 2}
	if w == 2 {
		r.cells[r.col+1] = rowCell{}
	}
	r.col += w
}

// split blanks the wide character that covers column i, if any, so that
// writing over half of it never leaves the other half.
func (r *promptRow) split(i int) {
	if i < 0 || i >= len(r.cells) {
		return
	}
	switch {
	case r.cells[i].s == "" && i > 0: // right half
		r.cells[i-1], r.cells[i] = blankCell, blankCell
	case r.cells[i].wide && i+1 < len(r.cells):
		r.cells[i], r.cells[i+1] = blankCell, blankCell
	}
}

func (r *promptRow) eraseRight() {
	if r.col < len(r.cells) {
		r.split(r.col)
		r.cells = r.cells[:r.col]
	}
}

func (r *promptRow) eraseLeft() {
	r.split(r.col)
	for i := 0; i <= r.col && i < len(r.cells); i++ {
		r.cells[i] = blankCell
	}
}

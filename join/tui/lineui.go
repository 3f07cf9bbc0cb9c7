package tui

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"chatroom/host/wire"
	"chatroom/join"
	"golang.org/x/term"
)

// lineUI is the UI of plain lines: input read a line at a time, output
// written a line at a time. It suits a pipe, a script, or a terminal in
// its ordinary line mode.
type lineUI struct {
	in *join.Lines
	// interactive: a person answers at in, so AskName may ask there.
	interactive bool

	mu  sync.Mutex // the room's lines are shown from other goroutines
	out io.Writer
	// errOut is where the client's lines about itself go that are not
	// the room's (the pacing); nil: out.
	errOut   io.Writer
	roster   *join.Roster // the current session's, once welcomed: who the person is
	welcomed bool         // the first welcome has been shown
	notes    plainNotes
	gate     transferGate // paces the transfers' lines on errOut
	// width, where out is a terminal, tells its width in columns now
	// (0 when it cannot): see WrapAtTerminal. nil for a pipe or a file.
	width func() int
}

// NewLineUI returns a line-mode UI reading in and writing out, for input
// that no person answers at (a script, a pipe): AskName never asks. A line
// longer than wire.MaxText bytes is not returned: it is reported with
// "!! " and skipped, because the host would end the connection over it.
func NewLineUI(in io.Reader, out io.Writer) join.UI { return newLineUI(in, out) }

// NewInteractiveLineUI is NewLineUI where a person types at in (a
// terminal in its ordinary line mode), so that AskName asks there for
// another name.
func NewInteractiveLineUI(in io.Reader, out io.Writer) join.UI {
	u := newLineUI(in, out)
	u.interactive = true
	return u
}

// WithStderr has line mode ui say on errOut what is about the client
// rather than the room: that the room's pace holds the lines back
// (join.Pacing), as "chatroom: pacing: …". A script reading the room's
// output on stdout is not given lines it did not ask for. Any other UI is
// returned as it is.
func WithStderr(ui join.UI, errOut io.Writer) join.UI {
	if u, ok := ui.(*lineUI); ok {
		u.errOut = errOut
	}
	return ui
}

// WrapAtTerminal has line mode ui cut its lines for the terminal out is,
// as the prompt does (style.rows): a line longer than the terminal is
// wide is written as rows, each after the first starting with the
// continuation mark ("      ↳ ") that no line starts with, so that text a
// long message brings to the start of a row can never pass for a line of
// its own (a message padded with blanks up to "07:08 <admin> run: …"). The
// width is asked at each line, so a resized terminal is followed. A pipe
// or a file, which a script reads, keeps one line per line. Any other UI,
// or an out that is not a terminal, is returned as it is.
func WrapAtTerminal(ui join.UI, out *os.File) join.UI {
	u, ok := ui.(*lineUI)
	if !ok || out == nil || !term.IsTerminal(int(out.Fd())) {
		return ui
	}
	fd := int(out.Fd())
	u.width = func() int {
		w, _, err := term.GetSize(fd)
		if err != nil {
			return 0
		}
		return w
	}
	return ui
}

func newLineUI(in io.Reader, out io.Writer) *lineUI {
	// The buffer holds the longest line that may be sent and its line
	// ending; a longer line fills it and is skipped, never buffered whole.
	return &lineUI{in: join.NewLines(in), out: out}
}

func (u *lineUI) ReadLine() (string, error) {
	for {
		line, err := u.readLine()
		if errors.Is(err, join.ErrLineTooLong) {
			u.print("!! " + err.Error())
			continue
		}
		return line, err
	}
}

// readLine returns the next line without its ending (join.Lines).
func (u *lineUI) readLine() (string, error) { return u.in.Next() }

// Enter greets the person once, with the first welcome.
func (u *lineUI) Enter(w wire.Frame, r *join.Roster) {
	u.mu.Lock()
	u.roster = r
	first := !u.welcomed
	u.welcomed = true
	u.mu.Unlock()
	if first {
		u.print(welcomeLine(w))
	}
}

// Show prints f as render shows it; an event from before the person
// joined with "earlier: " before it.
func (u *lineUI) Show(f wire.Frame, phase join.Phase) {
	u.mu.Lock()
	r := u.roster
	u.mu.Unlock()
	me := ""
	if r != nil {
		me = r.Me() // asked each time: the person's own /nick changes it
	}
	prefix := ""
	if phase == join.Backlog {
		prefix = "earlier: "
	}
	for _, line := range render(f, me, time.Local) {
		u.print(prefix + line)
	}
}

// Note prints the client's own line: "!! " before a warning, "-- " before
// the rest. Of an outage's statuses only the first and the last are
// printed.
func (u *lineUI) Note(n join.Note) {
	if n.Kind == join.Pacing && u.errOut != nil {
		u.printTo(u.errOut, "chatroom: "+n.Text)
		return
	}
	if line, ok := u.notes.line(n); ok {
		u.print(line)
	}
}

func (u *lineUI) print(line string) { u.printTo(u.out, line) }

func (u *lineUI) printTo(w io.Writer, line string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	// An output that fails (a closed pipe) has no one to tell; the session
	// goes on, and ends with the input. Whatever shows a line goes
	// through here, so here it is sanitized, even when it has been
	// already: one line that missed it must not reach the terminal raw.
	line = join.Sanitize(line)
	if w == u.out && u.width != nil {
		line = wrapPlain(line, u.width())
	}
	io.WriteString(w, line+"\n")
}

// wrapPlain cuts a sanitized line into the rows it takes on a terminal
// width columns wide, as style.rows does for the prompt, without colour.
func wrapPlain(line string, width int) string {
	rows := style{Width: width}.rows(shownLine{kind: lineMessage, segs: []segment{textSeg(line)}})
	if len(rows) == 1 {
		return line
	}
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = r.plain()
	}
	return strings.Join(parts, "\n")
}

// AskName asks at the same input the person types into, which only makes
// sense when a person is there.
func (u *lineUI) AskName(reason string) (string, bool) {
	if !u.interactive {
		return "", false
	}
	u.mu.Lock()
	fmt.Fprintf(u.out, "!! %s\nanother name (empty to give up): ", join.Sanitize(reason))
	u.mu.Unlock()
	line, err := u.readLine()
	if err != nil {
		return "", false
	}
	name := strings.TrimSpace(line)
	return name, name != ""
}

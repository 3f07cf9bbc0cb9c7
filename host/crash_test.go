package host

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"chatroom/host/room"
	"chatroom/host/wire"
)

// Attack on durability: the host is killed with SIGKILL at a random moment
// while an admin's bans stream in and are being written. Every ban that was
// confirmed to the admin before the kill is in the state directory after
// it, and the ban file is whole (the next host starts with it, at once).
func TestBansSurviveKillWhileWriting(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills host processes")
	}
	const rounds = 8
	for round := range rounds {
		p := startHostProcess(t, "crash")
		addr, dir := p.addr, p.dir
		admin := helloOn(t, dialAddr(t, addr, dialOptions{}), "ana", "letmein")
		if admin.welcome.Type != wire.TypeWelcome {
			t.Fatalf("admin not welcomed: %+v", admin.welcome)
		}
		// Send every ban at once, so the host is writing ban files back to
		// back, and kill it after a random number of confirmations: the
		// kill lands while a later ban is being written.
		const bans = 300
		var batch strings.Builder
		for i := range bans {
			b, _ := wire.Encode(&wire.Frame{Type: wire.TypeSay, Text: fmt.Sprintf("/ban user%d", i)})
			batch.Write(b)
		}
		go admin.conn.Write([]byte(batch.String()))

		killAfter := 1 + rand.IntN(bans-50)
		var confirmed []string
		for len(confirmed) < killAfter {
			f := admin.next()
			if f.Type != wire.TypeNotice {
				continue
			}
			name, _, ok := strings.Cut(f.Text, " is not here: banned the name only")
			if !ok {
				t.Fatalf("ban answered with %+v", f)
			}
			confirmed = append(confirmed, name)
		}
		p.kill()

		saved, err := loadList[room.Ban](dir, bansList)
		if err != nil {
			t.Fatalf("round %d: after the kill: %v", round, err)
		}
		have := make(map[string]bool, len(saved))
		for _, b := range saved {
			have[b.Name] = true
		}
		for _, name := range confirmed {
			if !have[name] {
				t.Fatalf("round %d: ban of %s was confirmed but is not on disk after the kill (%d saved, %d confirmed)", round, name, len(saved), len(confirmed))
			}
		}
		// And the room can be hosted again at once: the killed host's lock
		// went with it, and what it left (a moderation log it was
		// appending to, a temporary file) does not stop the next start.
		h, err := Start(Config{Name: "after", StateDir: dir, Listen: "127.0.0.1:0"})
		if err != nil {
			t.Fatalf("round %d: starting again after the kill: %v", round, err)
		}
		h.Close()
		t.Logf("round %d: killed after %d confirmations; %d bans on disk", round, len(confirmed), len(saved))
	}
}

// Environment variables that make a copy of this test binary a host
// process (see TestMain): its kind, a key of hostProcessConfigs, its
// state directory, and the address it listens on when not its kind's.
const (
	hostProcessEnv       = "CHATROOM_TEST_HOST_PROCESS"
	hostProcessDirEnv    = "CHATROOM_TEST_HOST_DIR"
	hostProcessListenEnv = "CHATROOM_TEST_HOST_LISTEN"
	// hostProfileEnv names a file to which each host process writes its
	// CPU profile, with its process id appended (BenchmarkJoinHostCPU
	// runs two), from when it reads the line "profile" on its input
	// (startProfile) to its end.
	hostProfileEnv = "CHATROOM_BENCH_HOSTPROFILE"
)

// hostProcessConfigs are the rooms a host process can host.
var hostProcessConfigs = map[string]Config{
	// TestBansSurviveKillWhileWriting kills it while it saves bans.
	"crash": {Name: "crash", Listen: "127.0.0.1:0", AdminPassword: "letmein", Limits: benchLimits},
	// BenchmarkJoinHostCPU reads its CPU time.
	"bench": {Name: "bench", Listen: "127.0.0.1:0", Limits: benchLimits, JoinLimits: benchJoinLimits, MaxConnsPerAddr: 1 << 20},
	// BenchmarkFanOutIRC reads its CPU time, with IRC clients as members
	// and with chatroom members.
	"bench-irc": {Name: "bench", Listen: "127.0.0.1:0", IRC: "127.0.0.1:0", Limits: benchLimits, JoinLimits: benchJoinLimits, MaxConnsPerAddr: 1 << 20},
	// BenchmarkReconnectStorm restarts it under 5,000 members. Its limits
	// are the defaults a LAN host has (its members come from many
	// addresses), but for newcomers, so that the room fills in seconds
	// rather than minutes: members who resume are not counted in that
	// budget, so it does not touch the storm.
	"storm": {Name: "storm", Listen: "127.0.0.1:0", JoinLimits: room.JoinLimits{Newcomers: benchLimits}},
	// BenchmarkFanOutJournal reads its CPU time, against bench's.
	"bench-without-journal": {Name: "bench", Listen: "127.0.0.1:0", Limits: benchLimits, JoinLimits: benchJoinLimits, MaxConnsPerAddr: 1 << 20, withoutJournal: true},
	// TestJournalSurvivesKill kills it mid-stream and starts it again; it
	// keeps every event the test makes, and its members, which never
	// answer a heartbeat, stay.
	"journal": {Name: "journal", Listen: "127.0.0.1:0", Limits: benchLimits, JoinLimits: benchJoinLimits, MaxConnsPerAddr: 1 << 20, History: 1 << 16, Heartbeat: -1},
}

// runHostProcess is a host process: it hosts the room of its kind on dir,
// prints the address and fingerprint ("addr ADDR FINGERPRINT") and, for
// a room that takes IRC clients, the IRC address ("irc ADDR"), and serves
// until its input is closed (or it is killed). Meanwhile it takes
// commands, a line each, on its input (see hostCommand).
func runHostProcess(kind, dir string) {
	cfg, ok := hostProcessConfigs[kind]
	if !ok {
		fmt.Println("error: no host process of kind", kind)
		os.Exit(2)
	}
	raiseFileLimit(1 << 15)
	cfg.StateDir = dir
	if listen := os.Getenv(hostProcessListenEnv); listen != "" {
		cfg.Listen = listen
	}
	h, err := Start(cfg)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("addr", h.Addr(), h.Fingerprint())
	if irc := h.IRCAddr(); irc != nil {
		fmt.Println("irc", irc)
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if h, err = hostCommand(h, cfg, in.Text()); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
	}
	h.Close()
	pprof.StopCPUProfile()
	os.Exit(0)
}

// startProfile has the host write its CPU profile from now on, when
// hostProfileEnv names a file.
func (p *hostProcess) startProfile() {
	io.WriteString(p.stdin, "profile\n")
}

// hostCommand carries out one command to a host process, and answers it
// with a line:
//
//	restart               closes the host cleanly, as Ctrl-C does, and
//	                      starts it again on the same state directory and
//	                      address; it answers "listening ADDR CLOSE START",
//	                      the two durations Close and Start took, once it
//	                      listens again
//	profile-start FILE    starts a CPU profile in FILE; "profiling"
//	profile-stop          ends it; "profiled"
//	profile               starts a CPU profile in the file hostProfileEnv
//	                      names, if it names one, until the host ends; no
//	                      answer
func hostCommand(h *Host, cfg Config, command string) (*Host, error) {
	verb, arg, _ := strings.Cut(command, " ")
	switch verb {
	case "restart":
		start := time.Now()
		h.Close()
		closed := time.Now()
		cfg.Listen = h.Addr().String()
		h, err := Start(cfg)
		if err != nil {
			return nil, err
		}
		fmt.Println("listening", h.Addr(), closed.Sub(start), time.Since(closed))
		return h, nil
	case "profile-start":
		f, err := os.Create(arg)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		fmt.Println("profiling")
	case "profile":
		if file := os.Getenv(hostProfileEnv); file != "" {
			// The host's own CPU profile, which a benchmark's
			// -cpuprofile (of the parent) does not hold.
			if f, err := os.Create(fmt.Sprintf("%s.%d", file, os.Getpid())); err == nil {
				pprof.StartCPUProfile(f)
			}
		}
	case "profile-stop":
		pprof.StopCPUProfile()
		fmt.Println("profiled")
	default:
		return nil, fmt.Errorf("no command %q", command)
	}
	return h, nil
}

// hostProcess is a host run in a child process, a copy of this test binary
// (runHostProcess).
type hostProcess struct {
	cmd               *exec.Cmd
	stdin             io.WriteCloser // closing it ends a helper that reads it
	dir               string         // its state directory
	addr, fingerprint string
	out               *bufio.Reader // what it says after its address
	waitOnce          sync.Once
}

func startHostProcess(tb testing.TB, kind string) *hostProcess {
	tb.Helper()
	return startHostProcessOn(tb, kind, tb.TempDir(), "")
}

// startHostProcessOn starts a host process on the state directory dir,
// listening on listen ("": as its kind says).
func startHostProcessOn(tb testing.TB, kind, dir, listen string) *hostProcess {
	tb.Helper()
	p := &hostProcess{dir: dir}
	p.cmd = exec.Command(os.Args[0], "-test.run=^$")
	p.cmd.Env = append(os.Environ(), hostProcessEnv+"="+kind, hostProcessDirEnv+"="+p.dir, hostProcessListenEnv+"="+listen)
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.kill)
	p.out = bufio.NewReader(out)
	line, err := p.out.ReadString('\n')
	fields := strings.Fields(line)
	if err != nil || len(fields) != 3 || fields[0] != "addr" {
		tb.Fatalf("helper host said %q (%v)", line, err)
	}
	p.addr, p.fingerprint = fields[1], fields[2]
	return p
}

// kill ends the host at once, with SIGKILL, and waits for it.
func (p *hostProcess) kill() {
	p.waitOnce.Do(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
}

// stop closes the host's input, which ends a helper that reads it, and
// waits for it to exit (killing it after a while).
func (p *hostProcess) stop() {
	p.stdin.Close()
	exited := make(chan struct{})
	go func() {
		p.waitOnce.Do(func() { p.cmd.Wait() })
		close(exited)
	}()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-exited
	}
}

//go:build linux || darwin || freebsd || openbsd || netbsd

package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"chatroom/discovery/netns"
)

// TestJoinReconnectsByID runs the real binary on both sides, as a person
// would from three shells. "chatroom host" is closed with SIGINT and
// started again, with the same state, on another port. "chatroom join",
// given the first address, finds the room again by its id over mDNS (in
// the test's own network namespace), checks its key and resumes: a line
// typed while the room was away is sent then, once. A member with
// --no-reconnect ends instead, saying that the room closed.
func TestJoinReconnectsByID(t *testing.T) {
	if !netns.Isolated() {
		t.Skip("mDNS is used only in the test's own network namespace")
	}
	bin := buildChatroom(t)
	state := t.TempDir()
	startHost := func(port int) *proc {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		h := startProc(t, bin, "host", "--no-prompt", "--name", "Lab 5", "--iface", "lo", "--listen", addr, "--state", state)
		h.waitErr(`room "Lab 5" listening on ` + regexp.QuoteMeta(addr))
		return h
	}
	first := startHost(freePort(t))
	addr := "127.0.0.1:" + strconv.Itoa(first.port)
	ana := startProc(t, bin, "join", "--addr", addr, "--iface", "lo", "--user", "ana", "--state", t.TempDir())
	bob := startProc(t, bin, "join", "--addr", addr, "--no-reconnect", "--user", "bob", "--state", t.TempDir())
	ana.waitOut(`^joined "Lab 5" as ana`)
	bob.waitOut(`^joined "Lab 5" as bob`)
	ana.say("before")
	bob.waitOut(`^\d\d:\d\d <ana> before$`)

	first.stop()
	if code := bob.wait(); code != 0 {
		t.Errorf("join --no-reconnect exited %d after the room closed; stderr:\n%s", code, bob.stderr.String())
	}
	bob.waitOut(`^-- the room closed$`)
	ana.waitOut(`^-- the room closed$`)
	ana.say("while away")

	second := startHost(freePort(t))
	ana.waitOut(`^-- back in the room`)
	ana.waitOut(`^\d\d:\d\d <ana> while away$`)
	ana.closeInput()
	if code := ana.wait(); code != 0 {
		t.Errorf("join exited %d; stderr:\n%s", code, ana.stderr.String())
	}
	second.stop()
	for _, line := range []string{"before", "while away"} {
		if n := ana.countOut(`^\d\d:\d\d <ana> ` + line + `$`); n != 1 {
			t.Errorf("%q shown %d times, want once; output:\n%s", line, n, ana.stdout.String())
		}
	}
	if strings.Contains(ana.stderr.String(), "error") {
		t.Errorf("join's stderr:\n%s", ana.stderr.String())
	}
}

// proc is a chatroom command the test started, with its input held open
// and its output kept.
type proc struct {
	t              *testing.T
	cmd            *exec.Cmd
	port           int // the port given to host --listen, if any
	stdin          io.WriteCloser
	stdout, stderr lockedBuffer
	done           chan struct{}
}

func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, cmd: exec.Command(bin, args...), done: make(chan struct{})}
	for i, a := range args {
		if a == "--listen" {
			_, port, _ := net.SplitHostPort(args[i+1])
			p.port, _ = strconv.Atoi(port)
		}
	}
	p.cmd.Env = append(os.Environ(), "CHATROOM_ADMIN_PASSWORD=")
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(screenWait):
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *proc) say(line string) {
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatalf("writing to %s: %v", p.cmd.Args[1], err)
	}
}

func (p *proc) closeInput() { p.stdin.Close() }

// stop ends a host as Ctrl-C does, and waits for it to exit 0.
func (p *proc) stop() {
	p.t.Helper()
	p.cmd.Process.Signal(os.Interrupt)
	if code := p.wait(); code != 0 {
		p.t.Errorf("host exited %d after SIGINT; stderr:\n%s", code, p.stderr.String())
	}
}

// wait waits for the command to exit and returns its exit code.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(screenWait):
		p.t.Fatalf("%s did not exit; stdout:\n%s\nstderr:\n%s", p.cmd.Args[1], p.stdout.String(), p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *proc) waitOut(pattern string) { p.t.Helper(); p.waitFor(&p.stdout, pattern) }
func (p *proc) waitErr(pattern string) { p.t.Helper(); p.waitFor(&p.stderr, pattern) }

func (p *proc) waitFor(b *lockedBuffer, pattern string) {
	p.t.Helper()
	re := regexp.MustCompile("(?m)" + pattern)
	for deadline := time.Now().Add(screenWait); !re.MatchString(b.String()); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			p.t.Fatalf("%s never printed %q; stdout:\n%s\nstderr:\n%s", p.cmd.Args[1], pattern, p.stdout.String(), p.stderr.String())
		}
	}
}

func (p *proc) countOut(pattern string) int {
	return len(regexp.MustCompile("(?m)"+pattern).FindAllString(p.stdout.String(), -1))
}

// lockedBuffer is a bytes.Buffer that the command writes while the test
// reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freePort returns a port that nothing listened on a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

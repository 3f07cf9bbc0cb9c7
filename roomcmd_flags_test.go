package main

import (
	"net"
	"strconv"
	"testing"
	"time"
)

// TestHostLimitFlags runs the real binary: --max-conns-per-address turns
// away a second connection from one address, and --line-burst and
// --line-rate reach the welcome, to which a member's client paces its
// lines (the third of three, past a burst of two at one line in ten
// seconds, waits).
func TestHostLimitFlags(t *testing.T) {
	bin := buildChatroom(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	h := startProc(t, bin, "host", "--no-prompt", "--no-advertise", "--name", "Lab 6", "--listen", addr, "--state", t.TempDir(),
		"--max-conns-per-address", "1", "--line-burst", "2", "--line-rate", "0.1")
	h.waitErr(`room "Lab 6" listening on `)
	ana := startProc(t, bin, "join", "--addr", addr, "--user", "ana", "--state", t.TempDir())
	ana.waitOut(`^joined "Lab 6" as ana`)

	bob := startProc(t, bin, "join", "--addr", addr, "--user", "bob", "--state", t.TempDir())
	if code := bob.wait(); code == 0 {
		t.Errorf("a second connection from one address was let in; stdout:\n%s", bob.stdout.String())
	}
	bob.waitErr(`too many connections from your address \(at most 1\)`)

	for _, line := range []string{"one", "two", "three"} {
		ana.say(line)
	}
	ana.waitOut(`^\d\d:\d\d <ana> two$`)
	time.Sleep(1500 * time.Millisecond)
	if n := ana.countOut(`<ana> three$`); n != 0 {
		t.Errorf("the third line went at once, past a burst of 2; output:\n%s", ana.stdout.String())
	}
	h.stop()
}

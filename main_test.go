package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"chatroom/discovery"
	"chatroom/discovery/netns"
)

// The scripts in testdata/*.txt drive the real command line: testscript
// runs this test binary as "chatroom", which calls main in-process. The
// tests run in a network namespace of their own (package netns), so that
// rooms they host are advertised, and browsed for, where no real network
// can hear; scripts that need that say "[!netns] skip".
func TestMain(m *testing.M) {
	testscript.Main(isolated{m}, map[string]func(){
		"chatroom": main,
	})
}

// isolated runs the tests through netns.Main. testscript.Main calls Run
// only when the binary runs as the test, not as "chatroom".
type isolated struct{ m *testing.M }

func (i isolated) Run() int { return netns.Main(i.m) }

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:   "testdata",
		Setup: setUpScript,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitport":  waitPort,
			"peer":      startPeer,
			"waitrooms": waitRooms,
			"exits":     exits,
			"waitmatch": waitMatch,
			// A namespace of the script's own, as testdata/doctor's
			// scripts have (doctor_script_test.go), for what must not
			// meet the rooms of the scripts beside it.
			"ownnet":     ownNet,
			"nswaitport": nsWaitPort,
		},
		Condition: netnsCondition,
	})
}

// setUpScript gives a script a port for a host to listen on ($PORT), and
// keeps the settings of the machine running the tests out. Another process
// could take the port between here and the host's start; on a test machine
// that is rare, and the script then fails loudly rather than wrongly.
func setUpScript(env *testscript.Env) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	env.Setenv("PORT", strconv.Itoa(port))
	env.Setenv("CHATROOM_ADMIN_PASSWORD", "")
	env.Setenv("XDG_CONFIG_HOME", env.WorkDir+"/config")
	return nil
}

// netnsCondition is [netns]: the scripts run in a network namespace of
// their own, where they may multicast.
func netnsCondition(cond string) (bool, error) {
	if cond == "netns" {
		return netns.Isolated(), nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// waitport PORT waits until something listens on 127.0.0.1:PORT, for a
// host started in the background.
func waitPort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitport PORT")
	}
	addr := net.JoinHostPort("127.0.0.1", args[0])
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("nothing listens on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// peer makes a second network namespace joined to the script's by a veth
// pair ("another machine on the LAN") and sets $PEER to a process in it,
// for "exec nsenter -t $PEER -n -- chatroom ...". It lasts until the
// script ends.
func startPeer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: peer")
	}
	p, stop, err := netns.StartPeer()
	if err != nil {
		ts.Fatalf("peer: %v", err)
	}
	ts.Defer(stop)
	ts.Setenv("PEER", strconv.Itoa(p.PID))
	ts.Setenv("PEER_ADDR", p.RemoteAddr)
	ts.Setenv("HOST_ADDR", p.LocalAddr)
}

// waitrooms N IFACE waits until browsing on IFACE finds N rooms, for hosts
// started in the background.
func waitRooms(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitrooms N IFACE")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("waitrooms: %v", err)
	}
	var rooms []discovery.Room
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		rooms, err = discovery.Browse(context.Background(), discovery.Options{Interfaces: []string{args[1]}})
		if err == nil && len(rooms) == want {
			return
		}
	}
	ts.Fatalf("waitrooms: found %d rooms (%v), want %d", len(rooms), err, want)
}

// exits N COMMAND [ARGS...] runs COMMAND as exec does (its stdout and
// stderr are then checked as exec's are) and checks that its exit status
// is N: "! exec" only checks that it is not 0.
func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		got = exit.ExitCode()
	case err != nil:
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// waitmatch FILE REGEXP waits until a line of FILE matches REGEXP, for
// what a command started in the background writes.
func waitMatch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitmatch FILE REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	if err != nil {
		ts.Fatalf("waitmatch: %v", err)
	}
	file := ts.MkAbs(args[0])
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if data, err := os.ReadFile(file); err == nil && re.Match(data) {
			return
		}
	}
	data, _ := os.ReadFile(file)
	ts.Fatalf("waitmatch: no line of %s matches %q within 10s; it holds:\n%s", args[0], args[1], data)
}

package main

import (
	"fmt"
	"net"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"chatroom/discovery/netns"
)

// TestFollowScripts runs the scripts in testdata/follow, which bring
// interfaces up while a room is up, after TestScripts rather than beside
// it: the room's announcements on a new veth are heard by every mDNS
// socket of the namespace, browsers on lo included, and would show up in
// the scripts that expect to find nothing there. (Top-level tests run one
// after another; the scripts of TestScripts run beside each other.)
func TestFollowScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/follow",
		Setup: func(env *testscript.Env) error {
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
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitport": waitPort,
			"peer":     startPeer,
		},
		Condition: func(cond string) (bool, error) {
			if cond == "netns" {
				return netns.Isolated(), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}

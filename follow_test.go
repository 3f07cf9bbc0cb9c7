package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestFollowScripts runs the scripts in testdata/follow, which bring
// interfaces up while a room is up, after TestScripts rather than beside
// it: the room's announcements on a new veth are heard by every mDNS
// socket of the namespace, browsers on lo included, and would show up in
// the scripts that expect to find nothing there. (Top-level tests run one
// after another; the scripts of TestScripts run beside each other.)
func TestFollowScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:   "testdata/follow",
		Setup: setUpScript,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitport": waitPort,
			"peer":     startPeer,
		},
		Condition: netnsCondition,
	})
}

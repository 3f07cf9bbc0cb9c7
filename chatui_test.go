package main

import (
	"bytes"
	"strings"
	"testing"

	"chatroom/join"
	"chatroom/join/tui"
)

// TestChatUIWithoutTerminal: away from a terminal the UI is line mode,
// whatever else is asked for, so scripts keep their output.
func TestChatUIWithoutTerminal(t *testing.T) {
	var out, errs bytes.Buffer
	c := &cli{stdin: strings.NewReader("hi\n"), stdout: &out, stderr: &errs}
	ui, closeUI := c.chatUI("ana", t.TempDir(), nil, "secret")
	defer closeUI()
	if _, ok := ui.(tui.Terminal); ok {
		t.Fatal("got the interactive prompt without a terminal")
	}
	ui.Note(join.Note{Kind: join.Info, Text: "a line"})
	if line, err := ui.ReadLine(); line != "hi" || err != nil {
		t.Errorf("ReadLine = %q, %v", line, err)
	}
	if out.String() != "-- a line\n" || errs.Len() != 0 {
		t.Errorf("stdout %q, stderr %q", out.String(), errs.String())
	}
}

// TestLogger: diagnostics go to stderr, and wherever they are sent while a
// prompt is up, then back.
func TestLogger(t *testing.T) {
	var stderr, above bytes.Buffer
	c := &cli{stderr: &stderr}
	log := c.logger()
	log.Warn("first", "err", "disk full")
	restore := c.logs.to(&above)
	log.Warn("second")
	restore()
	log.Warn("third")
	if s := stderr.String(); s != "chatroom: warning: first (err disk full)\nchatroom: warning: third\n" {
		t.Errorf("stderr got %q", s)
	}
	if s := above.String(); s != "chatroom: warning: second\n" {
		t.Errorf("the prompt got %q", s)
	}
	log.Info("not a warning")
	if strings.Contains(stderr.String(), "not a warning") {
		t.Error("an info line was logged; only warnings are")
	}
}

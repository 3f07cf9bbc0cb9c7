package main

import (
	"bytes"
	"io"
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

// scriptedUI is a UI whose ReadLine gives reads in turn, then io.EOF, and
// which keeps the notes it is given.
type scriptedUI struct {
	join.UI
	reads []error // nil: a line "hi"
	notes []string
}

func (u *scriptedUI) ReadLine() (string, error) {
	if len(u.reads) == 0 {
		return "", io.EOF
	}
	err := u.reads[0]
	u.reads = u.reads[1:]
	if err != nil {
		return "", err
	}
	return "hi", nil
}

func (u *scriptedUI) Note(n join.Note) { u.notes = append(u.notes, n.Text) }

// TestHostUIAsksBeforeClosing: at a terminal, the end of the host's input
// while others are in says what it does and closes the room only when it
// comes again; a line typed in between starts over. Alone, or from a
// script, it closes at once.
func TestHostUIAsksBeforeClosing(t *testing.T) {
	inner := &scriptedUI{reads: []error{io.EOF, nil, io.EOF, io.EOF}}
	ui := &hostUI{UI: inner, ask: true, others: func() int { return 2 }}
	if line, err := ui.ReadLine(); line != "hi" || err != nil {
		t.Fatalf("first ReadLine = %q, %v; want the line after the question", line, err)
	}
	if _, err := ui.ReadLine(); err != io.EOF {
		t.Fatalf("ReadLine after the question asked again = %v, want io.EOF", err)
	}
	want := "this closes the room for 2 people: press Ctrl-D again to close it, or type on to stay"
	if len(inner.notes) != 2 || inner.notes[0] != want || inner.notes[1] != want {
		t.Errorf("notes %q, want the question twice (once for each end of input after a line)", inner.notes)
	}
	if !ui.inputEnded {
		t.Error("inputEnded not set")
	}

	one := &scriptedUI{reads: []error{io.EOF, io.EOF}}
	ui = &hostUI{UI: one, ask: true, others: func() int { return 1 }}
	ui.ReadLine()
	if len(one.notes) != 1 || !strings.Contains(one.notes[0], "for 1 person:") {
		t.Errorf("notes %q, want the question for 1 person", one.notes)
	}

	for name, ui := range map[string]*hostUI{
		"alone":  {UI: &scriptedUI{reads: []error{io.EOF}}, ask: true, others: func() int { return 0 }},
		"script": {UI: &scriptedUI{reads: []error{io.EOF}}, ask: false, others: func() int { return 3 }},
	} {
		if _, err := ui.ReadLine(); err != io.EOF {
			t.Errorf("%s: ReadLine = %v, want io.EOF at once", name, err)
		}
		if notes := ui.UI.(*scriptedUI).notes; len(notes) != 0 {
			t.Errorf("%s: asked %q", name, notes)
		}
	}
}

package tui

import (
	"bytes"
	"strings"
	"testing"

	"chatroom/join"
)

// TestLinePacingOnStderr: line mode given a stderr (WithStderr) says the
// room's pacing there, as "chatroom: pacing: …", and not among the
// room's lines, which a script reads on stdout; the other notes stay on
// stdout. Without one, the pacing is a line of its own like any other.
func TestLinePacingOnStderr(t *testing.T) {
	pacing := join.Note{Kind: join.Pacing, Text: "pacing: the room takes 10 lines at once, then 2 lines a second; 37 lines waiting"}
	warning := join.Note{Kind: join.Warning, Text: "2 lines not sent"}

	var out, errOut bytes.Buffer
	ui := WithStderr(NewLineUI(strings.NewReader(""), &out), &errOut)
	ui.Note(pacing)
	ui.Note(warning)
	if got, want := errOut.String(), "chatroom: "+pacing.Text+"\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	if got, want := out.String(), "!! 2 lines not sent\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}

	out.Reset()
	ui = NewLineUI(strings.NewReader(""), &out)
	ui.Note(pacing)
	if got, want := out.String(), "-- "+pacing.Text+"\n"; got != want {
		t.Errorf("without a stderr: %q, want %q", got, want)
	}

	// WithStderr leaves any other UI as it is.
	var other join.UI = fakeOther{}
	if WithStderr(other, &errOut) != other {
		t.Error("WithStderr changed a UI that is not line mode")
	}
}

type fakeOther struct{ join.UI }

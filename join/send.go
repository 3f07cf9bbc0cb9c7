package join

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"chatroom/host/wire"
)

// NotConfirmedError is lines given to Send that the room did not confirm:
// it did not answer them (it was lost, closed, or the lines never went),
// or it refused them (an error notice, such as a command not allowed).
type NotConfirmedError struct {
	Lines        int // the lines given
	NotConfirmed int // of them, those not confirmed
	Refused      int // of those, the ones the room refused
	TooLong      int // of those, the ones longer than wire.MaxText, never sent
}

func (e *NotConfirmedError) Error() string {
	var msg string
	if e.Lines == 1 {
		msg = "the line was not confirmed by the room"
	} else {
		msg = fmt.Sprintf("%d of %d lines were not confirmed by the room", e.NotConfirmed, e.Lines)
	}
	var why []string
	if e.Refused > 0 {
		why = append(why, fmt.Sprintf("it refused %d", e.Refused))
	}
	if e.TooLong > 0 {
		why = append(why, fmt.Sprintf("%d longer than %d bytes, not sent", e.TooLong, wire.MaxText))
	}
	if len(why) > 0 {
		msg += " (" + strings.Join(why, "; ") + ")"
	}
	return msg
}

// Send is a one-shot for scripts: it joins with dial as opts.Name, says
// each line of lines (to its end), as a script's lines are sent (see
// Options.Script), waits for the room to confirm each (its answer to the
// line's ref), and leaves. What it shows ui is only what concerns the
// lines: the room's answers to them (a refusal), the client's warnings
// and the state of an outage; not the room's events, nor its backlog.
//
// It returns what Join returns when that is an error; else a
// *NotConfirmedError when any line was not confirmed, and nil when every
// one was. An empty line is no message and is not counted; a /quit ends
// the lines, as in Join.
func Send(ctx context.Context, dial Dialer, opts Options, lines io.Reader, ui UI) error {
	opts.Script = true
	opts.Backlog = NoBacklog
	s := &sender{ui: ui, in: NewLines(lines), refused: map[uint64]bool{}}
	c, err := join(ctx, dial, opts, s)
	if err != nil {
		return err
	}
	var confirmed uint64
	if c != nil {
		confirmed = c.out.confirmed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := &NotConfirmedError{Lines: s.lines + s.tooLong, TooLong: s.tooLong}
	for ref := range s.refused {
		if ref <= confirmed {
			e.Refused++
		}
	}
	e.NotConfirmed = s.lines - int(min(confirmed, uint64(s.lines))) + e.Refused + s.tooLong
	if e.NotConfirmed > 0 {
		return e
	}
	return nil
}

// sender is Send's UI: it reads the lines, counting them, and shows ui
// what concerns them.
type sender struct {
	ui UI
	in *Lines

	mu      sync.Mutex // ReadLine and Show run on different goroutines
	lines   int        // the lines read to be sent: the first n refs
	tooLong int
	ended   bool            // a /quit was read: no line after it counts
	refused map[uint64]bool // the refs the room answered with an error
}

func (s *sender) ReadLine() (string, error) {
	for {
		line, err := s.in.Next()
		if errors.Is(err, ErrLineTooLong) {
			s.mu.Lock()
			s.tooLong++
			s.mu.Unlock()
			s.ui.Note(Note{Warning, err.Error()})
			continue
		}
		if err != nil {
			return "", err
		}
		s.mu.Lock()
		switch {
		case s.ended, strings.TrimSpace(line) == "":
		case isQuit(line):
			s.ended = true
		default:
			s.lines++
		}
		s.mu.Unlock()
		return line, nil
	}
}

// AskName never asks: a script has no one to ask.
func (s *sender) AskName(string) (string, bool) { return "", false }

// Enter shows nothing: the room is not what a sender reads.
func (s *sender) Enter(wire.Frame, *Roster) {}

// Show shows the room's notices, its answers to the lines (a refusal
// among them, which it counts); no event.
func (s *sender) Show(f wire.Frame, phase Phase) {
	if f.Type != wire.TypeNotice {
		return
	}
	if f.Error && f.Ref > 0 {
		s.mu.Lock()
		if f.Ref <= uint64(s.lines) { // no other ref is one of the lines'
			s.refused[f.Ref] = true
		}
		s.mu.Unlock()
	}
	s.ui.Show(f, phase)
}

// Note shows what the client says but the end of the backlog, which
// Send does not show.
func (s *sender) Note(n Note) {
	if n.Kind == Info && n.Text == earlierEnd {
		return
	}
	s.ui.Note(n)
}

// Transfer shows a transfer's state: Send starts none of its own (SendFile
// does), but a line of its input may be a /send or a /get.
func (s *sender) Transfer(t Transfer) { s.ui.Transfer(t) }

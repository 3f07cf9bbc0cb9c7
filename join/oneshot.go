package join

import (
	"context"
	"errors"
	"io"
	"sync"

	"chatroom/host/wire"
)

// SendFile is a one-shot for scripts, as Send is for lines: it joins with
// dial as opts.Name, offers the file at path (to the member to, or to the
// whole room when to is ""), uploads it, waits until the room announces
// it, and leaves. An upload that an earlier run left unfinished (kept
// in opts.StateDir) goes on where it stopped. What it shows
// ui is what concerns the file: the transfer's progress, the room's
// refusals, the client's warnings.
//
// It returns how the file went (its number, name, size and sha256 as the
// room announced it) and nil only when it was stored and announced; else
// what Join returned when that is an error, or the outcome's error.
func SendFile(ctx context.Context, dial Dialer, opts Options, path, to string, ui UI) (FileOutcome, error) {
	opts.firstFile = func(c *client) { c.offerFile(path, to) }
	return oneFile(ctx, dial, opts, ui)
}

// Get is a one-shot for scripts: it joins with dial as opts.Name, fetches
// the room's file number into dir ("" for $XDG_DOWNLOAD_DIR or ~/Downloads), going on from
// what an earlier run fetched of it, checks it against its sha256, and
// leaves. It returns nil only when the file is in place and matched, at
// the outcome's Path.
func Get(ctx context.Context, dial Dialer, opts Options, number int, dir string, ui UI) (FileOutcome, error) {
	opts.firstFile = func(c *client) { c.getFile(number, dir) }
	return oneFile(ctx, dial, opts, ui)
}

func oneFile(ctx context.Context, dial Dialer, opts Options, ui UI) (FileOutcome, error) {
	opts.Script = true
	opts.Backlog = NoBacklog
	c, err := join(ctx, dial, opts, &oneShotUI{ui: ui})
	if err != nil {
		return FileOutcome{}, err
	}
	if c == nil {
		return FileOutcome{}, errors.New("stopped before joining the room")
	}
	if len(c.outcomes) == 0 {
		return FileOutcome{}, errors.New("the room left before the file was done") // not reached: the leaving waits for it
	}
	out := c.outcomes[0]
	return out, out.Err
}

// ListFiles joins with dial as opts.Name, asks the room for the files on
// offer ("/files"), and leaves. It returns them as the room listed them,
// and the room's text for people.
func ListFiles(ctx context.Context, dial Dialer, opts Options, ui UI) ([]wire.File, string, error) {
	opts.Script = true
	opts.Backlog = NoBacklog
	u := &listUI{oneShotUI: oneShotUI{ui: ui}}
	if _, err := join(ctx, dial, opts, u); err != nil {
		return nil, "", err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case u.answer == nil:
		return nil, "", errors.New("the room did not answer /files")
	case u.answer.Error:
		return nil, "", errors.New("the room refused /files: " + Sanitize(u.answer.Text))
	}
	return u.answer.Files, u.answer.Text, nil
}

// oneShotUI is the UI of SendFile and Get: no input (the request is the
// client's own), and of the room only the notices, which answer it.
type oneShotUI struct{ ui UI }

func (u *oneShotUI) ReadLine() (string, error)     { return "", io.EOF }
func (u *oneShotUI) AskName(string) (string, bool) { return "", false }
func (u *oneShotUI) Enter(wire.Frame, *Roster)     {}
func (u *oneShotUI) Transfer(t Transfer)           { u.ui.Transfer(t) }

func (u *oneShotUI) Show(f wire.Frame, phase Phase) {
	if f.Type == wire.TypeNotice && f.Ref > 0 {
		u.ui.Show(f, phase)
	}
}

func (u *oneShotUI) Note(n Note) {
	if n.Kind == Info && n.Text == earlierEnd {
		return
	}
	u.ui.Note(n)
}

// listUI is ListFiles' UI: one line, "/files", and the notice answering
// it (ref 1, the first line's) kept, not shown.
type listUI struct {
	oneShotUI
	mu     sync.Mutex
	asked  bool
	answer *wire.Frame
}

func (u *listUI) ReadLine() (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.asked {
		return "", io.EOF
	}
	u.asked = true
	return "/files", nil
}

func (u *listUI) Show(f wire.Frame, phase Phase) {
	if f.Type == wire.TypeNotice && f.Ref == 1 {
		u.mu.Lock()
		u.answer = &f
		u.mu.Unlock()
	}
}

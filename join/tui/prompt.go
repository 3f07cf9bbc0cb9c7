//go:build linux || darwin || freebsd || openbsd || netbsd

package tui

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/peterh/liner"
	"golang.org/x/term"

	"chatroom/host/wire"
	"chatroom/join"
)

// This is the one file that knows the line editor, liner. On these systems
// liner draws by writing escape sequences through the variable os.Stdout,
// and reads the terminal's width and mode from file descriptors 0 and 1.
// So the prompt gives liner a pipe as os.Stdout while fd 1 stays the
// terminal, and one goroutine copies the pipe into the output, which keeps
// what liner drew and puts the room's lines above it (see output). On
// Windows liner draws through the console API instead, which no pipe can
// carry; there the prompt is not offered (prompt_other.go).

// linerPrompt is the interactive UI: a liner prompt that shows the room
// and the person's name, with history, Tab completion from the roster, and
// the room's lines appearing above it as they come (NewPrompt).
type linerPrompt struct {
	*roomView
	cfg   PromptConfig
	ed    *liner.State
	pipe  *os.File // liner's os.Stdout
	close sync.Once
}

// NewPrompt takes over the terminal on stdin and stdout for an interactive
// prompt, or returns ErrNoPrompt where there is none to take over. The
// terminal is in liner's mode until Close, which the caller must call.
func NewPrompt(cfg PromptConfig) (Terminal, error) {
	if !term.IsTerminal(int(os.Stdin.Fd())) || !term.IsTerminal(int(os.Stdout.Fd())) || !liner.TerminalSupported() {
		return nil, ErrNoPrompt
	}
	var history []string
	var herr error
	if cfg.HistoryFile != "" {
		history, herr = loadHistory(cfg.HistoryFile, cfg.Secrets)
	}

	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("starting the prompt: %w", err)
	}
	out := newOutput(os.Stdout)
	out.reflows = reflowsOnResize(os.Getenv)
	p := &linerPrompt{roomView: newRoomView(out, style{Color: cfg.Color, Palette256: palette256(os.Getenv("TERM"), os.Getenv("COLORTERM"))}), cfg: cfg, pipe: w}
	p.log = cfg.Log
	// The terminal's descriptor, taken now: os.Stdout becomes liner's
	// pipe below, which has no width.
	termFd := int(os.Stdout.Fd())
	p.width = func() int {
		w, _, err := term.GetSize(termFd)
		if err != nil {
			return 0
		}
		return w
	}
	out.width = p.width
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	// Set before liner starts and never set back: a Prompt call still
	// blocked when the session ends (the room closed under it) may write
	// through os.Stdout at any time, and would race with setting it back.
	// After Close the output passes whatever comes straight through.
	os.Stdout = w

	p.ed = liner.NewLiner()
	p.ed.SetCtrlCAborts(true)
	p.ed.SetWordCompleter(p.completeAndStyle)
	for _, l := range history {
		p.ed.AppendHistory(l)
	}
	if herr != nil {
		p.out.Println(p.style.warning(join.Sanitize(herr.Error()) + "; starting without it"))
	}
	if cfg.HistoryFile != "" {
		p.loadIgnored(IgnoreFile(cfg.HistoryFile))
	}
	return p, nil
}

// edit runs one liner prompt and waits until the output has drawn all of
// it and cleared the finished row, so that what follows is shown below.
func (p *linerPrompt) edit(prompt, text string) (string, rowEnd, error) {
	line, err := p.ed.PromptWithSuggestion(prompt, text, -1)
	io.WriteString(p.pipe, endMarker)
	end, ok := p.out.waitEnd()
	if !ok && err == nil {
		err = io.EOF // closed under the prompt: the session is over
	}
	return line, end, err
}

// ReadLine returns the next line to send. It handles what is the prompt's
// own: Ctrl-C, the client's commands, lines too long to send, and the
// history.
func (p *linerPrompt) ReadLine() (string, error) {
	text := ""
	for {
		prompt := p.promptString()
		line, end, err := p.edit(prompt, text)
		text = ""
		switch {
		case errors.Is(err, liner.ErrPromptAborted):
			if end.beforeLastTwo != prompt {
				p.typed() // the editor cleared the line's text
			} else if p.interrupted() {
				return "", io.EOF
			}
			continue
		case err != nil:
			// io.EOF is Ctrl-D on an empty line: the person leaves.
			return "", err
		}
		p.typed()
		if strings.TrimSpace(line) == "" {
			continue
		}
		if len(line) > wire.MaxText {
			p.out.Println(p.style.warning(fmt.Sprintf("line not sent: longer than %d bytes; shorten it and press Enter", wire.MaxText)))
			text = line // offered again, to shorten
			continue
		}
		if keepInHistory(line, p.cfg.Secrets) {
			p.ed.AppendHistory(line)
		}
		if p.local(line) {
			continue
		}
		return line, nil
	}
}

// completeAndStyle is liner's completer: roomView's completion, with
// liner's way of offering several candidates chosen for this Tab — cycling
// through them where a member is addressed (roomView.cycles), listing them
// elsewhere. liner reads its tab style after it calls the completer, in
// the same goroutine (tabComplete in liner's line.go), so the style set
// here is the one this Tab uses.
func (p *linerPrompt) completeAndStyle(line string, pos int) (string, []string, string) {
	style := liner.TabPrints
	if p.cycles(line, pos) {
		style = liner.TabCircular
	}
	p.ed.SetTabCompletionStyle(style)
	return p.complete(line, pos)
}

// AskName asks for another name at the prompt, after saying why.
func (p *linerPrompt) AskName(reason string) (string, bool) {
	p.out.Println(p.style.warning(join.Sanitize(reason)))
	name, _, err := p.edit("another name (empty to give up)> ", "")
	name = strings.TrimSpace(name)
	return name, err == nil && name != ""
}

// Close saves the history and gives the terminal back as it was, with the
// prompt's row cleared. A ReadLine still blocked stays blocked: liner's
// read cannot be interrupted, and the process is about to end.
func (p *linerPrompt) Close() error {
	var err error
	p.close.Do(func() {
		if p.cfg.HistoryFile != "" {
			var b bytes.Buffer
			p.ed.WriteHistory(&b) // safe while a Prompt runs, unlike the rest of liner
			var lines []string
			if b.Len() > 0 {
				lines = strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			}
			err = saveHistory(p.cfg.HistoryFile, lines)
		}
		p.ed.Close()
		p.out.Close()
	})
	return err
}

package join

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"chatroom/host/wire"
)

// lineUI is the UI of plain lines: input read a line at a time, output
// written a line at a time. It suits a pipe, a script, or a terminal in
// its ordinary line mode.
type lineUI struct {
	in          *bufio.Reader
	interactive bool

	mu  sync.Mutex // Print is called from the receiving goroutine too
	out io.Writer
}

// NewLineUI returns a line-mode UI reading in and writing out. A line
// longer than wire.MaxText bytes is not returned: it is reported through
// Print and skipped, because the host would end the connection over it.
// interactive says that a person answers at in, so AskName may ask for
// another name there.
func NewLineUI(in io.Reader, out io.Writer, interactive bool) UI {
	// The buffer holds the longest line that may be sent and its line
	// ending; a longer line fills it and is skipped, never buffered whole.
	return &lineUI{in: bufio.NewReaderSize(in, wire.MaxText+len("\r\n")), out: out, interactive: interactive}
}

// errLineTooLong is a line over wire.MaxText bytes, already skipped.
var errLineTooLong = fmt.Errorf("line not sent: longer than %d bytes", wire.MaxText)

func (u *lineUI) ReadLine() (string, error) {
	for {
		line, err := u.readLine()
		if errors.Is(err, errLineTooLong) {
			u.Print("!! " + err.Error())
			continue
		}
		return line, err
	}
}

// readLine returns the next line without its ending. The last line of the
// input counts even without a final newline.
func (u *lineUI) readLine() (string, error) {
	tooLong := false
	for {
		chunk, err := u.in.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull:
			tooLong = true // skip the rest of the line, a buffer at a time
			continue
		case err == io.EOF && len(chunk) == 0 && !tooLong:
			return "", io.EOF
		case err != nil && err != io.EOF:
			return "", err
		}
		if tooLong {
			return "", errLineTooLong
		}
		line := strings.TrimSuffix(strings.TrimSuffix(string(chunk), "\n"), "\r")
		if len(line) > wire.MaxText {
			return "", errLineTooLong
		}
		return line, nil
	}
}

func (u *lineUI) Print(line string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	// An output that fails (a closed pipe) has no one to tell; the session
	// goes on, and ends with the input. Whatever shows a line goes
	// through here, so here it is sanitized, even when it has been
	// already: one line that missed it must not reach the terminal raw.
	io.WriteString(u.out, Sanitize(line)+"\n")
}

// AskName asks at the same input the person types into, which only makes
// sense when a person is there.
func (u *lineUI) AskName(reason string) (string, bool) {
	if !u.interactive {
		return "", false
	}
	u.mu.Lock()
	fmt.Fprintf(u.out, "!! %s\nanother name (empty to give up): ", Sanitize(reason))
	u.mu.Unlock()
	line, err := u.readLine()
	if err != nil {
		return "", false
	}
	name := strings.TrimSpace(line)
	return name, name != ""
}

package join

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"chatroom/host/wire"
)

// Lines reads the lines a person or a script gives to send, one at a
// time, never holding more than the longest line a room takes: a longer
// one fills the buffer and is skipped, a buffer at a time, rather than
// read whole (the host would end the connection over it, and input with
// no newline must not grow without end). Line mode, JSON mode and send
// read their input through it.
type Lines struct{ in *bufio.Reader }

// NewLines reads lines from in.
func NewLines(in io.Reader) *Lines {
	// The buffer holds the longest line that may be sent and its line
	// ending.
	return &Lines{in: bufio.NewReaderSize(in, wire.MaxText+len("\r\n"))}
}

// ErrLineTooLong is a line over wire.MaxText bytes, already skipped.
var ErrLineTooLong = fmt.Errorf("line not sent: longer than %d bytes", wire.MaxText)

// Next returns the next line without its ending ("\n" or "\r\n"). The last
// line counts even without a final newline. A line too long is skipped,
// and ErrLineTooLong returned for it; io.EOF once input ends.
func (l *Lines) Next() (string, error) {
	tooLong := false
	for {
		chunk, err := l.in.ReadSlice('\n')
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
			return "", ErrLineTooLong
		}
		line := strings.TrimSuffix(strings.TrimSuffix(string(chunk), "\n"), "\r")
		if len(line) > wire.MaxText {
			return "", ErrLineTooLong
		}
		return line, nil
	}
}

package tui

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"chatroom/host/wire"
	"chatroom/join"
)

// historyLimit is how many lines the history keeps, in memory and on disk:
// liner's own limit, so what is saved is what Up can reach. With lines of
// at most wire.MaxText bytes, a history file stays under 4 MB.
const historyLimit = 1000

// HistoryFile returns where the history of the person called user is kept
// in the state directory dir. Names are the same in any case, so the file
// is too; bytes that could not appear in a file name everywhere are
// escaped.
func HistoryFile(dir, user string) string {
	var b strings.Builder
	for _, c := range []byte(strings.ToLower(user)) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return filepath.Join(dir, "history", b.String())
}

// keepInHistory reports whether a line the person typed may be kept: not
// an empty one, not one that starts with a space (as in a shell, the way to
// say "do not keep this"), not one too long to send, and never one that
// holds a secret such as the admin password.
func keepInHistory(line string, secrets []string) bool {
	if strings.TrimSpace(line) == "" || strings.HasPrefix(line, " ") || len(line) > wire.MaxText {
		return false
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(line, s) {
			return false
		}
	}
	return true
}

// loadHistory reads a history file: its last historyLimit lines that are
// fit to show again. A missing file is an empty history. Lines that are
// not valid UTF-8, hold control characters or are too long are skipped
// rather than failing the whole file: it is the person's own file, and one
// bad line should not cost them the rest.
func loadHistory(path string, secrets []string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the history: %w", err)
	}
	defer f.Close()
	return readHistory(f, path, secrets)
}

// readHistory is loadHistory's reading of the file at path (which errors
// name) from r, apart from opening it so that it can be fuzzed.
func readHistory(r io.Reader, path string, secrets []string) ([]string, error) {
	var lines []string
	// The longest line kept, with the line end that is cut from it.
	br := bufio.NewReaderSize(r, wire.MaxText+len("\r\r\n"))
	for {
		raw, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer is longer than any the
			// prompt keeps: skipped to its end, as other bad lines are.
			// Failing the file for it would start the prompt without
			// the history, and Close would then save over it.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			raw = nil
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("reading the history %s: %w", path, err)
		}
		if len(raw) > 0 {
			// As bufio.ScanLines read it, and a Windows line end besides.
			raw = bytes.TrimSuffix(bytes.TrimSuffix(raw, []byte("\n")), []byte("\r"))
			line := string(bytes.TrimSuffix(raw, []byte("\r")))
			if utf8.ValidString(line) && strings.IndexFunc(line, unicode.IsControl) < 0 && keepInHistory(line, secrets) {
				lines = append(lines, line)
				if len(lines) > 2*historyLimit {
					lines = append(lines[:0], lines[len(lines)-historyLimit:]...)
				}
			}
		}
		if err == io.EOF {
			break
		}
	}
	if len(lines) > historyLimit {
		lines = lines[len(lines)-historyLimit:]
	}
	return lines, nil
}

// saveHistory writes the last historyLimit lines to path, readable by the
// person alone (it is what they typed), replacing the file whole so that a
// crash leaves the old history or the new, never half of one. The
// directory is created if needed, private as the state directory is.
func saveHistory(path string, lines []string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("saving the history: %w", err)
	}
	if err := join.WriteStateFile(path, encodeHistory(lines), 0o600); err != nil {
		return fmt.Errorf("saving the history: %w", err)
	}
	return nil
}

// encodeHistory returns the history file that keeps the last historyLimit
// of lines.
func encodeHistory(lines []string) []byte {
	if len(lines) > historyLimit {
		lines = lines[len(lines)-historyLimit:]
	}
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

package tui

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"chatroom/join"
)

// The ignore list is the person's own: the names whose messages, /me
// lines and private messages the prompt hides (/ignore). The room is never
// told. It is kept by name, because that is all a room tells of its
// members (wire.Member has a name and a role, no key), so whoever has an
// ignored name is ignored, and someone ignored who comes back under
// another name is not.

// IgnoreFile returns where the ignore list of the person whose history is
// kept in historyFile (HistoryFile) is kept: beside it, under the same
// name with ".ignore" after it. HistoryFile escapes every "." of a name,
// so no one's history file is ever someone's ignore list.
func IgnoreFile(historyFile string) string {
	if historyFile == "" {
		return ""
	}
	return historyFile + ".ignore"
}

// maxIgnored bounds the ignore list, in memory and on disk.
const maxIgnored = 1000

// maxIgnoreFile bounds what is read of an ignore list: maxIgnored names of
// at most maxCompletion characters (of at most four bytes each), with
// room for the header.
const maxIgnoreFile = maxIgnored*(4*maxCompletion+2) + 4096

// ignoreHeader starts every ignore list written, for whoever opens it.
const ignoreHeader = "# chatroom: names whose messages this prompt hides (/ignore, /unignore); one a line\n"

// parseIgnores reads an ignore list: one name a line, blank lines and
// lines that start with "#" aside. A line that is not a name anyone could
// have (not valid UTF-8, a control character, a blank inside, too long:
// what completable refuses) is skipped, and only that line: the file is
// the person's own, and one damaged line must not cost the others. The
// warning says how many were skipped and which was first. A name listed
// twice, in any case, counts once; past maxIgnored names the rest are
// skipped, with a warning.
func parseIgnores(data []byte) (names []string, warnings []string) {
	damaged, firstDamaged, tooMany := 0, 0, 0
	for i, line := range bytes.Split(data, []byte("\n")) {
		s := strings.TrimSuffix(string(line), "\r")
		if strings.TrimSpace(s) == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if !completable(s) {
			if damaged == 0 {
				firstDamaged = i + 1
			}
			damaged++
			continue
		}
		if ignoredIndex(names, s) >= 0 {
			continue
		}
		if len(names) >= maxIgnored {
			tooMany++
			continue
		}
		names = append(names, s)
	}
	if damaged > 0 {
		warnings = append(warnings, fmt.Sprintf("%d damaged %s skipped (the first is line %d)", damaged, plural(damaged, "line", "lines"), firstDamaged))
	}
	if tooMany > 0 {
		warnings = append(warnings, fmt.Sprintf("more than %d names: the last %d skipped", maxIgnored, tooMany))
	}
	return names, warnings
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// encodeIgnores writes names as parseIgnores reads them.
func encodeIgnores(names []string) []byte {
	var b bytes.Buffer
	b.WriteString(ignoreHeader)
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// loadIgnores reads the ignore list at path: a missing file is an empty
// list, and the warnings say what of the file was skipped. Only its first
// maxIgnoreFile bytes are read.
func loadIgnores(path string) (names []string, warnings []string, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the ignore list %s: %s", path, reason(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxIgnoreFile+1))
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the ignore list %s: %s", path, reason(err))
	}
	if len(data) > maxIgnoreFile {
		data = data[:maxIgnoreFile]
		if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
			data = data[:i] // the line cut in two is not a name
		}
		warnings = append(warnings, fmt.Sprintf("longer than %d bytes: the rest skipped", maxIgnoreFile))
	}
	names, more := parseIgnores(data)
	return names, append(warnings, more...), nil
}

// saveIgnores writes the ignore list at path, private to the person.
func saveIgnores(path string, names []string) error {
	if err := join.WriteStateFile(path, encodeIgnores(names), 0o600); err != nil {
		return fmt.Errorf("cannot save the ignore list %s: %s", path, reason(err))
	}
	return nil
}

// ignoredIndex returns the index of name in names, compared in any case,
// or -1.
func ignoredIndex(names []string, name string) int {
	for i, n := range names {
		if strings.EqualFold(n, name) {
			return i
		}
	}
	return -1
}

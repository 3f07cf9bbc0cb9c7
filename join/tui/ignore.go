package tui

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"chatroom/join"
)

// The ignore list is the person's own: the members whose messages, /me
// lines and private messages the prompt hides (/ignore). The room is never
// told. Each is kept by name and, when the room told it, by the tag of
// their identity key (as /whois shows it): someone ignored by key stays
// hidden under any other name, by /nick or by joining again, and someone
// else who takes their name with another key is not hidden. Someone the
// room tells no key for (a member without one, an older host, someone not
// here) is ignored by name: whoever has the name is.

// ignoredMember is one entry of the ignore list: the name ignored, and the
// key tag the room told for its member then, "" for none.
type ignoredMember struct {
	Name string
	Key  string
}

// matches reports whether e hides the member called name whose key tag is
// key ("" when the room tells none). When both keys are known they
// decide, whatever the names; otherwise the names do, in any case.
func (e ignoredMember) matches(name, key string) bool {
	if e.Key != "" && key != "" {
		return e.Key == key
	}
	return strings.EqualFold(e.Name, name)
}

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
// at most maxCompletion characters (of at most four bytes each) and their
// key tags, with room for the header.
const maxIgnoreFile = maxIgnored*(4*maxCompletion+2+64) + 4096

// ignoreHeader starts every ignore list written, for whoever opens it.
const ignoreHeader = "# chatroom: members whose messages this prompt hides (/ignore, /unignore); one a line: NAME, or NAME KEYTAG\n"

// parseIgnores reads an ignore list: one member a line, as "NAME" or
// "NAME KEYTAG" (lists written before keys were kept have names alone),
// blank lines and lines that start with "#" aside. A line that is not a
// name anyone could have (not valid UTF-8, a control character, too
// long: what completable refuses), or whose key is not a key tag
// (join.ValidKeyTag), is skipped, and only that line: the file is the
// person's own, and one damaged line must not cost the others. The
// warning says how many were skipped and which was first. A member listed
// twice (an entry that an earlier one already hides: the same key, or
// the same name in any case where a key is missing) counts once; past
// maxIgnored the rest are skipped, with a warning.
func parseIgnores(data []byte) (list []ignoredMember, warnings []string) {
	damaged, firstDamaged, tooMany := 0, 0, 0
	for i, line := range bytes.Split(data, []byte("\n")) {
		s := strings.TrimSuffix(string(line), "\r")
		if strings.TrimSpace(s) == "" || strings.HasPrefix(s, "#") {
			continue
		}
		name, key, keyed := strings.Cut(s, " ")
		if !completable(name) || keyed && !join.ValidKeyTag(key) {
			if damaged == 0 {
				firstDamaged = i + 1
			}
			damaged++
			continue
		}
		if ignoredIndex(list, name, key) >= 0 {
			continue
		}
		if len(list) >= maxIgnored {
			tooMany++
			continue
		}
		list = append(list, ignoredMember{Name: name, Key: key})
	}
	if damaged > 0 {
		warnings = append(warnings, fmt.Sprintf("%d damaged %s skipped (the first is line %d)", damaged, plural(damaged, "line", "lines"), firstDamaged))
	}
	if tooMany > 0 {
		warnings = append(warnings, fmt.Sprintf("more than %d names: the last %d skipped", maxIgnored, tooMany))
	}
	return list, warnings
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// encodeIgnores writes list as parseIgnores reads it.
func encodeIgnores(list []ignoredMember) []byte {
	var b bytes.Buffer
	b.WriteString(ignoreHeader)
	for _, e := range list {
		b.WriteString(e.Name)
		if e.Key != "" {
			b.WriteByte(' ')
			b.WriteString(e.Key)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// loadIgnores reads the ignore list at path: a missing file is an empty
// list, and the warnings say what of the file was skipped. Only its first
// maxIgnoreFile bytes are read.
func loadIgnores(path string) (list []ignoredMember, warnings []string, err error) {
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
	list, more := parseIgnores(data)
	return list, append(warnings, more...), nil
}

// saveIgnores writes the ignore list at path, private to the person.
func saveIgnores(path string, list []ignoredMember) error {
	if err := join.WriteStateFile(path, encodeIgnores(list), 0o600); err != nil {
		return fmt.Errorf("cannot save the ignore list %s: %s", path, reason(err))
	}
	return nil
}

// ignoredIndex returns the index of the first entry of list that hides
// the member called name with key tag key ("" for none known), or -1.
func ignoredIndex(list []ignoredMember, name, key string) int {
	return slices.IndexFunc(list, func(e ignoredMember) bool { return e.matches(name, key) })
}

// ignoredNames returns the names of list, for completing /unignore.
func ignoredNames(list []ignoredMember) []string {
	names := make([]string, 0, len(list))
	for _, e := range list {
		names = append(names, e.Name)
	}
	return names
}

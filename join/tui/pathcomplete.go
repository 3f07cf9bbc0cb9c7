package tui

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"chatroom/join"
)

// Tab after "/send " completes a local path, as a shell does: the files
// and directories of the current directory, or of the directory typed
// ("docs/sl", "/tmp/", "~/Downloads/" with "~/" standing for the home
// directory), a directory with "/" after it so that Tab goes on inside
// it, a file with a space after it. Hidden names (".x") are offered only
// when a dot is typed. A path with a blank in it is put in double quotes
// ("/send "my slides.pdf" "), which the client reads as one path; one
// with a double quote in it too is not offered.
//
// This is the one completion that does not come from the room: it comes
// from the person's own disk, which is theirs to name as they like, but a
// name that would not show as itself (a control, a bidi character)
// is still not typed into the line.

// maxPathEntries bounds the entries of a directory read for one Tab, and
// maxPathCandidates the ones offered: a directory of a hundred thousand
// files must not hold the prompt, nor fill the screen with a listing.
const (
	maxPathEntries    = 10000
	maxPathCandidates = 200
)

// sendPath completes the path after "/send " when the cursor is in it;
// ok is false when the line is not "/send" with a path being typed, for
// the other completions to handle (the name after the path among them).
func (c completions) sendPath(line string, pos int) (head string, candidates []string, tail string, ok bool) {
	runes := []rune(line)
	pos = max(0, min(pos, len(runes)))
	before := string(runes[:pos])
	tail = string(runes[pos:])
	const cmd = "/send"
	if len(before) <= len(cmd) || !strings.EqualFold(before[:len(cmd)], cmd) {
		return "", nil, "", false
	}
	arg := strings.TrimLeftFunc(before[len(cmd):], unicode.IsSpace)
	if len(arg) == len(before)-len(cmd) {
		return "", nil, "", false // "/sendx": another word, not /send
	}
	if quoted, ok := strings.CutPrefix(arg, `"`); ok {
		if strings.Contains(quoted, `"`) {
			return "", nil, "", false // the path is closed: the cursor is past it
		}
	} else if strings.IndexFunc(arg, unicode.IsSpace) >= 0 {
		return "", nil, "", false
	}
	head = before[:len(before)-len(arg)]
	return head, c.paths(arg, tail), tail, true
}

// paths returns the candidates that may replace arg, the path typed so
// far (with its opening quote, if any).
func (c completions) paths(arg, tail string) []string {
	quoted := strings.HasPrefix(arg, `"`)
	typed := strings.TrimPrefix(arg, `"`)
	if typed == "~" && c.Home != "" {
		return []string{`~/`}
	}
	dirPart, base := "", typed
	if i := strings.LastIndex(typed, "/"); i >= 0 {
		dirPart, base = typed[:i+1], typed[i+1:]
	}
	dir := dirPart
	switch {
	case strings.HasPrefix(dir, "~/") && c.Home != "":
		dir = filepath.Join(c.Home, dir[2:])
	case dir == "":
		dir = "."
	}
	if !filepath.IsAbs(dir) && c.Dir != "" {
		dir = filepath.Join(c.Dir, dir)
	}
	type entry struct {
		name string
		dir  bool
	}
	var exact, folded []entry
	f, err := os.Open(dir)
	if err != nil {
		return nil
	}
	list, _ := f.ReadDir(maxPathEntries)
	f.Close()
	for _, e := range list {
		name := e.Name()
		if strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".") || !pathShows(name) {
			continue
		}
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			if fi, err := os.Stat(filepath.Join(dir, name)); err == nil {
				isDir = fi.IsDir()
			}
		}
		switch {
		case strings.HasPrefix(name, base):
			exact = append(exact, entry{name, isDir})
		case hasPrefixFold(name, base):
			folded = append(folded, entry{name, isDir})
		}
	}
	found := exact
	if len(found) == 0 {
		found = folded // "sl" finds "Slides.pdf" when nothing starts with "sl"
	}
	slices.SortFunc(found, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	found = found[:min(len(found), maxPathCandidates)]

	needQuote := quoted || strings.IndexFunc(dirPart, unicode.IsSpace) >= 0
	for _, e := range found {
		needQuote = needQuote || strings.IndexFunc(e.name, unicode.IsSpace) >= 0
	}
	var out []string
	for _, e := range found {
		if needQuote && strings.Contains(e.name, `"`) {
			continue // no way to write it inside quotes
		}
		cand := dirPart + e.name
		if e.dir {
			cand += "/"
		}
		if needQuote {
			cand = `"` + cand
		}
		out = append(out, cand)
	}
	if len(out) == 1 && !strings.HasSuffix(out[0], "/") {
		if needQuote {
			out[0] += `"`
		}
		if tail == "" || !unicode.IsSpace(firstRune(tail)) {
			out[0] += " "
		}
	}
	return out
}

// pathShows reports whether a local name may be typed into the line: it
// shows as itself (no control, no bidi or other format character, valid
// UTF-8).
func pathShows(name string) bool {
	if !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		if join.NeedsPlaceholder(r) || unicode.Is(unicode.C, r) || unicode.In(r, unicode.Zl, unicode.Zp) {
			return false
		}
	}
	return true
}

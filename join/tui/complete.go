package tui

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"chatroom/host/wire"
	"chatroom/join"
)

// completions is what Tab completion draws on: a snapshot of the roster,
// taken when Tab is pressed so that it is always current.
type completions struct {
	// Commands the person may use now, the host's and the client's own.
	Commands []wire.Command
	// Names of everyone present in completion order: the most recent
	// speakers first, the person last (Roster.Names).
	Names []string
	// Banned names (Roster.Banned), for "/unban".
	Banned []string
	// Args are the fixed words some commands take ("bell": on, off).
	Args map[string][]string
	// Me is the person's own name, never offered to address.
	Me string
	// Dir is the directory relative paths after "/send " are completed
	// in ("": the current one); Home is what "~/" stands for ("": "~/"
	// is not expanded).
	Dir, Home string
}

// completionsFrom takes a snapshot of r for completion, with the client's
// own commands added to the host's.
func completionsFrom(r *join.Roster, local []wire.Command, args map[string][]string) completions {
	return completions{
		Commands: append(r.Commands(), local...),
		Names:    r.Names(),
		Banned:   r.Banned(),
		Args:     args,
		Me:       r.Me(),
	}
}

// Complete completes the word before the cursor in line; pos is the
// cursor's position in runes. It returns the line before the word (head),
// the candidates that may replace the word, and the line after the cursor
// (tail), as liner's WordCompleter does.
//
// What is offered depends on where the word is: in the first word of a
// line that starts with "/", the commands; in the second word, the names a
// command takes (members after /kick, /ban, /op, /deop and /msg; banned
// names after /unban; a command's fixed words); in the first word of a
// message, the members one may address, each with ": " after it, as IRC
// clients do ("bo" Tab gives "Bob: "), the person themself left out; and
// anywhere else in a line, the names of members. Words match by prefix in
// any case. A single candidate ends with a space, unless one already
// follows the cursor, so that typing goes on. Only what is completable is
// offered: the room sends every name and command. After "/send " the
// path being typed is completed from the disk instead (sendPath).
func (c completions) Complete(line string, pos int) (head string, candidates []string, tail string) {
	if head, candidates, tail, ok := c.sendPath(line, pos); ok {
		return head, candidates, tail
	}
	head, word, tail := splitAtWord(line, pos)
	words := strings.Fields(head)
	command := isCommand(line)

	switch {
	case len(words) == 0 && command && word != "":
		for _, cmd := range c.Commands {
			if completable(cmd.Name) && hasPrefixFold(cmd.Name, word[1:]) {
				candidates = append(candidates, "/"+cmd.Name)
			}
		}
		slices.Sort(candidates)
		candidates = slices.Compact(candidates)
	case len(words) == 1 && command:
		name := strings.ToLower(words[0][1:])
		switch target := c.target(name); {
		case target == "member":
			candidates = matching(c.Names, word)
		case target == "banned":
			candidates = matching(c.Banned, word)
		case c.Args[name] != nil:
			candidates = matching(c.Args[name], word)
		case word != "":
			candidates = matching(c.Names, word)
		}
	case len(words) == 0 && word != "":
		return head, c.addressed(word, tail), tail
	case word != "":
		candidates = matching(c.Names, word)
	}
	return head, finish(candidates, word, tail), tail
}

// Cycles reports whether Tab at pos in line should cycle through the
// candidates, each put on the line in turn, rather than list them: it
// does where a member is addressed (the first word of a message), as in
// irssi and weechat, so that Tab, Tab, Tab goes through the recent
// speakers one by one.
func (c completions) Cycles(line string, pos int) bool {
	head, word, _ := splitAtWord(line, pos)
	return strings.TrimSpace(head) == "" && word != "" && !isCommand(line)
}

// addressed returns the members whose names start with word, the person
// left out, each as it is to stand first in a message: "Bob: ". They stay
// whole and in their own case, since each replaces the word in turn
// (Cycles).
func (c completions) addressed(word, tail string) []string {
	end := ": "
	if tail != "" && unicode.IsSpace(firstRune(tail)) {
		end = ":"
	}
	var out []string
	for _, name := range matching(c.Names, word) {
		if c.Me != "" && name == c.Me {
			continue
		}
		out = append(out, name+end)
	}
	return out
}

// splitAtWord cuts line at the word that ends at the cursor, pos runes in:
// what is before the word, the word, and what is after the cursor.
func splitAtWord(line string, pos int) (head, word, tail string) {
	runes := []rune(line)
	pos = max(0, min(pos, len(runes)))
	before, tail := string(runes[:pos]), string(runes[pos:])
	start := 0 // of the word: after the last space before the cursor
	if i := strings.LastIndexFunc(before, unicode.IsSpace); i >= 0 {
		_, size := utf8.DecodeRuneInString(before[i:])
		start = i + size
	}
	return before[:start], before[start:], tail
}

// isCommand reports whether line is a command: it starts with "/", and not
// with "//", which sends a message that starts with "/".
func isCommand(line string) bool {
	return strings.HasPrefix(line, "/") && !strings.HasPrefix(line, "//")
}

// target returns the Target of the command called name, if the person may
// use it.
func (c completions) target(name string) string {
	for _, cmd := range c.Commands {
		if cmd.Name == name {
			return cmd.Target
		}
	}
	return ""
}

// finish makes candidates fit to replace word: a single one gets its
// trailing space; several keep the word's own case where they differ in
// theirs, because liner replaces the word with what all candidates have
// in common, which would otherwise drop what was typed.
func finish(candidates []string, word, tail string) []string {
	switch {
	case len(candidates) == 0:
		return nil
	case len(candidates) == 1:
		if tail == "" || !unicode.IsSpace(firstRune(tail)) {
			return []string{candidates[0] + " "}
		}
		return candidates
	}
	n := utf8.RuneCountInString(word)
	if utf8.RuneCountInString(commonPrefix(candidates)) >= n {
		return candidates
	}
	out := make([]string, len(candidates))
	for i, c := range candidates {
		out[i] = word + string([]rune(c)[n:])
	}
	return out
}

// matching returns the completable words of list that start with prefix
// in any case, in the order of list.
func matching(list []string, prefix string) []string {
	var out []string
	for _, w := range list {
		if completable(w) && hasPrefixFold(w, prefix) {
			out = append(out, w)
		}
	}
	return out
}

// hasPrefixFold reports whether s starts with prefix, compared rune by
// rune in any case.
func hasPrefixFold(s, prefix string) bool {
	n := utf8.RuneCountInString(prefix)
	r := []rune(s)
	return len(r) >= n && strings.EqualFold(string(r[:n]), prefix)
}

// commonPrefix returns the longest prefix, in whole runes, that every
// string in list shares exactly.
func commonPrefix(list []string) string {
	p := []rune(list[0])
	for _, s := range list[1:] {
		r := []rune(s)
		n := 0
		for n < len(p) && n < len(r) && p[n] == r[n] {
			n++
		}
		p = p[:n]
	}
	return string(p)
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// maxCompletion bounds a candidate: the longest name a room allows, with
// room to spare for commands and their words.
const maxCompletion = 64

// completable reports whether s may be offered for completion. Every
// candidate comes from the room (names, commands, their words, banned
// names), and the line editor both draws a candidate as it is and types
// it into the line, so only what shows as itself may be offered: no
// character that Sanitize would replace, nothing of Unicode's category C
// (controls, format characters such as bidi marks, private use), nothing
// unassigned, no blank, which would end the word, and nothing longer than
// a real name or command. A room that sends anything else has it shown,
// sanitized, in its lines, but never offered to type.
func completable(s string) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxCompletion {
		return false
	}
	for _, r := range s {
		if join.NeedsPlaceholder(r) || unicode.Is(unicode.C, r) || unicode.IsSpace(r) || !unicode.IsGraphic(r) {
			return false
		}
	}
	return true
}

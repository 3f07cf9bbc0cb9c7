package tui

import (
	"slices"
	"testing"

	"chatroom/host/room"
	"chatroom/host/wire"
)

// testCompletions is a room as an admin's completion sees it: the host's
// commands (all of them, as an admin may use them) and the client's own,
// members with the most recent speakers first and the person (ana) last,
// and two banned names.
func testCompletions() completions {
	return completions{
		Commands: append(room.Commands(), localCommands...),
		Names:    []string{"cy", "alice", "Alan", "Bob", "émile", "ana"},
		Banned:   []string{"dan", "Eve", "evan"},
		Args:     localArgs,
		Me:       "ana",
	}
}

func TestComplete(t *testing.T) {
	everyCommand := []string{"/away", "/ban", "/bans", "/bell", "/clear", "/deop", "/files", "/get", "/help", "/ignore", "/kick", "/me", "/modlog", "/msg", "/mute", "/mutes", "/names", "/nick", "/op", "/ops", "/query", "/quit", "/topic", "/unban", "/unignore", "/unmute", "/unsend", "/w", "/who", "/whois"}
	tests := []struct {
		name     string
		line     string
		pos      int // -1: the end of the line
		wantHead string
		want     []string
		wantTail string
	}{
		// Command names, after "/".
		{"every command", "/", -1, "", everyCommand, ""},
		{"commands by prefix", "/b", -1, "", []string{"/ban", "/bans", "/bell"}, ""},
		{"a command in any case", "/KI", -1, "", []string{"/kick "}, ""},
		{"a unique command", "/unb", -1, "", []string{"/unban "}, ""},
		{"the client's own command", "/be", -1, "", []string{"/bell "}, ""},
		{"no such command", "/zz", -1, "", nil, ""},
		{"a command already whole", "/quit", -1, "", []string{"/quit "}, ""},
		{"a whole command, prefix of another", "/who", -1, "", []string{"/who", "/whois"}, ""},
		// Each command that takes a member.
		{"kick", "/kick al", -1, "/kick ", []string{"alice", "alan"}, ""},
		{"kick, unique", "/kick ali", -1, "/kick ", []string{"alice "}, ""},
		{"ban", "/ban b", -1, "/ban ", []string{"Bob "}, ""},
		{"op", "/op c", -1, "/op ", []string{"cy "}, ""},
		{"deop", "/deop É", -1, "/deop ", []string{"émile "}, ""},
		{"msg", "/msg a", -1, "/msg ", []string{"alice", "alan", "ana"}, ""},
		{"a command typed in capitals", "/KICK cy", -1, "/KICK ", []string{"cy "}, ""},
		{"every member, recent speakers first, me last", "/kick ", -1, "/kick ", []string{"cy", "alice", "Alan", "Bob", "émile", "ana"}, ""},
		{"no such member", "/kick zed", -1, "/kick ", nil, ""},
		// Banned names after /unban, not members.
		{"unban", "/unban e", -1, "/unban ", []string{"eve", "evan"}, ""},
		{"unban, unique", "/unban d", -1, "/unban ", []string{"dan "}, ""},
		{"unban is not for members", "/unban al", -1, "/unban ", nil, ""},
		{"every banned name", "/unban ", -1, "/unban ", []string{"dan", "Eve", "evan"}, ""},
		// A command's own words.
		{"bell", "/bell o", -1, "/bell ", []string{"on", "off"}, ""},
		{"bell off", "/bell of", -1, "/bell ", []string{"off "}, ""},
		{"ignore takes a member", "/ignore b", -1, "/ignore ", []string{"Bob "}, ""},
		// Anywhere else in a line, members: to address them.
		{"a name in a message", "hi al", -1, "hi ", []string{"alice", "alan"}, ""},
		// The first word of a message addresses a member, as IRC clients
		// do: "Bob: ", never the person themself.
		{"a name first in a message", "bo", -1, "", []string{"Bob: "}, ""},
		{"addressing, several", "a", -1, "", []string{"alice: ", "Alan: "}, ""},
		{"addressing keeps each name's case", "AL", -1, "", []string{"alice: ", "Alan: "}, ""},
		{"addressing, recent speakers first", "", -1, "", nil, ""},
		{"addressing oneself", "an", -1, "", nil, ""},
		{"addressing before a space", "bo hi", 2, "", []string{"Bob:"}, " hi"},
		{"addressing before text", "bohi", 2, "", []string{"Bob: "}, "hi"},
		{"addressing after a blank", " bo", -1, " ", []string{"Bob: "}, ""},
		{"a name after /me", "/me hugs c", -1, "/me hugs ", []string{"cy "}, ""},
		{"the reason of a kick", "/kick cy spam b", -1, "/kick cy spam ", []string{"Bob "}, ""},
		{"a message that starts with a slash", "//b", -1, "", nil, ""},
		{"nothing typed", "", -1, "", nil, ""},
		{"a space typed", "hi ", -1, "hi ", nil, ""},
		{"a command with no target, nothing typed", "/who ", -1, "/who ", nil, ""},
		// The cursor inside the line: only what is before it counts.
		{"cursor in the middle", "/kick al spam", 8, "/kick ", []string{"alice", "alan"}, " spam"},
		{"unique in the middle, a space follows", "/kick ali spam", 9, "/kick ", []string{"alice"}, " spam"},
		{"unique in the middle of a word", "/kick alixyz", 9, "/kick ", []string{"alice "}, "xyz"},
		{"cursor at the start", "/kick", 0, "", nil, "/kick"},
		// Several candidates whose case differs (Alan, alice) keep the
		// letters as typed, or liner, which puts on the line what all
		// candidates have in common, would drop them.
		{"mixed case", "/kick AL", -1, "/kick ", []string{"ALice", "ALan"}, ""},
		{"mixed case, capital first", "/kick Al", -1, "/kick ", []string{"Alice", "Alan"}, ""},
		{"mixed case, one letter", "/kick B", -1, "/kick ", []string{"Bob "}, ""},
		{"wide characters", "hi 漢", -1, "hi ", nil, ""},
	}
	c := testCompletions()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pos := tt.pos
			if pos < 0 {
				pos = len([]rune(tt.line))
			}
			head, got, tail := c.Complete(tt.line, pos)
			if head != tt.wantHead || !slices.Equal(got, tt.want) || tail != tt.wantTail {
				t.Errorf("Complete(%q, %d) = %q, %q, %q; want %q, %q, %q", tt.line, pos, head, got, tail, tt.wantHead, tt.want, tt.wantTail)
			}
		})
	}
}

// TestCompleteCycles: Tab cycles through the candidates, one on the line
// at a time, where a member is addressed; elsewhere it lists them.
func TestCompleteCycles(t *testing.T) {
	tests := []struct {
		line string
		pos  int
		want bool
	}{
		{"a", 1, true},
		{"bo", 2, true},
		{"bo hi", 2, true},
		{"", 0, false},
		{"hi a", 4, false},
		{"/kick a", 7, false},
		{"/k", 2, false},
		{"/msg a hi", 6, false},
		{"hi a", 1, true}, // the cursor in the first word
		{" a", 2, true},
	}
	for _, tt := range tests {
		if got := (completions{}).Cycles(tt.line, tt.pos); got != tt.want {
			t.Errorf("Cycles(%q, %d) = %v, want %v", tt.line, tt.pos, got, tt.want)
		}
	}
}

// TestCompleteFollowsTheRoster: completion is taken from the roster as it
// is when Tab is pressed: new members and speakers, role changes and the
// ban list all show at once.
func TestCompleteFollowsTheRoster(t *testing.T) {
	r, apply := liveRoster(t, wire.Frame{
		You:      &wire.Member{Name: "bob", Role: wire.RoleMember},
		Members:  []wire.Member{{Name: "ana", Role: wire.RoleOwner}, {Name: "bob", Role: wire.RoleMember}},
		Commands: room.Commands(),
	})
	complete := func(line string) []string {
		_, got, _ := completionsFrom(r, localCommands, localArgs).Complete(line, len([]rune(line)))
		return got
	}
	event := func(f wire.Frame) { f.Type = wire.TypeEvent; apply(f) }

	if got := complete("/k"); got != nil {
		t.Errorf("a member completes /k to %q; /kick is for admins", got)
	}
	if got := complete("/"); slices.Contains(got, "/unban") || !slices.Contains(got, "/msg") || !slices.Contains(got, "/bell") {
		t.Errorf("a member's commands: %q", got)
	}
	event(wire.Frame{Kind: wire.KindJoin, Name: "alice", Role: wire.RoleMember})
	event(wire.Frame{Kind: wire.KindJoin, Name: "alan", Role: wire.RoleMember})
	if got := complete("/msg a"); !slices.Equal(got, []string{"alan", "alice", "ana"}) {
		t.Errorf("after joins: %q", got)
	}
	event(wire.Frame{Kind: wire.KindSay, From: "ana", Text: "hi"})
	event(wire.Frame{Kind: wire.KindSay, From: "alice", Text: "hi"})
	if got := complete("/msg a"); !slices.Equal(got, []string{"alice", "ana", "alan"}) {
		t.Errorf("after ana and alice spoke: %q, want the latest speaker first", got)
	}

	// Made an admin: the admin commands, and the bans the host sends.
	event(wire.Frame{Kind: wire.KindRole, Name: "bob", Role: wire.RoleAdmin, By: "ana"})
	apply(wire.Frame{Type: wire.TypeBans, Bans: []string{"zed", "Zoe"}})
	if got := complete("/kick al"); !slices.Equal(got, []string{"alice", "alan"}) {
		t.Errorf("an admin completes /kick al to %q", got)
	}
	if got := complete("/unban z"); !slices.Equal(got, []string{"zed", "zoe"}) {
		t.Errorf("/unban z: %q", got)
	}
	apply(wire.Frame{Type: wire.TypeBans, Bans: []string{"Zoe"}})
	if got := complete("/unban z"); !slices.Equal(got, []string{"Zoe "}) {
		t.Errorf("after an unban: %q", got)
	}

	// A member who leaves is no longer offered; demoted, the admin
	// commands and the bans go.
	event(wire.Frame{Kind: wire.KindLeave, Name: "alice", Code: wire.CodeLeft})
	if got := complete("/kick al"); !slices.Equal(got, []string{"alan "}) {
		t.Errorf("after alice left: %q", got)
	}
	event(wire.Frame{Kind: wire.KindRole, Name: "bob", Role: wire.RoleMember, By: "ana"})
	if got := complete("/unb"); got != nil {
		t.Errorf("a demoted member completes /unb to %q", got)
	}
	if got := r.Banned(); got != nil {
		t.Errorf("a demoted member's Banned() = %q", got)
	}
}

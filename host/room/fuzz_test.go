package room

import (
	"testing"

	"chatroom/host/wire"
)

// FuzzSay feeds arbitrary lines, as typed by an admin and by a member, to
// a room: the command parser and the message rules must never panic,
// every frame the room sends must be a frame (parse fails the test
// otherwise), and a bystander must see the room's events numbered without
// a gap, whatever was typed.
func FuzzSay(f *testing.F) {
	for _, seed := range []string{
		"hello", "", " ", "/", "//", "///x", "/ who", "/WHO", "/help",
		"/kick", "/kick bob", "/kick bob  spam  and more", "/kick ana", "/kick nobody",
		"/ban bob spam", "/ban Bob", "/ban аna", "/ban " + "x\u200b", "/unban bob", "/unban", "/bans",
		"/op bob", "/deop bob", "/deop ana", "/me", "/me waves", "/msg", "/msg bob", "/msg bob hi",
		"/msg ана hi", "/quit", "/quit now", "\t/who", "/who\t", "a\x1b[2Jb", "\xff\xfe", "/\xff",
		"/kick\tbob", "/kick\u00a0bob", "/\u202ekick bob",
	} {
		f.Add(seed, "/who")
		f.Add("/who", seed)
	}
	f.Fuzz(func(t *testing.T, asAdmin, asMember string) {
		tr := startRoom(t, Config{})
		watcher := tr.join("watcher")
		ana := tr.joinReq(JoinRequest{Name: "ana", Admin: true})
		bob := tr.join("bob")
		next := watcher.welcome.Seq + 1
		for _, line := range []string{asAdmin, asMember, asAdmin} {
			ana.say(line)
			bob.say(line)
		}
		for _, c := range []*client{ana, bob} {
			c.frames() // parsed, so each is a well-formed frame
		}
		for _, fr := range watcher.frames() {
			if fr.Type != wire.TypeEvent {
				continue
			}
			if fr.Seq != next {
				t.Fatalf("the watcher saw event %d where %d was due", fr.Seq, next)
			}
			next++
		}
	})
}

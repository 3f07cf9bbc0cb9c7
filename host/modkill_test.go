package host

import (
	"log/slog"
	"strings"
	"testing"

	"chatroom/host/room"
	"chatroom/host/wire"
)

// Attack on the moderation log as a record: an admin acts on mal (kick,
// mute, unmute, op, deop) and the host dies with SIGKILL the moment the
// act shows, on the admin's connection or on mal's, whichever sees it
// first: a confirmation, a leave or role event, mal's notice. Whatever
// was seen to be done is in modlog.jsonl after the kill, as the host's
// own loader reads it. When the room wrote the entry after confirming,
// a kill in between lost it, and the log no longer said who had done
// what. Each act is tried a few times, each time on a new host: with the
// entry written after the confirmation, a kill caught the window in about
// half the rounds of kick, mute and op, and in a few of unmute and deop
// (their entry is not the log's first, so no file is made), which failed
// this test in every one of ten runs.
func TestModerationLogSurvivesKillAtConfirmation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills host processes")
	}
	malKey := keyed(t) // so that an op is remembered by key, and saved
	const rounds = 10
	acts := []struct {
		action string
		// setup is a command done first, and seen done by the admin
		// (setupDone), on which the act depends.
		setup     string
		setupDone func(wire.Frame) bool
		command   string
		// shows reports whether f, read by the admin or by mal, shows
		// that the act was done.
		shows func(f wire.Frame) bool
	}{
		{
			action:  "kick",
			command: "/kick mal spamming",
			shows: func(f wire.Frame) bool {
				return f.Type == wire.TypeEvent && f.Kind == wire.KindLeave && f.Name == "mal" ||
					f.Type == wire.TypeClosed && f.Code == wire.CodeKicked
			},
		},
		{
			action:  "mute",
			command: "/mute mal 1h spamming",
			shows: func(f wire.Frame) bool {
				return isNotice(f, "muted mal ") || isNotice(f, "ana muted you")
			},
		},
		{
			action:    "unmute",
			setup:     "/mute mal",
			setupDone: func(f wire.Frame) bool { return isNotice(f, "muted mal ") },
			command:   "/unmute mal",
			shows: func(f wire.Frame) bool {
				return isNotice(f, "unmuted mal") || isNotice(f, "ana unmuted you")
			},
		},
		{
			action:  "op",
			command: "/op mal",
			shows:   func(f wire.Frame) bool { return isRoleEvent(f, "mal", wire.RoleAdmin) },
		},
		{
			action:    "deop",
			setup:     "/op mal",
			setupDone: func(f wire.Frame) bool { return isRoleEvent(f, "mal", wire.RoleAdmin) },
			command:   "/deop mal",
			shows:     func(f wire.Frame) bool { return isRoleEvent(f, "mal", wire.RoleMember) },
		},
	}
	for _, act := range acts {
		for round := range rounds {
			p := startHostProcess(t, "crash")
			admin := helloOn(t, dialAddr(t, p.addr, dialOptions{}), "ana", "letmein")
			if admin.welcome.Type != wire.TypeWelcome || admin.welcome.You.Role != wire.RoleAdmin {
				t.Fatalf("admin not welcomed as admin: %+v", admin.welcome)
			}
			mal := helloOn(t, dialAddr(t, p.addr, malKey), "mal", "")
			if mal.welcome.Type != wire.TypeWelcome {
				t.Fatalf("mal not welcomed: %+v", mal.welcome)
			}
			if act.setup != "" {
				admin.say(act.setup)
				for f := admin.next(); !act.setupDone(f); f = admin.next() {
					if f.Type == wire.TypeNotice && f.Error {
						t.Fatalf("%s refused: %+v", act.setup, f)
					}
				}
			}

			// Both connections watch for the act; the first to see it
			// kills the host there and then, without a hop through
			// another goroutine.
			type watched struct {
				shown   bool
				refusal *wire.Frame
			}
			results := make(chan watched, 2)
			watch := func(c *client) {
				for {
					f, err := c.read()
					if err != nil {
						results <- watched{}
						return
					}
					if act.shows(f) {
						p.cmd.Process.Kill()
						results <- watched{shown: true}
						return
					}
					if f.Type == wire.TypeNotice && f.Error {
						results <- watched{refusal: &f}
						return
					}
				}
			}
			go watch(admin)
			go watch(mal)
			admin.say(act.command)
			shown := false
			for range 2 {
				r := <-results
				if r.refusal != nil {
					p.kill()
					t.Fatalf("%s refused: %+v", act.command, *r.refusal)
				}
				if r.shown {
					shown = true
					p.kill() // and let the other's read end
				}
			}
			if !shown {
				t.Fatalf("%s: neither the admin nor mal saw it done", act.command)
			}

			entries, err := loadModLog(p.dir, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatalf("%s, round %d: the moderation log after the kill: %v", act.action, round, err)
			}
			if !hasModEntry(entries, act.action, "mal") {
				t.Fatalf("%s, round %d: %q was seen done, but after the kill the moderation log has %d entries and not that one: %+v",
					act.action, round, act.command, len(entries), entries)
			}
		}
	}
}

// isNotice reports whether f is a notice, not an error, that starts with
// prefix.
func isNotice(f wire.Frame, prefix string) bool {
	return f.Type == wire.TypeNotice && !f.Error && strings.HasPrefix(f.Text, prefix)
}

// isRoleEvent reports whether f is the event giving name role.
func isRoleEvent(f wire.Frame, name, role string) bool {
	return f.Type == wire.TypeEvent && f.Kind == wire.KindRole && f.Name == name && f.Role == role
}

func hasModEntry(entries []room.ModEntry, action, target string) bool {
	for _, e := range entries {
		if e.Action == action && e.Target == target && e.By == "ana" {
			return true
		}
	}
	return false
}

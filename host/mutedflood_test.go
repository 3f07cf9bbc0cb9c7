package host

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"chatroom/host/room"
	"chatroom/host/wire"
)

// Attack, over the network: mal, muted by its identity key, cannot say a
// thing, so it reconnects over and over with that key, from ever new
// addresses, under names that are its message ("BUY-CHEAP-WATCHES-17"):
// each visit was a join and a leave notice on everyone's screen, 400
// lines in 0.3 s. Bob, reading all along, sees none of those names, in
// any event or in the welcome of carol, who comes after; and carol's
// line still gets through. With the room's default join limits, which
// soon refuse mal's key, and with them lifted, which shows that the
// hiding of a muted member holds by itself.
func TestMutedMemberCannotFloodThroughJoinNames(t *testing.T) {
	requireLoopbackRange(t)
	for _, tt := range []struct {
		name   string
		limits room.JoinLimits
	}{
		{"default join limits", room.DefaultJoinLimits},
		{"join limits lifted", benchJoinLimits},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := startHost(t, Config{JoinLimits: tt.limits})
			ana := owner(t, h, "ana")
			malKey := keyed(t)
			malKey.from = "127.0.0.2"
			member(t, h, "mal", malKey)
			ana.nextEvent(wire.KindJoin)
			bob := member(t, h, "bob", dialOptions{from: "127.0.0.3"})
			ana.nextEvent(wire.KindJoin)
			ana.say("/mute mal 1h spam")
			if n := ana.nextNotice(); n.Error || !strings.HasPrefix(n.Text, "muted mal ") {
				t.Fatalf("mute confirmed as %+v", n)
			}

			// Bob reads all along, as a member does, up to carol's line.
			type seen struct {
				frames []wire.Frame
				err    error
			}
			read := make(chan seen, 1)
			go func() {
				var s seen
				for {
					f, err := bob.read()
					if err != nil {
						s.err = err
						break
					}
					if f.Type == wire.TypePing {
						// The host's heartbeat, when the flood takes
						// longer than one on a busy machine: no event.
						continue
					}
					s.frames = append(s.frames, f)
					if f.Type == wire.TypeEvent && f.Kind == wire.KindSay && f.From == "carol" {
						break
					}
				}
				read <- s
			}()

			const flood, floodFor = 200, 5 * time.Second // bounds, not expectations
			var welcomed, refused int
			for start := time.Now(); welcomed+refused < flood && time.Since(start) < floodFor; {
				i := welcomed + refused
				opt := malKey
				opt.from = fmt.Sprintf("127.0.%d.%d", 1+i/250, 1+i%250)
				c := hello(t, h, fmt.Sprint("BUY-CHEAP-WATCHES-", i), opt)
				switch {
				case c.welcome.Type == wire.TypeWelcome:
					welcomed++
				case c.welcome.Type == wire.TypeRefused && c.welcome.Code == wire.CodeTooMany:
					refused++ // the key's joins are spent
				default:
					t.Fatalf("visit %d: %+v", i, c.welcome)
				}
				c.conn.Close()
			}
			t.Logf("%d visits welcomed, %d refused as too many", welcomed, refused)
			if welcomed == 0 {
				t.Fatal("no visit got in: the hiding was not tried")
			}
			if tt.limits == benchJoinLimits && refused > 0 {
				t.Fatalf("%d visits refused with the join limits lifted", refused)
			}

			carol := member(t, h, "carol", dialOptions{from: "127.0.0.4"})
			for _, m := range carol.welcome.Members {
				if strings.Contains(m.Name, "BUY") {
					t.Errorf("carol's welcome lists %s", m.Name)
				}
			}
			carol.say("is anyone here?")
			s := <-read
			if s.err != nil {
				t.Fatalf("bob: read: %v (after %d frames)", s.err, len(s.frames))
			}
			var flooded []string
			for _, f := range s.frames {
				if strings.Contains(f.Name+" "+f.From+" "+f.Text, "BUY") {
					flooded = append(flooded, f.Kind+" "+f.Name)
				}
			}
			if len(flooded) > 0 {
				t.Fatalf("bob saw %d of %d frames name the flood: %s ...", len(flooded), len(s.frames), strings.Join(flooded[:min(4, len(flooded))], ", "))
			}
			if len(s.frames) != 2 || s.frames[0].Kind != wire.KindJoin || s.frames[0].Name != "carol" {
				t.Fatalf("bob saw %+v, want carol's join and line", s.frames)
			}
		})
	}
}

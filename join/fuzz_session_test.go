package join

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// fuzzWelcomes are the welcomes FuzzSessionFrames sends before its bytes:
// to a newcomer, and to a member that resumed, an admin, so that ban lists
// are kept too. The hellos that go with them are fuzzHellos'.
var (
	fuzzWelcomes = []wire.Frame{
		{Type: wire.TypeWelcome, Version: wire.Version, Room: &wire.Room{Name: "Lab 3", ID: testRoomID},
			You: &wire.Member{Name: "bob", Role: wire.RoleMember}, Members: []wire.Member{ana, cy, {Name: "bob", Role: wire.RoleMember}},
			Seq: 10, Epoch: "e1"},
		{Type: wire.TypeWelcome, Version: wire.Version, Room: &wire.Room{Name: "Lab 3", ID: testRoomID},
			You: &wire.Member{Name: "bob", Role: wire.RoleAdmin}, Members: []wire.Member{ana, cy, {Name: "bob", Role: wire.RoleAdmin}},
			Seq: 10, Epoch: "e1", Resumed: true, Missed: 1, Bans: []string{"dan"}},
	}
	fuzzHellos = []wire.Frame{
		{Name: "bob"},
		{Name: "bob", Resume: &wire.Resume{Epoch: "e1", Seq: 5, Private: 2}},
	}
)

// fuzzSessionSeeds are lines a room may send after its welcome, good and
// bad: the replay and live events, privates, bans, joins past the bounds'
// edges, gaps, repeats and lines that are not frames.
func fuzzSessionSeeds() [][]byte {
	enc := func(fs ...wire.Frame) []byte {
		var b []byte
		for i := range fs {
			b, _ = wire.Append(b, &fs[i])
		}
		return b
	}
	join := func(seq uint64, name string) wire.Frame {
		return wire.Frame{Type: wire.TypeEvent, Kind: wire.KindJoin, Seq: seq, Name: name, Role: wire.RoleMember}
	}
	private := func(after, n uint64) wire.Frame {
		return wire.Frame{Type: wire.TypePrivate, Seq: after, PrivateSeq: n, From: "cy", To: "bob", Text: "psst"}
	}
	return [][]byte{
		enc(say(7, "cy", "a", 0), private(7, 3), say(8, "cy", "b", 0), say(9, "ana", "c", 0), say(11, "cy", "live", 0)),
		enc(say(6, "cy", "a", 0), say(6, "cy", "again", 0), say(4, "cy", "old", 0), say(11, "cy", "live", 0), say(11, "cy", "twice", 0), say(13, "cy", "gap", 0)),
		enc(join(11, "dan"), wire.Frame{Type: wire.TypeEvent, Kind: wire.KindLeave, Seq: 12, Name: "dan"}, wire.Frame{Type: wire.TypeEvent, Kind: wire.KindRole, Seq: 13, Name: "cy", Role: wire.RoleAdmin}),
		enc(join(11, strings.Repeat("é", maxNameRunes)), join(12, strings.Repeat("é", maxNameRunes+1))),
		enc(join(11, ""), join(12, "x")),
		enc(wire.Frame{Type: wire.TypeBans, Bans: []string{"", "dan", strings.Repeat("z", 100)}}, private(0, 1), private(12, 9), private(12, 9)),
		enc(wire.Frame{Type: wire.TypePing}, wire.Frame{Type: wire.TypeNotice, Text: "hi"}, wire.Frame{Type: wire.TypeClosed, Code: wire.CodeKicked}),
		[]byte("not json\n"),
		[]byte(`{"type":"event","kind":"say","seq":18446744073709551615}` + "\n" + `{"type":"event","kind":"say","seq":0}` + "\n"),
		[]byte(`{"type":"event","kind":"join","seq":11,"name":"dan","role":"member"}` + "\n" + `{"type":"event"`),
		[]byte("\xff\n{}\n"),
	}
}

// FuzzSessionFrames feeds a Session, through net.Pipe, the bytes a room
// might send after a valid welcome. Whatever they are, the session never
// panics; Next returns frames, then an error, and errors from then on;
// the events it returns are strictly increasing, each once, and so are
// the numbered private frames; and the roster stays within its bounds.
func FuzzSessionFrames(f *testing.F) {
	for _, seed := range fuzzSessionSeeds() {
		for variant := range fuzzWelcomes {
			f.Add(uint8(variant), seed)
		}
	}
	f.Fuzz(func(t *testing.T, variant uint8, frames []byte) {
		welcome := fuzzWelcomes[int(variant)%len(fuzzWelcomes)]
		hello := fuzzHellos[int(variant)%len(fuzzHellos)]
		client, server := net.Pipe()
		go io.Copy(io.Discard, server) // the hello, and any error frame
		go func() {
			defer server.Close()
			msg, _ := wire.Encode(&welcome)
			if _, err := server.Write(msg); err == nil {
				server.Write(frames)
			}
		}()
		s, err := Connect(context.Background(), client, hello)
		if err != nil {
			t.Fatalf("the welcome was refused: %v", err)
		}
		defer s.Close()
		// Not an assertion: a bug that blocks Next ends the run, and the
		// checks below say what came.
		stop := time.AfterFunc(10*time.Second, func() { s.Close() })
		defer stop.Stop()

		lines := strings.Count(string(frames), "\n")
		var lastEvent, lastPrivate uint64
		returned := 0
		for {
			got, err := s.Next()
			if err != nil {
				if _, again := s.Next(); again == nil {
					t.Fatalf("Next returned a frame after the error %v", err)
				}
				break
			}
			returned++
			if returned > lines {
				t.Fatalf("Next returned %d frames from %d lines", returned, lines)
			}
			switch {
			case got.Type == wire.TypeEvent:
				if got.Seq <= lastEvent {
					t.Fatalf("event %d returned after event %d", got.Seq, lastEvent)
				}
				lastEvent = got.Seq
			case got.Type == wire.TypePrivate && got.PrivateSeq != 0:
				if got.PrivateSeq <= lastPrivate {
					t.Fatalf("private frame %d returned after %d", got.PrivateSeq, lastPrivate)
				}
				lastPrivate = got.PrivateSeq
			case got.Type == wire.TypePing:
				t.Fatal("Next returned a ping")
			}
			checkRosterBounds(t, s.Roster())
		}
		checkRosterBounds(t, s.Roster())
	})
}

// checkRosterBounds fails t if r holds more than the client keeps of a
// room.
func checkRosterBounds(t *testing.T, r *Roster) {
	t.Helper()
	members := r.members()
	if len(members) > maxRosterMembers {
		t.Fatalf("the roster holds %d members", len(members))
	}
	for _, m := range members {
		if checkMember(m.Name, m.Role) != nil {
			t.Fatalf("the roster holds %.40q (role %.40q), which no host lets in", m.Name, m.Role)
		}
	}
	bans := r.Banned()
	if len(bans) > maxBans {
		t.Fatalf("the roster holds %d banned names", len(bans))
	}
	for _, n := range bans {
		if checkMember(n, "") != nil {
			t.Fatalf("the roster offers the banned name %.40q", n)
		}
	}
	r.mu.Lock()
	recent := len(r.recent)
	r.mu.Unlock()
	if recent > maxRecent {
		t.Fatalf("the roster keeps %d recent speakers", recent)
	}
}

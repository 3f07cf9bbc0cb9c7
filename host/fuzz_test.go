package host

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"chatroom/host/room"
	"chatroom/host/wire"
)

// The fuzzers below read what the host reads from its state directory,
// which anyone who can write there (or a crash, or a full disk) may have
// made anything. Their seeds in testdata/fuzz are files a real host saved
// (a room with chat, private messages, an op, a mute, bans, a kick, and a
// member who may resume); those below are the edges the tests know.

// FuzzParseHistory: parseHistory never panics, and what it accepts is a
// history the room could continue: numbers that leave room to count on,
// events in increasing order up to the last (with gaps where the room had
// dropped joins and leaves), all after the newest message lost, private
// frames the room could have sent. Saved again and read back, it is the
// same history; given to a room that keeps as many events, it is what the
// room holds and saves again.
func FuzzParseHistory(f *testing.F) {
	event, _ := wire.Encode(&wire.Frame{Type: wire.TypeEvent, Seq: 3, Kind: wire.KindSay, From: "ana", Text: "<x> & y"})
	private, _ := wire.Encode(&wire.Frame{Type: wire.TypePrivate, Seq: 2, PrivateSeq: 1, From: "ana", To: "bob", Text: "hi"})
	saved, _ := encodeHistory(room.History{Epoch: "0123456789abcdef", Seq: 3, Events: [][]byte{event}, Resumable: []room.Resumable{
		{NameKey: "bob", Identity: "SHA256:b", Since: 1, Taken: 4, PrivateSeq: 1, Privates: []room.PrivateCopy{{After: 2, Seq: 1, Frame: private}}},
	}})
	f.Add(saved)
	f.Add([]byte(`{"version":1,"epoch":"e1","seq":9007199254740991}` + "\n"))
	f.Add([]byte(`{"version":1,"epoch":"e1","seq":18446744073709551614}` + "\n"))
	f.Add([]byte(`{"version":1,"epoch":"e1","seq":2}` + "\n" + `{"type":"event","seq":2}`))
	// Gaps where a flood's joins and leaves were dropped, and a header
	// from before the history had gaps (no lost_message: its events are
	// numbered up to seq without a gap).
	f.Add([]byte(`{"version":1,"epoch":"e1","seq":9,"lost_message":2}` + "\n" +
		`{"type":"event","seq":3,"kind":"say","from":"ana","text":"hi"}` + "\n" +
		`{"type":"event","seq":7,"kind":"join","name":"x"}` + "\n" + `{"type":"event","seq":9,"kind":"leave","name":"x"}` + "\n"))
	f.Add([]byte(`{"version":1,"epoch":"e1","seq":9}` + "\n" +
		`{"type":"event","seq":8,"kind":"say","from":"ana","text":"hi"}` + "\n" + `{"type":"event","seq":9,"kind":"join","name":"x"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		past, problem := parseHistory(data)
		if problem != "" {
			return
		}
		checkContinuable(t, past)
		again := resave(t, past)
		if !sameHistory(past, again) {
			t.Fatalf("saved and read back, the history changed:\n%+v\n%+v", past, again)
		}
		// Saving keeps what was saved exactly: a second round changes no
		// byte.
		if third := resave(t, again); !reflect.DeepEqual(again, third) {
			t.Fatalf("a second save and read changed the history:\n%+v\n%+v", again, third)
		}
		// A room that keeps as many events holds every one, in its
		// place, and leaves them as it was given them.
		r := room.New(room.Config{History: len(past.Events) + 1, Past: room.History{Epoch: past.Epoch, Seq: past.Seq, Events: past.Events, LostMessage: past.LostMessage}})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		r.Run(ctx)
		left, _ := r.History()
		if left.Seq != past.Seq || left.LostMessage != past.LostMessage || !reflect.DeepEqual(left.Events, past.Events) {
			t.Fatalf("a room given the history left another:\n%+v\n%+v", past, left)
		}
	})
}

func resave(t *testing.T, h room.History) room.History {
	data, err := encodeHistory(h)
	if err != nil {
		t.Fatalf("cannot save a history that was read: %v", err)
	}
	again, problem := parseHistory(data)
	if problem != "" {
		t.Fatalf("a saved history does not read back: %s\n%s", problem, data)
	}
	return again
}

// sameHistory compares histories, with the private frames as frames: a
// frame read from a file written by hand may be spaced, or escaped,
// otherwise than the room writes it.
func sameHistory(a, b room.History) bool {
	if a.Epoch != b.Epoch || a.Seq != b.Seq || a.LostMessage != b.LostMessage || !reflect.DeepEqual(a.Events, b.Events) || len(a.Resumable) != len(b.Resumable) ||
		a.RosterKept != b.RosterKept || a.RosterLost != b.RosterLost {
		return false
	}
	for i, ra := range a.Resumable {
		rb := b.Resumable[i]
		if ra.NameKey != rb.NameKey || ra.Identity != rb.Identity || ra.Since != rb.Since || ra.Taken != rb.Taken ||
			ra.PrivateSeq != rb.PrivateSeq || len(ra.Privates) != len(rb.Privates) || ra.Name != rb.Name || ra.Role != rb.Role || ra.Away != rb.Away {
			return false
		}
		for j, pa := range ra.Privates {
			pb := rb.Privates[j]
			fa, errA := wire.Parse(pa.Frame)
			fb, errB := wire.Parse(pb.Frame)
			if pa.After != pb.After || pa.Seq != pb.Seq || errA != nil || errB != nil || !reflect.DeepEqual(fa, fb) {
				return false
			}
		}
	}
	return true
}

// FuzzParseList reads each input as each of the lists (bans, ops, mutes):
// parsing never panics, and a list read from a file saves and reads back
// as the same list. A list the host could read but not save would be a
// room that loses its bans at the next ban.
func FuzzParseList(f *testing.F) {
	for _, l := range []listFile{bansList, opsList, mutesList} {
		f.Add([]byte(`{"version": 1, "` + l.key + `": []}`))
		f.Add([]byte(`{"version": 1, "` + l.key + `": [{"name": "bob", "identity": "SHA256:x", "time": "2026-12-01T09:00:00+01:00", "until": "9999-12-31T23:59:59-23:59", "expires": "0001-01-01T00:00:00Z"}]}`))
	}
	f.Add([]byte(`{"version": 2, "bans": null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkList[room.Ban](t, data, bansList)
		checkList[room.Op](t, data, opsList)
		checkList[room.Mute](t, data, mutesList)
	})
}

func checkList[T any](t *testing.T, data []byte, l listFile) {
	items, version, err := parseList[T](data, l)
	if err != nil || version != 1 {
		return
	}
	saved, err := encodeList(l, items)
	if err != nil {
		t.Fatalf("%s: cannot save a list that was read: %v", l.key, err)
	}
	again, version, err := parseList[T](saved, l)
	if err != nil || version != 1 {
		t.Fatalf("%s: a saved list does not read back (version %d, %v):\n%s", l.key, version, err, saved)
	}
	if resaved, _ := encodeList(l, again); !bytes.Equal(saved, resaved) {
		t.Fatalf("%s: saved and read back, the list changed:\n%s\n%s", l.key, saved, resaved)
	}
}

// FuzzParseModLog: parsing never panics; what it keeps is whole lines,
// and an entry appended after them reads back with them (the torn-tail
// repair: the host cuts the file to what is kept before it appends). The
// entries save and read back the same.
func FuzzParseModLog(f *testing.F) {
	line := `{"time":"2026-12-01T09:00:00Z","action":"kick","by":"ana","target":"bob","reason":"spam"}` + "\n"
	f.Add([]byte(line + line))
	f.Add([]byte(line + `{"time":"2026-`))
	f.Add([]byte(line + `{"time":"2026-{"time":"2026-12-01T09:00:00Z"}` + "\n"))
	f.Add([]byte("\n\n" + line + "null\n"))
	appended := room.ModEntry{Time: time.Unix(2e9, 0).UTC(), Action: "op", By: "ana", Target: "dee"}
	appendLine, _ := json.Marshal(appended)
	appendLine = append(appendLine, '\n')
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, whole, err := parseModLog(data)
		if err != nil {
			if !strings.Contains(err.Error(), "is damaged") {
				t.Fatalf("error %v", err)
			}
			return
		}
		if whole < 0 || whole > len(data) || (whole > 0 && data[whole-1] != '\n') {
			t.Fatalf("kept %d bytes of %q, not whole lines", whole, data)
		}
		kept := data[:whole:whole]
		if again, w, err := parseModLog(kept); err != nil || w != whole || !reflect.DeepEqual(again, entries) {
			t.Fatalf("what was kept reads as %d entries (%d bytes, %v), want %d", len(again), w, err, len(entries))
		}
		after, w, err := parseModLog(append(kept, appendLine...))
		if err != nil || w != whole+len(appendLine) || len(after) != len(entries)+1 || !reflect.DeepEqual(after[len(entries)], appended) {
			t.Fatalf("an entry appended after what was kept reads as %d entries (%d bytes, %v)", len(after), w, err)
		}
		var saved []byte
		for _, e := range entries {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatalf("cannot save an entry that was read: %v", err)
			}
			saved = append(append(saved, b...), '\n')
		}
		again, w, err := parseModLog(saved)
		if err != nil || w != len(saved) || len(again) != len(entries) {
			t.Fatalf("saved entries read back as %d (%d of %d bytes, %v), want %d", len(again), w, len(saved), err, len(entries))
		}
	})
}

// FuzzParseRoomID: parsing never panics; what it accepts is 16 lowercase
// hex digits, which read back the same as the host writes them.
func FuzzParseRoomID(f *testing.F) {
	f.Add([]byte("0123456789abcdef\n"))
	f.Add([]byte("  0123456789ABCDEF"))
	f.Add([]byte("0123456789abcdef0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		id, ok := parseRoomID(data)
		if !ok {
			return
		}
		if len(id) != 16 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("accepted %q as %q", data, id)
		}
		if again, ok := parseRoomID([]byte(id + "\n")); !ok || again != id {
			t.Fatalf("%q reads back as %q, %v", id, again, ok)
		}
	})
}

// checkContinuable fails t unless past is a history the room could
// continue, as the parsers of the history file and the journal must
// accept only: numbers that leave room to count on, events in increasing
// order after the newest message lost, the last numbered Seq, and members
// who may resume only from events it has.
func checkContinuable(t *testing.T, past room.History) {
	t.Helper()
	if past.Seq >= maxSeq || past.LostMessage > past.Seq || !validEpoch(past.Epoch) {
		t.Fatalf("accepted seq %d, newest message lost %d, in epoch %q", past.Seq, past.LostMessage, past.Epoch)
	}
	prev := past.LostMessage
	for i, e := range past.Events {
		fr, err := wire.Parse(e)
		if err != nil || fr.Type != wire.TypeEvent || fr.Seq <= prev || fr.Seq > past.Seq || (i == len(past.Events)-1 && fr.Seq != past.Seq) {
			t.Fatalf("accepted event %d after %d (seq %d): %q", i, prev, past.Seq, e)
		}
		prev = fr.Seq
	}
	for _, r := range past.Resumable {
		if r.Since > past.Seq || r.PrivateSeq >= maxSeq {
			t.Fatalf("accepted resumable %+v at seq %d", r, past.Seq)
		}
	}
}

package join

import (
	"bytes"
	"crypto"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"chatroom/host/wire"
)

// The fuzzers below read what the client reads from its state directory:
// the known rooms, the identity and the prompt's history. Anyone who can
// write there, a crash or a hand edit may have made them anything. Their
// seeds are files the real code wrote in a scratch directory, so that they
// follow the writers, and the edges the tests know.

// knownRoomsSeeds returns known-rooms files as Check writes them: one
// room, two, and a key accepted as changed.
func knownRoomsSeeds(f *testing.F) [][]byte {
	path := filepath.Join(f.TempDir(), KnownRoomsFile)
	k, err := LoadKnownRooms(path)
	if err != nil {
		f.Fatal(err)
	}
	var seeds [][]byte
	for _, c := range []struct {
		id, fingerprint, name string
		change                KeyChange
	}{
		{"3f9a2c71d0e4b5a6", "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", "Lab 3", RefuseKeyChange},
		{"0000000000000001", "SHA256:" + strings.Repeat("A", 43), "Café \x1b[2J  kitchen\n", RefuseKeyChange},
		{"3f9a2c71d0e4b5a6", "SHA256:" + strings.Repeat("Q", 43), "", AcceptKeyChange},
	} {
		if _, err := k.Check(c.id, c.fingerprint, c.name, c.change); err != nil {
			f.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	return seeds
}

// damagedKnownRooms are lines of a known-rooms file that are damaged: a
// time Go reads and cannot write back, a key cut short, a room id with a
// no-break space, a line of 70 KB (past bufio.Scanner's limit), a line
// separator and a next-line character, and stray text.
var damagedKnownRooms = []string{
	"bbbbbbbbbbbbbbbb SHA256:" + strings.Repeat("A", 43) + " 2026-01-01T00:00:00+24:60 Kitchen",
	"cccccccccccccccc SHA256:AAAA 2026-01-01T00:00:00Z Hall",
	"\u00a0ddddddddddddddd SHA256:" + strings.Repeat("A", 43) + " 2026-01-01T00:00:00Z",
	strings.Repeat("e", 70000),
	"ffffffffffffffff\u2028 SHA256:" + strings.Repeat("A", 43) + " 2026-01-01T00:00:00Z \u0085",
	"nonsense",
}

// damagedLines returns the damaged lines of data, split as a person's
// editor splits them, in order.
func damagedLines(data []byte) []string {
	var damaged []string
	for _, line := range strings.SplitAfter(string(data), "\n") {
		line = strings.TrimSuffix(line, "\n")
		if _, _, ok, why := parseKnownRoom(line); !ok && why != "" {
			damaged = append(damaged, line)
		}
	}
	return damaged
}

// FuzzParseKnownRooms: whatever the file holds, reading it never panics
// nor fails: a line it cannot read costs that line, with one warning, never
// the rest. What it reads is pins the file can hold: saved again and read
// back, every room keeps its key, first sight and name, in the same order,
// and every damaged line is still there, as it was, still damaged (never
// silently destroyed: the person may mend it). A pin the client could read
// but not write back would be lost at the next new room.
func FuzzParseKnownRooms(f *testing.F) {
	for _, s := range knownRoomsSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte("# comment\r\n\r\naaaaaaaaaaaaaaaa SHA256:" + strings.Repeat("A", 43) + " 2026-01-01T00:00:00+01:00 Lab  3\r\n" +
		"aaaaaaaaaaaaaaaa SHA256:" + strings.Repeat("Q", 43) + " 2026-01-02T00:00:00.5Z\n"))
	f.Add([]byte("\t x\u00a0 SHA256:\u2028 2026-01-01T00:00:00Z \u0085name\u00a0\n"))
	f.Add([]byte("aaaa SHA256:a 2026-13-01T00:00:00Z\n"))
	f.Add([]byte("aaaa SHA256:a 2026-01-01T00:00:00+24:00\n"))
	f.Add([]byte("aaaa SHA256:a 2026-01-01T0:00:00+24:60\n")) // read, but written +25:00
	f.Add([]byte(strings.Join(damagedKnownRooms, "\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		k := parseKnownRooms(KnownRoomsFile, data)
		var ids []string
		for _, l := range k.lines {
			if l.id != "" {
				ids = append(ids, l.id)
			}
		}
		if len(ids) != len(k.rooms) {
			t.Fatalf("%d ids in order for %d rooms", len(ids), len(k.rooms))
		}
		for _, id := range ids {
			r, ok := k.rooms[id]
			// Only forms that cannot break a line: ids and keys as a room
			// makes them, a name as oneLine writes it.
			if !ok || !wire.ValidRoomID(id) || !wire.ValidFingerprint(r.fingerprint) || r.name != oneLine(r.name) {
				t.Fatalf("accepted a room the file cannot hold: %q %+v", id, r)
			}
		}
		damaged := damagedLines(data)
		if len(k.Warnings()) != len(damaged) {
			t.Fatalf("%d damaged lines, %d warnings: %q", len(damaged), len(k.Warnings()), k.Warnings())
		}
		for id := range k.damaged {
			if !wire.ValidRoomID(id) {
				t.Fatalf("a damaged line refuses %q, which is no room id", id)
			}
		}

		saved := k.encode()
		again := parseKnownRooms(KnownRoomsFile, saved)
		var idsAgain []string
		for _, l := range again.lines {
			if l.id != "" {
				idsAgain = append(idsAgain, l.id)
			}
		}
		if !slices.Equal(ids, idsAgain) {
			t.Fatalf("saved and read back, the order changed: %q, %q", ids, idsAgain)
		}
		for _, id := range ids {
			a, b := k.rooms[id], again.rooms[id]
			// The file keeps whole seconds, as Check writes them; a
			// fraction written by hand is dropped, the day shown stays.
			if a.fingerprint != b.fingerprint || a.name != b.name || !a.since.Truncate(time.Second).Equal(b.since) {
				t.Fatalf("saved and read back, room %q changed: %+v, %+v", id, a, b)
			}
		}
		if got := damagedLines(saved); !slices.Equal(got, damaged) {
			t.Fatalf("saved, the damaged lines changed: %q, want %q", got, damaged)
		}
		// Line numbers move (the header is written first); the rooms
		// refused must not.
		if !slices.Equal(slices.Sorted(maps.Keys(k.damaged)), slices.Sorted(maps.Keys(again.damaged))) {
			t.Fatalf("saved, other rooms are refused: %v, %v", k.damaged, again.damaged)
		}
		if !bytes.Equal(again.encode(), saved) {
			t.Fatalf("a second save changed the file:\n%s\n%s", saved, again.encode())
		}
	})
}

// FuzzKnownRoomsCheck: whatever a room (or an announcement on the LAN)
// says its id, key and name are, Check never panics, and never makes the
// file unreadable nor costs it a line: it refuses (in one line) an id or
// key not of the form a room makes, and whatever it accepts is remembered
// across a restart exactly, with every other room and every damaged line
// of the file as they were. Precheck decides as Check does and never
// writes.
func FuzzKnownRoomsCheck(f *testing.F) {
	seeds := knownRoomsSeeds(f)
	f.Add("3f9a2c71d0e4b5a6", "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", "Lab 3", false)
	f.Add("3f9a2c71d0e4b5a6", "SHA256:"+strings.Repeat("C", 43), "evil\nbbbb SHA256:b 2026-01-01T00:00:00Z injected", true)
	f.Add("0123456789abcdef", "SHA256:"+strings.Repeat("w", 43), "\u00a0\u2028 \u0085", false)
	f.Add("0123456789abcdef", "SHA256:"+strings.Repeat("w", 43), strings.Repeat("名", 30000), false)
	f.Add("bbbbbbbbbbbbbbbb", "SHA256:"+strings.Repeat("A", 43), "", true) // on a damaged line
	f.Add("\u00a0x", "SHA256:x", "", false)
	f.Add("#0123456789abcde", "nokey", "", false)
	f.Add("0", "0", "0", true)
	file := append(slices.Clone(seeds[len(seeds)-1]), strings.Join(damagedKnownRooms, "\n")+"\n"...)
	f.Fuzz(func(t *testing.T, id, fingerprint, name string, accept bool) {
		path := filepath.Join(t.TempDir(), KnownRoomsFile)
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		k, err := LoadKnownRooms(path)
		if err != nil {
			t.Fatal(err)
		}
		before := maps.Clone(k.rooms)
		warnings := k.Warnings()

		change := RefuseKeyChange
		if accept {
			change = AcceptKeyChange
		}
		precheck := k.Precheck(id, fingerprint, name, change)
		if data, _ := os.ReadFile(path); !bytes.Equal(data, file) {
			t.Fatalf("Precheck(%q, %q, %q) wrote the file", id, fingerprint, name)
		}
		trust, err := k.Check(id, fingerprint, name, change)
		if (err == nil) != (precheck == nil) {
			t.Fatalf("Precheck says %v, Check %v", precheck, err)
		}
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("refused in more than one line: %q", err)
			}
			if data, _ := os.ReadFile(path); !bytes.Equal(data, file) {
				t.Fatalf("Check(%q, %q, %q) refused, and wrote the file", id, fingerprint, name)
			}
			return
		}
		if !wire.ValidRoomID(id) || !wire.ValidFingerprint(fingerprint) {
			t.Fatalf("Check accepted id %q and key %q, which no room makes", id, fingerprint)
		}
		k, err = LoadKnownRooms(path)
		if err != nil || !slices.Equal(k.Warnings(), warnings) {
			t.Fatalf("after Check(%q, %q, %q), the known rooms read back as %v, %q; want %q", id, fingerprint, name, err, k.Warnings(), warnings)
		}
		if got, err := k.Check(id, fingerprint, "", RefuseKeyChange); err != nil || got != TrustKnown {
			t.Fatalf("room %q checked as %v was not remembered: %v, %v", id, trust, got, err)
		}
		for other, r := range before {
			if got := k.rooms[other]; other != id && (got.fingerprint != r.fingerprint || got.name != r.name || !got.since.Equal(r.since)) {
				t.Fatalf("Check(%q) changed the pin of room %q: %+v, %+v", id, other, r, k.rooms[other])
			}
		}
		want := oneLine(name)
		if name == "" && trust != TrustNew {
			want = before[id].name
		}
		if r := k.rooms[id]; r.name != want || r.fingerprint != fingerprint {
			t.Fatalf("room %q named %q is remembered as %+v", id, name, r)
		}
		if got := damagedLines(mustRead(t, path)); !slices.Equal(got, damagedLines(file)) {
			t.Fatalf("after Check, the damaged lines are %q", got)
		}
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// FuzzParseIdentity: reading an identity file never panics, and an
// identity it accepts is one the client can present and rooms can know:
// it has a certificate whose key gives a tag, and written back as the
// client writes identities, it reads back as the same key and certificate.
func FuzzParseIdentity(f *testing.F) {
	dir := f.TempDir()
	if _, err := LoadOrCreateIdentity(dir); err != nil {
		f.Fatal(err)
	}
	real, err := os.ReadFile(filepath.Join(dir, identityFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real)
	f.Add(bytes.ReplaceAll(real, []byte("\n"), []byte("\r\n")))
	if i := bytes.Index(real, []byte("-----BEGIN PRIVATE KEY")); i > 0 {
		f.Add(append(slices.Clone(real[i:]), real[:i]...)) // key first
		f.Add(slices.Concat(real[:i], real[:i], real[i:])) // a chain of two
		f.Add(real[:i])                                    // no key
	}
	f.Add(real[:len(real)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		cert, err := parseIdentity(identityFile, data)
		if err != nil {
			return
		}
		if cert.Leaf == nil || len(cert.Certificate) == 0 || identityTag(cert) == "" {
			t.Fatalf("accepted an identity without a usable certificate: %+v", cert)
		}
		saved, err := encodeIdentity(cert.Certificate[0], cert.PrivateKey)
		if err != nil {
			t.Fatalf("cannot write back an identity that was read: %v", err)
		}
		again, err := parseIdentity(identityFile, saved)
		if err != nil {
			t.Fatalf("a written identity does not read back: %v", err)
		}
		key, ok := cert.PrivateKey.(interface{ Equal(crypto.PrivateKey) bool })
		if !ok || !key.Equal(again.PrivateKey) || !bytes.Equal(again.Leaf.Raw, cert.Leaf.Raw) ||
			wire.Fingerprint(again.Leaf.RawSubjectPublicKeyInfo) != wire.Fingerprint(cert.Leaf.RawSubjectPublicKeyInfo) {
			t.Fatal("written and read back, the identity changed")
		}
	})
}

// FuzzRosterFrame: whatever frame a room sends (anyone on the LAN can
// announce one), keeping the roster with it never panics: a welcome's own
// roster, or a roster that takes the frame after a welcome. (Showing the
// frame is join/tui's FuzzRenderFrame, from the same seeds.)
func FuzzRosterFrame(f *testing.F) {
	for _, fr := range []wire.Frame{
		{Type: wire.TypeWelcome, Name: "bob", Room: &wire.Room{Name: "Lab 3\u202e", ID: "3f9a2c71d0e4b5a6"}, Members: []wire.Member{{Name: "ana", Role: "owner"}, {Name: "bob"}}},
		{Type: wire.TypeEvent, Seq: 4, Kind: wire.KindJoin, Time: testTime, Name: "cy\x1b[2J", Role: "admin"},
		{Type: wire.TypeEvent, Seq: 5, Kind: wire.KindLeave, Time: testTime, Name: "cy", Code: "banned", By: "ana", Text: "spam\u2028x"},
		{Type: wire.TypeEvent, Seq: 6, Kind: wire.KindRole, Time: testTime, Name: "cy", Role: "admin", By: "ana"},
		{Type: wire.TypeEvent, Seq: 7, Kind: wire.KindSay, Time: testTime, From: "ana", Text: "hi bob\u202e"},
		{Type: wire.TypePrivate, Time: testTime, From: "ana", To: "bob", Text: "psst\r\n"},
		{Type: wire.TypeNotice, Text: "line one\nline two"},
		{Type: wire.TypeNotice, Code: "denied", Text: "no\x85"},
		{Type: wire.TypeBans, Text: "x"},
		{Type: wire.TypeClosed, Code: "kicked", By: "ana", Text: "bye\x07"},
		{Type: wire.TypeRefused, Code: "name", Text: "taken\u2029"},
		{Type: wire.TypeError, Text: "bad"},
	} {
		data, err := wire.Encode(&fr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	welcome := wire.Frame{Type: wire.TypeWelcome, Name: "bob", Room: &wire.Room{Name: "Lab 3\u202e", ID: "3f9a2c71d0e4b5a6"}, Members: []wire.Member{{Name: "ana", Role: "owner"}, {Name: "bob"}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := wire.Parse(data)
		if err != nil {
			return
		}
		if fr.Type == wire.TypeWelcome {
			newRoster(fr).Names()
		}
		r := newRoster(welcome)
		r.apply(fr)
		r.Names()
		r.members()
		r.Banned()
	})
}

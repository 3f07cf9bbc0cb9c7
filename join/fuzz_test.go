package join

import (
	"bytes"
	"crypto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

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
		accept                bool
	}{
		{"3f9a2c71d0e4b5a6", "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", "Lab 3", false},
		{"0000000000000001", "SHA256:" + strings.Repeat("A", 43), "Café \x1b[2J  kitchen\n", false},
		{"3f9a2c71d0e4b5a6", "SHA256:" + strings.Repeat("B", 43), "", true},
	} {
		if _, err := k.Check(c.id, c.fingerprint, c.name, c.accept); err != nil {
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

// FuzzParseKnownRooms: parseKnownRooms never panics, and what it accepts
// is pins the file can hold: saved again and read back, every room keeps
// its key, first sight and name, in the same order. A pin the client could
// read but not write back would be lost at the next new room.
func FuzzParseKnownRooms(f *testing.F) {
	for _, s := range knownRoomsSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte("# comment\r\n\r\naaaa SHA256:a 2026-01-01T00:00:00+01:00 Lab  3\r\naaaa SHA256:b 2026-01-02T00:00:00.5Z\n"))
	f.Add([]byte("\t x\u00a0 SHA256:\u2028 2026-01-01T00:00:00Z \u0085name\u00a0\n"))
	f.Add([]byte("aaaa SHA256:a 2026-13-01T00:00:00Z\n"))
	f.Add([]byte("aaaa SHA256:a 2026-01-01T00:00:00+24:00\n"))
	f.Add([]byte("aaaa SHA256:a 2026-01-01T0:00:00+24:60\n")) // read, but written +25:00
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := parseKnownRooms(KnownRoomsFile, data)
		if err != nil {
			return
		}
		if len(k.order) != len(k.rooms) {
			t.Fatalf("%d ids in order for %d rooms", len(k.order), len(k.rooms))
		}
		for _, id := range k.order {
			r, ok := k.rooms[id]
			// What encode writes must be one line whose first three
			// fields are these: no field may hold the separator, nor
			// the file's comment mark or space that reading trims.
			if !ok || id == "" || strings.ContainsAny(id, " \n") || strings.HasPrefix(id, "#") ||
				!startsPrintable(id) || !strings.HasPrefix(r.fingerprint, "SHA256:") ||
				strings.ContainsAny(r.fingerprint, " \n") || strings.Contains(r.name, "\n") ||
				strings.TrimRightFunc(r.name, unicode.IsSpace) != r.name {
				t.Fatalf("accepted a room the file cannot hold: %q %+v", id, r)
			}
		}
		again, err := parseKnownRooms(KnownRoomsFile, k.encode())
		if err != nil {
			t.Fatalf("saved known rooms do not read back: %v\n%s", err, k.encode())
		}
		if !slices.Equal(k.order, again.order) {
			t.Fatalf("saved and read back, the order changed: %q, %q", k.order, again.order)
		}
		for _, id := range k.order {
			a, b := k.rooms[id], again.rooms[id]
			// The file keeps whole seconds, as Check writes them; a
			// fraction written by hand is dropped, the day shown stays.
			if a.fingerprint != b.fingerprint || a.name != b.name || !a.since.Truncate(time.Second).Equal(b.since) {
				t.Fatalf("saved and read back, room %q changed: %+v, %+v", id, a, b)
			}
		}
		if !bytes.Equal(again.encode(), k.encode()) {
			t.Fatalf("a second save changed the file:\n%s\n%s", k.encode(), again.encode())
		}
	})
}

// startsPrintable reports whether s starts with neither space nor a byte
// that TrimSpace would take for space.
func startsPrintable(s string) bool {
	return strings.TrimLeftFunc(s, unicode.IsSpace) == s
}

// FuzzKnownRoomsCheck: whatever a room (or an announcement on the LAN)
// says its id, key and name are, Check never panics; and a room that
// speaks as a chatroom host does (an id of 16 hex digits, a key named as
// wire.Fingerprint names it, a name that fits in a TXT string) is
// remembered across a restart, and the other rooms with it.
//
// Known failure, kept out of the round trip for issue 12: other ids and
// keys (no-break spaces, a leading "#", a key without "SHA256:") or a
// name over 64 KB are written as given and make the file unreadable.
func FuzzKnownRoomsCheck(f *testing.F) {
	seeds := knownRoomsSeeds(f)
	f.Add("3f9a2c71d0e4b5a6", "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", "Lab 3", false)
	f.Add("3f9a2c71d0e4b5a6", "SHA256:"+strings.Repeat("C", 43), "evil\nbbbb SHA256:b 2026-01-01T00:00:00Z injected", true)
	f.Add("0123456789abcdef", "SHA256:"+strings.Repeat("/", 43), "\u00a0\u2028 \u0085", false)
	f.Add("\u00a0x", "SHA256:x", "", false)
	f.Add("#0123456789abcde", "nokey", "", false)
	f.Fuzz(func(t *testing.T, id, fingerprint, name string, accept bool) {
		path := filepath.Join(t.TempDir(), KnownRoomsFile)
		if err := os.WriteFile(path, seeds[len(seeds)-1], 0o600); err != nil {
			t.Fatal(err)
		}
		k, err := LoadKnownRooms(path)
		if err != nil {
			t.Fatal(err)
		}
		before := slices.Clone(k.order)
		trust, err := k.Check(id, fingerprint, name, accept)
		if err != nil || !roomMadeID(id) || !roomMadeFingerprint(fingerprint) || len(name) > 255 {
			return
		}
		k, err = LoadKnownRooms(path)
		if err != nil {
			t.Fatalf("after Check(%q, %q, %q), the known rooms do not read back: %v", id, fingerprint, name, err)
		}
		if got, err := k.Check(id, fingerprint, "", false); err != nil || got != TrustKnown {
			t.Fatalf("room %q checked as %v was not remembered: %v, %v", id, trust, got, err)
		}
		for _, other := range before {
			if _, ok := k.rooms[other]; !ok {
				t.Fatalf("Check(%q) lost the pin of room %q", id, other)
			}
		}
		if r := k.rooms[id]; r.name != oneLine(name) && !(name == "" && trust != TrustNew) {
			t.Fatalf("room %q named %q is remembered as %q", id, name, r.name)
		}
	})
}

// roomMadeID reports an id as a host makes it (host.loadOrCreateRoomID):
// 16 lower-case hex digits.
func roomMadeID(id string) bool {
	return len(id) == 16 && strings.Trim(id, "0123456789abcdef") == ""
}

// roomMadeFingerprint reports a key named as wire.Fingerprint names one:
// "SHA256:" and 43 characters of unpadded standard base64.
func roomMadeFingerprint(fp string) bool {
	b64, ok := strings.CutPrefix(fp, "SHA256:")
	return ok && len(b64) == 43 && strings.Trim(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") == ""
}

// FuzzReadHistory: reading a history file never panics nor fails (a bad
// line costs that line, never the rest); every line it gives back is one the prompt
// would have kept (valid UTF-8, no control characters, no secret, short
// enough to send), at most historyLimit of them; and saved again, they read
// back the same.
func FuzzReadHistory(f *testing.F) {
	path := filepath.Join(f.TempDir(), "history", "ana")
	var lines []string
	for _, l := range []string{"hello", "/msg bob café 🎉", "/me waves", "ünïcode \u2028 line"} {
		lines = append(lines, l)
		if err := saveHistory(path, lines); err != nil {
			f.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "letmein")
	}
	f.Add([]byte("first\nbad \xff utf-8\nescape \x1b[2J\n\nthe password is letmein\n windows line\r\nlast"), "letmein")
	f.Add([]byte("a\r\r\nb\x85c\n\u0085\n"+strings.Repeat("y", wire.MaxText+1)+"\n"), "")
	f.Fuzz(func(t *testing.T, data []byte, secret string) {
		secrets := []string{secret}
		lines, err := readHistory(bytes.NewReader(data), "ana", secrets)
		if err != nil {
			t.Fatalf("a history fails with %v", err)
		}
		if len(lines) > historyLimit {
			t.Fatalf("%d lines, over the limit of %d", len(lines), historyLimit)
		}
		for _, l := range lines {
			if !utf8.ValidString(l) || strings.IndexFunc(l, unicode.IsControl) >= 0 || !keepInHistory(l, secrets) {
				t.Fatalf("read back a line the prompt would not keep: %q", l)
			}
		}
		again, err := readHistory(bytes.NewReader(encodeHistory(lines)), "ana", secrets)
		if err != nil || !slices.Equal(again, lines) {
			t.Fatalf("saved and read back, the history changed: %q, %v\nwas %q", again, err, lines)
		}
	})
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
	real, err := os.ReadFile(filepath.Join(dir, IdentityFile))
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
		cert, err := parseIdentity(IdentityFile, data)
		if err != nil {
			return
		}
		if cert.Leaf == nil || len(cert.Certificate) == 0 || IdentityTag(cert) == "" {
			t.Fatalf("accepted an identity without a usable certificate: %+v", cert)
		}
		saved, err := encodeIdentity(cert.Certificate[0], cert.PrivateKey)
		if err != nil {
			t.Fatalf("cannot write back an identity that was read: %v", err)
		}
		again, err := parseIdentity(IdentityFile, saved)
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

// FuzzRenderFrame: whatever frame a room sends (anyone on the LAN can
// announce one), showing it never panics, in line mode or at a terminal
// of any width, nor does keeping the roster with it; and line mode shows
// it as whole lines, with no control character or line separator in one,
// so that a terminal never acts on the room's text and a script reads one
// line per line shown.
func FuzzRenderFrame(f *testing.F) {
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
		f.Add(data, uint8(40))
	}
	welcome := wire.Frame{Type: wire.TypeWelcome, Name: "bob", Room: &wire.Room{Name: "Lab 3\u202e", ID: "3f9a2c71d0e4b5a6"}, Members: []wire.Member{{Name: "ana", Role: "owner"}, {Name: "bob"}}}
	f.Fuzz(func(t *testing.T, data []byte, width uint8) {
		fr, err := wire.Parse(data)
		if err != nil {
			return
		}
		lines := Render(fr, "bob", time.UTC)
		if fr.Type == wire.TypeWelcome {
			lines = append(lines, WelcomeLine(fr))
			newRoster(fr).Names()
		}
		for _, l := range lines {
			if i := strings.IndexFunc(l, func(r rune) bool { return unicode.IsControl(r) || r == 0x2028 || r == 0x2029 }); i >= 0 {
				t.Fatalf("%+v: line mode shows %q, with a control or line separator", fr, l)
			}
		}
		Style{Width: int(width)}.Lines(fr, "bob", time.UTC)
		Style{Width: int(width), Color: true}.Earlier(fr, "bob", time.UTC)
		r := newRoster(welcome)
		r.apply(fr)
		r.Names()
		r.Members()
		r.Banned()
	})
}

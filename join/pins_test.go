package join

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"chatroom/host/wire"
)

func TestKnownRooms(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", KnownRoomsFile)
	k, err := LoadKnownRooms(path)
	if err != nil {
		t.Fatal(err)
	}
	const id = "3f9a2c71d0e4b5a6"
	key, other := wire.Fingerprint([]byte("known")), wire.Fingerprint([]byte("impostor"))

	if trust, err := k.Check(id, key, "Lab 3", RefuseKeyChange); err != nil || trust != TrustNew {
		t.Fatalf("first sight: %v, %v", trust, err)
	}
	if trust, err := k.Check(id, key, "", RefuseKeyChange); err != nil || trust != TrustKnown {
		t.Fatalf("second sight: %v, %v", trust, err)
	}

	// The pin survives a restart, and a changed key is refused, loudly.
	k, err = LoadKnownRooms(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = k.Check(id, other, "", RefuseKeyChange)
	var changed *KeyChangedError
	if !errors.As(err, &changed) || changed.Known != key || changed.Offered != other || changed.Name != "Lab 3" {
		t.Fatalf("changed key: %v", err)
	}
	for _, want := range []string{`"Lab 3"`, id, key, other, "--accept-new-key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the warning does not say %q: %s", want, err)
		}
	}
	// Another room is another pin.
	if trust, err := k.Check("0000000000000001", other, "Kitchen", RefuseKeyChange); err != nil || trust != TrustNew {
		t.Fatalf("another room: %v, %v", trust, err)
	}
	// Accepting the change deliberately replaces the pin.
	if trust, err := k.Check(id, other, "", AcceptKeyChange); err != nil || trust != TrustChanged {
		t.Fatalf("accepted change: %v, %v", trust, err)
	}
	k, _ = LoadKnownRooms(path)
	if trust, err := k.Check(id, other, "", RefuseKeyChange); err != nil || trust != TrustKnown {
		t.Fatalf("after accepting: %v, %v", trust, err)
	}
	if _, err := k.Check(id, key, "", RefuseKeyChange); err == nil {
		t.Fatal("the old key is still accepted")
	}

	// A room that names no id cannot be checked, and is refused.
	if _, err := k.Check("", key, "", AcceptKeyChange); err == nil {
		t.Fatal("a room without an id was accepted")
	}
}

// A room name from the network cannot break the file.
func TestKnownRoomsHostileName(t *testing.T) {
	path := filepath.Join(t.TempDir(), KnownRoomsFile)
	k, _ := LoadKnownRooms(path)
	b := wire.Fingerprint([]byte("b"))
	if _, err := k.Check("aaaaaaaaaaaaaaaa", wire.Fingerprint([]byte("a")), "evil\nbbbbbbbbbbbbbbbb "+b+" 2026-01-01T00:00:00Z injected", RefuseKeyChange); err != nil {
		t.Fatal(err)
	}
	k, err := LoadKnownRooms(path)
	if err != nil || len(k.Warnings()) > 0 {
		t.Fatal(err, k.Warnings())
	}
	if _, err := k.Check("bbbbbbbbbbbbbbbb", wire.Fingerprint([]byte("other")), "", RefuseKeyChange); err != nil {
		t.Fatalf("the name injected a pin: %v", err)
	}
}

// A damaged line costs that line, with a warning naming it; the rooms on
// the other lines are still known. (It used to make the whole file, and
// with it every join, fail.)
func TestKnownRoomsDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), KnownRoomsFile)
	a := wire.Fingerprint([]byte("a"))
	os.WriteFile(path, []byte("# comment\naaaaaaaaaaaaaaaa "+a+" 2026-01-01T00:00:00Z Lab\nnonsense\n"), 0o600)
	k, err := LoadKnownRooms(path)
	if err != nil {
		t.Fatal(err)
	}
	if w := k.Warnings(); len(w) != 1 || !strings.Contains(w[0], ":3 is damaged and was skipped") {
		t.Fatalf("warnings %q, want line 3 named", w)
	}
	if trust, err := k.Check("aaaaaaaaaaaaaaaa", a, "", RefuseKeyChange); err != nil || trust != TrustKnown {
		t.Fatalf("the room on the good line: %v, %v", trust, err)
	}
}

// TestKnownRoomsOffsetOutOfRange stands for a hand-edited or damaged
// known-rooms file whose first-seen time has an offset that Go reads and
// cannot write back (+24:60 is written +25:00, which it refuses): accepted,
// it made the file unreadable at the start after the next new room, and
// with it every pin. That line is damaged, and skipped with a warning; its
// room is refused, not visited anew; the other rooms still count, and the
// line is kept as it is when the file is written. Found by
// FuzzParseKnownRooms.
func TestKnownRoomsOffsetOutOfRange(t *testing.T) {
	path := filepath.Join(t.TempDir(), KnownRoomsFile)
	a, b := wire.Fingerprint([]byte("a")), wire.Fingerprint([]byte("b"))
	damaged := "bbbbbbbbbbbbbbbb " + b + " 2026-01-01T00:00:00+24:60 Kitchen"
	os.WriteFile(path, []byte("aaaaaaaaaaaaaaaa "+a+" 2026-01-01T00:00:00Z Lab\n"+damaged+"\n"), 0o600)
	k, err := LoadKnownRooms(path)
	if err != nil {
		t.Fatal(err)
	}
	if w := k.Warnings(); len(w) != 1 || !strings.Contains(w[0], ":2 is damaged") || !strings.Contains(w[0], "room bbbbbbbbbbbbbbbb is refused") {
		t.Fatalf("warnings %q; want line 2 named as damaged, and its room refused", w)
	}
	var unreadable *UnreadablePinError
	if _, err := k.Check("bbbbbbbbbbbbbbbb", b, "", RefuseKeyChange); !errors.As(err, &unreadable) || unreadable.Line != 2 {
		t.Fatalf("the room on the damaged line: %v", err)
	}
	if _, err := k.Check("0123456789abcdef", wire.Fingerprint([]byte("c")), "New", RefuseKeyChange); err != nil {
		t.Fatal(err)
	}
	k, err = LoadKnownRooms(path)
	if err != nil || len(k.Warnings()) != 1 {
		t.Fatalf("after the next room, the file reads as: %v, %q", err, k.Warnings())
	}
	if trust, err := k.Check("aaaaaaaaaaaaaaaa", a, "", RefuseKeyChange); err != nil || trust != TrustKnown {
		t.Fatalf("the room on the good line: %v, %v", trust, err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "\n"+damaged+"\n") {
		t.Fatalf("the damaged line was not kept:\n%s", data)
	}
}

// TestPinningFlags: --accept-new-key takes a known room's changed key once,
// for the room as first joined, and a key that changes again while
// reconnecting is refused; --fingerprint refuses any other key, and the
// key it names replaces the one remembered. Check never remembers.
func TestPinningFlags(t *testing.T) {
	const id = "3f9a2c71d0e4b5a6"
	old, accepted, again := wire.Fingerprint([]byte("old")), wire.Fingerprint([]byte("new")), wire.Fingerprint([]byte("again"))
	path := filepath.Join(t.TempDir(), KnownRoomsFile)
	k, _ := LoadKnownRooms(path)
	if _, err := k.Check(id, old, "Lab 3", RefuseKeyChange); err != nil {
		t.Fatal(err)
	}

	var told []Trust
	p := &Pinning{Known: k, AcceptNewKey: true, Remembered: func(tr Trust, _ RoomKey) { told = append(told, tr) }}
	if err := p.Check(RoomKey{ID: id, Fingerprint: accepted}, ""); err != nil {
		t.Fatalf("--accept-new-key, before dialing: %v", err)
	}
	if trust, _ := k.Check(id, old, "", RefuseKeyChange); trust != TrustKnown {
		t.Fatal("Check remembered the key")
	}
	if err := p.remember(RoomKey{ID: id, Fingerprint: accepted}, ""); err != nil || !slices.Equal(told, []Trust{TrustChanged}) {
		t.Fatalf("--accept-new-key, after the handshake: %v, told %v", err, told)
	}
	var changed *KeyChangedError
	if err := p.Check(RoomKey{ID: id, Fingerprint: again}, ""); !errors.As(err, &changed) {
		t.Fatalf("a second change while reconnecting: %v", err)
	}
	if err := p.remember(RoomKey{ID: id, Fingerprint: again}, ""); !errors.As(err, &changed) {
		t.Fatalf("a second change while reconnecting, after the handshake: %v", err)
	}

	p = &Pinning{Known: k, Fingerprint: again}
	var mismatch *KeyMismatchError
	if err := p.Check(RoomKey{ID: id, Fingerprint: accepted}, ""); !errors.As(err, &mismatch) {
		t.Fatalf("--fingerprint with another key: %v", err)
	}
	if err := p.remember(RoomKey{ID: id, Fingerprint: again}, ""); err != nil {
		t.Fatalf("--fingerprint with its key: %v", err)
	}
	if trust, err := k.Check(id, again, "", RefuseKeyChange); err != nil || trust != TrustKnown {
		t.Fatalf("the key given is not the one remembered: %v, %v", trust, err)
	}
}

package join

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKnownRooms(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", KnownRoomsFile)
	k, err := LoadKnownRooms(path)
	if err != nil {
		t.Fatal(err)
	}
	const id, key, other = "3f9a2c71d0e4b5a6", "SHA256:known", "SHA256:impostor"

	if trust, err := k.Check(id, key, "Lab 3", false); err != nil || trust != TrustNew {
		t.Fatalf("first sight: %v, %v", trust, err)
	}
	if trust, err := k.Check(id, key, "", false); err != nil || trust != TrustKnown {
		t.Fatalf("second sight: %v, %v", trust, err)
	}

	// The pin survives a restart, and a changed key is refused, loudly.
	k, err = LoadKnownRooms(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = k.Check(id, other, "", false)
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
	if trust, err := k.Check("0000000000000001", other, "Kitchen", false); err != nil || trust != TrustNew {
		t.Fatalf("another room: %v, %v", trust, err)
	}
	// Accepting the change deliberately replaces the pin.
	if trust, err := k.Check(id, other, "", true); err != nil || trust != TrustChanged {
		t.Fatalf("accepted change: %v, %v", trust, err)
	}
	k, _ = LoadKnownRooms(path)
	if trust, err := k.Check(id, other, "", false); err != nil || trust != TrustKnown {
		t.Fatalf("after accepting: %v, %v", trust, err)
	}
	if _, err := k.Check(id, key, "", false); err == nil {
		t.Fatal("the old key is still accepted")
	}

	// A room that names no id cannot be checked, and is refused.
	if _, err := k.Check("", key, "", true); err == nil {
		t.Fatal("a room without an id was accepted")
	}
}

// A room name from the network cannot break the file.
func TestKnownRoomsHostileName(t *testing.T) {
	path := filepath.Join(t.TempDir(), KnownRoomsFile)
	k, _ := LoadKnownRooms(path)
	if _, err := k.Check("aaaa", "SHA256:a", "evil\nbbbb SHA256:b 2026-01-01T00:00:00Z injected", false); err != nil {
		t.Fatal(err)
	}
	k, err := LoadKnownRooms(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Check("bbbb", "SHA256:other", "", false); err != nil {
		t.Fatalf("the name injected a pin: %v", err)
	}
}

func TestKnownRoomsDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), KnownRoomsFile)
	os.WriteFile(path, []byte("# comment\naaaa SHA256:a 2026-01-01T00:00:00Z Lab\nnonsense\n"), 0o600)
	if _, err := LoadKnownRooms(path); err == nil || !strings.Contains(err.Error(), ":3 is damaged") {
		t.Fatalf("got %v", err)
	}
}

// TestKnownRoomsOffsetOutOfRange stands for a hand-edited or damaged
// known-rooms file whose first-seen time has an offset that Go reads and
// cannot write back (+24:60 is written +25:00, which it refuses): accepted,
// it made the file unreadable at the start after the next new room, and
// with it every pin. It is refused at once, naming the line, as any other
// damage is. Found by FuzzParseKnownRooms.
func TestKnownRoomsOffsetOutOfRange(t *testing.T) {
	path := filepath.Join(t.TempDir(), KnownRoomsFile)
	os.WriteFile(path, []byte("aaaa SHA256:a 2026-01-01T00:00:00Z Lab\nbbbb SHA256:b 2026-01-01T00:00:00+24:60 Kitchen\n"), 0o600)
	k, err := LoadKnownRooms(path)
	if err == nil {
		if _, err := k.Check("0123456789abcdef", "SHA256:c", "New", false); err != nil {
			t.Fatal(err)
		}
		_, err := LoadKnownRooms(path)
		t.Fatalf("the offset was accepted, and after the next room the file reads as: %v", err)
	}
	if !strings.Contains(err.Error(), ":2 is damaged") || !strings.Contains(err.Error(), "+24:60") {
		t.Fatalf("got %v; want line 2 named as damaged, with its time", err)
	}
}

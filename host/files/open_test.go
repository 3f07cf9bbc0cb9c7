package files

import (
	"chatroom/host/wire"

	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// metaJSON gives a metadata file as the store writes one, with the named
// field's value replaced by raw JSON (or left out if raw is "").
func metaJSON(id string, size int64, field, raw string) string {
	fields := [][2]string{
		{"version", "2"},
		{"id", `"` + id + `"`},
		{"name", `"slides.pdf"`},
		{"size", fmt.Sprint(size)},
		{"sha256", `"` + strings.Repeat("ab", 32) + `"`},
		{"owner", `"bob"`},
		{"number", "7"},
		{"from", `"bob"`},
		{"from_key", `"SHA256:abc"`},
		{"to", `"ann"`},
		{"token", `"` + strings.Repeat("0f", 16) + `"`},
		{"offered", `"2026-12-01T10:00:00Z"`},
		{"expires", `"2026-12-02T10:00:00Z"`},
	}
	var parts []string
	for _, f := range fields {
		v := f[1]
		if f[0] == field {
			if raw == "" {
				continue
			}
			v = raw
		}
		parts = append(parts, fmt.Sprintf("%q:%s", f[0], v))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Attack and accident: the state directory holds metadata files that are
// damaged or were planted by someone who can write there. Each costs its
// own entry only, with a warning, never the good one beside it; files the
// store did not make are removed; parts stay.
func TestOpenHostileDirectory(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, roomy)
	data := content(10, ChunkSize+5)
	good := declare(t, s, "bob", "good.txt", data)
	u, _ := s.Resume(good.ID)
	upload(t, u, data)
	part := declare(t, s, "ann", "part.txt", data)
	u, _ = s.Resume(part.ID)
	u.Write(data[:ChunkSize+1])
	u.Close()

	id := func(i int) string { return fmt.Sprintf("%032x", i) }
	hostile := map[string]string{
		id(1):  "{not json",
		id(2):  metaJSON(id(2), 10, "name", `"../../etc/passwd"`),
		id(3):  metaJSON(id(3), 10, "name", `"evil\u202etxt.exe"`),
		id(4):  metaJSON(id(4), 1<<62, "", ""),
		id(5):  metaJSON(id(5), -1, "", ""),
		id(6):  metaJSON(id(99), 10, "", ""),
		id(7):  metaJSON(id(7), 10, "sha256", `"zz"`),
		id(8):  metaJSON(id(8), 10, "owner", `""`),
		id(9):  metaJSON(id(9), 10, "extra", `1`) + "",
		id(10): metaJSON(id(10), 10, "version", `1`),
		id(11): metaJSON(id(11), 10, "", "") + `{"more":1}`,
		id(12): strings.Repeat(" ", maxMetaBytes+1) + metaJSON(id(12), 10, "", ""),
		id(13): metaJSON(id(13), 10, "expires", ""),
		id(14): metaJSON(id(14), 10, "name", `"CON.txt"`),
		// What the room is handed back: its fields are bounded too.
		id(15): metaJSON(id(15), 10, "token", `"`+strings.Repeat("G", 32)+`"`),
		id(16): metaJSON(id(16), 10, "number", `-3`),
		id(17): metaJSON(id(17), 10, "from", `"bob\u001b[2Jadmin"`),
		id(18): metaJSON(id(18), 10, "from_key", `"SHA256:ab c"`),
		id(19): metaJSON(id(19), 10, "to", `"`+strings.Repeat("x", MaxPersonBytes+1)+`"`),
	}
	// An unknown field is refused too: "extra" is not in the format.
	hostile[id(9)] = strings.Replace(metaJSON(id(9), 10, "", ""), "{", `{"extra":1,`, 1)
	for id, text := range hostile {
		os.WriteFile(filepath.Join(dir, id+".json"), []byte(text), 0o600)
		os.WriteFile(filepath.Join(dir, id+".part"), []byte("x"), 0o600)
	}
	// A complete file whose data is not the size declared, one whose sums
	// are missing, and metadata that is a link to a file elsewhere.
	os.WriteFile(filepath.Join(dir, id(20)+".json"), []byte(metaJSON(id(20), 10, "", "")), 0o600)
	os.WriteFile(filepath.Join(dir, id(20)), []byte("short"), 0o600)
	os.WriteFile(filepath.Join(dir, id(21)+".json"), []byte(metaJSON(id(21), 5, "", "")), 0o600)
	os.WriteFile(filepath.Join(dir, id(21)), []byte("12345"), 0o600)
	outside := filepath.Join(t.TempDir(), "elsewhere.json")
	os.WriteFile(outside, []byte(metaJSON(id(22), 10, "", "")), 0o600)
	os.Symlink(outside, filepath.Join(dir, id(22)+".json"))
	// A data file that is a link, for an entry otherwise good.
	os.WriteFile(filepath.Join(dir, id(23)+".json"), []byte(metaJSON(id(23), 3, "", "")), 0o600)
	os.Symlink(outside, filepath.Join(dir, id(23)))
	// Strays: a file of another name, a leftover temporary file, a
	// directory.
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "."+id(30)+".json12345"), []byte("x"), 0o600)
	os.Mkdir(filepath.Join(dir, "sub"), 0o700)

	s, warnings, err := Open(dir, roomy)
	if err != nil {
		t.Fatal(err)
	}
	list := s.List()
	if len(list) != 3 { // good, part, and id(23), a part of 0 bytes
		t.Fatalf("kept %v", list)
	}
	for i := range 19 {
		if !strings.Contains(strings.Join(warnings, "\n"), "dropped the offered file "+id(i+1)) {
			t.Errorf("no warning for %s (%s): %q", id(i+1), hostile[id(i+1)], warnings)
		}
	}
	for _, want := range []string{id(20) + ": its data is 5 bytes, not the 10", id(21) + ": its chunk sums", id(22) + ": open", "removed notes.txt", "left the directory sub"} {
		if !strings.Contains(strings.Join(warnings, "\n"), want) {
			t.Errorf("no warning saying %q: %q", want, warnings)
		}
	}
	if got := readAll(t, s, good.ID, 0); sha256.Sum256(got) != good.SHA256 {
		t.Fatal("the good file did not survive its neighbours")
	}
	u, err = s.Resume(part.ID)
	if err != nil || u.Offset() != ChunkSize {
		t.Fatalf("the part did not survive: %v, at %d", err, u.Offset())
	}
	upload(t, u, data)
	if b, err := os.ReadFile(outside); err != nil || !strings.Contains(string(b), id(22)) {
		t.Fatal("the file a planted link pointed at was touched")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		name := e.Name()
		if name != "sub" && !strings.HasPrefix(name, good.ID) && !strings.HasPrefix(name, part.ID) && !strings.HasPrefix(name, id(23)) {
			t.Errorf("left %s on disk", name)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, id(23))); err == nil {
		t.Error("the planted data link is still there")
	}
	// The next open finds nothing to warn of.
	if _, warnings, _ := Open(dir, roomy); len(warnings) != 1 || !strings.Contains(warnings[0], "sub") {
		t.Fatalf("the second Open warned: %q", warnings)
	}
}

// FuzzParseMeta: whatever the state directory holds, parsing its metadata
// never panics, and what it accepts is an offer the store would take: a
// safe name, a bounded size, an owner, and the same again when written.
func FuzzParseMeta(f *testing.F) {
	id := fmt.Sprintf("%032x", 7)
	f.Add([]byte(metaJSON(id, 10, "", "")))
	f.Add([]byte(metaJSON(id, 10, "name", `"../x"`)))
	f.Add([]byte(metaJSON(id, 1<<60, "", "")))
	f.Add([]byte(metaJSON(id, 10, "to", "")))
	f.Add([]byte(metaJSON(id, 10, "from", `"\u202ebob"`)))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := parseMeta(data, id)
		if err != nil {
			return
		}
		if wire.CheckFileName(info.Name) != nil || checkOwner(info.Owner) != nil || info.Size <= 0 || info.Size > maxStoredSize || info.ID != id ||
			!ValidID(info.Token) || checkRoomFields(info.Number, info.From, info.FromKey, info.To, info.ToKey) != nil {
			t.Fatalf("accepted %+v", info)
		}
		again, err := encodeMeta(info)
		if err != nil {
			t.Fatal(err)
		}
		back, err := parseMeta(again, id)
		if err != nil || back.Name != info.Name || back.Size != info.Size || back.SHA256 != info.SHA256 || !back.Expires.Equal(info.Expires) ||
			back.Token != info.Token || back.Number != info.Number || back.From != info.From || back.FromKey != info.FromKey || back.To != info.To || back.ToKey != info.ToKey {
			t.Fatalf("written again, %+v became %+v, %v", info, back, err)
		}
	})
}

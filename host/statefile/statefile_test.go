package statefile

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestWriteAtomic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "bans.json")
	for _, content := range []string{"first", "second, longer than the first", "3"} {
		if err := WriteAtomic(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("read %q, %v; want %q", got, err, content)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %v, %v", fi.Mode(), err)
	}
	// No temporary file is left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries", len(entries))
	}
	// A write that cannot happen leaves the old file whole.
	if err := WriteAtomic(filepath.Join(path, "x"), []byte("y"), 0o600); err == nil {
		t.Fatal("wrote below a file")
	}
	if got, _ := os.ReadFile(path); string(got) != "3" {
		t.Fatalf("old file became %q", got)
	}
}

// A temporary file left by a process killed mid-write is removed once it
// is old; a fresh one (a write in progress) and other files are kept.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{".bans.json.tmp123", ".known-rooms.tmp456", "bans.json", ".hidden", "notes.tmp1"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	for _, name := range []string{".bans.json.tmp123", "bans.json", ".hidden", "notes.tmp1"} {
		os.Chtimes(filepath.Join(dir, name), old, old)
	}
	RemoveStale(dir, time.Hour)
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if want := []string{".hidden", ".known-rooms.tmp456", "bans.json", "notes.tmp1"}; !slices.Equal(left, want) {
		t.Fatalf("left %q, want %q", left, want)
	}
}

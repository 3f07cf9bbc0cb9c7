package join

import (
	"os"
	"path/filepath"
	"testing"
)

// A state file is written whole, private, in a private directory made for
// it, with no temporary file left beside it; a write that cannot happen
// leaves the old file as it was.
func TestWriteStateFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, KnownRoomsFile)
	for _, content := range []string{"first", "second, longer than the first", "3"} {
		if err := WriteStateFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(path); err != nil || string(got) != content {
			t.Fatalf("read %q, %v; want %q", got, err, content)
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %v, %v", fi.Mode(), err)
	}
	// The file gets the mode asked for, not that of the file it replaces.
	os.Chmod(path, 0o644)
	if err := WriteStateFile(path, []byte("3"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after rewriting a 0644 file: %v, %v", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("directory holds %d entries", len(entries))
	}
	if err := WriteStateFile(filepath.Join(path, "x"), []byte("y"), 0o600); err == nil {
		t.Fatal("wrote below a file")
	}
	if got, _ := os.ReadFile(path); string(got) != "3" {
		t.Fatalf("old file became %q", got)
	}
}

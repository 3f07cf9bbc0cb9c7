package statefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/renameio/v2"
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
	// The file gets the mode asked for, not that of the file it replaces
	// (a key made readable by mistake is private again once rewritten).
	os.Chmod(path, 0o644)
	if err := WriteAtomic(path, []byte("3"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after rewriting a 0644 file: %v, %v", fi.Mode(), err)
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

// What a kill -9 leaves in the middle of WriteAtomic now, as renameio
// names it ("." + the name + random digits), is removed once old, like the
// ".tmp" files of earlier versions; a fresh one, the real state files and
// other dot files are kept.
func TestRemoveStaleRenameio(t *testing.T) {
	dir := t.TempDir()
	// Made as WriteAtomic makes them, then left as a kill would leave them.
	stale, err := renameio.NewPendingFile(filepath.Join(dir, "bans.json"), renameio.WithTempDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	stale.Write([]byte("half a list"))
	stale.File.Close()
	fresh, err := renameio.NewPendingFile(filepath.Join(dir, "known-rooms"), renameio.WithTempDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	fresh.File.Close()
	staleName, freshName := filepath.Base(stale.Name()), filepath.Base(fresh.Name())
	if !strings.HasPrefix(staleName, ".bans.json") || staleName == ".bans.json" {
		t.Fatalf("renameio named its temporary file %q; RemoveStale looks for \".bans.json\" and digits", staleName)
	}
	kept := []string{"bans.json", "known-rooms", "room-key.pem", ".hidden", ".bans.json", "history.jsonl"}
	for _, name := range kept {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	for _, name := range append([]string{staleName}, kept...) {
		os.Chtimes(filepath.Join(dir, name), old, old)
	}
	RemoveStale(dir, time.Hour)
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := append(kept, freshName)
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Fatalf("left %q, want %q", left, want)
	}
}

// Attack on the state directory: someone who can write into it plants
// links named as state files, pointing at a file of theirs (or of the
// person running the host). Reading through the link and appending
// through it are refused, and the file it points to is left as it was.
func TestSymlinkNotFollowed(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "modlog.jsonl")
	if err := os.Symlink(victim, link); err != nil {
		t.Skip("cannot make a symbolic link here:", err)
	}
	if data, err := ReadFile(link); !errors.Is(err, ErrSymlink) {
		t.Errorf("ReadFile through a link: %q, %v; want ErrSymlink", data, err)
	}
	if f, err := OpenAppend(link, 0o600); !errors.Is(err, ErrSymlink) {
		if err == nil {
			f.WriteString("appended\n")
			f.Close()
		}
		t.Errorf("OpenAppend through a link: %v; want ErrSymlink", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "precious\n" {
		t.Fatalf("the file the link points to became %q", got)
	}
	// The file itself is read, and appended to, as ever.
	plain := filepath.Join(dir, "bans.json")
	f, err := OpenAppend(plain, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("x")
	f.Close()
	if data, err := ReadFile(plain); err != nil || string(data) != "x" {
		t.Fatalf("ReadFile: %q, %v", data, err)
	}
	if _, err := ReadFile(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadFile of a missing file: %v", err)
	}
}

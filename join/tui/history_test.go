package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"chatroom/host/wire"
)

func TestHistoryFile(t *testing.T) {
	tests := []struct{ user, want string }{
		{"ana", "ana"},
		{"Ana", "ana"}, // one person in any case
		{"bob_2-x", "bob_2-x"},
		{"../etc", "%2E%2E%2Fetc"},
		{"a/b\\c:d", "a%2Fb%5Cc%3Ad"},
		{"émile", "%C3%A9mile"},
	}
	for _, tt := range tests {
		if got, want := HistoryFile("/state", tt.user), filepath.Join("/state", "history", tt.want); got != want {
			t.Errorf("HistoryFile(%q) = %q, want %q", tt.user, got, want)
		}
	}
}

func TestKeepInHistory(t *testing.T) {
	secrets := []string{"hunter2", ""}
	tests := []struct {
		line string
		want bool
	}{
		{"hello", true},
		{"/kick bob spam", true},
		{"", false},
		{"   ", false},
		{" not kept, as in a shell", false},
		{"my password is hunter2", false},
		{"hunter2", false},
		{strings.Repeat("x", wire.MaxText), true},
		{strings.Repeat("x", wire.MaxText+1), false},
	}
	for _, tt := range tests {
		if got := keepInHistory(tt.line, secrets); got != tt.want {
			t.Errorf("keepInHistory(%.20q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

func TestHistorySaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "history", "ana")
	if lines, err := loadHistory(path, nil); err != nil || lines != nil {
		t.Fatalf("no file yet: %q, %v; want an empty history", lines, err)
	}
	var lines []string
	for i := range historyLimit + 50 {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	if err := saveHistory(path, lines); err != nil {
		t.Fatal(err)
	}
	got, err := loadHistory(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, lines[50:]) {
		t.Errorf("loaded %d lines from %q to %q; want the last %d", len(got), got[0], got[len(got)-1], historyLimit)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("history file mode %v, %v; want 0600: it is what the person typed", fi.Mode(), err)
		}
	}
}

// TestHistorySaveKeepsItPrivate: saved over a history that others could
// read, or through a umask that would let them, the file is the person's
// alone again, and nothing is left beside it.
func TestHistorySaveKeepsItPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ana")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := saveHistory(path, []string{"new"}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("history file mode %v, %v; want 0600", fi.Mode(), err)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 {
		t.Errorf("the directory holds %v, %v; want the history alone", entries, err)
	}
}

// TestHistoryLoadSkipsBadLines: a history file edited by hand or damaged
// loses its bad lines only, and a line holding a secret never comes back.
func TestHistoryLoadSkipsBadLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ana")
	content := "first\n" +
		"bad \xff utf-8\n" +
		"escape \x1b[2J\n" +
		"\n" +
		"the password is letmein\n" +
		strings.Repeat("y", wire.MaxText+1) + "\n" +
		"windows line\r\n" +
		"last without newline"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := loadHistory(path, []string{"letmein"})
	want := []string{"first", "windows line", "last without newline"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("loaded %q, %v; want %q", got, err, want)
	}
}

// TestHistoryLoadSkipsLongLine stands for a history file into which
// something wrote one line over 64 KB (a paste saved by another program, a
// hand edit): reading failed on it with "token too long", the prompt
// started without the history, and saved over it at the end, so the one
// bad line cost the person every other line. It is skipped like any line
// too long to send. Found by FuzzReadHistory.
func TestHistoryLoadSkipsLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ana")
	content := "first\n" + strings.Repeat("y", 70<<10) + "\r\nsecond\n" + strings.Repeat("z", 200<<10) + "\nlast"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := loadHistory(path, nil)
	if want := []string{"first", "second", "last"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("loaded %q, %v; want %q", got, err, want)
	}
}

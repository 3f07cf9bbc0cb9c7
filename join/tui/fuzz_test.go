package tui

import (
	"bytes"
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

// The fuzzers below read what the prompt reads from the state directory,
// its history, and what a room sends to be shown. Anyone who can write
// there, a crash or a hand edit may have made the file anything; anyone
// on the LAN can announce a room. Their seeds are files the real code
// wrote in a scratch directory and frames a room sends, so that they
// follow the writers, and the edges the tests know.

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

// FuzzRenderFrame: whatever frame a room sends (anyone on the LAN can
// announce one), showing it never panics, in line mode or at a terminal
// of any width, and line mode shows
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
	f.Fuzz(func(t *testing.T, data []byte, width uint8) {
		fr, err := wire.Parse(data)
		if err != nil {
			return
		}
		lines := render(fr, "bob", time.UTC)
		if fr.Type == wire.TypeWelcome {
			lines = append(lines, welcomeLine(fr))
		}
		for _, l := range lines {
			if i := strings.IndexFunc(l, func(r rune) bool { return unicode.IsControl(r) || r == 0x2028 || r == 0x2029 }); i >= 0 {
				t.Fatalf("%+v: line mode shows %q, with a control or line separator", fr, l)
			}
		}
		style{Width: int(width)}.Lines(fr, "bob", time.UTC)
		style{Width: int(width), Color: true}.Earlier(fr, "bob", time.UTC)
	})
}

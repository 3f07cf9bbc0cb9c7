package tui

import (
	"bytes"
	"strings"
	"testing"
)

// TestFollowResize: after a terminal that wraps its rows anew is
// narrowed under a long prompt row, the first thing written goes up to
// where that row starts now and erases from there down; the row is empty
// until the editor draws it again. On a terminal that cuts its rows
// instead, and when the row still fits, nothing changes.
func TestFollowResize(t *testing.T) {
	row := "Lab 3 ana> " + strings.Repeat("x", 50) // 61 columns, the cursor after them
	tests := []struct {
		name    string
		reflows bool
		width   int
		want    string // what a line shown after the resize is written as
	}{
		{"narrowed, the cursor two rows down", true, 30, "\r\x1b[2A\x1b[J" + "hi\r\n\x1b[K"},
		{"narrowed, the cursor one row down", true, 40, "\r\x1b[1A\x1b[J" + "hi\r\n\x1b[K"},
		{"narrowed, the row still fits", true, 70, "\r\x1b[K" + "hi\r\n\x1b[K" + row + "\r\x1b[61C"},
		{"widened", true, 100, "\r\x1b[K" + "hi\r\n\x1b[K" + row + "\r\x1b[61C"},
		{"a terminal that cuts its rows", false, 30, "\r\x1b[K" + "hi\r\n\x1b[K" + row + "\r\x1b[61C"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var term bytes.Buffer
			width := 80
			o := newOutput(&term)
			o.width = func() int { return width }
			o.reflows = tt.reflows
			o.Write([]byte(row))
			term.Reset()
			width = tt.width
			o.Println("hi")
			if got := term.String(); got != tt.want {
				t.Errorf("written %q, want %q", got, tt.want)
			}
			// The editor draws its row again, as it does on a resize; a
			// line after it goes above it as ever.
			o.Write([]byte("\r" + row[:40] + "\x1b[0K"))
			term.Reset()
			o.Println("again")
			if want := "\r\x1b[K" + "again\r\n\x1b[K" + row[:40] + "\r\x1b[40C"; term.String() != want {
				t.Errorf("after the editor drew its row: %q, want %q", term.String(), want)
			}
		})
	}
}

func TestReflowsOnResize(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"TMUX": "/tmp/tmux-0/default,1,0", "TERM": "screen"}, true},
		{map[string]string{"TERM": "tmux-256color"}, true},
		{map[string]string{"TERM": "xterm-256color", "VTE_VERSION": "7600"}, true},
		{map[string]string{"TERM": "xterm-kitty"}, true},
		{map[string]string{"TERM": "xterm-256color", "TERM_PROGRAM": "iTerm.app"}, true},
		{map[string]string{"TERM": "xterm-256color", "WT_SESSION": "x"}, true},
		{map[string]string{"TERM": "xterm-256color", "XTERM_VERSION": "XTerm(390)"}, false},
		{map[string]string{"TERM": "linux"}, false},
		{map[string]string{"TERM": "screen"}, false},
		{map[string]string{}, false},
	}
	for _, tt := range tests {
		if got := reflowsOnResize(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("reflowsOnResize(%v) = %v, want %v", tt.env, got, tt.want)
		}
	}
}

package tui

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"chatroom/join"
)

// FuzzOutput plays everything that writes to the terminal through output at
// once: the line editor's stream, cut anywhere, and lines for Println,
// Status, the log writer and the transfers' bars, with any bytes in them (text a room sent that
// some code forgot to sanitize, a history line, a completion candidate),
// and Close at any point. Whatever the input, nothing panics and the bytes
// that reach the terminal hold no control but those output itself writes
// (terminalControlError lists them): no title set, no screen cleared but by
// the editor's own Ctrl-L, no cursor sent to another row but the status
// line's, no C1 control, no bidi override, no invalid UTF-8.
func FuzzOutput(f *testing.F) {
	for _, s := range editorStreams {
		f.Add([]byte("\x00" + s.stream + "\x01hello\x02status"))
	}
	for _, p := range hostilePayloads {
		f.Add([]byte("\x00" + testPrompt + p + "\x01" + p + "\x02" + p + "\x03" + p + "\n\x04\x00" + p))
	}
	f.Add([]byte("\x00" + testPrompt + "ab\x05\x01bar one\x01hi\x05\x02bar two\x00cd\x06\x01-- done\x02status\x05\x02\x1b[2Jbar\x04\x06\x02end"))
	f.Add([]byte("\x00" + testPrompt + "ab\n" + endMarker + "\x00" + eraseScreen + "\x01\x1b[1mbold\x1b[0m"))
	f.Add([]byte("\x00\x1b[999999999Cx\x01line"))
	f.Add([]byte("\x00\x1b[\x00123\x00;4\x00C\x00\xe6\x00\xbc\x00\xa2\x00\x1b_chat\x00room:end\x1b\\"))
	f.Fuzz(func(t *testing.T, input []byte) {
		var term bytes.Buffer
		o := newOutput(&term)
		logs := o.LogWriter()
		// The input is a list of calls: a byte below 8 names the call,
		// the bytes up to the next such byte are its argument.
		for len(input) > 0 {
			call := input[0] % 8
			input = input[1:]
			end := bytes.IndexFunc(input, func(r rune) bool { return r >= 0 && r < 8 })
			if end < 0 {
				end = len(input)
			}
			arg := input[:end]
			input = input[end:]
			switch call {
			case 0:
				o.Write(arg)
			case 5, 6:
				// A transfer's bar (5) or its end (6): the first byte of
				// the argument picks one of a few keys.
				key := 0
				if len(arg) > 0 {
					key, arg = int(arg[0]%9), arg[1:]
				}
				if call == 5 {
					o.SetBar(key, string(arg))
				} else {
					o.EndBar(key, strings.Split(string(arg), "\t")...)
				}
			case 1:
				o.Println(strings.Split(string(arg), "\t")...)
			case 2:
				o.Status(string(arg))
			case 3:
				logs.Write(arg)
			case 4:
				o.Close()
			case 7:
				o.Bell()
			}
		}
		o.Close()
		if err := terminalControlError(term.Bytes()); err != "" {
			t.Fatalf("%s in %q", err, term.Bytes())
		}
	})
}

// terminalControlError returns what in out a terminal would act on that
// output does not write itself, or "": output writes "\r", "\n", the bell,
// a backspace, "ESC [ n ; … X" for X among the editor's controls (moves
// and erasures of its row), style's "ESC [ n ; … m", its own "ESC [ A" up
// to the status line, and the editor's "ESC [ H ESC [ 2 J". Everything
// else must be text that shows as itself.
func terminalControlError(out []byte) string {
	for len(out) > 0 {
		switch b := out[0]; {
		case bytes.HasPrefix(out, []byte(eraseScreen)):
			out = out[len(eraseScreen):]
			continue
		case b == 0x1b:
			if len(out) < 2 || out[1] != '[' {
				return "an escape that is not a CSI"
			}
			i := 2
			for i < len(out) && i <= 2+maxParams && (out[i] >= '0' && out[i] <= '9' || out[i] == ';') {
				i++
			}
			if i >= len(out) || !strings.ContainsRune(editorControls+"m", rune(out[i])) {
				return "a control sequence output does not write"
			}
			out = out[i+1:]
			continue
		case b == '\r', b == '\n', b == '\a', b == '\b':
			out = out[1:]
			continue
		case b < 0x20 || b == 0x7f:
			return "a C0 control"
		}
		r, n := utf8.DecodeRune(out)
		if r == utf8.RuneError && n == 1 {
			return "invalid UTF-8"
		}
		if join.NeedsPlaceholder(r) {
			return "a C1 or bidi control or a line separator"
		}
		out = out[n:]
	}
	return ""
}

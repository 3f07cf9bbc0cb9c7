package tui

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
)

// vtScreen is a terminal for tests: it keeps the rows a real terminal would
// show for the output it is given, with the controls liner and output use,
// and fails the test on anything else. Rows grow without bound (no
// scrolling), so every line ever shown can be checked. A newline moves
// down without returning to the first column, as a terminal without
// output processing does: output must send "\r\n" itself.
type vtScreen struct {
	t *testing.T

	mu    sync.Mutex
	rows  [][]string // cells: a character (with combining ones), "" for a wide one's right half
	y, x  int
	bells int
	rest  []byte // a sequence cut off at the end of a Write

	// width, when not 0, is the screen's width in columns: a character
	// that does not fit on the row goes to the start of the next, as a
	// terminal that wraps puts it (a character in the last column leaves
	// the cursor at the edge; the next one wraps, "\r" does not). wraps
	// counts the rows the screen started so.
	width int
	wraps int
}

func newVTScreen(t *testing.T) *vtScreen { return &vtScreen{t: t, rows: [][]string{nil}} }

// newVTScreenWidth is a screen width columns wide, which wraps.
func newVTScreenWidth(t *testing.T, width int) *vtScreen {
	s := newVTScreen(t)
	s.width = width
	return s
}

func (s *vtScreen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data := append(s.rest, p...)
	s.rest = nil
	for len(data) > 0 {
		n := s.step(data)
		if n == 0 {
			s.rest = append([]byte(nil), data...)
			break
		}
		data = data[n:]
	}
	return len(p), nil
}

func (s *vtScreen) step(data []byte) int {
	switch b := data[0]; {
	case b == 0x1b:
		if len(data) < 2 {
			return 0
		}
		if data[1] != '[' {
			s.t.Errorf("screen: unexpected escape %q", data[:2])
			return 2
		}
		for i := 2; i < len(data); i++ {
			if c := data[i]; c >= 0x40 && c <= 0x7e {
				s.csi(string(data[2:i]), c)
				return i + 1
			}
		}
		return 0
	case b == '\r':
		s.x = 0
	case b == '\n':
		s.y++
		for len(s.rows) <= s.y {
			s.rows = append(s.rows, nil)
		}
	case b == '\a':
		s.bells++
	case b == '\b':
		s.x = max(0, s.x-1)
	case b < 0x20 || b == 0x7f:
		s.t.Errorf("screen: unexpected control %q", b)
	default:
		if !utf8.FullRune(data) {
			return 0
		}
		r, n := utf8.DecodeRune(data)
		if r == utf8.RuneError && n == 1 || r >= 0x80 && r <= 0x9f {
			s.t.Errorf("screen: invalid UTF-8 or C1 control %q", data[:n])
		}
		s.put(r)
		return n
	}
	return 1
}

func (s *vtScreen) put(r rune) {
	w := 1
	if r >= 127 {
		w = runewidth.RuneWidth(r)
	}
	if s.width > 0 && w > 0 && s.x+w > s.width {
		s.wraps++
		s.y, s.x = s.y+1, 0
		for len(s.rows) <= s.y {
			s.rows = append(s.rows, nil)
		}
	}
	row := s.rows[s.y]
	if w == 0 {
		if i := s.x - 1; i >= 0 && i < len(row) {
			if row[i] == "" && i > 0 {
				i--
			}
			row[i] += string(r)
		}
		return
	}
	for len(row) < s.x+w {
		row = append(row, " ")
	}
	for _, i := range []int{s.x, s.x + w - 1} { // break up wide characters overwritten in part
		if row[i] == "" && i > 0 {
			row[i-1], row[i] = " ", " "
		} else if i+1 < len(row) && row[i+1] == "" {
			row[i], row[i+1] = " ", " "
		}
	}
	row[s.x] = string(r)
	if w == 2 {
		row[s.x+1] = ""
	}
	s.rows[s.y] = row
	s.x += w
}

func (s *vtScreen) csi(params string, final byte) {
	n := func(def int) int {
		v, err := strconv.Atoi(strings.Split(params, ";")[0])
		if err != nil || v == 0 {
			return def
		}
		return v
	}
	row := s.rows[s.y]
	switch final {
	case 'm': // colours: not kept
		for _, c := range strings.Split(params, ";") {
			if _, err := strconv.Atoi(c); err != nil && c != "" {
				s.t.Errorf("screen: bad SGR %q", params)
			}
		}
	case 'A':
		s.y = max(0, s.y-n(1))
	case 'C':
		s.x += n(1)
	case 'D':
		s.x = max(0, s.x-n(1))
	case 'G':
		s.x = n(1) - 1
	case 'H': // only home, as a clear screen uses it: the rows grow without bound, so no other row is a place to go
		if params != "" {
			s.t.Errorf("screen: unexpected ESC[%sH", params)
		}
		s.y, s.x = 0, 0
	case 'J': // only the whole screen, which is every row here
		if n(0) != 2 {
			s.t.Errorf("screen: unexpected ESC[%sJ", params)
		}
		s.rows = make([][]string, 1)
		s.y, s.x = 0, 0
	case 'K':
		switch n(0) {
		case 0:
			if s.x < len(row) {
				if row[s.x] == "" && s.x > 0 {
					row[s.x-1] = " "
				}
				s.rows[s.y] = row[:s.x]
			}
		case 2:
			s.rows[s.y] = nil
		default:
			s.t.Errorf("screen: unexpected ESC[%sK", params)
		}
	default:
		s.t.Errorf("screen: unexpected ESC[%s%c", params, final)
	}
}

// lines returns every row as text, trailing spaces removed.
func (s *vtScreen) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.rows))
	for i, r := range s.rows {
		out[i] = strings.TrimRight(strings.Join(r, ""), " ")
	}
	return out
}

// cursor returns the cursor's row and column.
func (s *vtScreen) cursor() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.y, s.x
}

// last returns the row the cursor is on, and the cursor's column.
func (s *vtScreen) last() (string, int) {
	l := s.lines()
	y, x := s.cursor()
	return l[y], x
}

// crlf is what a terminal with output processing makes of the editor's
// newlines: the editor relies on it, output does it itself.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

package join

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"chatroom/discovery"
	"chatroom/host/wire"
)

// These tests play a hostile room, or a script that sends mDNS records,
// which puts terminal controls in every string it sends, in the hope that
// one of them reaches the terminal raw through what this package says of
// rooms. (What the room sends in its frames is shown by join/tui, whose
// hostile_screen_test.go plays the same room at the screen.)

// hostilePayloads are what such a room sends: escape sequences (a title
// that is a command's output on some terminals, a cleared screen, a
// moved cursor), a C1 control that some terminals obey as ESC [, bidi
// overrides and isolates that turn text around, a line separator, NUL,
// DEL, a bare carriage return that goes back over the line, and a long
// line of them.
var hostilePayloads = []string{
	"\x1b]0;pwned\x07",
	"\x1b]0;pwned\x1b\\",
	"\x1b[2J",
	"\x1b[H",
	"\x1bc",
	"\u009b2J",
	"\u009d0;pwned\u009c",
	"abc\u202edcba",
	"\u2066x\u2069",
	"a\u2028b\u2029c",
	"a\x00b",
	"a\x7fb",
	"over\rwritten",
	"a\nb",
	"bad\xffutf-8",
	strings.Repeat("\x1b]0;pwned\x07\x1b[2J", 300),
}

// hostile wraps a payload in letters, so that a name made of it can be
// completed from a prefix a person can type, and so that it is not the
// exact word a field is compared with ("admin", "say").
func hostile(payload string) string { return "zz" + payload + "zz" }

// stringFields calls visit with every string reachable from v (a pointer
// to a struct), through struct fields, pointers that are set and slices,
// with its path ("Members[1].Name"), in the same order every time.
func stringFields(v reflect.Value, path string, visit func(path string, s reflect.Value)) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			stringFields(v.Elem(), path, visit)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				stringFields(v.Field(i), strings.TrimPrefix(path+"."+t.Field(i).Name, "."), visit)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			stringFields(v.Index(i), fmt.Sprintf("%s[%d]", path, i), visit)
		}
	case reflect.String:
		visit(path, v)
	}
}

// controlIn returns the first character of s a terminal would act on
// rather than show, as Sanitize lists them; newlines are allowed when
// lines is set. ok is false when there is none.
func controlIn(s string, lines bool) (r rune, ok bool) {
	for i, r := range s {
		if lines && r == '\n' {
			continue
		}
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return r, true // invalid UTF-8
			}
		}
		if NeedsPlaceholder(r) {
			return r, true
		}
	}
	return 0, false
}

// TestHostileRoomRecords: a script on the LAN announces rooms whose every
// string is hostile. What the client says of them (the line in a list,
// the sentence on joining, the list of rooms that match, an error naming
// them) shows every control as a placeholder, and each stays one line.
func TestHostileRoomRecords(t *testing.T) {
	base := discovery.Room{ID: testRoomID, Name: "Lab 3", Fingerprint: "SHA256:" + strings.Repeat("A", 43), Version: wire.Version,
		Port: 7465, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.5")}, Host: "lab.local.", Instance: "Lab 3", Ifaces: []string{"eth0"}}
	var paths []string
	stringFields(reflect.ValueOf(&base), "", func(path string, _ reflect.Value) { paths = append(paths, path) })
	for _, path := range paths {
		for _, p := range hostilePayloads {
			r := base
			r.Ifaces = []string{"eth0"}
			stringFields(reflect.ValueOf(&r), "", func(q string, v reflect.Value) {
				if q == path {
					v.SetString(hostile(p))
				}
			})
			texts := map[string]string{
				"RoomLine":     strings.ReplaceAll(RoomLine(r, nil), "\t", " "), // tabs separate its columns
				"DescribeRoom": DescribeRoom(r, r.Host+":7465"),
			}
			// Two rooms with the name (one id is one room, whatever its
			// records), and a clone of the room's id.
			twin, clone := r, r
			twin.ID += "2"
			clone.Fingerprint += "B"
			texts["CloneError"] = (&CloneError{ID: r.ID, Name: r.Name, Keys: keysOf([]discovery.Room{r, clone})}).Error()
			texts["cloneWarning"] = cloneWarning(r.ID, r.Name, r.Fingerprint, keysOf([]discovery.Room{clone}))
			twins := func(ctx context.Context) ([]discovery.Room, error) { return []discovery.Room{r, twin}, nil }
			if _, err := FindRoom(context.Background(), twins, r.Name, nil); err != nil {
				texts["FindRoom ambiguous"] = err.Error()
			}
			if _, err := FindRoom(context.Background(), twins, "nothing", nil); err != nil {
				texts["FindRoom none"] = err.Error()
			}
			if _, err := dialRoom(discovery.Room{Name: r.Name}, nil)(context.Background()); err != nil {
				texts["dialRoom"] = err.Error()
			}
			for what, text := range texts {
				if c, ok := controlIn(text, false); ok {
					t.Errorf("%s %q: %s holds %U: %q", path, p, what, c, text)
				}
			}
		}
	}
}
